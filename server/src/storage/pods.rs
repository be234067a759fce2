//! A new pod's status: Pending until a scheduler binds it and its node's
//! kubelet starts it (the simulated ones in `controllers/`; a pod for
//! another scheduler waits for a Binding). A seeded pod that brings a status
//! keeps it: it stands for what the controllers did before.

use serde_json::{json, Value};

pub fn start(pod: &mut Value) {
    if pod["status"]["phase"].is_string() {
        return;
    }
    pod["status"] = json!({"phase": "Pending", "qosClass": qos_class(pod)});
}

/// Guaranteed when every container has equal requests and limits for CPU
/// and memory, BestEffort when none has any, Burstable otherwise.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let any = containers.iter().any(|c| {
        ["requests", "limits"]
            .iter()
            .any(|k| c["resources"][k].as_object().is_some_and(|m| !m.is_empty()))
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|r| {
            let limit = &c["resources"]["limits"][r];
            let request = &c["resources"]["requests"][r];
            !limit.is_null() && (request.is_null() || request == limit)
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

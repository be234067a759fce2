//! A new pod's status: Pending until a scheduler binds it and its node's
//! kubelet starts it (the simulated ones in `controllers/`; a pod for
//! another scheduler waits for a Binding). A seeded pod that brings a status
//! keeps it: it stands for what the controllers did before.

use crate::store::ApiError;
use serde_json::{json, Value};

pub fn start(pod: &mut Value) {
    if pod["status"]["phase"].is_string() {
        return;
    }
    pod["status"] = json!({"phase": "Pending", "qosClass": qos_class(pod)});
}

fn container_names(pod: &Value, field: &str) -> Vec<String> {
    pod["spec"][field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

/// The container a log, exec or attach request is for (`asked`, or the only
/// one), with the real server's 400s (its `LogLocation` and `streamLocation`
/// choose alike).
pub fn pick_container(pod: &Value, name: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let main = container_names(pod, "containers");
    let init = container_names(pod, "initContainers");
    let ephemeral = container_names(pod, "ephemeralContainers");
    let known = |c: &str| {
        [&main, &init, &ephemeral]
            .iter()
            .any(|l| l.iter().any(|n| n == c))
    };
    match asked.filter(|c| !c.is_empty()) {
        Some(c) if known(c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None if main.len() == 1 => Ok(main[0].clone()),
        None => {
            let mut msg = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                main.join(" ")
            );
            if !init.is_empty() {
                msg.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            Err(ApiError::bad_request(msg))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_picked_as_the_real_server_picks_them() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}],
            "initContainers": [{"name": "i"}], "ephemeralContainers": [{"name": "dbg"}]}});
        for c in ["a", "i", "dbg"] {
            assert_eq!(pick_container(&pod, "p", Some(c)).unwrap(), c);
        }
        let e = pick_container(&pod, "p", Some("x")).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "container x is not valid for pod p")
        );
        let e = pick_container(&pod, "p", Some("")).unwrap_err();
        assert_eq!(
            e.message,
            "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]"
        );
        let one = json!({"spec": {"containers": [{"name": "only"}]}});
        assert_eq!(pick_container(&one, "p", None).unwrap(), "only");
    }
}

//! Pod behaviour: a pod for the default scheduler is placed on node-1 and
//! runs at once; a pod for another scheduler stays Pending until a Binding
//! gives it a node (as no such scheduler runs here).

use serde_json::{json, Value};

pub fn start(pod: &mut Value) {
    let scheduler = pod["spec"]["schedulerName"]
        .as_str()
        .unwrap_or("default-scheduler");
    if pod["spec"]["nodeName"].is_null() && scheduler != "default-scheduler" {
        pod["status"] = json!({
            "phase": "Pending", "qosClass": "BestEffort",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "lastTransitionTime": crate::store::now_rfc3339()}],
        });
        return;
    }
    if pod["spec"]["nodeName"].is_null() {
        pod["spec"]["nodeName"] = json!("node-1");
    }
    run(pod);
}

/// Marks every container running on the pod's node.
pub fn run(pod: &mut Value) {
    let now = crate::store::now_rfc3339();
    let statuses: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": true,
            "started": true, "restartCount": 0, "state": {"running": {"startedAt": now}}})
        })
        .collect();
    let cond = |t: &str| json!({"type": t, "status": "True", "lastTransitionTime": now});
    pod["status"] = json!({
        "phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.244.0.10",
        "podIPs": [{"ip": "10.244.0.10"}], "startTime": now, "qosClass": "BestEffort",
        "conditions": [cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
        "containerStatuses": statuses,
    });
}

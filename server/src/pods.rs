//! Pod behaviour: a created pod becomes Running.

use serde_json::{json, Value};

pub fn start(pod: &mut Value) {
    if pod["spec"]["nodeName"].is_null() {
        pod["spec"]["nodeName"] = json!("node-1");
    }
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

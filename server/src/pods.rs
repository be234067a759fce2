//! Pod behaviour (a created pod is Running) and strategic merge.

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

/// Strategic merge: lists of objects with a `name` merge by name; `$patch:
/// delete` removes an entry; other values merge as in a JSON merge patch.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, pv) in p {
                if pv.is_null() {
                    t.remove(k);
                    continue;
                }
                match t.get_mut(k) {
                    Some(tv) => strategic_merge(tv, pv),
                    None => {
                        t.insert(k.clone(), pv.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(p))
            if p.iter().all(|v| v.get("name").is_some()) && !p.is_empty() =>
        {
            for pv in p {
                let name = &pv["name"];
                let pos = t.iter().position(|tv| &tv["name"] == name);
                let delete = pv.get("$patch").and_then(|v| v.as_str()) == Some("delete");
                match (pos, delete) {
                    (Some(i), true) => {
                        t.remove(i);
                    }
                    (Some(i), false) => strategic_merge(&mut t[i], pv),
                    (None, false) => t.push(pv.clone()),
                    (None, true) => {}
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

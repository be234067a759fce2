//! The objects a fresh kube-apiserver has before anyone writes: the four
//! built-in namespaces and one APIService per served group-version (the
//! aggregator's `Local` ones, `kubectl get apiservices`).

use serde_json::{json, Value};

pub fn documents() -> Vec<Value> {
    let mut docs: Vec<Value> = ["default", "kube-system", "kube-public", "kube-node-lease"]
        .iter()
        .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}))
        .collect();
    let now = crate::store::now_rfc3339();
    let mut groups = vec![""];
    groups.extend(crate::resources::groups());
    for (i, group) in groups.iter().enumerate() {
        let versions = crate::resources::versions(group);
        for (j, version) in versions.iter().enumerate() {
            let name = format!("{version}.{group}");
            let mut spec = json!({"version": version,
                "groupPriorityMinimum": 18000 - 100 * i as i64,
                "versionPriority": 15 - j as i64});
            if !group.is_empty() {
                spec["group"] = json!(group);
            }
            docs.push(json!({
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": {"name": name, "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
                "spec": spec,
                "status": {"conditions": [{"type": "Available", "status": "True",
                    "lastTransitionTime": now, "reason": "Local",
                    "message": "Local APIServices are always available"}]},
            }));
        }
    }
    docs
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_apiservice_per_group_version() {
        let docs = super::documents();
        let names: Vec<&str> = docs
            .iter()
            .filter(|d| d["kind"] == "APIService")
            .filter_map(|d| d["metadata"]["name"].as_str())
            .collect();
        assert!(names.contains(&"v1."));
        assert!(names.contains(&"v1.apps"));
        assert!(names.contains(&"v2.autoscaling"));
        assert!(names.contains(&"v1.autoscaling"));
    }
}

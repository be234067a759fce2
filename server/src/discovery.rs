//! Discovery: /version, /api, /apis and the per group-version resource lists.

use crate::api::{json_reply, Incoming, Reply};
use crate::resources::RESOURCES;
use serde_json::{json, Value};

/// Answers a GET of a discovery document; None for every other request.
pub fn serve(req: &Incoming) -> Option<Reply> {
    if req.method != "GET" {
        return None;
    }
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let doc = match segs.as_slice() {
        ["version"] => json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0",
            "gitCommit": "kube-testserver", "gitTreeState": "clean",
            "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3",
            "compiler": "gc", "platform": "linux/amd64"}),
        ["api"] => json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ["apis"] => api_groups(),
        ["api", "v1"] => resource_list("", "v1"),
        ["apis", g, v] => resource_list(g, v),
        _ => return None,
    };
    Some(json_reply(200, &doc))
}

fn api_groups() -> Value {
    let mut groups: Vec<&str> = RESOURCES
        .iter()
        .map(|r| r.group)
        .filter(|g| !g.is_empty())
        .collect();
    groups.dedup();
    let list: Vec<Value> = groups
        .iter()
        .map(|g| {
            let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list})
}

fn resource_list(group: &str, version: &str) -> Value {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut out = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        out.push(json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced,
            "kind": r.kind, "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]}));
        if r.status {
            out.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced,
                "kind": r.kind, "verbs": ["get", "patch", "update"]}));
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out})
}

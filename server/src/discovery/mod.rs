//! Discovery: /version, /api, /apis, /apis/GROUP and the per group-version
//! resource lists, in the plain form and, when the Accept header asks for
//! it, the aggregated form (apidiscovery.k8s.io v2 / v2beta1). Also routes
//! /openapi/* to the OpenAPI documents.

pub(crate) mod openapi;

use crate::reply::{json_reply, Reply};
use crate::request::Incoming;
use crate::resources::{self, ResourceInfo};
use serde_json::{json, Value};

/// The server's version; kubectl (gcloud's dispatcher) picks its binary by
/// the minor.
pub const MAJOR: &str = "1";
pub const MINOR: &str = "32";
pub const GIT_VERSION: &str = "v1.32.0";

/// Answers a GET of a discovery or OpenAPI document; None for every other request.
pub fn serve(req: &Incoming) -> Option<Reply> {
    if req.method != "GET" {
        return None;
    }
    if let Some(rest) = req.path.strip_prefix("/openapi/") {
        return crate::openapi::serve(rest, req.accept);
    }
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let doc = match segs.as_slice() {
        ["version"] => json!({"major": MAJOR, "minor": MINOR, "emulationMajor": MAJOR,
            "emulationMinor": MINOR, "minCompatibilityMajor": MAJOR, "minCompatibilityMinor": "31",
            "gitVersion": GIT_VERSION, "gitCommit": "kube-testserver", "gitTreeState": "clean",
            "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3",
            "compiler": "gc", "platform": "linux/amd64"}),
        ["api"] => match aggregated_format(req.accept) {
            Some(fmt) => return Some(aggregated_reply(fmt, &[""])),
            None => json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        },
        ["apis"] => match aggregated_format(req.accept) {
            Some(fmt) => return Some(aggregated_reply(fmt, &resources::groups())),
            None => json!({"kind": "APIGroupList", "apiVersion": "v1",
                "groups": resources::groups().into_iter().map(api_group).collect::<Vec<_>>()}),
        },
        ["apis", g] if !resources::versions(g).is_empty() => api_group(g),
        ["api", "v1"] => resource_list("", "v1")?,
        ["apis", g, v] => resource_list(g, v)?,
        _ => return None,
    };
    Some(json_reply(200, &doc))
}

fn group_version_ref(group: &str, version: &str) -> Value {
    json!({"groupVersion": resources::group_version(group, version), "version": version})
}

/// The APIGroup document of one named group.
fn api_group(group: &str) -> Value {
    let versions = resources::versions(group);
    json!({
        "kind": "APIGroup", "apiVersion": "v1", "name": group,
        "versions": versions.iter().map(|v| group_version_ref(group, v)).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(|v| group_version_ref(group, v)),
    })
}

/// `/api/v1` or `/apis/GROUP/VERSION`: the APIResourceList, None when the
/// group-version is not served.
fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut out = Vec::new();
    for r in resources::in_group_version(group, version) {
        let mut main = json!({"name": r.plural, "singularName": r.singular(),
            "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs});
        add_names(&mut main, r);
        out.push(main);
        for s in r.subresources {
            let mut sub = json!({"name": format!("{}/{}", r.plural, s.name), "singularName": "",
                "namespaced": r.namespaced, "kind": s.kind_of(r), "verbs": s.verbs});
            if !s.group.is_empty() || !s.version.is_empty() {
                sub["group"] = json!(s.group);
                sub["version"] = json!(s.version);
            }
            out.push(sub);
        }
    }
    // kube-apiserver sorts built-in lists by name, subresources right after
    // their parent; apiextensions-apiserver lists CRD resources as declared.
    let built_in = resources::RESOURCES
        .iter()
        .any(|r| r.group == group && r.version == version);
    if built_in {
        out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
    (!out.is_empty()).then(|| {
        json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": resources::group_version(group, version), "resources": out})
    })
}

/// Short names and categories, both left out when empty as the real server does.
fn add_names(doc: &mut Value, r: &ResourceInfo) {
    if !r.short_names.is_empty() {
        doc["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        doc["categories"] = json!(r.categories);
    }
}

/// The two aggregated discovery versions this server speaks.
#[derive(Clone, Copy)]
enum Aggregated {
    V2,
    V2Beta1,
}

impl Aggregated {
    fn api_version(self) -> &'static str {
        match self {
            Aggregated::V2 => "apidiscovery.k8s.io/v2",
            Aggregated::V2Beta1 => "apidiscovery.k8s.io/v2beta1",
        }
    }
    fn content_type(self) -> &'static str {
        match self {
            Aggregated::V2 => {
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            }
            Aggregated::V2Beta1 => {
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            }
        }
    }
}

/// The first aggregated format the Accept header names (clients list their
/// preference first), or None when it asks only for plain JSON.
fn aggregated_format(accept: &str) -> Option<Aggregated> {
    accept.split(',').find_map(|media| {
        let mut parts = media.split(';').map(str::trim);
        if parts.next() != Some("application/json") {
            return None;
        }
        let (mut g, mut v, mut r#as) = ("", "", "");
        for p in parts {
            match p.split_once('=') {
                Some(("g", x)) => g = x,
                Some(("v", x)) => v = x,
                Some(("as", x)) => r#as = x,
                _ => {}
            }
        }
        if g != "apidiscovery.k8s.io" || r#as != "APIGroupDiscoveryList" {
            return None;
        }
        match v {
            "v2" => Some(Aggregated::V2),
            "v2beta1" => Some(Aggregated::V2Beta1),
            _ => None,
        }
    })
}

fn aggregated_reply(format: Aggregated, groups: &[&str]) -> Reply {
    let items: Vec<Value> = groups.iter().map(|g| group_discovery(g)).collect();
    let doc = json!({"kind": "APIGroupDiscoveryList", "apiVersion": format.api_version(),
        "metadata": {}, "items": items});
    let mut reply = json_reply(200, &doc);
    reply.content_type = format.content_type();
    reply
}

/// One APIGroupDiscovery: the group's versions (preferred first), each with
/// its resources and their subresources nested.
fn group_discovery(group: &str) -> Value {
    let versions: Vec<Value> = resources::versions(group)
        .into_iter()
        .map(|v| {
            let list: Vec<Value> = resources::in_group_version(group, v)
                .map(resource_discovery)
                .collect();
            json!({"version": v, "resources": list, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({})
    } else {
        json!({"name": group})
    };
    json!({"metadata": metadata, "versions": versions})
}

fn resource_discovery(r: &ResourceInfo) -> Value {
    let scope = if r.namespaced {
        "Namespaced"
    } else {
        "Cluster"
    };
    let mut out = json!({"resource": r.plural,
        "responseKind": {"group": "", "version": "", "kind": r.kind},
        "scope": scope, "singularResource": r.singular(), "verbs": r.verbs});
    add_names(&mut out, r);
    if !r.subresources.is_empty() {
        let subs: Vec<Value> = r
            .subresources
            .iter()
            .map(|s| {
                json!({"subresource": s.name,
                    "responseKind": {"group": s.group, "version": s.version, "kind": s.kind_of(r)},
                    "verbs": s.verbs})
            })
            .collect();
        out["subresources"] = json!(subs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, accept: &str) -> Option<Reply> {
        serve(&Incoming {
            method: "GET",
            path,
            query: Default::default(),
            authorization: None,
            client_cert: false,
            content_type: "",
            accept,
            body: b"",
        })
    }

    fn body(r: &Reply) -> Value {
        serde_json::from_slice(&r.body).expect("json body")
    }

    #[test]
    fn aggregated_only_when_asked() {
        let plain = get("/apis", "application/json").expect("apis");
        assert_eq!(plain.content_type, "application/json");
        assert_eq!(body(&plain)["kind"], "APIGroupList");

        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        let agg = get("/apis", kubectl).expect("apis");
        assert_eq!(agg.content_type, Aggregated::V2.content_type());
        let doc = body(&agg);
        assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
        assert_eq!(
            doc["items"][0]["metadata"]["name"],
            "apiregistration.k8s.io"
        );

        let beta = get(
            "/api",
            "application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io",
        )
        .expect("api");
        assert_eq!(beta.content_type, Aggregated::V2Beta1.content_type());
        let core = &body(&beta)["items"][0];
        assert_eq!(core["versions"][0]["version"], "v1");
        let pods = core["versions"][0]["resources"]
            .as_array()
            .and_then(|l| l.iter().find(|r| r["resource"] == "pods"))
            .cloned()
            .expect("pods");
        assert_eq!(pods["scope"], "Namespaced");
        let eviction = pods["subresources"]
            .as_array()
            .and_then(|l| l.iter().find(|s| s["subresource"] == "eviction"))
            .expect("eviction");
        assert_eq!(
            eviction["responseKind"],
            json!({"group": "policy", "version": "v1", "kind": "Eviction"})
        );
    }

    /// The served core list matches the recorded real one in names, kinds,
    /// verbs, short names, categories and subresource groups.
    #[test]
    fn core_v1_matches_real_server() {
        let ours = body(&get("/api/v1", "application/json").expect("api/v1"));
        let real: Value =
            serde_json::from_str(include_str!("../../tests/data/api_v1_resources.json"))
                .expect("recorded list");
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().map(|o| o.remove("storageVersionHash"));
            v
        };
        let ours: Vec<Value> = ours["resources"]
            .as_array()
            .expect("list")
            .iter()
            .map(strip)
            .collect();
        let real: Vec<Value> = real["resources"]
            .as_array()
            .expect("list")
            .iter()
            .map(strip)
            .collect();
        assert_eq!(ours, real);
    }

    #[test]
    fn unknown_group_version_is_not_discovery() {
        assert!(get("/apis/nope.example.com/v1", "").is_none());
        assert!(get("/apis/nope.example.com", "").is_none());
        let apps = body(&get("/apis/autoscaling", "").expect("group"));
        assert_eq!(apps["preferredVersion"]["version"], "v2");
        let v = body(&get("/version", "").expect("version"));
        assert_eq!(
            (v["major"].as_str(), v["minor"].as_str()),
            (Some("1"), Some("32"))
        );
    }
}

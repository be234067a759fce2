//! Which resources are served right now: the built-in table, the
//! CustomResourceDefinition resource itself, and every resource a stored CRD
//! defines (registered on create, dropped on delete). Also the per-resource
//! properties the table does not carry: scale subresource, generation.
//!
//! Discovery reads `served_resources()` and `crd_details()`.

use crate::resources::{self, ResourceInfo};
use serde_json::Value;
use std::sync::RwLock;

/// apiextensions.k8s.io/v1 CustomResourceDefinition, served beside the table.
pub static CRD_RESOURCE: ResourceInfo = resources::res(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "customresourcedefinition",
    "CustomResourceDefinition",
    false,
)
.short(&["crd", "crds"])
.categories(resources::API_EXTENSIONS)
.subs(resources::WITH_STATUS);

/// Where a resource keeps what its `/scale` subresource shows.
#[derive(Clone, Debug)]
pub struct ScalePaths {
    /// e.g. `.spec.replicas`
    pub spec_replicas: String,
    pub status_replicas: String,
    /// For CRDs, a path to a selector string; built-ins derive it from spec.selector.
    pub label_selector: Option<String>,
}

/// A resource defined by a CRD, one per served version.
#[derive(Clone)]
pub struct CustomResource {
    pub info: &'static ResourceInfo,
    /// The CRD's metadata.name (`plural.group`).
    pub crd_name: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub scale: Option<ScalePaths>,
}

static CUSTOM: RwLock<Vec<CustomResource>> = RwLock::new(Vec::new());

fn custom() -> std::sync::RwLockReadGuard<'static, Vec<CustomResource>> {
    CUSTOM.read().unwrap_or_else(|p| p.into_inner())
}

/// Every resource served now: the built-in table, CRDs, then CRD-defined ones.
pub fn served_resources() -> Vec<&'static ResourceInfo> {
    let mut out: Vec<&'static ResourceInfo> = resources::RESOURCES.iter().collect();
    // Unless the built-in table has come to list CRDs itself.
    if !out
        .iter()
        .any(|r| r.group == CRD_RESOURCE.group && r.plural == CRD_RESOURCE.plural)
    {
        out.push(&CRD_RESOURCE);
    }
    out.extend(custom().iter().map(|c| c.info));
    out
}

/// The CRD-defined resources with their names and subresources, for discovery.
pub fn crd_details() -> Vec<CustomResource> {
    custom().clone()
}

pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    resources::find(group, version, plural).or_else(|| {
        served_resources()
            .into_iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    })
}

pub fn find_kind(group_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    resources::find_kind(group_version, kind).or_else(|| {
        served_resources()
            .into_iter()
            .find(|r| r.group_version() == group_version && r.kind == kind)
    })
}

pub fn is_custom(res: &ResourceInfo) -> bool {
    custom()
        .iter()
        .any(|c| c.info.group == res.group && c.info.plural == res.plural)
}

/// Kinds whose metadata.generation counts spec changes.
pub fn tracks_generation(res: &ResourceInfo) -> bool {
    matches!(
        (res.group, res.plural),
        ("apps", _)
            | ("batch", _)
            | ("", "replicationcontrollers")
            | (
                "networking.k8s.io",
                "ingresses" | "ingressclasses" | "networkpolicies"
            )
            | ("policy", "poddisruptionbudgets")
            | ("autoscaling", "horizontalpodautoscalers")
            | ("apiextensions.k8s.io", "customresourcedefinitions")
    ) || is_custom(res)
}

pub fn scale_paths(res: &ResourceInfo) -> Option<ScalePaths> {
    let builtin = matches!(
        (res.group, res.plural),
        ("apps", "deployments" | "statefulsets" | "replicasets") | ("", "replicationcontrollers")
    );
    if builtin {
        return Some(ScalePaths {
            spec_replicas: ".spec.replicas".into(),
            status_replicas: ".status.replicas".into(),
            label_selector: None,
        });
    }
    custom()
        .iter()
        .find(|c| c.info.group == res.group && c.info.plural == res.plural)
        .and_then(|c| c.scale.clone())
}

fn leak(s: &str) -> &'static str {
    // A CRD's names live as long as the server; re-registering reuses them.
    for c in custom().iter() {
        for known in [c.info.group, c.info.version, c.info.plural, c.info.kind] {
            if known == s {
                return known;
            }
        }
    }
    Box::leak(s.to_string().into_boxed_str())
}

/// Serves the resources a stored CRD defines (replacing an earlier version of it).
pub fn register_crd(crd: &Value) {
    let name = crd["metadata"]["name"].as_str().unwrap_or("").to_string();
    let spec = &crd["spec"];
    let names = &spec["names"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    };
    let mut added = vec![];
    for v in spec["versions"].as_array().into_iter().flatten() {
        if v["served"] == Value::Bool(false) {
            continue;
        }
        let sub = &v["subresources"];
        // The CustomResource keeps names and categories; the info carries
        // what routing needs (verbs and subresources).
        let subresources: &'static [resources::Subresource] =
            match (sub.get("scale").is_some(), sub.get("status").is_some()) {
                (true, true) => resources::WITH_SCALE_STATUS,
                (true, false) => std::slice::from_ref(&resources::SCALE),
                (false, true) => resources::WITH_STATUS,
                (false, false) => &[],
            };
        let info: &'static ResourceInfo = Box::leak(Box::new(
            resources::res(
                leak(spec["group"].as_str().unwrap_or("")),
                leak(v["name"].as_str().unwrap_or("v1")),
                leak(names["plural"].as_str().unwrap_or("")),
                leak(names["singular"].as_str().unwrap_or("")),
                leak(names["kind"].as_str().unwrap_or("")),
                spec["scope"].as_str() != Some("Cluster"),
            )
            .subs(subresources),
        ));
        let scale = sub.get("scale").map(|s| ScalePaths {
            spec_replicas: s["specReplicasPath"]
                .as_str()
                .unwrap_or(".spec.replicas")
                .into(),
            status_replicas: s["statusReplicasPath"]
                .as_str()
                .unwrap_or(".status.replicas")
                .into(),
            label_selector: s["labelSelectorPath"].as_str().map(String::from),
        });
        added.push(CustomResource {
            info,
            crd_name: name.clone(),
            singular: names["singular"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| info.kind.to_lowercase()),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            scale,
        });
    }
    let mut all = CUSTOM.write().unwrap_or_else(|p| p.into_inner());
    all.retain(|c| c.crd_name != name);
    all.extend(added);
}

pub fn unregister_crd(name: &str) {
    CUSTOM
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|c| c.crd_name != name);
}

/// A value at a `.a.b.c` path.
pub fn at_path<'a>(obj: &'a Value, path: &str) -> &'a Value {
    path.trim_start_matches('.')
        .split('.')
        .fold(obj, |cur, p| &cur[p])
}

/// Sets a value at a `.a.b.c` path, creating objects on the way.
pub fn set_path(obj: &mut Value, path: &str, v: Value) {
    let mut cur = obj;
    for p in path.trim_start_matches('.').split('.') {
        if !cur.is_object() {
            *cur = Value::Object(Default::default());
        }
        cur = &mut cur[p];
    }
    *cur = v;
}

fn in_builtin_table(group: &str) -> bool {
    resources::RESOURCES.iter().any(|r| r.group == group)
}

/// Discovery the built-in table cannot give: APIGroup entries for
/// apiextensions.k8s.io and every CRD group, to add to `GET /apis`.
pub fn extra_api_groups() -> Vec<Value> {
    let mut groups: Vec<(&str, Vec<&str>)> = vec![];
    for r in served_resources()
        .into_iter()
        .filter(|r| !in_builtin_table(r.group))
    {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => groups.push((r.group, vec![r.version])),
        }
    }
    groups
        .into_iter()
        .map(|(g, versions)| {
            let gvs: Vec<Value> = versions
                .iter()
                .map(|v| serde_json::json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                .collect();
            serde_json::json!({"name": g, "versions": gvs.clone(), "preferredVersion": gvs[0]})
        })
        .collect()
}

/// `GET /apis/GROUP/VERSION` for a group only CRDs (or the CRD resource) serve.
pub fn extra_resource_list(group: &str, version: &str) -> Option<Value> {
    if in_builtin_table(group) {
        return None;
    }
    let verbs = [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    let mut out = vec![];
    let mut add = |info: &ResourceInfo,
                   singular: &str,
                   short: &[String],
                   categories: &[String],
                   scale: bool| {
        let mut r = serde_json::json!({"name": info.plural, "singularName": singular,
            "namespaced": info.namespaced, "kind": info.kind, "verbs": verbs});
        if !short.is_empty() {
            r["shortNames"] = serde_json::json!(short);
        }
        if !categories.is_empty() {
            r["categories"] = serde_json::json!(categories);
        }
        out.push(r);
        let sub = |name: &str, kind: &str, group: Option<&str>| {
            let mut s = serde_json::json!({"name": format!("{}/{name}", info.plural), "singularName": "",
                "namespaced": info.namespaced, "kind": kind, "verbs": ["get", "patch", "update"]});
            if let Some(g) = group {
                s["group"] = serde_json::json!(g);
                s["version"] = serde_json::json!("v1");
            }
            s
        };
        if info.status {
            out.push(sub("status", info.kind, None));
        }
        if scale {
            out.push(sub("scale", "Scale", Some("autoscaling")));
        }
    };
    if group == CRD_RESOURCE.group && version == CRD_RESOURCE.version {
        add(
            &CRD_RESOURCE,
            "customresourcedefinition",
            &["crd".into(), "crds".into()],
            &["api-extensions".into()],
            false,
        );
    }
    for c in custom()
        .iter()
        .filter(|c| c.info.group == group && c.info.version == version)
    {
        add(
            c.info,
            &c.singular,
            &c.short_names,
            &c.categories,
            c.scale.is_some(),
        );
    }
    if out.is_empty() {
        return None;
    }
    Some(
        serde_json::json!({"kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": format!("{group}/{version}"), "resources": out}),
    )
}

//! Which resources are served right now: the built-in table and every
//! resource a stored CustomResourceDefinition defines (registered on create, dropped on delete). Also the per-resource
//! properties the table does not carry: scale subresource, generation.
//!
//! Discovery lists `served_resources()` (through `resources::served()`).

use crate::resources::{self, ResourceInfo};
use serde_json::Value;
use std::sync::RwLock;

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
    pub scale: Option<ScalePaths>,
    /// The version's `schema.openAPIV3Schema` (null when it has none).
    pub schema: Value,
}

static CUSTOM: RwLock<Vec<CustomResource>> = RwLock::new(Vec::new());

fn custom() -> std::sync::RwLockReadGuard<'static, Vec<CustomResource>> {
    CUSTOM.read().unwrap_or_else(|p| p.into_inner())
}

/// Every resource served now: the built-in table, then CRD-defined ones.
pub fn served_resources() -> Vec<&'static ResourceInfo> {
    let mut out: Vec<&'static ResourceInfo> = resources::RESOURCES.iter().collect();
    out.extend(custom().iter().map(|c| c.info));
    out
}

/// The CRD-defined resources with the CRD that defines them.
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
    // Built-in scale subresources (model/src/table.rs) all keep replicas here.
    let builtin = resources::find(res.group, res.version, res.plural)
        .is_some_and(|r| r.has_subresource("scale"));
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
    // Names live as long as the server (discovery hands out &'static).
    let strings = |v: &Value| -> &'static [&'static str] {
        let names: Vec<&'static str> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(leak))
            .collect();
        Box::leak(names.into_boxed_slice())
    };
    let mut added = vec![];
    for v in spec["versions"].as_array().into_iter().flatten() {
        if v["served"] == Value::Bool(false) {
            continue;
        }
        let sub = &v["subresources"];
        let info: &'static ResourceInfo = Box::leak(Box::new(
            resources::stored(
                leak(spec["group"].as_str().unwrap_or("")),
                leak(v["name"].as_str().unwrap_or("v1")),
                leak(names["plural"].as_str().unwrap_or("")),
                leak(names["kind"].as_str().unwrap_or("")),
                spec["scope"].as_str() != Some("Cluster"),
            )
            .short(strings(&names["shortNames"]))
            .categories(strings(&names["categories"]))
            .subs(resources::custom_subresources(
                sub.get("status").is_some(),
                sub.get("scale").is_some(),
            )),
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
            scale,
            schema: v["schema"]["openAPIV3Schema"].clone(),
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

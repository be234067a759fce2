//! The schemas of the resources CRDs define, published as the real server
//! publishes them: one `/openapi/v3/apis/<group>/<version>` document per
//! served version (the CRD's openAPIV3Schema with apiVersion, kind and
//! metadata added), and the same kinds in `/openapi/v2` in the v2 form
//! apiextensions-apiserver derives (no nullable, no anyOf/allOf/oneOf/not;
//! nodes that preserve unknown fields, nullable ones and int-or-string ones
//! untyped), so that `kubectl explain` and kubectl's client-side validation
//! know custom kinds. Built per request: CRDs come and go at run time.

use super::model::{self, Ty};
use super::{gvk, resource_paths, schema_name, Flavor, SchemaSet};
use crate::discovery::GIT_VERSION;
use crate::registry::{self, CustomResource};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

fn served() -> Vec<CustomResource> {
    registry::crd_details()
}

/// The kind's schema and its List's, added to `set`.
fn add_kind(set: &mut SchemaSet, c: &CustomResource, schema: &Value) {
    let r = c.info;
    let mut s = schema.clone();
    if !s.is_object() {
        s = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    }
    let mut props = Map::new();
    props.insert(
        "apiVersion".into(),
        json!({"description": "APIVersion defines the versioned schema of this representation of an object.", "type": "string"}),
    );
    props.insert(
        "kind".into(),
        json!({"description": "Kind is a string value representing the REST resource this object represents.", "type": "string"}),
    );
    props.insert(
        "metadata".into(),
        set.field(Ty::Struct(&model::OBJECT_META)),
    );
    for (k, v) in s["properties"].as_object().into_iter().flatten() {
        if !props.contains_key(k) {
            props.insert(k.clone(), v.clone());
        }
    }
    s["properties"] = Value::Object(props);
    s["type"] = json!("object");
    s["x-kubernetes-group-version-kind"] = gvk(r.group, r.version, r.kind);
    let name = schema_name(r.group, r.version, r.kind);
    let list_kind = format!("{}List", r.kind);
    let mut list = set.object(
        &format!("{list_kind} is a list of {}", r.kind),
        &[
            ("apiVersion", Ty::Str),
            ("kind", Ty::Str),
            ("metadata", Ty::Struct(&model::LIST_META)),
        ],
    );
    list["properties"]["items"] = json!({"type": "array", "items": set.flavor.plain_ref(&name)});
    list["required"] = json!(["items"]);
    list["x-kubernetes-group-version-kind"] = gvk(r.group, r.version, &list_kind);
    set.schemas.insert(name, s);
    set.schemas
        .insert(schema_name(r.group, r.version, &list_kind), list);
}

/// `apis/<group>/<version>` → the document, for every served CRD version.
pub(super) fn v3_documents() -> BTreeMap<String, Vec<u8>> {
    let mut by_gv: BTreeMap<String, Vec<CustomResource>> = BTreeMap::new();
    for c in served() {
        by_gv
            .entry(format!("apis/{}/{}", c.info.group, c.info.version))
            .or_default()
            .push(c);
    }
    by_gv
        .into_iter()
        .map(|(key, crs)| {
            let mut set = SchemaSet::new(Flavor::V3);
            let mut paths = Map::new();
            for c in &crs {
                add_kind(&mut set, c, &c.schema);
                resource_paths(c.info, &mut paths);
            }
            let doc = json!({"openapi": "3.0.0", "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
                "paths": paths, "components": {"schemas": set.schemas}});
            (key, serde_json::to_vec(&doc).unwrap_or_default())
        })
        .collect()
}

/// A v3 schema node in the form the v2 document carries.
fn to_v2(s: &mut Value) {
    let Some(m) = s.as_object_mut() else {
        return;
    };
    for k in ["allOf", "anyOf", "oneOf", "not"] {
        m.remove(k);
    }
    let untyped = m.remove("nullable") == Some(Value::Bool(true))
        || m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if untyped {
        for k in ["type", "items", "properties", "additionalProperties"] {
            m.remove(k);
        }
    }
    if m.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        m.remove("type");
    }
    for (_, p) in m
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        to_v2(p);
    }
    for k in ["items", "additionalProperties"] {
        if let Some(sub) = m.get_mut(k) {
            to_v2(sub);
        }
    }
}

/// The v2 document with the custom kinds added; None while no CRD serves.
pub(super) fn v2_document(builtin: &[u8]) -> Option<Value> {
    let crs = served();
    if crs.is_empty() {
        return None;
    }
    let mut doc: Value = serde_json::from_slice(builtin).ok()?;
    let mut set = SchemaSet::new(Flavor::V2);
    for c in &crs {
        let mut s = c.schema.clone();
        to_v2(&mut s);
        add_kind(&mut set, c, &s);
    }
    let defs = doc["definitions"].as_object_mut()?;
    for (k, v) in set.schemas {
        defs.entry(k).or_insert(v);
    }
    doc["info"]["version"] = json!(GIT_VERSION);
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_form_drops_what_v2_cannot_say() {
        let mut s = json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"x": {"type": "string"}}},
            "c": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "d": {"type": "array", "items": {"type": "integer", "minimum": 1}}}});
        to_v2(&mut s);
        assert_eq!(
            json!({"type": "object", "properties": {
                "a": {},
                "b": {"x-kubernetes-preserve-unknown-fields": true},
                "c": {"x-kubernetes-int-or-string": true},
                "d": {"type": "array", "items": {"type": "integer", "minimum": 1}}}}),
            s
        );
    }
}

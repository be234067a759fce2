//! What the real server does to a custom resource before validating it:
//! fields the structural schema does not specify are dropped (unless
//! `x-kubernetes-preserve-unknown-fields`), nulls of fields that are not
//! nullable go, and schema `default`s fill the fields that are absent.

use serde_json::{Map, Value};

fn flag(s: &Value, name: &str) -> bool {
    s[name] == Value::Bool(true)
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The fields of ObjectMeta a nested (embedded) resource's metadata keeps.
const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Drops what the schema does not specify; returns the dropped paths
/// (`spec.extra`), which `fieldValidation=Warn|Strict` reports.
pub(crate) fn prune(obj: &mut Value, schema: &Value) -> Vec<String> {
    let mut dropped = vec![];
    if let Some(m) = obj.as_object_mut() {
        fields(m, schema, "", true, &mut dropped);
    }
    dropped
}

fn fields(m: &mut Map<String, Value>, s: &Value, path: &str, root: bool, out: &mut Vec<String>) {
    let embedded = flag(s, "x-kubernetes-embedded-resource");
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    let props = s["properties"].as_object();
    let extra = s["additionalProperties"].is_object();
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        let here = child(path, &k);
        if (root || embedded) && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            if k == "metadata" && embedded {
                if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.retain(|f, _| {
                        let keep = OBJECT_META.contains(&f.as_str());
                        if !keep {
                            out.push(child(&here, f));
                        }
                        keep
                    });
                }
            }
            continue;
        }
        let sub = props
            .and_then(|p| p.get(&k))
            .or_else(|| extra.then_some(&s["additionalProperties"]));
        match sub {
            Some(sub) => {
                if let Some(v) = m.get_mut(&k) {
                    value(v, sub, &here, out);
                }
            }
            None if preserve => {}
            None => {
                m.remove(&k);
                out.push(here);
            }
        }
    }
}

fn value(v: &mut Value, s: &Value, path: &str, out: &mut Vec<String>) {
    if flag(s, "x-kubernetes-int-or-string") {
        return;
    }
    match v {
        Value::Object(m) => fields(m, s, path, false, out),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                value(item, &s["items"], &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Fills absent fields (and non-nullable nulls) from `default`, top down,
/// as the real server's structural defaulting does; other non-nullable
/// nulls are dropped.
pub(crate) fn apply_defaults(obj: &mut Value, schema: &Value) {
    if let Some(m) = obj.as_object_mut() {
        default_fields(m, schema, true);
    }
}

fn default_fields(m: &mut Map<String, Value>, s: &Value, root: bool) {
    if let Some(props) = s["properties"].as_object() {
        for (k, p) in props {
            if root && k == "metadata" {
                continue;
            }
            let absent = m.get(k).is_none_or(|v| v.is_null() && !flag(p, "nullable"));
            if absent {
                match p.get("default") {
                    Some(d) if !d.is_null() => {
                        m.insert(k.clone(), d.clone());
                    }
                    _ => {
                        if m.get(k).is_some_and(Value::is_null) {
                            m.remove(k);
                        }
                    }
                }
            }
        }
    }
    let extra = &s["additionalProperties"];
    for (k, v) in m.iter_mut() {
        if root && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        let sub = s["properties"].get(k).unwrap_or(extra);
        default_value(v, sub);
    }
}

fn default_value(v: &mut Value, s: &Value) {
    if !s.is_object() {
        return;
    }
    match v {
        Value::Object(m) => default_fields(m, s, false),
        Value::Array(items) => {
            let item_schema = &s["items"];
            for item in items.iter_mut() {
                if item.is_null() && !flag(item_schema, "nullable") {
                    if let Some(d) = item_schema.get("default") {
                        *item = d.clone();
                    }
                }
                default_value(item, item_schema);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "size": {"type": "integer", "default": 1},
                "mode": {"type": "string", "default": "fast"},
                "opts": {"type": "object", "default": {}, "properties": {
                    "level": {"type": "integer", "default": 3}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {"typed": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                "port": {"x-kubernetes-int-or-string": true},
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "weight": {"type": "integer", "default": 5}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "object",
                    "properties": {"v": {"type": "string", "default": "x"}}}},
                "pod": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
            }},
            "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
        }})
    }

    #[test]
    fn unknown_fields_go_except_where_preserved() {
        let mut o = json!({"apiVersion": "example.com/v1", "kind": "W", "metadata": {"name": "w"},
            "extra": 1, "spec": {"size": 2, "bogus": true,
            "free": {"anything": {"x": 1}, "typed": {"a": "b", "z": 1}},
            "items": [{"name": "a", "junk": 1}],
            "labels": {"k": {"v": "y", "w": 1}},
            "pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "bad": 1},
                "spec": {"x": 1}, "other": 1}},
            "status": {"ready": true, "phase": "x"}});
        let dropped = prune(&mut o, &schema());
        assert_eq!(
            vec![
                "extra",
                "spec.bogus",
                "spec.free.typed.z",
                "spec.items[0].junk",
                "spec.labels.k.w",
                "spec.pod.metadata.bad",
                "spec.pod.other",
                "status.phase"
            ],
            dropped
        );
        assert_eq!(
            json!({"apiVersion": "example.com/v1", "kind": "W", "metadata": {"name": "w"},
                "spec": {"size": 2, "free": {"anything": {"x": 1}, "typed": {"a": "b"}},
                "items": [{"name": "a"}], "labels": {"k": {"v": "y"}},
                "pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": 1}}},
                "status": {"ready": true}}),
            o
        );
    }

    #[test]
    fn defaults_fill_absent_fields_top_down() {
        let mut o = json!({"spec": {"mode": null, "items": [{"name": "a"}], "labels": {"k": {}}}});
        apply_defaults(&mut o, &schema());
        assert_eq!(
            json!({"spec": {"mode": "fast", "items": [{"name": "a", "weight": 5}],
                "labels": {"k": {"v": "x"}}, "size": 1, "opts": {"level": 3}}}),
            o
        );
        // No spec: nothing below it is defaulted.
        let mut o = json!({});
        apply_defaults(&mut o, &schema());
        assert_eq!(json!({}), o);
    }
}

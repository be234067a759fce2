//! A custom resource checked against its version's structural schema, with
//! the causes kube-apiserver 1.32 gives: kube-openapi's messages ("spec.size
//! in body must be of type integer: \"string\"") mapped to field errors as
//! apiextensions-apiserver maps them, then the list-type set/map checks.

use super::causes::{go_number, go_quote, Cause};
use serde_json::Value;

/// The JSON type of a value as kube-openapi names it.
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn flag(s: &Value, name: &str) -> bool {
    s[name] == Value::Bool(true)
}

/// Whether `v` has one of `types` (integers are numbers; integral floats integers).
fn type_matches(types: &[&str], v: &Value) -> bool {
    let actual = type_of(v);
    types.iter().any(|t| {
        *t == actual
            || (*t == "number" && actual == "integer")
            || (*t == "integer" && v.as_f64().is_some_and(|f| f.fract() == 0.0))
    })
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Every cause `obj` gives against `schema` (the openAPIV3Schema of its
/// version). apiVersion, kind and metadata are the server's to check.
pub(crate) fn validate(obj: &Value, schema: &Value) -> Vec<Cause> {
    let mut out = vec![];
    let Some(o) = obj.as_object() else {
        return out;
    };
    for k in schema["required"].as_array().into_iter().flatten() {
        if let Some(k) = k.as_str() {
            if !o.contains_key(k) {
                out.push(Cause::required(k, ""));
            }
        }
    }
    for (k, v) in o {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        if let Some(s) = schema["properties"].get(k) {
            node(v, s, k, &mut out);
        }
    }
    out
}

fn node(v: &Value, s: &Value, path: &str, out: &mut Vec<Cause>) {
    if !s.is_object() {
        return;
    }
    let types: Vec<&str> = if flag(s, "x-kubernetes-int-or-string") {
        vec!["integer", "string"]
    } else {
        s["type"].as_str().into_iter().collect()
    };
    let in_body = |detail: String| format!("{path} in body {detail}");
    if v.is_null() {
        if !types.is_empty() && !flag(s, "nullable") {
            let detail = in_body(format!(
                "must be of type {}: {}",
                types.join(","),
                go_quote("null")
            ));
            out.push(Cause::type_invalid(
                path,
                &Value::String("null".into()),
                &detail,
            ));
        }
        return;
    }
    if !types.is_empty() && !type_matches(&types, v) {
        let actual = type_of(v);
        let detail = in_body(format!(
            "must be of type {}: {}",
            types.join(","),
            go_quote(actual)
        ));
        out.push(Cause::type_invalid(
            path,
            &Value::String(actual.into()),
            &detail,
        ));
        return;
    }
    if let Some(allowed) = s["enum"].as_array() {
        if !allowed.contains(v) {
            let names: Vec<String> = allowed
                .iter()
                .map(|a| match a {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.push(Cause::not_supported(path, v, &names));
        }
    }
    match v {
        Value::String(text) => string(text, v, s, path, out),
        Value::Number(n) => number(n, v, s, path, out),
        Value::Array(items) => array(items, v, s, path, out),
        Value::Object(m) => object(m, s, path, out),
        _ => {}
    }
}

fn string(text: &str, v: &Value, s: &Value, path: &str, out: &mut Vec<Cause>) {
    // kube-openapi counts runes, as Go's utf8.RuneCountInString.
    let len = text.chars().count() as i64;
    if let Some(max) = s["maxLength"].as_i64() {
        if len > max {
            out.push(Cause::too_long(path, max));
        }
    }
    if let Some(min) = s["minLength"].as_i64() {
        if len < min {
            out.push(Cause::invalid(
                path,
                v,
                &format!("{path} in body should be at least {min} chars long"),
            ));
        }
    }
    if let Some(p) = s["pattern"].as_str() {
        if matches(p, text) == Some(false) {
            out.push(Cause::invalid(
                path,
                v,
                &format!("{path} in body should match '{p}'"),
            ));
        }
    }
    if let Some(f) = s["format"].as_str() {
        if !super::formats::conforms(f, text) {
            out.push(Cause::type_invalid(
                path,
                v,
                &format!("{path} in body must be of type {f}: {}", go_quote(text)),
            ));
        }
    }
}

/// Whether `text` matches `pattern` (None: the pattern does not compile).
/// Compiled patterns are kept, at most 256 (then the cache starts over):
/// compiling costs more than matching.
fn matches(pattern: &str, text: &str) -> Option<bool> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: Mutex<Option<HashMap<String, regex::Regex>>> = Mutex::new(None);
    let mut guard = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let cache = guard.get_or_insert_with(HashMap::new);
    if !cache.contains_key(pattern) {
        let re = regex::Regex::new(pattern).ok()?;
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re);
    }
    cache.get(pattern).map(|re| re.is_match(text))
}

fn bound(b: &Value) -> Option<String> {
    b.as_number().map(go_number)
}

fn number(n: &serde_json::Number, v: &Value, s: &Value, path: &str, out: &mut Vec<Cause>) {
    let x = n.as_f64().unwrap_or(0.0);
    if let (Some(max), Some(text)) = (s["maximum"].as_f64(), bound(&s["maximum"])) {
        let exclusive = flag(s, "exclusiveMaximum");
        if x > max || (exclusive && x == max) {
            let how = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            out.push(Cause::invalid(
                path,
                v,
                &format!("{path} in body should be {how} {text}"),
            ));
        }
    }
    if let (Some(min), Some(text)) = (s["minimum"].as_f64(), bound(&s["minimum"])) {
        let exclusive = flag(s, "exclusiveMinimum");
        if x < min || (exclusive && x == min) {
            let how = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            out.push(Cause::invalid(
                path,
                v,
                &format!("{path} in body should be {how} {text}"),
            ));
        }
    }
    if let (Some(m), Some(text)) = (s["multipleOf"].as_f64(), bound(&s["multipleOf"])) {
        if m > 0.0 && (x / m).fract() != 0.0 {
            out.push(Cause::invalid(
                path,
                v,
                &format!("{path} in body should be a multiple of {text}"),
            ));
        }
    }
}

fn array(items: &[Value], v: &Value, s: &Value, path: &str, out: &mut Vec<Cause>) {
    let _ = v;
    for (i, item) in items.iter().enumerate() {
        node(item, &s["items"], &format!("{path}[{i}]"), out);
    }
    let n = items.len();
    if let Some(min) = s["minItems"].as_i64() {
        if (n as i64) < min {
            out.push(Cause::invalid(
                path,
                &Value::from(n),
                &format!("{path} in body should have at least {min} items"),
            ));
        }
    }
    if let Some(max) = s["maxItems"].as_i64() {
        if n as i64 > max {
            out.push(Cause::too_many(path, n, max));
        }
    }
    list_type(items, s, path, out);
}

/// `x-kubernetes-list-type: set` items and `map` keys are unique.
fn list_type(items: &[Value], s: &Value, path: &str, out: &mut Vec<Cause>) {
    match s["x-kubernetes-list-type"].as_str() {
        Some("set") => {
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    out.push(Cause::duplicate(&format!("{path}[{i}]"), item));
                }
            }
        }
        Some("map") => {
            let keys: Vec<&str> = s["x-kubernetes-list-map-keys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let key_of = |item: &Value| -> Value {
                let mut k = serde_json::Map::new();
                for name in &keys {
                    // A missing key with a default counts as that default.
                    let v = item
                        .get(*name)
                        .cloned()
                        .unwrap_or_else(|| s["items"]["properties"][*name]["default"].clone());
                    if !v.is_null() {
                        k.insert(name.to_string(), v);
                    }
                }
                Value::Object(k)
            };
            let mut seen: Vec<Value> = vec![];
            for (i, item) in items.iter().enumerate() {
                let k = key_of(item);
                if seen.contains(&k) {
                    out.push(Cause::duplicate(&format!("{path}[{i}]"), &k));
                }
                seen.push(k);
            }
        }
        _ => {}
    }
}

fn object(m: &serde_json::Map<String, Value>, s: &Value, path: &str, out: &mut Vec<Cause>) {
    for k in s["required"].as_array().into_iter().flatten() {
        if let Some(k) = k.as_str() {
            if !m.contains_key(k) {
                out.push(Cause::required(&child(path, k), ""));
            }
        }
    }
    if flag(s, "x-kubernetes-embedded-resource") {
        for k in ["apiVersion", "kind"] {
            if m.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
                out.push(Cause::required(&child(path, k), "must not be empty"));
            }
        }
    }
    let n = m.len() as i64;
    if let Some(max) = s["maxProperties"].as_i64() {
        if n > max {
            out.push(Cause::too_many(path, m.len(), max));
        }
    }
    if let Some(min) = s["minProperties"].as_i64() {
        if n < min {
            out.push(Cause::invalid(
                path,
                &Value::from(n),
                &format!("{path} in body should have at least {min} properties"),
            ));
        }
    }
    for (k, v) in m {
        if let Some(p) = s["properties"].get(k) {
            node(v, p, &child(path, k), out);
        } else if s["additionalProperties"].is_object() {
            node(v, &s["additionalProperties"], &child(path, k), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "required": ["size"],
        "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10},
            "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1.5},
            "color": {"type": "string", "enum": ["red", "blue"]},
            "code": {"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 5},
            "when": {"type": "string", "format": "date-time"},
            "port": {"x-kubernetes-int-or-string": true},
            "note": {"type": "string", "nullable": true},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "minItems": 1,
                "x-kubernetes-list-type": "set"},
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"}, "port": {"type": "integer"}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true}
        }}}})
    }

    fn causes(spec: Value) -> Vec<(String, String, String)> {
        validate(&json!({"spec": spec}), &schema())
            .into_iter()
            .map(|c| (c.reason.to_string(), c.field, c.message))
            .collect()
    }

    fn one(spec: Value) -> (String, String, String) {
        let mut c = causes(spec);
        assert_eq!(1, c.len(), "{c:?}");
        c.remove(0)
    }

    fn cause(reason: &str, field: &str, message: &str) -> (String, String, String) {
        (reason.into(), field.into(), message.into())
    }

    #[test]
    fn a_valid_object_has_no_causes() {
        assert_eq!(
            Vec::<(String, String, String)>::new(),
            causes(json!({"size": 3, "ratio": 1, "color": "red", "code": "ab",
                "when": "2024-01-02T03:04:05Z", "port": "http", "note": null, "tags": ["a"],
                "ports": [{"name": "a"}, {"name": "b", "port": 1}], "labels": {"a": "b"},
                "template": {"apiVersion": "v1", "kind": "Pod", "x": 1}}))
        );
        assert!(causes(json!({"size": 2.0, "port": 80})).is_empty());
    }

    #[test]
    fn types() {
        assert_eq!(
            cause(
                "FieldValueTypeInvalid",
                "spec.size",
                "Invalid value: \"string\": spec.size in body must be of type integer: \"string\""
            ),
            one(json!({"size": "3"}))
        );
        assert_eq!(
            cause(
                "FieldValueTypeInvalid",
                "spec.size",
                "Invalid value: \"number\": spec.size in body must be of type integer: \"number\""
            ),
            one(json!({"size": 2.5}))
        );
        assert_eq!(
            cause(
                "FieldValueTypeInvalid",
                "spec.port",
                "Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\""
            ),
            one(json!({"size": 1, "port": true}))
        );
        assert_eq!(
            cause(
                "FieldValueTypeInvalid",
                "spec.color",
                "Invalid value: \"null\": spec.color in body must be of type string: \"null\""
            ),
            one(json!({"size": 1, "color": null}))
        );
    }

    #[test]
    fn required() {
        assert_eq!(
            cause("FieldValueRequired", "spec.size", "Required value"),
            one(json!({}))
        );
        assert_eq!(
            cause("FieldValueRequired", "spec.ports[0].name", "Required value"),
            one(json!({"size": 1, "ports": [{"port": 1}]}))
        );
    }

    #[test]
    fn enums() {
        assert_eq!(
            cause(
                "FieldValueNotSupported",
                "spec.color",
                "Unsupported value: \"green\": supported values: \"red\", \"blue\""
            ),
            one(json!({"size": 1, "color": "green"}))
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            cause(
                "FieldValueInvalid",
                "spec.size",
                "Invalid value: 0: spec.size in body should be greater than or equal to 1"
            ),
            one(json!({"size": 0}))
        );
        assert_eq!(
            cause(
                "FieldValueInvalid",
                "spec.size",
                "Invalid value: 11: spec.size in body should be less than or equal to 10"
            ),
            one(json!({"size": 11}))
        );
        assert_eq!(
            cause(
                "FieldValueInvalid",
                "spec.ratio",
                "Invalid value: 1.5: spec.ratio in body should be less than 1.5"
            ),
            one(json!({"size": 1, "ratio": 1.5}))
        );
    }

    #[test]
    fn strings() {
        assert_eq!(
            cause(
                "FieldValueInvalid",
                "spec.code",
                "Invalid value: \"A1\": spec.code in body should match '^[a-z]+$'"
            ),
            one(json!({"size": 1, "code": "A1"}))
        );
        assert_eq!(
            cause(
                "FieldValueInvalid",
                "spec.code",
                "Invalid value: \"a\": spec.code in body should be at least 2 chars long"
            ),
            one(json!({"size": 1, "code": "a"}))
        );
        assert_eq!(
            cause(
                "FieldValueTooLong",
                "spec.code",
                "Too long: may not be more than 5 bytes"
            ),
            one(json!({"size": 1, "code": "abcdef"}))
        );
        assert_eq!(
            cause(
                "FieldValueTypeInvalid",
                "spec.when",
                "Invalid value: \"soon\": spec.when in body must be of type date-time: \"soon\""
            ),
            one(json!({"size": 1, "when": "soon"}))
        );
    }

    #[test]
    fn arrays_and_list_types() {
        assert_eq!(
            cause(
                "FieldValueTooMany",
                "spec.tags",
                "Too many: 3: must have at most 2 items"
            ),
            one(json!({"size": 1, "tags": ["a", "b", "c"]}))
        );
        assert_eq!(
            cause(
                "FieldValueInvalid",
                "spec.tags",
                "Invalid value: 0: spec.tags in body should have at least 1 items"
            ),
            one(json!({"size": 1, "tags": []}))
        );
        assert_eq!(
            cause(
                "FieldValueDuplicate",
                "spec.tags[1]",
                "Duplicate value: \"a\""
            ),
            one(json!({"size": 1, "tags": ["a", "a"]}))
        );
        assert_eq!(
            cause(
                "FieldValueDuplicate",
                "spec.ports[1]",
                "Duplicate value: map[string]interface {}{\"name\":\"a\"}"
            ),
            one(json!({"size": 1, "ports": [{"name": "a"}, {"name": "a", "port": 2}]}))
        );
        assert_eq!(
            cause(
                "FieldValueTypeInvalid",
                "spec.labels.a",
                "Invalid value: \"integer\": spec.labels.a in body must be of type string: \"integer\""
            ),
            one(json!({"size": 1, "labels": {"a": 1}}))
        );
    }

    #[test]
    fn embedded_resources_need_api_version_and_kind() {
        assert_eq!(
            vec![
                cause(
                    "FieldValueRequired",
                    "spec.template.apiVersion",
                    "Required value: must not be empty"
                ),
                cause(
                    "FieldValueRequired",
                    "spec.template.kind",
                    "Required value: must not be empty"
                )
            ],
            causes(json!({"size": 1, "template": {}}))
        );
    }
}

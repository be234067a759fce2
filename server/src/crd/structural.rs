//! A CustomResourceDefinition's schemas checked as apiextensions-apiserver
//! checks them on create and update: every version has an
//! `openAPIV3Schema`, and each is structural (a type on every specified
//! node, items on arrays, the `x-kubernetes-*` extensions used as allowed,
//! defaults that are valid and pruned).

use super::causes::Cause;
use serde_json::Value;

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Field,
    Item,
}

fn flag(s: &Value, name: &str) -> bool {
    s[name] == Value::Bool(true)
}

/// Every cause the CRD's versions give.
pub(crate) fn check(crd: &Value) -> Vec<Cause> {
    let mut out = vec![];
    for (i, v) in crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = format!("spec.versions[{i}].schema.openAPIV3Schema");
        match v["schema"].get("openAPIV3Schema") {
            Some(s) if s.is_object() => {
                node(s, &path, Level::Root, &mut out);
                metadata_at_root(s, &path, &mut out);
                defaults(s, s, &path, &mut out);
            }
            _ => out.push(Cause::required(&path, "schemas are required")),
        }
    }
    out
}

fn node(s: &Value, path: &str, level: Level, out: &mut Vec<Cause>) {
    let ty = s["type"].as_str().unwrap_or("");
    let int_or_string = flag(s, "x-kubernetes-int-or-string");
    let embedded = flag(s, "x-kubernetes-embedded-resource");
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    if ty == "array" && s.get("items").is_none() {
        out.push(Cause::required(
            &format!("{path}.items"),
            "must be specified",
        ));
    }
    if ty.is_empty() && !int_or_string && !embedded && !preserve {
        let what = match level {
            Level::Root => "must not be empty at the root",
            Level::Field => "must not be empty for specified object fields",
            Level::Item => "must not be empty for specified array items",
        };
        out.push(Cause::required(&format!("{path}.type"), what));
    }
    if level == Level::Root && !ty.is_empty() && ty != "object" {
        out.push(Cause::invalid(
            &format!("{path}.type"),
            &Value::String(ty.into()),
            "must be object at the root",
        ));
    }
    if embedded && ty != "object" {
        let field = format!("{path}.type");
        if ty.is_empty() {
            out.push(Cause::required(
                &field,
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            out.push(Cause::invalid(
                &field,
                &Value::String(ty.into()),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    }
    if int_or_string && !ty.is_empty() {
        out.push(Cause::invalid(
            &format!("{path}.type"),
            &Value::String(ty.into()),
            "must be empty if x-kubernetes-int-or-string is true",
        ));
    }
    if s["x-kubernetes-preserve-unknown-fields"] == Value::Bool(false) {
        out.push(Cause::invalid(
            &format!("{path}.x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(false),
            "must be true or undefined",
        ));
    }
    if let Some(p) = s["pattern"].as_str() {
        if let Err(e) = regex::Regex::new(p) {
            // The reason after the colon is the regex crate's, not Go's.
            let why = e.to_string();
            let why = why
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("error: ");
            out.push(Cause::invalid(
                &format!("{path}.pattern"),
                &Value::String(p.into()),
                &format!(
                    "must be a valid regular expression, but isn't: error parsing regexp: {why}"
                ),
            ));
        }
    }
    if flag(s, "uniqueItems") {
        out.push(Cause::forbidden(
            &format!("{path}.uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    if s.get("additionalProperties").is_some() && s.get("properties").is_some() {
        out.push(Cause::forbidden(
            &format!("{path}.additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        ));
    }
    match s["x-kubernetes-list-type"].as_str() {
        Some("map") => {
            if s["x-kubernetes-list-map-keys"]
                .as_array()
                .is_none_or(|k| k.is_empty())
            {
                out.push(Cause::required(
                    &format!("{path}.x-kubernetes-list-map-keys"),
                    "must not be empty if x-kubernetes-list-type is map",
                ));
            }
            if s["items"]["type"] != "object" {
                out.push(Cause::invalid(
                    &format!("{path}.items.type"),
                    &s["items"]["type"],
                    "must be object if parent array's x-kubernetes-list-type is map",
                ));
            }
        }
        Some("set" | "atomic") | None => {}
        Some(other) => out.push(Cause::not_supported(
            &format!("{path}.x-kubernetes-list-type"),
            &Value::String(other.into()),
            &["atomic".into(), "set".into(), "map".into()],
        )),
    }
    for (k, p) in s["properties"].as_object().into_iter().flatten() {
        node(p, &format!("{path}.properties[{k}]"), Level::Field, out);
    }
    if s["additionalProperties"].is_object() {
        node(
            &s["additionalProperties"],
            &format!("{path}.additionalProperties"),
            Level::Field,
            out,
        );
    }
    if s["items"].is_object() {
        node(&s["items"], &format!("{path}.items"), Level::Item, out);
    }
}

/// At the root, metadata may only constrain name and generateName.
fn metadata_at_root(s: &Value, path: &str, out: &mut Vec<Cause>) {
    let Some(meta) = s["properties"].get("metadata") else {
        return;
    };
    let others = meta
        .as_object()
        .into_iter()
        .flatten()
        .any(|(k, _)| !matches!(k.as_str(), "type" | "properties"))
        || meta["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .any(|(k, _)| k != "name" && k != "generateName");
    if others {
        out.push(Cause::forbidden(
            &format!("{path}.properties[metadata]"),
            "must not specify anything other than name and generateName, but metadata is implicitly specified",
        ));
    }
}

/// A default must be valid for its field and hold no field the schema
/// would prune.
fn defaults(s: &Value, node_schema: &Value, path: &str, out: &mut Vec<Cause>) {
    let _ = s;
    if let Some(d) = node_schema.get("default") {
        let field = format!("{path}.default");
        let mut pruned = d.clone();
        let wrapped_schema =
            serde_json::json!({"type": "object", "properties": {"d": node_schema}});
        let mut wrapped = serde_json::json!({ "d": pruned.clone() });
        let dropped = super::prune::prune(&mut wrapped, &wrapped_schema);
        if !dropped.is_empty() {
            pruned = wrapped["d"].take();
            out.push(Cause::invalid(
                &field,
                &pruned,
                &format!(
                    "must not have unknown fields: {}",
                    dropped.join(", ").replace("d.", "")
                ),
            ));
        }
        let mut plain = node_schema.clone();
        if let Some(m) = plain.as_object_mut() {
            m.remove("default");
        }
        let wrapped_schema = serde_json::json!({"type": "object", "properties": {"d": plain}});
        for c in super::validate::validate(&serde_json::json!({ "d": d }), &wrapped_schema) {
            let message = c
                .message
                .replace(" d in body", &format!(" {field} in body"));
            out.push(super::causes::Cause {
                field: field.clone(),
                message,
                ..c
            });
        }
    }
    for (k, p) in node_schema["properties"].as_object().into_iter().flatten() {
        defaults(s, p, &format!("{path}.properties[{k}]"), out);
    }
    if node_schema["additionalProperties"].is_object() {
        defaults(
            s,
            &node_schema["additionalProperties"],
            &format!("{path}.additionalProperties"),
            out,
        );
    }
    if node_schema["items"].is_object() {
        defaults(s, &node_schema["items"], &format!("{path}.items"), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(schema: Value) -> Value {
        json!({"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}]}})
    }

    fn messages(schema: Value) -> Vec<String> {
        check(&crd(schema))
            .into_iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect()
    }

    #[test]
    fn structural_schemas_pass() {
        assert!(messages(json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "port": {"x-kubernetes-int-or-string": true},
                "any": {"x-kubernetes-preserve-unknown-fields": true},
                "size": {"type": "integer", "default": 1},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}}}}}))
        .is_empty());
    }

    #[test]
    fn a_version_needs_a_schema() {
        assert_eq!(
            vec!["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"],
            check(&json!({"spec": {"versions": [{"name": "v1"}]}}))
                .into_iter()
                .map(|c| format!("{}: {}", c.field, c.message))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn every_node_needs_a_type() {
        assert_eq!(
            vec![
                "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root",
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list].items: Required value: must be specified",
            ],
            messages(json!({"properties": {"spec": {"properties": {"list": {"type": "array"}}}}}))
        );
        assert_eq!(
            vec!["spec.versions[0].schema.openAPIV3Schema.type: Invalid value: \"string\": must be object at the root"],
            messages(json!({"type": "string"}))
        );
    }

    #[test]
    fn extensions_are_used_as_allowed() {
        assert_eq!(
            vec![
                "spec.versions[0].schema.openAPIV3Schema.properties[a].type: Invalid value: \"string\": must be empty if x-kubernetes-int-or-string is true",
                "spec.versions[0].schema.openAPIV3Schema.properties[b].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined",
                "spec.versions[0].schema.openAPIV3Schema.properties[c].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
                "spec.versions[0].schema.openAPIV3Schema.properties[d].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map",
            ],
            messages(json!({"type": "object", "properties": {
                "a": {"type": "string", "x-kubernetes-int-or-string": true},
                "b": {"type": "object", "x-kubernetes-preserve-unknown-fields": false},
                "c": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
                "d": {"type": "array", "items": {"type": "object"}, "x-kubernetes-list-type": "map"}}}))
        );
    }

    #[test]
    fn patterns_must_compile() {
        let m = messages(
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "["}}}),
        );
        assert_eq!(1, m.len());
        assert!(
            m[0].starts_with("spec.versions[0].schema.openAPIV3Schema.properties[a].pattern: Invalid value: \"[\": must be a valid regular expression, but isn't: error parsing regexp: "),
            "{m:?}"
        );
    }

    #[test]
    fn defaults_must_validate() {
        assert_eq!(
            vec!["spec.versions[0].schema.openAPIV3Schema.properties[size].default: Invalid value: \"string\": spec.versions[0].schema.openAPIV3Schema.properties[size].default in body must be of type integer: \"string\""],
            messages(json!({"type": "object", "properties": {"size": {"type": "integer", "default": "x"}}}))
        );
    }
}

//! Field errors as apimachinery's `field.Error` words them, and the 422
//! Invalid Status that carries them.

use crate::resources::ResourceInfo;
use crate::store::ApiError;
use serde_json::{json, Value};

/// One `StatusCause`: the reason, the field path and the error body.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cause {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Cause {
    fn new(reason: &'static str, field: &str, message: String) -> Self {
        Cause {
            reason,
            field: field.to_string(),
            message,
        }
    }
    /// `field.Required`: "Required value" and an optional detail.
    pub fn required(field: &str, detail: &str) -> Self {
        let mut m = "Required value".to_string();
        if !detail.is_empty() {
            m = format!("{m}: {detail}");
        }
        Self::new("FieldValueRequired", field, m)
    }
    /// `field.Invalid`: the value as Go prints it, then the detail.
    pub fn invalid(field: &str, value: &Value, detail: &str) -> Self {
        Self::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {}: {detail}", go_value(value)),
        )
    }
    /// `field.TypeInvalid`: worded as Invalid, its own reason.
    pub fn type_invalid(field: &str, value: &Value, detail: &str) -> Self {
        Self::new(
            "FieldValueTypeInvalid",
            field,
            format!("Invalid value: {}: {detail}", go_value(value)),
        )
    }
    /// `field.NotSupported` with the allowed values quoted.
    pub fn not_supported(field: &str, value: &Value, allowed: &[String]) -> Self {
        let quoted: Vec<String> = allowed.iter().map(|s| go_quote(s)).collect();
        Self::new(
            "FieldValueNotSupported",
            field,
            format!(
                "Unsupported value: {}: supported values: {}",
                go_value(value),
                quoted.join(", ")
            ),
        )
    }
    /// `field.TooLong` (1.32): the value is left out.
    pub fn too_long(field: &str, max: i64) -> Self {
        let unit = if max == 1 { "byte" } else { "bytes" };
        Self::new(
            "FieldValueTooLong",
            field,
            format!("Too long: may not be more than {max} {unit}"),
        )
    }
    /// `field.TooMany`: the count, then the limit.
    pub fn too_many(field: &str, actual: usize, max: i64) -> Self {
        Self::new(
            "FieldValueTooMany",
            field,
            format!("Too many: {actual}: must have at most {max} items"),
        )
    }
    /// `field.Duplicate`.
    pub fn duplicate(field: &str, value: &Value) -> Self {
        Self::new(
            "FieldValueDuplicate",
            field,
            format!("Duplicate value: {}", go_value(value)),
        )
    }
    /// `field.Forbidden`.
    pub fn forbidden(field: &str, detail: &str) -> Self {
        Self::new("FieldValueForbidden", field, format!("Forbidden: {detail}"))
    }
}

/// A string as Go's `%q` writes it (JSON escapes agree for printable text).
pub(crate) fn go_quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A JSON number as Go's `%v` writes an int64 or float64.
pub(crate) fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let exp = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    if (-4..21).contains(&exp) {
        format!("{f}")
    } else {
        // Go: 1e+21, 1e-05
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if e.starts_with('-') => format!("{m}e-{:0>2}", &e[1..]),
            Some((m, e)) => format!("{m}e+{e:0>2}"),
            None => s,
        }
    }
}

/// How `field.Error` prints a value: simple types plainly, strings quoted,
/// maps and slices in Go syntax (`%#v`).
pub(crate) fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Number(n) => go_number(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "\"null\"".into(),
        other => go_syntax(other),
    }
}

fn go_syntax(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => go_quote(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_syntax).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(m) => {
            // Go's fmt prints map keys sorted.
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", go_quote(k), go_syntax(&m[k.as_str()])))
                .collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
    }
}

/// `Kind.group "name" is invalid: …` with every cause, as
/// `errors.NewInvalid` builds it (details: name, group, kind, causes).
pub(crate) fn invalid(res: &ResourceInfo, name: &str, causes: &[Cause]) -> ApiError {
    let qualified = if res.group.is_empty() {
        res.kind.to_string()
    } else {
        format!("{}.{}", res.kind, res.group)
    };
    let texts: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let summary = match texts.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("{qualified} \"{name}\" is invalid: {summary}"),
    );
    let mut details = serde_json::Map::new();
    details.insert("name".into(), json!(name));
    if !res.group.is_empty() {
        details.insert("group".into(), json!(res.group));
    }
    details.insert("kind".into(), json!(res.kind));
    details.insert(
        "causes".into(),
        causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect(),
    );
    e.details = Value::Object(details);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_go_prints_them() {
        assert_eq!("\"a\"", go_value(&json!("a")));
        assert_eq!("3", go_value(&json!(3)));
        assert_eq!("1.5", go_value(&json!(1.5)));
        assert_eq!("1e+21", go_value(&json!(1e21)));
        assert_eq!(
            "map[string]interface {}{\"name\":\"a\", \"port\":80}",
            go_value(&json!({"port": 80, "name": "a"}))
        );
        assert_eq!("[]interface {}{\"a\", 1}", go_value(&json!(["a", 1])));
    }

    #[test]
    fn one_cause_or_a_bracketed_list() {
        let res = crate::resources::stored("example.com", "v1", "widgets", "Widget", true);
        let e = invalid(&res, "w", &[Cause::required("spec.a", "")]);
        assert_eq!(
            "Widget.example.com \"w\" is invalid: spec.a: Required value",
            e.message
        );
        let keys: Vec<&String> = e.details.as_object().unwrap().keys().collect();
        assert_eq!(vec!["name", "group", "kind", "causes"], keys);
        let e = invalid(
            &res,
            "w",
            &[Cause::required("spec.a", ""), Cause::too_long("spec.b", 3)],
        );
        assert_eq!("Widget.example.com \"w\" is invalid: [spec.a: Required value, spec.b: Too long: may not be more than 3 bytes]", e.message);
    }
}

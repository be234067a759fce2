//! PatchOptions: the query parameters of a PATCH (`fieldManager`, `force`,
//! `dryRun`), checked as the real server checks them, with its 422.

use crate::store::ApiError;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The longest field manager name the real server takes, in bytes.
const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// The checked options of one PATCH request.
#[derive(Debug)]
pub struct PatchOptions<'a> {
    /// The `fieldManager` parameter, when set and not empty.
    pub field_manager: Option<&'a str>,
    /// `force=true` (apply only).
    pub force: bool,
}

/// One invalid option, as a cause of the 422.
struct FieldError {
    field: &'static str,
    reason: &'static str,
    detail: String,
}

/// Reads and checks the options in `query` of a patch that is an apply
/// (`is_apply`) or not.
pub fn parse(
    query: &HashMap<String, String>,
    is_apply: bool,
) -> Result<PatchOptions<'_>, ApiError> {
    let field_manager = query
        .get("fieldManager")
        .map(String::as_str)
        .filter(|m| !m.is_empty());
    let force = query.get("force").map(|f| parse_bool(f)).transpose()?;
    let mut errors = vec![];
    if is_apply && field_manager.is_none() {
        errors.push(FieldError {
            field: "fieldManager",
            reason: "FieldValueRequired",
            detail: "Required value: is required for apply patch".into(),
        });
    }
    if !is_apply && force.is_some() {
        errors.push(FieldError {
            field: "force",
            reason: "FieldValueForbidden",
            detail: "Forbidden: may not be specified for non-apply patch".into(),
        });
    }
    if let Some(m) = field_manager {
        if m.len() > FIELD_MANAGER_MAX_LENGTH {
            errors.push(FieldError {
                field: "fieldManager",
                reason: "FieldValueTooLong",
                detail: format!("Too long: may not be more than {FIELD_MANAGER_MAX_LENGTH} bytes"),
            });
        }
        if let Some((i, c)) = m.char_indices().find(|(_, c)| c.is_control()) {
            errors.push(FieldError {
                field: "fieldManager",
                reason: "FieldValueInvalid",
                detail: format!(
                    "Invalid value: {m:?}: invalid character U+{:04X} (at position {i})",
                    c as u32
                ),
            });
        }
    }
    if let Some(d) = query.get("dryRun").filter(|d| *d != "All") {
        errors.push(FieldError {
            field: "dryRun",
            reason: "FieldValueNotSupported",
            detail: format!("Unsupported value: []string{{{d:?}}}: supported values: \"All\""),
        });
    }
    if errors.is_empty() {
        Ok(PatchOptions {
            field_manager,
            force: force.unwrap_or(false),
        })
    } else {
        Err(invalid(&errors))
    }
}

/// A boolean query parameter, spelled as Go's strconv.ParseBool takes it.
fn parse_bool(v: &str) -> Result<bool, ApiError> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(ApiError::new(
            400,
            "BadRequest",
            format!("strconv.ParseBool: parsing {v:?}: invalid syntax"),
        )),
    }
}

/// The real server's 422 for invalid PatchOptions: one error is named in
/// the message, several are listed in brackets.
fn invalid(errors: &[FieldError]) -> ApiError {
    let described: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.detail))
        .collect();
    let list = match described.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("PatchOptions.meta.k8s.io \"\" is invalid: {list}"),
    );
    let causes: Vec<Value> = errors
        .iter()
        .map(|e| json!({"reason": e.reason, "message": e.detail, "field": e.field}))
        .collect();
    e.details = json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": causes});
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn apply_needs_a_field_manager() {
        let e = parse(&query(&[]), true).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        );
        assert_eq!(
            e.details["causes"],
            json!([{"reason": "FieldValueRequired",
                    "message": "Required value: is required for apply patch",
                    "field": "fieldManager"}])
        );
        assert_eq!(e.details["group"], "meta.k8s.io");
        assert!(parse(&query(&[("fieldManager", "")]), true).is_err());
    }

    #[test]
    fn force_is_only_for_apply_and_parsed_as_go_does() {
        let e = parse(&query(&[("force", "true")]), false).unwrap_err();
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
        );
        let q = query(&[("fieldManager", "m"), ("force", "True")]);
        assert!(parse(&q, true).unwrap().force);
        let q = query(&[("fieldManager", "m"), ("force", "0")]);
        assert!(!parse(&q, true).unwrap().force);
        let q = query(&[("fieldManager", "m"), ("force", "yes")]);
        assert_eq!(parse(&q, true).unwrap_err().code, 400);
    }

    #[test]
    fn field_manager_must_be_short_and_printable() {
        let long = "m".repeat(129);
        let e = parse(&query(&[("fieldManager", &long)]), false).unwrap_err();
        assert!(e
            .message
            .ends_with("fieldManager: Too long: may not be more than 128 bytes"));
        let e = parse(&query(&[("fieldManager", "a\u{1}")]), false).unwrap_err();
        assert!(
            e.message
                .contains("invalid character U+0001 (at position 1)"),
            "{}",
            e.message
        );
        let q = query(&[("fieldManager", "kubectl-patch")]);
        assert_eq!(
            parse(&q, false).unwrap().field_manager,
            Some("kubectl-patch")
        );
    }

    #[test]
    fn dry_run_must_be_all() {
        assert!(parse(&query(&[("dryRun", "All")]), false).is_ok());
        let e = parse(&query(&[("dryRun", "Some")]), false).unwrap_err();
        assert!(e
            .message
            .ends_with("dryRun: Unsupported value: []string{\"Some\"}: supported values: \"All\""));
    }

    #[test]
    fn several_errors_are_listed() {
        let e = parse(&query(&[("dryRun", "x")]), true).unwrap_err();
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: [fieldManager: Required value: is required \
             for apply patch, dryRun: Unsupported value: []string{\"x\"}: supported values: \"All\"]"
        );
        assert_eq!(e.details["causes"].as_array().unwrap().len(), 2);
    }
}

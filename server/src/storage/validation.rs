//! Object name validation with the real server's messages (422 Invalid).

use crate::resources::ResourceInfo;
use crate::store::ApiError;
use serde_json::json;

/// A 422 Invalid for one field, shaped as the real server's.
pub fn invalid(
    res: &ResourceInfo,
    name: &str,
    field: &str,
    reason: &str,
    detail: &str,
) -> ApiError {
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("{} \"{name}\" is invalid: {field}: {detail}", res.kind),
    );
    e.details = json!({"name": name, "kind": res.kind,
        "causes": [{"reason": reason, "message": detail, "field": field}]});
    if !res.group.is_empty() {
        e.details["group"] = json!(res.group);
    }
    e
}

fn is_label(s: &str, first_alpha: bool) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && if first_alpha {
            b[0].is_ascii_lowercase()
        } else {
            b[0] != b'-'
        }
        && b[b.len() - 1] != b'-'
}

fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|l| is_label(l, false))
}

/// Namespaces are RFC 1123 labels, services RFC 1035 labels, the rest
/// RFC 1123 subdomains.
pub fn check_name(res: &ResourceInfo, name: &str) -> Result<(), ApiError> {
    let core = res.group.is_empty();
    let problem = if core && res.plural == "namespaces" {
        (!is_label(name, false)).then_some("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    } else if res.group == "apiregistration.k8s.io" {
        // `VERSION.GROUP`; the core group's is `v1.`.
        let (v, g) = name.split_once('.').unwrap_or((name, "x"));
        (!is_label(v, false) || (!g.is_empty() && !is_subdomain(g)))
            .then_some("must be in the form version.group")
    } else if core && res.plural == "services" {
        (!is_label(name, true)).then_some("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
    } else {
        (!is_subdomain(name)).then_some("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    };
    match problem {
        None => Ok(()),
        Some(why) => Err(invalid(
            res,
            name,
            "metadata.name",
            "FieldValueInvalid",
            &format!("Invalid value: \"{name}\": {why}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cm = crate::resources::find("", "v1", "configmaps").unwrap();
        let svc = crate::resources::find("", "v1", "services").unwrap();
        let ns = crate::resources::find("", "v1", "namespaces").unwrap();
        assert!(check_name(cm, "a.b-c").is_ok());
        assert!(check_name(cm, "Foo").is_err() && check_name(cm, "-a").is_err());
        assert!(check_name(ns, "a.b").is_err() && check_name(ns, "a-1").is_ok());
        assert!(check_name(svc, "1a").is_err() && check_name(svc, "a1").is_ok());
        let e = check_name(cm, "Foo").unwrap_err();
        assert_eq!(422, e.code);
        assert!(e.message.starts_with("ConfigMap \"Foo\" is invalid: metadata.name: Invalid value: \"Foo\": a lowercase RFC 1123 subdomain"));
    }
}

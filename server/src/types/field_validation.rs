//! `fieldValidation` for built-in kinds, as kube-apiserver 1.32 decodes a
//! body: fields the kind's schema does not have are dropped from what is
//! stored, and reported per the request's `fieldValidation`: `Ignore`
//! (silently), `Warn` (the default: one `Warning: 299 - "unknown field
//! \"spec.foo\""` header each) or `Strict` (400 BadRequest `strict decoding
//! error: unknown field "spec.foo", ...`). The schemas are the upstream
//! protobuf messages the server already decodes protobuf bodies with
//! (protobuf.rs): a JSON field is known when its message has a field of that
//! name (the Kubernetes messages name their fields as the JSON does).
//! Custom resources are pruned by their CRD's schema elsewhere.

use crate::resources::ResourceInfo;
use crate::store::ApiError;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;
use std::collections::HashMap;

/// Messages whose JSON form is not their fields: no unknown fields inside.
const OPAQUE: &[&str] = &[
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Ignore,
    Warn,
    Strict,
}

fn mode(query: &HashMap<String, String>) -> Result<Mode, ApiError> {
    match query.get("fieldValidation").map(String::as_str) {
        None | Some("") | Some("Warn") => Ok(Mode::Warn),
        Some("Ignore") => Ok(Mode::Ignore),
        Some("Strict") => Ok(Mode::Strict),
        Some(other) => Err(ApiError::bad_request(format!(
            "fieldValidation parameter unsupported: {other}"
        ))),
    }
}

/// Drops the fields `obj` (a built-in kind's object) has that its schema
/// does not, and answers the warnings to send, or the Strict 400.
pub fn check(
    res: &ResourceInfo,
    obj: &mut Value,
    query: &HashMap<String, String>,
) -> Result<Vec<String>, ApiError> {
    let mode = mode(query)?;
    if crate::registry::is_custom(res) {
        return Ok(vec![]);
    }
    let Ok(desc) = crate::protobuf::descriptor_for(&res.group_version(), res.kind) else {
        return Ok(vec![]);
    };
    let mut unknown = vec![];
    if let Some(m) = obj.as_object_mut() {
        m.retain(|k, v| match k.as_str() {
            "apiVersion" | "kind" => true,
            _ => match find_field(&desc, k) {
                Some(f) => {
                    walk_field(&f.kind(), f.is_list(), f.is_map(), v, k, &mut unknown);
                    true
                }
                None => {
                    unknown.push(k.clone());
                    false
                }
            },
        });
    }
    let messages: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    match mode {
        Mode::Strict if !messages.is_empty() => Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            messages.join(", ")
        ))),
        Mode::Warn => Ok(messages),
        _ => Ok(vec![]),
    }
}

fn walk_field(
    kind: &Kind,
    list: bool,
    map: bool,
    v: &mut Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let Kind::Message(d) = kind else { return };
    if map {
        let value = d.map_entry_value_field();
        if let (Kind::Message(_), Some(m)) = (value.kind(), v.as_object_mut()) {
            for (k, item) in m.iter_mut() {
                walk_field(
                    &value.kind(),
                    false,
                    false,
                    item,
                    &format!("{path}[{k}]"),
                    out,
                );
            }
        }
    } else if list {
        for (i, item) in v.as_array_mut().into_iter().flatten().enumerate() {
            walk_message(d, item, &format!("{path}[{i}]"), out);
        }
    } else {
        walk_message(d, v, path, out);
    }
}

fn walk_message(d: &MessageDescriptor, v: &mut Value, path: &str, out: &mut Vec<String>) {
    if OPAQUE.contains(&d.full_name()) {
        return;
    }
    let Some(m) = v.as_object_mut() else { return };
    m.retain(|k, v| match find_field(d, k) {
        Some(f) => {
            walk_field(
                &f.kind(),
                f.is_list(),
                f.is_map(),
                v,
                &format!("{path}.{k}"),
                out,
            );
            true
        }
        None => {
            out.push(format!("{path}.{k}"));
            false
        }
    });
}

/// The field `name` of `d`, or of a struct Go embeds inline in it (its
/// protobuf message has it as one field: `Volume.volumeSource`,
/// `SecretKeySelector.localObjectReference`, `Probe.handler`, ...). A
/// singular message field named after its own type is taken for such an
/// embedding: at worst a misspelling there goes unreported.
fn find_field(d: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    if let Some(f) = d.get_field_by_name(name) {
        return Some(f);
    }
    d.fields()
        .filter(|f| !f.is_list() && !f.is_map())
        .filter_map(|f| match f.kind() {
            Kind::Message(m) if f.name() == "handler" || f.name() == lower_first(m.name()) => {
                Some(m)
            }
            _ => None,
        })
        .find_map(|m| find_field(&m, name))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The header value for one warning: `299 - "text"` with the text quoted
/// as Go's `%q` does for printable ASCII.
pub fn warning_header(text: &str) -> String {
    let mut q = String::from("299 - \"");
    for c in text.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_ascii_graphic() || c == ' ' => q.push(c),
            c => q.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(mode: &str) -> HashMap<String, String> {
        HashMap::from([("fieldValidation".to_string(), mode.to_string())])
    }
    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "nope": 1,
            "metadata": {"name": "web", "labels": {"a": "b"}, "bogus": true},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [
                    {"name": "c", "image": "nginx", "imagePullPolicyy": "Always",
                     "resources": {"limits": {"cpu": "1"}}, "ports": [{"containerPort": 80}]}]}}}})
    }
    fn res() -> &'static ResourceInfo {
        crate::resources::find("apps", "v1", "deployments").unwrap()
    }

    /// kube-apiserver 1.32 answers a create with `?fieldValidation=Strict`
    /// and a misspelt field with 400 `strict decoding error: unknown field
    /// "spec.template.spec.containers[0].imagePullPolicyy"`.
    #[test]
    fn strict_is_a_bad_request_naming_every_field() {
        let e = check(res(), &mut deployment(), &q("Strict")).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(e.reason, "BadRequest");
        assert_eq!(
            e.message,
            "strict decoding error: unknown field \"nope\", unknown field \"metadata.bogus\", unknown field \"spec.template.spec.containers[0].imagePullPolicyy\""
        );
    }

    #[test]
    fn warn_is_the_default_and_drops_the_fields() {
        let mut d = deployment();
        let w = check(res(), &mut d, &HashMap::new()).unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(
            w[2],
            "unknown field \"spec.template.spec.containers[0].imagePullPolicyy\""
        );
        assert!(d.get("nope").is_none() && d["metadata"].get("bogus").is_none());
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert!(c.get("imagePullPolicyy").is_none());
        assert_eq!(c["resources"]["limits"]["cpu"], "1");
        assert_eq!(d["metadata"]["labels"]["a"], "b");
        assert_eq!(warning_header(&w[0]), r#"299 - "unknown field \"nope\"""#);
    }

    /// Fields of structs Go embeds inline: a Volume's source, a key
    /// selector's name, an IngressRule's http, a Probe's handler.
    #[test]
    fn inline_members_are_known() {
        let pod = crate::resources::find("", "v1", "pods").unwrap();
        let mut p = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x",
            "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}],
            "volumes": [{"name": "v", "configMap": {"name": "cm"}}, {"name": "w", "hostPath": {"path": "/x"}}]}});
        let before = p.clone();
        assert!(check(pod, &mut p, &q("Strict")).unwrap().is_empty());
        assert_eq!(p, before);
        let ing = crate::resources::find("networking.k8s.io", "v1", "ingresses").unwrap();
        let mut i = json!({"metadata": {"name": "i"}, "spec": {"rules": [{"host": "a", "http": {"paths": []}}]}});
        assert!(check(ing, &mut i, &q("Strict")).unwrap().is_empty());
        let mut bad = json!({"metadata": {"name": "p"}, "spec": {"volumes": [{"name": "v", "configMapp": {}}]}});
        assert_eq!(
            check(pod, &mut bad, &q("Strict")).unwrap_err().message,
            "strict decoding error: unknown field \"spec.volumes[0].configMapp\""
        );
    }

    #[test]
    fn ignore_drops_silently_and_known_objects_pass() {
        let mut d = deployment();
        assert!(check(res(), &mut d, &q("Ignore")).unwrap().is_empty());
        assert!(check(res(), &mut d, &q("Strict")).unwrap().is_empty());
        assert_eq!(check(res(), &mut d, &q("Loose")).unwrap_err().code, 400);
    }
}

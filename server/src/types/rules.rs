//! Validation of built-in types as kube-apiserver 1.32 does it on a user's
//! create and update: required fields and formats (labels, containers, ports,
//! a workload's selector and template) and immutable fields (a workload's
//! selector, a Job's template, a Service's cluster IP, ConfigMaps and Secrets
//! marked `immutable`, a Pod's spec beyond what may change). Every problem is
//! one cause of a 422 Invalid worded as the real server words it; several are
//! reported together as `[a, b]`.
//!
//! Where the real message prints a Go value with `%#v`, label selectors and
//! label maps are printed the same way; larger values (a whole pod template,
//! a pod spec diff) are left out of the message.

use crate::resources::ResourceInfo;
use crate::selectors::LabelSelector;
use crate::store::ApiError;
use serde_json::{json, Map, Value};

/// One field error: reason, field path and the text after the path.
struct Cause {
    reason: &'static str,
    field: String,
    detail: String,
}

#[derive(Default)]
struct Errors(Vec<Cause>);

impl Errors {
    fn required(&mut self, field: impl Into<String>) {
        self.push("FieldValueRequired", field, "Required value".into());
    }
    fn invalid(&mut self, field: impl Into<String>, value: &str, why: &str) {
        self.push(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {value}: {why}"),
        );
    }
    fn forbidden(&mut self, field: impl Into<String>, why: &str) {
        self.push("FieldValueForbidden", field, format!("Forbidden: {why}"));
    }
    fn push(&mut self, reason: &'static str, field: impl Into<String>, detail: String) {
        self.0.push(Cause {
            reason,
            field: field.into(),
            detail,
        });
    }
    /// The 422 for `name` of `res`, or nothing when no rule failed.
    fn into_result(self, res: &ResourceInfo, name: &str) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let each: Vec<String> = self
            .0
            .iter()
            .map(|c| format!("{}: {}", c.field, c.detail))
            .collect();
        let all = if each.len() == 1 {
            each[0].clone()
        } else {
            format!("[{}]", each.join(", "))
        };
        let kind = if res.group.is_empty() {
            res.kind.to_string()
        } else {
            format!("{}.{}", res.kind, res.group)
        };
        let mut e = ApiError::new(
            422,
            "Invalid",
            format!("{kind} \"{name}\" is invalid: {all}"),
        );
        let causes: Vec<Value> = self
            .0
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.detail, "field": c.field}))
            .collect();
        e.details = json!({"name": name});
        if !res.group.is_empty() {
            e.details["group"] = json!(res.group);
        }
        e.details["kind"] = json!(res.kind);
        e.details["causes"] = json!(causes);
        Err(e)
    }
}

/// Whether the body decodes as the kind at all: when it does not, the
/// store's own check answers 400 as the real decoder does, before any rule.
fn decodes(obj: &Value) -> bool {
    obj.is_object()
        && ["metadata", "spec", "status"].iter().all(|k| {
            matches!(
                obj.get(*k),
                None | Some(Value::Null) | Some(Value::Object(_))
            )
        })
}

/// The checks of a new object (as the client sent it).
pub fn on_create(res: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    if !decodes(obj) {
        return Ok(());
    }
    let mut errs = Errors::default();
    metadata(obj, &mut errs);
    spec(res, obj, &mut errs);
    errs.into_result(res, obj["metadata"]["name"].as_str().unwrap_or(""))
}

/// The checks of an update of `old` (stored) to `new` through the main
/// resource (not a subresource).
pub fn on_update(res: &ResourceInfo, old: &Value, new: &Value) -> Result<(), ApiError> {
    if !decodes(new) {
        return Ok(());
    }
    let mut errs = Errors::default();
    metadata(new, &mut errs);
    spec(res, new, &mut errs);
    immutable(res, old, new, &mut errs);
    errs.into_result(res, old["metadata"]["name"].as_str().unwrap_or(""))
}

fn metadata(obj: &Value, errs: &mut Errors) {
    labels(&obj["metadata"]["labels"], "metadata.labels", errs);
}

fn labels(labels: &Value, field: &str, errs: &mut Errors) {
    let Some(m) = labels.as_object() else { return };
    for (k, v) in m {
        if let Some(why) = qualified_name_problem(k) {
            errs.invalid(field, &quote(k), why);
        }
        match v.as_str() {
            Some(v) => {
                if let Some(why) = label_value_problem(v) {
                    errs.invalid(field, &quote(v), why);
                }
            }
            None => errs.invalid(field, &v.to_string(), "must be a string"),
        }
    }
}

const LABEL_VALUE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_PART: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const PREFIX: &str = "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const PORT_RANGE: &str = "must be between 1 and 65535, inclusive";

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn label_value_problem(v: &str) -> Option<&'static str> {
    if v.len() > 63 {
        Some("must be no more than 63 characters")
    } else if !v.is_empty() && !is_name_part(v) {
        Some(LABEL_VALUE)
    } else {
        None
    }
}

fn qualified_name_problem(k: &str) -> Option<&'static str> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("prefix part must be non-empty");
        }
        if p.len() > 253 || !p.split('.').all(is_dns_label) {
            return Some(PREFIX);
        }
    }
    if name.is_empty() {
        Some("name part must be non-empty")
    } else if name.len() > 63 {
        Some("name part must be no more than 63 characters")
    } else if !is_name_part(name) {
        Some(NAME_PART)
    } else {
        None
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Where a kind keeps its pod template, if it has one.
fn template_path(res: &ResourceInfo) -> Option<&'static [&'static str]> {
    match (res.group, res.kind) {
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("", "ReplicationController")
        | ("batch", "Job") => Some(&["spec", "template"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

fn spec(res: &ResourceInfo, obj: &Value, errs: &mut Errors) {
    match (res.group, res.kind) {
        ("", "Pod") => pod_spec(&obj["spec"], "spec", errs),
        ("", "Service") => service(obj, errs),
        _ => {}
    }
    let Some(path) = template_path(res) else {
        return;
    };
    let field = path.join(".");
    let template = at(obj, path);
    labels(
        &template["metadata"]["labels"],
        &format!("{field}.metadata.labels"),
        errs,
    );
    if res.group == "apps" {
        selector_matches(obj, template, &field, errs);
    }
    pod_spec(&template["spec"], &format!("{field}.spec"), errs);
}

/// apps/v1 workloads need a selector that selects their template's labels.
fn selector_matches(obj: &Value, template: &Value, field: &str, errs: &mut Errors) {
    let Some(selector) = LabelSelector::from_object(&obj["spec"]["selector"]) else {
        errs.required("spec.selector");
        return;
    };
    let template_labels = &template["metadata"]["labels"];
    if !selector.matches_labels(template_labels) {
        errs.invalid(
            format!("{field}.metadata.labels"),
            &go_string_map(template_labels.as_object()),
            "`selector` does not match template `labels`",
        );
    }
}

fn pod_spec(spec: &Value, field: &str, errs: &mut Errors) {
    let containers = spec["containers"].as_array().filter(|c| !c.is_empty());
    match containers {
        None => errs.required(format!("{field}.containers")),
        Some(cs) => containers_of(cs, &format!("{field}.containers"), errs),
    }
    if let Some(cs) = spec["initContainers"].as_array() {
        containers_of(cs, &format!("{field}.initContainers"), errs);
    }
}

fn containers_of(cs: &[Value], field: &str, errs: &mut Errors) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        let at = format!("{field}[{i}]");
        match c["name"].as_str().filter(|n| !n.is_empty()) {
            None => errs.required(format!("{at}.name")),
            Some(n) if !is_dns_label(n) => errs.invalid(format!("{at}.name"), &quote(n), DNS_LABEL),
            Some(n) if seen.contains(&n) => errs.push(
                "FieldValueDuplicate",
                format!("{at}.name"),
                format!("Duplicate value: {}", quote(n)),
            ),
            Some(n) => seen.push(n),
        }
        if c["image"].as_str().is_none_or(|i| i.trim().is_empty()) {
            errs.required(format!("{at}.image"));
        }
        for (j, p) in c["ports"].as_array().into_iter().flatten().enumerate() {
            port(
                &p["containerPort"],
                &format!("{at}.ports[{j}].containerPort"),
                errs,
            );
        }
    }
}

/// A port number: required, 1 to 65535.
fn port(v: &Value, field: &str, errs: &mut Errors) {
    match v.as_i64() {
        None | Some(0) => errs.required(field),
        Some(n) if !(1..=65535).contains(&n) => errs.invalid(field, &n.to_string(), PORT_RANGE),
        Some(_) => {}
    }
}

fn service(obj: &Value, errs: &mut Errors) {
    let spec = &obj["spec"];
    let external = spec["type"] == "ExternalName";
    let headless = spec["clusterIP"] == "None";
    let ports = spec["ports"].as_array().filter(|p| !p.is_empty());
    match ports {
        None if !external && !headless => errs.required("spec.ports"),
        None => {}
        Some(ps) => {
            for (i, p) in ps.iter().enumerate() {
                port(&p["port"], &format!("spec.ports[{i}].port"), errs);
            }
        }
    }
}

fn immutable(res: &ResourceInfo, old: &Value, new: &Value, errs: &mut Errors) {
    const FIXED: &str = "field is immutable";
    match (res.group, res.kind) {
        ("apps", _) if template_path(res).is_some() => {
            let (a, b) = (&old["spec"]["selector"], &new["spec"]["selector"]);
            if !b.is_null() && a != b {
                errs.invalid("spec.selector", &go_selector(b), FIXED);
            }
        }
        ("batch", "Job") => {
            let (a, b) = (&old["spec"]["selector"], &new["spec"]["selector"]);
            if !b.is_null() && a != b {
                errs.invalid("spec.selector", &go_selector(b), FIXED);
            }
            if !new["spec"]["template"].is_null()
                && old["spec"]["template"] != new["spec"]["template"]
            {
                errs.invalid("spec.template", "core.PodTemplateSpec{…}", FIXED);
            }
        }
        ("", "ConfigMap" | "Secret") if old["immutable"] == true => {
            const WHY: &str = "field is immutable when `immutable` is set";
            if new["immutable"] != true {
                errs.forbidden("immutable", WHY);
            }
            for k in ["data", "binaryData", "stringData"] {
                if !new[k].is_null() && new[k] != old[k] {
                    errs.forbidden(k, WHY);
                }
            }
        }
        ("", "Service") => {
            let (a, b) = (
                old["spec"]["clusterIP"].as_str(),
                new["spec"]["clusterIP"].as_str(),
            );
            if let (Some(a), Some(b)) = (a, b) {
                let allocated = |ip: &str| !ip.is_empty() && ip != "None";
                if allocated(a) && allocated(b) && a != b {
                    errs.invalid(
                        "spec.clusterIPs[0]",
                        &format!("[]string{{{}}}", quote(b)),
                        "may not change once set",
                    );
                }
            }
        }
        ("", "Pod") => pod_update(&old["spec"], &new["spec"], errs),
        _ => {}
    }
    if res.group.is_empty() && res.kind == "Secret" {
        if let (Some(a), Some(b)) = (old["type"].as_str(), new["type"].as_str()) {
            if a != b {
                errs.invalid("type", &quote(b), FIXED);
            }
        }
    }
}

/// A pod's spec may change only in its containers' images, the active
/// deadline, added tolerations and a negative grace period set to 1. Fields
/// the new spec leaves out count as unchanged (the real server defaults them
/// first).
fn pod_update(old: &Value, new: &Value, errs: &mut Errors) {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return;
    };
    let changed = n.iter().any(|(k, v)| match k.as_str() {
        "activeDeadlineSeconds" => false,
        "containers" | "initContainers" => containers_changed(&o[k], v),
        "tolerations" => {
            let before = o
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let after = v.as_array().cloned().unwrap_or_default();
            !before.iter().all(|t| after.contains(t))
        }
        "terminationGracePeriodSeconds" => {
            o.get(k) != Some(v)
                && !(o.get(k).and_then(Value::as_i64).is_some_and(|g| g < 0) && v == 1)
        }
        _ => o.get(k) != Some(v),
    });
    if changed {
        errs.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)");
    }
}

fn containers_changed(old: &Value, new: &Value) -> bool {
    let (Some(o), Some(n)) = (old.as_array(), new.as_array()) else {
        return old != new;
    };
    o.len() != n.len()
        || o.iter().zip(n).any(|(a, b)| {
            b.as_object()
                .into_iter()
                .flatten()
                .any(|(k, v)| k != "image" && a.get(k) != Some(v))
        })
}

/// A label map as Go's `%#v` prints a `map[string]string`: keys sorted.
fn go_string_map(m: Option<&Map<String, Value>>) -> String {
    let Some(m) = m else {
        return "map[string]string(nil)".into();
    };
    let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{}", quote(k), quote(v.as_str().unwrap_or(""))))
        .collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// A label selector as Go's `%#v` prints a `v1.LabelSelector`.
fn go_selector(s: &Value) -> String {
    let labels = go_string_map(s["matchLabels"].as_object());
    let exprs = match s["matchExpressions"].as_array() {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(es) => {
            let each: Vec<String> = es
                .iter()
                .map(|e| {
                    let values = match e["values"].as_array() {
                        None => "[]string(nil)".to_string(),
                        Some(vs) => format!(
                            "[]string{{{}}}",
                            vs.iter()
                                .map(|v| quote(v.as_str().unwrap_or("")))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{values}}}",
                        quote(e["key"].as_str().unwrap_or("")),
                        quote(e["operator"].as_str().unwrap_or(""))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", each.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(group: &str, plural: &str) -> &'static ResourceInfo {
        crate::resources::find(group, "v1", plural).expect("a built-in resource")
    }
    fn status(e: ApiError) -> String {
        e.status().to_string()
    }

    /// kube-apiserver 1.32, `POST /api/v1/namespaces/default/pods` with
    /// `{"metadata":{"name":"bad"},"spec":{"containers":[]}}`.
    #[test]
    fn pod_without_containers() {
        let e = on_create(
            res("", "pods"),
            &json!({"metadata": {"name": "bad"}, "spec": {"containers": []}}),
        )
        .unwrap_err();
        assert_eq!(
            status(e),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Pod \"bad\" is invalid: spec.containers: Required value","reason":"Invalid","details":{"name":"bad","kind":"Pod","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers"}]},"code":422}"#
        );
    }

    /// Several causes: `[a, b]` in the message, one cause each.
    #[test]
    fn container_name_image_and_port() {
        let pod = json!({"metadata": {"name": "p", "labels": {"app": "bad value"}},
            "spec": {"containers": [{"name": "Web", "ports": [{"containerPort": 70000}]}]}});
        let e = on_create(res("", "pods"), &pod).unwrap_err();
        assert_eq!(e.code, 422);
        let fields: Vec<&str> = e.details["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "metadata.labels",
                "spec.containers[0].name",
                "spec.containers[0].image",
                "spec.containers[0].ports[0].containerPort"
            ]
        );
        assert!(e.message.starts_with(
            "Pod \"p\" is invalid: [metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string"
        ));
        assert!(e.message.ends_with(
            "spec.containers[0].image: Required value, spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive]"
        ));
    }

    #[test]
    fn label_keys() {
        assert!(qualified_name_problem("app.kubernetes.io/name").is_none());
        assert_eq!(qualified_name_problem("bad key"), Some(NAME_PART));
        assert_eq!(qualified_name_problem("Bad_Prefix/x"), Some(PREFIX));
        assert!(
            label_value_problem("").is_none() && label_value_problem(&"a".repeat(64)).is_some()
        );
    }

    fn deployment(app: &str, template: &str) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": template}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    }

    /// The message kubectl shows for a changed Deployment selector.
    #[test]
    fn deployment_selector() {
        let d = res("apps", "deployments");
        assert!(on_create(d, &deployment("web", "web")).is_ok());
        let e = on_create(d, &deployment("web", "other")).unwrap_err();
        assert_eq!(
            e.message,
            "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
        );
        let e = on_update(d, &deployment("web", "web"), &deployment("other", "other")).unwrap_err();
        assert_eq!(
            e.message,
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"other\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        );
        assert_eq!(e.details["group"], "apps");
    }

    #[test]
    fn immutable_configmap() {
        let cm = res("", "configmaps");
        let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
        let new = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "2"}});
        let e = on_update(cm, &old, &new).unwrap_err();
        assert_eq!(
            e.message,
            "ConfigMap \"c\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
        );
        assert!(on_update(cm, &old, &old).is_ok());
        let labelled = json!({"metadata": {"name": "c", "labels": {"a": "b"}}, "immutable": true, "data": {"a": "1"}});
        assert!(
            on_update(cm, &old, &labelled).is_ok(),
            "metadata may change"
        );
    }

    #[test]
    fn service_cluster_ip_and_ports() {
        let svc = res("", "services");
        let old = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}]}});
        let new = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.0.11", "ports": [{"port": 80}]}});
        let e = on_update(svc, &old, &new).unwrap_err();
        assert_eq!(
            e.message,
            "Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set"
        );
        let no_ports = json!({"metadata": {"name": "s"}, "spec": {}});
        assert_eq!(
            on_create(svc, &no_ports).unwrap_err().message,
            "Service \"s\" is invalid: spec.ports: Required value"
        );
        let external = json!({"metadata": {"name": "s"}, "spec": {"type": "ExternalName", "externalName": "x.example"}});
        assert!(on_create(svc, &external).is_ok());
    }

    #[test]
    fn pod_updates() {
        let p = res("", "pods");
        let old = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x:1"}], "nodeName": "n"}});
        let image = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x:2"}], "nodeName": "n"}});
        assert!(on_update(p, &old, &image).is_ok());
        let command = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x:1", "command": ["sh"]}]}});
        let e = on_update(p, &old, &command).unwrap_err();
        assert!(e.message.starts_with("Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"));
    }

    #[test]
    fn job_template() {
        let j = res("batch", "jobs");
        let job = |image: &str| json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}}});
        let e = on_update(j, &job("a"), &job("b")).unwrap_err();
        assert_eq!(e.details["causes"][0]["field"], "spec.template");
        assert!(e.message.ends_with(": field is immutable"));
    }
}

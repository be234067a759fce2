//! PATCH: the content types the API server accepts and how each applies,
//! with the real server's checks, codes and messages.
//!
//! - `application/json-patch+json` (RFC 6902): a failed `test` or a bad path
//!   is a 422 Invalid with the real server's generic message.
//! - `application/merge-patch+json` (RFC 7386).
//! - `application/strategic-merge-patch+json` (see `strategic_merge`), for
//!   built-in kinds only: custom resources answer 415 like the real server.
//! - `application/apply-patch+yaml`: server-side apply (see `apply`), which
//!   creates the object when it is missing.
//!
//! Every patch records its writer in `metadata.managedFields` (the
//! `fieldManager` query parameter, else "unknown"; the real server falls
//! back to the user agent). Through the status subresource only the status
//! is stored, so such writes leave managedFields as they were.

mod apply;
mod fieldpath;
pub(crate) mod merge_keys;
mod options;
mod strategic_merge;

use crate::resources::ResourceInfo;
use crate::store::ApiError;
use apply::{Scope, Writer};
use merge_keys::{is_built_in_group, UNKNOWN_KIND};
use serde_json::{json, Value};
use std::collections::HashMap;

const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const STRATEGIC_MERGE_PATCH: &str = "application/strategic-merge-patch+json";
const APPLY_PATCH: &str = "application/apply-patch+yaml";

/// The manager of a write that does not name one.
pub const DEFAULT_MANAGER: &str = "unknown";

/// The object a PATCH request addresses.
pub struct Target<'a> {
    pub resource: &'a ResourceInfo,
    pub name: &'a str,
    pub subresource: Option<&'a str>,
}

/// What the store should do with a patched object.
#[derive(Debug)]
pub enum Patched {
    /// Server-side apply of a missing object: create it (201).
    Create(Value),
    /// Replace the current object with this one (200).
    Update(Value),
}

/// Patches `current` (None when the object does not exist) with the request
/// body `body` of type `content_type`; `query` carries `fieldManager` and
/// `force`.
pub fn patch(
    current: Option<Value>,
    target: &Target,
    content_type: &str,
    body: &[u8],
    query: &HashMap<String, String>,
) -> Result<Patched, ApiError> {
    let res = target.resource;
    let media_type = accepted_media_type(content_type, is_built_in_group(res.group))?;
    let is_apply = media_type == APPLY_PATCH;
    let options = options::parse(query, is_apply)?;
    let api_version = res.group_version();
    let manager = options.field_manager.unwrap_or(DEFAULT_MANAGER);
    let writer = writer(target, manager, &api_version);
    let current = match current {
        Some(c) => c,
        None if is_apply && target.subresource.is_none() => {
            let config = apply_config(body, target)?;
            return apply::apply(None, &config, &writer, false).map(Patched::Create);
        }
        None => return Err(ApiError::not_found(res, target.name)),
    };
    if is_apply {
        let config = apply_config(body, target)?;
        return apply::apply(Some(&current), &config, &writer, options.force).map(Patched::Update);
    }
    let mut patched = current.clone();
    apply_patch_body(&mut patched, media_type, body, writer.kind)?;
    check_shape(&patched, res.kind)?;
    record_write(&current, &mut patched, target, query);
    Ok(Patched::Update(patched))
}

/// Patches `view`, an object of kind `view_kind` that the server makes
/// from a stored object for a subresource (the autoscaling/v1 Scale of
/// `/scale`), and gives the patched view back for the subresource to store.
/// A view keeps no managedFields, so an apply merges its configuration into
/// the view as strategic merge does (the real server tracks ownership
/// through the view).
pub fn patch_view(
    view: Value,
    view_kind: &str,
    content_type: &str,
    body: &[u8],
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let media_type = accepted_media_type(content_type, true)?;
    let is_apply = media_type == APPLY_PATCH;
    options::parse(query, is_apply)?;
    let mut patched = view;
    if is_apply {
        let config: Value = serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
        check_shape(&config, view_kind)?;
        strategic_merge::apply(&mut patched, &config, view_kind)?;
    } else {
        apply_patch_body(&mut patched, media_type, body, view_kind)?;
    }
    check_shape(&patched, view_kind)?;
    Ok(patched)
}

/// The media type of `content_type` (parameters dropped) if the server
/// takes it for PATCH; strategic merge only for built-in kinds.
fn accepted_media_type(content_type: &str, built_in: bool) -> Result<&'static str, ApiError> {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    let accepted: &[&'static str] = if built_in {
        &[JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH]
    } else {
        &[JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
    };
    accepted
        .iter()
        .find(|a| **a == media_type)
        .copied()
        .ok_or_else(|| {
            ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: {}",
                    accepted.join(", ")
                ),
            )
        })
}

/// Applies a JSON patch, merge patch or strategic merge patch `body` of
/// type `media_type` to `obj`, an object of kind `kind`.
fn apply_patch_body(
    obj: &mut Value,
    media_type: &str,
    body: &[u8],
    kind: &str,
) -> Result<(), ApiError> {
    match media_type {
        JSON_PATCH => {
            let ops = decode_json(body, JsonType::Array, "jsonpatch.Patch")
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            // Like the real server, an operation it cannot carry out (an
            // unknown op, a missing path) fails as the patch applies.
            let ops: json_patch::Patch =
                serde_json::from_value(ops).map_err(|_| rejected_request())?;
            json_patch::patch(obj, &ops).map_err(|_| rejected_request())
        }
        MERGE_PATCH => {
            let p = decode_json(body, JsonType::Object, GO_MAP)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            json_patch::merge(obj, &p);
            Ok(())
        }
        _ => {
            let p = decode_json(body, JsonType::Object, GO_MAP).map_err(ApiError::bad_request)?;
            strategic_merge::apply(obj, &p, kind)
        }
    }
}

/// Records a write from `old` to `new` of `target` in `new`'s
/// managedFields, for the writer the `fieldManager` query parameter names
/// (else "unknown"). PATCH does this itself; PUT passes the stored object
/// as `old`, POST an empty object.
pub fn record_write(
    old: &Value,
    new: &mut Value,
    target: &Target,
    query: &HashMap<String, String>,
) {
    let api_version = target.resource.group_version();
    let manager = field_manager(query).unwrap_or(DEFAULT_MANAGER);
    apply::record_update(old, new, &writer(target, manager, &api_version));
}

/// A write without a `fieldManager` (or with an empty one) is recorded under
/// the User-Agent's part before the first `/`, its printable characters up to
/// 128 bytes, as kube-apiserver's `managerOrUserAgent` does ("kubectl" for
/// `kubectl/v1.32.0 (linux/amd64) kubernetes/...`). Server-side apply is not
/// defaulted: it must name its manager.
pub fn manager_from_user_agent(
    query: &mut HashMap<String, String>,
    content_type: &str,
    user_agent: &str,
) {
    if field_manager(query).is_some() || content_type.starts_with(APPLY_PATCH) {
        return;
    }
    let mut manager = String::new();
    for c in user_agent.split('/').next().unwrap_or("").chars() {
        if c.is_control() {
            continue;
        }
        if manager.len() + c.len_utf8() > 128 {
            break;
        }
        manager.push(c);
    }
    if !manager.is_empty() {
        query.insert("fieldManager".to_string(), manager);
    }
}

/// The `fieldManager` query parameter, when set.
fn field_manager(query: &HashMap<String, String>) -> Option<&str> {
    query
        .get("fieldManager")
        .map(String::as_str)
        .filter(|m| !m.is_empty())
}

/// Who writes `target`. Custom resources have no known schema, so their
/// lists merge atomically.
fn writer<'a>(target: &'a Target, manager: &'a str, api_version: &'a str) -> Writer<'a> {
    let res = target.resource;
    Writer {
        manager,
        api_version,
        subresource: target.subresource,
        kind: if is_built_in_group(res.group) {
            res.kind
        } else {
            UNKNOWN_KIND
        },
        scope: match target.subresource {
            _ if !res.status => Scope::Everything,
            None => Scope::AllButStatus,
            Some("status") => Scope::StatusOnly,
            Some(_) => Scope::AllButStatus,
        },
    }
}

/// The real server's 422 for a patch that cannot apply to the object (a
/// failed JSON patch `test`, a missing path, content outside `$retainKeys`):
/// a generic message that does not say which.
fn rejected_request() -> ApiError {
    let mut e = ApiError::new(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
    );
    e.details = json!({});
    e
}

/// The configuration of an apply request: YAML (or JSON, which is YAML),
/// an object of the URL's API version, named as on the URL.
fn apply_config(body: &[u8], target: &Target) -> Result<Value, ApiError> {
    let mut config: Value = serde_yaml::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    let Some(obj) = config.as_object_mut() else {
        return Err(ApiError::bad_request(
            "error decoding YAML: the applied configuration must be an object",
        ));
    };
    let expected = target.resource.group_version();
    let specified = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if specified != expected {
        return Err(ApiError::bad_request(format!(
            "Incorrect version specified in apply patch. Specified patch version: {specified}, expected: {expected}"
        )));
    }
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    if meta.is_null() {
        *meta = json!({});
    }
    check_shape(&config, target.resource.kind)?;
    let meta = &mut config["metadata"];
    match meta.get("name").and_then(Value::as_str) {
        Some(n) if n != target.name => Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        )),
        Some(_) => Ok(config),
        None => {
            meta["name"] = json!(target.name);
            Ok(config)
        }
    }
}

/// Refuses a patched object the real server could not decode into its
/// type: one that is not an object or whose metadata is not one.
fn check_shape(obj: &Value, kind: &str) -> Result<(), ApiError> {
    let (found, field) = match obj {
        Value::Object(m) => match m.get("metadata") {
            None | Some(Value::Null) | Some(Value::Object(_)) => return Ok(()),
            Some(other) => (json_type_name(other), "metadata"),
        },
        other => (json_type_name(other), ""),
    };
    Err(ApiError::bad_request(if field.is_empty() {
        format!("json: cannot unmarshal {found} into Go value of type {kind}")
    } else {
        format!("json: cannot unmarshal {found} into Go struct field {kind}.{field} of type v1.ObjectMeta")
    }))
}

/// A JSON value's type as Go's encoding/json names it in errors.
fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
    }
}

/// The Go type merge and strategic merge patches decode into.
const GO_MAP: &str = "map[string]interface {}";

/// The JSON type a patch body must have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Object,
    Array,
}

/// Decodes a patch body that must be a JSON `want` (null counts as an empty
/// one, as in Go), with the errors worded as Go's encoding/json words them
/// when it decodes into `go_type` (the real server passes those on).
fn decode_json(body: &[u8], want: JsonType, go_type: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| go_syntax_error(&e, body))?;
    let found = match &v {
        Value::Null => {
            return Ok(match want {
                JsonType::Object => json!({}),
                JsonType::Array => json!([]),
            })
        }
        Value::Object(_) if want == JsonType::Object => return Ok(v),
        Value::Array(_) if want == JsonType::Array => return Ok(v),
        other => json_type_name(other),
    };
    Err(format!(
        "json: cannot unmarshal {found} into Go value of type {go_type}"
    ))
}

/// A JSON syntax error in `body`, worded as Go words the common ones.
fn go_syntax_error(e: &serde_json::Error, body: &[u8]) -> String {
    if e.classify() == serde_json::error::Category::Eof {
        return "unexpected end of JSON input".into();
    }
    let text = String::from_utf8_lossy(body);
    let at = text
        .lines()
        .nth(e.line().saturating_sub(1))
        .and_then(|l| l.chars().nth(e.column().saturating_sub(1)));
    match at {
        Some(c) => format!("invalid character '{c}' looking for beginning of value"),
        None => format!("invalid JSON: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources;

    fn deployments() -> &'static ResourceInfo {
        resources::find("apps", "v1", "deployments").expect("deployments")
    }

    fn target(res: &'static ResourceInfo) -> Target<'static> {
        Target {
            resource: res,
            name: "web",
            subresource: None,
        }
    }

    fn live() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "resourceVersion": "5",
                         "labels": {"app": "web"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx"}]}}}
        })
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn run(ct: &str, body: &str, q: &[(&str, &str)]) -> Result<Patched, ApiError> {
        patch(
            Some(live()),
            &target(deployments()),
            ct,
            body.as_bytes(),
            &query(q),
        )
    }

    fn updated(r: Result<Patched, ApiError>) -> Value {
        match r {
            Ok(Patched::Update(v)) => v,
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn json_patch_applies() {
        let v = updated(run(
            JSON_PATCH,
            r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/x","value":"y"}]"#,
            &[],
        ));
        assert_eq!(v["spec"]["replicas"], 3);
        assert_eq!(v["metadata"]["labels"]["x"], "y");
    }

    #[test]
    fn json_patch_failed_test_is_invalid() {
        let e = run(
            JSON_PATCH,
            r#"[{"op":"test","path":"/spec/replicas","value":9}]"#,
            &[],
        )
        .unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert_eq!(
            e.message,
            "the server rejected our request due to an error in our request"
        );
        let e = run(
            JSON_PATCH,
            r#"[{"op":"remove","path":"/spec/nothing"}]"#,
            &[],
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
    }

    #[test]
    fn unparsable_bodies_are_bad_requests() {
        for ct in [JSON_PATCH, MERGE_PATCH] {
            let e = run(ct, "{not json", &[]).unwrap_err();
            assert_eq!((e.code, e.reason), (400, "BadRequest"), "{ct}");
            assert!(
                e.message.starts_with("error decoding patch: "),
                "{}",
                e.message
            );
        }
        let e = run(STRATEGIC_MERGE_PATCH, "[", &[]).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "unexpected end of JSON input")
        );
        let e = run(APPLY_PATCH, "a: [", &[("fieldManager", "m")]).unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn merge_patch_applies_and_null_deletes() {
        let v = updated(run(
            MERGE_PATCH,
            r#"{"metadata":{"labels":{"app":null,"b":"c"}},"spec":{"template":{"spec":{"containers":[{"name":"other"}]}}}}"#,
            &[],
        ));
        assert_eq!(v["metadata"]["labels"], json!({"b": "c"}));
        assert_eq!(
            v["spec"]["template"]["spec"]["containers"],
            json!([{"name": "other"}]),
            "a merge patch replaces lists"
        );
    }

    #[test]
    fn strategic_merge_patch_merges_lists() {
        let v = updated(run(
            STRATEGIC_MERGE_PATCH,
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}"#,
            &[],
        ));
        assert_eq!(
            v["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn content_type_parameters_are_ignored() {
        let v = updated(run(
            "application/merge-patch+json; charset=utf-8",
            r#"{"spec":{"replicas":4}}"#,
            &[],
        ));
        assert_eq!(v["spec"]["replicas"], 4);
    }

    #[test]
    fn unknown_content_types_are_unsupported() {
        let e = run("application/json", "{}", &[]).unwrap_err();
        assert_eq!((e.code, e.reason), (415, "UnsupportedMediaType"));
        assert_eq!(
            e.message,
            "the body of the request was in an unknown format - accepted media types include: \
             application/json-patch+json, application/merge-patch+json, \
             application/strategic-merge-patch+json, application/apply-patch+yaml"
        );
    }

    #[test]
    fn custom_resources_do_not_take_strategic_merge() {
        let crd = crate::resources::stored("stable.example.com", "v1", "crontabs", "CronTab", true);
        let t = Target {
            resource: &crd,
            name: "web",
            subresource: None,
        };
        let e = patch(
            Some(json!({})),
            &t,
            STRATEGIC_MERGE_PATCH,
            b"{}",
            &HashMap::new(),
        )
        .unwrap_err();
        assert_eq!(e.code, 415);
        assert!(e.message.ends_with(
            "accepted media types include: application/json-patch+json, \
             application/merge-patch+json, application/apply-patch+yaml"
        ));
        let ok = patch(
            Some(json!({})),
            &t,
            MERGE_PATCH,
            br#"{"spec":{"a":1}}"#,
            &HashMap::new(),
        );
        assert!(matches!(ok, Ok(Patched::Update(_))));
    }

    /// kube-apiserver 1.32 records kubectl's `kubectl create` under
    /// "kubectl-create" (kubectl sends it) and a client that names no manager
    /// under its User-Agent's product: "OpenAPI-Generator" for the Python
    /// client's `OpenAPI-Generator/31.0.0/python`.
    #[test]
    fn manager_defaults_from_the_user_agent() {
        let mut q = HashMap::new();
        manager_from_user_agent(
            &mut q,
            "application/json",
            "OpenAPI-Generator/31.0.0/python",
        );
        assert_eq!(q["fieldManager"], "OpenAPI-Generator");
        let mut q = query(&[("fieldManager", "kubectl-create")]);
        manager_from_user_agent(
            &mut q,
            "application/json",
            "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9",
        );
        assert_eq!(q["fieldManager"], "kubectl-create");
        let mut q = query(&[("fieldManager", "")]);
        manager_from_user_agent(
            &mut q,
            "",
            "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9",
        );
        assert_eq!(q["fieldManager"], "kubectl");
        // Apply must name its manager; control characters are left out and
        // the name stops at 128 bytes.
        let mut q = HashMap::new();
        manager_from_user_agent(&mut q, APPLY_PATCH, "kubectl/v1.32.0");
        assert!(q.is_empty());
        manager_from_user_agent(&mut q, "", &format!("a\u{1}b{}", "c".repeat(200)));
        assert_eq!(q["fieldManager"], format!("ab{}", "c".repeat(126)));
        let mut q = HashMap::new();
        manager_from_user_agent(&mut q, "", "");
        assert!(q.is_empty());
    }

    #[test]
    fn custom_resource_lists_apply_atomically() {
        let crd = crate::resources::stored("stable.example.com", "v1", "crontabs", "CronTab", true);
        let t = Target {
            resource: &crd,
            name: "ct",
            subresource: None,
        };
        let live = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "ct"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let q = query(&[("fieldManager", "m"), ("force", "true")]);
        let body = r#"{"apiVersion":"stable.example.com/v1","kind":"CronTab","spec":{"containers":[{"name":"a","x":1}]}}"#;
        match patch(Some(live), &t, APPLY_PATCH, body.as_bytes(), &q) {
            Ok(Patched::Update(v)) => {
                assert_eq!(v["spec"]["containers"], json!([{"name": "a", "x": 1}]))
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn puts_and_posts_record_their_writer() {
        let t = target(deployments());
        let old = live();
        let mut new = live();
        new["spec"]["replicas"] = json!(8);
        record_write(
            &old,
            &mut new,
            &t,
            &query(&[("fieldManager", "kubectl-replace")]),
        );
        let e = &new["metadata"]["managedFields"][0];
        assert_eq!(
            (e["manager"].as_str(), e["operation"].as_str()),
            (Some("kubectl-replace"), Some("Update"))
        );
        assert_eq!(e["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));

        let mut created = live();
        record_write(&json!({}), &mut created, &t, &HashMap::new());
        let e = &created["metadata"]["managedFields"][0];
        assert_eq!(e["manager"], DEFAULT_MANAGER);
        assert!(e["fieldsV1"]["f:spec"]["f:template"].is_object());
        assert!(
            e["fieldsV1"]["f:metadata"].get("f:name").is_none(),
            "identity is not owned"
        );
    }

    #[test]
    fn apply_needs_a_field_manager() {
        let e = run(APPLY_PATCH, "{}", &[]).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        );
        assert_eq!(e.details["causes"][0]["field"], "fieldManager");
        assert_eq!(e.details["kind"], "PatchOptions");
    }

    #[test]
    fn force_is_only_for_apply() {
        let e = run(MERGE_PATCH, "{}", &[("force", "true")]).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
        );
    }

    #[test]
    fn only_apply_creates() {
        let t = target(deployments());
        let e = patch(None, &t, MERGE_PATCH, b"{}", &HashMap::new()).unwrap_err();
        assert_eq!(e.code, 404);
        assert_eq!(e.message, "deployments.apps \"web\" not found");
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n";
        match patch(
            None,
            &t,
            APPLY_PATCH,
            yaml.as_bytes(),
            &query(&[("fieldManager", "m")]),
        ) {
            Ok(Patched::Create(v)) => {
                assert_eq!(v["metadata"]["name"], "web", "named from the URL");
                assert_eq!(v["spec"]["replicas"], 2);
                assert_eq!(v["metadata"]["managedFields"][0]["manager"], "m");
            }
            other => panic!("expected a create, got {other:?}"),
        }
    }

    #[test]
    fn patches_must_leave_an_object_with_object_metadata() {
        let e = run(MERGE_PATCH, r#"{"metadata":"x"}"#, &[]).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "json: cannot unmarshal string into Go struct field Deployment.metadata of type v1.ObjectMeta"
        );
        let e = run(
            JSON_PATCH,
            r#"[{"op":"replace","path":"","value":[]}]"#,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "json: cannot unmarshal array into Go value of type Deployment"
        );
        let e = run(
            APPLY_PATCH,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: [1]\n",
            &[("fieldManager", "m")],
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn views_take_every_patch_type() {
        let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web"}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let q = HashMap::new();
        let merged = patch_view(
            scale.clone(),
            "Scale",
            MERGE_PATCH,
            br#"{"spec":{"replicas":3}}"#,
            &q,
        );
        assert_eq!(merged.unwrap()["spec"]["replicas"], 3);
        let smp = patch_view(
            scale.clone(),
            "Scale",
            STRATEGIC_MERGE_PATCH,
            br#"{"spec":{"replicas":4}}"#,
            &q,
        );
        assert_eq!(smp.unwrap()["spec"]["replicas"], 4);
        let ops = br#"[{"op":"replace","path":"/spec/replicas","value":5}]"#;
        assert_eq!(
            patch_view(scale.clone(), "Scale", JSON_PATCH, ops, &q).unwrap()["spec"]["replicas"],
            5
        );
        let applied = patch_view(
            scale.clone(),
            "Scale",
            APPLY_PATCH,
            b"apiVersion: autoscaling/v1\nkind: Scale\nspec:\n  replicas: 6\n",
            &query(&[("fieldManager", "m")]),
        );
        assert_eq!(applied.unwrap()["spec"]["replicas"], 6);
        let e = patch_view(scale.clone(), "Scale", APPLY_PATCH, b"{}", &q).unwrap_err();
        assert_eq!(e.code, 422, "apply still needs a field manager");
        let e = patch_view(scale, "Scale", "text/plain", b"{}", &q).unwrap_err();
        assert_eq!(e.code, 415);
    }

    #[test]
    fn apply_refuses_another_version() {
        let e = run(APPLY_PATCH, "kind: Deployment\n", &[("fieldManager", "m")]).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "Incorrect version specified in apply patch. Specified patch version: , expected: apps/v1"
        );
    }

    #[test]
    fn apply_refuses_another_name() {
        let e = run(
            APPLY_PATCH,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"other"}}"#,
            &[("fieldManager", "m")],
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "the name of the object does not match the name on the URL"
        );
    }

    #[test]
    fn apply_conflicts_and_force() {
        let body = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":5}}"#;
        let e = run(APPLY_PATCH, body, &[("fieldManager", "m")]).unwrap_err();
        assert_eq!(
            e.code, 409,
            "the live object's fields belong to before-first-apply"
        );
        let v = updated(run(
            APPLY_PATCH,
            body,
            &[("fieldManager", "m"), ("force", "true")],
        ));
        assert_eq!(v["spec"]["replicas"], 5);
    }

    #[test]
    fn patches_record_an_update_entry() {
        let v = updated(run(
            MERGE_PATCH,
            r#"{"spec":{"replicas":2}}"#,
            &[("fieldManager", "kubectl-patch")],
        ));
        let e = &v["metadata"]["managedFields"][0];
        assert_eq!(e["manager"], "kubectl-patch");
        assert_eq!(e["operation"], "Update");
        assert_eq!(e["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
        let v = updated(run(MERGE_PATCH, r#"{"spec":{"replicas":2}}"#, &[]));
        assert_eq!(
            v["metadata"]["managedFields"][0]["manager"],
            DEFAULT_MANAGER
        );
    }
}

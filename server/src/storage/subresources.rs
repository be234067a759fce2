//! Subresources that are not the object itself: `/scale` (autoscaling/v1
//! Scale), `pods/eviction` and `pods/binding`.

use crate::registry::{self, at_path, set_path};
use crate::resources::ResourceInfo;
use crate::rest;
use crate::selectors::selector_text;
use crate::store::{qualified, ApiError, Store};
use serde_json::{json, Value};

fn pods() -> &'static ResourceInfo {
    registry::find("", "v1", "pods").expect("pods are in the table")
}

pub fn get_scale(st: &Store, res: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
    scale_of(res, &rest::get(st, res, ns, name)?)
}

fn scale_of(res: &ResourceInfo, obj: &Value) -> Result<Value, ApiError> {
    let paths = registry::scale_paths(res)
        .ok_or_else(|| ApiError::not_found(res, obj["metadata"]["name"].as_str().unwrap_or("")))?;
    let selector = match &paths.label_selector {
        Some(p) => at_path(obj, p).as_str().unwrap_or("").to_string(),
        None => selector_text(&obj["spec"]["selector"]),
    };
    let mut meta = json!({});
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = obj["metadata"].get(k) {
            meta[k] = v.clone();
        }
    }
    let mut status =
        json!({"replicas": at_path(obj, &paths.status_replicas).as_i64().unwrap_or(0)});
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    Ok(json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
        "spec": {"replicas": at_path(obj, &paths.spec_replicas).as_i64().unwrap_or(0)},
        "status": status,
    }))
}

/// Writes a Scale's spec.replicas into the object (honouring its resourceVersion).
pub fn put_scale(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    scale: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let paths = registry::scale_paths(res).ok_or_else(|| ApiError::not_found(res, name))?;
    let replicas = scale["spec"]["replicas"].as_i64().unwrap_or(0);
    if replicas < 0 {
        let scale_res = crate::resources::stored("autoscaling", "v1", "scale", "Scale", true);
        return Err(crate::validation::invalid(
            &scale_res,
            name,
            "spec.replicas",
            "FieldValueInvalid",
            &format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        ));
    }
    let mut obj = rest::get(st, res, ns, name)?;
    if let Some(rv) = scale["metadata"]["resourceVersion"].as_str() {
        if !rv.is_empty() && Some(rv) != obj["metadata"]["resourceVersion"].as_str() {
            let mut e = ApiError::new(409, "Conflict", format!("Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", qualified(res)));
            e.details = crate::store::details(res, name);
            return Err(e);
        }
    }
    set_path(&mut obj, &paths.spec_replicas, json!(replicas));
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    let updated = rest::update(st, res, ns, name, obj, None, dry_run)?;
    scale_of(res, &updated)
}

/// What POST pods/NAME/eviction and pods/NAME/binding check first: the body
/// is a `kind` for this pod (400 otherwise), and the pod exists (404).
fn posted_to_pod(
    st: &Store,
    ns: &str,
    name: &str,
    body: &Value,
    kind: &str,
) -> Result<(&'static ResourceInfo, Value), ApiError> {
    check_body_name(body, kind, name)?;
    let res = pods();
    Ok((res, rest::get(st, res, ns, name)?))
}

fn check_body_name(body: &Value, kind: &str, name: &str) -> Result<(), ApiError> {
    if body["kind"].as_str().is_some_and(|k| k != kind) {
        return Err(ApiError::new(
            400,
            "BadRequest",
            format!("the body of the request must be a {kind}"),
        ));
    }
    match body["metadata"]["name"].as_str() {
        Some(n) if !n.is_empty() && n != name => Err(ApiError::new(
            400,
            "BadRequest",
            format!("name in URL does not match name in {kind} object"),
        )),
        _ => Ok(()),
    }
}

fn created_status() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

/// POST pods/NAME/eviction: the pod is deleted (no disruption budgets here).
pub fn evict(
    st: &mut Store,
    ns: &str,
    name: &str,
    body: &Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let (res, _) = posted_to_pod(st, ns, name, body, "Eviction")?;
    let opts = rest::DeleteOptions {
        grace_period: body["deleteOptions"]["gracePeriodSeconds"].as_i64(),
        precondition_uid: body["deleteOptions"]["preconditions"]["uid"]
            .as_str()
            .map(String::from),
        precondition_rv: None,
        propagation: None,
    };
    rest::delete(st, res, ns, name, &opts, dry_run)?;
    Ok(created_status())
}

/// POST pods/NAME/binding: assigns the pod to the target node, once.
pub fn bind(
    st: &mut Store,
    ns: &str,
    name: &str,
    body: &Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let (res, mut pod) = posted_to_pod(st, ns, name, body, "Binding")?;
    let node = body["target"]["name"].as_str().unwrap_or("");
    if node.is_empty() {
        return Err(ApiError::new(
            400,
            "BadRequest",
            "a Binding needs target.name (the node)",
        ));
    }
    if let Some(cur) = pod["spec"]["nodeName"].as_str() {
        let mut e = ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is already assigned to node \"{cur}\""),
        );
        e.details = json!({"name": name, "kind": "pods/binding"});
        return Err(e);
    }
    pod["spec"]["nodeName"] = json!(node);
    // The binding marks the pod scheduled; the node's kubelet starts it.
    let now = crate::store::now_rfc3339();
    let mut conds: Vec<Value> = pod["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    conds.retain(|c| c["type"] != "PodScheduled");
    conds.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}));
    pod["status"]["conditions"] = json!(conds);
    if !dry_run {
        st.put(res, &mut pod);
    }
    Ok(created_status())
}

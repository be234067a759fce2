//! The REST verbs over the store with the real server's semantics: lists cut
//! by limit/continue, selectors, create/update with uid, resourceVersion,
//! generation and status-subresource rules, deletion with finalizers and
//! graceful deletion, dryRun. Every write goes through `Store::put`/`remove`,
//! which produce the watch events.

use crate::lifecycle;
use crate::registry;
use crate::resources::ResourceInfo;
use crate::selectors::Selection;
use crate::store::{details, qualified, ApiError, Key, Store};
use base64::Engine;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Request bodies in JSON or YAML; anything else (protobuf, CBOR) is 415, on
/// which client-go falls back to JSON.
pub fn check_content_type(content_type: &str) -> Result<(), ApiError> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    match ct {
        "" | "application/json" | "application/yaml" | "text/plain" | "*/*" => Ok(()),
        other => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {other})"),
        )),
    }
}

pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .or_else(|_| serde_yaml::from_slice(body))
        .map_err(|e| {
            ApiError::new(
                400,
                "BadRequest",
                format!("the body of the request was in an unknown format: {e}"),
            )
        })?;
    if !v.is_object() {
        return Err(ApiError::new(
            400,
            "BadRequest",
            "the body of the request must be an object",
        ));
    }
    Ok(v)
}

/// An object by name, with kind and apiVersion (list items have neither).
pub fn get(st: &Store, res: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
    let obj = st
        .objects
        .get(&Store::key(res, ns, name))
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, name))?;
    Ok(typed(res, obj))
}

pub fn typed(res: &ResourceInfo, mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        // kind and apiVersion first, as the real server writes them
        let mut out = serde_json::Map::new();
        out.insert("kind".into(), json!(res.kind));
        out.insert("apiVersion".into(), json!(res.group_version()));
        for (k, v) in std::mem::take(m) {
            if k != "kind" && k != "apiVersion" {
                out.insert(k, v);
            }
        }
        *m = out;
    }
    obj
}

fn untyped(mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    obj
}

/// The position a continue token resumes after, and the list's resourceVersion.
struct ContinueToken {
    rv: u64,
    /// `namespace/name`, or `name` for cluster-scoped resources.
    start: String,
}

impl ContinueToken {
    fn encode(&self) -> String {
        let raw =
            json!({"v": "meta.k8s.io/v1", "rv": self.rv, "start": format!("{}\u{0}", self.start)});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.to_string())
    }

    fn decode(token: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| {
            ApiError::new(
                400,
                "BadRequest",
                format!("continue key is not valid: {why}"),
            )
        };
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| bad("not base64"))?;
        let v: Value = serde_json::from_slice(&raw).map_err(|_| bad("not JSON"))?;
        if v["v"] != "meta.k8s.io/v1" {
            return Err(bad(
                "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            ));
        }
        Ok(ContinueToken {
            rv: v["rv"].as_u64().ok_or_else(|| bad("no resourceVersion"))?,
            start: v["start"]
                .as_str()
                .ok_or_else(|| bad("no start key"))?
                .trim_end_matches('\u{0}')
                .to_string(),
        })
    }
}

fn position(key: &Key, namespaced: bool) -> String {
    if namespaced {
        format!("{}/{}", key.2, key.3)
    } else {
        key.3.clone()
    }
}

fn after_start(key: &Key, start: &str, namespaced: bool) -> bool {
    if namespaced {
        let (ns, name) = start.split_once('/').unwrap_or((start, ""));
        (key.2.as_str(), key.3.as_str()) > (ns, name)
    } else {
        key.3.as_str() > start
    }
}

/// One list answer, borrowing its items from the store: a list of thousands
/// of objects is written straight from them, as the real server writes from
/// its watch cache (cloning every object first took a second for 5,000 pods).
pub struct ListPage<'a> {
    pub kind: String,
    pub api_version: String,
    pub metadata: Value,
    pub items: Vec<&'a Value>,
}

impl Serialize for ListPage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("apiVersion", &self.api_version)?;
        m.serialize_entry("metadata", &self.metadata)?;
        m.serialize_entry("items", &Untyped(&self.items))?;
        m.end()
    }
}

/// List items are written without kind and apiVersion, as the real server does.
struct Untyped<'a>(&'a [&'a Value]);

impl Serialize for Untyped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            match item.as_object() {
                Some(fields) => seq.serialize_element(&UntypedObject(fields))?,
                None => seq.serialize_element(item)?,
            }
        }
        seq.end()
    }
}

struct UntypedObject<'a>(&'a serde_json::Map<String, Value>);

impl Serialize for UntypedObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.0 {
            if k != "kind" && k != "apiVersion" {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

pub fn list<'a>(
    st: &'a Store,
    res: &ResourceInfo,
    ns: &str,
    q: &HashMap<String, String>,
) -> Result<ListPage<'a>, ApiError> {
    let selection = Selection::from_query(q, res)?;
    let limit = match q.get("limit").map(String::as_str) {
        None | Some("") => 0,
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
    };
    let token = match q.get("continue").map(String::as_str) {
        None | Some("") => None,
        Some(t) => Some(ContinueToken::decode(t)?),
    };
    if let Some(t) = &token {
        if t.rv < st.compacted_rv {
            let fresh = ContinueToken {
                rv: st.rv,
                start: t.start.clone(),
            };
            let mut e = ApiError::new(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
            e.list_continue = Some(fresh.encode());
            return Err(e);
        }
    }
    let list_rv = token.as_ref().map_or(st.rv, |t| t.rv);
    let matching = st
        .list(res, (!ns.is_empty()).then_some(ns))
        .into_iter()
        .filter(|(k, _)| {
            token
                .as_ref()
                .is_none_or(|t| after_start(k, &t.start, res.namespaced))
        })
        .filter(|(_, o)| selection.matches(o));
    let mut items = vec![];
    let mut last_key = None;
    let mut remaining = 0usize;
    for (k, o) in matching {
        if limit > 0 && items.len() == limit {
            remaining += 1;
            continue;
        }
        items.push(o);
        last_key = Some(k);
    }
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if remaining > 0 {
        if let Some(k) = last_key {
            let t = ContinueToken {
                rv: list_rv,
                start: position(k, res.namespaced),
            };
            meta["continue"] = json!(t.encode());
            if selection.is_empty() {
                meta["remainingItemCount"] = json!(remaining);
            }
        }
    }
    Ok(ListPage {
        kind: format!("{}List", res.kind),
        api_version: res.group_version(),
        metadata: meta,
        items,
    })
}

fn check_kind(res: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    let kind = obj["kind"].as_str();
    let api_version = obj["apiVersion"].as_str();
    let ok = match kind {
        None => true,
        Some(k) => {
            (k == res.kind && api_version.is_none_or(|v| v == res.group_version()))
                || (k == "EphemeralContainers" && res.plural == "pods")
        }
    };
    if !ok {
        return Err(ApiError::new(
            400,
            "BadRequest",
            format!(
                "the API version in the data ({}) does not match the expected API version ({})",
                api_version.unwrap_or(""),
                res.group_version()
            ),
        ));
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// metadata, spec and status must be objects: the server fills fields in them.
fn check_shape(res: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::new(
            400,
            "BadRequest",
            format!(
                "json: cannot unmarshal {obj} into Go value of type {}",
                res.kind
            ),
        ));
    }
    for (field, go_type) in [
        ("metadata", "v1.ObjectMeta"),
        ("spec", "Spec"),
        ("status", "Status"),
    ] {
        match obj.get(field) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(other) => {
                return Err(ApiError::new(
                    400,
                    "BadRequest",
                    format!(
                        "json: cannot unmarshal {} into Go struct field {}.{field} of type {go_type}",
                        json_type(other),
                        res.kind
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn conflict(res: &ResourceInfo, name: &str) -> ApiError {
    let mut e = ApiError::new(409, "Conflict", format!("Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", qualified(res)));
    e.details = details(res, name);
    e
}

/// A random-looking 5-character suffix for generateName.
fn name_suffix(st: &mut Store) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let uid = st.new_uid();
    let mut h: u64 = 1469598103934665603;
    for b in uid.bytes() {
        h = (h ^ b as u64).wrapping_mul(1099511628211);
    }
    (0..5)
        .map(|i| ALPHABET[((h >> (i * 8)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// How a create is done.
pub struct CreateOptions {
    pub dry_run: bool,
    /// Keep the status the object brings (seeding); requests have theirs cleared.
    pub keep_status: bool,
}

/// Whether a new object's status is the client's to set: nodes register with theirs.
fn status_set_by_creator(res: &ResourceInfo) -> bool {
    !res.status || (res.group.is_empty() && res.plural == "nodes")
}

pub fn create(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    mut obj: Value,
    opts: CreateOptions,
) -> Result<Value, ApiError> {
    let dry_run = opts.dry_run;
    check_kind(res, &obj)?;
    check_shape(res, &obj)?;
    let name = match obj["metadata"]["name"].as_str() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => match obj["metadata"]["generateName"].as_str() {
            Some(g) => format!("{g}{}", name_suffix(st)),
            None => {
                return Err(crate::validation::invalid(
                    res,
                    "",
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required",
                ))
            }
        },
    };
    crate::validation::check_name(res, &name)?;
    obj["metadata"]["name"] = json!(name);
    if res.namespaced {
        if let Some(body_ns) = obj["metadata"]["namespace"].as_str() {
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request("the namespace of the provided object does not match the namespace sent on the request"));
            }
        }
        lifecycle::check_namespace_open(st, res, ns, &name)?;
    }
    if st.objects.contains_key(&Store::key(res, ns, &name)) {
        let mut e = ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(res)),
        );
        e.details = details(res, &name);
        return Err(e);
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        for k in [
            "resourceVersion",
            "uid",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "creationTimestamp",
        ] {
            m.remove(k);
        }
    }
    if !opts.keep_status && !status_set_by_creator(res) {
        if let Some(m) = obj.as_object_mut() {
            m.remove("status");
        }
    }
    st.stamp_new(res, &mut obj, ns);
    if registry::tracks_generation(res) {
        obj["metadata"]["generation"] = json!(1);
    }
    crate::crd::admit(res, &mut obj)?;
    crate::defaults::on_create(res, &mut obj);
    lifecycle::on_create(res, &mut obj)?;
    let mut obj = typed(res, obj);
    if !dry_run {
        st.put(res, &mut obj);
        lifecycle::after_store(st, res, &obj);
        crate::defaults::after_create(st, res, &obj);
    }
    Ok(obj)
}

/// What counts as "spec" for metadata.generation: custom resources count
/// everything but metadata and status.
fn spec_part(res: &ResourceInfo, obj: &Value) -> Value {
    if registry::is_custom(res) {
        let mut o = obj.clone();
        if let Some(m) = o.as_object_mut() {
            for k in ["metadata", "status", "kind", "apiVersion"] {
                m.remove(k);
            }
        }
        o
    } else {
        obj["spec"].clone()
    }
}

pub fn update(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    mut obj: Value,
    sub: Option<&str>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let cur = get(st, res, ns, name)?;
    check_kind(res, &obj)?;
    check_shape(res, &obj)?;
    if let Some(n) = obj["metadata"]["name"].as_str() {
        if n != name {
            return Err(ApiError::new(
                400,
                "BadRequest",
                "the name of the object does not match the name on the URL",
            ));
        }
    }
    if let Some(rv) = obj["metadata"]["resourceVersion"].as_str() {
        if !rv.is_empty() && rv != cur["metadata"]["resourceVersion"].as_str().unwrap_or("") {
            return Err(conflict(res, name));
        }
    }
    match sub {
        // The main resource keeps its status; /status keeps everything else.
        None if res.status => obj["status"] = cur["status"].clone(),
        Some("status") => {
            let status = obj["status"].clone();
            obj = cur.clone();
            obj["status"] = status;
        }
        Some("ephemeralcontainers") => {
            let ec = obj["spec"]["ephemeralContainers"].clone();
            obj = cur.clone();
            obj["spec"]["ephemeralContainers"] = ec;
        }
        Some("finalize") => {
            let fin = obj["spec"]["finalizers"].clone();
            obj = cur.clone();
            obj["spec"]["finalizers"] = fin;
        }
        _ => {}
    }
    if obj["status"].is_null() && !cur["status"].is_null() && sub.is_none() && res.status {
        obj["status"] = cur["status"].clone();
    }
    // An object without a status keeps none (not `"status": null`).
    if obj["status"].is_null() {
        if let Some(m) = obj.as_object_mut() {
            m.remove("status");
        }
    }
    for k in [
        "uid",
        "creationTimestamp",
        "namespace",
        "name",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match cur["metadata"].get(k) {
            Some(v) => obj["metadata"][k] = v.clone(),
            None => {
                if let Some(m) = obj["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    crate::crd::admit(res, &mut obj)?;
    if registry::tracks_generation(res) {
        let g = cur["metadata"]["generation"].as_i64().unwrap_or(1);
        let changed = spec_part(res, &obj) != spec_part(res, &cur);
        obj["metadata"]["generation"] = json!(if changed { g + 1 } else { g });
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("generation");
    }
    let mut obj = typed(res, obj);
    if obj == cur {
        // A no-op update stores nothing and keeps the resourceVersion.
        return Ok(obj);
    }
    if !dry_run {
        st.put(res, &mut obj);
        lifecycle::after_store(st, res, &obj);
    }
    Ok(obj)
}

/// DeleteOptions from the query and/or the body.
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    /// propagationPolicy (or orphanDependents=true as Orphan); None: Background.
    pub propagation: Option<String>,
}

impl DeleteOptions {
    pub fn from_request(q: &HashMap<String, String>, body: &[u8]) -> Result<Self, ApiError> {
        let b: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            parse_body(body)?
        };
        let policy = q
            .get("propagationPolicy")
            .cloned()
            .or_else(|| b["propagationPolicy"].as_str().map(String::from));
        if let Some(p) = &policy {
            if !matches!(p.as_str(), "Orphan" | "Background" | "Foreground") {
                return Err(ApiError::new(422, "Invalid", format!("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\"")));
            }
        }
        let orphan = q
            .get("orphanDependents")
            .map(|o| o == "true")
            .or_else(|| b["orphanDependents"].as_bool())
            == Some(true);
        let policy = policy.or_else(|| orphan.then(|| "Orphan".to_string()));
        let grace_period = q
            .get("gracePeriodSeconds")
            .and_then(|g| g.parse().ok())
            .or_else(|| b["gracePeriodSeconds"].as_i64());
        Ok(DeleteOptions {
            grace_period,
            precondition_uid: b["preconditions"]["uid"].as_str().map(String::from),
            precondition_rv: b["preconditions"]["resourceVersion"]
                .as_str()
                .map(String::from),
            propagation: policy,
        })
    }
}

/// DELETE of one object. Kinds whose registry sets ReturnDeletedObject
/// (pods, services, serviceaccounts, namespaces) answer with the object; other kinds with a Success Status naming what was deleted. An
/// object with finalizers only gets its deletionTimestamp, is kept, and is
/// the answer.
pub fn delete(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    opts: &DeleteOptions,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let (obj, removed) = delete_object(st, res, ns, name, opts, dry_run)?;
    let returns_object = res.group.is_empty()
        && matches!(
            res.plural,
            "pods" | "services" | "serviceaccounts" | "namespaces"
        );
    if !removed || returns_object {
        return Ok(obj);
    }
    let mut d = json!({"name": name, "kind": res.plural, "uid": obj["metadata"]["uid"]});
    if !res.group.is_empty() {
        d["group"] = json!(res.group);
    }
    Ok(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d}),
    )
}

/// Deletes (or starts deleting) an object: the object as it ends up, and
/// whether it is gone.
fn delete_object(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    opts: &DeleteOptions,
    dry_run: bool,
) -> Result<(Value, bool), ApiError> {
    let mut obj = get(st, res, ns, name)?;
    let uid = obj["metadata"]["uid"].as_str().unwrap_or("").to_string();
    if let Some(want) = &opts.precondition_uid {
        if *want != uid {
            let mut e = ApiError::new(409, "Conflict", format!("Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {want}, UID in object meta: {uid}", qualified(res)));
            e.details = details(res, name);
            return Err(e);
        }
    }
    if let Some(want) = &opts.precondition_rv {
        if Some(want.as_str()) != obj["metadata"]["resourceVersion"].as_str() {
            return Err(conflict(res, name));
        }
    }
    // Foreground and Orphan deletion hand the object to the garbage
    // collector through a finalizer (when one runs).
    let gc_finalizer = match opts.propagation.as_deref() {
        Some("Foreground") => Some("foregroundDeletion"),
        Some("Orphan") => Some("orphan"),
        _ => None,
    }
    .filter(|_| crate::controllers::enabled("garbagecollector"));
    if let Some(f) = gc_finalizer {
        let list = obj["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !list.iter().any(|x| x == f) {
            let mut list = list;
            list.push(json!(f));
            obj["metadata"]["finalizers"] = json!(list);
        }
    }
    let has_finalizers = obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    let namespace = res.group.is_empty() && res.plural == "namespaces";
    if has_finalizers || namespace {
        if obj["metadata"]["deletionTimestamp"].is_null() {
            obj["metadata"]["deletionTimestamp"] = json!(crate::store::now_rfc3339());
            obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            if namespace {
                obj["status"]["phase"] = json!("Terminating");
            }
            if !dry_run {
                st.put(res, &mut obj);
                if namespace {
                    lifecycle::empty_namespace(st, name);
                }
            }
        }
        return Ok((obj, false));
    }
    if res.group.is_empty() && res.plural == "pods" {
        let mut grace = opts
            .grace_period
            .or_else(|| obj["spec"]["terminationGracePeriodSeconds"].as_i64())
            .unwrap_or(30)
            .max(0);
        // As the pod strategy's CheckGracefulDelete: a pod no node runs, or
        // one that has finished, goes at once.
        // (A pod bound to a node that does not exist is the pod GC's to
        // delete, forcibly, as well.)
        let unbound = obj["spec"]["nodeName"].as_str().is_none_or(|n| {
            let node: Key = (String::new(), "nodes".into(), String::new(), n.into());
            n.is_empty() || !st.objects.contains_key(&node)
        });
        let finished = matches!(
            obj["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        );
        if unbound || finished {
            grace = 0;
        }
        // Otherwise its kubelet (the simulated one) stops it and then
        // deletes it for good: until then it is Terminating. A later delete
        // may only shorten the grace period (0 with --force: at once).
        if grace > 0 && crate::controllers::enabled("kubelet") {
            let current = obj["metadata"]["deletionGracePeriodSeconds"].as_i64();
            if obj["metadata"]["deletionTimestamp"].is_null() || current.is_some_and(|c| grace < c)
            {
                obj["metadata"]["deletionTimestamp"] = json!(crate::store::rfc3339_after(grace));
                obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
                if !dry_run {
                    st.put(res, &mut obj);
                }
            }
            return Ok((obj, false));
        }
        // A pod is due to be gone once its grace period is over.
        obj["metadata"]["deletionTimestamp"] = json!(crate::store::rfc3339_after(grace));
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    }
    if !dry_run {
        st.remove(res, ns, name);
        lifecycle::after_remove(st, res, &obj);
    }
    Ok((obj, true))
}

/// DELETE of a collection: every object the selectors match; answers with
/// the list of what was deleted.
pub fn delete_collection(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    q: &HashMap<String, String>,
    opts: &DeleteOptions,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let selection = Selection::from_query(q, res)?;
    let targets: Vec<(String, String)> = st
        .list(res, (!ns.is_empty()).then_some(ns))
        .into_iter()
        .filter(|(_, o)| selection.matches(o))
        .map(|(k, _)| (k.2.clone(), k.3.clone()))
        .collect();
    let mut items = vec![];
    for (ins, name) in targets {
        let (obj, _) = delete_object(st, res, &ins, &name, opts, dry_run)?;
        items.push(untyped(obj));
    }
    Ok(json!({
        "kind": format!("{}List", res.kind),
        "apiVersion": res.group_version(),
        "metadata": {"resourceVersion": st.rv.to_string()},
        "items": items,
    }))
}

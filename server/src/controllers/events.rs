//! Events as the controllers' recorders write them: a core v1 Event (what
//! `kubectl describe` reads) and the same event in events.k8s.io/v1 (what
//! the newer API shows; one object behind both APIs on a real server).
//! A repeat of the same reason and message for the same object counts up
//! the first event instead of making another, as the recorder aggregates.

use super::util;
use crate::store::{now_rfc3339, Key, Store};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// (object uid, reason, message) → the event's (namespace, name).
type Seen = HashMap<(String, String, String), (String, String)>;
static SEEN: Mutex<Option<Seen>> = Mutex::new(None);
/// Bound on the aggregation table (it only saves duplicates).
const SEEN_MAX: usize = 100_000;

/// Records an event about `obj` from `component` (`deployment-controller`,
/// `default-scheduler`, `kubelet`...). `kind`: Normal or Warning.
pub fn record(
    st: &mut Store,
    obj: &Value,
    kind: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    record_at(st, obj, None, kind, reason, message, component, None)
}

/// A controller deletes what `owner` made (`policy`: the propagation) and,
/// when it went, records the owner's Normal SuccessfulDelete event; whether
/// it went.
pub fn delete_owned(
    st: &mut Store,
    key: &Key,
    policy: Option<&str>,
    owner: &Value,
    message: &str,
    component: &str,
) -> bool {
    let deleted = util::delete(st, key, policy);
    if deleted {
        record(st, owner, "Normal", "SuccessfulDelete", message, component);
    }
    deleted
}

/// Like `record`, with the `fieldPath` of a container and the node (kubelet).
#[allow(clippy::too_many_arguments)]
pub fn record_at(
    st: &mut Store,
    obj: &Value,
    field_path: Option<&str>,
    kind: &str,
    reason: &str,
    message: &str,
    component: &str,
    host: Option<&str>,
) {
    if !super::enabled("events") {
        return;
    }
    let ns = match util::namespace(obj) {
        "" => "default",
        n => n,
    }
    .to_string();
    let core = util::res("", "events");
    let now = now_rfc3339();
    let seen_key = (
        util::uid(obj).to_string(),
        reason.to_string(),
        message.to_string(),
    );
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let seen = seen.get_or_insert_with(HashMap::new);
    if let Some((ens, ename)) = seen.get(&seen_key).cloned() {
        let key = util::key(core, &ens, &ename);
        if let Some(mut ev) = util::get(st, &key) {
            ev["count"] = json!(ev["count"].as_i64().unwrap_or(1) + 1);
            ev["lastTimestamp"] = json!(now);
            let count = ev["count"].clone();
            let _ = crate::rest::update(st, core, &ens, &ename, ev, None, false);
            let new = util::res("events.k8s.io", "events");
            if let Some(mut e2) = util::get(st, &util::key(new, &ens, &ename)) {
                e2["series"] = json!({"count": count, "lastObservedTime": micro(&now)});
                let _ = crate::rest::update(st, new, &ens, &ename, e2, None, false);
            }
            return;
        }
    }
    let name = format!(
        "{}.{:x}",
        util::name(obj),
        (crate::store::unix_now() * 1e9) as u64 + st.rv
    );
    let mut involved = json!({
        "kind": obj["kind"], "namespace": util::namespace(obj), "name": util::name(obj),
        "uid": obj["metadata"]["uid"], "apiVersion": obj["apiVersion"],
        "resourceVersion": obj["metadata"]["resourceVersion"],
    });
    if util::namespace(obj).is_empty() {
        involved.as_object_mut().map(|m| m.remove("namespace"));
    }
    if let Some(f) = field_path {
        involved["fieldPath"] = json!(f);
    }
    let mut source = json!({"component": component});
    if let Some(h) = host {
        source["host"] = json!(h);
    }
    let ev = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": involved, "reason": reason, "message": message,
        "source": source, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "type": kind, "eventTime": null,
        "reportingComponent": component, "reportingInstance": host.unwrap_or(""),
    });
    let opts = |_| crate::rest::CreateOptions {
        dry_run: false,
        keep_status: true,
    };
    if crate::rest::create(st, core, &ns, ev, opts(())).is_err() {
        return;
    }
    let mut regarding = involved.clone();
    regarding
        .as_object_mut()
        .map(|m| m.remove("resourceVersion"));
    regarding["resourceVersion"] = obj["metadata"]["resourceVersion"].clone();
    let v1 = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "eventTime": null, "reportingController": component,
        "reportingInstance": host.unwrap_or(""), "reason": reason, "regarding": regarding,
        "note": message, "type": kind,
        "deprecatedSource": source, "deprecatedFirstTimestamp": now,
        "deprecatedLastTimestamp": now, "deprecatedCount": 1,
    });
    let _ = crate::rest::create(st, util::res("events.k8s.io", "events"), &ns, v1, opts(()));
    if seen.len() >= SEEN_MAX {
        seen.clear();
    }
    seen.insert(seen_key, (ns, name));
}

fn micro(rfc: &str) -> String {
    format!("{}.000000Z", rfc.trim_end_matches('Z'))
}

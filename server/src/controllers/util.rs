//! What several controllers need: resources by name, owner references,
//! label selectors, conditions, and writes through the REST verbs.

use super::runner::{Cx, View};
use crate::registry;
use crate::resources::ResourceInfo;
use crate::rest;
use crate::selectors::LabelSelector;
use crate::store::{Key, Store};
use serde_json::{json, Value};

pub fn res(group: &str, plural: &str) -> &'static ResourceInfo {
    registry::find(group, "v1", plural).expect("a built-in resource")
}

pub fn pods() -> &'static ResourceInfo {
    res("", "pods")
}

/// Every stored object of one resource, by key: what a controller that
/// reconciles that kind looks at when the runner starts.
pub fn all_keys(view: &View, group: &str, plural: &str, out: &mut Vec<Key>) {
    out.extend(
        view.st
            .list(res(group, plural), None)
            .into_iter()
            .map(|(k, _)| k.clone()),
    );
}

pub fn key(res: &ResourceInfo, ns: &str, name: &str) -> Key {
    Store::key(res, ns, name)
}

pub fn is(key: &Key, group: &str, plural: &str) -> bool {
    key.0 == group && key.1 == plural
}

pub fn name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or("")
}

pub fn namespace(obj: &Value) -> &str {
    obj["metadata"]["namespace"].as_str().unwrap_or("")
}

pub fn uid(obj: &Value) -> &str {
    obj["metadata"]["uid"].as_str().unwrap_or("")
}

pub fn deleting(obj: &Value) -> bool {
    !obj["metadata"]["deletionTimestamp"].is_null()
}

/// The object stored under a key (with kind and apiVersion).
pub fn get(st: &Store, key: &Key) -> Option<Value> {
    st.objects.get(key).cloned()
}

/// The owner reference a controller puts on what it makes.
pub fn controller_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": name(owner), "uid": uid(owner),
           "controller": true, "blockOwnerDeletion": true})
}

/// The uid of the object's controller, when it is of `kind`.
pub fn controller_uid<'a>(obj: &'a Value, kind: &str) -> Option<&'a str> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == Value::Bool(true) && r["kind"] == kind)?["uid"]
        .as_str()
}

/// The key of an object's controller of `kind` (in the same namespace).
pub fn controller_key(obj: &Value, kind: &str, group: &str, plural: &str, ns: &str) -> Option<Key> {
    let r = obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == Value::Bool(true) && r["kind"] == kind)?;
    Some((
        group.to_string(),
        plural.to_string(),
        ns.to_string(),
        r["name"].as_str()?.to_string(),
    ))
}

/// The objects of a controller (by controller reference), with their keys.
pub fn owned(cx: &Cx, owner: &Value, group: &str, plural: &str, kind: &str) -> Vec<Value> {
    let uid = uid(owner);
    cx.index
        .dependents(uid)
        .into_iter()
        .filter(|k| is(k, group, plural))
        .filter_map(|k| cx.st.objects.get(&k))
        .filter(|o| controller_uid(o, kind) == Some(uid))
        .cloned()
        .collect()
}

/// A Service's selector (a plain map) against labels; an empty one selects nothing.
pub fn map_selects(sel: &Value, labels: &Value) -> bool {
    sel.as_object().is_some_and(|m| !m.is_empty())
        && LabelSelector::from_parts(sel, &Value::Null).matches_labels(labels)
}

pub fn pod_active(pod: &Value) -> bool {
    !deleting(pod)
        && !matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        )
}

pub fn condition_true(obj: &Value, t: &str) -> bool {
    obj["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == t && c["status"] == "True")
}

pub fn pod_ready(pod: &Value) -> bool {
    condition_true(pod, "Ready")
}

/// Sets a condition in `status.conditions`, keeping lastTransitionTime when
/// the status does not change (and lastUpdateTime, when `update_time`, if
/// nothing changes at all).
pub fn set_condition(
    status: &mut Value,
    t: &str,
    value: &str,
    reason: &str,
    message: &str,
    update_time: bool,
) {
    let now = crate::store::now_rfc3339();
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    let conds = status["conditions"].as_array_mut().expect("array");
    let mut c = json!({"type": t, "status": value});
    if update_time {
        c["lastUpdateTime"] = json!(now);
    }
    c["lastTransitionTime"] = json!(now);
    c["reason"] = json!(reason);
    c["message"] = json!(message);
    match conds.iter_mut().find(|c| c["type"] == t) {
        Some(old) => {
            if old["status"] == value && old["reason"] == reason && old["message"] == message {
                return;
            }
            if old["status"] == value {
                c["lastTransitionTime"] = old["lastTransitionTime"].clone();
            }
            *old = c;
        }
        None => conds.push(c),
    }
}

/// Writes a new status when it differs from the stored one.
pub fn write_status(cx: &mut Cx, key: &Key, status: Value) {
    let Some(mut obj) = get(cx.st, key) else {
        return;
    };
    if obj["status"] == status {
        return;
    }
    obj["status"] = status;
    let r = res(&key.0, &key.1);
    let _ = rest::update(cx.st, r, &key.2, &key.3, obj, Some("status"), false);
}

/// Writes an object's main resource (spec, metadata).
pub fn write(cx: &mut Cx, key: &Key, obj: Value) -> Option<Value> {
    let r = res(&key.0, &key.1);
    rest::update(cx.st, r, &key.2, &key.3, obj, None, false).ok()
}

pub fn create(cx: &mut Cx, r: &ResourceInfo, ns: &str, obj: Value) -> Option<Value> {
    let opts = rest::CreateOptions {
        dry_run: false,
        keep_status: false,
    };
    rest::create(cx.st, r, ns, obj, opts).ok()
}

/// Deletes an object with a propagation policy (None: the resource's default).
pub fn delete(st: &mut Store, key: &Key, policy: Option<&str>) -> bool {
    let r = res(&key.0, &key.1);
    let opts = rest::DeleteOptions {
        grace_period: None,
        precondition_uid: None,
        precondition_rv: None,
        propagation: policy.map(String::from),
    };
    rest::delete(st, r, &key.2, &key.3, &opts, false).is_ok()
}

/// An int-or-percent (`maxSurge: 25%`) of a total, rounded up or down.
pub fn int_or_percent(v: &Value, total: i64, default: &str, round_up: bool) -> i64 {
    let v = if v.is_null() {
        json!(default)
    } else {
        v.clone()
    };
    match &v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<f64>().ok()) {
            Some(p) => {
                let x = p * total as f64 / 100.0;
                (if round_up { x.ceil() } else { x.floor() }) as i64
            }
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// kube-controller-manager's hash of a template: FNV-32a, written with the
/// alphabet of generated names (as `pod-template-hash` values look).
pub fn template_hash(template: &Value, collisions: i64) -> String {
    let mut h: u32 = 0x811c9dc5;
    let mut feed = |b: &[u8]| {
        for x in b {
            h ^= *x as u32;
            h = h.wrapping_mul(0x01000193);
        }
    };
    feed(canonical(template).as_bytes());
    if collisions > 0 {
        feed(collisions.to_string().as_bytes());
    }
    safe_encode(&h.to_string())
}

/// Maps each character onto the alphabet without vowels (k8s rand.SafeEncodeString).
pub fn safe_encode(s: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}

/// JSON with every object's keys sorted (templates compare and hash the same
/// whatever order a client wrote them in), and members holding a Go zero
/// value (null, false, 0, an empty list or object) left out: the controller
/// manager compares Go structs, where such a member and a missing one are the
/// same value. A template written by kubectl in protobuf carries `stdin:
/// false`, `ports: null` …, the same template sent back as JSON by `rollout
/// undo` does not; both must be one template.
pub fn canonical(v: &Value) -> String {
    fn is_zero(v: &Value) -> bool {
        match v {
            Value::Null | Value::Bool(false) => true,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty(),
            _ => false,
        }
    }
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    let member = sorted(&m[k]);
                    if !is_zero(&member) {
                        out.insert(k.clone(), member);
                    }
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            o => o.clone(),
        }
    }
    sorted(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_zero_members_do_not_change_a_template() {
        let from_protobuf = serde_json::json!({"spec": {"containers": [{"name": "c",
            "stdin": false, "ports": null, "resources": {}}], "hostIPC": false,
            "initContainers": null}, "metadata": {"labels": {"app": "web"}}});
        let from_json = serde_json::json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c"}]}});
        assert_eq!(canonical(&from_protobuf), canonical(&from_json));
        assert_eq!(
            template_hash(&from_protobuf, 0),
            template_hash(&from_json, 0)
        );
        let other = serde_json::json!({"spec": {"containers": [{"name": "c", "stdin": true}]}});
        assert_ne!(canonical(&other), canonical(&from_json));
    }

    #[test]
    fn selectors_and_percentages() {
        let labels = json!({"app": "web", "tier": "front"});
        assert!(map_selects(&json!({"app": "web"}), &labels));
        assert!(!map_selects(&json!({}), &labels));
        assert_eq!(1, int_or_percent(&Value::Null, 3, "25%", true));
        assert_eq!(0, int_or_percent(&Value::Null, 3, "25%", false));
        assert_eq!(2, int_or_percent(&json!(2), 3, "25%", false));
        assert_eq!(5, int_or_percent(&json!("50%"), 10, "25%", false));
    }

    #[test]
    fn template_hashes_ignore_key_order() {
        let a = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}});
        let b = json!({"spec": {"x": 1}, "metadata": {"labels": {"b": "2", "a": "1"}}});
        assert_eq!(template_hash(&a, 0), template_hash(&b, 0));
        assert_ne!(template_hash(&a, 0), template_hash(&a, 1));
        let h = template_hash(&a, 0);
        assert!(h.len() >= 8 && h.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}

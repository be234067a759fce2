//! Strategic merge patch (`application/strategic-merge-patch+json`): a JSON
//! merge patch whose lists merge per the type's patch strategy (see
//! `merge_keys`) and which understands the patch directives:
//! `$patch: replace | delete | merge` (in maps and list elements),
//! `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
//! `$setElementOrder/<field>`; a null value deletes a key.

use super::merge_keys::{list_strategy, ListStrategy};
use crate::store::ApiError;
use serde_json::{Map, Value};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Applies `patch` to `target`, an object of kind `kind`.
pub fn apply(target: &mut Value, patch: &Value, kind: &str) -> Result<(), ApiError> {
    let Some(p) = patch.as_object() else {
        return Err(ApiError::bad_request(
            "invalid JSON document: a strategic merge patch must be a JSON object",
        ));
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("made an object above");
    match merge_map(t, p, kind, "")? {
        MapOutcome::Keep => Ok(()),
        MapOutcome::Delete => {
            t.clear();
            Ok(())
        }
    }
}

/// What the parent should do with a map after merging a patch into it.
enum MapOutcome {
    Keep,
    Delete,
}

/// Merges patch map `p` into `t`, the value of field `field`.
fn merge_map(
    t: &mut Map<String, Value>,
    p: &Map<String, Value>,
    kind: &str,
    field: &str,
) -> Result<MapOutcome, ApiError> {
    match p.get(PATCH) {
        None => {}
        Some(Value::String(s)) if s == "merge" => {}
        Some(Value::String(s)) if s == "delete" => return Ok(MapOutcome::Delete),
        Some(Value::String(s)) if s == "replace" => {
            t.clear();
            let without_directive: Map<String, Value> = p
                .iter()
                .filter(|(k, _)| k.as_str() != PATCH)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            return merge_map(t, &without_directive, kind, field);
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown patch type: {other} in map: {}",
                Value::Object(p.clone())
            )))
        }
    }
    let retain = retain_keys(p)?;
    let before = server_orders(t, p, kind, field);
    for (k, pv) in p {
        if k == PATCH || k == RETAIN_KEYS || k.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if let Some(list_field) = k.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            delete_from_primitive_list(t, list_field, pv)?;
            continue;
        }
        match pv {
            Value::Null => {
                t.remove(k);
            }
            Value::Object(pm) => {
                let tv = t
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !tv.is_object() {
                    *tv = Value::Object(Map::new());
                }
                let tm = tv.as_object_mut().expect("made an object above");
                if let MapOutcome::Delete = merge_map(tm, pm, kind, k)? {
                    t.remove(k);
                }
            }
            Value::Array(pl) => {
                let tv = t.entry(k.clone()).or_insert_with(|| Value::Array(vec![]));
                if !tv.is_array() {
                    *tv = Value::Array(vec![]);
                }
                let tl = tv.as_array_mut().expect("made an array above");
                merge_list(tl, pl, list_strategy(kind, field, k), kind, k)?;
            }
            scalar => {
                t.insert(k.clone(), scalar.clone());
            }
        }
    }
    for (list, server_order) in &before {
        let order = &p[&format!("{SET_ELEMENT_ORDER}{list}")];
        let strategy = list_strategy(kind, field, list);
        set_element_order(t, list, order, server_order, strategy)?;
    }
    if let Some(retain) = retain {
        t.retain(|k, _| retain.contains(k));
    }
    Ok(MapOutcome::Keep)
}

/// `$retainKeys`: after the merge, the map keeps only these keys; every
/// other key of the patch must be among them.
fn retain_keys(p: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(v) = p.get(RETAIN_KEYS) else {
        return Ok(None);
    };
    let keys: Vec<String> = v
        .as_array()
        .and_then(|l| l.iter().map(|k| k.as_str().map(String::from)).collect())
        .ok_or_else(|| {
            ApiError::bad_request("invalid patch format: $retainKeys must be a list of strings")
        })?;
    let outside = p
        .iter()
        .any(|(k, v)| !k.starts_with('$') && !v.is_null() && !keys.contains(k));
    if outside {
        return Err(super::rejected_request());
    }
    Ok(Some(keys))
}

fn delete_from_primitive_list(
    t: &mut Map<String, Value>,
    field: &str,
    values: &Value,
) -> Result<(), ApiError> {
    let values = values.as_array().ok_or_else(|| {
        ApiError::bad_request("invalid patch format: $deleteFromPrimitiveList must be a list")
    })?;
    if let Some(Value::Array(tl)) = t.get_mut(field) {
        tl.retain(|v| !values.contains(v));
    }
    Ok(())
}

/// Merges patch list `pl` into `tl`, the value of list field `field`.
fn merge_list(
    tl: &mut Vec<Value>,
    pl: &[Value],
    strategy: ListStrategy,
    kind: &str,
    field: &str,
) -> Result<(), ApiError> {
    let replace = pl
        .iter()
        .any(|e| e.get(PATCH) == Some(&Value::from("replace")));
    if replace {
        tl.clear();
        let rest: Vec<Value> = pl
            .iter()
            .filter(|e| e.get(PATCH).is_none())
            .cloned()
            .collect();
        return merge_list(tl, &rest, strategy, kind, field);
    }
    match strategy {
        ListStrategy::Atomic => *tl = pl.to_vec(),
        ListStrategy::Set => {
            for v in pl {
                if !tl.contains(v) {
                    tl.push(v.clone());
                }
            }
        }
        ListStrategy::MergeByKey(key) => {
            for pe in pl {
                merge_list_element(tl, pe, key, kind, field)?;
            }
        }
    }
    Ok(())
}

fn merge_list_element(
    tl: &mut Vec<Value>,
    pe: &Value,
    key: &str,
    kind: &str,
    field: &str,
) -> Result<(), ApiError> {
    let Some(pm) = pe.as_object() else {
        tl.push(pe.clone());
        return Ok(());
    };
    let Some(kv) = pm.get(key) else {
        return Err(ApiError::bad_request(format!(
            "map: {pe} does not contain declared merge key: {key}"
        )));
    };
    let pos = tl.iter().position(|te| te.get(key) == Some(kv));
    if pm.get(PATCH) == Some(&Value::from("delete")) {
        tl.retain(|te| te.get(key) != Some(kv));
        return Ok(());
    }
    let mut fresh = Map::new();
    let tm = match pos {
        Some(i) => match tl[i].as_object_mut() {
            Some(m) => m,
            None => &mut fresh,
        },
        None => &mut fresh,
    };
    if let MapOutcome::Delete = merge_map(tm, pm, kind, field)? {
        if let Some(i) = pos {
            tl.remove(i);
        }
        return Ok(());
    }
    if pos.is_none() {
        tl.push(Value::Object(fresh));
    }
    Ok(())
}

/// The identity of a list element: its merge key, or itself in a list of
/// primitives.
fn identity(v: &Value, strategy: ListStrategy) -> Value {
    match strategy {
        ListStrategy::MergeByKey(key) => v.get(key).cloned().unwrap_or(Value::Null),
        _ => v.clone(),
    }
}

/// The identities of the elements of list `field` of `t` before the merge:
/// the server order `$setElementOrder` keeps for the elements it leaves out.
fn server_orders(
    t: &Map<String, Value>,
    p: &Map<String, Value>,
    kind: &str,
    field: &str,
) -> Vec<(String, Vec<Value>)> {
    p.keys()
        .filter_map(|k| k.strip_prefix(SET_ELEMENT_ORDER))
        .map(|list| {
            let strategy = list_strategy(kind, field, list);
            let order = t
                .get(list)
                .and_then(Value::as_array)
                .map(|l| l.iter().map(|e| identity(e, strategy)).collect())
                .unwrap_or_default();
            (list.to_string(), order)
        })
        .collect()
}

/// `$setElementOrder/<field>`: the listed elements in the listed order, and
/// the elements only the server has kept in their old relative order,
/// interleaved by their old positions as the real server does.
fn set_element_order(
    t: &mut Map<String, Value>,
    field: &str,
    order: &Value,
    server_order: &[Value],
    strategy: ListStrategy,
) -> Result<(), ApiError> {
    let order: Vec<Value> = order
        .as_array()
        .ok_or_else(|| {
            ApiError::bad_request("invalid patch format: $setElementOrder must be a list")
        })?
        .iter()
        .map(|e| identity(e, strategy))
        .collect();
    let Some(Value::Array(tl)) = t.get_mut(field) else {
        return Ok(());
    };
    let (mut listed, server_only): (Vec<Value>, Vec<Value>) = std::mem::take(tl)
        .into_iter()
        .partition(|e| order.contains(&identity(e, strategy)));
    listed.sort_by_key(|e| order.iter().position(|o| *o == identity(e, strategy)));
    let position = |e: &Value| {
        server_order
            .iter()
            .position(|o| *o == identity(e, strategy))
    };
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        listed.into_iter().peekable(),
    );
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!((position(l), position(r)), (Some(a), Some(b)) if a < b),
        };
        let next = if take_left { left.next() } else { right.next() };
        tl.extend(next);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(kind: &str, mut target: Value, patch: Value) -> Value {
        apply(&mut target, &patch, kind).expect("patch applies");
        target
    }

    fn pod() -> Value {
        json!({
            "metadata": {"name": "p", "labels": {"app": "web", "tier": "fe"},
                         "finalizers": ["a", "b"]},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80, "name": "http"}],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "side", "image": "busybox"}
                ],
                "tolerations": [{"key": "k1", "operator": "Exists"}],
                "volumes": [{"name": "v1", "emptyDir": {}}]
            }
        })
    }

    #[test]
    fn maps_merge_and_null_deletes() {
        let out = smp(
            "Pod",
            pod(),
            json!({"metadata": {"labels": {"tier": null, "new": "x"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({"app": "web", "new": "x"}));
    }

    #[test]
    fn containers_merge_by_name() {
        let out = smp(
            "Pod",
            pod(),
            json!({"spec": {"containers": [{"name": "web", "image": "nginx:2"}, {"name": "new", "image": "x"}]}}),
        );
        let c = &out["spec"]["containers"];
        assert_eq!(c.as_array().unwrap().len(), 3);
        assert_eq!(c[0]["image"], "nginx:2");
        assert_eq!(
            c[0]["ports"][0]["containerPort"], 80,
            "untouched fields stay"
        );
        assert_eq!(c[1]["name"], "side");
        assert_eq!(c[2]["name"], "new");
    }

    #[test]
    fn env_and_ports_merge_by_their_keys() {
        let out = smp(
            "Pod",
            pod(),
            json!({"spec": {"containers": [{"name": "web",
                "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}]}]}}),
        );
        let web = &out["spec"]["containers"][0];
        assert_eq!(
            web["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
        );
        assert_eq!(
            web["ports"],
            json!([{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 443}])
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let svc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}});
        let out = smp(
            "Service",
            svc,
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        );
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "targetPort": 9090}, {"port": 443}])
        );
    }

    #[test]
    fn atomic_lists_are_replaced() {
        let out = smp(
            "Pod",
            pod(),
            json!({"spec": {"tolerations": [{"key": "k2", "operator": "Exists"}]}}),
        );
        assert_eq!(
            out["spec"]["tolerations"],
            json!([{"key": "k2", "operator": "Exists"}])
        );
        let out = smp(
            "Pod",
            pod(),
            json!({"spec": {"containers": [{"name": "web", "args": ["x"]}]}}),
        );
        assert_eq!(out["spec"]["containers"][0]["args"], json!(["x"]));
    }

    #[test]
    fn finalizers_merge_as_a_set() {
        let out = smp(
            "Pod",
            pod(),
            json!({"metadata": {"finalizers": ["b", "c"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
    }

    #[test]
    fn delete_from_primitive_list() {
        let out = smp(
            "Pod",
            pod(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn patch_delete_in_a_list_element() {
        let out = smp(
            "Pod",
            pod(),
            json!({"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}),
        );
        assert_eq!(out["spec"]["containers"].as_array().unwrap().len(), 1);
        assert_eq!(out["spec"]["containers"][0]["name"], "web");
    }

    #[test]
    fn patch_delete_in_a_map() {
        let out = smp(
            "Pod",
            pod(),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
        );
        assert!(out["metadata"].get("labels").is_none());
    }

    #[test]
    fn patch_replace_in_a_map() {
        let out = smp(
            "Pod",
            pod(),
            json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({"only": "this"}));
    }

    #[test]
    fn patch_replace_in_a_list() {
        let out = smp(
            "Pod",
            pod(),
            json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "solo", "image": "x"}]}}),
        );
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "solo", "image": "x"}])
        );
    }

    #[test]
    fn patch_merge_is_the_default() {
        let out = smp(
            "Pod",
            pod(),
            json!({"metadata": {"labels": {"$patch": "merge", "x": "y"}}}),
        );
        assert_eq!(
            out["metadata"]["labels"],
            json!({"app": "web", "tier": "fe", "x": "y"})
        );
    }

    #[test]
    fn unknown_patch_directive_is_a_bad_request() {
        let mut t = pod();
        let e = apply(&mut t, &json!({"metadata": {"$patch": "explode"}}), "Pod").unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message.starts_with("unknown patch type: \"explode\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn merge_key_missing_is_a_bad_request() {
        let mut t = pod();
        let e = apply(
            &mut t,
            &json!({"spec": {"containers": [{"image": "x"}]}}),
            "Pod",
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(e
            .message
            .contains("does not contain declared merge key: name"));
    }

    #[test]
    fn retain_keys_clears_other_fields() {
        let dep = json!({"spec": {"strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1}}}});
        let out = smp(
            "Deployment",
            dep,
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        );
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn retain_keys_must_cover_the_patch() {
        let mut t = json!({"spec": {}});
        let p = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
        assert_eq!(apply(&mut t, &p, "Deployment").unwrap_err().code, 422);
    }

    #[test]
    fn set_element_order_orders_merged_lists() {
        let out = smp(
            "Pod",
            pod(),
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "side"}, {"name": "new"}, {"name": "web"}],
                "containers": [{"name": "new", "image": "x"}]
            }}),
        );
        let names: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["side", "new", "web"]);
    }

    #[test]
    fn set_element_order_keeps_server_only_elements_in_place() {
        let live = json!({"spec": {"containers": [
            {"name": "a"}, {"name": "injected"}, {"name": "b"}
        ]}});
        let out = smp(
            "Pod",
            live,
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
                "containers": [{"name": "c"}]}}),
        );
        let names: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "injected", "b", "c"]);
    }

    #[test]
    fn set_element_order_on_primitive_lists() {
        let out = smp(
            "Pod",
            pod(),
            json!({"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "b", "a"]));
    }

    #[test]
    fn new_nested_values_lose_their_directives() {
        let out = smp(
            "Pod",
            json!({}),
            json!({"spec": {"containers": [{"name": "c", "env": [{"name": "X", "$patch": "delete"}]}]}}),
        );
        assert_eq!(out["spec"]["containers"], json!([{"name": "c", "env": []}]));
    }

    #[test]
    fn top_level_must_be_an_object() {
        let mut t = pod();
        assert_eq!(apply(&mut t, &json!([1]), "Pod").unwrap_err().code, 400);
    }
}

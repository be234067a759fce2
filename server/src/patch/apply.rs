//! Server-side apply (`application/apply-patch+yaml`) and the field
//! ownership it keeps in `metadata.managedFields`.
//!
//! Each managedFields entry is a manager (`manager`, `operation` Apply or
//! Update, `apiVersion`, optional `subresource`) and the set of fields it
//! owns, written as FieldsV1 (see `fieldpath`). Apply merges the applied
//! configuration into the live object by the same list keys as strategic
//! merge, refuses (409) to change a field another manager owns unless
//! forced (then takes it over), and removes the fields the manager applied
//! before but no longer does when nobody else owns them. Updates (PUT and
//! the other patch types) record the fields they changed for their manager
//! and take them away from the others.
//!
//! Simplified from the real server: an Apply entry is matched by manager
//! name and subresource only; of a kind with a status subresource, the
//! main resource's field sets leave status out and the status
//! subresource's hold only status (the real server resets per kind); no type-aware
//! validation of the applied configuration; objects that have no
//! managedFields yet are owned by `before-first-apply` on their first apply,
//! as the real server does.

use super::fieldpath::{self, FieldSet};
use super::strategic_merge;
use crate::store::{now_rfc3339, ApiError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Who is writing, through which API version and subresource.
pub struct Writer<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub subresource: Option<&'a str>,
    /// The kind of the object, which picks its list merge keys.
    pub kind: &'a str,
    /// Which top-level fields the write can change.
    pub scope: Scope,
}

/// Which top-level fields a write can change: a kind with a status
/// subresource ignores status written to the main resource and everything
/// but status written to the status subresource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everything,
    AllButStatus,
    StatusOnly,
}

impl Scope {
    /// Whether top-level field `field` (not metadata) is in scope.
    fn covers(self, field: &str) -> bool {
        match self {
            Scope::Everything => true,
            Scope::AllButStatus => field != "status",
            Scope::StatusOnly => field == "status",
        }
    }
}

const APPLY: &str = "Apply";
const UPDATE: &str = "Update";
/// The manager the real server gives the fields of an object that had no
/// managedFields when it was first applied to.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: Option<String>,
    fields: FieldSet,
}

impl Entry {
    fn new(operation: &str, w: &Writer, fields: FieldSet) -> Self {
        Entry {
            manager: w.manager.to_string(),
            operation: operation.to_string(),
            api_version: w.api_version.to_string(),
            time: now_rfc3339(),
            subresource: w.subresource.map(String::from),
            fields,
        }
    }

    /// Whether this entry is the one `w` writes with `operation`: appliers
    /// keep one entry whatever their API version, updaters one per version.
    fn is_writer(&self, operation: &str, w: &Writer) -> bool {
        self.manager == w.manager
            && self.operation == operation
            && self.subresource.as_deref() == w.subresource
            && (operation == APPLY || self.api_version == w.api_version)
    }

    /// The manager as the real server names it in conflict messages.
    fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == UPDATE {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fieldpath::to_fields_v1(&self.fields),
        });
        if let Some(sub) = &self.subresource {
            v["subresource"] = json!(sub);
        }
        v
    }

    fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Some(Entry {
            manager: s("manager")?,
            operation: s("operation").unwrap_or_else(|| UPDATE.into()),
            api_version: s("apiVersion").unwrap_or_default(),
            time: s("time").unwrap_or_default(),
            subresource: s("subresource"),
            fields: v
                .get("fieldsV1")
                .map(fieldpath::from_fields_v1)
                .unwrap_or_default(),
        })
    }
}

fn read_entries(obj: &Value) -> Vec<Entry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|l| l.iter().filter_map(Entry::from_json).collect())
        .unwrap_or_default()
}

/// Stores `entries` (those that still own something) in `obj`.
fn write_entries(obj: &mut Value, entries: Vec<Entry>) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(Entry::to_json)
        .collect();
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if list.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

/// The fields of `obj` that managers can own: not the identity and
/// bookkeeping the server sets, nor an ignored status.
fn owned_fields(obj: &Value, w: &Writer) -> FieldSet {
    const SERVER_SET: [&str; 12] = [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
        "generateName",
        "clusterName",
    ];
    fieldpath::fields_of(obj, w.kind)
        .into_iter()
        .filter(|p| {
            let f = |i: usize| p.get(i).and_then(|s| s.strip_prefix("f:"));
            match (f(0), f(1)) {
                (Some("apiVersion" | "kind") | None, _) => false,
                (Some("metadata"), None) => false,
                (Some("metadata"), Some(m)) => {
                    w.scope != Scope::StatusOnly && !SERVER_SET.contains(&m)
                }
                (Some(top), _) => w.scope.covers(top),
            }
        })
        .collect()
}

/// Applies configuration `config` for `w` onto `live` (None: the object
/// does not exist yet). `force` takes over fields other managers own.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    w: &Writer,
    force: bool,
) -> Result<Value, ApiError> {
    if !config["metadata"]["managedFields"].is_null() {
        return Err(ApiError::new(
            400,
            "BadRequest",
            "metadata.managedFields must be nil",
        ));
    }
    let mut config = config.clone();
    if let Some(m) = config.as_object_mut() {
        m.retain(|k, _| {
            matches!(k.as_str(), "apiVersion" | "kind" | "metadata") || w.scope.covers(k)
        });
    }
    let applied = owned_fields(&config, w);
    let live = live.cloned().unwrap_or_else(|| json!({}));
    let mut entries = read_entries(&live);
    if entries.is_empty() && live.as_object().is_some_and(|m| !m.is_empty()) {
        let mut first = Entry::new(UPDATE, w, owned_fields(&live, w));
        first.manager = BEFORE_FIRST_APPLY.into();
        first.subresource = None;
        entries.push(first);
    }

    let mut merged = live.clone();
    if let Some(meta) = merged.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    strategic_merge::apply(&mut merged, &config, w.kind)?;

    let mine = entries.iter().position(|e| e.is_writer(APPLY, w));
    let conflicts = find_conflicts(&entries, mine, &applied, &live, &merged);
    if !conflicts.is_empty() {
        if !force && !client_side_upgrade(&entries, &conflicts, &live, w) {
            return Err(conflict_error(&entries, &conflicts));
        }
        for (i, path) in &conflicts {
            entries[*i].fields.remove(path);
        }
    }

    if let Some(i) = mine {
        let others: FieldSet = entries
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, e)| e.fields.iter().cloned())
            .collect();
        for path in entries[i].fields.difference(&applied) {
            let kept = others.contains(path) || fieldpath::has_members_under(&others, path);
            if !kept {
                fieldpath::remove(&mut merged, path);
            }
        }
        entries[i].fields = applied;
        entries[i].time = now_rfc3339();
        entries[i].api_version = w.api_version.to_string();
    } else {
        entries.push(Entry::new(APPLY, w, applied));
    }
    write_entries(&mut merged, entries);
    if w.manager == KUBECTL && last_applied(&live).is_some() {
        sync_last_applied(&mut merged, &config);
    }
    Ok(merged)
}

/// kubectl's server-side apply manager, the only one the real server moves
/// client-side apply's fields to.
const KUBECTL: &str = "kubectl";
const CLIENT_SIDE_APPLY: &str = "kubectl-client-side-apply";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn last_applied(obj: &Value) -> Option<Value> {
    let text = obj["metadata"]["annotations"][LAST_APPLIED].as_str()?;
    serde_json::from_str(text).ok()
}

/// Moving from `kubectl apply` to `kubectl apply --server-side`: conflicts
/// only with client-side apply's manager, on fields its last-applied
/// annotation holds, are taken over as if forced (kube-apiserver's
/// lastAppliedManager). Other managers than "kubectl" opt out.
fn client_side_upgrade(
    entries: &[Entry],
    conflicts: &[(usize, fieldpath::Path)],
    live: &Value,
    w: &Writer,
) -> bool {
    if w.manager != KUBECTL {
        return false;
    }
    let Some(config) = last_applied(live) else {
        return false;
    };
    let fields = owned_fields(&config, w);
    conflicts
        .iter()
        .all(|(i, path)| entries[*i].manager == CLIENT_SIDE_APPLY && fields.contains(path))
}

/// Keeps the last-applied annotation, where there is one, equal to what
/// kubectl applied server-side (kube-apiserver's lastAppliedUpdater): the
/// applied configuration without that annotation, as Go's encoder writes a
/// map (keys sorted).
fn sync_last_applied(merged: &mut Value, config: &Value) {
    let mut config = config.clone();
    if let Some(a) = config["metadata"]["annotations"].as_object_mut() {
        a.remove(LAST_APPLIED);
    }
    let text = sorted(&config).to_string();
    merged["metadata"]["annotations"][LAST_APPLIED] = Value::String(text);
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The fields (by entry index) that `applied` changes although another
/// manager owns them. Only leaves count: a shared list element is no
/// conflict, a different value in it is.
fn find_conflicts(
    entries: &[Entry],
    mine: Option<usize>,
    applied: &FieldSet,
    live: &Value,
    merged: &Value,
) -> Vec<(usize, fieldpath::Path)> {
    let mut out = vec![];
    for (i, e) in entries.iter().enumerate() {
        if Some(i) == mine {
            continue;
        }
        for path in applied.intersection(&e.fields) {
            let leaf = !fieldpath::has_members_under(applied, path);
            if leaf && fieldpath::get(live, path) != fieldpath::get(merged, path) {
                out.push((i, path.clone()));
            }
        }
    }
    out
}

/// The real server's 409 for apply conflicts.
fn conflict_error(entries: &[Entry], conflicts: &[(usize, fieldpath::Path)]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(i, path)| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", entries[*i].describe()),
                "field": fieldpath::display(path),
            })
        })
        .collect();
    let message = if let [(i, path)] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            entries[*i].describe(),
            fieldpath::display(path)
        )
    } else {
        let mut by_manager: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, path) in conflicts {
            by_manager
                .entry(entries[*i].describe())
                .or_default()
                .push(fieldpath::display(path));
        }
        let lines: Vec<String> = by_manager
            .iter()
            .flat_map(|(m, paths)| {
                std::iter::once(format!("conflicts with {m}:"))
                    .chain(paths.iter().map(|p| format!("- {p}")))
            })
            .collect();
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let mut e = ApiError::new(409, "Conflict", message);
    e.details = json!({ "causes": causes });
    e
}

/// Records an update (PUT or a non-apply patch) from `old` to `new` for
/// `w`: the fields it changed become its own and no one else's, removed
/// fields are no one's. A write that set managedFields itself keeps them
/// (`[{}]` or `[]` clears them, as on the real server).
pub fn record_update(old: &Value, new: &mut Value, w: &Writer) {
    let written = &new["metadata"]["managedFields"];
    let mut entries = if *written == old["metadata"]["managedFields"] {
        read_entries(old)
    } else if written
        .as_array()
        .is_none_or(|l| l.iter().all(is_empty_entry))
    {
        write_entries(new, vec![]);
        return;
    } else {
        read_entries(new)
    };
    let old_set = owned_fields(old, w);
    let new_set = owned_fields(new, w);
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| {
            if fieldpath::has_members_under(&new_set, p) {
                fieldpath::get(old, p).is_none()
            } else {
                fieldpath::get(old, p) != fieldpath::get(new, p)
            }
        })
        .cloned()
        .collect();
    let removed: FieldSet = old_set.difference(&new_set).cloned().collect();
    for e in entries.iter_mut() {
        e.fields
            .retain(|p| !changed.contains(p) && !removed.contains(p));
    }
    match entries.iter_mut().find(|e| e.is_writer(UPDATE, w)) {
        Some(e) => {
            if !changed.is_empty() {
                e.time = now_rfc3339();
            }
            e.fields.extend(changed);
        }
        None => entries.push(Entry::new(UPDATE, w, changed)),
    }
    write_entries(new, entries);
}

fn is_empty_entry(v: &Value) -> bool {
    v.as_object().is_none_or(Map::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            api_version: "apps/v1",
            subresource: None,
            kind: "Deployment",
            scope: Scope::AllButStatus,
        }
    }

    fn config(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": image}
            ]}}}
        })
    }

    fn entry<'a>(obj: &'a Value, manager: &str) -> &'a Value {
        obj["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == manager)
            .unwrap_or_else(|| panic!("no entry for {manager} in {obj}"))
    }

    #[test]
    fn apply_creates_and_records_ownership() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        assert_eq!(obj["spec"]["replicas"], 2);
        let e = entry(&obj, "alice");
        assert_eq!(e["operation"], "Apply");
        assert_eq!(e["apiVersion"], "apps/v1");
        assert_eq!(e["fieldsType"], "FieldsV1");
        assert!(e["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            e["fieldsV1"],
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}
                }}}}
            })
        );
    }

    #[test]
    fn reapplying_by_the_same_manager_changes_values_without_conflict() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let obj = apply(Some(&obj), &config(3, "nginx:2"), &writer("alice"), false).unwrap();
        assert_eq!(obj["spec"]["replicas"], 3);
        assert_eq!(
            obj["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2"
        );
        assert_eq!(
            obj["metadata"]["managedFields"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn another_manager_changing_an_owned_field_conflicts() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let e = apply(Some(&obj), &config(5, "nginx"), &writer("bob"), false).unwrap_err();
        assert_eq!(e.code, 409);
        assert_eq!(e.reason, "Conflict");
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas"
        );
        assert_eq!(
            e.details["causes"],
            json!([{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"",
                    "field": ".spec.replicas"}])
        );
    }

    #[test]
    fn several_conflicts_are_listed_per_manager() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let e = apply(Some(&obj), &config(5, "httpd"), &writer("bob"), false).unwrap_err();
        assert_eq!(
            e.message,
            "Apply failed with 2 conflicts: conflicts with \"alice\":\n\
             - .spec.replicas\n\
             - .spec.template.spec.containers[name=\"web\"].image"
        );
        assert_eq!(e.details["causes"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn same_value_from_another_manager_is_shared_ownership() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let obj = apply(Some(&obj), &config(2, "nginx"), &writer("bob"), false).unwrap();
        assert!(entry(&obj, "alice")["fieldsV1"]["f:spec"]["f:replicas"].is_object());
        assert!(entry(&obj, "bob")["fieldsV1"]["f:spec"]["f:replicas"].is_object());
    }

    /// `kubectl apply` then `kubectl apply --server-side` with a changed
    /// field: kube-apiserver 1.32 answers 200, the field now kubectl's Apply
    /// and the last-applied annotation equal to the applied configuration;
    /// another manager still gets the 409.
    #[test]
    fn client_side_apply_moves_to_kubectl() {
        let mut live = config(1, "nginx:1");
        live["metadata"]["annotations"] = json!({LAST_APPLIED: config(1, "nginx:1").to_string()});
        record_update(&json!({}), &mut live, &writer(CLIENT_SIDE_APPLY));
        let e = apply(Some(&live), &config(2, "nginx:1"), &writer("other"), false).unwrap_err();
        assert_eq!(e.code, 409);
        let done = apply(Some(&live), &config(2, "nginx:1"), &writer(KUBECTL), false).unwrap();
        assert_eq!(done["spec"]["replicas"], 2);
        let entry = |m: &str| {
            done["metadata"]["managedFields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["manager"] == m)
                .cloned()
        };
        assert_eq!(entry(KUBECTL).unwrap()["operation"], "Apply");
        assert!(entry(KUBECTL).unwrap()["fieldsV1"]["f:spec"]["f:replicas"].is_object());
        let csa = entry(CLIENT_SIDE_APPLY).unwrap();
        assert!(csa["fieldsV1"]["f:spec"].get("f:replicas").is_none());
        let annotation: Value = serde_json::from_str(
            done["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(annotation["spec"]["replicas"], 2);
    }

    #[test]
    fn force_takes_ownership() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let obj = apply(Some(&obj), &config(5, "nginx"), &writer("bob"), true).unwrap();
        assert_eq!(obj["spec"]["replicas"], 5);
        assert!(entry(&obj, "alice")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none());
        assert!(entry(&obj, "bob")["fieldsV1"]["f:spec"]["f:replicas"].is_object());
    }

    #[test]
    fn fields_no_longer_applied_are_removed() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let mut smaller = config(2, "nginx");
        smaller["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("labels");
        smaller["spec"].as_object_mut().unwrap().remove("replicas");
        let obj = apply(Some(&obj), &smaller, &writer("alice"), false).unwrap();
        assert!(obj["spec"].get("replicas").is_none());
        assert!(obj["metadata"]["labels"].get("app").is_none());
    }

    #[test]
    fn fields_another_manager_owns_stay() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let obj = apply(Some(&obj), &config(2, "nginx"), &writer("bob"), false).unwrap();
        let mut smaller = config(2, "nginx");
        smaller["spec"].as_object_mut().unwrap().remove("replicas");
        let obj = apply(Some(&obj), &smaller, &writer("alice"), false).unwrap();
        assert_eq!(obj["spec"]["replicas"], 2);
    }

    #[test]
    fn list_elements_merge_by_key_across_managers() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let sidecar = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}}
        });
        let obj = apply(Some(&obj), &sidecar, &writer("bob"), false).unwrap();
        let names: Vec<&str> = obj["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["web", "side"]);
    }

    #[test]
    fn objects_without_managed_fields_belong_to_before_first_apply() {
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "u1"}, "spec": {"replicas": 1}});
        let e = apply(Some(&live), &config(2, "nginx"), &writer("alice"), false).unwrap_err();
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas"
        );
    }

    #[test]
    fn managed_fields_in_the_configuration_are_refused() {
        let mut c = config(1, "x");
        c["metadata"]["managedFields"] = json!([]);
        assert_eq!(
            apply(None, &c, &writer("alice"), false).unwrap_err().code,
            400
        );
    }

    #[test]
    fn status_is_ignored_on_the_main_resource() {
        let mut c = config(1, "x");
        c["status"] = json!({"replicas": 9});
        let obj = apply(None, &c, &writer("alice"), false).unwrap();
        assert!(obj.get("status").is_none());
        assert!(entry(&obj, "alice")["fieldsV1"].get("f:status").is_none());
    }

    #[test]
    fn the_status_subresource_applies_only_status() {
        let live = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let mut c = config(9, "other");
        c["status"] = json!({"readyReplicas": 2});
        let w = Writer {
            subresource: Some("status"),
            scope: Scope::StatusOnly,
            ..writer("controller")
        };
        let obj = apply(Some(&live), &c, &w, false).expect("spec is out of scope: no conflict");
        assert_eq!(obj["spec"]["replicas"], 2);
        assert_eq!(obj["status"]["readyReplicas"], 2);
        let e = entry(&obj, "controller");
        assert_eq!(e["subresource"], "status");
        assert_eq!(e["fieldsV1"], json!({"f:status": {"f:readyReplicas": {}}}));
    }

    #[test]
    fn updates_record_their_fields_and_take_them_over() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let mut new = obj.clone();
        new["spec"]["replicas"] = json!(7);
        new["metadata"]["labels"]["extra"] = json!("1");
        record_update(&obj, &mut new, &writer("kubectl-edit"));
        let e = entry(&new, "kubectl-edit");
        assert_eq!(e["operation"], "Update");
        assert_eq!(
            e["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:extra": {}}}, "f:spec": {"f:replicas": {}}})
        );
        assert!(entry(&new, "alice")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none());
        let e = apply(Some(&new), &config(3, "nginx"), &writer("alice"), false).unwrap_err();
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"
        );
    }

    #[test]
    fn an_update_that_changes_nothing_adds_no_entry() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let mut new = obj.clone();
        record_update(&obj, &mut new, &writer("noop"));
        assert_eq!(
            new["metadata"]["managedFields"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn an_update_can_clear_managed_fields() {
        let obj = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let mut new = obj.clone();
        new["metadata"]["managedFields"] = json!([{}]);
        record_update(&obj, &mut new, &writer("cleaner"));
        assert!(new["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn subresource_writers_are_named_with_it() {
        let live = apply(None, &config(2, "nginx"), &writer("alice"), false).unwrap();
        let mut new = live.clone();
        new["spec"]["replicas"] = json!(4);
        let scaler = Writer {
            subresource: Some("scale"),
            ..writer("hpa")
        };
        record_update(&live, &mut new, &scaler);
        assert_eq!(entry(&new, "hpa")["subresource"], "scale");
        let e = apply(Some(&new), &config(3, "nginx"), &writer("alice"), false).unwrap_err();
        assert!(
            e.message
                .contains("conflict with \"hpa\" with subresource \"scale\" using apps/v1"),
            "{}",
            e.message
        );
    }
}

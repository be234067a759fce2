//! The garbage collector: an object whose owners are all gone is deleted
//! (Background propagation); owner references to objects that are gone are
//! dropped while other owners remain. An owner deleted with
//! `propagationPolicy=Orphan` carries the `orphan` finalizer until its
//! dependents no longer name it; one deleted with `Foreground` carries
//! `foregroundDeletion` while its dependents are deleted, and goes once none
//! with `blockOwnerDeletion` is left.

use super::runner::{Controller, Cx, View};
use super::util;
use crate::store::{ChangeEvent, Key};
use serde_json::{json, Value};

#[derive(Default)]
pub struct GarbageCollector;

fn finalizers(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(String::from))
        .collect()
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str().map(String::from))
        .collect()
}

fn key_of(ev: &ChangeEvent) -> Key {
    (
        ev.group.clone(),
        ev.plural.clone(),
        ev.namespace.clone(),
        util::name(&ev.object).to_string(),
    )
}

fn has_gc_finalizer(obj: &Value) -> bool {
    util::deleting(obj)
        && finalizers(obj)
            .iter()
            .any(|f| f == "orphan" || f == "foregroundDeletion")
}

/// Removes one finalizer (the object goes if it was the last).
fn drop_finalizer(cx: &mut Cx, key: &Key, obj: &Value, name: &str) {
    let mut new = obj.clone();
    let rest: Vec<String> = finalizers(obj).into_iter().filter(|f| f != name).collect();
    new["metadata"]["finalizers"] = json!(rest);
    if rest.is_empty() {
        new["metadata"]
            .as_object_mut()
            .map(|m| m.remove("finalizers"));
    }
    util::write(cx, key, new);
}

impl Controller for GarbageCollector {
    fn name(&self) -> &'static str {
        "garbagecollector"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        for (k, o) in &view.st.objects {
            let dangling = owner_uids(o).iter().any(|u| !view.index.exists(u));
            if has_gc_finalizer(o) || dangling {
                out.push(k.clone());
            }
        }
    }

    fn on_change(&mut self, ev: &ChangeEvent, view: &View, out: &mut Vec<Key>) {
        let uid = util::uid(&ev.object);
        if ev.kind == "DELETED" {
            out.extend(view.index.dependents(uid));
            // An owner waiting in the foreground for this one.
            for o in owner_uids(&ev.object) {
                if let Some(k) = view.index.by_uid.get(&o) {
                    out.push(k.clone());
                }
            }
            return;
        }
        if has_gc_finalizer(&ev.object) {
            out.push(key_of(ev));
        }
        let owners = owner_uids(&ev.object);
        if owners.iter().any(|u| !view.index.exists(u)) {
            out.push(key_of(ev));
        }
        if util::deleting(&ev.object) {
            for o in owners {
                if let Some(k) = view.index.by_uid.get(&o) {
                    out.push(k.clone());
                }
            }
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(obj) = util::get(cx.st, key) else {
            return;
        };
        let uid = util::uid(&obj).to_string();
        let fins = finalizers(&obj);
        if util::deleting(&obj) && fins.iter().any(|f| f == "orphan") {
            for dk in cx.index.dependents(&uid) {
                let Some(mut dep) = util::get(cx.st, &dk) else {
                    continue;
                };
                if let Some(refs) = dep["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"] != uid.as_str());
                    if refs.is_empty() {
                        dep["metadata"]
                            .as_object_mut()
                            .map(|m| m.remove("ownerReferences"));
                    }
                }
                util::write(cx, &dk, dep);
            }
            drop_finalizer(cx, key, &obj, "orphan");
            return;
        }
        if util::deleting(&obj) && fins.iter().any(|f| f == "foregroundDeletion") {
            let mut blocking = 0;
            for dk in cx.index.dependents(&uid) {
                let Some(dep) = util::get(cx.st, &dk) else {
                    continue;
                };
                let blocks = dep["metadata"]["ownerReferences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| {
                        r["uid"] == uid.as_str() && r["blockOwnerDeletion"] == Value::Bool(true)
                    });
                if !util::deleting(&dep) {
                    let policy = if blocks { "Foreground" } else { "Background" };
                    util::delete(cx.st, &dk, Some(policy));
                }
                if blocks && cx.st.objects.contains_key(&dk) {
                    blocking += 1;
                }
            }
            if blocking == 0 {
                if let Some(obj) = util::get(cx.st, key) {
                    drop_finalizer(cx, key, &obj, "foregroundDeletion");
                }
            }
            return;
        }
        let owners = owner_uids(&obj);
        if owners.is_empty() {
            return;
        }
        let gone: Vec<&String> = owners.iter().filter(|u| !cx.index.exists(u)).collect();
        if gone.is_empty() {
            return;
        }
        if gone.len() == owners.len() {
            if !util::deleting(&obj) {
                util::delete(cx.st, key, Some("Background"));
            }
            return;
        }
        let mut new = obj.clone();
        if let Some(refs) = new["metadata"]["ownerReferences"].as_array_mut() {
            refs.retain(|r| r["uid"].as_str().is_some_and(|u| cx.index.exists(u)));
        }
        util::write(cx, key, new);
    }
}

//! The ReplicaSet controller: keeps `spec.replicas` active pods from the
//! template (named `RS-NAME-xxxxx`, owned by the ReplicaSet), deletes the
//! surplus (unscheduled, then not ready, then newest first), records
//! SuccessfulCreate / SuccessfulDelete, and writes the status counts
//! (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
//! observedGeneration).

use super::runner::{Controller, Cx, View};
use super::{events, util};
use crate::selectors::LabelSelector;
use crate::store::{ChangeEvent, Key};
use serde_json::{json, Value};

/// Pods made in one pass (the rest in the next, as the real controller's
/// slow start batches them).
const BURST: i64 = 500;

#[derive(Default)]
pub struct ReplicaSets;

fn rs_key(ns: &str, name: &str) -> Key {
    ("apps".into(), "replicasets".into(), ns.into(), name.into())
}

impl Controller for ReplicaSets {
    fn name(&self) -> &'static str {
        "replicaset"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "apps", "replicasets", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        match (ev.group.as_str(), ev.plural.as_str()) {
            ("apps", "replicasets") if ev.kind != "DELETED" => {
                out.push(rs_key(&ev.namespace, util::name(&ev.object)))
            }
            ("", "pods") => {
                for obj in [Some(&ev.object), ev.previous.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    if let Some(k) = util::controller_key(
                        obj,
                        "ReplicaSet",
                        "apps",
                        "replicasets",
                        &ev.namespace,
                    ) {
                        out.push(k);
                    }
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(rs) = util::get(cx.st, key) else {
            return;
        };
        let pods = util::owned(cx, &rs, "", "pods", "ReplicaSet");
        let mut active: Vec<Value> = pods.into_iter().filter(util::pod_active).collect();
        let want = rs["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
        let have = active.len() as i64;
        if !util::deleting(&rs) && have < want {
            let template = &rs["spec"]["template"];
            for _ in 0..(want - have).min(BURST) {
                let mut meta = template["metadata"].clone();
                if !meta.is_object() {
                    meta = json!({});
                }
                meta["generateName"] = json!(format!("{}-", util::name(&rs)));
                meta["ownerReferences"] =
                    json!([util::controller_ref(&rs, "apps/v1", "ReplicaSet")]);
                meta.as_object_mut().map(|m| m.remove("name"));
                let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]});
                match util::create(cx, util::pods(), &key.2, pod) {
                    Some(p) => {
                        let msg = format!("Created pod: {}", util::name(&p));
                        events::record(
                            cx.st,
                            &rs,
                            "Normal",
                            "SuccessfulCreate",
                            &msg,
                            "replicaset-controller",
                        );
                        active.push(p);
                    }
                    None => break,
                }
            }
        } else if have > want {
            // Deleted first: unscheduled, then pending, then not ready, then the newest.
            let rank = |p: &Value| {
                (
                    !p["spec"]["nodeName"].is_null(),
                    p["status"]["phase"] == "Running",
                    util::pod_ready(p),
                    std::cmp::Reverse(
                        p["metadata"]["creationTimestamp"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    ),
                )
            };
            active.sort_by_key(rank);
            let surplus: Vec<Value> = active.drain(..(have - want) as usize).collect();
            for p in surplus {
                let pk = util::key(util::pods(), &key.2, util::name(&p));
                let msg = format!("Deleted pod: {}", util::name(&p));
                events::delete_owned(cx.st, &pk, None, &rs, &msg, "replicaset-controller");
            }
        }
        let selector = LabelSelector::from_object(&rs["spec"]["selector"]);
        let labels_match = |p: &&Value| {
            selector
                .as_ref()
                .is_some_and(|s| s.matches_labels(&p["metadata"]["labels"]))
        };
        let ready = active.iter().filter(|p| util::pod_ready(p)).count();
        let mut status = rs["status"].clone();
        if !status.is_object() {
            status = json!({});
        }
        status["replicas"] = json!(active.len());
        status["fullyLabeledReplicas"] = json!(active.iter().filter(labels_match).count());
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
        status["observedGeneration"] = rs["metadata"]["generation"].clone();
        for f in ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"] {
            if status[f] == 0 {
                status.as_object_mut().map(|m| m.remove(f));
            }
        }
        util::write_status(cx, key, status);
        if want - have > BURST && !util::deleting(&rs) {
            // The rest of a large scale-up, after requests had their turn.
            cx.after(0.0, key);
        }
    }
}

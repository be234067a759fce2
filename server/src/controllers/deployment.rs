//! The Deployment controller: one ReplicaSet per pod template (named
//! `DEPLOY-HASH`, labelled `pod-template-hash`, with the revision
//! annotations), rolled over as upstream rolls: RollingUpdate scales the new
//! ReplicaSet up within `maxSurge` and the old ones down within
//! `maxUnavailable`; Recreate scales the old ones to zero first. Paused
//! Deployments only report. Status: replicas counts, observedGeneration, the
//! Available and Progressing conditions; events: ScalingReplicaSet.
//! `kubectl rollout undo` (a template patch) finds the old ReplicaSet again
//! and gives it the next revision.

use super::runner::{Controller, Cx, View};
use super::{clock, events, util};
use crate::store::{ChangeEvent, Key};
use serde_json::{json, Value};
use std::collections::HashMap;

const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";
const HASH: &str = "pod-template-hash";

#[derive(Default)]
pub struct Deployments {
    /// When each rollout's progress deadline is due (one timer per due time).
    deadlines: HashMap<Key, u64>,
}

fn d_key(ns: &str, name: &str) -> Key {
    ("apps".into(), "deployments".into(), ns.into(), name.into())
}

fn rs_res() -> &'static crate::resources::ResourceInfo {
    util::res("apps", "replicasets")
}

fn replicas(o: &Value) -> i64 {
    o["spec"]["replicas"].as_i64().unwrap_or(1).max(0)
}

fn stat(o: &Value, f: &str) -> i64 {
    o["status"][f].as_i64().unwrap_or(0)
}

fn revision(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn stat_of(status: &Value, f: &str) -> i64 {
    status[f].as_i64().unwrap_or(0)
}

/// `spec.progressDeadlineSeconds`; None when unset or MaxInt32 (no deadline).
fn progress_deadline(d: &Value) -> Option<f64> {
    d["spec"]["progressDeadlineSeconds"]
        .as_i64()
        .filter(|s| *s != i64::from(i32::MAX) && *s >= 0)
        .map(|s| s as f64)
}

/// When a progressing rollout times out: its Progressing condition's
/// lastUpdateTime plus the deadline (None: no such condition, or it is
/// complete or timed out already).
fn timed_out_at(status: &Value, deadline: f64) -> Option<f64> {
    let c = status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Progressing")?;
    if c["reason"] == "NewReplicaSetAvailable" || c["reason"] == "ProgressDeadlineExceeded" {
        return None;
    }
    let from = c["lastUpdateTime"]
        .as_str()
        .and_then(crate::store::parse_rfc3339)?;
    Some(from + deadline)
}

fn set_transition_time(status: &mut Value, t: &Value) {
    if let Some(c) = status["conditions"]
        .as_array_mut()
        .and_then(|cs| cs.iter_mut().find(|c| c["type"] == "Progressing"))
    {
        c["lastTransitionTime"] = t.clone();
    }
}

/// A ReplicaSet's template without the hash label: what it is "for".
fn template_of(rs: &Value) -> Value {
    let mut t = rs["spec"]["template"].clone();
    if let Some(l) = t["metadata"]["labels"].as_object_mut() {
        l.remove(HASH);
    }
    t
}

fn same_template(a: &Value, b: &Value) -> bool {
    let norm = |t: &Value| {
        let mut t = t.clone();
        if t["metadata"]["labels"]
            .as_object()
            .is_some_and(|l| l.is_empty())
        {
            t["metadata"].as_object_mut().map(|m| m.remove("labels"));
        }
        if t["metadata"].as_object().is_some_and(|m| m.is_empty()) {
            t.as_object_mut().map(|m| m.remove("metadata"));
        }
        util::canonical(&t)
    };
    norm(a) == norm(b)
}

/// Scales a ReplicaSet and records ScalingReplicaSet.
fn scale(cx: &mut Cx, d: &Value, rs: &Value, to: i64, max_replicas: i64) -> Value {
    let from = replicas(rs);
    let key = util::key(rs_res(), util::namespace(rs), util::name(rs));
    let mut new = rs.clone();
    new["spec"]["replicas"] = json!(to);
    new["metadata"]["annotations"][DESIRED] = json!(replicas(d).to_string());
    new["metadata"]["annotations"][MAX] = json!(max_replicas.to_string());
    if new == *rs {
        return new;
    }
    let Some(stored) = util::write(cx, &key, new) else {
        return rs.clone();
    };
    if from != to {
        let dir = if to > from { "up" } else { "down" };
        let msg = format!(
            "Scaled {dir} replica set {} from {from} to {to}",
            util::name(rs)
        );
        events::record(
            cx.st,
            d,
            "Normal",
            "ScalingReplicaSet",
            &msg,
            "deployment-controller",
        );
    }
    stored
}

impl Controller for Deployments {
    fn name(&self) -> &'static str {
        "deployment"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "apps", "deployments", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        match (ev.group.as_str(), ev.plural.as_str()) {
            ("apps", "deployments") if ev.kind != "DELETED" => {
                out.push(d_key(&ev.namespace, util::name(&ev.object)))
            }
            ("apps", "replicasets") => {
                if let Some(k) = util::controller_key(
                    &ev.object,
                    "Deployment",
                    "apps",
                    "deployments",
                    &ev.namespace,
                ) {
                    out.push(k);
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(d) = util::get(cx.st, key) else {
            self.deadlines.remove(key);
            return;
        };
        if util::deleting(&d) {
            return;
        }
        let mut all = util::owned(cx, &d, "apps", "replicasets", "Deployment");
        all.sort_by_key(|r| {
            (
                r["metadata"]["creationTimestamp"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                util::name(r).to_string(),
            )
        });
        let template = d["spec"]["template"].clone();
        let want = replicas(&d);
        let rolling = d["spec"]["strategy"]["type"]
            .as_str()
            .unwrap_or("RollingUpdate")
            != "Recreate";
        let ru = &d["spec"]["strategy"]["rollingUpdate"];
        let (mut surge, mut unavailable) = if rolling {
            (
                util::int_or_percent(&ru["maxSurge"], want, "25%", true),
                util::int_or_percent(&ru["maxUnavailable"], want, "25%", false),
            )
        } else {
            (0, 0)
        };
        if rolling && surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        surge = surge.max(0);
        let max_revision = all.iter().map(revision).max().unwrap_or(0);
        let new_idx = all
            .iter()
            .position(|r| same_template(&template_of(r), &template));
        let paused = d["spec"]["paused"] == Value::Bool(true);
        let mut created_new = false;
        let mut new_rs = new_idx.map(|i| all.remove(i));
        let mut old = all;

        if !paused {
            // The new ReplicaSet: found (its revision becomes the newest) or made.
            match &mut new_rs {
                Some(rs) if revision(rs) < max_revision || revision(rs) == 0 => {
                    let mut r = rs.clone();
                    r["metadata"]["annotations"][REVISION] = json!((max_revision + 1).to_string());
                    let k = util::key(rs_res(), &key.2, util::name(rs));
                    if let Some(s) = util::write(cx, &k, r) {
                        *rs = s;
                    }
                }
                Some(_) => {}
                None => {
                    let collisions = d["status"]["collisionCount"].as_i64().unwrap_or(0);
                    let hash = util::template_hash(&template, collisions);
                    let current: i64 = old.iter().map(replicas).sum();
                    let start = if !rolling {
                        if old
                            .iter()
                            .any(|r| replicas(r) > 0 || stat(r, "replicas") > 0)
                        {
                            0
                        } else {
                            want
                        }
                    } else {
                        (want + surge - current).clamp(0, want)
                    };
                    let mut t = template.clone();
                    t["metadata"]["labels"][HASH] = json!(hash);
                    let mut sel = d["spec"]["selector"].clone();
                    sel["matchLabels"][HASH] = json!(hash);
                    let mut annotations = d["metadata"]["annotations"].clone();
                    if !annotations.is_object() {
                        annotations = json!({});
                    }
                    if let Some(a) = annotations.as_object_mut() {
                        a.remove("kubectl.kubernetes.io/last-applied-configuration");
                    }
                    annotations[REVISION] = json!((max_revision + 1).to_string());
                    annotations[DESIRED] = json!(want.to_string());
                    annotations[MAX] = json!((want + surge).to_string());
                    let rs = json!({
                        "apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": format!("{}-{hash}", util::name(&d)), "namespace": key.2,
                            "labels": t["metadata"]["labels"], "annotations": annotations,
                            "ownerReferences": [util::controller_ref(&d, "apps/v1", "Deployment")]},
                        "spec": {"replicas": start, "minReadySeconds": d["spec"]["minReadySeconds"].as_i64().unwrap_or(0),
                                 "selector": sel, "template": t},
                    });
                    if let Some(rs) = util::create(cx, rs_res(), &key.2, rs) {
                        created_new = true;
                        if start > 0 {
                            let msg = format!(
                                "Scaled up replica set {} from 0 to {start}",
                                util::name(&rs)
                            );
                            events::record(
                                cx.st,
                                &d,
                                "Normal",
                                "ScalingReplicaSet",
                                &msg,
                                "deployment-controller",
                            );
                        }
                        new_rs = Some(rs);
                    }
                }
            }
            if let Some(rs) = new_rs.clone() {
                if rolling {
                    let current: i64 = old.iter().map(replicas).sum::<i64>() + replicas(&rs);
                    let cur = replicas(&rs);
                    let to = if cur > want {
                        want
                    } else {
                        let room = (want + surge - current).max(0);
                        cur + room.min(want - cur)
                    };
                    new_rs = Some(scale(cx, &d, &rs, to, want + surge));
                    // Old ReplicaSets go down as far as availability allows.
                    let new_rs_ref = new_rs.as_ref().expect("set above");
                    let all_pods: i64 =
                        old.iter().map(replicas).sum::<i64>() + replicas(new_rs_ref);
                    let min_available = want - unavailable;
                    let new_unavailable =
                        replicas(new_rs_ref) - stat(new_rs_ref, "availableReplicas");
                    let mut budget = all_pods - min_available - new_unavailable;
                    // First the old pods that are not available anyway.
                    for r in old.iter_mut() {
                        if budget <= 0 {
                            break;
                        }
                        let unhealthy = replicas(r) - stat(r, "availableReplicas");
                        if unhealthy > 0 {
                            let down = unhealthy.min(budget);
                            *r = scale(cx, &d, r, replicas(r) - down, want + surge);
                            budget -= down;
                        }
                    }
                    let available: i64 = old
                        .iter()
                        .chain(new_rs.iter())
                        .map(|r| stat(r, "availableReplicas").min(replicas(r)))
                        .sum();
                    let mut allowed = (available - min_available).min(budget.max(0));
                    for r in old.iter_mut() {
                        if allowed <= 0 {
                            break;
                        }
                        let down = replicas(r).min(allowed);
                        if down > 0 {
                            *r = scale(cx, &d, r, replicas(r) - down, want + surge);
                            allowed -= down;
                        }
                    }
                } else {
                    for r in old.iter_mut() {
                        if replicas(r) > 0 {
                            *r = scale(cx, &d, r, 0, want);
                        }
                    }
                    let old_pods: i64 = old.iter().map(|r| stat(r, "replicas")).sum();
                    if old_pods == 0 {
                        new_rs = Some(scale(cx, &d, &rs, want, want));
                    }
                }
            }
            // Old ReplicaSets past revisionHistoryLimit go.
            let limit = d["spec"]["revisionHistoryLimit"]
                .as_i64()
                .unwrap_or(10)
                .max(0) as usize;
            let idle: Vec<&Value> = old
                .iter()
                .filter(|r| replicas(r) == 0 && stat(r, "replicas") == 0)
                .collect();
            if idle.len() > limit {
                let mut by_rev = idle.clone();
                by_rev.sort_by_key(|r| revision(r));
                for r in by_rev.iter().take(idle.len() - limit) {
                    util::delete(cx.st, &util::key(rs_res(), &key.2, util::name(r)), None);
                }
            }
        } else if let Some(rs) = new_rs.clone() {
            // Paused: scaling still reaches the current ReplicaSet when alone.
            if old.iter().all(|r| replicas(r) == 0) && replicas(&rs) != want {
                new_rs = Some(scale(cx, &d, &rs, want, want + surge));
            }
        }

        // The Deployment's revision annotation follows its newest ReplicaSet.
        if let Some(rs) = &new_rs {
            let rev = rs["metadata"]["annotations"][REVISION].clone();
            if !rev.is_null() && d["metadata"]["annotations"][REVISION] != rev {
                let mut nd = d.clone();
                nd["metadata"]["annotations"][REVISION] = rev;
                util::write(cx, key, nd);
            }
        }
        let Some(d) = util::get(cx.st, key) else {
            return;
        };
        let rss: Vec<&Value> = old.iter().chain(new_rs.iter()).collect();
        let sum = |f: &str| rss.iter().map(|r| stat(r, f)).sum::<i64>();
        let updated = new_rs.as_ref().map_or(0, |r| stat(r, "replicas"));
        let available = sum("availableReplicas");
        let total = sum("replicas");
        let mut status = d["status"].clone();
        if !status.is_object() {
            status = json!({});
        }
        status["observedGeneration"] = d["metadata"]["generation"].clone();
        status["replicas"] = json!(total);
        status["updatedReplicas"] = json!(updated);
        status["readyReplicas"] = json!(sum("readyReplicas"));
        status["availableReplicas"] = json!(available);
        status["unavailableReplicas"] =
            json!((want.max(total) - available).max(0).min(want.max(total)));
        for f in [
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ] {
            if status[f] == 0 {
                status.as_object_mut().map(|m| m.remove(f));
            }
        }
        if available >= want - unavailable {
            util::set_condition(
                &mut status,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                true,
            );
        } else {
            util::set_condition(
                &mut status,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                true,
            );
        }
        let rs_name = new_rs
            .as_ref()
            .map(|r| util::name(r).to_string())
            .unwrap_or_default();
        let prev = d["status"].clone();
        let prev_progress = prev["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing"))
            .cloned();
        let deadline = progress_deadline(&d);
        // As upstream: a rollout that completed and has no old pods left is
        // not looked at again (scaling keeps NewReplicaSetAvailable).
        let was_complete = total == updated
            && prev_progress
                .as_ref()
                .is_some_and(|c| c["reason"] == "NewReplicaSetAvailable");
        let complete = updated == want
            && total == want
            && available == want
            && d["metadata"]["generation"].as_i64().unwrap_or(0)
                <= status["observedGeneration"].as_i64().unwrap_or(0);
        // Progress: more updated, ready or available pods, or fewer old ones.
        let progressed = updated > stat_of(&prev, "updatedReplicas")
            || total - updated < stat_of(&prev, "replicas") - stat_of(&prev, "updatedReplicas")
            || sum("readyReplicas") > stat_of(&prev, "readyReplicas")
            || available > stat_of(&prev, "availableReplicas");
        if paused {
            util::set_condition(
                &mut status,
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                true,
            );
        } else if created_new {
            util::set_condition(
                &mut status,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{rs_name}\""),
                true,
            );
        } else if deadline.is_none() {
            if let Some(cs) = status["conditions"].as_array_mut() {
                cs.retain(|c| c["type"] != "Progressing");
            }
        } else if new_rs.is_some() && !was_complete {
            if complete {
                util::set_condition(
                    &mut status,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                    true,
                );
            } else if progressed || prev_progress.is_none() {
                // Progress moves lastUpdateTime on even when the reason stays.
                if let Some(cs) = status["conditions"].as_array_mut() {
                    cs.retain(|c| c["type"] != "Progressing");
                }
                util::set_condition(
                    &mut status,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    &format!("ReplicaSet \"{rs_name}\" is progressing."),
                    true,
                );
                if let Some(p) = prev_progress.as_ref().filter(|p| p["status"] == "True") {
                    set_transition_time(&mut status, &p["lastTransitionTime"]);
                }
            }
            // No progress for progressDeadlineSeconds (on the simulated
            // clock, which tests may move): Progressing=False.
            if let (Some(secs), false) = (deadline, complete) {
                match timed_out_at(&status, secs) {
                    Some(due) if due <= clock::now_secs() => util::set_condition(
                        &mut status,
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                        true,
                    ),
                    Some(due) => {
                        let due_ms = (due * 1000.0) as u64 + 1000;
                        if self.deadlines.insert(key.clone(), due_ms) != Some(due_ms) {
                            cx.at(due_ms, key);
                        }
                    }
                    None => {}
                }
            }
        }
        if let Some(conds) = status["conditions"].as_array_mut() {
            conds.sort_by_key(|c| if c["type"] == "Available" { 0 } else { 1 });
        }
        util::write_status(cx, key, status);
    }
}

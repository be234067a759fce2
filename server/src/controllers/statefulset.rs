//! The StatefulSet controller: pods `NAME-0` … `NAME-(n-1)` (hostname and
//! subdomain set, labelled with their revision, name and index), one at a
//! time in order with OrderedReady (each waits for the previous to be
//! Running and Ready) or all at once with Parallel; a claim per
//! volumeClaimTemplate and pod; scale-down from the highest ordinal; rolling
//! update from the highest ordinal down to the partition, one pod at a time.
//! Status: replicas, ready/current/updated/available counts, the current and
//! update revisions, observedGeneration.

use super::runner::{Controller, Cx, View};
use super::{events, history, util};
use crate::store::{ChangeEvent, Key};
use serde_json::{json, Value};

#[derive(Default)]
pub struct StatefulSets;

const REVISION: &str = "controller-revision-hash";

fn sts_key(ns: &str, name: &str) -> Key {
    ("apps".into(), "statefulsets".into(), ns.into(), name.into())
}

fn ordinal(set: &str, pod: &Value) -> Option<i64> {
    util::name(pod)
        .strip_prefix(set)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn running_ready(p: &Value) -> bool {
    p["status"]["phase"] == "Running" && util::pod_ready(p)
}

impl Controller for StatefulSets {
    fn name(&self) -> &'static str {
        "statefulset"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "apps", "statefulsets", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        match (ev.group.as_str(), ev.plural.as_str()) {
            ("apps", "statefulsets") if ev.kind != "DELETED" => {
                out.push(sts_key(&ev.namespace, util::name(&ev.object)))
            }
            ("", "pods") => {
                if let Some(k) = util::controller_key(
                    &ev.object,
                    "StatefulSet",
                    "apps",
                    "statefulsets",
                    &ev.namespace,
                ) {
                    out.push(k);
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(sts) = util::get(cx.st, key) else {
            return;
        };
        if util::deleting(&sts) {
            return;
        }
        let name = util::name(&sts).to_string();
        let spec = sts["spec"].clone();
        let want = spec["replicas"].as_i64().unwrap_or(1).max(0);
        let parallel = spec["podManagementPolicy"] == "Parallel";
        let all_pods = util::owned(cx, &sts, "", "pods", "StatefulSet");
        let in_use: Vec<String> = all_pods
            .iter()
            .filter_map(|p| p["metadata"]["labels"][REVISION].as_str().map(String::from))
            .collect();
        let (revision, _) = history::sync(
            cx,
            &sts,
            "StatefulSet",
            "controller.kubernetes.io/hash",
            &in_use,
        );
        let mut pods: Vec<Value> = all_pods
            .into_iter()
            .filter(|p| !util::deleting(p))
            .collect();
        pods.sort_by_key(|p| ordinal(&name, p).unwrap_or(i64::MAX));
        let has =
            |pods: &[Value], i: i64| pods.iter().find(|p| ordinal(&name, p) == Some(i)).cloned();
        let pods_res = util::pods();
        let mut changed = false;
        // Missing ordinals below the replica count, in order.
        for i in 0..want {
            if has(&pods, i).is_some() {
                continue;
            }
            if !parallel && (0..i).any(|j| !has(&pods, j).is_some_and(|p| running_ready(&p))) {
                break;
            }
            let pod_name = format!("{name}-{i}");
            let mut meta = spec["template"]["metadata"].clone();
            if !meta.is_object() {
                meta = json!({});
            }
            meta["name"] = json!(pod_name);
            meta["labels"][REVISION] = json!(revision);
            meta["labels"]["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
            meta["labels"]["apps.kubernetes.io/pod-index"] = json!(i.to_string());
            meta["ownerReferences"] = json!([util::controller_ref(&sts, "apps/v1", "StatefulSet")]);
            let mut pspec = spec["template"]["spec"].clone();
            pspec["hostname"] = json!(pod_name);
            if let Some(svc) = spec["serviceName"].as_str().filter(|s| !s.is_empty()) {
                pspec["subdomain"] = json!(svc);
            }
            for claim in spec["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let cname = format!("{}-{pod_name}", util::name(claim));
                let pvc_res = util::res("", "persistentvolumeclaims");
                if !cx
                    .st
                    .objects
                    .contains_key(&util::key(pvc_res, &key.2, &cname))
                {
                    let mut pvc = claim.clone();
                    pvc["apiVersion"] = json!("v1");
                    pvc["kind"] = json!("PersistentVolumeClaim");
                    pvc["metadata"]["name"] = json!(cname);
                    pvc["metadata"]["labels"] = spec["selector"]["matchLabels"].clone();
                    util::create(cx, pvc_res, &key.2, pvc);
                }
                let vols = pspec["volumes"].as_array().cloned().unwrap_or_default();
                let vname = util::name(claim);
                if !vols.iter().any(|v| v["name"] == vname) {
                    let mut vols = vols;
                    vols.push(
                        json!({"name": vname, "persistentVolumeClaim": {"claimName": cname}}),
                    );
                    pspec["volumes"] = json!(vols);
                }
            }
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pspec});
            if let Some(p) = util::create(cx, pods_res, &key.2, pod) {
                let msg = format!("create Pod {pod_name} in StatefulSet {name} successful");
                events::record(
                    cx.st,
                    &sts,
                    "Normal",
                    "SuccessfulCreate",
                    &msg,
                    "statefulset-controller",
                );
                pods.push(p);
                changed = true;
            }
            if !parallel {
                break;
            }
        }
        // Surplus ordinals go from the highest down.
        let surplus: Vec<Value> = pods
            .iter()
            .filter(|p| ordinal(&name, p).is_none_or(|i| i >= want))
            .cloned()
            .collect();
        for p in surplus
            .iter()
            .rev()
            .take(if parallel { usize::MAX } else { 1 })
        {
            let pn = util::name(p).to_string();
            let msg = format!("delete Pod {pn} in StatefulSet {name} successful");
            let pk = util::key(pods_res, &key.2, &pn);
            if events::delete_owned(cx.st, &pk, None, &sts, &msg, "statefulset-controller") {
                changed = true;
            }
        }
        pods.retain(|p| ordinal(&name, p).is_some_and(|i| i < want));
        // Rolling update: the highest outdated ordinal at or above the partition, when all are ready.
        let rolling = spec["updateStrategy"]["type"]
            .as_str()
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        let partition = spec["updateStrategy"]["rollingUpdate"]["partition"]
            .as_i64()
            .unwrap_or(0);
        if rolling && !changed && pods.len() as i64 == want && pods.iter().all(running_ready) {
            if let Some(old) = pods.iter().rev().find(|p| {
                p["metadata"]["labels"][REVISION] != revision.as_str()
                    && ordinal(&name, p).is_some_and(|i| i >= partition)
            }) {
                let pn = util::name(old).to_string();
                let msg = format!("delete Pod {pn} in StatefulSet {name} successful");
                let pk = util::key(pods_res, &key.2, &pn);
                events::delete_owned(cx.st, &pk, None, &sts, &msg, "statefulset-controller");
            }
        }
        let updated = pods
            .iter()
            .filter(|p| p["metadata"]["labels"][REVISION] == revision.as_str())
            .count() as i64;
        let ready = pods.iter().filter(|p| util::pod_ready(p)).count();
        let mut status = sts["status"].clone();
        if !status.is_object() {
            status = json!({});
        }
        let current = if updated == want && pods.len() as i64 == want {
            revision.clone()
        } else {
            status["currentRevision"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| revision.clone())
        };
        status["observedGeneration"] = sts["metadata"]["generation"].clone();
        status["replicas"] = json!(pods.len());
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
        status["currentReplicas"] = json!(pods
            .iter()
            .filter(|p| p["metadata"]["labels"][REVISION] == current.as_str())
            .count());
        status["updatedReplicas"] = json!(updated);
        status["currentRevision"] = json!(current);
        status["updateRevision"] = json!(revision);
        status["collisionCount"] = json!(0);
        for f in ["readyReplicas", "currentReplicas", "updatedReplicas"] {
            if status[f] == 0 {
                status.as_object_mut().map(|m| m.remove(f));
            }
        }
        util::write_status(cx, key, status);
    }
}

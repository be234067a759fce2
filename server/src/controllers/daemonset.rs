//! The DaemonSet controller: one pod per node that matches the template's
//! nodeSelector and whose NoSchedule/NoExecute taints it tolerates (with the
//! tolerations the controller adds to daemon pods), pinned there by a
//! required node affinity on `metadata.name` for the scheduler to honour;
//! pods on nodes that no longer qualify go; a template change replaces the
//! pods one node at a time (maxUnavailable 1). Status: the desired, current,
//! ready, available, updated and misscheduled counts, observedGeneration.

use super::runner::{Controller, Cx, View};
use super::{events, history, util};
use crate::store::{ChangeEvent, Key};
use serde_json::{json, Value};

#[derive(Default)]
pub struct DaemonSets;

const HASH: &str = "controller-revision-hash";

fn ds_key(ns: &str, name: &str) -> Key {
    ("apps".into(), "daemonsets".into(), ns.into(), name.into())
}

/// What the controller adds to every daemon pod's tolerations.
fn default_tolerations() -> Vec<Value> {
    let mut t: Vec<Value> = ["not-ready", "unreachable"]
        .iter()
        .map(|k| json!({"key": format!("node.kubernetes.io/{k}"), "operator": "Exists", "effect": "NoExecute"}))
        .collect();
    for k in [
        "disk-pressure",
        "memory-pressure",
        "pid-pressure",
        "unschedulable",
    ] {
        t.push(json!({"key": format!("node.kubernetes.io/{k}"), "operator": "Exists", "effect": "NoSchedule"}));
    }
    t
}

fn tolerated(tolerations: &[Value], taint: &Value) -> bool {
    tolerations.iter().any(|t| {
        let op = t["operator"].as_str().unwrap_or("Equal");
        let key = t["key"].as_str().unwrap_or("");
        (t["effect"]
            .as_str()
            .is_none_or(|e| e.is_empty() || e == taint["effect"]))
            && ((key.is_empty() && op == "Exists") || key == taint["key"])
            && (op == "Exists"
                || t["value"] == taint["value"]
                || (t["value"].is_null() && taint["value"].is_null()))
    })
}

fn wanted_on(template: &Value, tolerations: &[Value], node: &Value) -> bool {
    let labels = &node["metadata"]["labels"];
    let selector_ok = template["spec"]["nodeSelector"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).and_then(Value::as_str) == v.as_str());
    let taints_ok = node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| matches!(t["effect"].as_str(), Some("NoSchedule" | "NoExecute")))
        .all(|t| tolerated(tolerations, t));
    selector_ok && taints_ok
}

fn node_of(pod: &Value) -> Option<String> {
    if let Some(n) = pod["spec"]["nodeName"].as_str() {
        return Some(n.to_string());
    }
    pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]
        .as_str()
        .map(String::from)
}

impl Controller for DaemonSets {
    fn name(&self) -> &'static str {
        "daemonset"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "apps", "daemonsets", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, view: &View, out: &mut Vec<Key>) {
        match (ev.group.as_str(), ev.plural.as_str()) {
            ("apps", "daemonsets") if ev.kind != "DELETED" => {
                out.push(ds_key(&ev.namespace, util::name(&ev.object)))
            }
            ("", "pods") => {
                if let Some(k) = util::controller_key(
                    &ev.object,
                    "DaemonSet",
                    "apps",
                    "daemonsets",
                    &ev.namespace,
                ) {
                    out.push(k);
                }
            }
            ("", "nodes") => {
                for (k, _) in view.st.list(util::res("apps", "daemonsets"), None) {
                    out.push(k.clone());
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(ds) = util::get(cx.st, key) else {
            return;
        };
        if util::deleting(&ds) {
            return;
        }
        let template = ds["spec"]["template"].clone();
        let in_use: Vec<String> = util::owned(cx, &ds, "", "pods", "DaemonSet")
            .iter()
            .filter_map(|p| p["metadata"]["labels"][HASH].as_str().map(String::from))
            .collect();
        let (_, hash) = history::sync(cx, &ds, "DaemonSet", HASH, &in_use);
        let mut tolerations = template["spec"]["tolerations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for t in default_tolerations() {
            if !tolerations.contains(&t) {
                tolerations.push(t);
            }
        }
        let nodes: Vec<Value> = cx
            .st
            .list(util::res("", "nodes"), None)
            .into_iter()
            .map(|(_, n)| n.clone())
            .collect();
        let pods: Vec<Value> = util::owned(cx, &ds, "", "pods", "DaemonSet")
            .into_iter()
            .filter(|p| !util::deleting(p))
            .collect();
        let pods_res = util::pods();
        let (mut desired, mut current, mut ready, mut updated, mut misscheduled) = (0, 0, 0, 0, 0);
        let mut outdated_ready = vec![];
        let mut unavailable = 0;
        for node in &nodes {
            let nname = util::name(node).to_string();
            let on: Vec<&Value> = pods
                .iter()
                .filter(|p| node_of(p).as_deref() == Some(nname.as_str()))
                .collect();
            if !wanted_on(&template, &tolerations, node) {
                for p in &on {
                    misscheduled += 1;
                    util::delete(cx.st, &util::key(pods_res, &key.2, util::name(p)), None);
                }
                continue;
            }
            desired += 1;
            if on.is_empty() {
                let mut meta = template["metadata"].clone();
                if !meta.is_object() {
                    meta = json!({});
                }
                meta["generateName"] = json!(format!("{}-", util::name(&ds)));
                meta["labels"][HASH] = json!(hash);
                meta["labels"]["pod-template-generation"] = json!(ds["metadata"]["generation"]
                    .as_i64()
                    .unwrap_or(1)
                    .to_string());
                meta["ownerReferences"] =
                    json!([util::controller_ref(&ds, "apps/v1", "DaemonSet")]);
                let mut spec = template["spec"].clone();
                spec["tolerations"] = json!(tolerations);
                spec["affinity"]["nodeAffinity"]
                    ["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
                    "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [nname]}]}]});
                let pod =
                    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec});
                if let Some(p) = util::create(cx, pods_res, &key.2, pod) {
                    let msg = format!("Created pod: {}", util::name(&p));
                    events::record(
                        cx.st,
                        &ds,
                        "Normal",
                        "SuccessfulCreate",
                        &msg,
                        "daemonset-controller",
                    );
                }
                unavailable += 1;
                continue;
            }
            current += 1;
            let p = on[0];
            // Extra pods on one node go.
            for extra in on.iter().skip(1) {
                util::delete(cx.st, &util::key(pods_res, &key.2, util::name(extra)), None);
            }
            let is_ready = util::pod_ready(p);
            if is_ready {
                ready += 1;
            } else {
                unavailable += 1;
            }
            if p["metadata"]["labels"][HASH] == hash.as_str() {
                updated += 1;
            } else if is_ready {
                outdated_ready.push(util::name(p).to_string());
            } else {
                // An outdated pod that is not ready anyway is replaced at once.
                util::delete(cx.st, &util::key(pods_res, &key.2, util::name(p)), None);
            }
        }
        // Nodes that are gone take their pods along.
        for p in &pods {
            if let Some(n) = node_of(p) {
                if !nodes.iter().any(|node| util::name(node) == n) {
                    util::delete(cx.st, &util::key(pods_res, &key.2, util::name(p)), None);
                }
            }
        }
        let rolling = ds["spec"]["updateStrategy"]["type"]
            .as_str()
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        if rolling && unavailable == 0 {
            if let Some(name) = outdated_ready.first() {
                util::delete(cx.st, &util::key(pods_res, &key.2, name), None);
            }
        }
        let mut status = json!({
            "currentNumberScheduled": current, "desiredNumberScheduled": desired,
            "numberMisscheduled": misscheduled, "numberReady": ready,
            "observedGeneration": ds["metadata"]["generation"], "updatedNumberScheduled": updated,
            "numberAvailable": ready, "numberUnavailable": desired - ready,
        });
        for f in [
            "numberAvailable",
            "numberUnavailable",
            "updatedNumberScheduled",
        ] {
            if status[f] == 0 {
                status.as_object_mut().map(|m| m.remove(f));
            }
        }
        util::write_status(cx, key, status);
    }
}

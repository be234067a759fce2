//! kube-scheduler: binds each pending pod of the default scheduler to a
//! node that is Ready and schedulable, matches its nodeSelector and required
//! node affinity, has no taint it does not tolerate and room for another pod
//! (the least loaded wins). A pod no node takes gets `PodScheduled=False`
//! with the scheduler's message and a FailedScheduling event, and is tried
//! again when nodes change or pods leave.

use super::runner::{Controller, Cx, View};
use super::{events, util};
use crate::selectors;
use crate::store::{ChangeEvent, Key};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

struct NodeInfo {
    labels: Value,
    taints: Vec<Value>,
    ready: bool,
    unschedulable: bool,
    max_pods: u64,
}

#[derive(Default)]
pub struct Scheduler {
    nodes: BTreeMap<String, NodeInfo>,
    load: HashMap<String, u64>,
    /// (pods on it, node): the least loaded first.
    by_load: BTreeSet<(u64, String)>,
    placed: HashMap<Key, String>,
    waiting: BTreeSet<Key>,
}

fn node_info(n: &Value) -> NodeInfo {
    NodeInfo {
        labels: n["metadata"]["labels"].clone(),
        taints: n["spec"]["taints"].as_array().cloned().unwrap_or_default(),
        ready: util::condition_true(n, "Ready"),
        unschedulable: n["spec"]["unschedulable"] == Value::Bool(true),
        max_pods: n["status"]["allocatable"]["pods"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .unwrap_or(super::nodes::MAX_PODS as u64),
    }
}

fn ours(pod: &Value) -> bool {
    pod["spec"]["schedulerName"]
        .as_str()
        .is_none_or(|s| s == "default-scheduler")
}

fn tolerates(tolerations: &Value, taint: &Value) -> bool {
    tolerations.as_array().into_iter().flatten().any(|t| {
        let effect_ok = t["effect"]
            .as_str()
            .is_none_or(|e| e.is_empty() || e == taint["effect"]);
        let key = t["key"].as_str().unwrap_or("");
        let op = t["operator"].as_str().unwrap_or("Equal");
        let key_ok = (key.is_empty() && op == "Exists") || key == taint["key"];
        let value_ok = op == "Exists"
            || t["value"].as_str().unwrap_or("") == taint["value"].as_str().unwrap_or("");
        effect_ok && key_ok && value_ok
    })
}

/// A nodeSelectorTerm: its matchExpressions against the node's labels and its
/// matchFields against its name (metadata.name is the one field it has).
fn term_matches(term: &Value, name: &str, labels: &Value) -> bool {
    let req = selectors::node_requirement_matches;
    let exprs = term["matchExpressions"].as_array().into_iter().flatten();
    let fields = term["matchFields"].as_array().into_iter().flatten();
    let has_any = term["matchExpressions"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
        || term["matchFields"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
    has_any
        && exprs.into_iter().all(|e| {
            req(
                e,
                labels
                    .get(e["key"].as_str().unwrap_or(""))
                    .and_then(Value::as_str),
            )
        })
        && fields
            .into_iter()
            .all(|e| e["key"] == "metadata.name" && req(e, Some(name)))
}

/// What a pod asks of a node, read once per scheduling attempt.
struct Needs<'a> {
    selector: Vec<(&'a str, Option<&'a str>)>,
    terms: Option<&'a Vec<Value>>,
    tolerations: &'a Value,
    cordon_ok: bool,
    not_ready_ok: bool,
}

fn needs(pod: &Value) -> Needs<'_> {
    let spec = &pod["spec"];
    let tolerations = &spec["tolerations"];
    let taint = |key: &str| json!({"key": key, "effect": "NoSchedule"});
    Needs {
        selector: spec["nodeSelector"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        terms: spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            ["nodeSelectorTerms"]
            .as_array(),
        tolerations,
        cordon_ok: tolerates(tolerations, &taint("node.kubernetes.io/unschedulable")),
        not_ready_ok: tolerates(tolerations, &taint("node.kubernetes.io/not-ready")),
    }
}

/// Why a node does not take the pod (the scheduler's wording), or None.
fn unfit(needs: &Needs, name: &str, n: &NodeInfo, load: u64) -> Option<String> {
    if n.unschedulable && !needs.cordon_ok {
        return Some("node(s) were unschedulable".into());
    }
    for (k, v) in &needs.selector {
        if n.labels.get(*k).and_then(Value::as_str) != *v {
            return Some("node(s) didn't match Pod's node affinity/selector".into());
        }
    }
    if let Some(terms) = needs.terms {
        if !terms.iter().any(|t| term_matches(t, name, &n.labels)) {
            return Some("node(s) didn't match Pod's node affinity/selector".into());
        }
    }
    if !n.ready && !needs.not_ready_ok {
        return Some("node(s) had untolerated taint {node.kubernetes.io/not-ready: }".into());
    }
    for t in &n.taints {
        if matches!(t["effect"].as_str(), Some("NoSchedule" | "NoExecute"))
            && !tolerates(needs.tolerations, t)
        {
            return Some(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t["key"].as_str().unwrap_or(""),
                t["value"].as_str().unwrap_or("")
            ));
        }
    }
    if load >= n.max_pods {
        return Some("Too many pods".into());
    }
    None
}

impl Scheduler {
    fn set_load(&mut self, node: &str, delta: i64) {
        let old = self.load.get(node).copied().unwrap_or(0);
        let new = (old as i64 + delta).max(0) as u64;
        self.by_load.remove(&(old, node.to_string()));
        self.load.insert(node.to_string(), new);
        if self.nodes.contains_key(node) {
            self.by_load.insert((new, node.to_string()));
        }
    }

    fn unplace(&mut self, key: &Key) {
        if let Some(node) = self.placed.remove(key) {
            self.set_load(&node, -1);
        }
    }

    fn place(&mut self, key: &Key, node: &str) {
        if self.placed.get(key).is_some_and(|n| n == node) {
            return;
        }
        self.unplace(key);
        self.placed.insert(key.clone(), node.to_string());
        self.set_load(node, 1);
    }

    fn see_node(&mut self, name: String, info: Option<NodeInfo>) {
        let load = self.load.get(&name).copied().unwrap_or(0);
        self.by_load.remove(&(load, name.clone()));
        match info {
            Some(i) => {
                self.nodes.insert(name.clone(), i);
                self.by_load.insert((load, name));
            }
            None => {
                self.nodes.remove(&name);
            }
        }
    }

    fn see_pod(&mut self, key: &Key, pod: Option<&Value>, out: &mut Vec<Key>) {
        let Some(pod) =
            pod.filter(|p| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
        else {
            if self.placed.contains_key(key) {
                self.unplace(key);
                // Room on a node: pods waiting for one may fit now.
                out.extend(self.waiting.iter().cloned());
            }
            self.waiting.remove(key);
            return;
        };
        match pod["spec"]["nodeName"].as_str() {
            Some(node) => {
                self.waiting.remove(key);
                self.place(key, node);
            }
            None if ours(pod) && !util::deleting(pod) => out.push(key.clone()),
            None => {}
        }
    }
}

impl Controller for Scheduler {
    fn name(&self) -> &'static str {
        "scheduler"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        for (k, n) in view.st.list(util::res("", "nodes"), None) {
            self.see_node(k.3.clone(), Some(node_info(n)));
        }
        for (k, p) in view.st.list(util::pods(), None) {
            self.see_pod(&k.clone(), Some(p), out);
        }
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        if !ev.group.is_empty() {
            return;
        }
        let name = util::name(&ev.object).to_string();
        match ev.plural.as_str() {
            "nodes" => {
                let info = (ev.kind != "DELETED").then(|| node_info(&ev.object));
                self.see_node(name, info);
                out.extend(self.waiting.iter().cloned());
            }
            "pods" => {
                let key = (
                    String::new(),
                    "pods".to_string(),
                    ev.namespace.clone(),
                    name,
                );
                let pod = (ev.kind != "DELETED").then_some(&ev.object);
                self.see_pod(&key, pod, out);
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(mut pod) = util::get(cx.st, key) else {
            self.waiting.remove(key);
            return;
        };
        if !pod["spec"]["nodeName"].is_null() || !ours(&pod) || util::deleting(&pod) {
            return;
        }
        let mut best: Option<(&String, u64)> = None;
        let mut why: BTreeMap<String, usize> = BTreeMap::new();
        {
            // The least loaded node that fits; every node's reason only when none does.
            let needs = needs(&pod);
            for (load, name) in &self.by_load {
                if let Some(n) = self.nodes.get(name) {
                    if unfit(&needs, name, n, *load).is_none() {
                        best = Some((name, *load));
                        break;
                    }
                }
            }
            if best.is_none() {
                for (name, n) in &self.nodes {
                    let load = self.load.get(name).copied().unwrap_or(0);
                    if let Some(r) = unfit(&needs, name, n, load) {
                        *why.entry(r).or_default() += 1;
                    }
                }
            }
        }
        let (ns, name) = (key.2.clone(), key.3.clone());
        if let Some((node, _)) = best {
            let node = node.clone();
            pod["spec"]["nodeName"] = json!(node);
            let mut status = pod["status"].clone();
            util::set_condition(&mut status, "PodScheduled", "True", "", "", false);
            if let Some(c) = status["conditions"]
                .as_array_mut()
                .and_then(|c| c.iter_mut().find(|c| c["type"] == "PodScheduled"))
            {
                if let Some(m) = c.as_object_mut() {
                    m.remove("reason");
                    m.remove("message");
                }
            }
            pod["status"] = status;
            cx.st.put(util::pods(), &mut pod);
            self.waiting.remove(key);
            self.place(key, &node);
            events::record(
                cx.st,
                &pod,
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {ns}/{name} to {node}"),
                "default-scheduler",
            );
            return;
        }
        let total = self.nodes.len();
        let message = if total == 0 {
            "no nodes available to schedule pods".to_string()
        } else {
            let parts: Vec<String> = why.iter().map(|(r, n)| format!("{n} {r}")).collect();
            format!("0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.", parts.join(", "))
        };
        self.waiting.insert(key.clone());
        let mut status = pod["status"].clone();
        util::set_condition(
            &mut status,
            "PodScheduled",
            "False",
            "Unschedulable",
            &message,
            false,
        );
        if status != pod["status"] {
            pod["status"] = status;
            cx.st.put(util::pods(), &mut pod);
            events::record(
                cx.st,
                &pod,
                "Warning",
                "FailedScheduling",
                &message,
                "default-scheduler",
            );
        }
    }
}

//! The kubelets of the simulated nodes: a pod bound to one of them goes
//! Pending → ContainerCreating (0.1 s) → Running (0.2 s later) with an IP
//! from its node's pod CIDR, container statuses and the Ready conditions
//! (after a readiness probe's initialDelaySeconds), with the events the
//! kubelet records (Pulled, Created, Started, BackOff). Durations are
//! simulated ones (scaled by the clock's speed).
//!
//! What a container does is read from its command in a simple form
//! (`sh -c "echo hi; sleep 5; exit 3"`, `sleep 10`, `true`, `false`): echo
//! writes log lines, sleep takes time, exit ends it. A command this does not
//! understand runs until deleted in a pod that restarts Always and ends with 0
//! after a second in a batch pod (restartPolicy Never/OnFailure, e.g. a Job's);
//! no command does the same. Annotations decide it for tests:
//! `kube-testserver/exit-code: "N"` (after `kube-testserver/run-seconds`,
//! default 1) and `kube-testserver/crash-loop: "true"` (exit 1 after
//! run-seconds, restarted with back-off: CrashLoopBackOff, restartCount).
//!
//! A pod deleted with a grace period stays (Terminating, deletionTimestamp
//! set) while its containers stop: Killing events, then the kubelet deletes
//! it for good. `kube-testserver/ignore-sigterm: "true"` makes them run until
//! the grace period is over; `--grace-period=0 --force` skips all of it.

use super::runner::{Controller, Cx, View};
use super::{clock, events, util};
use crate::store::{now_rfc3339, ChangeEvent, Key, Store};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const CREATE_SECS: f64 = 0.1;
const START_SECS: f64 = 0.2;
/// A container's stop after SIGTERM.
const STOP_SECS: f64 = 0.2;
/// The kubelet's crash-loop back-off: 10 s doubling to 5 minutes.
const BACKOFF_SECS: f64 = 10.0;
const BACKOFF_MAX_SECS: f64 = 300.0;

#[derive(Clone, Debug, PartialEq)]
struct Plan {
    logs: Vec<String>,
    /// Seconds until the container exits, and its exit code; None: runs on.
    exit: Option<(f64, i64)>,
}

#[derive(Clone, PartialEq)]
enum CState {
    Waiting,
    Running {
        since: String,
        exit_at: Option<(u64, i64)>,
    },
    BackOff {
        until: u64,
        last: Value,
    },
    Terminated {
        code: i64,
        state: Value,
    },
}

#[derive(Clone, PartialEq)]
enum Stage {
    /// Bound, the kubelet has not looked yet.
    Bound {
        due: u64,
    },
    /// ContainerCreating.
    Creating {
        due: u64,
    },
    Started,
}

struct Run {
    stage: Stage,
    /// Deleted with a grace period: when the containers have stopped.
    stop_at: Option<u64>,
    node: String,
    ip: Option<String>,
    containers: Vec<(String, CState, u32)>,
    ready_at: u64,
}

struct NodeNet {
    prefix: String,
    used: BTreeSet<u8>,
}

#[derive(Default)]
pub struct Kubelet {
    nodes: HashMap<String, NodeNet>,
    runs: HashMap<Key, Run>,
}

/// What a container's command (or the pod's annotations) makes it do.
fn plan(pod: &Value, c: &Value) -> Plan {
    let ann = &pod["metadata"]["annotations"];
    let a = |k: &str| {
        ann.get(format!("{k}.{}", c["name"].as_str().unwrap_or("")))
            .or_else(|| ann.get(k))
            .and_then(Value::as_str)
    };
    let batch = pod["spec"]["restartPolicy"]
        .as_str()
        .is_some_and(|p| p != "Always");
    let run_secs = a("kube-testserver/run-seconds")
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(1.0);
    if a("kube-testserver/crash-loop") == Some("true") {
        return Plan {
            logs: vec![],
            exit: Some((run_secs, 1)),
        };
    }
    if let Some(code) = a("kube-testserver/exit-code").and_then(|s| s.parse::<i64>().ok()) {
        return Plan {
            logs: vec![],
            exit: Some((run_secs, code)),
        };
    }
    let argv: Vec<String> = c["command"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(c["args"].as_array().into_iter().flatten())
        .filter_map(|s| s.as_str().map(String::from))
        .collect();
    if argv.is_empty() {
        return Plan {
            logs: vec![],
            exit: batch.then_some((1.0, 0)),
        };
    }
    let shell = matches!(
        argv[0].as_str(),
        "sh" | "/bin/sh" | "bash" | "/bin/bash" | "ash"
    );
    let script = if shell && argv.len() >= 3 && argv[1] == "-c" {
        argv[2].clone()
    } else if shell {
        String::new()
    } else {
        argv.join(" ")
    };
    let script = script
        .replace("${HOSTNAME}", util::name(pod))
        .replace("$HOSTNAME", util::name(pod));
    let (logs, end) = script_plan(&script);
    let exit = match end {
        End::Exit(t, code) => Some((t, code)),
        End::Forever => None,
        // What is not understood runs on, or ends well a second later in a batch pod.
        End::Unknown(t) => batch.then_some((t + 1.0, 0)),
    };
    Plan { logs, exit }
}

enum End {
    Exit(f64, i64),
    Forever,
    Unknown(f64),
}

/// Runs a script of `echo`, `sleep`, `exit`, `true`, `false`, `date`, `:`
/// statements: the lines it logs and how it ends (at the first statement
/// of another kind: Unknown, with the lines logged before it).
fn script_plan(script: &str) -> (Vec<String>, End) {
    let mut logs = vec![];
    let mut t = 0.0;
    for stmt in script.split([';', '\n']).flat_map(|s| s.split("&&")) {
        let words: Vec<&str> = stmt.split_whitespace().collect();
        let unquote = |s: &str| s.trim_matches(|c| c == '"' || c == '\'').to_string();
        match words.as_slice() {
            [] => {}
            ["echo", rest @ ..] => logs.push(unquote(&rest.join(" "))),
            ["date"] => logs.push(crate::store::now_rfc3339()),
            ["sleep", "infinity" | "inf"] => return (logs, End::Forever),
            ["sleep", n] => match n.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0) {
                Some(n) => t += n,
                None => return (logs, End::Unknown(t)),
            },
            ["exit", n] => {
                return match n.parse() {
                    Ok(code) => (logs, End::Exit(t, code)),
                    Err(_) => (logs, End::Unknown(t)),
                }
            }
            ["exit"] | ["true"] | [":"] => {}
            ["false"] => return (logs, End::Exit(t, 1)),
            _ => return (logs, End::Unknown(t)),
        }
    }
    (logs, End::Exit(t, 0))
}

fn hex_of(s: &str, len: usize) -> String {
    let mut out = String::new();
    let mut h: u64 = 0xcbf29ce484222325;
    while out.len() < len {
        for b in s.bytes().chain(out.clone().bytes()) {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(len);
    out
}

fn scaled_due(secs: f64) -> u64 {
    clock::now_ms() + clock::scaled_ms(secs)
}

impl Kubelet {
    fn see_node(&mut self, n: &Value) {
        let name = util::name(n).to_string();
        let Some(cidr) = n["spec"]["podCIDR"].as_str() else {
            return;
        };
        let Some((net, _)) = cidr.rsplit_once('.') else {
            return;
        };
        let prefix = format!("{net}.");
        let entry = self.nodes.entry(name).or_insert(NodeNet {
            prefix: prefix.clone(),
            used: BTreeSet::new(),
        });
        entry.prefix = prefix;
    }

    fn free_ip(&mut self, run: &Run) {
        if let (Some(ip), Some(net)) = (&run.ip, self.nodes.get_mut(&run.node)) {
            if let Some(host) = ip.strip_prefix(&net.prefix).and_then(|h| h.parse().ok()) {
                net.used.remove(&host);
            }
        }
    }

    fn alloc_ip(&mut self, node: &str) -> Option<String> {
        let net = self.nodes.get_mut(node)?;
        let host = (2u8..=254).find(|h| !net.used.contains(h))?;
        net.used.insert(host);
        Some(format!("{}{host}", net.prefix))
    }

    /// A pod already running when first seen (seeded with a status, or kept
    /// across a restart): the kubelet takes it as it is.
    fn adopt(&mut self, key: &Key, pod: &Value, node: &str) {
        let ip = pod["status"]["podIP"].as_str().map(String::from);
        if let (Some(ip), Some(net)) = (&ip, self.nodes.get_mut(node)) {
            if let Some(host) = ip.strip_prefix(&net.prefix).and_then(|h| h.parse().ok()) {
                net.used.insert(host);
            }
        }
        self.runs.insert(
            key.clone(),
            Run {
                stage: Stage::Started,
                node: node.to_string(),
                ip,
                containers: vec![],
                ready_at: 0,
                stop_at: None,
            },
        );
    }

    fn see_pod(&mut self, key: &Key, pod: Option<&Value>, out: &mut Vec<Key>) {
        let Some(pod) = pod else {
            if let Some(run) = self.runs.remove(key) {
                self.free_ip(&run);
            }
            return;
        };
        let Some(node) = pod["spec"]["nodeName"].as_str() else {
            return;
        };
        if self.runs.contains_key(key) {
            if util::deleting(pod) {
                out.push(key.clone());
            }
            return;
        }
        if !self.nodes.contains_key(node) {
            return;
        }
        let started = pod["status"]["containerStatuses"].is_array()
            && pod["status"]["phase"]
                .as_str()
                .is_some_and(|p| p != "Pending");
        if started {
            self.adopt(key, pod, node);
            return;
        }
        self.runs.insert(
            key.clone(),
            Run {
                stage: Stage::Bound {
                    due: scaled_due(CREATE_SECS),
                },
                node: node.to_string(),
                ip: None,
                containers: vec![],
                ready_at: 0,
                stop_at: None,
            },
        );
        out.push(key.clone());
    }
}

impl Controller for Kubelet {
    fn name(&self) -> &'static str {
        "kubelet"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        for (_, n) in view.st.list(util::res("", "nodes"), None) {
            self.see_node(n);
        }
        for (k, p) in view.st.list(util::pods(), None) {
            self.see_pod(&k.clone(), Some(p), out);
        }
    }

    fn on_change(&mut self, ev: &ChangeEvent, view: &View, out: &mut Vec<Key>) {
        if !ev.group.is_empty() {
            return;
        }
        match ev.plural.as_str() {
            "nodes" if ev.kind != "DELETED" => {
                let new = !self.nodes.contains_key(util::name(&ev.object));
                self.see_node(&ev.object);
                if new {
                    // Pods bound to a node before it registered start now.
                    let name = util::name(&ev.object);
                    for (k, p) in view.st.list(util::pods(), None) {
                        if p["spec"]["nodeName"] == name {
                            self.see_pod(&k.clone(), Some(p), out);
                        }
                    }
                }
            }
            "pods" => {
                let key = (
                    String::new(),
                    "pods".to_string(),
                    ev.namespace.clone(),
                    util::name(&ev.object).to_string(),
                );
                let pod = (ev.kind != "DELETED").then_some(&ev.object);
                self.see_pod(&key, pod, out);
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(pod) = util::get(cx.st, key) else {
            return;
        };
        let Some(mut run) = self.runs.remove(key) else {
            return;
        };
        if util::deleting(&pod) {
            stop(cx, key, &pod, &mut run);
            self.runs.insert(key.clone(), run);
            return;
        }
        let now = clock::now_ms();
        match run.stage.clone() {
            Stage::Bound { due } | Stage::Creating { due } if now < due => cx.at(due, key),
            Stage::Bound { .. } => {
                creating(cx, key, &pod, &run.node);
                run.stage = Stage::Creating {
                    due: scaled_due(START_SECS),
                };
                cx.after(START_SECS, key);
            }
            Stage::Creating { .. } => {
                run.ip = self.alloc_ip(&run.node);
                run.containers = pod["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        (
                            c["name"].as_str().unwrap_or("").to_string(),
                            CState::Waiting,
                            0,
                        )
                    })
                    .collect();
                let delay = pod["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["readinessProbe"]["initialDelaySeconds"].as_f64())
                    .fold(0.0, f64::max);
                run.ready_at = scaled_due(delay);
                run.stage = Stage::Started;
                step(cx, key, pod, &mut run);
            }
            Stage::Started => step(cx, key, pod, &mut run),
        }
        self.runs.insert(key.clone(), run);
    }
}

/// A pod deleted with a grace period: its containers get SIGTERM (Killing
/// events) and stop STOP_SECS later, or when the grace period is over with
/// `kube-testserver/ignore-sigterm: "true"`; then the kubelet deletes the
/// pod for good (grace period 0), as its status manager does.
fn stop(cx: &mut Cx, key: &Key, pod: &Value, run: &mut Run) {
    let now = clock::now_ms();
    let Some(at) = run.stop_at else {
        let grace_ms = pod["metadata"]["deletionGracePeriodSeconds"]
            .as_u64()
            .unwrap_or(0)
            .saturating_mul(1000);
        let running = matches!(run.stage, Stage::Started);
        let at = if !running {
            now
        } else if pod["metadata"]["annotations"]["kube-testserver/ignore-sigterm"] == "true" {
            now + grace_ms
        } else {
            now + clock::scaled_ms(STOP_SECS).min(grace_ms)
        };
        if running {
            for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
                let name = c["name"].as_str().unwrap_or("");
                events::record_at(
                    cx.st,
                    pod,
                    Some(&format!("spec.containers{{{name}}}")),
                    "Normal",
                    "Killing",
                    &format!("Stopping container {name}"),
                    "kubelet",
                    Some(&run.node),
                );
            }
        }
        run.stop_at = Some(at);
        cx.at(at, key);
        return;
    };
    if now < at {
        cx.at(at, key);
        return;
    }
    let opts = crate::rest::DeleteOptions {
        grace_period: Some(0),
        precondition_uid: pod["metadata"]["uid"].as_str().map(String::from),
        precondition_rv: None,
        propagation: None,
    };
    let _ = crate::rest::delete(cx.st, util::pods(), &key.2, &key.3, &opts, false);
}

fn container_events(st: &mut Store, pod: &Value, c: &Value, node: &str) {
    let name = c["name"].as_str().unwrap_or("");
    let field = format!("spec.containers{{{name}}}");
    let image = c["image"].as_str().unwrap_or("");
    for (reason, msg) in [
        (
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        ),
        ("Created", format!("Created container: {name}")),
        ("Started", format!("Started container {name}")),
    ] {
        events::record_at(
            st,
            pod,
            Some(&field),
            "Normal",
            reason,
            &msg,
            "kubelet",
            Some(node),
        );
    }
}

/// ContainerCreating: the pod is on its node, its containers wait.
fn creating(cx: &mut Cx, key: &Key, pod: &Value, node: &str) {
    let host_ip = node_ip(cx.st, node);
    let now = now_rfc3339();
    let mut status = pod["status"].clone();
    status["phase"] = json!("Pending");
    status["hostIP"] = json!(host_ip);
    status["hostIPs"] = json!([{"ip": host_ip}]);
    status["startTime"] = json!(now);
    for (t, s, reason) in [
        ("PodReadyToStartContainers", "False", ""),
        ("Initialized", "True", ""),
        ("Ready", "False", "ContainersNotReady"),
        ("ContainersReady", "False", "ContainersNotReady"),
    ] {
        set(&mut status, t, s, reason, &not_ready_message(pod));
    }
    status["containerStatuses"] = json!(pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(
            |c| json!({"name": c["name"], "state": {"waiting": {"reason": "ContainerCreating"}},
                        "lastState": {}, "ready": false, "restartCount": 0, "image": c["image"],
                        "imageID": "", "started": false})
        )
        .collect::<Vec<_>>());
    util::write_status(cx, key, status);
}

fn not_ready_message(pod: &Value) -> String {
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    format!("containers with unready status: [{}]", names.join(" "))
}

/// A condition as the kubelet writes them (no reason/message when True).
fn set(status: &mut Value, t: &str, s: &str, reason: &str, message: &str) {
    let (reason, message) = if s == "True" {
        ("", "")
    } else {
        (reason, message)
    };
    util::set_condition(status, t, s, reason, message, false);
    if let Some(c) = status["conditions"]
        .as_array_mut()
        .and_then(|c| c.iter_mut().find(|c| c["type"] == t))
    {
        if let Some(m) = c.as_object_mut() {
            if reason.is_empty() {
                m.remove("reason");
            }
            if message.is_empty() {
                m.remove("message");
            }
            m.insert("lastProbeTime".into(), Value::Null);
        }
    }
}

fn node_ip(st: &Store, node: &str) -> String {
    st.objects
        .get(&util::key(util::res("", "nodes"), "", node))
        .and_then(|n| {
            n["status"]["addresses"]
                .as_array()?
                .iter()
                .find(|a| a["type"] == "InternalIP")?["address"]
                .as_str()
                .map(String::from)
        })
        .unwrap_or_else(|| "172.18.0.2".into())
}

/// Starts, stops and restarts containers whose time has come, then writes
/// the pod's status and asks to be called at the next moment something is due.
fn step(cx: &mut Cx, key: &Key, pod: Value, run: &mut Run) {
    let now = clock::now_ms();
    let policy = pod["spec"]["restartPolicy"]
        .as_str()
        .unwrap_or("Always")
        .to_string();
    let specs: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut next: Option<u64> = None;
    let mut soon = |t: u64| next = Some(next.map_or(t, |n: u64| n.min(t)));
    for (i, (name, state, restarts)) in run.containers.iter_mut().enumerate() {
        let Some(spec) = specs.get(i) else { continue };
        if matches!(state, CState::BackOff { until, .. } if *until > now) {
            if let CState::BackOff { until, .. } = state {
                soon(*until);
            }
            continue;
        }
        if matches!(state, CState::Waiting | CState::BackOff { .. }) {
            let p = plan(&pod, spec);
            if !p.logs.is_empty() {
                let text = p.logs.join("\n");
                crate::logs::append(cx.st, &key.2, &key.3, name, text.as_bytes());
            }
            container_events(cx.st, &pod, spec, &run.node);
            let exit_at = p.exit.map(|(secs, code)| (scaled_due(secs), code));
            *state = CState::Running {
                since: now_rfc3339(),
                exit_at,
            };
        }
        if let CState::Running {
            since,
            exit_at: Some((at, code)),
        } = state.clone()
        {
            if at > now {
                soon(at);
                continue;
            }
            let terminated = json!({"terminated": {
                "exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" },
                "startedAt": since, "finishedAt": now_rfc3339(),
                "containerID": format!("containerd://{}", hex_of(&format!("{}{name}{restarts}", key.3), 64)),
            }});
            let restart = policy == "Always" || (policy == "OnFailure" && code != 0);
            if restart {
                let backoff = (BACKOFF_SECS * 2f64.powi(*restarts as i32)).min(BACKOFF_MAX_SECS);
                // At speed 0 a crash loop still leaves the CPU some air.
                let until = scaled_due(backoff).max(now + 50);
                *restarts += 1;
                *state = CState::BackOff {
                    until,
                    last: terminated,
                };
                soon(until);
                let msg = format!(
                    "Back-off restarting failed container {name} in pod {}_{}({})",
                    key.3,
                    key.2,
                    util::uid(&pod)
                );
                let field = format!("spec.containers{{{name}}}");
                events::record_at(
                    cx.st,
                    &pod,
                    Some(&field),
                    "Warning",
                    "BackOff",
                    &msg,
                    "kubelet",
                    Some(&run.node),
                );
            } else {
                *state = CState::Terminated {
                    code,
                    state: terminated,
                };
            }
        }
    }
    if run.ready_at > now {
        soon(run.ready_at);
    }
    if let Some(t) = next {
        cx.at(t, key);
    }
    write_running(cx, key, &pod, run, now, &specs);
}

fn write_running(cx: &mut Cx, key: &Key, pod: &Value, run: &Run, now: u64, specs: &[Value]) {
    let ip = run.ip.clone().unwrap_or_default();
    let mut status = pod["status"].clone();
    let mut all_ready = true;
    let mut all_done = true;
    let mut failed = false;
    let mut statuses = vec![];
    let prior = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, (name, state, restarts)) in run.containers.iter().enumerate() {
        let image = specs
            .get(i)
            .map(|s| s["image"].clone())
            .unwrap_or(Value::Null);
        let last = prior
            .iter()
            .find(|p| p["name"] == name.as_str())
            .map(|p| p["lastState"].clone())
            .unwrap_or(json!({}));
        let id = format!(
            "containerd://{}",
            hex_of(&format!("{}{name}{restarts}", key.3), 64)
        );
        let (st, last, ready, started) = match state {
            CState::Running { since, .. } => {
                all_done = false;
                let ready = run.ready_at <= now;
                (json!({"running": {"startedAt": since}}), last, ready, true)
            }
            CState::BackOff { last: l, .. } => {
                all_done = false;
                let msg = format!(
                    "back-off restarting failed container={name} pod={}_{}({})",
                    key.3,
                    key.2,
                    util::uid(pod)
                );
                (
                    json!({"waiting": {"reason": "CrashLoopBackOff", "message": msg}}),
                    l.clone(),
                    false,
                    false,
                )
            }
            CState::Terminated { code, state } => {
                failed |= *code != 0;
                (state.clone(), last, false, false)
            }
            CState::Waiting => {
                all_done = false;
                (
                    json!({"waiting": {"reason": "ContainerCreating"}}),
                    last,
                    false,
                    false,
                )
            }
        };
        all_ready &= ready;
        let mut s = json!({"name": name, "state": st, "lastState": last, "ready": ready,
            "restartCount": restarts, "image": image,
            "imageID": format!("docker.io/library/{}@sha256:{}", image.as_str().unwrap_or("").split(':').next().unwrap_or(""), hex_of(image.as_str().unwrap_or(""), 64)),
            "started": started});
        if !matches!(state, CState::Waiting) {
            s["containerID"] = json!(id);
        }
        statuses.push(s);
    }
    let phase = if !all_done || statuses.is_empty() {
        "Running"
    } else if failed {
        "Failed"
    } else {
        "Succeeded"
    };
    status["phase"] = json!(phase);
    status["podIP"] = json!(ip);
    status["podIPs"] = json!([{"ip": ip}]);
    status["containerStatuses"] = json!(statuses);
    set(
        &mut status,
        "PodReadyToStartContainers",
        if phase == "Running" { "True" } else { "False" },
        "",
        "",
    );
    set(&mut status, "Initialized", "True", "", "");
    let (ready, reason) = match phase {
        "Running" if all_ready => ("True", ""),
        "Running" => ("False", "ContainersNotReady"),
        "Succeeded" => ("False", "PodCompleted"),
        _ => ("False", "PodFailed"),
    };
    let msg = if reason == "ContainersNotReady" {
        not_ready_message(pod)
    } else {
        String::new()
    };
    set(&mut status, "Ready", ready, reason, &msg);
    set(&mut status, "ContainersReady", ready, reason, &msg);
    // The kubelet lists its conditions in this order.
    if let Some(conds) = status["conditions"].as_array_mut() {
        let order = [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ];
        conds.sort_by_key(|c| {
            order
                .iter()
                .position(|o| c["type"] == *o)
                .unwrap_or(order.len())
        });
    }
    util::write_status(cx, key, status);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(cmd: Value) -> Value {
        json!({"name": "c", "image": "busybox", "command": cmd})
    }

    #[test]
    fn commands_decide_the_exit() {
        let always = json!({"spec": {"restartPolicy": "Always"}});
        let never = json!({"spec": {"restartPolicy": "Never"}});
        let p = plan(
            &always,
            &c(json!(["sh", "-c", "echo hello; sleep 2; exit 3"])),
        );
        assert_eq!(
            Plan {
                logs: vec!["hello".into()],
                exit: Some((2.0, 3))
            },
            p
        );
        assert_eq!(
            None,
            plan(&always, &c(json!(["nginx", "-g", "daemon off;"]))).exit
        );
        assert_eq!(
            Some((1.0, 0)),
            plan(&never, &c(json!(["perl", "-le", "print 1"]))).exit
        );
        let named = json!({"metadata": {"name": "p1"}, "spec": {"restartPolicy": "Always"}});
        let p = plan(
            &named,
            &c(json!([
                "sh",
                "-c",
                "echo up on $HOSTNAME && sleep infinity"
            ])),
        );
        assert_eq!(
            Plan {
                logs: vec!["up on p1".into()],
                exit: None
            },
            p
        );
        assert_eq!(Some((0.0, 1)), plan(&always, &c(json!(["false"]))).exit);
        assert_eq!(None, plan(&always, &c(json!(["sleep", "infinity"]))).exit);
        assert_eq!(None, plan(&always, &c(Value::Null)).exit);
        assert_eq!(Some((1.0, 0)), plan(&never, &c(Value::Null)).exit);
        let crash = json!({"metadata": {"annotations": {"kube-testserver/crash-loop": "true",
            "kube-testserver/run-seconds": "0.5"}}, "spec": {}});
        assert_eq!(Some((0.5, 1)), plan(&crash, &c(Value::Null)).exit);
        let code =
            json!({"metadata": {"annotations": {"kube-testserver/exit-code.c": "7"}}, "spec": {}});
        assert_eq!(Some((1.0, 7)), plan(&code, &c(Value::Null)).exit);
    }
}

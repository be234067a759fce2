//! The columns and cells kube-apiserver 1.32 prints for built-in kinds (its
//! `printers` package), written from what each column shows: one table per
//! kind, one row per column with its header, type, description and the
//! function making its cell from an object.

use super::Column;
use crate::resources::ResourceInfo;
use crate::selectors::selector_text;
use crate::store::{parse_rfc3339, unix_now};
use serde_json::{json, Value};

/// How one cell is made from an object.
type Cell = fn(&Value) -> Value;

/// One column of a kind's table.
#[derive(Clone, Copy)]
pub struct Col {
    name: &'static str,
    kind: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    priority: u8,
    description: &'static str,
    cell: Cell,
}

/// A kind's table: its columns, left to right.
pub type Table = &'static [Col];

const fn col(kind: &'static str, name: &'static str, description: &'static str, cell: Cell) -> Col {
    Col {
        name,
        kind,
        priority: 0,
        description,
        cell,
    }
}

const fn text(name: &'static str, description: &'static str, cell: Cell) -> Col {
    col("string", name, description, cell)
}

const fn int(name: &'static str, description: &'static str, cell: Cell) -> Col {
    col("integer", name, description, cell)
}

const fn boolean(name: &'static str, description: &'static str, cell: Cell) -> Col {
    col("boolean", name, description, cell)
}

impl Col {
    /// The same column, shown only with `-o wide`.
    const fn wide(self) -> Col {
        Col {
            priority: 1,
            ..self
        }
    }

    fn column(&self) -> Column {
        Column {
            name: self.name.to_string(),
            kind: self.kind,
            format: if self.name == "Name" { "name" } else { "" },
            description: self.description.to_string(),
            priority: self.priority,
        }
    }
}

/// The column definitions of a kind's table.
pub fn columns(table: Table) -> Vec<Column> {
    table.iter().map(Col::column).collect()
}

/// One object's row.
pub fn cells(table: Table, obj: &Value) -> Vec<Value> {
    table.iter().map(|c| (c.cell)(obj)).collect()
}

// The tables below are laid out one column per line (`rustfmt::skip`), as
// a table reads; rustfmt would spread each row over five lines.

#[rustfmt::skip]
const NAME: Col = text("Name", "The object's name, unique within its namespace.", name);
#[rustfmt::skip]
const AGE: Col = text("Age", "How long ago the object was created (metadata.creationTimestamp).", age);
#[rustfmt::skip]
const CONTAINERS: Col = text("Containers", "Names of each container in the template.", |o| containers(&o["spec"]["template"])).wide();
#[rustfmt::skip]
const IMAGES: Col = text("Images", "Images of each container in the template.", |o| images(&o["spec"]["template"])).wide();
#[rustfmt::skip]
const SELECTOR: Col = text("Selector", "The label selector of the pods this object manages.", |o| selector_cell(&o["spec"]["selector"])).wide();

pub fn name_column() -> Column {
    NAME.column()
}

/// A CRD's default Age column (a date the CRD table shows as an age).
pub fn age_column() -> Column {
    Column {
        kind: "date",
        ..AGE.column()
    }
}

/// The table of a built-in kind; None for kinds printed as Name and Age by
/// the caller's default.
pub fn for_resource(res: &ResourceInfo) -> Option<Table> {
    Some(match (res.group, res.plural) {
        ("", "pods") => POD,
        ("apps", "deployments") => DEPLOYMENT,
        ("apps", "replicasets") => REPLICASET,
        ("apps", "statefulsets") => STATEFULSET,
        ("apps", "daemonsets") => DAEMONSET,
        ("", "services") => SERVICE,
        ("", "nodes") => NODE,
        ("", "namespaces") => NAMESPACE,
        ("", "configmaps") => CONFIGMAP,
        ("", "secrets") => SECRET,
        ("", "serviceaccounts") => SERVICEACCOUNT,
        ("batch", "jobs") => JOB,
        ("batch", "cronjobs") => CRONJOB,
        ("networking.k8s.io", "ingresses") => INGRESS,
        ("", "persistentvolumes") => PV,
        ("", "persistentvolumeclaims") => PVC,
        ("", "events") => EVENT,
        ("coordination.k8s.io", "leases") => LEASE,
        ("", "replicationcontrollers") => REPLICASET,
        ("", "endpoints") => ENDPOINTS,
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => ROLEBINDING,
        ("storage.k8s.io", "storageclasses") => STORAGECLASS,
        ("scheduling.k8s.io", "priorityclasses") => PRIORITYCLASS,
        ("networking.k8s.io", "networkpolicies") => NETWORKPOLICY,
        ("policy", "poddisruptionbudgets") => PDB,
        ("rbac.authorization.k8s.io", "roles" | "clusterroles")
        | ("apiextensions.k8s.io", "customresourcedefinitions") => CREATED_AT,
        _ if crate::registry::is_custom(res) => return None,
        _ => DEFAULT,
    })
}

// --- formatting helpers --------------------------------------------------------

/// A duration as kubectl shows ages: "45s", "3m12s", "5h", "2d3h", "3y".
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let secs = secs.max(0);
    let (minutes, hours) = (secs / 60, secs / 3600);
    let days = hours / 24;
    let years = days / 365;
    let pair = |big: i64, bu: &str, small: i64, su: &str| {
        if small == 0 {
            format!("{big}{bu}")
        } else {
            format!("{big}{bu}{small}{su}")
        }
    };
    if secs < 120 {
        format!("{secs}s")
    } else if minutes < 10 {
        pair(minutes, "m", secs % 60, "s")
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        pair(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        pair(days, "d", hours % 24, "h")
    } else if days < 365 * 2 {
        format!("{days}d")
    } else if days < 365 * 8 {
        pair(years, "y", days % 365, "d")
    } else {
        format!("{years}y")
    }
}

/// The age of an RFC 3339 timestamp, "<unknown>" when there is none.
pub fn age_of(timestamp: &str) -> String {
    match parse_rfc3339(timestamp) {
        Some(t) => human_duration((unix_now() - t).floor() as i64),
        None => "<unknown>".into(),
    }
}

fn age(obj: &Value) -> Value {
    json!(age_of(str_at(&obj["metadata"]["creationTimestamp"])))
}

fn name(obj: &Value) -> Value {
    obj["metadata"]["name"].clone()
}

fn str_at(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn int_at(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.into()
    }
}

fn list(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn joined<'a>(items: impl Iterator<Item = &'a str>, sep: &str) -> String {
    items.collect::<Vec<_>>().join(sep)
}

/// The Containers cell of a pod template.
fn containers(template: &Value) -> Value {
    json!(joined(
        list(&template["spec"]["containers"]).map(|c| str_at(&c["name"])),
        ","
    ))
}

/// The Images cell of a pod template.
fn images(template: &Value) -> Value {
    json!(joined(
        list(&template["spec"]["containers"]).map(|c| str_at(&c["image"])),
        ","
    ))
}

/// A string field as its cell, "" when absent.
fn text_at(v: &Value) -> Value {
    json!(str_at(v))
}

/// A string field as its cell, "<none>" when absent or empty.
fn none_at(v: &Value) -> Value {
    json!(or_none(str_at(v)))
}

/// An integer field as its cell, 0 when absent.
fn int_cell(v: &Value) -> Value {
    json!(int_at(v))
}

/// How many items a list field has.
fn count(v: &Value) -> Value {
    json!(list(v).count())
}

/// The phase, or Terminating once deletion started (volumes and claims).
fn phase_or_terminating(obj: &Value) -> Value {
    if obj["metadata"]["deletionTimestamp"].is_null() {
        text_at(&obj["status"]["phase"])
    } else {
        json!("Terminating")
    }
}

/// A string field or its default when absent.
fn str_or<'a>(v: &'a Value, default: &'a str) -> Value {
    json!(v.as_str().unwrap_or(default))
}

fn selector_cell(sel: &Value) -> Value {
    json!(or_none(&selector_text(sel)))
}

fn access_modes(modes: &Value) -> String {
    joined(
        list(modes).map(|m| match str_at(m) {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        }),
        ",",
    )
}
// --- tables every kind may use -----------------------------------------------------

const DEFAULT: Table = &[NAME, AGE];

/// Kinds the real server prints with their creation time rather than an age.
#[rustfmt::skip]
const CREATED_AT: Table = &[
    NAME,
    col("date", "Created At", "When the object was created (metadata.creationTimestamp).", |o| o["metadata"]["creationTimestamp"].clone()),
];

// --- workloads -------------------------------------------------------------------

#[rustfmt::skip]
const POD: Table = &[
    NAME,
    text("Ready", "How many of the pod's containers are ready.", pod_ready),
    text("Status", "The pod's phase, or why it is not running.", |p| json!(pod_status(p))),
    text("Restarts", "How often the containers restarted, and when last.", |p| json!(pod_restarts(&p["status"]))),
    AGE,
    text("IP", "The pod's IP address.", |p| none_at(&p["status"]["podIP"])).wide(),
    text("Node", "The node the pod is bound to.", |p| none_at(&p["spec"]["nodeName"])).wide(),
    text("Nominated Node", "The node preemption nominated for the pod.", |p| none_at(&p["status"]["nominatedNodeName"])).wide(),
    text("Readiness Gates", "How many of the pod's readiness gates are met.", pod_gates).wide(),
];

fn pod_ready(pod: &Value) -> Value {
    let total = list(&pod["spec"]["containers"]).count();
    let ready = list(&pod["status"]["containerStatuses"])
        .filter(|c| c["ready"] == json!(true))
        .count();
    json!(format!("{ready}/{total}"))
}

/// The Status column: the phase, unless a container says more.
fn pod_status(pod: &Value) -> String {
    let status = &pod["status"];
    let mut reason = str_at(&status["phase"]).to_string();
    if let Some(r) = status["reason"].as_str().filter(|r| !r.is_empty()) {
        reason = r.to_string();
    }
    let init_total = list(&pod["spec"]["initContainers"]).count();
    let mut initializing = false;
    for (i, c) in list(&status["initContainerStatuses"]).enumerate() {
        let state = &c["state"];
        let terminated = &state["terminated"];
        if terminated.is_object() && int_at(&terminated["exitCode"]) == 0 {
            continue;
        }
        if c["started"] == json!(true) && state["running"].is_object() {
            continue; // a sidecar that keeps running
        }
        initializing = true;
        reason = if terminated.is_object() {
            match terminated["reason"].as_str().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None if int_at(&terminated["signal"]) != 0 => {
                    format!("Init:Signal:{}", int_at(&terminated["signal"]))
                }
                None => format!("Init:ExitCode:{}", int_at(&terminated["exitCode"])),
            }
        } else {
            match state["waiting"]["reason"].as_str() {
                Some(r) if !r.is_empty() && r != "PodInitializing" => format!("Init:{r}"),
                _ => format!("Init:{i}/{init_total}"),
            }
        };
        break;
    }
    if !initializing {
        let mut has_running = false;
        let statuses: Vec<&Value> = list(&status["containerStatuses"]).collect();
        for c in statuses.iter().rev() {
            let state = &c["state"];
            let terminated = &state["terminated"];
            if let Some(r) = state["waiting"]["reason"]
                .as_str()
                .filter(|r| !r.is_empty())
            {
                reason = r.to_string();
            } else if let Some(r) = terminated["reason"].as_str().filter(|r| !r.is_empty()) {
                reason = r.to_string();
            } else if terminated.is_object() {
                reason = match int_at(&terminated["signal"]) {
                    0 => format!("ExitCode:{}", int_at(&terminated["exitCode"])),
                    s => format!("Signal:{s}"),
                };
            } else if state["running"].is_object() && c["ready"] == json!(true) {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            let ready =
                list(&status["conditions"]).any(|c| c["type"] == "Ready" && c["status"] == "True");
            reason = if ready { "Running" } else { "NotReady" }.into();
        }
    }
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        reason = if status["reason"] == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    reason
}

/// The Restarts column: the count, and how long ago the last one ended.
fn pod_restarts(status: &Value) -> String {
    let statuses = list(&status["initContainerStatuses"]).chain(list(&status["containerStatuses"]));
    let mut count = 0;
    let mut last: Option<f64> = None;
    for c in statuses {
        count += int_at(&c["restartCount"]);
        if let Some(t) = c["lastState"]["terminated"]["finishedAt"]
            .as_str()
            .and_then(parse_rfc3339)
        {
            last = Some(last.map_or(t, |l: f64| l.max(t)));
        }
    }
    match last {
        Some(t) if count > 0 => format!(
            "{count} ({} ago)",
            human_duration((unix_now() - t).floor() as i64)
        ),
        _ => count.to_string(),
    }
}

/// The Readiness Gates column: how many are met, out of how many.
fn pod_gates(pod: &Value) -> Value {
    let gates: Vec<&str> = list(&pod["spec"]["readinessGates"])
        .map(|g| str_at(&g["conditionType"]))
        .collect();
    if gates.is_empty() {
        return json!("<none>");
    }
    let conditions = &pod["status"]["conditions"];
    let met = gates
        .iter()
        .filter(|g| list(conditions).any(|c| c["type"] == **g && c["status"] == "True"))
        .count();
    json!(format!("{met}/{}", gates.len()))
}

const READY_OF_DESIRED: Col = text("Ready", "Ready replicas out of the desired number.", |o| {
    json!(format!(
        "{}/{}",
        int_at(&o["status"]["readyReplicas"]),
        desired(o)
    ))
});

#[rustfmt::skip]
const DEPLOYMENT: Table = &[
    NAME,
    READY_OF_DESIRED,
    int("Up-to-date", "Replicas updated to the latest template.", |d| int_cell(&d["status"]["updatedReplicas"])),
    int("Available", "Replicas available to users.", |d| int_cell(&d["status"]["availableReplicas"])),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn desired(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

#[rustfmt::skip]
const REPLICASET: Table = &[
    NAME,
    int("Desired", "The number of replicas asked for.", |r| json!(desired(r))),
    int("Current", "The number of replicas there are.", |r| int_cell(&r["status"]["replicas"])),
    int("Ready", "The number of ready replicas.", |r| int_cell(&r["status"]["readyReplicas"])),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

const STATEFULSET: Table = &[NAME, READY_OF_DESIRED, AGE, CONTAINERS, IMAGES];

#[rustfmt::skip]
const DAEMONSET: Table = &[
    NAME,
    int("Desired", "Nodes that should run the daemon pod.", |d| int_cell(&d["status"]["desiredNumberScheduled"])),
    int("Current", "Nodes running at least one daemon pod.", |d| int_cell(&d["status"]["currentNumberScheduled"])),
    int("Ready", "Nodes whose daemon pod is ready.", |d| int_cell(&d["status"]["numberReady"])),
    int("Up-to-date", "Nodes running the updated daemon pod.", |d| int_cell(&d["status"]["updatedNumberScheduled"])),
    int("Available", "Nodes whose daemon pod is available.", |d| int_cell(&d["status"]["numberAvailable"])),
    text("Node Selector", "The node selector of the pod template.", |d| selector_cell(&d["spec"]["template"]["spec"]["nodeSelector"])),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

#[rustfmt::skip]
const JOB: Table = &[
    NAME,
    text("Status", "The job's state: Running, Complete, Failed, Suspended…", |j| json!(job_status(&j["status"]))),
    text("Completions", "Succeeded pods out of those needed.", job_completions),
    text("Duration", "How long the job ran or has been running.", job_duration),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn job_status(status: &Value) -> &'static str {
    let holds =
        |t: &str| list(&status["conditions"]).any(|c| c["type"] == t && c["status"] == "True");
    if holds("Failed") {
        "Failed"
    } else if holds("Complete") {
        "Complete"
    } else if holds("Suspended") {
        "Suspended"
    } else if holds("FailureTarget") {
        "FailureTarget"
    } else if holds("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

fn job_completions(j: &Value) -> Value {
    let succeeded = int_at(&j["status"]["succeeded"]);
    let spec = &j["spec"];
    json!(match spec["completions"].as_i64() {
        Some(c) => format!("{succeeded}/{c}"),
        None => match spec["parallelism"].as_i64() {
            Some(p) if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    })
}

fn job_duration(j: &Value) -> Value {
    let status = &j["status"];
    let start = status["startTime"].as_str().and_then(parse_rfc3339);
    let end = status["completionTime"].as_str().and_then(parse_rfc3339);
    json!(match (start, end) {
        (Some(s), Some(e)) => human_duration((e - s).floor() as i64),
        (Some(s), None) => human_duration((unix_now() - s).floor() as i64),
        _ => String::new(),
    })
}

#[rustfmt::skip]
const CRONJOB: Table = &[
    NAME,
    text("Schedule", "The cron schedule.", |c| c["spec"]["schedule"].clone()),
    text("Timezone", "The time zone of the schedule.", |c| none_at(&c["spec"]["timeZone"])),
    boolean("Suspend", "Whether new runs are held back.", |c| json!(c["spec"]["suspend"].as_bool().unwrap_or(false))),
    int("Active", "Jobs running now.", |c| count(&c["status"]["active"])),
    text("Last Schedule", "When a job was last started.", last_schedule),
    AGE,
    Col { cell: |c| containers(&c["spec"]["jobTemplate"]["spec"]["template"]), ..CONTAINERS },
    Col { cell: |c| images(&c["spec"]["jobTemplate"]["spec"]["template"]), ..IMAGES },
    Col { cell: |c| selector_cell(&c["spec"]["jobTemplate"]["spec"]["selector"]), ..SELECTOR },
];

fn last_schedule(c: &Value) -> Value {
    json!(match c["status"]["lastScheduleTime"].as_str() {
        Some(t) => age_of(t),
        None => "<none>".into(),
    })
}

// --- services and networking ---------------------------------------------------------

#[rustfmt::skip]
const SERVICE: Table = &[
    NAME,
    text("Type", "How the service is exposed.", |s| json!(service_type(s))),
    text("Cluster-IP", "The service's IP inside the cluster.", |s| none_at(&s["spec"]["clusterIP"])),
    text("External-IP", "Addresses the service is reachable at from outside.", service_external),
    text("Port(s)", "The ports the service exposes.", service_ports),
    AGE,
    text("Selector", "The labels of the pods the service routes to.", |s| selector_cell(&s["spec"]["selector"])).wide(),
];

fn service_type(svc: &Value) -> &str {
    match str_at(&svc["spec"]["type"]) {
        "" => "ClusterIP",
        t => t,
    }
}

fn load_balancer_addresses(status: &Value) -> Vec<&str> {
    list(&status["loadBalancer"]["ingress"])
        .filter_map(|i| i["ip"].as_str().or_else(|| i["hostname"].as_str()))
        .collect()
}

fn service_external(svc: &Value) -> Value {
    let spec = &svc["spec"];
    let external: Vec<&str> = list(&spec["externalIPs"]).map(str_at).collect();
    json!(match service_type(svc) {
        "ExternalName" => str_at(&spec["externalName"]).to_string(),
        "LoadBalancer" => {
            let mut all = load_balancer_addresses(&svc["status"]);
            all.extend(external.iter().copied());
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        _ => or_none(&external.join(",")),
    })
}

fn service_ports(svc: &Value) -> Value {
    let ports: Vec<String> = list(&svc["spec"]["ports"])
        .map(|p| {
            let protocol = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_i64() {
                Some(n) if n != 0 => format!("{}:{n}/{protocol}", int_at(&p["port"])),
                _ => format!("{}/{protocol}", int_at(&p["port"])),
            }
        })
        .collect();
    json!(or_none(&ports.join(",")))
}

#[rustfmt::skip]
const INGRESS: Table = &[
    NAME,
    text("Class", "The ingress class.", |i| none_at(&i["spec"]["ingressClassName"])),
    text("Hosts", "The hosts the rules match.", ingress_hosts),
    text("Address", "Where the load balancer is.", |i| json!(load_balancer_addresses(&i["status"]).join(","))),
    text("Ports", "The ports served (443 with TLS).", |i| json!(if list(&i["spec"]["tls"]).next().is_some() { "80, 443" } else { "80" })),
    AGE,
];

fn ingress_hosts(ing: &Value) -> Value {
    let hosts: Vec<&str> = list(&ing["spec"]["rules"])
        .filter_map(|r| r["host"].as_str().filter(|h| !h.is_empty()))
        .collect();
    json!(if hosts.is_empty() {
        "*".to_string()
    } else {
        hosts.join(",")
    })
}

// --- cluster ---------------------------------------------------------------------

#[rustfmt::skip]
const NODE: Table = &[
    NAME,
    text("Status", "Whether the node is ready, and schedulable.", node_status),
    text("Roles", "The node's roles from its node-role labels.", node_roles),
    AGE,
    text("Version", "The kubelet version.", |n| n["status"]["nodeInfo"]["kubeletVersion"].clone()),
    text("Internal-IP", "The node's internal address.", |n| node_address(n, "InternalIP")).wide(),
    text("External-IP", "The node's external address.", |n| node_address(n, "ExternalIP")).wide(),
    text("OS-Image", "The node's operating system image.", |n| none_at(&n["status"]["nodeInfo"]["osImage"])).wide(),
    text("Kernel-Version", "The node's kernel version.", |n| none_at(&n["status"]["nodeInfo"]["kernelVersion"])).wide(),
    text("Container-Runtime", "The container runtime and its version.", |n| none_at(&n["status"]["nodeInfo"]["containerRuntimeVersion"])).wide(),
];

fn node_status(n: &Value) -> Value {
    let mut state = match list(&n["status"]["conditions"]).find(|c| c["type"] == "Ready") {
        Some(c) if c["status"] == "True" => "Ready",
        Some(c) if c["status"] == "False" => "NotReady",
        _ => "Unknown",
    }
    .to_string();
    if n["spec"]["unschedulable"] == json!(true) {
        state.push_str(",SchedulingDisabled");
    }
    json!(state)
}

fn node_roles(n: &Value) -> Value {
    let mut roles: Vec<String> = n["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role.to_string()),
            _ if k == "kubernetes.io/role" => v.as_str().map(String::from),
            _ => None,
        })
        .collect();
    roles.sort();
    json!(or_none(&roles.join(",")))
}

fn node_address(n: &Value, kind: &str) -> Value {
    json!(or_none(
        list(&n["status"]["addresses"])
            .find(|a| a["type"] == kind)
            .map_or("", |a| str_at(&a["address"])),
    ))
}

#[rustfmt::skip]
const NAMESPACE: Table = &[
    NAME,
    text("Status", "The namespace's phase: Active or Terminating.", |ns| ns["status"]["phase"].clone()),
    AGE,
];

#[rustfmt::skip]
const EVENT: Table = &[
    text("Last Seen", "When the event was last seen.", |ev| seen(ev["lastTimestamp"].as_str().unwrap_or(first_seen(ev)))),
    text("Type", "Normal or Warning.", |ev| ev["type"].clone()),
    text("Reason", "Why the event happened, in CamelCase.", |ev| ev["reason"].clone()),
    text("Object", "The object the event is about.", event_object),
    text("Subobject", "The part of the object the event is about.", |ev| text_at(&ev["involvedObject"]["fieldPath"])).wide(),
    text("Source", "The component that reported the event.", event_source).wide(),
    text("Message", "What happened, for people.", |ev| ev["message"].clone()),
    text("First Seen", "When the event was first seen.", |ev| seen(first_seen(ev))).wide(),
    text("Count", "How often the event happened.", |ev| json!(ev["count"].as_i64().unwrap_or(1).to_string())).wide(),
    text("Name", "The event's name.", name).wide(),
];

fn event_object(ev: &Value) -> Value {
    let involved = &ev["involvedObject"];
    json!(format!(
        "{}/{}",
        str_at(&involved["kind"]).to_lowercase(),
        str_at(&involved["name"])
    ))
}

fn event_source(ev: &Value) -> Value {
    let source = &ev["source"];
    json!(joined(
        [str_at(&source["component"]), str_at(&source["host"])]
            .into_iter()
            .filter(|s| !s.is_empty()),
        ", ",
    ))
}

fn first_seen(ev: &Value) -> &str {
    ev["firstTimestamp"]
        .as_str()
        .or_else(|| ev["eventTime"].as_str())
        .unwrap_or("")
}

fn seen(t: &str) -> Value {
    json!(if t.is_empty() {
        "<unknown>".to_string()
    } else {
        age_of(t)
    })
}

#[rustfmt::skip]
const LEASE: Table = &[
    NAME,
    text("Holder", "Who holds the lease.", |l| text_at(&l["spec"]["holderIdentity"])),
    AGE,
];

// --- configuration and storage -------------------------------------------------------

#[rustfmt::skip]
const CONFIGMAP: Table = &[
    NAME,
    int("Data", "The number of keys.", |cm| json!(keys(&cm["data"]) + keys(&cm["binaryData"]))),
    AGE,
];

/// How many keys a map has.
fn keys(v: &Value) -> usize {
    v.as_object().map_or(0, |m| m.len())
}

#[rustfmt::skip]
const SECRET: Table = &[
    NAME,
    text("Type", "The kind of secret.", |s| json!(match str_at(&s["type"]) { "" => "Opaque", t => t })),
    int("Data", "The number of keys.", |s| json!(keys(&s["data"]))),
    AGE,
];

#[rustfmt::skip]
const SERVICEACCOUNT: Table = &[
    NAME,
    int("Secrets", "The number of secrets listed.", |sa| count(&sa["secrets"])),
    AGE,
];

#[rustfmt::skip]
const PV: Table = &[
    NAME,
    text("Capacity", "The volume's size.", |pv| text_at(&pv["spec"]["capacity"]["storage"])),
    text("Access Modes", "How the volume can be mounted.", |pv| json!(access_modes(&pv["spec"]["accessModes"]))),
    text("Reclaim Policy", "What happens to the volume when released.", |pv| text_at(&pv["spec"]["persistentVolumeReclaimPolicy"])),
    text("Status", "The volume's phase.", phase_or_terminating),
    text("Claim", "The claim bound to the volume.", pv_claim),
    text("StorageClass", "The volume's storage class.", |pv| text_at(&pv["spec"]["storageClassName"])),
    text("VolumeAttributesClass", "The volume's attributes class.", |pv| str_or(&pv["spec"]["volumeAttributesClassName"], "<unset>")),
    text("Reason", "Why the volume is in its phase.", |pv| text_at(&pv["status"]["reason"])),
    AGE,
    VOLUME_MODE,
];

fn pv_claim(pv: &Value) -> Value {
    let claim = &pv["spec"]["claimRef"];
    json!(if claim.is_object() {
        format!("{}/{}", str_at(&claim["namespace"]), str_at(&claim["name"]))
    } else {
        String::new()
    })
}

const VOLUME_MODE: Col = text("VolumeMode", "Filesystem or Block.", |v| {
    str_or(&v["spec"]["volumeMode"], "<unset>")
})
.wide();

#[rustfmt::skip]
const PVC: Table = &[
    NAME,
    text("Status", "The claim's phase.", phase_or_terminating),
    text("Volume", "The volume bound to the claim.", |pvc| text_at(&pvc["spec"]["volumeName"])),
    text("Capacity", "The bound volume's size.", |pvc| if_bound(pvc, text_at(&pvc["status"]["capacity"]["storage"]))),
    text("Access Modes", "How the volume can be mounted.", |pvc| if_bound(pvc, json!(access_modes(&pvc["status"]["accessModes"])))),
    text("StorageClass", "The claim's storage class.", |pvc| text_at(&pvc["spec"]["storageClassName"])),
    text("VolumeAttributesClass", "The claim's attributes class.", |pvc| str_or(&pvc["spec"]["volumeAttributesClassName"], "<unset>")),
    AGE,
    VOLUME_MODE,
];

/// A cell of a claim's bound volume: empty while the claim names none.
fn if_bound(pvc: &Value, cell: Value) -> Value {
    if str_at(&pvc["spec"]["volumeName"]).is_empty() {
        json!("")
    } else {
        cell
    }
}

// --- more kinds kubectl users list --------------------------------------------------

#[rustfmt::skip]
const ENDPOINTS: Table = &[
    NAME,
    text("Endpoints", "The addresses and ports, the first three.", endpoints),
    AGE,
];

fn endpoints(ep: &Value) -> Value {
    let mut all: Vec<String> = vec![];
    for subset in list(&ep["subsets"]) {
        for address in list(&subset["addresses"]) {
            let ip = str_at(&address["ip"]);
            if list(&subset["ports"]).next().is_none() {
                all.push(ip.to_string());
            }
            all.extend(list(&subset["ports"]).map(|p| format!("{ip}:{}", int_at(&p["port"]))));
        }
    }
    json!(match all.len() {
        0 => "<none>".to_string(),
        n if n > 3 => format!("{} + {} more...", all[..3].join(","), n - 3),
        _ => all.join(","),
    })
}

#[rustfmt::skip]
const ROLEBINDING: Table = &[
    NAME,
    text("Role", "The role bound: Role/NAME or ClusterRole/NAME.", |b| json!(format!("{}/{}", str_at(&b["roleRef"]["kind"]), str_at(&b["roleRef"]["name"])))),
    AGE,
    text("Users", "The users bound.", |b| subjects(b, "User")).wide(),
    text("Groups", "The groups bound.", |b| subjects(b, "Group")).wide(),
    text("ServiceAccounts", "The service accounts bound (NAMESPACE/NAME).", |b| subjects(b, "ServiceAccount")).wide(),
];

/// A binding's subjects of one kind, service accounts as NAMESPACE/NAME.
fn subjects(b: &Value, kind: &str) -> Value {
    json!(list(&b["subjects"])
        .filter(|s| s["kind"] == kind)
        .map(|s| match kind {
            "ServiceAccount" => format!("{}/{}", str_at(&s["namespace"]), str_at(&s["name"])),
            _ => str_at(&s["name"]).to_string(),
        })
        .collect::<Vec<_>>()
        .join(", "))
}

#[rustfmt::skip]
const STORAGECLASS: Table = &[
    Col { cell: storageclass_name, ..NAME },
    text("Provisioner", "The volume plugin that provisions volumes.", |sc| sc["provisioner"].clone()),
    text("ReclaimPolicy", "What happens to released volumes.", |sc| str_or(&sc["reclaimPolicy"], "Delete")),
    text("VolumeBindingMode", "When volumes are bound.", |sc| str_or(&sc["volumeBindingMode"], "Immediate")),
    text("AllowVolumeExpansion", "Whether volumes can grow.", |sc| json!(sc["allowVolumeExpansion"].as_bool().unwrap_or(false))),
    AGE,
];

/// The default class is marked after its name.
fn storageclass_name(sc: &Value) -> Value {
    let default =
        sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true";
    match (name(sc).as_str(), default) {
        (Some(n), true) => json!(format!("{n} (default)")),
        (_, _) => name(sc),
    }
}

#[rustfmt::skip]
const PRIORITYCLASS: Table = &[
    NAME,
    int("Value", "The priority of pods of this class.", |pc| int_cell(&pc["value"])),
    boolean("Global-Default", "Whether pods without a class get this one.", |pc| json!(pc["globalDefault"].as_bool().unwrap_or(false))),
    AGE,
    text("PreemptionPolicy", "Whether pods of this class preempt others.", |pc| str_or(&pc["preemptionPolicy"], "PreemptLowerPriority")),
];

#[rustfmt::skip]
const NETWORKPOLICY: Table = &[
    NAME,
    text("Pod-Selector", "The pods the policy applies to.", |np| selector_cell(&np["spec"]["podSelector"])),
    AGE,
];

#[rustfmt::skip]
const PDB: Table = &[
    NAME,
    text("Min Available", "Pods that must stay available.", |p| budget(&p["spec"]["minAvailable"])),
    text("Max Unavailable", "Pods that may be unavailable.", |p| budget(&p["spec"]["maxUnavailable"])),
    int("Allowed Disruptions", "Pods that may be disrupted now.", |p| int_cell(&p["status"]["disruptionsAllowed"])),
    AGE,
];

/// A budget bound: a number, a percentage, or N/A.
fn budget(v: &Value) -> Value {
    json!(match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "N/A".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_kubectl_prints_them() {
        for (secs, want) in [
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (192, "3m12s"),
            (300, "5m"),
            (1500, "25m"),
            (4 * 3600 + 60, "4h1m"),
            (20 * 3600, "20h"),
            (2 * 86400, "2d"),
            (3 * 86400 + 7200, "3d2h"),
            (100 * 86400, "100d"),
            (3 * 365 * 86400 + 86400, "3y1d"),
            (10 * 365 * 86400, "10y"),
        ] {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }

    #[test]
    fn a_running_pod_reads_ready_and_running() {
        let p = json!({
            "metadata": {"name": "web", "creationTimestamp": "2020-01-01T00:00:00Z"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 1, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
            ]}
        });
        let row = cells(POD, &p);
        assert_eq!(
            row[..4],
            [
                json!("web"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("3")
            ]
        );
        assert_eq!(
            row[5..],
            [
                json!("10.0.0.5"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn service_ports_and_external_addresses() {
        let svc = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.9",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"app": "web"}}});
        let row = cells(SERVICE, &svc);
        assert_eq!(
            row[1..4],
            [
                json!("LoadBalancer"),
                json!("10.96.0.9"),
                json!("<pending>")
            ]
        );
        assert_eq!(row[4], json!("80:30080/TCP,53/UDP"));
        assert_eq!(row[6], json!("app=web"));
    }

    #[test]
    fn label_selectors_print_expressions() {
        let sel = json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]});
        assert_eq!(selector_text(&sel), "app=web,tier in (a,b)");
    }

    #[test]
    fn bindings_storage_classes_and_budgets() {
        let b = json!({"metadata": {"name": "read"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "ann"}, {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}]});
        let row = cells(ROLEBINDING, &b);
        assert_eq!([json!("read"), json!("ClusterRole/view")], row[..2]);
        assert_eq!([json!("ann"), json!(""), json!("build/ci")], row[3..]);
        let sc = json!({"metadata": {"name": "fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/no-provisioner"});
        assert_eq!(
            [
                json!("fast (default)"),
                json!("kubernetes.io/no-provisioner"),
                json!("Delete"),
                json!("Immediate"),
                json!(false)
            ],
            cells(STORAGECLASS, &sc)[..5]
        );
        let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 1}, "status": {"disruptionsAllowed": 0}});
        assert_eq!([json!("1"), json!("N/A"), json!(0)], cells(PDB, &pdb)[1..4]);
        let ep = json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]});
        assert_eq!(
            json!("10.0.0.1:80,10.0.0.1:443,10.0.0.2:80 + 1 more..."),
            cells(ENDPOINTS, &ep)[1]
        );
    }
}

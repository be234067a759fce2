//! The columns and cells kube-apiserver 1.32 prints for built-in kinds
//! (its `printers` package), written from what each column shows.

use super::Column;
use crate::resources::ResourceInfo;
use crate::store::{parse_rfc3339, unix_now};
use serde_json::{json, Value};

pub type CellsFn = fn(&Value) -> Vec<Value>;

/// A built-in kind's columns and the function making a row's cells.
pub struct Printer {
    pub columns: Vec<Column>,
    pub cells: CellsFn,
}

/// `(name, type, priority, description)` of one column.
type Spec = (&'static str, &'static str, u8, &'static str);

fn column((name, kind, priority, description): Spec) -> Column {
    Column {
        name: name.to_string(),
        kind,
        format: if name == "Name" { "name" } else { "" },
        description: description.to_string(),
        priority,
    }
}

const NAME: Spec = (
    "Name",
    "string",
    0,
    "The object's name, unique within its namespace.",
);
const AGE: Spec = (
    "Age",
    "string",
    0,
    "How long ago the object was created (metadata.creationTimestamp).",
);
const CONTAINERS: Spec = (
    "Containers",
    "string",
    1,
    "Names of each container in the template.",
);
const IMAGES: Spec = (
    "Images",
    "string",
    1,
    "Images of each container in the template.",
);
const SELECTOR: Spec = (
    "Selector",
    "string",
    1,
    "The label selector of the pods this object manages.",
);

pub fn name_column() -> Column {
    column(NAME)
}

/// A CRD's default Age column (a date the CRD table shows as an age).
pub fn age_column() -> Column {
    Column {
        kind: "date",
        ..column(AGE)
    }
}

/// The printer of a built-in kind; None for kinds printed as Name and Age
/// by the caller's default.
pub fn for_resource(res: &ResourceInfo) -> Option<Printer> {
    let (specs, cells): (&[Spec], CellsFn) = match (res.group, res.plural) {
        ("", "pods") => (POD, pod),
        ("apps", "deployments") => (DEPLOYMENT, deployment),
        ("apps", "replicasets") => (REPLICASET, replicaset),
        ("apps", "statefulsets") => (STATEFULSET, statefulset),
        ("apps", "daemonsets") => (DAEMONSET, daemonset),
        ("", "services") => (SERVICE, service),
        ("", "nodes") => (NODE, node),
        ("", "namespaces") => (NAMESPACE, namespace),
        ("", "configmaps") => (CONFIGMAP, configmap),
        ("", "secrets") => (SECRET, secret),
        ("", "serviceaccounts") => (SERVICEACCOUNT, serviceaccount),
        ("batch", "jobs") => (JOB, job),
        ("batch", "cronjobs") => (CRONJOB, cronjob),
        ("networking.k8s.io", "ingresses") => (INGRESS, ingress),
        ("", "persistentvolumes") => (PV, persistent_volume),
        ("", "persistentvolumeclaims") => (PVC, persistent_volume_claim),
        ("", "events") => (EVENT, event),
        ("coordination.k8s.io", "leases") => (LEASE, lease),
        ("", "replicationcontrollers") => (REPLICASET, replicaset),
        ("", "endpoints") => (ENDPOINTS, endpoints),
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            (ROLEBINDING, rolebinding)
        }
        ("storage.k8s.io", "storageclasses") => (STORAGECLASS, storageclass),
        ("scheduling.k8s.io", "priorityclasses") => (PRIORITYCLASS, priorityclass),
        ("networking.k8s.io", "networkpolicies") => (NETWORKPOLICY, networkpolicy),
        ("policy", "poddisruptionbudgets") => (PDB, pod_disruption_budget),
        ("rbac.authorization.k8s.io", "roles" | "clusterroles")
        | ("apiextensions.k8s.io", "customresourcedefinitions") => (CREATED_AT, created_at),
        _ if crate::registry::is_custom(res) => return None,
        _ => (DEFAULT, default_cells),
    };
    Some(Printer {
        columns: specs.iter().copied().map(column).collect(),
        cells,
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

/// Containers and Images of a pod template.
fn template_cells(template: &Value) -> [Value; 2] {
    let containers = &template["spec"]["containers"];
    [
        json!(joined(list(containers).map(|c| str_at(&c["name"])), ",")),
        json!(joined(list(containers).map(|c| str_at(&c["image"])), ",")),
    ]
}

/// `a=b,c in (d,e),!f` for a map of labels or a LabelSelector.
fn selector_string(sel: &Value) -> String {
    let mut parts: Vec<String> = vec![];
    let labels = sel.get("matchLabels").unwrap_or(sel);
    if let Some(m) = labels.as_object() {
        parts.extend(
            m.iter()
                .filter(|(_, v)| v.is_string())
                .map(|(k, v)| format!("{k}={}", str_at(v))),
        );
    }
    for e in list(&sel["matchExpressions"]) {
        let key = str_at(&e["key"]);
        let values = joined(list(&e["values"]).map(str_at), ",");
        parts.push(match str_at(&e["operator"]) {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            op => format!("{key} {op} ({values})"),
        });
    }
    parts.sort();
    parts.join(",")
}

fn selector_cell(sel: &Value) -> Value {
    json!(or_none(&selector_string(sel)))
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

fn default_cells(obj: &Value) -> Vec<Value> {
    vec![name(obj), age(obj)]
}

const DEFAULT: &[Spec] = &[NAME, AGE];

/// Kinds the real server prints with their creation time rather than an age.
const CREATED_AT: &[Spec] = &[
    NAME,
    (
        "Created At",
        "date",
        0,
        "When the object was created (metadata.creationTimestamp).",
    ),
];

fn created_at(obj: &Value) -> Vec<Value> {
    vec![name(obj), obj["metadata"]["creationTimestamp"].clone()]
}

// --- workloads -------------------------------------------------------------------

const POD: &[Spec] = &[
    NAME,
    (
        "Ready",
        "string",
        0,
        "How many of the pod's containers are ready.",
    ),
    (
        "Status",
        "string",
        0,
        "The pod's phase, or why it is not running.",
    ),
    (
        "Restarts",
        "string",
        0,
        "How often the containers restarted, and when last.",
    ),
    AGE,
    ("IP", "string", 1, "The pod's IP address."),
    ("Node", "string", 1, "The node the pod is bound to."),
    (
        "Nominated Node",
        "string",
        1,
        "The node preemption nominated for the pod.",
    ),
    (
        "Readiness Gates",
        "string",
        1,
        "How many of the pod's readiness gates are met.",
    ),
];

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

fn pod(pod: &Value) -> Vec<Value> {
    let status = &pod["status"];
    let total = list(&pod["spec"]["containers"]).count();
    let ready = list(&status["containerStatuses"])
        .filter(|c| c["ready"] == json!(true))
        .count();
    let gates: Vec<&str> = list(&pod["spec"]["readinessGates"])
        .map(|g| str_at(&g["conditionType"]))
        .collect();
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let met = gates
            .iter()
            .filter(|g| {
                list(&status["conditions"]).any(|c| c["type"] == **g && c["status"] == "True")
            })
            .count();
        format!("{met}/{}", gates.len())
    };
    vec![
        name(pod),
        json!(format!("{ready}/{total}")),
        json!(pod_status(pod)),
        json!(pod_restarts(status)),
        age(pod),
        json!(or_none(str_at(&status["podIP"]))),
        json!(or_none(str_at(&pod["spec"]["nodeName"]))),
        json!(or_none(str_at(&status["nominatedNodeName"]))),
        json!(gates_cell),
    ]
}

const DEPLOYMENT: &[Spec] = &[
    NAME,
    (
        "Ready",
        "string",
        0,
        "Ready replicas out of the desired number.",
    ),
    (
        "Up-to-date",
        "integer",
        0,
        "Replicas updated to the latest template.",
    ),
    ("Available", "integer", 0, "Replicas available to users."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn desired(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn deployment(d: &Value) -> Vec<Value> {
    let s = &d["status"];
    let [containers, images] = template_cells(&d["spec"]["template"]);
    vec![
        name(d),
        json!(format!("{}/{}", int_at(&s["readyReplicas"]), desired(d))),
        json!(int_at(&s["updatedReplicas"])),
        json!(int_at(&s["availableReplicas"])),
        age(d),
        containers,
        images,
        selector_cell(&d["spec"]["selector"]),
    ]
}

const REPLICASET: &[Spec] = &[
    NAME,
    ("Desired", "integer", 0, "The number of replicas asked for."),
    ("Current", "integer", 0, "The number of replicas there are."),
    ("Ready", "integer", 0, "The number of ready replicas."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn replicaset(r: &Value) -> Vec<Value> {
    let s = &r["status"];
    let [containers, images] = template_cells(&r["spec"]["template"]);
    vec![
        name(r),
        json!(desired(r)),
        json!(int_at(&s["replicas"])),
        json!(int_at(&s["readyReplicas"])),
        age(r),
        containers,
        images,
        selector_cell(&r["spec"]["selector"]),
    ]
}

const STATEFULSET: &[Spec] = &[
    NAME,
    (
        "Ready",
        "string",
        0,
        "Ready replicas out of the desired number.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
];

fn statefulset(s: &Value) -> Vec<Value> {
    let [containers, images] = template_cells(&s["spec"]["template"]);
    vec![
        name(s),
        json!(format!(
            "{}/{}",
            int_at(&s["status"]["readyReplicas"]),
            desired(s)
        )),
        age(s),
        containers,
        images,
    ]
}

const DAEMONSET: &[Spec] = &[
    NAME,
    (
        "Desired",
        "integer",
        0,
        "Nodes that should run the daemon pod.",
    ),
    (
        "Current",
        "integer",
        0,
        "Nodes running at least one daemon pod.",
    ),
    ("Ready", "integer", 0, "Nodes whose daemon pod is ready."),
    (
        "Up-to-date",
        "integer",
        0,
        "Nodes running the updated daemon pod.",
    ),
    (
        "Available",
        "integer",
        0,
        "Nodes whose daemon pod is available.",
    ),
    (
        "Node Selector",
        "string",
        0,
        "The node selector of the pod template.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn daemonset(d: &Value) -> Vec<Value> {
    let s = &d["status"];
    let [containers, images] = template_cells(&d["spec"]["template"]);
    vec![
        name(d),
        json!(int_at(&s["desiredNumberScheduled"])),
        json!(int_at(&s["currentNumberScheduled"])),
        json!(int_at(&s["numberReady"])),
        json!(int_at(&s["updatedNumberScheduled"])),
        json!(int_at(&s["numberAvailable"])),
        json!(or_none(&selector_string(
            &d["spec"]["template"]["spec"]["nodeSelector"]
        ))),
        age(d),
        containers,
        images,
        selector_cell(&d["spec"]["selector"]),
    ]
}

const JOB: &[Spec] = &[
    NAME,
    (
        "Status",
        "string",
        0,
        "The job's state: Running, Complete, Failed, Suspended…",
    ),
    (
        "Completions",
        "string",
        0,
        "Succeeded pods out of those needed.",
    ),
    (
        "Duration",
        "string",
        0,
        "How long the job ran or has been running.",
    ),
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

fn job(j: &Value) -> Vec<Value> {
    let (spec, status) = (&j["spec"], &j["status"]);
    let succeeded = int_at(&status["succeeded"]);
    let completions = match spec["completions"].as_i64() {
        Some(c) => format!("{succeeded}/{c}"),
        None => match spec["parallelism"].as_i64() {
            Some(p) if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = status["startTime"].as_str().and_then(parse_rfc3339);
    let end = status["completionTime"].as_str().and_then(parse_rfc3339);
    let duration = match (start, end) {
        (Some(s), Some(e)) => human_duration((e - s).floor() as i64),
        (Some(s), None) => human_duration((unix_now() - s).floor() as i64),
        _ => String::new(),
    };
    let [containers, images] = template_cells(&spec["template"]);
    vec![
        name(j),
        json!(job_status(status)),
        json!(completions),
        json!(duration),
        age(j),
        containers,
        images,
        selector_cell(&spec["selector"]),
    ]
}

const CRONJOB: &[Spec] = &[
    NAME,
    ("Schedule", "string", 0, "The cron schedule."),
    ("Timezone", "string", 0, "The time zone of the schedule."),
    ("Suspend", "boolean", 0, "Whether new runs are held back."),
    ("Active", "integer", 0, "Jobs running now."),
    ("Last Schedule", "string", 0, "When a job was last started."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn cronjob(c: &Value) -> Vec<Value> {
    let (spec, status) = (&c["spec"], &c["status"]);
    let last = match status["lastScheduleTime"].as_str() {
        Some(t) => age_of(t),
        None => "<none>".into(),
    };
    let job_template = &spec["jobTemplate"]["spec"];
    let [containers, images] = template_cells(&job_template["template"]);
    vec![
        name(c),
        spec["schedule"].clone(),
        json!(or_none(str_at(&spec["timeZone"]))),
        json!(spec["suspend"].as_bool().unwrap_or(false)),
        json!(list(&status["active"]).count()),
        json!(last),
        age(c),
        containers,
        images,
        selector_cell(&job_template["selector"]),
    ]
}

// --- services and networking ---------------------------------------------------------

const SERVICE: &[Spec] = &[
    NAME,
    ("Type", "string", 0, "How the service is exposed."),
    (
        "Cluster-IP",
        "string",
        0,
        "The service's IP inside the cluster.",
    ),
    (
        "External-IP",
        "string",
        0,
        "Addresses the service is reachable at from outside.",
    ),
    ("Port(s)", "string", 0, "The ports the service exposes."),
    AGE,
    (
        "Selector",
        "string",
        1,
        "The labels of the pods the service routes to.",
    ),
];

fn load_balancer_addresses(status: &Value) -> Vec<&str> {
    list(&status["loadBalancer"]["ingress"])
        .filter_map(|i| i["ip"].as_str().or_else(|| i["hostname"].as_str()))
        .collect()
}

fn service(svc: &Value) -> Vec<Value> {
    let spec = &svc["spec"];
    let kind = match str_at(&spec["type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let external: Vec<&str> = list(&spec["externalIPs"]).map(str_at).collect();
    let external_ip = match kind {
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
    };
    let ports: Vec<String> = list(&spec["ports"])
        .map(|p| {
            let protocol = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_i64() {
                Some(n) if n != 0 => format!("{}:{n}/{protocol}", int_at(&p["port"])),
                _ => format!("{}/{protocol}", int_at(&p["port"])),
            }
        })
        .collect();
    vec![
        name(svc),
        json!(kind),
        json!(or_none(str_at(&spec["clusterIP"]))),
        json!(external_ip),
        json!(or_none(&ports.join(","))),
        age(svc),
        selector_cell(&spec["selector"]),
    ]
}

const INGRESS: &[Spec] = &[
    NAME,
    ("Class", "string", 0, "The ingress class."),
    ("Hosts", "string", 0, "The hosts the rules match."),
    ("Address", "string", 0, "Where the load balancer is."),
    ("Ports", "string", 0, "The ports served (443 with TLS)."),
    AGE,
];

fn ingress(ing: &Value) -> Vec<Value> {
    let spec = &ing["spec"];
    let hosts: Vec<&str> = list(&spec["rules"])
        .filter_map(|r| r["host"].as_str().filter(|h| !h.is_empty()))
        .collect();
    let ports = if list(&spec["tls"]).next().is_some() {
        "80, 443"
    } else {
        "80"
    };
    vec![
        name(ing),
        json!(or_none(str_at(&spec["ingressClassName"]))),
        json!(if hosts.is_empty() {
            "*".to_string()
        } else {
            hosts.join(",")
        }),
        json!(load_balancer_addresses(&ing["status"]).join(",")),
        json!(ports),
        age(ing),
    ]
}

// --- cluster ---------------------------------------------------------------------

const NODE: &[Spec] = &[
    NAME,
    (
        "Status",
        "string",
        0,
        "Whether the node is ready, and schedulable.",
    ),
    (
        "Roles",
        "string",
        0,
        "The node's roles from its node-role labels.",
    ),
    AGE,
    ("Version", "string", 0, "The kubelet version."),
    ("Internal-IP", "string", 1, "The node's internal address."),
    ("External-IP", "string", 1, "The node's external address."),
    (
        "OS-Image",
        "string",
        1,
        "The node's operating system image.",
    ),
    ("Kernel-Version", "string", 1, "The node's kernel version."),
    (
        "Container-Runtime",
        "string",
        1,
        "The container runtime and its version.",
    ),
];

fn node(n: &Value) -> Vec<Value> {
    let status = &n["status"];
    let mut state = match list(&status["conditions"]).find(|c| c["type"] == "Ready") {
        Some(c) if c["status"] == "True" => "Ready",
        Some(c) if c["status"] == "False" => "NotReady",
        _ => "Unknown",
    }
    .to_string();
    if n["spec"]["unschedulable"] == json!(true) {
        state.push_str(",SchedulingDisabled");
    }
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
    let address = |kind: &str| {
        or_none(
            list(&status["addresses"])
                .find(|a| a["type"] == kind)
                .map_or("", |a| str_at(&a["address"])),
        )
    };
    let info = &status["nodeInfo"];
    vec![
        name(n),
        json!(state),
        json!(or_none(&roles.join(","))),
        age(n),
        info["kubeletVersion"].clone(),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(or_none(str_at(&info["osImage"]))),
        json!(or_none(str_at(&info["kernelVersion"]))),
        json!(or_none(str_at(&info["containerRuntimeVersion"]))),
    ]
}

const NAMESPACE: &[Spec] = &[
    NAME,
    (
        "Status",
        "string",
        0,
        "The namespace's phase: Active or Terminating.",
    ),
    AGE,
];

fn namespace(ns: &Value) -> Vec<Value> {
    vec![name(ns), ns["status"]["phase"].clone(), age(ns)]
}

const EVENT: &[Spec] = &[
    ("Last Seen", "string", 0, "When the event was last seen."),
    ("Type", "string", 0, "Normal or Warning."),
    (
        "Reason",
        "string",
        0,
        "Why the event happened, in CamelCase.",
    ),
    ("Object", "string", 0, "The object the event is about."),
    (
        "Subobject",
        "string",
        1,
        "The part of the object the event is about.",
    ),
    (
        "Source",
        "string",
        1,
        "The component that reported the event.",
    ),
    ("Message", "string", 0, "What happened, for people."),
    ("First Seen", "string", 1, "When the event was first seen."),
    ("Count", "string", 1, "How often the event happened."),
    ("Name", "string", 1, "The event's name."),
];

fn event(ev: &Value) -> Vec<Value> {
    let first = ev["firstTimestamp"]
        .as_str()
        .or_else(|| ev["eventTime"].as_str())
        .unwrap_or("");
    let last = ev["lastTimestamp"].as_str().unwrap_or(first);
    let seen = |t: &str| {
        if t.is_empty() {
            "<unknown>".to_string()
        } else {
            age_of(t)
        }
    };
    let involved = &ev["involvedObject"];
    let source = &ev["source"];
    let source = joined(
        [str_at(&source["component"]), str_at(&source["host"])]
            .into_iter()
            .filter(|s| !s.is_empty()),
        ", ",
    );
    vec![
        json!(seen(last)),
        ev["type"].clone(),
        ev["reason"].clone(),
        json!(format!(
            "{}/{}",
            str_at(&involved["kind"]).to_lowercase(),
            str_at(&involved["name"])
        )),
        json!(str_at(&involved["fieldPath"])),
        json!(source),
        ev["message"].clone(),
        json!(seen(first)),
        json!(ev["count"].as_i64().unwrap_or(1).to_string()),
        name(ev),
    ]
}

const LEASE: &[Spec] = &[NAME, ("Holder", "string", 0, "Who holds the lease."), AGE];

fn lease(l: &Value) -> Vec<Value> {
    vec![name(l), json!(str_at(&l["spec"]["holderIdentity"])), age(l)]
}

// --- configuration and storage -------------------------------------------------------

const CONFIGMAP: &[Spec] = &[NAME, ("Data", "integer", 0, "The number of keys."), AGE];

fn configmap(cm: &Value) -> Vec<Value> {
    let count = |v: &Value| v.as_object().map_or(0, |m| m.len());
    vec![
        name(cm),
        json!(count(&cm["data"]) + count(&cm["binaryData"])),
        age(cm),
    ]
}

const SECRET: &[Spec] = &[
    NAME,
    ("Type", "string", 0, "The kind of secret."),
    ("Data", "integer", 0, "The number of keys."),
    AGE,
];

fn secret(s: &Value) -> Vec<Value> {
    let kind = match str_at(&s["type"]) {
        "" => "Opaque",
        t => t,
    };
    let data = s["data"].as_object().map_or(0, |m| m.len());
    vec![name(s), json!(kind), json!(data), age(s)]
}

const SERVICEACCOUNT: &[Spec] = &[
    NAME,
    ("Secrets", "integer", 0, "The number of secrets listed."),
    AGE,
];

fn serviceaccount(sa: &Value) -> Vec<Value> {
    vec![name(sa), json!(list(&sa["secrets"]).count()), age(sa)]
}

const PV: &[Spec] = &[
    NAME,
    ("Capacity", "string", 0, "The volume's size."),
    (
        "Access Modes",
        "string",
        0,
        "How the volume can be mounted.",
    ),
    (
        "Reclaim Policy",
        "string",
        0,
        "What happens to the volume when released.",
    ),
    ("Status", "string", 0, "The volume's phase."),
    ("Claim", "string", 0, "The claim bound to the volume."),
    ("StorageClass", "string", 0, "The volume's storage class."),
    (
        "VolumeAttributesClass",
        "string",
        0,
        "The volume's attributes class.",
    ),
    ("Reason", "string", 0, "Why the volume is in its phase."),
    AGE,
    ("VolumeMode", "string", 1, "Filesystem or Block."),
];

fn persistent_volume(pv: &Value) -> Vec<Value> {
    let (spec, status) = (&pv["spec"], &pv["status"]);
    let claim = &spec["claimRef"];
    let claim = if claim.is_object() {
        format!("{}/{}", str_at(&claim["namespace"]), str_at(&claim["name"]))
    } else {
        String::new()
    };
    let phase = if pv["metadata"]["deletionTimestamp"].is_null() {
        str_at(&status["phase"])
    } else {
        "Terminating"
    };
    vec![
        name(pv),
        json!(str_at(&spec["capacity"]["storage"])),
        json!(access_modes(&spec["accessModes"])),
        json!(str_at(&spec["persistentVolumeReclaimPolicy"])),
        json!(phase),
        json!(claim),
        json!(str_at(&spec["storageClassName"])),
        json!(spec["volumeAttributesClassName"]
            .as_str()
            .unwrap_or("<unset>")),
        json!(str_at(&status["reason"])),
        age(pv),
        json!(spec["volumeMode"].as_str().unwrap_or("<unset>")),
    ]
}

const PVC: &[Spec] = &[
    NAME,
    ("Status", "string", 0, "The claim's phase."),
    ("Volume", "string", 0, "The volume bound to the claim."),
    ("Capacity", "string", 0, "The bound volume's size."),
    (
        "Access Modes",
        "string",
        0,
        "How the volume can be mounted.",
    ),
    ("StorageClass", "string", 0, "The claim's storage class."),
    (
        "VolumeAttributesClass",
        "string",
        0,
        "The claim's attributes class.",
    ),
    AGE,
    ("VolumeMode", "string", 1, "Filesystem or Block."),
];

fn persistent_volume_claim(pvc: &Value) -> Vec<Value> {
    let (spec, status) = (&pvc["spec"], &pvc["status"]);
    let phase = if pvc["metadata"]["deletionTimestamp"].is_null() {
        str_at(&status["phase"])
    } else {
        "Terminating"
    };
    let bound = !str_at(&spec["volumeName"]).is_empty();
    vec![
        name(pvc),
        json!(phase),
        json!(str_at(&spec["volumeName"])),
        json!(if bound {
            str_at(&status["capacity"]["storage"])
        } else {
            ""
        }),
        json!(if bound {
            access_modes(&status["accessModes"])
        } else {
            String::new()
        }),
        json!(str_at(&spec["storageClassName"])),
        json!(spec["volumeAttributesClassName"]
            .as_str()
            .unwrap_or("<unset>")),
        age(pvc),
        json!(spec["volumeMode"].as_str().unwrap_or("<unset>")),
    ]
}

// --- more kinds kubectl users list --------------------------------------------------

const ENDPOINTS: &[Spec] = &[
    NAME,
    (
        "Endpoints",
        "string",
        0,
        "The addresses and ports, the first three.",
    ),
    AGE,
];

fn endpoints(ep: &Value) -> Vec<Value> {
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
    let shown = match all.len() {
        0 => "<none>".to_string(),
        n if n > 3 => format!("{} + {} more...", all[..3].join(","), n - 3),
        _ => all.join(","),
    };
    vec![name(ep), json!(shown), age(ep)]
}

const ROLEBINDING: &[Spec] = &[
    NAME,
    (
        "Role",
        "string",
        0,
        "The role bound: Role/NAME or ClusterRole/NAME.",
    ),
    AGE,
    ("Users", "string", 1, "The users bound."),
    ("Groups", "string", 1, "The groups bound."),
    (
        "ServiceAccounts",
        "string",
        1,
        "The service accounts bound (NAMESPACE/NAME).",
    ),
];

fn rolebinding(b: &Value) -> Vec<Value> {
    let subjects = |kind: &str| -> String {
        list(&b["subjects"])
            .filter(|s| s["kind"] == kind)
            .map(|s| match kind {
                "ServiceAccount" => format!("{}/{}", str_at(&s["namespace"]), str_at(&s["name"])),
                _ => str_at(&s["name"]).to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let role = &b["roleRef"];
    vec![
        name(b),
        json!(format!(
            "{}/{}",
            str_at(&role["kind"]),
            str_at(&role["name"])
        )),
        age(b),
        json!(subjects("User")),
        json!(subjects("Group")),
        json!(subjects("ServiceAccount")),
    ]
}

const STORAGECLASS: &[Spec] = &[
    NAME,
    (
        "Provisioner",
        "string",
        0,
        "The volume plugin that provisions volumes.",
    ),
    (
        "ReclaimPolicy",
        "string",
        0,
        "What happens to released volumes.",
    ),
    ("VolumeBindingMode", "string", 0, "When volumes are bound."),
    (
        "AllowVolumeExpansion",
        "string",
        0,
        "Whether volumes can grow.",
    ),
    AGE,
];

fn storageclass(sc: &Value) -> Vec<Value> {
    let default =
        sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true";
    let shown_name = match (name(sc).as_str(), default) {
        (Some(n), true) => json!(format!("{n} (default)")),
        (_, _) => name(sc),
    };
    vec![
        shown_name,
        sc["provisioner"].clone(),
        json!(sc["reclaimPolicy"].as_str().unwrap_or("Delete")),
        json!(sc["volumeBindingMode"].as_str().unwrap_or("Immediate")),
        json!(sc["allowVolumeExpansion"].as_bool().unwrap_or(false)),
        age(sc),
    ]
}

const PRIORITYCLASS: &[Spec] = &[
    NAME,
    ("Value", "integer", 0, "The priority of pods of this class."),
    (
        "Global-Default",
        "boolean",
        0,
        "Whether pods without a class get this one.",
    ),
    AGE,
    (
        "PreemptionPolicy",
        "string",
        0,
        "Whether pods of this class preempt others.",
    ),
];

fn priorityclass(pc: &Value) -> Vec<Value> {
    vec![
        name(pc),
        json!(int_at(&pc["value"])),
        json!(pc["globalDefault"].as_bool().unwrap_or(false)),
        age(pc),
        json!(pc["preemptionPolicy"]
            .as_str()
            .unwrap_or("PreemptLowerPriority")),
    ]
}

const NETWORKPOLICY: &[Spec] = &[
    NAME,
    (
        "Pod-Selector",
        "string",
        0,
        "The pods the policy applies to.",
    ),
    AGE,
];

fn networkpolicy(np: &Value) -> Vec<Value> {
    vec![name(np), selector_cell(&np["spec"]["podSelector"]), age(np)]
}

const PDB: &[Spec] = &[
    NAME,
    (
        "Min Available",
        "string",
        0,
        "Pods that must stay available.",
    ),
    (
        "Max Unavailable",
        "string",
        0,
        "Pods that may be unavailable.",
    ),
    (
        "Allowed Disruptions",
        "integer",
        0,
        "Pods that may be disrupted now.",
    ),
    AGE,
];

fn pod_disruption_budget(pdb: &Value) -> Vec<Value> {
    let bound = |v: &Value| match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "N/A".into(),
    };
    vec![
        name(pdb),
        json!(bound(&pdb["spec"]["minAvailable"])),
        json!(bound(&pdb["spec"]["maxUnavailable"])),
        json!(int_at(&pdb["status"]["disruptionsAllowed"])),
        age(pdb),
    ]
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
        let cells = pod(&p);
        assert_eq!(
            cells[..4],
            [
                json!("web"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("3")
            ]
        );
        assert_eq!(
            cells[5..],
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
        let cells = service(&svc);
        assert_eq!(
            cells[1..4],
            [
                json!("LoadBalancer"),
                json!("10.96.0.9"),
                json!("<pending>")
            ]
        );
        assert_eq!(cells[4], json!("80:30080/TCP,53/UDP"));
        assert_eq!(cells[6], json!("app=web"));
    }

    #[test]
    fn label_selectors_print_expressions() {
        let sel = json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]});
        assert_eq!(selector_string(&sel), "app=web,tier in (a,b)");
    }

    #[test]
    fn bindings_storage_classes_and_budgets() {
        let b = json!({"metadata": {"name": "read"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "ann"}, {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}]});
        let cells = rolebinding(&b);
        assert_eq!([json!("read"), json!("ClusterRole/view")], cells[..2]);
        assert_eq!([json!("ann"), json!(""), json!("build/ci")], cells[3..]);
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
            storageclass(&sc)[..5]
        );
        let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 1}, "status": {"disruptionsAllowed": 0}});
        assert_eq!(
            [json!("1"), json!("N/A"), json!(0)],
            pod_disruption_budget(&pdb)[1..4]
        );
        let ep = json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]});
        assert_eq!(
            json!("10.0.0.1:80,10.0.0.1:443,10.0.0.2:80 + 1 more..."),
            endpoints(&ep)[1]
        );
    }
}

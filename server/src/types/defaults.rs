//! What kube-apiserver fills in on create: the defaulting functions of the
//! built-in types (k8s.io/kubernetes pkg/apis/*/v1/defaults.go), the registry
//! strategies' empty status, and the admission plugins every cluster runs
//! (ServiceAccount: the default account and its projected token volume;
//! DefaultTolerationSeconds; Priority). Only fields the client left out are
//! set. A pod's status (Pending, qosClass) is the pod lifecycle's (pods.rs).

use crate::resources::ResourceInfo;
use crate::store::Store;
use base64::Engine;
use serde_json::{json, Value};

/// Sets `obj[key]` to `v` when it is absent (or null).
fn or_set(obj: &mut Value, key: &str, v: Value) {
    if !obj.is_object() {
        return;
    }
    if obj.get(key).is_none_or(Value::is_null) {
        obj[key] = v;
    }
}

/// Defaults of a new object of `res` whose uid is already stamped.
pub fn on_create(res: &ResourceInfo, obj: &mut Value) {
    match (res.group, res.kind) {
        ("", "Pod") => pod(obj),
        ("", "Namespace") => {
            let name = obj["metadata"]["name"].clone();
            or_set(&mut obj["metadata"], "labels", json!({}));
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
        }
        ("", "Secret") => secret(obj),
        ("", "Service") => or_set(obj, "status", json!({"loadBalancer": {}})),
        ("", "PersistentVolumeClaim") => {
            or_set(&mut obj["spec"], "volumeMode", json!("Filesystem"));
        }
        ("", "ReplicationController") => {
            or_set(&mut obj["spec"], "replicas", json!(1));
            template(&mut obj["spec"]["template"]);
            zero_status(obj, &["replicas"]);
        }
        ("", "PodTemplate") => template(&mut obj["template"]),
        ("apps", "Deployment") => {
            let spec = &mut obj["spec"];
            or_set(spec, "replicas", json!(1));
            or_set(spec, "revisionHistoryLimit", json!(10));
            or_set(spec, "progressDeadlineSeconds", json!(600));
            rolling_update(
                spec,
                "strategy",
                &[("maxUnavailable", json!("25%")), ("maxSurge", json!("25%"))],
            );
            template(&mut spec["template"]);
            empty_status(obj);
        }
        ("apps", "ReplicaSet") => {
            or_set(&mut obj["spec"], "replicas", json!(1));
            template(&mut obj["spec"]["template"]);
            zero_status(obj, &["replicas"]);
        }
        ("apps", "StatefulSet") => {
            let spec = &mut obj["spec"];
            or_set(spec, "replicas", json!(1));
            or_set(spec, "podManagementPolicy", json!("OrderedReady"));
            or_set(spec, "revisionHistoryLimit", json!(10));
            rolling_update(spec, "updateStrategy", &[("partition", json!(0))]);
            or_set(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            for claim in spec["volumeClaimTemplates"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                or_set(&mut claim["spec"], "volumeMode", json!("Filesystem"));
                or_set(claim, "status", json!({"phase": "Pending"}));
            }
            template(&mut spec["template"]);
            zero_status(obj, &["replicas", "availableReplicas"]);
        }
        ("apps", "DaemonSet") => {
            let spec = &mut obj["spec"];
            or_set(spec, "revisionHistoryLimit", json!(10));
            rolling_update(
                spec,
                "updateStrategy",
                &[("maxUnavailable", json!(1)), ("maxSurge", json!(0))],
            );
            template(&mut spec["template"]);
            zero_status(
                obj,
                &[
                    "currentNumberScheduled",
                    "numberMisscheduled",
                    "desiredNumberScheduled",
                    "numberReady",
                ],
            );
        }
        ("batch", "Job") => {
            let uid = obj["metadata"]["uid"].clone();
            let name = obj["metadata"]["name"].clone();
            job_spec(&mut obj["spec"], Some((&uid, &name)));
            empty_status(obj);
        }
        ("batch", "CronJob") => {
            let spec = &mut obj["spec"];
            or_set(spec, "concurrencyPolicy", json!("Allow"));
            or_set(spec, "suspend", json!(false));
            or_set(spec, "successfulJobsHistoryLimit", json!(3));
            or_set(spec, "failedJobsHistoryLimit", json!(1));
            if spec["jobTemplate"].is_object() {
                job_spec(&mut spec["jobTemplate"]["spec"], None);
            }
            empty_status(obj);
        }
        _ => {}
    }
}

/// A workload's update strategy (`strategy` on a Deployment, `updateStrategy`
/// on a StatefulSet or DaemonSet): type RollingUpdate unless set, and for
/// RollingUpdate the kind's `rollingUpdate` parameters where unset.
fn rolling_update(spec: &mut Value, field: &str, params: &[(&str, Value)]) {
    or_set(spec, field, json!({}));
    let strategy = &mut spec[field];
    or_set(strategy, "type", json!("RollingUpdate"));
    if strategy["type"] == "RollingUpdate" {
        or_set(strategy, "rollingUpdate", json!({}));
        for (k, v) in params {
            or_set(&mut strategy["rollingUpdate"], k, v.clone());
        }
    }
}

/// The registry strategies start a workload with an empty status: `{}`
/// unless the kind's status has counters Go writes even when zero (no
/// `omitempty`), see `zero_status`.
fn empty_status(obj: &mut Value) {
    or_set(obj, "status", json!({}));
}

/// The empty status plus the counters that are written as 0.
fn zero_status(obj: &mut Value, counters: &[&str]) {
    empty_status(obj);
    for c in counters {
        or_set(&mut obj["status"], c, json!(0));
    }
}

/// batch/v1 Job defaults; with `owner` (a Job's own uid and name) also the
/// generated selector and the labels it selects on (manualSelector unset).
fn job_spec(spec: &mut Value, owner: Option<(&Value, &Value)>) {
    if !spec.is_object() {
        return;
    }
    if spec["completions"].is_null() && spec["parallelism"].is_null() {
        spec["completions"] = json!(1);
        spec["parallelism"] = json!(1);
    }
    or_set(spec, "parallelism", json!(1));
    or_set(spec, "backoffLimit", json!(6));
    or_set(spec, "completionMode", json!("NonIndexed"));
    or_set(spec, "suspend", json!(false));
    if spec["podFailurePolicy"].is_null() {
        or_set(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    }
    if let Some((uid, name)) = owner {
        if spec["manualSelector"] != Value::Bool(true) {
            let labels = json!({
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            });
            or_set(&mut spec["template"], "metadata", json!({}));
            or_set(&mut spec["template"]["metadata"], "labels", json!({}));
            if let (Some(have), Some(add)) = (
                spec["template"]["metadata"]["labels"].as_object_mut(),
                labels.as_object(),
            ) {
                for (k, v) in add {
                    have.entry(k.clone()).or_insert(v.clone());
                }
            }
            or_set(
                spec,
                "selector",
                json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
            );
        }
    }
    template(&mut spec["template"]);
}

/// A pod template: the PodSpec defaults (admission plugins run on pods only).
fn template(t: &mut Value) {
    if t.is_object() {
        pod_spec(&mut t["spec"]);
    }
}

fn pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    or_set(spec, "restartPolicy", json!("Always"));
    or_set(spec, "dnsPolicy", json!("ClusterFirst"));
    or_set(spec, "schedulerName", json!("default-scheduler"));
    or_set(spec, "terminationGracePeriodSeconds", json!(30));
    or_set(spec, "securityContext", json!({}));
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[list].as_array_mut().into_iter().flatten() {
            container(c);
        }
    }
}

fn container(c: &mut Value) {
    let image = c["image"].as_str().unwrap_or("");
    // The tag is after the last '/': a registry's port is not a tag.
    let last = image.rsplit('/').next().unwrap_or(image);
    let untagged = !last.contains(':') && !image.contains('@');
    let latest = untagged || last.ends_with(":latest");
    or_set(
        c,
        "imagePullPolicy",
        json!(if latest { "Always" } else { "IfNotPresent" }),
    );
    or_set(c, "terminationMessagePath", json!("/dev/termination-log"));
    or_set(c, "terminationMessagePolicy", json!("File"));
    or_set(c, "resources", json!({}));
    for p in c["ports"].as_array_mut().into_iter().flatten() {
        or_set(p, "protocol", json!("TCP"));
    }
}

/// A new pod: PodSpec defaults and what the ServiceAccount,
/// DefaultTolerationSeconds and Priority admission plugins add.
fn pod(obj: &mut Value) {
    let spec = &mut obj["spec"];
    if !spec.is_object() {
        return;
    }
    pod_spec(spec);
    or_set(spec, "enableServiceLinks", json!(true));
    or_set(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    or_set(spec, "priority", json!(0));
    let account = spec["serviceAccountName"]
        .as_str()
        .or(spec["serviceAccount"].as_str())
        .unwrap_or("default")
        .to_string();
    or_set(spec, "serviceAccountName", json!(account));
    or_set(spec, "serviceAccount", json!(account));
    or_set(spec, "tolerations", json!([]));
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerations = spec["tolerations"].as_array_mut();
        if let Some(t) = tolerations {
            let has = t
                .iter()
                .any(|x| x["key"] == key && (x["effect"].is_null() || x["effect"] == "NoExecute"));
            if !has {
                t.push(
                    json!({"key": key, "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 300}),
                );
            }
        }
    }
    if spec["automountServiceAccountToken"] != Value::Bool(false) {
        token_volume(spec);
    }
}

/// The projected volume with the service account's token, the cluster CA
/// and the namespace, mounted in every container (ServiceAccount admission).
fn token_volume(spec: &mut Value) {
    const MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
    let mounted = |c: &Value| {
        c["volumeMounts"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["mountPath"] == MOUNT))
    };
    if spec["containers"]
        .as_array()
        .is_some_and(|cs| cs.iter().all(mounted))
    {
        return;
    }
    let name = format!("kube-api-access-{}", suffix());
    or_set(spec, "volumes", json!([]));
    if let Some(v) = spec["volumes"].as_array_mut() {
        v.push(json!({"name": name, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace",
                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ]}}));
    }
    for list in ["initContainers", "containers"] {
        for c in spec[list].as_array_mut().into_iter().flatten() {
            if mounted(c) {
                continue;
            }
            or_set(c, "volumeMounts", json!([]));
            if let Some(m) = c["volumeMounts"].as_array_mut() {
                m.push(json!({"name": name, "readOnly": true, "mountPath": MOUNT}));
            }
        }
    }
}

/// Five characters as the API server's name generator picks them.
fn suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let hex = crate::identity::random_hex(5);
    (0..5)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("0"), 16).unwrap_or(0))
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Secret: `type: Opaque` and `stringData` merged into `data` (write-only).
fn secret(obj: &mut Value) {
    or_set(obj, "type", json!("Opaque"));
    if let Some(Value::Object(string_data)) =
        obj.as_object_mut().and_then(|o| o.remove("stringData"))
    {
        or_set(obj, "data", json!({}));
        if let Some(data) = obj["data"].as_object_mut() {
            for (k, v) in string_data {
                let text = v.as_str().unwrap_or("").as_bytes().to_vec();
                data.insert(
                    k,
                    json!(base64::engine::general_purpose::STANDARD.encode(text)),
                );
            }
        }
    }
}

/// What a controller every cluster runs adds right after a create: the
/// `default` ServiceAccount of a new namespace (serviceaccounts-controller).
pub fn after_create(st: &mut Store, res: &ResourceInfo, obj: &Value) {
    if !(res.group.is_empty() && res.kind == "Namespace") {
        return;
    }
    let Some(ns) = obj["metadata"]["name"].as_str() else {
        return;
    };
    let Some(sa) = crate::resources::find("", "v1", "serviceaccounts") else {
        return;
    };
    if st.objects.contains_key(&Store::key(sa, ns, "default")) {
        return;
    }
    let mut account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": ns}});
    st.stamp_new(sa, &mut account, ns);
    st.put(sa, &mut account);
}

#[cfg(test)]
mod tests {
    //! Expected values: kube-apiserver 1.32's answers to the same creates
    //! (pkg/apis/*/v1/defaults.go, the registry strategies and admission).
    use super::*;

    fn res(group: &str, plural: &str) -> &'static ResourceInfo {
        crate::resources::find(group, "v1", plural).unwrap()
    }

    fn created(group: &str, plural: &str, mut obj: Value) -> Value {
        if obj["metadata"]["uid"].is_null() {
            obj["metadata"]["uid"] = json!("u-1");
        }
        on_create(res(group, plural), &mut obj);
        obj
    }

    #[test]
    fn pod_spec_and_container_defaults() {
        let p = created(
            "",
            "pods",
            json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "nginx:1.27"}, {"name": "c", "image": "reg:5000/x"}]}}),
        );
        let s = &p["spec"];
        assert_eq!(s["restartPolicy"], "Always");
        assert_eq!(s["dnsPolicy"], "ClusterFirst");
        assert_eq!(s["schedulerName"], "default-scheduler");
        assert_eq!(s["terminationGracePeriodSeconds"], 30);
        assert_eq!(s["securityContext"], json!({}));
        assert_eq!(s["enableServiceLinks"], true);
        assert_eq!(s["priority"], 0);
        assert_eq!(s["preemptionPolicy"], "PreemptLowerPriority");
        assert_eq!(s["serviceAccountName"], "default");
        assert_eq!(s["serviceAccount"], "default");
        let c = &s["containers"];
        assert_eq!(c[0]["imagePullPolicy"], "Always");
        assert_eq!(c[1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c[2]["imagePullPolicy"], "Always");
        assert_eq!(c[0]["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c[0]["terminationMessagePolicy"], "File");
        assert_eq!(c[0]["resources"], json!({}));
        assert_eq!(c[0]["ports"][0]["protocol"], "TCP");
    }

    #[test]
    fn pod_tolerations_and_token_volume() {
        let p = created(
            "",
            "pods",
            json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "nginx"}]}}),
        );
        let t = &p["spec"]["tolerations"];
        assert_eq!(
            t[0],
            json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": 300})
        );
        assert_eq!(t[1]["key"], "node.kubernetes.io/unreachable");
        let vol = &p["spec"]["volumes"][0];
        let name = vol["name"].as_str().unwrap();
        assert!(name.starts_with("kube-api-access-") && name.len() == 21);
        assert_eq!(vol["projected"]["defaultMode"], 420);
        assert_eq!(
            vol["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3607
        );
        let mount = &p["spec"]["containers"][0]["volumeMounts"][0];
        assert_eq!(
            mount["mountPath"],
            "/var/run/secrets/kubernetes.io/serviceaccount"
        );
        assert_eq!(mount["readOnly"], true);
        let off = created(
            "",
            "pods",
            json!({"metadata": {"name": "p"},
            "spec": {"automountServiceAccountToken": false, "containers": [{"name": "a", "image": "x"}]}}),
        );
        assert!(off["spec"]["volumes"].is_null());
    }

    #[test]
    fn workload_statuses_start_with_the_counts_go_always_writes() {
        let tpl = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
        let spec = json!({"selector": {"matchLabels": {"a": "b"}}, "template": tpl});
        let obj = |name: &str| json!({"metadata": {"name": name}, "spec": spec.clone()});
        assert_eq!(
            created("apps", "replicasets", obj("r"))["status"],
            json!({"replicas": 0})
        );
        assert_eq!(
            created("apps", "statefulsets", obj("s"))["status"],
            json!({"replicas": 0, "availableReplicas": 0})
        );
        assert_eq!(
            created("apps", "daemonsets", obj("d"))["status"],
            json!({"currentNumberScheduled": 0, "numberMisscheduled": 0,
                   "desiredNumberScheduled": 0, "numberReady": 0})
        );
    }

    #[test]
    fn deployment_defaults_and_empty_status() {
        let d = created(
            "apps",
            "deployments",
            json!({"metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
        );
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        let t = &d["spec"]["template"]["spec"];
        assert_eq!(t["restartPolicy"], "Always");
        assert_eq!(t["containers"][0]["imagePullPolicy"], "Always");
        // Admission plugins run on pods, not on templates.
        assert!(t["serviceAccountName"].is_null() && t["tolerations"].is_null());
        assert_eq!(d["status"], json!({}));
        let zero = created(
            "apps",
            "deployments",
            json!({"metadata": {"name": "d"}, "spec": {"replicas": 0}}),
        );
        assert_eq!(zero["spec"]["replicas"], 0);
    }

    #[test]
    fn statefulset_and_daemonset_defaults() {
        let s = created(
            "apps",
            "statefulsets",
            json!({"metadata": {"name": "s"}, "spec": {}}),
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        let d = created(
            "apps",
            "daemonsets",
            json!({"metadata": {"name": "d"}, "spec": {}}),
        );
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let on_delete = created(
            "apps",
            "statefulsets",
            json!({"metadata": {"name": "s"}, "spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            on_delete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    /// kube-apiserver 1.32 answers a create with the status counters Go writes
    /// without `omitempty` (the Python client's models require them):
    /// DaemonSet `{"currentNumberScheduled":0,"numberMisscheduled":0,
    /// "desiredNumberScheduled":0,"numberReady":0}`, ReplicaSet and
    /// ReplicationController `{"replicas":0}`, StatefulSet
    /// `{"replicas":0,"availableReplicas":0}`, Deployment `{}`.
    #[test]
    fn zero_status_counters() {
        let spec = || json!({"metadata": {"name": "x"}, "spec": {}});
        let status = |g, p| created(g, p, spec())["status"].to_string();
        assert_eq!(
            status("apps", "daemonsets"),
            r#"{"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,"numberReady":0}"#
        );
        assert_eq!(status("apps", "replicasets"), r#"{"replicas":0}"#);
        assert_eq!(status("", "replicationcontrollers"), r#"{"replicas":0}"#);
        assert_eq!(
            status("apps", "statefulsets"),
            r#"{"replicas":0,"availableReplicas":0}"#
        );
        assert_eq!(status("apps", "deployments"), "{}");
        // A seeded status is kept.
        let mut seeded = spec();
        seeded["status"] = json!({"replicas": 3});
        let s = created("apps", "replicasets", seeded);
        assert_eq!(s["status"]["replicas"], 3);
    }

    #[test]
    fn job_selector_labels_and_counts() {
        let j = created(
            "batch",
            "jobs",
            json!({"metadata": {"name": "j", "uid": "abc"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}),
        );
        let s = &j["spec"];
        assert_eq!(s["completions"], 1);
        assert_eq!(s["parallelism"], 1);
        assert_eq!(s["backoffLimit"], 6);
        assert_eq!(s["completionMode"], "NonIndexed");
        assert_eq!(s["suspend"], false);
        assert_eq!(s["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(
            s["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}})
        );
        let l = &s["template"]["metadata"]["labels"];
        assert_eq!(l["controller-uid"], "abc");
        assert_eq!(l["job-name"], "j");
        assert_eq!(l["batch.kubernetes.io/job-name"], "j");
        assert_eq!(s["template"]["spec"]["restartPolicy"], "Never");
        let c = created(
            "batch",
            "cronjobs",
            json!({"metadata": {"name": "c"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {}}}}}}),
        );
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
        assert_eq!(c["spec"]["jobTemplate"]["spec"]["backoffLimit"], 6);
        assert!(c["spec"]["jobTemplate"]["spec"]["selector"].is_null());
    }

    #[test]
    fn secret_namespace_service_claim() {
        let s = created(
            "",
            "secrets",
            json!({"metadata": {"name": "s"},
            "data": {"a": "eA=="}, "stringData": {"b": "hi"}}),
        );
        assert_eq!(s["type"], "Opaque");
        assert_eq!(s["data"], json!({"a": "eA==", "b": "aGk="}));
        assert!(s.get("stringData").is_none());
        let n = created("", "namespaces", json!({"metadata": {"name": "demo"}}));
        assert_eq!(
            n["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "demo"
        );
        let svc = created(
            "",
            "services",
            json!({"metadata": {"name": "s"}, "spec": {}}),
        );
        assert_eq!(svc["status"], json!({"loadBalancer": {}}));
        let pvc = created(
            "",
            "persistentvolumeclaims",
            json!({"metadata": {"name": "c"}, "spec": {}}),
        );
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
    }
}

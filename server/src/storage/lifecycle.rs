//! What happens around writes: pods start (or wait for a binding), namespaces
//! get their finalizer and terminate with their content, objects with
//! finalizers stay until the last finalizer is removed, and a stored
//! CustomResourceDefinition serves its resource until it is deleted.

use crate::registry;
use crate::resources::ResourceInfo;
use crate::store::{qualified, ApiError, Store};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn is_core(res: &ResourceInfo, plural: &str) -> bool {
    res.group.is_empty() && res.plural == plural
}

fn is_crd(res: &ResourceInfo) -> bool {
    res.group == "apiextensions.k8s.io" && res.plural == "customresourcedefinitions"
}

fn namespaces() -> &'static ResourceInfo {
    registry::find("", "v1", "namespaces").expect("namespaces are in the table")
}

fn has_finalizers(obj: &Value) -> bool {
    obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
}

/// New content needs an existing namespace that is not being terminated.
pub fn check_namespace_open(
    st: &Store,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
) -> Result<(), ApiError> {
    let nsres = namespaces();
    let Some(n) = st.objects.get(&Store::key(nsres, "", ns)) else {
        return Err(ApiError::not_found(nsres, ns));
    };
    if !n["metadata"]["deletionTimestamp"].is_null() {
        let mut e = ApiError::new(
            403,
            "Forbidden",
            format!("{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated", qualified(res)),
        );
        e.details = crate::store::details(res, name);
        return Err(e);
    }
    Ok(())
}

/// Server-set fields of a new object of some kinds.
pub fn on_create(res: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
    if is_core(res, "pods") {
        crate::pods::start(obj);
    } else if is_core(res, "namespaces") {
        obj["status"] = json!({"phase": "Active"});
        obj["spec"] = json!({"finalizers": ["kubernetes"]});
    } else if (is_core(res, "persistentvolumeclaims") || is_core(res, "persistentvolumes"))
        && obj["status"].is_null()
    {
        // No volume controller runs here: claims and volumes stay Pending.
        obj["status"] = json!({"phase": "Pending"});
    } else if is_core(res, "services") {
        default_service(obj);
    } else if is_crd(res) {
        accept_crd(res, obj)?;
    }
    Ok(())
}

/// What the real server fills in for a new Service: a cluster IP from the
/// service range (unless headless or ExternalName) and the spec defaults.
fn default_service(svc: &mut Value) {
    use std::sync::atomic::{AtomicU32, Ordering};
    // 10.96.0.1 is the kubernetes service; the rest of 10.96.0.0/12 is ours.
    static NEXT_IP: AtomicU32 = AtomicU32::new(10);
    let spec = &mut svc["spec"];
    if spec["type"].is_null() {
        spec["type"] = json!("ClusterIP");
    }
    if spec["type"] != "ExternalName" && spec["clusterIP"].is_null() {
        let n = NEXT_IP.fetch_add(1, Ordering::Relaxed);
        let ip = format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff);
        spec["clusterIP"] = json!(ip);
    }
    if spec["type"] != "ExternalName" {
        if spec["clusterIPs"].is_null() {
            spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
        }
        for (k, v) in [
            ("sessionAffinity", json!("None")),
            ("ipFamilies", json!(["IPv4"])),
            ("ipFamilyPolicy", json!("SingleStack")),
            ("internalTrafficPolicy", json!("Cluster")),
        ] {
            if spec[k].is_null() {
                spec[k] = v;
            }
        }
    }
    for port in spec["ports"].as_array_mut().into_iter().flatten() {
        if port["protocol"].is_null() {
            port["protocol"] = json!("TCP");
        }
        if port["targetPort"].is_null() {
            port["targetPort"] = port["port"].clone();
        }
    }
}

fn accept_crd(res: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    let spec = &obj["spec"];
    let plural = spec["names"]["plural"].as_str().unwrap_or("");
    let group = spec["group"].as_str().unwrap_or("");
    if name != format!("{plural}.{group}") {
        return Err(crate::validation::invalid(
            res,
            &name,
            "metadata.name",
            "FieldValueInvalid",
            &format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let served = spec["versions"]
        .as_array()
        .is_some_and(|v| v.iter().any(|v| v["served"] != Value::Bool(false)));
    if spec["names"]["kind"].as_str().is_none_or(str::is_empty) || !served {
        return Err(crate::validation::invalid(
            res,
            &name,
            "spec.versions",
            "FieldValueRequired",
            "Required value: must have exactly one version marked as storage version",
        ));
    }
    let now = crate::store::now_rfc3339();
    let mut accepted = spec["names"].clone();
    if accepted["singular"].is_null() {
        accepted["singular"] = json!(spec["names"]["kind"].as_str().unwrap_or("").to_lowercase());
    }
    let cond = |t: &str, reason: &str, msg: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": msg});
    let versions: Vec<Value> = spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["storage"] == Value::Bool(true))
        .map(|v| v["name"].clone())
        .collect();
    obj["status"] = json!({
        "acceptedNames": accepted,
        "conditions": [cond("NamesAccepted", "NoConflicts", "no conflicts found"),
                       cond("Established", "InitialNamesAccepted", "the initial names have been accepted")],
        "storedVersions": versions,
    });
    Ok(())
}

/// After an object is stored: CRDs (re)register their resources; an object
/// being deleted goes once its last finalizer is gone.
pub fn after_store(st: &mut Store, res: &ResourceInfo, obj: &Value) {
    if is_crd(res) {
        registry::register_crd(obj);
        crate::crd::default_stored(st, obj);
    }
    if obj["metadata"]["deletionTimestamp"].is_null() || has_finalizers(obj) {
        return;
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    let ns = obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if is_core(res, "namespaces") {
        let spec_done = obj["spec"]["finalizers"]
            .as_array()
            .is_none_or(|f| f.is_empty());
        let empty = st.objects.keys().all(|k| k.2 != name);
        if !(spec_done && empty) {
            return;
        }
    }
    if let Some(gone) = st.remove(res, &ns, &name) {
        after_remove(st, res, &gone);
    }
}

/// After an object is removed: a CRD takes its objects and resources along.
pub fn after_remove(st: &mut Store, res: &ResourceInfo, obj: &Value) {
    if !is_crd(res) {
        return;
    }
    let crd_name = obj["metadata"]["name"].as_str().unwrap_or("");
    let group = obj["spec"]["group"].as_str().unwrap_or("").to_string();
    let plural = obj["spec"]["names"]["plural"].as_str().unwrap_or("");
    if let Some(custom) = registry::crd_details()
        .into_iter()
        .find(|c| c.crd_name == crd_name)
    {
        let keys: Vec<_> = st
            .objects
            .keys()
            .filter(|k| k.0 == group && k.1 == plural)
            .cloned()
            .collect();
        for k in keys {
            st.remove(custom.info, &k.2, &k.3);
        }
    }
    registry::unregister_crd(crd_name);
}

/// A terminating namespace loses its content: objects without finalizers go
/// at once, the others get their deletionTimestamp.
pub fn empty_namespace(st: &mut Store, ns: &str) {
    let served = registry::served_resources();
    let keys: Vec<_> = st.objects.keys().filter(|k| k.2 == ns).cloned().collect();
    for k in keys {
        let Some(res) = served.iter().find(|r| r.group == k.0 && r.plural == k.1) else {
            continue;
        };
        let Some(mut obj) = st.objects.get(&k).cloned() else {
            continue;
        };
        if has_finalizers(&obj) {
            if obj["metadata"]["deletionTimestamp"].is_null() {
                obj["metadata"]["deletionTimestamp"] = json!(crate::store::now_rfc3339());
                obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
                st.put(res, &mut obj);
            }
        } else {
            st.remove(res, ns, &k.3);
        }
    }
}

/// The namespace controller's last step: once the namespace is empty its
/// `kubernetes` finalizer goes, and with it the namespace.
pub fn finish_namespace_later(store: Arc<Mutex<Store>>, name: String) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut st = store.lock().unwrap_or_else(|p| p.into_inner());
            let nsres = namespaces();
            let Some(mut ns) = st.objects.get(&Store::key(nsres, "", &name)).cloned() else {
                return;
            };
            if ns["metadata"]["deletionTimestamp"].is_null() {
                return;
            }
            if st.objects.keys().any(|k| k.2 == name) {
                continue;
            }
            if let Some(f) = ns["spec"]["finalizers"].as_array_mut() {
                f.retain(|f| f != "kubernetes");
            }
            let mut ns = crate::rest::typed(nsres, ns);
            st.put(nsres, &mut ns);
            after_store(&mut st, nsres, &ns);
            return;
        }
    });
}

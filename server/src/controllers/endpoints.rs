//! The endpoints and EndpointSlice controllers: a Service with a selector
//! gets an Endpoints object of its name (ready pods under `addresses`, the
//! others under `notReadyAddresses`) and EndpointSlices `SVC-xxxxx` of up to
//! 100 endpoints each (owned by the Service, labelled
//! `kubernetes.io/service-name`), from the pods that match it and have an
//! IP; named target ports resolve to each pod's container port.

use super::runner::{Controller, Cx, View};
use super::util;
use crate::store::{ChangeEvent, Key};
use serde_json::{json, Value};

const PER_SLICE: usize = 100;

pub struct Endpoints {
    /// EndpointSlices (the endpointslice controller) or Endpoints.
    pub slices: bool,
}

fn svc_key(ns: &str, name: &str) -> Key {
    (String::new(), "services".into(), ns.into(), name.into())
}

/// The port a service port reaches on a pod.
fn target_port(port: &Value, pod: &Value) -> Option<i64> {
    match &port["targetPort"] {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => match name.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => pod["spec"]["containers"]
                .as_array()?
                .iter()
                .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                .find(|p| p["name"] == name.as_str())?["containerPort"]
                .as_i64(),
        },
        _ => port["port"].as_i64(),
    }
}

fn ports_for(svc: &Value, pod: &Value) -> Vec<Value> {
    svc["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let mut out = json!({"port": target_port(p, pod)?, "protocol": p["protocol"].as_str().unwrap_or("TCP")});
            if let Some(n) = p["name"].as_str().filter(|n| !n.is_empty()) {
                out["name"] = json!(n);
            }
            Some(out)
        })
        .collect()
}

fn target_ref(pod: &Value) -> Value {
    json!({"kind": "Pod", "namespace": util::namespace(pod), "name": util::name(pod), "uid": util::uid(pod)})
}

impl Controller for Endpoints {
    fn name(&self) -> &'static str {
        if self.slices {
            "endpointslice"
        } else {
            "endpoints"
        }
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "", "services", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, view: &View, out: &mut Vec<Key>) {
        if !ev.group.is_empty() {
            return;
        }
        match ev.plural.as_str() {
            "services" => out.push(svc_key(&ev.namespace, util::name(&ev.object))),
            "pods" => {
                let labels = [Some(&ev.object), ev.previous.as_ref()];
                for (k, svc) in view.st.list(util::res("", "services"), Some(&ev.namespace)) {
                    let sel = &svc["spec"]["selector"];
                    if labels
                        .iter()
                        .flatten()
                        .any(|p| util::map_selects(sel, &p["metadata"]["labels"]))
                    {
                        out.push(k.clone());
                    }
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let ep_res = util::res("", "endpoints");
        let ep_key = util::key(ep_res, &key.2, &key.3);
        let Some(svc) = util::get(cx.st, key) else {
            // The Service is gone: so are its Endpoints (slices go with their owner).
            if !self.slices && cx.st.objects.contains_key(&ep_key) {
                util::delete(cx.st, &ep_key, None);
            }
            return;
        };
        let sel = svc["spec"]["selector"].clone();
        if sel.as_object().is_none_or(|m| m.is_empty()) || util::deleting(&svc) {
            return;
        }
        let mut pods: Vec<Value> = cx
            .st
            .list(util::pods(), Some(&key.2))
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| util::map_selects(&sel, &p["metadata"]["labels"]))
            .filter(|p| {
                util::pod_active(p)
                    && p["status"]["podIP"]
                        .as_str()
                        .is_some_and(|ip| !ip.is_empty())
            })
            .cloned()
            .collect();
        pods.sort_by_key(|p| p["status"]["podIP"].as_str().unwrap_or("").to_string());
        let mut labels = svc["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        if self.slices {
            self.write_slices(cx, &svc, &pods, labels);
        } else {
            self.write_endpoints(cx, &svc, &ep_key, &pods, labels);
        }
    }
}

impl Endpoints {
    fn write_endpoints(
        &self,
        cx: &mut Cx,
        svc: &Value,
        ep_key: &Key,
        pods: &[Value],
        labels: Value,
    ) {
        let addr = |p: &Value| json!({"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"], "targetRef": target_ref(p)});
        let ready: Vec<Value> = pods
            .iter()
            .filter(|p| util::pod_ready(p))
            .map(addr)
            .collect();
        let not_ready: Vec<Value> = pods
            .iter()
            .filter(|p| !util::pod_ready(p))
            .map(addr)
            .collect();
        let mut subset = json!({});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        let ports = pods.first().map(|p| ports_for(svc, p)).unwrap_or_default();
        if !ports.is_empty() {
            subset["ports"] = json!(ports);
        }
        let subsets = if pods.is_empty() {
            Value::Null
        } else {
            json!([subset])
        };
        let now = crate::store::now_rfc3339();
        match util::get(cx.st, ep_key) {
            Some(mut ep) => {
                if ep["subsets"] == subsets && ep["metadata"]["labels"] == labels {
                    return;
                }
                ep["subsets"] = subsets.clone();
                if subsets.is_null() {
                    ep.as_object_mut().map(|m| m.remove("subsets"));
                }
                ep["metadata"]["labels"] = labels;
                ep["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"] =
                    json!(now);
                util::write(cx, ep_key, ep);
            }
            None => {
                let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": ep_key.3, "labels": labels,
                        "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": now}}});
                if !subsets.is_null() {
                    ep["subsets"] = subsets;
                }
                util::create(cx, util::res("", "endpoints"), &ep_key.2, ep);
            }
        }
    }

    fn write_slices(&self, cx: &mut Cx, svc: &Value, pods: &[Value], mut labels: Value) {
        let res = util::res("discovery.k8s.io", "endpointslices");
        let ns = util::namespace(svc).to_string();
        let mut existing = util::owned(cx, svc, "discovery.k8s.io", "endpointslices", "Service");
        existing.sort_by_key(|s| util::name(s).to_string());
        labels["kubernetes.io/service-name"] = json!(util::name(svc));
        labels["endpointslice.kubernetes.io/managed-by"] = json!("endpointslice-controller.k8s.io");
        let ports = pods.first().map(|p| ports_for(svc, p)).unwrap_or_default();
        let slice_ports: Vec<Value> = ports
            .iter()
            .map(|p| json!({"name": p["name"].as_str().unwrap_or(""), "port": p["port"], "protocol": p["protocol"]}))
            .collect();
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|p| {
                let ready = util::pod_ready(p);
                json!({"addresses": [p["status"]["podIP"]],
                       "conditions": {"ready": ready, "serving": ready, "terminating": false},
                       "nodeName": p["spec"]["nodeName"], "targetRef": target_ref(p)})
            })
            .collect();
        let mut chunks: Vec<Vec<Value>> = endpoints.chunks(PER_SLICE).map(|c| c.to_vec()).collect();
        if chunks.is_empty() {
            chunks.push(vec![]);
        }
        for (i, chunk) in chunks.iter().enumerate() {
            match existing.get(i) {
                Some(s) => {
                    let mut new = s.clone();
                    new["endpoints"] = json!(chunk);
                    new["ports"] = json!(slice_ports);
                    new["metadata"]["labels"] = labels.clone();
                    if new != *s {
                        let k = util::key(res, &ns, util::name(s));
                        util::write(cx, &k, new);
                    }
                }
                None => {
                    let obj = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                        "metadata": {"generateName": format!("{}-", util::name(svc)), "labels": labels,
                            "ownerReferences": [util::controller_ref(svc, "v1", "Service")]},
                        "addressType": "IPv4", "endpoints": chunk, "ports": slice_ports});
                    util::create(cx, res, &ns, obj);
                }
            }
        }
        for s in existing.iter().skip(chunks.len()) {
            util::delete(cx.st, &util::key(res, &ns, util::name(s)), None);
        }
    }
}

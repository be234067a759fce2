//! What every namespace gets from kube-controller-manager: the `default`
//! ServiceAccount (serviceaccount-controller) and the `kube-root-ca.crt`
//! ConfigMap with the cluster CA (root-ca-cert-publisher), made again when
//! deleted. (The namespace's termination — Terminating until its content is
//! gone — is the server's `lifecycle` module.)

use super::runner::{Controller, Cx, View};
use super::util;
use crate::store::{ChangeEvent, Key};
use serde_json::json;

#[derive(Default)]
pub struct Namespaces;

const ROOT_CA: &str = "kube-root-ca.crt";

fn ns_key(name: &str) -> Key {
    (
        String::new(),
        "namespaces".into(),
        String::new(),
        name.into(),
    )
}

impl Controller for Namespaces {
    fn name(&self) -> &'static str {
        "namespace"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "", "namespaces", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        if !ev.group.is_empty() {
            return;
        }
        let name = util::name(&ev.object);
        match ev.plural.as_str() {
            "namespaces" if ev.kind == "ADDED" => out.push(ns_key(name)),
            "serviceaccounts" if ev.kind == "DELETED" && name == "default" => {
                out.push(ns_key(&ev.namespace))
            }
            "configmaps" if name == ROOT_CA && ev.kind != "ADDED" => {
                out.push(ns_key(&ev.namespace))
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(ns) = util::get(cx.st, key) else {
            return;
        };
        if util::deleting(&ns) {
            return;
        }
        let name = &key.3;
        let sa = util::res("", "serviceaccounts");
        if !cx.st.objects.contains_key(&util::key(sa, name, "default")) {
            let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
            util::create(cx, sa, name, obj);
        }
        let cm = util::res("", "configmaps");
        let ca = super::settings()
            .map(|s| s.ca_pem.clone())
            .unwrap_or_default();
        let want = json!({"ca.crt": ca});
        let desc = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service (kubernetes.default.svc) in the pod's namespace.";
        match util::get(cx.st, &util::key(cm, name, ROOT_CA)) {
            None => {
                let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": ROOT_CA, "annotations": {"kubernetes.io/description": desc}},
                    "data": want});
                util::create(cx, cm, name, obj);
            }
            Some(mut c) if c["data"] != want && !util::deleting(&c) => {
                c["data"] = want;
                util::write(cx, &util::key(cm, name, ROOT_CA), c);
            }
            Some(_) => {}
        }
    }
}

//! ControllerRevisions: the template history StatefulSets and DaemonSets
//! keep, as upstream's controller history does. Each revision holds the pod
//! template as the patch `{"spec":{"template":{..., "$patch":"replace"}}}`
//! (what `kubectl rollout undo` sends back), a revision number, the owner's
//! annotations, and the template's labels plus the hash label; the one for
//! the current template is found again (its number raised to the newest when
//! an undo brought an old template back) or made; old ones beyond
//! revisionHistoryLimit go unless pods still run them.

use super::runner::Cx;
use super::util;
use serde_json::{json, Value};

fn cr_res() -> &'static crate::resources::ResourceInfo {
    util::res("apps", "controllerrevisions")
}

fn template_of(cr: &Value) -> Value {
    let mut t = cr["data"]["spec"]["template"].clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    t
}

/// The revision for `owner`'s current template: returns its name
/// (`OWNER-HASH`) and hash. `hash_label` is the label the revision carries
/// the hash in (`controller.kubernetes.io/hash` for StatefulSets,
/// `controller-revision-hash` for DaemonSets); `in_use` are the revision
/// names or hashes pods still run, kept past the history limit.
pub fn sync(
    cx: &mut Cx,
    owner: &Value,
    kind: &str,
    hash_label: &str,
    in_use: &[String],
) -> (String, String) {
    let ns = util::namespace(owner).to_string();
    let template = owner["spec"]["template"].clone();
    let hash = util::template_hash(&template, 0);
    let name = format!("{}-{hash}", util::name(owner));
    let mut revisions = util::owned(cx, owner, "apps", "controllerrevisions", kind);
    revisions.sort_by_key(|r| r["revision"].as_i64().unwrap_or(0));
    let newest = revisions
        .last()
        .and_then(|r| r["revision"].as_i64())
        .unwrap_or(0);
    let same = |r: &Value| util::canonical(&template_of(r)) == util::canonical(&template);
    match revisions.iter().find(|r| same(r)) {
        Some(r) if r["revision"].as_i64().unwrap_or(0) < newest => {
            // An old template is back (rollout undo): it becomes the newest.
            let mut r = r.clone();
            r["revision"] = json!(newest + 1);
            util::write(cx, &util::key(cr_res(), &ns, util::name(&r)), r.clone());
            return (util::name(&r).to_string(), hash);
        }
        Some(r) => return (util::name(r).to_string(), hash),
        None => {}
    }
    let mut data_template = template.clone();
    data_template["$patch"] = json!("replace");
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels[hash_label] = json!(hash);
    let mut annotations = owner["metadata"]["annotations"].clone();
    if let Some(a) = annotations.as_object_mut() {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    let mut meta = json!({"name": name, "namespace": ns, "labels": labels,
        "ownerReferences": [util::controller_ref(owner, "apps/v1", kind)]});
    if annotations.as_object().is_some_and(|a| !a.is_empty()) {
        meta["annotations"] = annotations;
    }
    let cr = json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta,
        "data": {"spec": {"template": data_template}}, "revision": newest + 1,
    });
    util::create(cx, cr_res(), &ns, cr);
    // History past the limit: the oldest revisions no pod runs.
    let limit = owner["spec"]["revisionHistoryLimit"]
        .as_i64()
        .unwrap_or(10)
        .max(0) as usize;
    let old: Vec<&Value> = revisions
        .iter()
        .filter(|r| {
            let hash = r["metadata"]["labels"][hash_label].as_str().unwrap_or("");
            !in_use
                .iter()
                .any(|u| u == util::name(r) || (!hash.is_empty() && u == hash))
        })
        .collect();
    for r in old.iter().take(old.len().saturating_sub(limit)) {
        util::delete(cx.st, &util::key(cr_res(), &ns, util::name(r)), None);
    }
    (name, hash)
}

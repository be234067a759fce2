//! Field sets, as server-side apply tracks them in `metadata.managedFields`.
//!
//! A path is a list of elements in their FieldsV1 spelling: `f:<field>` (a
//! struct field or map key), `k:<json>` (a list element by its merge key),
//! `v:<json>` (an element of a set of primitives), `i:<n>` (a list index).
//! A set holds every path that is a member; FieldsV1 writes it as a trie in
//! which `.` marks a member that also has members under it.

use super::merge_keys::{is_free_form_map, list_strategy, ListStrategy};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub type Path = Vec<String>;
pub type FieldSet = BTreeSet<Path>;

/// The fields `obj` (an object of kind `kind`) sets, as server-side apply
/// counts them: every leaf, every list element and every entry of a
/// free-form map, but not the structs on the way to them.
pub fn fields_of(obj: &Value, kind: &str) -> FieldSet {
    let mut set = FieldSet::new();
    if let Some(m) = obj.as_object() {
        collect_map(m, kind, "", &mut vec![], &mut set);
    }
    set
}

fn collect_map(
    m: &Map<String, Value>,
    kind: &str,
    field: &str,
    path: &mut Path,
    set: &mut FieldSet,
) {
    let free_form = is_free_form_map(kind, field);
    for (k, v) in m {
        path.push(format!("f:{k}"));
        match v {
            Value::Object(child) if !child.is_empty() => {
                if free_form {
                    set.insert(path.clone());
                }
                collect_map(child, kind, k, path, set);
            }
            Value::Array(items) => match list_strategy(kind, field, k) {
                ListStrategy::Atomic => {
                    set.insert(path.clone());
                }
                ListStrategy::Set => {
                    for item in items {
                        path.push(format!("v:{item}"));
                        set.insert(path.clone());
                        path.pop();
                    }
                }
                ListStrategy::MergeByKey(key) => {
                    for item in items {
                        let Some(im) = item.as_object() else { continue };
                        let key_value = im.get(key).cloned().unwrap_or(Value::Null);
                        path.push(format!("k:{}", json!({ key: key_value })));
                        set.insert(path.clone());
                        collect_map(im, kind, k, path, set);
                        path.pop();
                    }
                }
            },
            _ => {
                set.insert(path.clone());
            }
        }
        path.pop();
    }
}

/// Whether some other path of `set` lies under `path`.
pub fn has_members_under(set: &FieldSet, path: &Path) -> bool {
    use std::ops::Bound::{Excluded, Unbounded};
    // Paths under `path` sort right after it.
    set.range::<Path, _>((Excluded(path), Unbounded))
        .next()
        .is_some_and(|p| p.starts_with(path))
}

/// The value at `path` in `obj`, if there is one.
pub fn get<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = obj;
    for el in path {
        cur = match cur {
            Value::Object(m) => m.get(el.strip_prefix("f:")?)?,
            Value::Array(items) => &items[find_element(items, el)?],
            _ => return None,
        };
    }
    Some(cur)
}

/// Removes the value at `path` from `obj`; a missing path is left alone.
pub fn remove(obj: &mut Value, path: &[String]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for el in parent_path {
        let next = match cur {
            Value::Object(m) => el.strip_prefix("f:").and_then(|f| m.get_mut(f)),
            Value::Array(items) => match find_element(items, el) {
                Some(i) => items.get_mut(i),
                None => None,
            },
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match cur {
        Value::Object(m) => {
            if let Some(f) = last.strip_prefix("f:") {
                m.remove(f);
            }
        }
        Value::Array(items) => {
            if let Some(i) = find_element(items, last) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// The index of the list element that path element `el` names.
fn find_element(items: &[Value], el: &str) -> Option<usize> {
    if let Some(keys) = el.strip_prefix("k:") {
        let keys: Map<String, Value> = serde_json::from_str(keys).ok()?;
        items.iter().position(|item| {
            keys.iter()
                .all(|(k, v)| item.get(k).unwrap_or(&Value::Null) == v)
        })
    } else if let Some(v) = el.strip_prefix("v:") {
        let v: Value = serde_json::from_str(v).ok()?;
        items.iter().position(|item| *item == v)
    } else {
        el.strip_prefix("i:")?
            .parse()
            .ok()
            .filter(|i| *i < items.len())
    }
}

/// The FieldsV1 trie of `set`.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for el in path {
            node = node
                .entry(el.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("trie nodes are objects");
        }
        if has_members_under(set, path) {
            node.insert(".".into(), json!({}));
        }
    }
    sort_trie(&mut root);
    Value::Object(root)
}

/// Orders each level's keys, as the real server writes them.
fn sort_trie(node: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(node).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, mut v) in entries {
        if let Some(child) = v.as_object_mut() {
            sort_trie(child);
        }
        node.insert(k, v);
    }
}

/// The set a FieldsV1 trie describes.
pub fn from_fields_v1(v: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    if let Some(m) = v.as_object() {
        walk_trie(m, &mut vec![], &mut set);
    }
    set
}

fn walk_trie(node: &Map<String, Value>, path: &mut Path, set: &mut FieldSet) {
    for (k, child) in node {
        if k == "." {
            set.insert(path.clone());
            continue;
        }
        path.push(k.clone());
        match child.as_object() {
            Some(c) if !c.is_empty() => walk_trie(c, path, set),
            _ => {
                set.insert(path.clone());
            }
        }
        path.pop();
    }
}

/// A path as the real server prints it in conflicts:
/// `.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`.
pub fn display(path: &[String]) -> String {
    let mut out = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(keys) = el.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(keys).unwrap_or_default();
            let inner: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", inner.join(",")));
        } else if let Some(v) = el.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(els: &[&str]) -> Path {
        els.iter().map(|s| s.to_string()).collect()
    }

    fn deployment() -> Value {
        json!({
            "metadata": {"labels": {"app": "web"}, "finalizers": ["x"]},
            "spec": {
                "replicas": 2,
                "template": {"spec": {"containers": [
                    {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}
                ]}}
            }
        })
    }

    #[test]
    fn fields_of_an_object() {
        let set = fields_of(&deployment(), "Deployment");
        let expected: FieldSet = [
            p(&["f:metadata", "f:labels", "f:app"]),
            p(&["f:metadata", "f:finalizers", "v:\"x\""]),
            p(&["f:spec", "f:replicas"]),
            p(&[
                "f:spec",
                "f:template",
                "f:spec",
                "f:containers",
                "k:{\"name\":\"web\"}",
            ]),
            p(&[
                "f:spec",
                "f:template",
                "f:spec",
                "f:containers",
                "k:{\"name\":\"web\"}",
                "f:name",
            ]),
            p(&[
                "f:spec",
                "f:template",
                "f:spec",
                "f:containers",
                "k:{\"name\":\"web\"}",
                "f:image",
            ]),
            p(&[
                "f:spec",
                "f:template",
                "f:spec",
                "f:containers",
                "k:{\"name\":\"web\"}",
                "f:ports",
                "k:{\"containerPort\":80}",
            ]),
            p(&[
                "f:spec",
                "f:template",
                "f:spec",
                "f:containers",
                "k:{\"name\":\"web\"}",
                "f:ports",
                "k:{\"containerPort\":80}",
                "f:containerPort",
            ]),
        ]
        .into_iter()
        .collect();
        assert_eq!(set, expected);
    }

    #[test]
    fn free_form_map_entries_with_members_are_members() {
        let set = fields_of(
            &json!({"spec": {"template": {"spec": {"nodeSelector": {"a": "b"}}}},
            "metadata": {"annotations": {}}}),
            "Deployment",
        );
        assert!(set.contains(&p(&[
            "f:spec",
            "f:template",
            "f:spec",
            "f:nodeSelector",
            "f:a"
        ])));
        assert!(
            set.contains(&p(&["f:metadata", "f:annotations"])),
            "empty maps are leaves"
        );
    }

    #[test]
    fn fields_v1_encoding_round_trips() {
        let set = fields_of(&deployment(), "Deployment");
        let v1 = to_fields_v1(&set);
        assert_eq!(
            v1,
            json!({
                "f:metadata": {"f:finalizers": {"v:\"x\"": {}}, "f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80}": {".": {}, "f:containerPort": {}}}
                    }}}}
                }
            })
        );
        assert_eq!(from_fields_v1(&v1), set);
    }

    #[test]
    fn get_and_remove_by_path() {
        let mut d = deployment();
        let image = p(&[
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            "k:{\"name\":\"web\"}",
            "f:image",
        ]);
        assert_eq!(get(&d, &image), Some(&json!("nginx")));
        assert_eq!(
            get(&d, &p(&["f:metadata", "f:finalizers", "v:\"x\""])),
            Some(&json!("x"))
        );
        remove(&mut d, &image);
        assert_eq!(get(&d, &image), None);
        remove(&mut d, &p(&["f:metadata", "f:finalizers", "v:\"x\""]));
        assert_eq!(d["metadata"]["finalizers"], json!([]));
        remove(
            &mut d,
            &p(&[
                "f:spec",
                "f:template",
                "f:spec",
                "f:containers",
                "k:{\"name\":\"web\"}",
            ]),
        );
        assert_eq!(d["spec"]["template"]["spec"]["containers"], json!([]));
        remove(&mut d, &p(&["f:nothing", "f:here"]));
    }

    #[test]
    fn display_like_the_real_server() {
        assert_eq!(display(&p(&["f:spec", "f:replicas"])), ".spec.replicas");
        assert_eq!(
            display(&p(&[
                "f:spec",
                "f:containers",
                "k:{\"name\":\"web\"}",
                "f:image"
            ])),
            ".spec.containers[name=\"web\"].image"
        );
        assert_eq!(
            display(&p(&["f:metadata", "f:finalizers", "v:\"x\""])),
            ".metadata.finalizers[=\"x\"]"
        );
    }

    #[test]
    fn members_under() {
        let set: FieldSet = [p(&["f:a"]), p(&["f:a", "f:b"]), p(&["f:c"])]
            .into_iter()
            .collect();
        assert!(has_members_under(&set, &p(&["f:a"])));
        assert!(!has_members_under(&set, &p(&["f:a", "f:b"])));
        assert!(!has_members_under(&set, &p(&["f:c"])));
    }
}

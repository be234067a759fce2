//! What a caller asks objects to come back as, when not whole (both opt-in,
//! in the `opts` table of `get`, `list`, `iter`, `watch` and `informer`):
//!
//! - `metadata_only = true`: the server sends `PartialObjectMetadata` (Accept
//!   `application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`, as
//!   client-go's metadata client asks), so only `apiVersion`, `kind` and
//!   `metadata` cross the wire and reach Lua.
//! - `fields = {"metadata.name", "status.podIP", ...}`: a projection; the
//!   server sends whole objects and the decoder builds only the named paths
//!   in Lua, skipping every other subtree while it parses. A path through an
//!   array applies to each element (`spec.containers.image`). `apiVersion`,
//!   `kind` and the identity an informer or a watch's re-list needs
//!   (`metadata.namespace`, `.name`, `.uid`, `.resourceVersion`) are always
//!   kept.

use crate::convert::{self, Buffered, KeySeed, PushSeed, Shape};
use mlua::{Lua, Table, Value};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// Accept of a metadata-only object (get, watch events).
pub(crate) const ACCEPT_PARTIAL: &str =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
/// Accept of a metadata-only list.
pub(crate) const ACCEPT_PARTIAL_LIST: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
/// Accept of whole objects.
pub(crate) const ACCEPT_JSON: &str = "application/json";

/// The option names a view is read from.
pub(crate) const OPTION_NAMES: [&str; 2] = ["metadata_only", "fields"];

/// Paths always kept by a projection.
const ALWAYS: [&str; 6] = [
    "apiVersion",
    "kind",
    "metadata.namespace",
    "metadata.name",
    "metadata.uid",
    "metadata.resourceVersion",
];

/// Most paths a projection may name, and the longest path (in segments).
const MAX_PATHS: usize = 256;
const MAX_SEGMENTS: usize = 32;

/// How objects of one call come back.
#[derive(Clone, Default, Debug)]
pub(crate) struct View {
    pub(crate) metadata_only: bool,
    /// List items and objects built with only these fields.
    pub(crate) projection: Option<Rc<Projection>>,
    /// The same for watch events (`type` and the projected `object`).
    pub(crate) events: Option<Rc<Projection>>,
}

impl View {
    /// Whole objects, as always by default.
    pub(crate) fn whole() -> View {
        View::default()
    }

    /// The Accept header of a request for a list (`list`) or for objects.
    pub(crate) fn accept(&self, list: bool) -> &'static str {
        match (self.metadata_only, list) {
            (false, _) => ACCEPT_JSON,
            (true, true) => ACCEPT_PARTIAL_LIST,
            (true, false) => ACCEPT_PARTIAL,
        }
    }

    /// Reads `metadata_only` and `fields` from an options table already
    /// checked for unknown names (`None`: whole objects).
    pub(crate) fn from_options(opts: Option<&Table>) -> Result<View, String> {
        let Some(t) = opts else {
            return Ok(View::whole());
        };
        let metadata_only = match t
            .raw_get::<Value>("metadata_only")
            .map_err(|e| e.to_string())?
        {
            Value::Nil => false,
            Value::Boolean(b) => b,
            other => {
                return Err(format!(
                    "opts.metadata_only must be a boolean, got {}",
                    other.type_name()
                ))
            }
        };
        let projection = match t.raw_get::<Value>("fields").map_err(|e| e.to_string())? {
            Value::Nil => None,
            Value::Table(list) => Some(Rc::new(Projection::from_lua(&list)?)),
            other => {
                return Err(format!(
                    "opts.fields must be a list of paths such as {{\"metadata.name\", \"status.podIP\"}}, got {}",
                    other.type_name()
                ))
            }
        };
        let events = projection
            .as_ref()
            .map(|p| Rc::new(Projection::for_events(p)));
        Ok(View {
            metadata_only,
            projection,
            events,
        })
    }
}

/// A tree of the field names to build; a leaf keeps its whole subtree.
#[derive(Debug, Default)]
pub(crate) struct Projection {
    children: HashMap<Box<str>, Projection>,
}

impl Projection {
    fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// A projection of `paths` (dotted field names) plus the paths always kept.
    pub(crate) fn of_paths<'a>(paths: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut root = Projection::default();
        let mut named = 0;
        for p in paths {
            named += 1;
            if named > MAX_PATHS {
                return Err(format!("opts.fields: at most {MAX_PATHS} paths"));
            }
            if p.is_empty() || p.split('.').any(str::is_empty) {
                return Err(format!(
                    "opts.fields: {p:?} is not a path of field names such as \"status.podIP\""
                ));
            }
            if p.split('.').count() > MAX_SEGMENTS {
                return Err(format!(
                    "opts.fields: {p:?} has more than {MAX_SEGMENTS} segments"
                ));
            }
            root.add_path(p);
        }
        for p in ALWAYS {
            root.add_path(p);
        }
        Ok(root)
    }

    /// Adds one path: a shorter path that is already kept whole wins, a
    /// longer one refines nothing.
    fn add_path(&mut self, path: &str) {
        let mut node = self;
        let segs: Vec<&str> = path.split('.').collect();
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            let existed = node.children.contains_key(*seg);
            let child = node.children.entry((*seg).into()).or_default();
            if existed && child.is_leaf() {
                // Kept whole already.
                return;
            }
            if last {
                child.children.clear();
                return;
            }
            node = child;
        }
    }

    fn from_lua(list: &Table) -> Result<Self, String> {
        let mut paths = Vec::new();
        for (i, v) in list.clone().sequence_values::<Value>().enumerate() {
            match v.map_err(|e| e.to_string())? {
                Value::String(s) => paths.push(s.to_string_lossy()),
                other => {
                    return Err(format!(
                        "opts.fields[{}] must be a string such as \"status.podIP\", got {}",
                        i + 1,
                        other.type_name()
                    ))
                }
            }
        }
        if paths.is_empty() {
            return Err("opts.fields must name at least one path, e.g. {\"status.podIP\"}".into());
        }
        Projection::of_paths(paths.iter().map(String::as_str))
    }

    /// The projection of a watch event, `{"type":…, "object":{…}}`: the
    /// type whole, the object through `self`.
    pub(crate) fn for_events(object: &Rc<Projection>) -> Projection {
        let mut root = Projection::default();
        root.children.insert("type".into(), Projection::default());
        root.children.insert("object".into(), clone_tree(object));
        root
    }
}

impl Projection {
    /// The projection of a whole list: its kind, apiVersion and metadata
    /// whole, each item through `items`.
    pub(crate) fn for_lists(items: &Rc<Projection>) -> Projection {
        let mut root = Projection::default();
        for k in ["kind", "apiVersion", "metadata"] {
            root.children.insert(k.into(), Projection::default());
        }
        root.children.insert("items".into(), clone_tree(items));
        root
    }
}

fn clone_tree(p: &Projection) -> Projection {
    Projection {
        children: p
            .children
            .iter()
            .map(|(k, v)| (k.clone(), clone_tree(v)))
            .collect(),
    }
}

/// Decodes JSON `text` building only what `projection` names.
pub(crate) fn decode(lua: &Lua, text: &[u8], projection: &Projection) -> mlua::Result<Value> {
    convert::decode_json_with(lua, text, |seed, de| {
        ProjectSeed {
            push: seed,
            node: projection,
        }
        .deserialize(de)
    })
}

/// Pushes JSON `text` projected by `projection` onto `stack` (see
/// `convert::push_json`): the watch decodes an event line in one raw call.
pub(crate) fn push_json(
    stack: crate::lua_raw::Stack,
    text: &[u8],
    array_mt: std::os::raw::c_int,
    projection: &Projection,
) -> Result<(), String> {
    convert::push_json_by(stack, text, array_mt, |seed, de| {
        ProjectSeed {
            push: seed,
            node: projection,
        }
        .deserialize(de)
    })
}

/// An object's key: looked up in `node` without copying it, and pushed as a
/// Lua string only when kept. Gives the child projection of a kept key.
struct LookupKey<'p> {
    push: PushSeed,
    node: &'p Projection,
}

impl<'de, 'p> DeserializeSeed<'de> for LookupKey<'p> {
    type Value = Option<&'p Projection>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'p> Visitor<'de> for LookupKey<'p> {
    type Value = Option<&'p Projection>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let child = self.node.children.get(v);
        if child.is_some() {
            KeySeed(self.push).visit_str::<E>(v)?;
        }
        Ok(child)
    }
}

/// Pushes one Lua value per deserialized value, keeping only the fields of
/// `node` in objects (arrays apply it to each element).
#[derive(Clone, Copy)]
struct ProjectSeed<'p> {
    push: PushSeed,
    node: &'p Projection,
}

impl<'de> DeserializeSeed<'de> for ProjectSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.node.is_leaf() {
            return self.push.deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ProjectSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.push.visit_bool(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.push.visit_i64(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.push.visit_u64(v)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.push.visit_f64(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.push.visit_str(v)
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.push.visit_bytes(v)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.push.visit_unit()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.push.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.push.room().map_err(serde::de::Error::custom)?;
        let inner = ProjectSeed {
            push: self.push.inner(),
            node: self.node,
        };
        self.push.push_array(seq, inner)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.push.room().map_err(serde::de::Error::custom)?;
        let inner = self.push.inner();
        let mut table = Buffered::new(self.push.stack, Shape::Object);
        loop {
            table.make_room();
            let key = LookupKey {
                push: inner,
                node: self.node,
            };
            match map.next_key_seed(key)? {
                None => break,
                Some(Some(child)) => {
                    map.next_value_seed(ProjectSeed {
                        push: inner,
                        node: child,
                    })?;
                    table.added();
                }
                Some(None) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        table.finish();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        Lua::new()
    }

    fn as_json(lua: &Lua, v: &Value) -> serde_json::Value {
        serde_json::from_slice(&convert::encode(lua, v, "doc").unwrap()).unwrap()
    }

    #[test]
    fn keeps_named_paths_and_identity_only() {
        let lua = lua();
        let pod = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7",
                "labels": {"app": "web"}, "managedFields": [{"manager": "x"}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx", "env": [{"name": "A"}]}]},
            "status": {"podIP": "10.0.0.1", "phase": "Running", "conditions": [{"type": "Ready"}]}
        });
        let text = serde_json::to_vec(&pod).unwrap();
        let p = Projection::of_paths(["status.podIP", "spec.containers.image", "metadata.labels"])
            .unwrap();
        let v = decode(&lua, &text, &p).unwrap();
        assert_eq!(
            serde_json::json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7",
                    "labels": {"app": "web"}},
                "spec": {"containers": [{"image": "nginx"}]},
                "status": {"podIP": "10.0.0.1"}
            }),
            as_json(&lua, &v)
        );
    }

    #[test]
    fn shorter_paths_keep_whole_subtrees() {
        let p = Projection::of_paths(["status.podIP", "status", "metadata.labels.app"]).unwrap();
        assert!(p.children["status"].is_leaf());
        assert!(!p.children["metadata"].is_leaf());
        assert!(p.children["metadata"].children["labels"].children["app"].is_leaf());
        let q = Projection::of_paths(["metadata"]).unwrap();
        assert!(q.children["metadata"].is_leaf());
    }

    #[test]
    fn bad_paths_and_bad_json_are_errors() {
        assert!(Projection::of_paths(["status..podIP"]).is_err());
        assert!(Projection::of_paths([""]).is_err());
        let lua = lua();
        let p = Projection::of_paths(["status.podIP"]).unwrap();
        assert!(decode(&lua, b"{\"status\": {\"podIP\": ", &p).is_err());
        // Skipped subtrees are still checked.
        assert!(decode(&lua, b"{\"spec\": {\"x\": tru}}", &p).is_err());
        // Scalars where objects were expected are kept as they are.
        let v = decode(&lua, b"{\"status\": 5}", &p).unwrap();
        assert_eq!(serde_json::json!({"status": 5}), as_json(&lua, &v));
    }

    #[test]
    fn events_keep_their_type_and_project_the_object() {
        let lua = lua();
        let obj = Rc::new(Projection::of_paths(["status.podIP"]).unwrap());
        let p = Projection::for_events(&obj);
        let line = br#"{"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"a","labels":{}},"status":{"podIP":"1","phase":"x"}}}"#;
        let v = decode(&lua, line, &p).unwrap();
        assert_eq!(
            serde_json::json!({"type": "MODIFIED", "object": {"kind": "Pod", "metadata": {"name": "a"}, "status": {"podIP": "1"}}}),
            as_json(&lua, &v)
        );
    }
}

//! Protobuf bodies (`application/vnd.kubernetes.protobuf`): the `k8s\0`
//! envelope around a `runtime.Unknown` whose `raw` is the object's message.
//!
//! The messages are the upstream schemas (proto/, see proto/ORIGIN.md)
//! compiled by build.rs into one descriptor set; prost-reflect decodes any of
//! them at run time, and one walk over the descriptor turns a message into the
//! JSON the server stores (and back, for clients that accept protobuf only).
//! Nothing here knows a particular kind: only the few apimachinery types whose
//! JSON form is not their message's fields (Time, IntOrString, Quantity, raw
//! JSON) are named.

use crate::store::ApiError;
use base64::Engine;
use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    ReflectMessage, Value as PValue,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";
const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";
const UNKNOWN: &str = "k8s.io.apimachinery.pkg.runtime.Unknown";

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/k8s.fds"));

fn pool() -> Result<&'static DescriptorPool, ApiError> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(DESCRIPTORS).ok())
        .as_ref()
        .ok_or_else(|| ApiError::new(500, "InternalError", "protobuf schemas unavailable"))
}

/// Whether a Content-Type (or one entry of Accept) names protobuf.
pub fn is_protobuf(media: &str) -> bool {
    media.split(';').next().unwrap_or("").trim() == MEDIA_TYPE
}

/// Whether the client wants protobuf answers: it lists protobuf and no JSON
/// (kubectl sends `application/vnd.kubernetes.protobuf,application/json`
/// and gets JSON, as a real server picks the first type it can encode… and
/// kubectl decodes both; JSON keeps its output identical).
pub fn wants_protobuf(accept: &str) -> bool {
    let mut proto = false;
    for m in accept.split(',') {
        let m = m.split(';').next().unwrap_or("").trim();
        match m {
            MEDIA_TYPE => proto = true,
            "application/json" | "*/*" | "application/*" | "application/yaml" => return false,
            _ => {}
        }
    }
    proto
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

/// The message of `kind` in `apiVersion`: `k8s.io.api.<first label of the
/// group, core for "">.<version>.<Kind>`, else the meta/v1 one (Status,
/// DeleteOptions, ...).
fn descriptor_for(api_version: &str, kind: &str) -> Result<MessageDescriptor, ApiError> {
    let pool = pool()?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let pkg = match group.split('.').next().unwrap_or("") {
        "" => "core",
        g => g,
    };
    pool.get_message_by_name(&format!("k8s.io.api.{pkg}.{version}.{kind}"))
        .or_else(|| pool.get_message_by_name(&format!("{META}.{kind}")))
        .ok_or_else(|| {
            ApiError::new(
                415,
                "UnsupportedMediaType",
                format!("no protobuf schema for {api_version}, Kind={kind}: send it as application/json"),
            )
        })
}

/// A protobuf request body as the JSON document the server works on.
pub fn request_to_json(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let inner = body.strip_prefix(MAGIC).ok_or_else(|| {
        bad("the body of the request was in an unknown format: protobuf without the k8s envelope")
    })?;
    let unknown_desc = pool()?
        .get_message_by_name(UNKNOWN)
        .ok_or_else(|| bad("protobuf schemas lack runtime.Unknown"))?;
    let unknown = DynamicMessage::decode(unknown_desc, inner).map_err(|e| {
        bad(format!(
            "the body of the request was in an unknown format: {e}"
        ))
    })?;
    let text = |m: &DynamicMessage, f: &str| match m.get_field_by_name(f).as_deref() {
        Some(PValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let type_meta = match unknown.get_field_by_name("typeMeta").as_deref() {
        Some(PValue::Message(m)) => m.clone(),
        _ => return Err(bad("protobuf body without apiVersion and kind")),
    };
    let (api_version, kind) = (text(&type_meta, "apiVersion"), text(&type_meta, "kind"));
    if kind.is_empty() {
        return Err(bad("Object 'Kind' is missing in protobuf body"));
    }
    let raw = match unknown.get_field_by_name("raw").as_deref() {
        Some(PValue::Bytes(b)) => b.clone(),
        _ => Default::default(),
    };
    let msg = DynamicMessage::decode(descriptor_for(&api_version, &kind)?, raw.as_ref())
        .map_err(|e| bad(format!("decoding {kind} from protobuf: {e}")))?;
    let mut doc = Map::new();
    doc.insert("kind".into(), Value::String(kind));
    doc.insert("apiVersion".into(), Value::String(api_version));
    if let Value::Object(fields) = message_to_json(&msg) {
        doc.extend(fields);
    }
    serde_json::to_vec(&Value::Object(doc)).map_err(|e| bad(e.to_string()))
}

/// One message as JSON: its set fields by their (camelCase) names; empty
/// strings are left out as Go's omitempty does.
fn message_to_json(msg: &DynamicMessage) -> Value {
    let desc = msg.descriptor();
    let field = |n: &str| msg.get_field_by_name(n);
    match desc.full_name() {
        n if n == format!("{META}.Time") => {
            return match field("seconds").as_deref() {
                Some(PValue::I64(s)) if *s != 0 => {
                    Value::String(crate::store::rfc3339((*s).max(0) as u64))
                }
                _ => Value::Null,
            }
        }
        n if n == format!("{META}.MicroTime") => {
            let secs = match field("seconds").as_deref() {
                Some(PValue::I64(s)) => *s,
                _ => 0,
            };
            let nanos = match field("nanos").as_deref() {
                Some(PValue::I32(n)) => *n,
                _ => 0,
            };
            if secs == 0 && nanos == 0 {
                return Value::Null;
            }
            let s = crate::store::rfc3339(secs.max(0) as u64);
            return Value::String(format!(
                "{}.{:06}Z",
                s.trim_end_matches('Z'),
                nanos.max(0) / 1000
            ));
        }
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => {
            return match (field("type").as_deref(), field("strVal").as_deref()) {
                (Some(PValue::I64(1)), Some(PValue::String(s))) => Value::String(s.clone()),
                _ => match field("intVal").as_deref() {
                    Some(PValue::I32(i)) => Value::from(*i),
                    _ => Value::from(0),
                },
            }
        }
        "k8s.io.apimachinery.pkg.api.resource.Quantity" => {
            return match field("string").as_deref() {
                Some(PValue::String(s)) => Value::String(s.clone()),
                _ => Value::String("0".into()),
            }
        }
        "k8s.io.apimachinery.pkg.runtime.RawExtension" => {
            return match field("raw").as_deref() {
                Some(PValue::Bytes(b)) => serde_json::from_slice(b).unwrap_or(Value::Null),
                _ => Value::Null,
            }
        }
        n if n == format!("{META}.FieldsV1") => {
            return match field("Raw").as_deref() {
                Some(PValue::Bytes(b)) => serde_json::from_slice(b).unwrap_or(Value::Null),
                _ => Value::Null,
            }
        }
        _ => {}
    }
    let mut out = Map::new();
    for (f, v) in msg.fields() {
        let j = value_to_json(v);
        let empty = match &j {
            Value::String(s) => s.is_empty() && !f.is_list(),
            Value::Null => true,
            _ => false,
        };
        if !empty {
            out.insert(f.name().to_string(), j);
        }
    }
    Value::Object(out)
}

fn value_to_json(v: &PValue) -> Value {
    match v {
        PValue::Bool(b) => Value::Bool(*b),
        PValue::I32(i) => Value::from(*i),
        PValue::I64(i) => Value::from(*i),
        PValue::U32(i) => Value::from(*i),
        PValue::U64(i) => Value::from(*i),
        PValue::F32(x) => Value::from(*x as f64),
        PValue::F64(x) => Value::from(*x),
        PValue::String(s) => Value::String(s.clone()),
        PValue::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        PValue::EnumNumber(n) => Value::from(*n),
        PValue::Message(m) => message_to_json(m),
        PValue::List(items) => Value::Array(items.iter().map(value_to_json).collect()),
        PValue::Map(m) => {
            let mut entries: Vec<(String, Value)> = m
                .iter()
                .map(|(k, v)| (map_key(k), value_to_json(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
    }
}

fn map_key(k: &MapKey) -> String {
    match k {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(i) => i.to_string(),
        MapKey::I64(i) => i.to_string(),
        MapKey::U32(i) => i.to_string(),
        MapKey::U64(i) => i.to_string(),
        MapKey::String(s) => s.clone(),
    }
}

/// A JSON answer (object, list or Status) in the protobuf envelope, for a
/// client whose Accept names protobuf only. None when the body has no schema
/// (a Table, discovery documents): the caller keeps JSON then.
pub fn json_to_response(body: &[u8]) -> Option<Vec<u8>> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    let api_version = doc.get("apiVersion")?.as_str()?;
    let kind = doc.get("kind")?.as_str()?;
    let desc = descriptor_for(api_version, kind).ok()?;
    let raw = json_to_message(&desc, &doc).encode_to_vec();
    let pool = pool().ok()?;
    let mut type_meta =
        DynamicMessage::new(pool.get_message_by_name("k8s.io.apimachinery.pkg.runtime.TypeMeta")?);
    type_meta.set_field_by_name("apiVersion", PValue::String(api_version.into()));
    type_meta.set_field_by_name("kind", PValue::String(kind.into()));
    let mut unknown = DynamicMessage::new(pool.get_message_by_name(UNKNOWN)?);
    unknown.set_field_by_name("typeMeta", PValue::Message(type_meta));
    unknown.set_field_by_name("raw", PValue::Bytes(raw.into()));
    unknown.set_field_by_name("contentEncoding", PValue::String(String::new()));
    unknown.set_field_by_name("contentType", PValue::String(String::new()));
    let mut out = MAGIC.to_vec();
    out.extend(unknown.encode_to_vec());
    Some(out)
}

fn json_to_message(desc: &MessageDescriptor, v: &Value) -> DynamicMessage {
    let mut msg = DynamicMessage::new(desc.clone());
    let name = desc.full_name();
    let set = |m: &mut DynamicMessage, f: &str, val: PValue| {
        if m.descriptor().get_field_by_name(f).is_some() {
            m.set_field_by_name(f, val);
        }
    };
    if name == format!("{META}.Time") || name == format!("{META}.MicroTime") {
        if let Some(t) = v.as_str().and_then(crate::store::parse_rfc3339) {
            set(&mut msg, "seconds", PValue::I64(t.floor() as i64));
            let nanos = ((t - t.floor()) * 1e9) as i32;
            if nanos != 0 {
                set(&mut msg, "nanos", PValue::I32(nanos));
            }
        }
        return msg;
    }
    match name {
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => {
            match v {
                Value::String(s) => {
                    set(&mut msg, "type", PValue::I64(1));
                    set(&mut msg, "strVal", PValue::String(s.clone()));
                }
                _ => {
                    set(&mut msg, "type", PValue::I64(0));
                    set(
                        &mut msg,
                        "intVal",
                        PValue::I32(v.as_i64().unwrap_or(0) as i32),
                    );
                }
            }
            return msg;
        }
        "k8s.io.apimachinery.pkg.api.resource.Quantity" => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            set(&mut msg, "string", PValue::String(s));
            return msg;
        }
        "k8s.io.apimachinery.pkg.runtime.RawExtension" => {
            let raw = serde_json::to_vec(v).unwrap_or_default();
            set(&mut msg, "raw", PValue::Bytes(raw.into()));
            return msg;
        }
        n if n == format!("{META}.FieldsV1") => {
            let raw = serde_json::to_vec(v).unwrap_or_default();
            set(&mut msg, "Raw", PValue::Bytes(raw.into()));
            return msg;
        }
        _ => {}
    }
    let Value::Object(obj) = v else { return msg };
    let by_name: HashMap<String, FieldDescriptor> =
        desc.fields().map(|f| (f.name().to_string(), f)).collect();
    for (k, jv) in obj {
        let Some(f) = by_name.get(k) else { continue };
        if jv.is_null() {
            continue;
        }
        if let Some(pv) = field_value(f, jv) {
            msg.set_field(f, pv);
        }
    }
    msg
}

fn field_value(f: &FieldDescriptor, v: &Value) -> Option<PValue> {
    if f.is_map() {
        let Kind::Message(entry) = f.kind() else {
            return None;
        };
        let value_field = entry.map_entry_value_field();
        let mut m = HashMap::new();
        for (k, jv) in v.as_object()? {
            if let Some(pv) = scalar_value(&value_field.kind(), jv) {
                m.insert(MapKey::String(k.clone()), pv);
            }
        }
        return Some(PValue::Map(m));
    }
    if f.is_list() {
        let items = v
            .as_array()?
            .iter()
            .filter_map(|i| scalar_value(&f.kind(), i))
            .collect();
        return Some(PValue::List(items));
    }
    scalar_value(&f.kind(), v)
}

fn scalar_value(kind: &Kind, v: &Value) -> Option<PValue> {
    Some(match kind {
        Kind::Message(d) => PValue::Message(json_to_message(d, v)),
        Kind::String => PValue::String(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        Kind::Bool => PValue::Bool(v.as_bool()?),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => PValue::I32(v.as_i64()? as i32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => PValue::I64(v.as_i64()?),
        Kind::Uint32 | Kind::Fixed32 => PValue::U32(v.as_u64()? as u32),
        Kind::Uint64 | Kind::Fixed64 => PValue::U64(v.as_u64()?),
        Kind::Float => PValue::F32(v.as_f64()? as f32),
        Kind::Double => PValue::F64(v.as_f64()?),
        Kind::Bytes => PValue::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(v.as_str()?)
                .ok()?
                .into(),
        ),
        Kind::Enum(_) => PValue::EnumNumber(v.as_i64()? as i32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
        let pool = pool().unwrap();
        let mut tm = DynamicMessage::new(
            pool.get_message_by_name("k8s.io.apimachinery.pkg.runtime.TypeMeta")
                .unwrap(),
        );
        tm.set_field_by_name("apiVersion", PValue::String(api_version.into()));
        tm.set_field_by_name("kind", PValue::String(kind.into()));
        let mut u = DynamicMessage::new(pool.get_message_by_name(UNKNOWN).unwrap());
        u.set_field_by_name("typeMeta", PValue::Message(tm));
        u.set_field_by_name("raw", PValue::Bytes(raw.into()));
        let mut out = MAGIC.to_vec();
        out.extend(u.encode_to_vec());
        out
    }

    #[test]
    fn a_deployment_goes_through_protobuf_and_back() {
        let doc = serde_json::json!({
            "kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": "2024-01-02T03:04:05Z"},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx",
                        "resources": {"limits": {"cpu": "100m"}}, "ports": [{"containerPort": 80}]}]}}}
        });
        let desc = descriptor_for("apps/v1", "Deployment").unwrap();
        let raw = json_to_message(&desc, &doc).encode_to_vec();
        let body = envelope("apps/v1", "Deployment", raw);
        let back: Value = serde_json::from_slice(&request_to_json(&body).unwrap()).unwrap();
        assert_eq!(back["kind"], "Deployment");
        assert_eq!(back["apiVersion"], "apps/v1");
        assert_eq!(back["metadata"]["name"], "web");
        assert_eq!(
            back["metadata"]["creationTimestamp"],
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(back["spec"]["replicas"], 0);
        assert_eq!(back["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(
            back["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
            1
        );
        let c = &back["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["resources"]["limits"]["cpu"], "100m");
        assert_eq!(c["ports"][0]["containerPort"], 80);
        assert!(back["metadata"].get("namespace").is_none());
    }

    #[test]
    fn secret_bytes_become_base64_and_status_answers_in_protobuf() {
        let doc = serde_json::json!({"kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "s"}, "data": {"k": "aGk="}});
        let raw = json_to_message(&descriptor_for("v1", "Secret").unwrap(), &doc).encode_to_vec();
        let back: Value =
            serde_json::from_slice(&request_to_json(&envelope("v1", "Secret", raw)).unwrap())
                .unwrap();
        assert_eq!(back["data"]["k"], "aGk=");
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","code":404}"#;
        let pb = json_to_response(status).unwrap();
        assert!(pb.starts_with(MAGIC));
        let again: Value = serde_json::from_slice(&request_to_json(&pb).unwrap()).unwrap();
        assert_eq!(again["code"], 404);
    }

    #[test]
    fn accept_headers() {
        assert!(wants_protobuf("application/vnd.kubernetes.protobuf"));
        assert!(!wants_protobuf(
            "application/vnd.kubernetes.protobuf,application/json"
        ));
        assert!(!wants_protobuf("application/json"));
        assert!(!wants_protobuf(""));
    }

    #[test]
    fn bodies_without_the_envelope_or_schema_are_bad_requests() {
        assert_eq!(request_to_json(b"{}").unwrap_err().code, 400);
        let e = request_to_json(&envelope("example.com/v1", "Widget", vec![])).unwrap_err();
        assert_eq!(e.code, 415);
    }
}

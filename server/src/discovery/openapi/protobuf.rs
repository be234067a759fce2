//! The protobuf form of the OpenAPI v2 document (gnostic's `openapi.v2`
//! messages), which is the only form kubectl's client-side validation
//! reads. Encodes the subset the generated JSON document uses: swagger,
//! info, and definitions with $ref, type, format, description, required,
//! properties, items, additionalProperties, allOf and `x-` extensions.

use serde_json::Value;

// Field numbers from gnostic's OpenAPIv2.proto.
mod document {
    pub const SWAGGER: u32 = 1;
    pub const INFO: u32 = 2;
    pub const DEFINITIONS: u32 = 9;
}
mod info {
    pub const TITLE: u32 = 1;
    pub const VERSION: u32 = 2;
}
mod schema {
    pub const REF: u32 = 1;
    pub const FORMAT: u32 = 2;
    pub const DESCRIPTION: u32 = 4;
    pub const REQUIRED: u32 = 19;
    pub const ADDITIONAL_PROPERTIES: u32 = 21;
    pub const TYPE: u32 = 22;
    pub const ITEMS: u32 = 23;
    pub const ALL_OF: u32 = 24;
    pub const PROPERTIES: u32 = 25;
    pub const VENDOR_EXTENSION: u32 = 31;
}
/// Definitions, Properties, TypeItem, ItemsItem, AdditionalPropertiesItem
/// all keep their one field at number 1 (schema, values, named entries).
const FIRST: u32 = 1;
/// NamedSchema / NamedAny: name = 1, value = 2; Any: yaml = 2;
/// AdditionalPropertiesItem: boolean = 2.
const NAME: u32 = 1;
const VALUE: u32 = 2;

const VARINT: u32 = 0;
const LENGTH_DELIMITED: u32 = 2;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from((field << 3) | wire));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    tag(out, field, LENGTH_DELIMITED);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn string_field(out: &mut Vec<u8>, field: u32, s: &str) {
    if !s.is_empty() {
        bytes_field(out, field, s.as_bytes());
    }
}

/// `{name: value}` as a NamedSchema entry of a repeated field.
fn named_schema(out: &mut Vec<u8>, field: u32, name: &str, value: &Value) {
    let mut entry = Vec::new();
    string_field(&mut entry, NAME, name);
    bytes_field(&mut entry, VALUE, &encode_schema(value));
    bytes_field(out, field, &entry);
}

/// A `{"name": {...}, ...}` map as the message whose field 1 repeats NamedSchema.
fn schema_map(map: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, v) in map {
        named_schema(&mut out, FIRST, name, v);
    }
    out
}

fn encode_schema(s: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(obj) = s.as_object() else {
        return out;
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("");
    string_field(&mut out, schema::REF, text("$ref"));
    string_field(&mut out, schema::FORMAT, text("format"));
    string_field(&mut out, schema::DESCRIPTION, text("description"));
    for r in obj
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        string_field(&mut out, schema::REQUIRED, r.as_str().unwrap_or(""));
    }
    match obj.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut item = Vec::new();
            tag(&mut item, VALUE, VARINT);
            varint(&mut item, u64::from(*b));
            bytes_field(&mut out, schema::ADDITIONAL_PROPERTIES, &item);
        }
        Some(v @ Value::Object(_)) => {
            let mut item = Vec::new();
            bytes_field(&mut item, FIRST, &encode_schema(v));
            bytes_field(&mut out, schema::ADDITIONAL_PROPERTIES, &item);
        }
        _ => {}
    }
    match obj.get("type") {
        Some(Value::String(t)) => {
            let mut item = Vec::new();
            string_field(&mut item, FIRST, t);
            bytes_field(&mut out, schema::TYPE, &item);
        }
        Some(Value::Array(ts)) => {
            let mut item = Vec::new();
            for t in ts {
                string_field(&mut item, FIRST, t.as_str().unwrap_or(""));
            }
            bytes_field(&mut out, schema::TYPE, &item);
        }
        _ => {}
    }
    if let Some(items) = obj.get("items") {
        let list = match items {
            Value::Array(l) => l.clone(),
            one => vec![one.clone()],
        };
        let mut item = Vec::new();
        for s in &list {
            bytes_field(&mut item, FIRST, &encode_schema(s));
        }
        bytes_field(&mut out, schema::ITEMS, &item);
    }
    for s in obj
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        bytes_field(&mut out, schema::ALL_OF, &encode_schema(s));
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        bytes_field(&mut out, schema::PROPERTIES, &schema_map(props));
    }
    for (k, v) in obj.iter().filter(|(k, _)| k.starts_with("x-")) {
        // Extensions travel as YAML text; JSON is YAML.
        let mut any = Vec::new();
        string_field(&mut any, VALUE, &v.to_string());
        let mut named = Vec::new();
        string_field(&mut named, NAME, k);
        bytes_field(&mut named, VALUE, &any);
        bytes_field(&mut out, schema::VENDOR_EXTENSION, &named);
    }
    out
}

/// Encodes a swagger 2.0 JSON document as an `openapi.v2.Document`.
pub fn encode_document(doc: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    string_field(
        &mut out,
        document::SWAGGER,
        doc["swagger"].as_str().unwrap_or("2.0"),
    );
    let mut info_msg = Vec::new();
    string_field(
        &mut info_msg,
        info::TITLE,
        doc["info"]["title"].as_str().unwrap_or(""),
    );
    string_field(
        &mut info_msg,
        info::VERSION,
        doc["info"]["version"].as_str().unwrap_or(""),
    );
    bytes_field(&mut out, document::INFO, &info_msg);
    if let Some(defs) = doc["definitions"].as_object() {
        bytes_field(&mut out, document::DEFINITIONS, &schema_map(defs));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn varints_use_seven_bits_per_byte() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    #[test]
    fn schema_fields_are_numbered_as_gnostic() {
        let s = json!({"type": "object", "additionalProperties": {"type": "string"}});
        // additionalProperties (21) { schema (1) { type (22) { value (1)
        // "string" } } }, then type (22) { value (1) "object" }.
        let expected: Vec<u8> = [
            vec![0xaa, 0x01, 0x0d, 0x0a, 0x0b, 0xb2, 0x01, 0x08, 0x0a, 0x06],
            b"string".to_vec(),
            vec![0xb2, 0x01, 0x08, 0x0a, 0x06],
            b"object".to_vec(),
        ]
        .concat();
        assert_eq!(encode_schema(&s), expected);
    }

    #[test]
    fn extensions_are_yaml_text() {
        let s = json!({"x-kubernetes-group-version-kind": [{"kind": "Pod"}]});
        let enc = encode_schema(&s);
        assert_eq!(&enc[..2], &[0xfa, 0x01]); // field 31, length-delimited
        let text = String::from_utf8_lossy(&enc);
        assert!(text.contains("x-kubernetes-group-version-kind"));
        assert!(text.contains(r#"[{"kind":"Pod"}]"#));
    }
}

//! OpenAPI documents generated from the resource table: `/openapi/v3` (an
//! index of one document per group-version), `/openapi/v3/<gv path>`, and
//! `/openapi/v2` (JSON, or protobuf for kubectl's client-side validation).
//!
//! Each kind is described by its fields as far as `model` goes; below that,
//! values are free-form objects, so real manifests of every kind validate
//! while an unknown described field is rejected.
//!
//! The PATCH operations deliberately do not list the `fieldValidation` query
//! parameter: this server does not validate fields itself, and without that
//! parameter kubectl validates on the client against `/openapi/v2`, as it
//! does with servers older than 1.27. They do not offer strategic merge
//! either: the schemas carry no merge keys, so kubectl apply computes its
//! strategic patches from its compiled-in types instead.

mod custom;
mod model;
mod protobuf;

use crate::discovery::GIT_VERSION;
use crate::reply::Reply;
use crate::resources::{ResourceInfo, RESOURCES};
use model::{Struct, Ty};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

/// The protobuf media type as served; clients also ask for it by its older
/// name with `@v1.0`, which Go's mime parser rejects in a Content-Type.
const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
const V2_PROTOBUF_ACCEPTED: [&str; 2] = [
    V2_PROTOBUF,
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
];

/// How a document refers to a schema: v2 `#/definitions/X`, v3
/// `#/components/schemas/X` wrapped in allOf as kube-apiserver does.
#[derive(Clone, Copy)]
enum Flavor {
    V2,
    V3,
}

impl Flavor {
    fn reference(self, name: &str) -> Value {
        match self {
            Flavor::V2 => json!({"$ref": format!("#/definitions/{name}")}),
            Flavor::V3 => json!({"allOf": [{"$ref": format!("#/components/schemas/{name}")}]}),
        }
    }
    fn plain_ref(self, name: &str) -> Value {
        match self {
            Flavor::V2 => json!({"$ref": format!("#/definitions/{name}")}),
            Flavor::V3 => json!({"$ref": format!("#/components/schemas/{name}")}),
        }
    }
}

/// The schemas of one document, with every described struct they refer to.
struct SchemaSet {
    flavor: Flavor,
    schemas: Map<String, Value>,
}

impl SchemaSet {
    fn new(flavor: Flavor) -> Self {
        SchemaSet {
            flavor,
            schemas: Map::new(),
        }
    }

    fn field(&mut self, t: Ty) -> Value {
        match t {
            Ty::Str => json!({"type": "string"}),
            Ty::Bool => json!({"type": "boolean"}),
            Ty::Int => json!({"type": "integer", "format": "int64"}),
            Ty::Time => json!({"type": "string", "format": "date-time"}),
            Ty::Object => json!({"type": "object"}),
            Ty::StrMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
            Ty::Objects => json!({"type": "array", "items": {"type": "object"}}),
            Ty::Strs => json!({"type": "array", "items": {"type": "string"}}),
            Ty::Any => json!({}),
            Ty::Struct(s) => {
                self.add_struct(s);
                self.flavor.reference(s.name)
            }
            Ty::Structs(s) => {
                self.add_struct(s);
                json!({"type": "array", "items": self.flavor.plain_ref(s.name)})
            }
        }
    }

    fn object(&mut self, description: &str, fields: &[(&str, Ty)]) -> Value {
        let props: Map<String, Value> = fields
            .iter()
            .map(|(name, t)| (name.to_string(), self.field(*t)))
            .collect();
        json!({"description": description, "type": "object", "properties": props})
    }

    fn add_struct(&mut self, s: &'static Struct) {
        if self.schemas.contains_key(s.name) {
            return;
        }
        // Reserve the name first: structs may refer to each other.
        self.schemas.insert(s.name.to_string(), Value::Null);
        let schema = self.object(s.description, s.fields);
        self.schemas.insert(s.name.to_string(), schema);
    }

    /// The schema of a resource's kind and of its List.
    fn add_kind(&mut self, r: &ResourceInfo) {
        let mut fields = vec![
            ("apiVersion", Ty::Str),
            ("kind", Ty::Str),
            ("metadata", Ty::Struct(&model::OBJECT_META)),
        ];
        fields.extend_from_slice(model::kind_fields(r.group, r.kind));
        let description = format!(
            "{} ({}), as served by kube-testserver.",
            r.kind,
            r.group_version()
        );
        let mut schema = self.object(&description, &fields);
        schema["x-kubernetes-group-version-kind"] = gvk(r.group, r.version, r.kind);
        let name = schema_name(r.group, r.version, r.kind);

        let list_kind = format!("{}List", r.kind);
        let mut list = self.object(
            &format!("{list_kind} is a list of {}.", r.kind),
            &[
                ("apiVersion", Ty::Str),
                ("kind", Ty::Str),
                ("metadata", Ty::Struct(&model::LIST_META)),
            ],
        );
        list["properties"]["items"] =
            json!({"type": "array", "items": self.flavor.plain_ref(&name)});
        list["required"] = json!(["items"]);
        list["x-kubernetes-group-version-kind"] = gvk(r.group, r.version, &list_kind);
        self.schemas.insert(name, schema);
        self.schemas
            .insert(schema_name(r.group, r.version, &list_kind), list);
    }
}

/// `io.k8s.api.apps.v1.Deployment`: the Go package path the real server names
/// its schemas by.
fn schema_name(group: &str, version: &str, kind: &str) -> String {
    let package = match group {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        // A CRD's group, reversed as apiextensions-apiserver names its kinds.
        g if !RESOURCES.iter().any(|r| r.group == g) => g.rsplit('.').collect::<Vec<_>>().join("."),
        g => format!("io.k8s.api.{}", g.split('.').next().unwrap_or(g)),
    };
    format!("{package}.{version}.{kind}")
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!([{"group": group, "kind": kind, "version": version}])
}

fn param(name: &str, location: &str, ty: &str) -> Value {
    let mut p = json!({"name": name, "in": location, "schema": {"type": ty, "uniqueItems": true}});
    if location == "path" {
        p["required"] = json!(true);
    }
    p
}

const LIST_PARAMS: &[(&str, &str)] = &[
    ("allowWatchBookmarks", "boolean"),
    ("continue", "string"),
    ("fieldSelector", "string"),
    ("labelSelector", "string"),
    ("limit", "integer"),
    ("resourceVersion", "string"),
    ("resourceVersionMatch", "string"),
    ("sendInitialEvents", "boolean"),
    ("timeoutSeconds", "integer"),
    ("watch", "boolean"),
];
const WRITE_PARAMS: &[(&str, &str)] = &[("dryRun", "string"), ("fieldManager", "string")];

/// One operation of a path: the verb's action, the kind it works on, its
/// query parameters and bodies.
fn operation(verb: &str, group: &str, version: &str, kind: &str, schema: &Value) -> Value {
    let (action, id_verb) = match verb {
        "list" => ("list", "list"),
        "deletecollection" => ("deletecollection", "deleteCollection"),
        "create" => ("post", "create"),
        "update" => ("put", "replace"),
        other => (other, other),
    };
    let mut params: Vec<Value> = Vec::new();
    match verb {
        "list" | "deletecollection" => {
            params.extend(LIST_PARAMS.iter().map(|(n, t)| param(n, "query", t)))
        }
        "get" => {}
        _ => params.extend(WRITE_PARAMS.iter().map(|(n, t)| param(n, "query", t))),
    }
    if verb == "patch" {
        params.push(param("force", "query", "boolean"));
    }
    let ok = json!({"description": "OK", "content": {"application/json": {"schema": schema}}});
    let mut op = json!({
        "operationId": format!("{id_verb}{kind}"),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(group, version, kind)[0],
        "parameters": params,
        "responses": {"200": ok},
    });
    match verb {
        "create" | "update" => {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}})
        }
        "patch" => {
            let any = json!({"schema": {"type": "object"}});
            op["requestBody"] = json!({"required": true, "content": {
                "application/json-patch+json": any, "application/merge-patch+json": any,
                "application/apply-patch+yaml": any}})
        }
        _ => {}
    }
    op
}

/// The HTTP method each verb uses on a collection or on one object.
fn method_of(verb: &str, on_item: bool) -> Option<&'static str> {
    match (verb, on_item) {
        ("list", false) => Some("get"),
        ("create", false) => Some("post"),
        ("deletecollection", false) => Some("delete"),
        ("get", true) => Some("get"),
        ("update", true) => Some("put"),
        ("patch", true) => Some("patch"),
        ("delete", true) => Some("delete"),
        ("create", true) => Some("post"),
        _ => None,
    }
}

/// The path items of one resource: its collection, one object, each
/// subresource, and the all-namespaces list.
fn resource_paths(r: &ResourceInfo, out: &mut Map<String, Value>) {
    let base = if r.group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let own_schema = Flavor::V3.plain_ref(&schema_name(r.group, r.version, r.kind));
    let ns_param = r.namespaced.then(|| param("namespace", "path", "string"));
    let collection = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{base}/{}", r.plural)
    };
    let path_item = |verbs: &[&str], on_item: bool, kind: (&str, &str, &str), schema: &Value| {
        let mut item = Map::new();
        for verb in verbs {
            if let Some(method) = method_of(verb, on_item) {
                item.insert(
                    method.into(),
                    operation(verb, kind.0, kind.1, kind.2, schema),
                );
            }
        }
        let mut params: Vec<Value> = ns_param.iter().cloned().collect();
        if on_item {
            params.push(param("name", "path", "string"));
        }
        item.insert("parameters".into(), json!(params));
        Value::Object(item)
    };
    let own = (r.group, r.version, r.kind);
    out.insert(
        collection.clone(),
        path_item(r.verbs, false, own, &own_schema),
    );
    out.insert(
        format!("{collection}/{{name}}"),
        path_item(r.verbs, true, own, &own_schema),
    );
    for s in r.subresources {
        let (g, v) = s.group_version_of(r);
        let kind = (g, v, s.kind_of(r));
        // Only the parent's own kind has a schema in this document.
        let schema = if kind == own {
            own_schema.clone()
        } else {
            json!({"type": "object"})
        };
        out.insert(
            format!("{collection}/{{name}}/{}", s.name),
            path_item(s.verbs, true, kind, &schema),
        );
    }
    if r.namespaced && r.verbs.contains(&"list") {
        let mut item = Map::new();
        item.insert(
            "get".into(),
            operation("list", r.group, r.version, r.kind, &own_schema),
        );
        out.insert(format!("{base}/{}", r.plural), Value::Object(item));
    }
}

/// The document of one group-version, None when it is not served.
fn v3_document(group: &str, version: &str) -> Option<Value> {
    let mut schemas = SchemaSet::new(Flavor::V3);
    let mut paths = Map::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        schemas.add_kind(r);
        resource_paths(r, &mut paths);
    }
    let schemas = schemas.schemas;
    (!paths.is_empty()).then(|| {
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": GIT_VERSION},
            "paths": paths, "components": {"schemas": schemas}})
    })
}

fn v2_document() -> Value {
    let mut defs = SchemaSet::new(Flavor::V2);
    for r in RESOURCES {
        defs.add_kind(r);
    }
    let defs = defs.schemas;
    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": {}, "definitions": defs})
}

/// `api/v1`, `apis/apps/v1`: where a group-version's document lives under /openapi/v3/.
fn v3_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// Every document of the built-in table, generated once. Resources defined
/// at run time (CRDs) are added per request (custom.rs).
struct Documents {
    v3: BTreeMap<String, Vec<u8>>,
    v3_index: Vec<u8>,
    v2_json: Vec<u8>,
    v2_protobuf: Vec<u8>,
}

fn documents() -> &'static Documents {
    static DOCS: OnceLock<Documents> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut v3 = BTreeMap::new();
        let mut index = Map::new();
        for r in RESOURCES {
            let key = v3_key(r.group, r.version);
            if v3.contains_key(&key) {
                continue;
            }
            let Some(doc) = v3_document(r.group, r.version) else {
                continue;
            };
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            index.insert(key.clone(), index_entry(&key, &bytes));
            v3.insert(key, bytes);
        }
        let v2 = v2_document();
        Documents {
            v3,
            v3_index: serde_json::to_vec(&json!({"paths": index})).unwrap_or_default(),
            v2_json: serde_json::to_vec(&v2).unwrap_or_default(),
            v2_protobuf: protobuf::encode_document(&v2),
        }
    })
}

/// The index's entry for a document; the hash names the content, so
/// clients may cache the URL forever.
fn index_entry(key: &str, bytes: &[u8]) -> Value {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={:016X}", h.finish())})
}

/// Answers `GET /openapi/<rest>`; None (404) for documents that do not exist.
pub fn serve(rest: &str, accept: &str) -> Option<Reply> {
    let docs = documents();
    let custom_v3 = custom::v3_documents();
    let custom_v2 = custom::v2_document(&docs.v2_json);
    let json_body = |body: &Vec<u8>| Reply {
        code: 200,
        content_type: "application/json",
        body: body.clone(),
    };
    match rest.trim_end_matches('/') {
        "v2" if V2_PROTOBUF_ACCEPTED.iter().any(|t| accept.contains(t)) => Some(Reply {
            code: 200,
            content_type: V2_PROTOBUF,
            body: match &custom_v2 {
                Some(doc) => protobuf::encode_document(doc),
                None => docs.v2_protobuf.clone(),
            },
        }),
        "v2" => Some(match &custom_v2 {
            Some(doc) => json_body(&serde_json::to_vec(doc).unwrap_or_default()),
            None => json_body(&docs.v2_json),
        }),
        "v3" if custom_v3.is_empty() => Some(json_body(&docs.v3_index)),
        "v3" => {
            let mut index: Value = serde_json::from_slice(&docs.v3_index).unwrap_or_default();
            for (key, bytes) in &custom_v3 {
                index["paths"][key] = index_entry(key, bytes);
            }
            Some(json_body(&serde_json::to_vec(&index).unwrap_or_default()))
        }
        other => other
            .strip_prefix("v3/")
            .and_then(|key| docs.v3.get(key).or_else(|| custom_v3.get(key)))
            .map(json_body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(rest: &str) -> Value {
        let r = serve(rest, "application/json").expect(rest);
        serde_json::from_slice(&r.body).expect("json")
    }

    #[test]
    fn index_names_every_group_version() {
        let index = doc("v3");
        let paths = index["paths"].as_object().expect("paths");
        assert!(paths.contains_key("api/v1"));
        assert!(paths.contains_key("apis/apps/v1"));
        assert!(paths.contains_key("apis/autoscaling/v1"));
        let url = paths["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .expect("url");
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
        // The URL without its query is served.
        let apps = doc("v3/apis/apps/v1");
        assert_eq!(apps["openapi"], "3.0.0");
        assert!(serve("v3/apis/nope/v1", "").is_none());
    }

    #[test]
    fn schemas_carry_their_group_version_kind() {
        let apps = doc("v3/apis/apps/v1");
        let dep = &apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            dep["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert!(dep["properties"]["spec"].is_object());
        assert_eq!(
            dep["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
        let core = doc("v3/api/v1");
        let cm = &core["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"]["properties"];
        assert_eq!(cm["data"]["additionalProperties"]["type"], "string");
        assert!(cm.get("spec").is_none());
    }

    /// kubectl decides between server- and client-side validation by the
    /// PATCH operation's parameters: this server must send it to the client.
    #[test]
    fn patch_operations_name_the_kind_but_not_field_validation() {
        let core = doc("v3/api/v1");
        let patch = &core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "", "kind": "Pod", "version": "v1"})
        );
        let params = patch["parameters"].as_array().expect("params");
        assert!(params.iter().any(|p| p["name"] == "dryRun"));
        assert!(params.iter().all(|p| p["name"] != "fieldValidation"));
        let scale = &core["paths"]
            ["/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"]["put"];
        assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
        assert_eq!(
            core["paths"]["/api/v1/nodes/{name}"]["parameters"][0]["name"],
            "name"
        );
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(l) => l.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// kubectl rejects a whole document over one dangling reference.
    #[test]
    fn every_reference_resolves() {
        let v2 = doc("v2");
        let mut found = Vec::new();
        refs(&v2, &mut found);
        for r in &found {
            let name = r.strip_prefix("#/definitions/").expect("v2 ref");
            assert!(v2["definitions"].get(name).is_some(), "v2: {r}");
        }
        let index = doc("v3");
        for key in index["paths"].as_object().expect("paths").keys() {
            let d = doc(&format!("v3/{key}"));
            let mut found = Vec::new();
            refs(&d, &mut found);
            assert!(!found.is_empty());
            for r in &found {
                let name = r.strip_prefix("#/components/schemas/").expect("v3 ref");
                assert!(d["components"]["schemas"].get(name).is_some(), "{key}: {r}");
            }
        }
    }

    #[test]
    fn every_kind_is_described_once_per_document() {
        let v2 = doc("v2");
        for r in RESOURCES {
            let name = schema_name(r.group, r.version, r.kind);
            assert_eq!(
                v2["definitions"][&name]["x-kubernetes-group-version-kind"][0]["kind"], r.kind,
                "{name}"
            );
        }
    }

    #[test]
    fn v2_in_both_encodings() {
        let v2 = doc("v2");
        assert!(v2["definitions"]["io.k8s.api.rbac.v1.Role"]["properties"]["rules"].is_object());
        assert!(v2["definitions"]["io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"].is_object());
        let pb = serve("v2", V2_PROTOBUF_ACCEPTED[1]).expect("v2");
        assert_eq!(pb.content_type, V2_PROTOBUF);
        assert!(pb.body.starts_with(&[0x0a, 3, b'2', b'.', b'0']));
    }
}

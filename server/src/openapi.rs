//! OpenAPI documents generated from the resource table: `/openapi/v3` (an
//! index of one document per group-version), `/openapi/v3/<gv path>`, and
//! `/openapi/v2` (JSON, or protobuf for kubectl's client-side validation).
//!
//! Each kind is described by its top-level fields (below); `spec`, `status`
//! and other nested values are free-form objects, so real manifests of every
//! kind validate while an unknown top-level or metadata field is rejected.
//!
//! The PATCH operations deliberately do not list the `fieldValidation` query
//! parameter: this server does not validate fields itself, and without that
//! parameter kubectl validates on the client against `/openapi/v2`, as it
//! does with servers older than 1.27. They do not offer strategic merge
//! either: the schemas carry no merge keys, so kubectl apply computes its
//! strategic patches from its compiled-in types instead.

mod protobuf;

use crate::api::Reply;
use crate::discovery::GIT_VERSION;
use crate::resources::{self, ResourceInfo, RESOURCES};
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
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// The type of a described field.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Int,
    /// An RFC 3339 timestamp.
    Time,
    /// An object whose content is not described (anything goes).
    Object,
    /// A map of string to string (labels, ConfigMap data…).
    StrMap,
    /// A list of free-form objects.
    Objects,
    Strs,
    /// Any JSON value (quantities: string or number).
    Any,
}
use Ty::*;

const SPEC: (&str, Ty) = ("spec", Object);
const STATUS: (&str, Ty) = ("status", Object);

/// The top-level fields of a kind besides apiVersion, kind and metadata.
fn kind_fields(group: &str, kind: &str) -> &'static [(&'static str, Ty)] {
    match (group, kind) {
        ("", "Binding") => &[("target", Object)],
        ("", "ComponentStatus") => &[("conditions", Objects)],
        ("", "ConfigMap") => &[
            ("data", StrMap),
            ("binaryData", StrMap),
            ("immutable", Bool),
        ],
        ("", "Secret") => &[
            ("data", StrMap),
            ("stringData", StrMap),
            ("type", Str),
            ("immutable", Bool),
        ],
        ("", "Endpoints") => &[("subsets", Objects)],
        ("", "Event") => &[
            ("involvedObject", Object),
            ("reason", Str),
            ("message", Str),
            ("source", Object),
            ("firstTimestamp", Time),
            ("lastTimestamp", Time),
            ("count", Int),
            ("type", Str),
            ("eventTime", Time),
            ("series", Object),
            ("action", Str),
            ("related", Object),
            ("reportingComponent", Str),
            ("reportingInstance", Str),
        ],
        ("events.k8s.io", "Event") => &[
            ("eventTime", Time),
            ("series", Object),
            ("reportingController", Str),
            ("reportingInstance", Str),
            ("action", Str),
            ("reason", Str),
            ("regarding", Object),
            ("related", Object),
            ("note", Str),
            ("type", Str),
            ("deprecatedSource", Object),
            ("deprecatedFirstTimestamp", Time),
            ("deprecatedLastTimestamp", Time),
            ("deprecatedCount", Int),
        ],
        ("", "PodTemplate") => &[("template", Object)],
        ("", "ServiceAccount") => &[
            ("secrets", Objects),
            ("imagePullSecrets", Objects),
            ("automountServiceAccountToken", Bool),
        ],
        ("", "LimitRange") => &[SPEC],
        ("apps", "ControllerRevision") => &[("data", Any), ("revision", Int)],
        ("rbac.authorization.k8s.io", "Role") => &[("rules", Objects)],
        ("rbac.authorization.k8s.io", "ClusterRole") => {
            &[("rules", Objects), ("aggregationRule", Object)]
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            &[("subjects", Objects), ("roleRef", Object)]
        }
        ("storage.k8s.io", "StorageClass") => &[
            ("provisioner", Str),
            ("parameters", StrMap),
            ("reclaimPolicy", Str),
            ("mountOptions", Strs),
            ("allowVolumeExpansion", Bool),
            ("volumeBindingMode", Str),
            ("allowedTopologies", Objects),
        ],
        ("storage.k8s.io", "CSIStorageCapacity") => &[
            ("nodeTopology", Object),
            ("storageClassName", Str),
            ("capacity", Any),
            ("maximumVolumeSize", Any),
        ],
        ("discovery.k8s.io", "EndpointSlice") => &[
            ("addressType", Str),
            ("endpoints", Objects),
            ("ports", Objects),
        ],
        ("admissionregistration.k8s.io", k) if k.ends_with("WebhookConfiguration") => {
            &[("webhooks", Objects)]
        }
        ("scheduling.k8s.io", "PriorityClass") => &[
            ("value", Int),
            ("globalDefault", Bool),
            ("description", Str),
            ("preemptionPolicy", Str),
        ],
        ("node.k8s.io", "RuntimeClass") => &[
            ("handler", Str),
            ("overhead", Object),
            ("scheduling", Object),
        ],
        // Kinds with a spec but no status.
        ("networking.k8s.io", "IngressClass" | "NetworkPolicy")
        | ("coordination.k8s.io", "Lease")
        | ("storage.k8s.io", "CSIDriver" | "CSINode")
        | ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => &[SPEC],
        _ => &[SPEC, STATUS],
    }
}

/// ObjectMeta's fields, as strict as the real schema at this level.
const OBJECT_META_FIELDS: &[(&str, Ty)] = &[
    ("annotations", StrMap),
    ("creationTimestamp", Time),
    ("deletionGracePeriodSeconds", Int),
    ("deletionTimestamp", Time),
    ("finalizers", Strs),
    ("generateName", Str),
    ("generation", Int),
    ("labels", StrMap),
    ("managedFields", Objects),
    ("name", Str),
    ("namespace", Str),
    ("ownerReferences", Objects),
    ("resourceVersion", Str),
    ("selfLink", Str),
    ("uid", Str),
];

const LIST_META_FIELDS: &[(&str, Ty)] = &[
    ("continue", Str),
    ("remainingItemCount", Int),
    ("resourceVersion", Str),
    ("selfLink", Str),
];

/// How a document refers to a schema: v2 `#/definitions/X`, v3
/// `#/components/schemas/X` wrapped in allOf as kube-apiserver does.
#[derive(Clone, Copy, PartialEq)]
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

fn ty_schema(t: Ty) -> Value {
    match t {
        Str => json!({"type": "string"}),
        Bool => json!({"type": "boolean"}),
        Int => json!({"type": "integer", "format": "int64"}),
        Time => json!({"type": "string", "format": "date-time"}),
        Object => json!({"type": "object"}),
        StrMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        Objects => json!({"type": "array", "items": {"type": "object"}}),
        Strs => json!({"type": "array", "items": {"type": "string"}}),
        Any => json!({}),
    }
}

fn object_schema(description: &str, fields: &[(&str, Ty)]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|(name, t)| (name.to_string(), ty_schema(*t)))
        .collect();
    json!({"description": description, "type": "object", "properties": props})
}

/// `io.k8s.api.apps.v1.Deployment`: the Go package path the real server names
/// its schemas by.
fn schema_name(group: &str, version: &str, kind: &str) -> String {
    let package = match group {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        g => format!("io.k8s.api.{}", g.split('.').next().unwrap_or(g)),
    };
    format!("{package}.{version}.{kind}")
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!([{"group": group, "kind": kind, "version": version}])
}

/// The schema of a resource's kind and of its List.
fn kind_schemas(r: &ResourceInfo, flavor: Flavor) -> [(String, Value); 2] {
    let mut fields = vec![("apiVersion", Str), ("kind", Str)];
    fields.extend_from_slice(kind_fields(r.group, r.kind));
    let mut schema = object_schema(
        &format!(
            "{} ({}), as served by kube-testserver.",
            r.kind,
            r.group_version()
        ),
        &fields,
    );
    schema["properties"]["metadata"] = flavor.reference(OBJECT_META);
    schema["x-kubernetes-group-version-kind"] = gvk(r.group, r.version, r.kind);

    let name = schema_name(r.group, r.version, r.kind);
    let list_kind = format!("{}List", r.kind);
    let mut list = object_schema(
        &format!("{list_kind} is a list of {}.", r.kind),
        &[("apiVersion", Str), ("kind", Str)],
    );
    list["properties"]["metadata"] = flavor.reference(LIST_META);
    list["properties"]["items"] = json!({"type": "array", "items": flavor.plain_ref(&name)});
    list["required"] = json!(["items"]);
    list["x-kubernetes-group-version-kind"] = gvk(r.group, r.version, &list_kind);
    [
        (name, schema),
        (schema_name(r.group, r.version, &list_kind), list),
    ]
}

fn meta_schemas() -> [(String, Value); 2] {
    [
        (
            OBJECT_META.to_string(),
            object_schema(
                "ObjectMeta is metadata that all persisted resources must have.",
                OBJECT_META_FIELDS,
            ),
        ),
        (
            LIST_META.to_string(),
            object_schema(
                "ListMeta describes metadata that synthetic resources must have.",
                LIST_META_FIELDS,
            ),
        ),
    ]
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
        let (kind, schema) = if s.kind.is_empty() {
            (own, own_schema.clone())
        } else {
            let (g, v) = if s.version.is_empty() {
                (r.group, r.version)
            } else {
                (s.group, s.version)
            };
            ((g, v, s.kind), json!({"type": "object"}))
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
    let mut schemas: Map<String, Value> = meta_schemas().into_iter().collect();
    let mut paths = Map::new();
    for r in resources::in_group_version(group, version) {
        schemas.extend(kind_schemas(r, Flavor::V3));
        resource_paths(r, &mut paths);
    }
    (!paths.is_empty()).then(|| {
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": GIT_VERSION},
            "paths": paths, "components": {"schemas": schemas}})
    })
}

fn v2_document() -> Value {
    let mut defs: Map<String, Value> = meta_schemas().into_iter().collect();
    for r in RESOURCES {
        defs.extend(kind_schemas(r, Flavor::V2));
    }
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

/// Every document, generated once: the table is static.
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
            // The hash names the content, so clients may cache the URL forever.
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            index.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={:016X}", h.finish())}),
            );
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

/// Answers `GET /openapi/<rest>`; None (404) for documents that do not exist.
pub fn serve(rest: &str, accept: &str) -> Option<Reply> {
    let docs = documents();
    let json_body = |body: &Vec<u8>| Reply {
        code: 200,
        content_type: "application/json",
        body: body.clone(),
    };
    match rest.trim_end_matches('/') {
        "v2" if V2_PROTOBUF_ACCEPTED.iter().any(|t| accept.contains(t)) => Some(Reply {
            code: 200,
            content_type: V2_PROTOBUF,
            body: docs.v2_protobuf.clone(),
        }),
        "v2" => Some(json_body(&docs.v2_json)),
        "v3" => Some(json_body(&docs.v3_index)),
        other => other
            .strip_prefix("v3/")
            .and_then(|key| docs.v3.get(key))
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

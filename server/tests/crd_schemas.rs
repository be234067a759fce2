//! Custom resources against their CRD's structural schema over HTTPS, as
//! kube-apiserver 1.32 answers: pruning, defaults (on write and on read),
//! 422 Invalid bodies, non-structural CRDs refused, and the schema in
//! /openapi/v3 and /openapi/v2.

mod common;
use common::*;
use serde_json::{json, Value};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "spec": {"type": "object", "description": "What the widget should be.", "required": ["color"],
            "properties": {
                "size": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                "color": {"type": "string", "enum": ["red", "blue"]},
                "port": {"x-kubernetes-int-or-string": true},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
        "status": {"type": "object", "properties": {"size": {"type": "integer"}}}}})
}

fn crd(schema: Value) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": schema},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size",
                    "statusReplicasPath": ".status.size"}}}]}})
}

fn widget(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec})
}

async fn server_with_crd() -> TestServer {
    let s = TestServer::start(&["--controllers", "none"]);
    let r = s.post(CRDS, &crd(schema())).await;
    assert_eq!(201, r.code, "{}", String::from_utf8_lossy(&r.body));
    s
}

#[tokio::test]
async fn custom_resources_are_pruned_and_defaulted() {
    let s = server_with_crd().await;
    let r = s
        .post(
            WIDGETS,
            &widget(
                "w1",
                json!({"color": "red", "bogus": 1, "port": "http", "extra": {"x": [1]}}),
            ),
        )
        .await;
    assert_eq!(201, r.code, "{}", String::from_utf8_lossy(&r.body));
    let w = r.json();
    assert_eq!(
        json!({"color": "red", "port": "http", "extra": {"x": [1]}, "size": 1}),
        w["spec"]
    );
    assert!(w.get("bogus").is_none());
    let got = s.get(&format!("{WIDGETS}/w1")).await.json();
    assert_eq!(w["spec"], got["spec"]);
}

#[tokio::test]
async fn invalid_custom_resources_get_the_real_422() {
    let s = server_with_crd().await;
    let r = s
        .post(
            WIDGETS,
            &widget("bad", json!({"size": "x", "color": "green"})),
        )
        .await;
    assert_eq!(422, r.code);
    let body = r.json();
    assert_eq!(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Widget.example.com \"bad\" is invalid: [spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\", spec.color: Unsupported value: \"green\": supported values: \"red\", \"blue\"]",
            "reason": "Invalid",
            "details": {"name": "bad", "group": "example.com", "kind": "Widget", "causes": [
                {"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"string\": spec.size in body must be of type integer: \"string\"", "field": "spec.size"},
                {"reason": "FieldValueNotSupported", "message": "Unsupported value: \"green\": supported values: \"red\", \"blue\"", "field": "spec.color"}]},
            "code": 422}),
        body
    );
    let r = s.post(WIDGETS, &widget("bad", json!({}))).await;
    assert_eq!(422, r.code);
    assert_eq!(
        "Widget.example.com \"bad\" is invalid: spec.color: Required value",
        r.json()["message"]
    );
    assert_eq!(404, s.get(&format!("{WIDGETS}/bad")).await.code);
}

#[tokio::test]
async fn updates_status_and_scale_are_validated() {
    let s = server_with_crd().await;
    let w = s
        .post(WIDGETS, &widget("w", json!({"color": "red"})))
        .await
        .json();
    let mut bad = w.clone();
    bad["spec"]["size"] = json!(11);
    let r = s.put(&format!("{WIDGETS}/w"), &bad).await;
    assert_eq!(422, r.code);
    assert_eq!(
        "Widget.example.com \"w\" is invalid: spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10",
        r.json()["message"]
    );
    let mut st = w.clone();
    st["status"] = json!({"size": "many"});
    let r = s.put(&format!("{WIDGETS}/w/status"), &st).await;
    assert_eq!(422, r.code);
    assert_eq!("status.size", r.json()["details"]["causes"][0]["field"]);
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "w", "namespace": "default"}, "spec": {"replicas": 20}});
    let r = s.put(&format!("{WIDGETS}/w/scale"), &scale).await;
    assert_eq!(422, r.code, "{}", String::from_utf8_lossy(&r.body));
    let mut ok = scale.clone();
    ok["spec"]["replicas"] = json!(4);
    assert_eq!(200, s.put(&format!("{WIDGETS}/w/scale"), &ok).await.code);
    assert_eq!(
        4,
        s.get(&format!("{WIDGETS}/w")).await.json()["spec"]["size"]
    );
}

#[tokio::test]
async fn non_structural_crds_are_refused() {
    let s = TestServer::start(&["--controllers", "none"]);
    let r = s
        .post(
            CRDS,
            &crd(json!({"type": "object", "properties": {"spec": {"properties": {}}}})),
        )
        .await;
    assert_eq!(422, r.code);
    assert_eq!(
        "CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.com\" is invalid: spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
        r.json()["message"]
    );
    let mut no_schema = crd(json!({}));
    no_schema["spec"]["versions"][0]
        .as_object_mut()
        .unwrap()
        .remove("schema");
    let r = s.post(CRDS, &no_schema).await;
    assert_eq!(422, r.code);
    assert_eq!(
        "spec.versions[0].schema.openAPIV3Schema",
        r.json()["details"]["causes"][0]["field"]
    );
}

#[tokio::test]
async fn stored_objects_show_the_crds_new_defaults() {
    let s = server_with_crd().await;
    let w = s
        .post(WIDGETS, &widget("w", json!({"color": "red"})))
        .await
        .json();
    let mut c = s.get(&format!("{CRDS}/widgets.example.com")).await.json();
    c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["mode"] = json!({"type": "string", "default": "fast"});
    let r = s.put(&format!("{CRDS}/widgets.example.com"), &c).await;
    assert_eq!(200, r.code, "{}", String::from_utf8_lossy(&r.body));
    let got = s.get(&format!("{WIDGETS}/w")).await.json();
    assert_eq!("fast", got["spec"]["mode"]);
    assert_eq!(
        w["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"],
        "defaulting on read writes nothing"
    );
}

#[tokio::test]
async fn the_schema_is_published_in_openapi() {
    let s = server_with_crd().await;
    let index = s.get("/openapi/v3").await.json();
    let url = index["paths"]["apis/example.com/v1"]["serverRelativeURL"]
        .as_str()
        .expect("the CRD's group-version is in the index")
        .to_string();
    let doc = s.get(&url).await.json();
    let kind = &doc["components"]["schemas"]["com.example.v1.Widget"];
    assert_eq!(
        json!([{"group": "example.com", "kind": "Widget", "version": "v1"}]),
        kind["x-kubernetes-group-version-kind"]
    );
    assert_eq!(
        "What the widget should be.",
        kind["properties"]["spec"]["description"]
    );
    assert_eq!(json!(["color"]), kind["properties"]["spec"]["required"]);
    assert!(
        doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale"]
            .is_object()
    );
    let v2 = s.get("/openapi/v2").await.json();
    let def = &v2["definitions"]["com.example.v1.Widget"];
    assert_eq!(
        "integer",
        def["properties"]["spec"]["properties"]["size"]["type"]
    );
    assert!(
        def["properties"]["spec"]["properties"]["extra"]
            .get("type")
            .is_none(),
        "preserved objects are untyped in v2"
    );
    assert!(v2["definitions"]["io.k8s.api.core.v1.Pod"].is_object());
    assert_eq!(
        200,
        s.delete(&format!("{CRDS}/widgets.example.com")).await.code
    );
    let index = s.get("/openapi/v3").await.json();
    assert!(index["paths"].get("apis/example.com/v1").is_none());
}

#[tokio::test]
async fn field_validation_strict_refuses_unknown_fields() {
    let s = server_with_crd().await;
    let body = widget(
        "w",
        json!({"color": "red", "bogus": 1, "extra": {"free": 1}}),
    );
    let r = s
        .post(&format!("{WIDGETS}?fieldValidation=Strict"), &body)
        .await;
    assert_eq!(400, r.code);
    assert_eq!(
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"spec.bogus\"",
        r.json()["message"]
    );
    let r = s
        .post(&format!("{WIDGETS}?fieldValidation=Ignore"), &body)
        .await;
    assert_eq!(201, r.code);
    let mut w = r.json();
    w["spec"]["more"] = json!(1);
    let r = s
        .put(&format!("{WIDGETS}/w?fieldValidation=Strict"), &w)
        .await;
    assert_eq!(400, r.code);
    w["spec"].as_object_mut().unwrap().remove("more");
    let r = s
        .put(&format!("{WIDGETS}/w?fieldValidation=Strict"), &w)
        .await;
    assert_eq!(200, r.code, "{}", String::from_utf8_lossy(&r.body));
}

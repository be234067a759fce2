//! CustomResourceDefinitions: creating one serves its resource (CRUD, list,
//! watch, status and scale subresources, discovery); deleting it stops that.

mod common;
use common::*;
use serde_json::{json, Value};

fn crd(scope: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": scope,
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size",
                    "statusReplicasPath": ".status.size", "labelSelectorPath": ".status.selector"}}}]}})
}

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

#[tokio::test]
async fn a_crd_serves_its_resource_until_deleted() {
    let s = TestServer::start(&[]);
    assert_eq!(404, s.get(WIDGETS).await.code);
    let created = s.post(CRDS, &crd("Namespaced")).await;
    assert_eq!(
        201,
        created.code,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let c = created.json();
    assert_eq!("Established", c["status"]["conditions"][1]["type"]);

    let mut w = s.stream(&format!("{WIDGETS}?watch=true")).await;
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 1}});
    let r = s.post(WIDGETS, &widget).await;
    assert_eq!(201, r.code, "{}", String::from_utf8_lossy(&r.body));
    let w1 = r.json();
    assert_eq!(1, w1["metadata"]["generation"]);
    let ev = w.event(SECOND * 5).await;
    assert_eq!(
        ("ADDED", "Widget"),
        (
            ev["type"].as_str().unwrap(),
            ev["object"]["kind"].as_str().unwrap()
        )
    );

    let list = s.get(WIDGETS).await.json();
    assert_eq!("WidgetList", list["kind"]);
    assert_eq!(1, list["items"].as_array().unwrap().len());

    let mut st = w1.clone();
    st["status"] = json!({"size": 1, "selector": "app=w"});
    st["spec"]["size"] = json!(9);
    let after = s.put(&format!("{WIDGETS}/w1/status"), &st).await.json();
    assert_eq!(1, after["spec"]["size"]);
    assert_eq!(
        1, after["metadata"]["generation"],
        "status changes keep the generation"
    );

    let scale = s.get(&format!("{WIDGETS}/w1/scale")).await.json();
    assert_eq!(json!({"replicas": 1}), scale["spec"]);
    assert_eq!("app=w", scale["status"]["selector"]);
    let mut up = scale.clone();
    up["spec"]["replicas"] = json!(4);
    assert_eq!(200, s.put(&format!("{WIDGETS}/w1/scale"), &up).await.code);
    let got = s.get(&format!("{WIDGETS}/w1")).await.json();
    assert_eq!(4, got["spec"]["size"]);
    assert_eq!(2, got["metadata"]["generation"]);

    let groups = s.get("/apis").await.json();
    assert!(groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "example.com"));
    let res = s.get("/apis/example.com/v1").await.json();
    let names: Vec<&str> = res["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(vec!["widgets", "widgets/status", "widgets/scale"], names);
    assert_eq!(json!(["wd"]), res["resources"][0]["shortNames"]);

    assert_eq!(
        200,
        s.delete(&format!("{CRDS}/widgets.example.com")).await.code
    );
    let mut types = vec![];
    while types.last() != Some(&"DELETED".to_string()) {
        types.push(
            w.event(SECOND * 5).await["type"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        vec!["MODIFIED", "MODIFIED", "DELETED"],
        types,
        "status, scale, then the CRD's removal"
    );
    let after = s.get(WIDGETS).await;
    assert_eq!(404, after.code, "{}", String::from_utf8_lossy(&after.body));
    let groups = s.get("/apis").await.json();
    assert!(!groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "example.com"));
}

#[tokio::test]
async fn crd_name_must_be_plural_dot_group() {
    let s = TestServer::start(&[]);
    let mut bad = crd("Cluster");
    bad["metadata"]["name"] = json!("wrong.example.com");
    let r = s.post(CRDS, &bad).await;
    assert_eq!(422, r.code);
    assert_eq!("Invalid", r.json()["reason"]);
    let ok = s.post(CRDS, &crd("Cluster")).await;
    assert_eq!(201, ok.code);
    let cluster = s
        .post(
            "/apis/example.com/v1/widgets",
            &json!({"metadata": {"name": "c1"}}),
        )
        .await;
    assert_eq!(201, cluster.code);
    assert_eq!(
        404,
        s.get(WIDGETS).await.code,
        "cluster-scoped: no namespaced path"
    );
}

//! Server-side printing: Table answers for `kubectl get`'s Accept header on
//! list, get and watch; plain JSON for everyone else.

mod common;
use common::*;
use serde_json::{json, Value};

/// What kubectl get sends.
const KUBECTL_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const TABLE_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

fn column_names(table: &Value) -> Vec<&str> {
    table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

fn rows(table: &Value) -> &Vec<Value> {
    table["rows"].as_array().unwrap()
}

/// Ages of objects made moments ago: a few seconds.
fn is_fresh_age(cell: &Value) -> bool {
    let s = cell.as_str().unwrap_or("");
    s.strip_suffix('s')
        .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n < 60))
}

async fn table(s: &TestServer, path: &str) -> Value {
    let r = s.get_accepting(path, KUBECTL_ACCEPT).await;
    assert_eq!(200, r.code, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(TABLE_TYPE, r.headers["content-type"]);
    let t = r.json();
    assert_eq!(
        ("Table", "meta.k8s.io/v1"),
        (
            t["kind"].as_str().unwrap(),
            t["apiVersion"].as_str().unwrap()
        )
    );
    t
}

#[tokio::test]
async fn pods_list_as_a_table_with_wide_columns_and_metadata_rows() {
    let s = TestServer::start(&[]);
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "nginx", "image": "nginx:1.27"}]}});
    assert_eq!(
        201,
        s.post("/api/v1/namespaces/default/pods", &pod).await.code
    );
    let t = table(&s, "/api/v1/namespaces/default/pods").await;
    assert_eq!(
        vec![
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ],
        column_names(&t)
    );
    let priorities: Vec<u64> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["priority"].as_u64().unwrap())
        .collect();
    assert_eq!(vec![0, 0, 0, 0, 0, 1, 1, 1, 1], priorities);
    assert_eq!("name", t["columnDefinitions"][0]["format"]);
    assert!(t["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|rv| !rv.is_empty()));
    let row = &rows(&t)[0];
    let cells = row["cells"].as_array().unwrap();
    assert_eq!(json!("web"), cells[0]);
    assert_eq!(json!("node-1"), cells[6]);
    assert!(is_fresh_age(&cells[4]), "age {}", cells[4]);
    // kubectl's default: the row carries the object's metadata only.
    assert_eq!("PartialObjectMetadata", row["object"]["kind"]);
    assert_eq!("default", row["object"]["metadata"]["namespace"]);
    assert!(row["object"]["spec"].is_null());
}

#[tokio::test]
async fn one_deployment_as_a_one_row_table() {
    let s = TestServer::start(&[]);
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}}}});
    assert_eq!(
        201,
        s.post("/apis/apps/v1/namespaces/default/deployments", &d)
            .await
            .code
    );
    let t = table(&s, "/apis/apps/v1/namespaces/default/deployments/web").await;
    assert_eq!(
        vec![
            "Name",
            "Ready",
            "Up-to-date",
            "Available",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ],
        column_names(&t)
    );
    let cells = rows(&t)[0]["cells"].as_array().unwrap();
    assert_eq!([json!("web"), json!("0/2"), json!(0), json!(0)], cells[..4]);
    assert_eq!(
        [
            json!("nginx,log"),
            json!("nginx:1.27,busybox"),
            json!("app=web")
        ],
        cells[5..]
    );
}

#[tokio::test]
async fn services_namespaces_and_configmaps_have_their_columns() {
    let s = TestServer::start(&[]);
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}});
    assert_eq!(
        201,
        s.post("/api/v1/namespaces/default/services", &svc)
            .await
            .code
    );
    s.configmap("default", "settings", json!({})).await;

    let t = table(&s, "/api/v1/namespaces/default/services").await;
    assert_eq!(
        vec![
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age",
            "Selector"
        ],
        column_names(&t)
    );
    let cells = rows(&t)[0]["cells"].as_array().unwrap();
    assert_eq!(
        [json!("NodePort"), json!("<none>"), json!("80:30080/TCP")],
        [cells[1].clone(), cells[3].clone(), cells[4].clone()]
    );

    let t = table(&s, "/api/v1/namespaces").await;
    assert_eq!(vec!["Name", "Status", "Age"], column_names(&t));
    let default = rows(&t)
        .iter()
        .find(|r| r["cells"][0] == "default")
        .expect("default namespace row");
    assert_eq!("Active", default["cells"][1]);

    let t = table(&s, "/api/v1/namespaces/default/configmaps/settings").await;
    assert_eq!(vec!["Name", "Data", "Age"], column_names(&t));
    assert_eq!(json!(1), rows(&t)[0]["cells"][1]);
}

#[tokio::test]
async fn plain_json_when_no_table_is_asked_for() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({})).await;
    let r = s
        .get_accepting("/api/v1/namespaces/default/configmaps", "application/json")
        .await;
    assert_eq!("application/json", r.headers["content-type"]);
    assert_eq!("ConfigMapList", r.json()["kind"]);
    let one = s
        .get("/api/v1/namespaces/default/configmaps/a")
        .await
        .json();
    assert_eq!("ConfigMap", one["kind"]);
}

#[tokio::test]
async fn include_object_and_pages() {
    let s = TestServer::start(&[]);
    for n in ["a", "b"] {
        s.configmap("default", n, json!({})).await;
    }
    let cms = "/api/v1/namespaces/default/configmaps";
    let t = table(&s, &format!("{cms}?includeObject=Object&limit=1")).await;
    assert_eq!(1, rows(&t).len());
    let object = &rows(&t)[0]["object"];
    assert_eq!(
        ("ConfigMap", "v1"),
        (
            object["kind"].as_str().unwrap(),
            object["apiVersion"].as_str().unwrap()
        )
    );
    assert!(object["data"].is_object());
    let token = t["metadata"]["continue"]
        .as_str()
        .expect("a continue token")
        .to_string();
    let rest = table(
        &s,
        &format!("{cms}?includeObject=None&limit=1&continue={token}"),
    )
    .await;
    assert_eq!(json!("b"), rows(&rest)[0]["cells"][0]);
    assert!(rows(&rest)[0].get("object").is_none());

    let bad = s
        .get_accepting(&format!("{cms}?includeObject=Everything"), KUBECTL_ACCEPT)
        .await;
    assert_eq!(400, bad.code);
}

#[tokio::test]
async fn watch_events_carry_one_row_tables() {
    let s = TestServer::start(&[]);
    s.configmap("default", "first", json!({})).await;
    let mut w = s
        .stream_accepting(
            "/api/v1/namespaces/default/configmaps?watch=true",
            KUBECTL_ACCEPT,
        )
        .await;
    assert_eq!(200, w.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!("ADDED", ev["type"]);
    assert_eq!("Table", ev["object"]["kind"]);
    assert_eq!(vec!["Name", "Data", "Age"], column_names(&ev["object"]));
    assert_eq!(json!("first"), ev["object"]["rows"][0]["cells"][0]);

    s.configmap("default", "second", json!({})).await;
    let ev = w.event(SECOND * 5).await;
    assert_eq!("ADDED", ev["type"]);
    // Later events carry rows only: the client has the columns.
    assert!(column_names(&ev["object"]).is_empty());
    assert_eq!(1, rows(&ev["object"]).len());
    assert_eq!(json!("second"), ev["object"]["rows"][0]["cells"][0]);
}

#[tokio::test]
async fn a_crd_prints_its_additional_printer_columns() {
    let s = TestServer::start(&[]);
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Colour", "type": "string", "jsonPath": ".spec.colour", "priority": 1},
                    {"name": "Made", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}]}});
    assert_eq!(
        201,
        s.post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd
        )
        .await
        .code
    );
    let widgets = "/apis/example.com/v1/namespaces/default/widgets";
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3, "colour": "blue"}});
    assert_eq!(201, s.post(widgets, &w).await.code);
    let t = table(&s, widgets).await;
    assert_eq!(vec!["Name", "Size", "Colour", "Made"], column_names(&t));
    assert_eq!(json!(1), t["columnDefinitions"][2]["priority"]);
    let cells = rows(&t)[0]["cells"].as_array().unwrap();
    assert_eq!([json!("w1"), json!(3), json!("blue")], cells[..3]);
    assert!(is_fresh_age(&cells[3]), "date as an age: {}", cells[3]);

    let crds = table(
        &s,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    )
    .await;
    assert_eq!(vec!["Name", "Created At"], column_names(&crds));
}

//! Metadata-only answers (`PartialObjectMetadata`, `PartialObjectMetadataList`)
//! on get, list and watch, for built-in kinds and custom resources, with the
//! Accept headers client-go's metadata client and kube-rs send; 406 when
//! nothing asked for can be served.

mod common;
use common::*;
use serde_json::{json, Value};

const LIST_ACCEPT: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const OBJECT_ACCEPT: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}, "annotations": {"note": "x"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "nginx:1.27"}]}})
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

fn assert_partial(obj: &Value, api_version: &str, name: &str) {
    assert_eq!(vec!["apiVersion", "kind", "metadata"], keys(obj), "{obj}");
    assert_eq!("PartialObjectMetadata", obj["kind"]);
    assert_eq!(api_version, obj["apiVersion"]);
    assert_eq!(name, obj["metadata"]["name"]);
}

#[tokio::test]
async fn pods_list_get_and_watch_as_partial_object_metadata() {
    let s = TestServer::start(&[]);
    for n in ["a", "b", "c"] {
        assert_eq!(201, s.post(PODS, &pod(n)).await.code);
    }
    let full = s.get(PODS).await.json();

    let r = s.get_accepting(PODS, LIST_ACCEPT).await;
    assert_eq!(200, r.code, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!("application/json", r.headers["content-type"]);
    let list = r.json();
    assert_eq!("PartialObjectMetadataList", list["kind"]);
    assert_eq!("meta.k8s.io/v1", list["apiVersion"]);
    assert_eq!(
        full["metadata"]["resourceVersion"],
        list["metadata"]["resourceVersion"]
    );
    let items = list["items"].as_array().unwrap();
    assert_eq!(3, items.len());
    for (item, whole) in items.iter().zip(full["items"].as_array().unwrap()) {
        assert_partial(
            item,
            "meta.k8s.io/v1",
            whole["metadata"]["name"].as_str().unwrap(),
        );
        assert_eq!(whole["metadata"], item["metadata"]);
    }

    // Pages keep the list metadata: continue and remainingItemCount.
    let page = s
        .get_accepting(&format!("{PODS}?limit=2"), LIST_ACCEPT)
        .await
        .json();
    assert_eq!(2, page["items"].as_array().unwrap().len());
    assert!(page["metadata"]["continue"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
    assert_eq!(1, page["metadata"]["remainingItemCount"]);

    let one = s.get_accepting(&format!("{PODS}/b"), OBJECT_ACCEPT).await;
    assert_eq!(200, one.code);
    let one = one.json();
    assert_partial(&one, "meta.k8s.io/v1", "b");
    assert_eq!("web", one["metadata"]["labels"]["app"]);

    let beta = s
        .get_accepting(
            &format!("{PODS}/b"),
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1",
        )
        .await
        .json();
    assert_partial(&beta, "meta.k8s.io/v1beta1", "b");

    let mut w = s
        .stream_accepting(
            &format!("{PODS}?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"),
            OBJECT_ACCEPT,
        )
        .await;
    assert_eq!(200, w.code);
    for _ in 0..3 {
        let ev = w.event(SECOND * 5).await;
        assert_eq!("ADDED", ev["type"]);
        assert_eq!(vec!["apiVersion", "kind", "metadata"], keys(&ev["object"]));
        assert_eq!("PartialObjectMetadata", ev["object"]["kind"]);
    }
    let bookmark = w.event(SECOND * 5).await;
    assert_eq!("BOOKMARK", bookmark["type"]);
    assert_eq!("PartialObjectMetadata", bookmark["object"]["kind"]);
    assert_eq!(
        "true",
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"]
    );
    assert_eq!(201, s.post(PODS, &pod("d")).await.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!("ADDED", ev["type"]);
    assert_partial(&ev["object"], "meta.k8s.io/v1", "d");
    assert_eq!(200, s.delete(&format!("{PODS}/d")).await.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!("DELETED", ev["type"]);
    assert_partial(&ev["object"], "meta.k8s.io/v1", "d");
}

#[tokio::test]
async fn wrong_shape_or_nothing_servable_is_406() {
    let s = TestServer::start(&[]);
    assert_eq!(201, s.post(PODS, &pod("a")).await.code);
    let only_object = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
    let r = s.get_accepting(PODS, only_object).await;
    assert_eq!(406, r.code);
    let st = r.json();
    assert_eq!(
        ("Status", "NotAcceptable"),
        (st["kind"].as_str().unwrap(), st["reason"].as_str().unwrap())
    );
    assert_eq!(
        "you requested PartialObjectMetadata, but the requested object is a list (*core.PodList)",
        st["message"]
    );
    let r = s
        .get_accepting(
            &format!("{PODS}/a"),
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )
        .await;
    assert_eq!(406, r.code);
    assert_eq!(
        "you requested PartialObjectMetadataList, but the requested object is not a list (*core.Pod)",
        r.json()["message"]
    );
    let r = s
        .get_accepting(
            PODS,
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v3",
        )
        .await;
    assert_eq!(406, r.code);
    assert_eq!(
        "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        r.json()["message"]
    );
    assert_eq!(406, r.json()["code"]);
}

#[tokio::test]
async fn custom_resources_as_partial_object_metadata() {
    let s = TestServer::start(&[]);
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
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
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}});
    assert_eq!(201, s.post(widgets, &w).await.code);
    let list = s.get_accepting(widgets, LIST_ACCEPT).await.json();
    assert_eq!("PartialObjectMetadataList", list["kind"]);
    assert_partial(&list["items"][0], "meta.k8s.io/v1", "w1");
    let mut watch = s
        .stream_accepting(&format!("{widgets}?watch=true"), OBJECT_ACCEPT)
        .await;
    let ev = watch.event(SECOND * 5).await;
    assert_eq!("ADDED", ev["type"]);
    assert_partial(&ev["object"], "meta.k8s.io/v1", "w1");
    let r = s
        .get_accepting(
            widgets,
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        )
        .await;
    assert_eq!(406, r.code);
    assert_eq!(
        "you requested PartialObjectMetadata, but the requested object is a list (*unstructured.UnstructuredList)",
        r.json()["message"]
    );
}

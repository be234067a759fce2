//! `POST /testserver/firehose`: synthetic MODIFIED events for benchmarking
//! watch clients, after the watch's initial events, in order, then the end.

mod common;
use common::*;
use serde_json::json;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const SEQ: &str = "kube-testserver/firehose-seq";

#[tokio::test]
async fn next_matching_watch_gets_count_modified_events_in_order() {
    let s = TestServer::start(&[]);
    let a = s.configmap("default", "a", json!({})).await;
    s.configmap("default", "b", json!({})).await;
    let rule = s
        .post(
            "/testserver/firehose",
            &json!({"match": "/configmaps", "count": 2500}),
        )
        .await;
    assert_eq!(200, rule.code);
    assert_eq!(2500, rule.json()["firehose"][0]["count"]);

    let mut w = s.stream(&format!("{CMS}?watch=true")).await;
    assert_eq!(200, w.code);
    for name in ["a", "b"] {
        let ev = w.event(SECOND * 5).await;
        assert_eq!(
            ("ADDED", name),
            (
                ev["type"].as_str().unwrap(),
                ev["object"]["metadata"]["name"].as_str().unwrap()
            )
        );
    }
    let base = rv_of(&a) + 1; // b's create is the store's current rv
    for seq in 1..=2500u64 {
        let ev = w.event(SECOND * 5).await;
        assert_eq!("MODIFIED", ev["type"], "event {seq}");
        let obj = &ev["object"];
        assert_eq!("a", obj["metadata"]["name"]);
        assert_eq!(
            ("ConfigMap", "v1"),
            (
                obj["kind"].as_str().unwrap(),
                obj["apiVersion"].as_str().unwrap()
            )
        );
        assert_eq!("v", obj["data"]["k"]);
        assert_eq!(base + seq, rv_of(obj), "event {seq}");
        assert_eq!(seq.to_string(), obj["metadata"]["annotations"][SEQ]);
    }
    // Then the stream ends, as at a watch timeout.
    assert_eq!(
        None,
        w.next_line(SECOND * 5).await,
        "the stream ends after the synthetic events"
    );

    // The rule served one watch, and nothing was stored.
    assert_eq!(
        json!([]),
        s.get("/testserver/firehose").await.json()["firehose"]
    );
    let stored = s.get(&format!("{CMS}/a")).await.json();
    assert_eq!(
        a["metadata"]["resourceVersion"],
        stored["metadata"]["resourceVersion"]
    );
    assert!(stored["metadata"]["annotations"][SEQ].is_null());
}

#[tokio::test]
async fn other_paths_pass_and_delete_clears() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({})).await;
    s.post(
        "/testserver/firehose",
        &json!({"match": "/pods", "count": 3}),
    )
    .await;
    let mut w = s
        .stream(&format!("{CMS}?watch=true&timeoutSeconds=1"))
        .await;
    assert_eq!("ADDED", w.event(SECOND * 5).await["type"]);
    assert!(
        w.ended(SECOND * 5).await,
        "no synthetic events for a path that does not match"
    );

    assert_eq!(200, s.delete("/testserver/firehose").await.code);
    assert_eq!(
        json!([]),
        s.get("/testserver/firehose").await.json()["firehose"]
    );
    let bad = s
        .post("/testserver/firehose", &json!({"count": "many"}))
        .await;
    assert_eq!(400, bad.code);
}

#[tokio::test]
async fn viewer_may_not_post_rules() {
    let mut s = TestServer::start(&[]);
    s.token = s.viewer_token.clone();
    let r = s.post("/testserver/firehose", &json!({"count": 3})).await;
    assert_eq!(403, r.code);
}

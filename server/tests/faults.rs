//! Fault injection: error statuses with Retry-After, latency, cut and
//! truncated bodies, stalls and resets; counts and clearing.

mod common;
use common::*;
use serde_json::json;
use std::time::Instant;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn status_with_retry_after_for_count_requests() {
    let s = TestServer::start(&[]);
    let r = s
        .post(
            "/testserver/faults",
            &json!({"status": 503, "retryAfter": 1, "count": 2, "match": "/configmaps"}),
        )
        .await;
    assert_eq!(200, r.code);
    for _ in 0..2 {
        let r = s.get(CMS).await;
        assert_eq!(503, r.code);
        assert_eq!("1", r.headers["retry-after"]);
        let st = r.json();
        assert_eq!("ServiceUnavailable", st["reason"]);
        assert_eq!(1, st["details"]["retryAfterSeconds"]);
    }
    assert_eq!(200, s.get(CMS).await.code, "count used up");
    assert_eq!(
        200,
        s.get("/api/v1/namespaces").await.code,
        "other paths untouched"
    );
}

#[tokio::test]
async fn latency_and_clearing() {
    let s = TestServer::start(&[]);
    s.post("/testserver/faults", &json!({"latencyMs": 1000}))
        .await;
    let t = Instant::now();
    assert_eq!(200, s.get(CMS).await.code);
    assert!(t.elapsed().as_millis() >= 1000);
    let listed = s.get("/testserver/faults").await.json();
    assert_eq!(1, listed["faults"].as_array().unwrap().len());
    assert_eq!(200, s.delete("/testserver/faults").await.code);
    let t = Instant::now();
    s.get(CMS).await;
    assert!(t.elapsed().as_millis() < 1000);
}

#[tokio::test]
async fn drop_mid_body_and_truncate_json() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({})).await;
    s.post(
        "/testserver/faults",
        &json!({"mode": "drop-mid-body", "count": 1}),
    )
    .await;
    let e = s
        .try_request("GET", CMS, None)
        .await
        .err()
        .expect("the body is cut");
    assert!(e.starts_with("body:"), "{e}");
    s.post(
        "/testserver/faults",
        &json!({"mode": "truncate-json", "count": 1}),
    )
    .await;
    let r = s
        .try_request("GET", CMS, None)
        .await
        .expect("a complete response");
    assert_eq!(200, r.code);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert!(!r.body.is_empty());
    assert_eq!(200, s.get(CMS).await.code);
}

#[tokio::test]
async fn stall_and_reset() {
    let s = TestServer::start(&[]);
    s.post("/testserver/faults", &json!({"mode": "stall", "count": 1}))
        .await;
    let stalled = tokio::time::timeout(SECOND, s.try_request("GET", CMS, None)).await;
    assert!(stalled.is_err(), "no body within a second");
    s.post("/testserver/faults", &json!({"mode": "reset", "count": 1}))
        .await;
    let e = s
        .try_request("GET", CMS, None)
        .await
        .err()
        .expect("the connection is reset");
    assert!(!e.is_empty());
    assert_eq!(200, s.get(CMS).await.code);
}

#[tokio::test]
async fn bad_rules_are_refused() {
    let s = TestServer::start(&[]);
    let r = s
        .post("/testserver/faults", &json!({"mode": "explode"}))
        .await;
    assert_eq!(400, r.code);
    assert!(r.json()["message"].as_str().unwrap().contains("explode"));
    assert_eq!(
        400,
        s.post("/testserver/faults", &json!({"status": 200}))
            .await
            .code
    );
}

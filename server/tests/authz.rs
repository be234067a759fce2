//! authentication.k8s.io / authorization.k8s.io reviews and
//! serviceaccounts/NAME/token, as `kubectl auth can-i`, `auth whoami` and
//! `create token` use them.

mod common;
use common::*;
use serde_json::json;

const SSAR: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

fn access(verb: &str) -> serde_json::Value {
    json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": "default", "verb": verb, "resource": "pods"}}})
}

#[tokio::test]
async fn can_i_answers_per_user() {
    let mut s = TestServer::start(&[]);
    let r = s.post(SSAR, &access("delete")).await;
    assert_eq!(201, r.code);
    assert_eq!(true, r.json()["status"]["allowed"]);
    assert_eq!("SelfSubjectAccessReview", r.json()["kind"]);
    assert_eq!("pods", r.json()["spec"]["resourceAttributes"]["resource"]);
    s.token = s.viewer_token.clone();
    // The read-only user may ask, and is told no for writes, yes for reads.
    let r = s.post(SSAR, &access("delete")).await;
    assert_eq!(201, r.code);
    assert_eq!(false, r.json()["status"]["allowed"]);
    assert_eq!(
        true,
        s.post(SSAR, &access("list")).await.json()["status"]["allowed"]
    );
    let bad = s
        .post(
            SSAR,
            &json!({"kind": "SelfSubjectAccessReview", "spec": {}}),
        )
        .await;
    assert_eq!(422, bad.code);
}

#[tokio::test]
async fn whoami_rules_and_subject_reviews() {
    let s = TestServer::start(&[]);
    let me = s
        .post(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            &json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1"}),
        )
        .await;
    assert_eq!(201, me.code);
    assert_eq!("admin", me.json()["status"]["userInfo"]["username"]);
    assert_eq!(
        "system:masters",
        me.json()["status"]["userInfo"]["groups"][0]
    );
    let rules = s
        .post(
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            &json!({"kind": "SelfSubjectRulesReview", "spec": {"namespace": "default"}}),
        )
        .await;
    assert_eq!(
        json!(["*"]),
        rules.json()["status"]["resourceRules"][0]["verbs"]
    );
    let sar = s
        .post(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            &json!({"kind": "SubjectAccessReview", "spec": {"user": "viewer",
                "resourceAttributes": {"verb": "create", "resource": "configmaps"}}}),
        )
        .await;
    assert_eq!(false, sar.json()["status"]["allowed"]);
}

#[tokio::test]
async fn create_token_is_reviewable() {
    let s = TestServer::start(&[]);
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}});
    assert_eq!(
        201,
        s.post("/api/v1/namespaces/default/serviceaccounts", &sa)
            .await
            .code
    );
    let path = "/api/v1/namespaces/default/serviceaccounts/robot/token";
    let tr = s
        .post(
            path,
            &json!({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "spec": {"expirationSeconds": 3600}}),
        )
        .await;
    assert_eq!(201, tr.code);
    let token = tr.json()["status"]["token"].as_str().unwrap().to_string();
    assert_eq!(3, token.split('.').count());
    assert!(tr.json()["status"]["expirationTimestamp"].is_string());
    let review = s
        .post(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &json!({"kind": "TokenReview", "spec": {"token": token}}),
        )
        .await;
    assert_eq!(true, review.json()["status"]["authenticated"]);
    assert_eq!(
        "system:serviceaccount:default:robot",
        review.json()["status"]["user"]["username"]
    );
    let forged = s
        .post(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &json!({"kind": "TokenReview", "spec": {"token": "a.b.c"}}),
        )
        .await;
    assert!(forged.json()["status"]["authenticated"].is_null());
    let missing = s
        .post(
            "/api/v1/namespaces/default/serviceaccounts/nope/token",
            &json!({}),
        )
        .await;
    assert_eq!(404, missing.code);
    let short = s
        .post(path, &json!({"spec": {"expirationSeconds": 60}}))
        .await;
    assert_eq!(422, short.code);
}

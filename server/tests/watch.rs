//! WATCH over HTTPS: initial events, resuming from a resourceVersion, 410
//! after compaction, bookmarks, sendInitialEvents, selectors, timeouts.

mod common;
use common::*;
use serde_json::json;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn from_rv_zero_sends_current_objects_then_changes() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({})).await;
    let mut w = s
        .stream(&format!("{CMS}?watch=true&resourceVersion=0"))
        .await;
    assert_eq!(200, w.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!("ADDED", ev["type"]);
    assert_eq!("a", ev["object"]["metadata"]["name"]);
    assert_eq!("ConfigMap", ev["object"]["kind"]);
    assert_eq!("v1", ev["object"]["apiVersion"]);

    let b = s.configmap("default", "b", json!({})).await;
    let ev = w.event(SECOND * 5).await;
    assert_eq!(
        ("ADDED", "b"),
        (
            ev["type"].as_str().unwrap(),
            ev["object"]["metadata"]["name"].as_str().unwrap()
        )
    );
    assert_eq!(
        b["metadata"]["resourceVersion"],
        ev["object"]["metadata"]["resourceVersion"]
    );

    let mut changed = b.clone();
    changed["data"] = json!({"k": "changed"});
    assert_eq!(200, s.put(&format!("{CMS}/b"), &changed).await.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!("MODIFIED", ev["type"]);
    assert_eq!("changed", ev["object"]["data"]["k"]);

    assert_eq!(200, s.delete(&format!("{CMS}/b")).await.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!("DELETED", ev["type"]);
    assert!(rv_of(&ev["object"]) > rv_of(&changed));
}

#[tokio::test]
async fn watch_values_true_and_one_and_legacy_paths() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({})).await;
    for path in [
        format!("{CMS}?watch=True"),
        format!("{CMS}?watch=1"),
        "/api/v1/watch/namespaces/default/configmaps".to_string(),
        "/api/v1/watch/configmaps".to_string(),
        "/api/v1/watch/namespaces/default/configmaps/a".to_string(),
    ] {
        let mut w = s.stream(&path).await;
        let ev = w.event(SECOND * 5).await;
        assert_eq!(
            ("ADDED", "a"),
            (
                ev["type"].as_str().unwrap(),
                ev["object"]["metadata"]["name"].as_str().unwrap()
            ),
            "{path}"
        );
    }
}

#[tokio::test]
async fn from_rv_n_sends_only_later_changes() {
    let s = TestServer::start(&[]);
    let a = s.configmap("default", "a", json!({})).await;
    s.configmap("default", "b", json!({})).await;
    s.configmap("default", "c", json!({})).await;
    let mut w = s
        .stream(&format!("{CMS}?watch=true&resourceVersion={}", rv_of(&a)))
        .await;
    for name in ["b", "c"] {
        let ev = w.event(SECOND * 5).await;
        assert_eq!(
            ("ADDED", name),
            (
                ev["type"].as_str().unwrap(),
                ev["object"]["metadata"]["name"].as_str().unwrap()
            )
        );
    }
    assert!(
        w.next_line(SECOND / 2).await.is_none(),
        "nothing else happened"
    );
}

#[tokio::test]
async fn too_old_resource_version_is_410_expired_then_end() {
    let s = TestServer::start(&["--watch-history", "3"]);
    let first = s.configmap("default", "a", json!({})).await;
    for n in ["b", "c", "d", "e"] {
        s.configmap("default", n, json!({})).await;
    }
    let mut w = s
        .stream(&format!(
            "{CMS}?watch=true&resourceVersion={}",
            rv_of(&first)
        ))
        .await;
    let ev = w.event(SECOND * 5).await;
    assert_eq!("ERROR", ev["type"]);
    assert_eq!("Status", ev["object"]["kind"]);
    assert_eq!(410, ev["object"]["code"]);
    assert_eq!("Expired", ev["object"]["reason"]);
    let msg = ev["object"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("too old resource version: {} (", rv_of(&first))),
        "{msg}"
    );
    assert!(w.ended(SECOND * 5).await);
}

#[tokio::test]
async fn bookmarks_carry_only_the_resource_version() {
    let s = TestServer::start(&["--bookmark-interval-ms", "100"]);
    let a = s.configmap("default", "a", json!({})).await;
    let mut w = s
        .stream(&format!(
            "{CMS}?watch=true&allowWatchBookmarks=true&resourceVersion={}",
            rv_of(&a)
        ))
        .await;
    let ev = w.event(SECOND * 5).await;
    assert_eq!("BOOKMARK", ev["type"]);
    assert_eq!(
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": rv_of(&a).to_string()}}),
        ev["object"]
    );
    let mut w = s
        .stream(&format!("{CMS}?watch=true&resourceVersion={}", rv_of(&a)))
        .await;
    assert!(
        w.next_line(SECOND / 2).await.is_none(),
        "no bookmarks unless asked for"
    );
}

#[tokio::test]
async fn send_initial_events_ends_with_the_annotated_bookmark() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({})).await;
    let b = s.configmap("default", "b", json!({})).await;
    let mut w = s
        .stream(&format!("{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"))
        .await;
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
    let ev = w.event(SECOND * 5).await;
    assert_eq!("BOOKMARK", ev["type"]);
    assert_eq!(
        "true",
        ev["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"]
    );
    assert_eq!(
        rv_of(&b).to_string(),
        ev["object"]["metadata"]["resourceVersion"]
    );

    let bad = s
        .get(&format!(
            "{CMS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
        ))
        .await;
    assert_eq!(422, bad.code);
    assert_eq!("Invalid", bad.json()["reason"]);
}

#[tokio::test]
async fn selectors_filter_events_and_moves_become_added_or_deleted() {
    let s = TestServer::start(&[]);
    let mut w = s
        .stream(&format!("{CMS}?watch=true&labelSelector=app%3Dweb"))
        .await;
    s.configmap("default", "other", json!({"app": "db"})).await;
    let web = s.configmap("default", "web", json!({"app": "web"})).await;
    let ev = w.event(SECOND * 5).await;
    assert_eq!(
        ("ADDED", "web"),
        (
            ev["type"].as_str().unwrap(),
            ev["object"]["metadata"]["name"].as_str().unwrap()
        )
    );
    let mut moved = web.clone();
    moved["metadata"]["labels"] = json!({"app": "db"});
    assert_eq!(200, s.put(&format!("{CMS}/web"), &moved).await.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!(
        ("DELETED", "web"),
        (
            ev["type"].as_str().unwrap(),
            ev["object"]["metadata"]["name"].as_str().unwrap()
        )
    );

    let mut f = s
        .stream("/api/v1/pods?watch=true&fieldSelector=metadata.namespace%3Dkube-system")
        .await;
    let pod =
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
    assert_eq!(
        201,
        s.post("/api/v1/namespaces/default/pods", &pod).await.code
    );
    assert_eq!(
        201,
        s.post("/api/v1/namespaces/kube-system/pods", &pod)
            .await
            .code
    );
    let ev = f.event(SECOND * 5).await;
    assert_eq!("kube-system", ev["object"]["metadata"]["namespace"]);
}

#[tokio::test]
async fn timeout_seconds_ends_the_stream() {
    let s = TestServer::start(&[]);
    let mut w = s
        .stream(&format!("{CMS}?watch=true&timeoutSeconds=1"))
        .await;
    assert!(w.ended(SECOND * 5).await);
}

#[tokio::test]
async fn watchers_do_not_block_writers() {
    let s = TestServer::start(&["--watch-history", "50"]);
    // A watcher that never reads.
    let _idle = s.stream(&format!("{CMS}?watch=true")).await;
    for i in 0..300 {
        s.configmap("default", &format!("cm-{i}"), json!({})).await;
    }
    let r = s.get(CMS).await;
    assert_eq!(300, r.json()["items"].as_array().unwrap().len());
}

#[tokio::test]
async fn a_watcher_too_far_behind_gets_410_and_is_closed() {
    let s = TestServer::start(&["--watch-history", "5"]);
    let mut w = s.stream(&format!("{CMS}?watch=true")).await;
    // Large objects fill the socket buffers, so the server-side queue fills up.
    let big = "x".repeat(512 * 1024);
    for i in 0..60 {
        let r = s
            .post(
                CMS,
                &json!({"metadata": {"name": format!("big-{i}")}, "data": {"k": big}}),
            )
            .await;
        assert_eq!(201, r.code);
    }
    let mut last = json!(null);
    let mut read = 0;
    while let Some(line) = w.next_line(SECOND * 5).await {
        last = serde_json::from_str(&line).unwrap();
        read += 1;
    }
    assert!(read < 60, "the watch ended early");
    assert_eq!(
        "ERROR", last["type"],
        "the last event says why the watch ended"
    );
    assert_eq!(410, last["object"]["code"]);
    assert_eq!("Expired", last["object"]["reason"]);
}

#[tokio::test]
async fn dry_run_writes_make_no_events() {
    let s = TestServer::start(&[]);
    let a = s.configmap("default", "a", json!({})).await;
    let mut w = s
        .stream(&format!("{CMS}?watch=true&resourceVersion={}", rv_of(&a)))
        .await;
    let r = s
        .post(
            &format!("{CMS}?dryRun=All"),
            &json!({"metadata": {"name": "dry"}}),
        )
        .await;
    assert_eq!(201, r.code);
    assert_eq!(
        200,
        s.request("DELETE", &format!("{CMS}/a?dryRun=All"), None)
            .await
            .code
    );
    assert!(w.next_line(SECOND / 2).await.is_none());
    assert_eq!(404, s.get(&format!("{CMS}/dry")).await.code);
    assert_eq!(200, s.get(&format!("{CMS}/a")).await.code);
    let list = s.get(CMS).await.json();
    assert_eq!(rv_of(&a).to_string(), list["metadata"]["resourceVersion"]);
}

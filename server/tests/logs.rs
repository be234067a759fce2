//! Pod logs: follow sees appended lines and ends with the pod; the options
//! and the errors of the real server.

mod common;
use common::*;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";

async fn pod_with_log(s: &TestServer, name: &str, containers: &[&str], log: &str) {
    let cs: Vec<_> = containers
        .iter()
        .map(|c| json!({"name": c, "image": "i"}))
        .collect();
    let p = json!({"metadata": {"name": name, "annotations": {format!("kube-testserver/log.{}", containers[0]): log}},
        "spec": {"containers": cs}});
    assert_eq!(201, s.post(PODS, &p).await.code);
}

async fn text(s: &TestServer, path: &str) -> (u16, String) {
    let r = s.get(path).await;
    (r.code, String::from_utf8_lossy(&r.body).into_owned())
}

#[tokio::test]
async fn follow_streams_appended_lines_until_the_pod_goes() {
    let s = TestServer::start(&[]);
    pod_with_log(&s, "p", &["c"], "one\ntwo\n").await;
    let mut f = s.stream(&format!("{PODS}/p/log?follow=true")).await;
    assert_eq!(200, f.code);
    assert_eq!(Some("one".into()), f.next_line(SECOND * 5).await);
    assert_eq!(Some("two".into()), f.next_line(SECOND * 5).await);
    s.append_log("default", "p", "c", "three\nfour\n").await;
    assert_eq!(Some("three".into()), f.next_line(SECOND * 5).await);
    assert_eq!(Some("four".into()), f.next_line(SECOND * 5).await);
    let mut pod = s.get(&format!("{PODS}/p")).await.json();
    pod["metadata"]["annotations"]["kube-testserver/log.c"] = json!("one\ntwo\nfive\n");
    assert_eq!(200, s.put(&format!("{PODS}/p"), &pod).await.code);
    assert_eq!(Some("five".into()), f.next_line(SECOND * 5).await);
    assert_eq!(200, s.delete(&format!("{PODS}/p")).await.code);
    assert!(f.ended(SECOND * 5).await);
}

#[tokio::test]
async fn tail_timestamps_limit_and_since() {
    let s = TestServer::start(&[]);
    pod_with_log(&s, "p", &["c"], "a\nb\nc\n").await;
    assert_eq!(
        (200, "b\nc\n".into()),
        text(&s, &format!("{PODS}/p/log?tailLines=2")).await
    );
    assert_eq!(
        (200, "a\nb".into()),
        text(&s, &format!("{PODS}/p/log?limitBytes=3")).await
    );
    let (_, stamped) = text(&s, &format!("{PODS}/p/log?timestamps=true&tailLines=1")).await;
    let (ts, line) = stamped.trim_end().split_once(' ').unwrap();
    assert_eq!("c", line);
    assert!(
        ts.ends_with('Z') && ts.contains('T') && ts.contains('.'),
        "{ts}"
    );
    tokio::time::sleep(SECOND * 2).await;
    s.append_log("default", "p", "c", "fresh\n").await;
    assert_eq!(
        (200, "fresh\n".into()),
        text(&s, &format!("{PODS}/p/log?sinceSeconds=1")).await
    );
    let (_, stamped) = text(&s, &format!("{PODS}/p/log?timestamps=true&tailLines=1")).await;
    let fresh_ts = stamped.split_once(' ').unwrap().0;
    assert_eq!(
        (200, "fresh\n".into()),
        text(&s, &format!("{PODS}/p/log?sinceTime={fresh_ts}")).await
    );
}

#[tokio::test]
async fn container_errors_and_previous() {
    let s = TestServer::start(&[]);
    pod_with_log(&s, "two", &["a", "b"], "x\n").await;
    let (code, body) = text(&s, &format!("{PODS}/two/log")).await;
    assert_eq!(400, code);
    assert!(
        body.contains("a container name must be specified for pod two, choose one of: [a b]"),
        "{body}"
    );
    let (code, body) = text(&s, &format!("{PODS}/two/log?container=zz")).await;
    assert_eq!(400, code);
    assert!(
        body.contains("container zz is not valid for pod two"),
        "{body}"
    );
    let (code, body) = text(&s, &format!("{PODS}/two/log?container=a&previous=true")).await;
    assert_eq!(400, code);
    assert!(
        body.contains("previous terminated container \\\"a\\\" in pod \\\"two\\\" not found"),
        "{body}"
    );
    assert_eq!(
        (200, "x\n".into()),
        text(&s, &format!("{PODS}/two/log?container=a")).await
    );
}

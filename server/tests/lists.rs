//! Lists: limit/continue pagination, remainingItemCount, expired continue
//! tokens, items without kind/apiVersion, label and field selectors.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;

/// A seed file with `n` ConfigMaps in namespace default, labelled by parity.
fn seed_configmaps(n: usize) -> (TempDir, String) {
    let dir = std::env::temp_dir().join(format!("kts-seed-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::new();
    for i in 0..n {
        let parity = if i % 2 == 0 { "even" } else { "odd" };
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i:04}, namespace: default, labels: {{parity: {parity}}}}}\ndata: {{i: \"{i}\"}}\n"
        ));
    }
    let path = dir.join("seed.yaml");
    std::fs::write(&path, text).unwrap();
    let p = path.to_string_lossy().into_owned();
    (TempDir(dir), p)
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_of_500_over_2000_objects() {
    let (_d, seed) = seed_configmaps(2000);
    let s = TestServer::start(&["--seed", &seed]);
    let mut seen = vec![];
    let mut token = String::new();
    let mut list_rv = None;
    let mut pages = 0;
    loop {
        let mut path = format!("{CMS}?limit=500");
        if !token.is_empty() {
            path.push_str(&format!("&continue={token}"));
        }
        let page = s.get(&path).await.json();
        pages += 1;
        assert_eq!("ConfigMapList", page["kind"]);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 500);
        assert!(items
            .iter()
            .all(|i| i.get("kind").is_none() && i.get("apiVersion").is_none()));
        let rv = page["metadata"]["resourceVersion"].clone();
        assert_eq!(
            *list_rv.get_or_insert(rv.clone()),
            rv,
            "one resourceVersion across pages"
        );
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(t) => {
                assert_eq!(
                    2000 - seen.len() as u64,
                    page["metadata"]["remainingItemCount"].as_u64().unwrap()
                );
                token = t.to_string();
            }
            None => {
                assert!(page["metadata"].get("remainingItemCount").is_none());
                break;
            }
        }
    }
    assert_eq!(4, pages);
    assert_eq!(2000, seen.len());
    assert_eq!(2000, seen.iter().collect::<HashSet<_>>().len());
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen);
}

#[tokio::test]
async fn selector_pages_have_no_remaining_count() {
    let (_d, seed) = seed_configmaps(10);
    let s = TestServer::start(&["--seed", &seed]);
    let page = s
        .get(&format!("{CMS}?limit=2&labelSelector=parity%3Deven"))
        .await
        .json();
    assert_eq!(vec!["cm-0000", "cm-0002"], names(&page));
    assert!(page["metadata"]["continue"].is_string());
    assert!(page["metadata"].get("remainingItemCount").is_none());
    let token = page["metadata"]["continue"].as_str().unwrap();
    let next = s
        .get(&format!(
            "{CMS}?limit=2&labelSelector=parity%3Deven&continue={token}"
        ))
        .await
        .json();
    assert_eq!(vec!["cm-0004", "cm-0006"], names(&next));
}

#[tokio::test]
async fn continue_token_older_than_compaction_is_410() {
    let (_d, seed) = seed_configmaps(5);
    let s = TestServer::start(&["--seed", &seed]);
    let page = s.get(&format!("{CMS}?limit=2")).await.json();
    let token = page["metadata"]["continue"].as_str().unwrap().to_string();
    s.configmap("default", "later", json!({})).await;
    assert_eq!(200, s.post("/testserver/compact", &json!({})).await.code);
    let r = s.get(&format!("{CMS}?limit=2&continue={token}")).await;
    assert_eq!(410, r.code);
    let st = r.json();
    assert_eq!("Expired", st["reason"]);
    assert!(st["message"]
        .as_str()
        .unwrap()
        .starts_with("The provided continue parameter is too old"));
    assert!(
        st["metadata"]["continue"].is_string(),
        "a token to go on with"
    );
    let bad = s.get(&format!("{CMS}?limit=2&continue=garbage")).await;
    assert_eq!(400, bad.code);
}

#[tokio::test]
async fn get_by_name_has_kind_and_list_items_do_not() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({})).await;
    let one = s.get(&format!("{CMS}/a")).await.json();
    assert_eq!(
        ("ConfigMap", "v1"),
        (
            one["kind"].as_str().unwrap(),
            one["apiVersion"].as_str().unwrap()
        )
    );
    let list = s.get(CMS).await.json();
    let item = list["items"][0].as_object().unwrap();
    assert!(item.get("kind").is_none() && item.get("apiVersion").is_none());
    // The rest in the order a real server writes: metadata first.
    assert_eq!(Some("metadata"), item.keys().next().map(String::as_str));
    assert_eq!(one["metadata"], item["metadata"]);
}

#[tokio::test]
async fn label_selectors() {
    let s = TestServer::start(&[]);
    s.configmap("default", "web", json!({"app": "web", "tier": "front"}))
        .await;
    s.configmap("default", "db", json!({"app": "db"})).await;
    s.configmap("default", "bare", json!({})).await;
    let s = &s;
    let sel = |q: &str| {
        let path = format!(
            "{CMS}?labelSelector={}",
            q.replace(' ', "%20")
                .replace('=', "%3D")
                .replace('!', "%21")
        );
        async move { s.get(&path).await }
    };
    let check = |r: Resp| {
        assert_eq!(200, r.code, "{}", String::from_utf8_lossy(&r.body));
        let mut n = names(&r.json());
        n.sort();
        n
    };
    assert_eq!(vec!["web"], check(sel("app=web").await));
    assert_eq!(vec!["web"], check(sel("app==web").await));
    assert_eq!(vec!["bare", "db"], check(sel("app!=web").await));
    assert_eq!(vec!["db", "web"], check(sel("app in (web,db)").await));
    assert_eq!(vec!["bare"], check(sel("app notin (web,db)").await));
    assert_eq!(vec!["db", "web"], check(sel("app").await));
    assert_eq!(vec!["bare"], check(sel("!app").await));
    assert_eq!(vec!["web"], check(sel("app,tier=front").await));
    for bad in ["app in", "app=a b", "app in ()", "-x=1"] {
        let r = sel(bad).await;
        assert_eq!(400, r.code, "{bad}");
        assert_eq!("BadRequest", r.json()["reason"]);
    }
}

#[tokio::test]
async fn field_selectors() {
    let s = TestServer::start(&[]);
    let pod = |name: &str, node: Option<&str>| {
        let mut p = json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
        if let Some(n) = node {
            p["spec"]["nodeName"] = json!(n);
        }
        p
    };
    s.post("/api/v1/namespaces/default/pods", &pod("a", Some("n2")))
        .await;
    s.post("/api/v1/namespaces/default/pods", &pod("b", None))
        .await;
    let s = &s;
    let got = |q: &str| {
        let path = format!("/api/v1/pods?fieldSelector={}", q.replace('=', "%3D"));
        async move { s.get(&path).await }
    };
    assert_eq!(vec!["a"], names(&got("spec.nodeName=n2").await.json()));
    assert_eq!(vec!["b"], names(&got("spec.nodeName!=n2").await.json()));
    assert_eq!(
        2,
        names(
            // New pods are Pending: no scheduler or kubelet runs in these tests.
            &got("status.phase=Pending,metadata.namespace=default")
                .await
                .json()
        )
        .len()
    );
    assert_eq!(vec!["b"], names(&got("metadata.name=b").await.json()));
    let r = got("spec.foo=x").await;
    assert_eq!(400, r.code);
    assert_eq!("field label not supported: spec.foo", r.json()["message"]);
}

/// Lists of more than 100 items are streamed while they are encoded (no
/// Content-Length); the document is the one a whole answer would be.
#[tokio::test]
async fn large_lists_stream_the_same_document() {
    let s = TestServer::start(&[]);
    for i in 0..150 {
        s.configmap(
            "default",
            &format!("cm-{i:03}"),
            json!({"n": i.to_string()}),
        )
        .await;
    }
    let streamed = s.get(CMS).await;
    assert_eq!(200, streamed.code);
    assert!(streamed.headers.get("content-length").is_none());
    let page = s.get(&format!("{CMS}?limit=100")).await;
    assert!(
        page.headers.get("content-length").is_some(),
        "small lists whole"
    );
    let (all, first) = (streamed.json(), page.json());
    let items = all["items"].as_array().unwrap();
    assert_eq!(150, items.len());
    assert_eq!(first["items"].as_array().unwrap()[..], items[..100]);
    assert!(items.iter().all(|i| i.get("kind").is_none()));
    assert_eq!("ConfigMapList", all["kind"]);
    assert!(all["metadata"]["resourceVersion"].is_string());
}

//! Seeds behave like an etcd restore: a seed of an object the server makes
//! itself (a built-in namespace) is merged into it, not a fatal conflict.

mod common;
use common::*;

#[tokio::test]
async fn a_seeded_builtin_namespace_is_merged() {
    let dir = std::env::temp_dir().join(format!("seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.yaml");
    std::fs::write(
        &seed,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system, labels: {team: core}}\n",
    )
    .unwrap();
    let s = TestServer::start(&["--seed", seed.to_str().unwrap()]);
    let ns = s.get("/api/v1/namespaces/kube-system").await;
    assert_eq!(200, ns.code);
    assert_eq!("core", ns.json()["metadata"]["labels"]["team"]);
    assert_eq!("Active", ns.json()["status"]["phase"]);
    let apis = s
        .get("/apis/apiregistration.k8s.io/v1/apiservices/v1.apps")
        .await;
    assert_eq!(200, apis.code);
    assert_eq!("apps", apis.json()["spec"]["group"]);
    std::fs::remove_dir_all(&dir).ok();
}

//! Object semantics over HTTPS: server-set metadata, generation, status and
//! scale subresources, errors with the real wording, deletion answers,
//! finalizers, namespace termination, eviction, binding, dryRun.

mod common;
use common::*;
use serde_json::{json, Value};

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn deployment(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
}

fn pod(name: &str) -> Value {
    json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
}

#[tokio::test]
async fn server_sets_uid_resource_version_timestamp_and_generation() {
    let s = TestServer::start(&[]);
    let cm = s.configmap("default", "a", json!({})).await;
    assert_eq!(36, cm["metadata"]["uid"].as_str().unwrap().len());
    assert!(cm["metadata"]["resourceVersion"].is_string());
    assert!(cm["metadata"]["creationTimestamp"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(cm["metadata"].get("generation").is_none());

    let d = s.post(DEPLOYS, &deployment("web")).await.json();
    assert_eq!(1, d["metadata"]["generation"]);
    let mut labelled = d.clone();
    labelled["metadata"]["labels"] = json!({"x": "y"});
    let d2 = s.put(&format!("{DEPLOYS}/web"), &labelled).await.json();
    assert_eq!(
        1, d2["metadata"]["generation"],
        "metadata changes keep the generation"
    );
    assert!(rv_of(&d2) > rv_of(&d));
    let mut scaled = d2.clone();
    scaled["spec"]["replicas"] = json!(3);
    let d3 = s.put(&format!("{DEPLOYS}/web"), &scaled).await.json();
    assert_eq!(2, d3["metadata"]["generation"]);

    let p = s.post(PODS, &pod("p")).await.json();
    assert!(p["metadata"].get("generation").is_none());
    // A new pod is Pending until a scheduler and a kubelet run it (none here).
    assert_eq!("Pending", p["status"]["phase"]);
}

#[tokio::test]
async fn status_subresource_splits_spec_and_status() {
    let s = TestServer::start(&[]);
    let mut with_status = deployment("web");
    with_status["status"] = json!({"replicas": 5});
    let d = s.post(DEPLOYS, &with_status).await.json();
    assert_eq!(
        json!({}),
        d["status"],
        "a created object's status is the server's (empty, as the registry strategy leaves it)"
    );
    let mut both = d.clone();
    both["spec"]["replicas"] = json!(2);
    both["status"] = json!({"replicas": 7});
    let main = s.put(&format!("{DEPLOYS}/web"), &both).await.json();
    assert_eq!(2, main["spec"]["replicas"]);
    assert!(
        main["status"].get("replicas").is_none(),
        "the main resource ignores status"
    );
    let mut both = main.clone();
    both["spec"]["replicas"] = json!(9);
    both["status"] = json!({"replicas": 7});
    let st = s.put(&format!("{DEPLOYS}/web/status"), &both).await.json();
    assert_eq!(7, st["status"]["replicas"]);
    assert_eq!(2, st["spec"]["replicas"], "/status ignores the spec");
}

#[tokio::test]
async fn errors_have_the_real_codes_and_wording() {
    let s = TestServer::start(&[]);
    let a = s.configmap("default", "a", json!({})).await;
    let again = s.post(CMS, &json!({"metadata": {"name": "a"}})).await;
    assert_eq!(409, again.code);
    assert_eq!("AlreadyExists", again.json()["reason"]);
    assert_eq!("configmaps \"a\" already exists", again.json()["message"]);

    let mut stale = a.clone();
    stale["data"] = json!({"x": "1"});
    assert_eq!(200, s.put(&format!("{CMS}/a"), &stale).await.code);
    let conflict = s.put(&format!("{CMS}/a"), &stale).await;
    assert_eq!(409, conflict.code);
    assert_eq!("Conflict", conflict.json()["reason"]);
    assert!(conflict.json()["message"].as_str().unwrap().starts_with(
        "Operation cannot be fulfilled on configmaps \"a\": the object has been modified"
    ));

    let invalid = s
        .post(CMS, &json!({"metadata": {"name": "Bad_Name"}}))
        .await;
    assert_eq!(422, invalid.code);
    let st = invalid.json();
    assert_eq!("Invalid", st["reason"]);
    assert_eq!("metadata.name", st["details"]["causes"][0]["field"]);
    assert!(st["message"].as_str().unwrap().starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));

    let missing = s.get(&format!("{CMS}/nope")).await;
    assert_eq!(404, missing.code);
    assert_eq!(
        json!({"name": "nope", "kind": "configmaps"}),
        missing.json()["details"]
    );
    let missing = s.get(&format!("{DEPLOYS}/nope")).await.json();
    assert_eq!("deployments.apps \"nope\" not found", missing["message"]);
    let unknown = s.get("/api/v1/namespaces/default/widgets").await;
    assert_eq!(404, unknown.code);
    assert_eq!(
        "the server could not find the requested resource",
        unknown.json()["message"]
    );

    for bad in [
        json!({"metadata": "x"}),
        json!({"metadata": {"name": "y"}, "spec": [1]}),
    ] {
        let r = s.post(PODS, &bad).await;
        assert_eq!(400, r.code, "{bad}");
        let r = s.put(&format!("{CMS}/a"), &bad).await;
        assert_eq!(400, r.code, "{bad}");
    }
    let r = s
        .request("PATCH", &format!("{CMS}/a"), Some(&json!({"metadata": 5})))
        .await;
    assert_eq!(400, r.code);
    let r = s
        .request("PATCH", &format!("{CMS}/a"), Some(&json!("a string")))
        .await;
    assert_eq!(400, r.code);

    let na = s.put(CMS, &json!({})).await;
    assert_eq!(405, na.code);
    assert_eq!("MethodNotAllowed", na.json()["reason"]);
    assert_eq!(
        405,
        s.post("/api/v1/configmaps", &json!({"metadata": {"name": "x"}}))
            .await
            .code
    );
}

#[tokio::test]
async fn delete_answers_like_the_real_server() {
    let s = TestServer::start(&[]);
    let cm = s.configmap("default", "a", json!({})).await;
    let st = s.delete(&format!("{CMS}/a")).await.json();
    assert_eq!(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": "a", "kind": "configmaps", "uid": cm["metadata"]["uid"]}}),
        st
    );
    s.post(DEPLOYS, &deployment("web")).await;
    let st = s.delete(&format!("{DEPLOYS}/web")).await.json();
    assert_eq!("apps", st["details"]["group"]);
    s.post(PODS, &pod("p")).await;
    let p = s
        .delete(&format!("{PODS}/p?propagationPolicy=Background"))
        .await
        .json();
    assert_eq!("Pod", p["kind"]);
    assert!(p["metadata"]["deletionTimestamp"].is_string());
    // Never scheduled: the pod strategy's CheckGracefulDelete makes the
    // grace period 0, so it is gone at once (deletionTimestamp set, period 0).
    assert_eq!(0, p["metadata"]["deletionGracePeriodSeconds"]);
    assert_eq!(404, s.get(&format!("{PODS}/p")).await.code);
}

#[tokio::test]
async fn finalizers_keep_the_object_until_removed() {
    let s = TestServer::start(&[]);
    let r = s
        .post(
            CMS,
            &json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
        )
        .await;
    assert_eq!(201, r.code);
    let mut w = s
        .stream(&format!(
            "{CMS}?watch=true&resourceVersion={}",
            rv_of(&r.json())
        ))
        .await;
    let d = s.delete(&format!("{CMS}/held")).await;
    assert_eq!(200, d.code);
    let held = d.json();
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(0, held["metadata"]["deletionGracePeriodSeconds"]);
    assert_eq!("MODIFIED", w.event(SECOND * 5).await["type"]);
    let mut still = s.get(&format!("{CMS}/held")).await.json();
    still["metadata"]["finalizers"] = json!([]);
    assert_eq!(200, s.put(&format!("{CMS}/held"), &still).await.code);
    assert_eq!(404, s.get(&format!("{CMS}/held")).await.code);
    let ev = w.event(SECOND * 5).await;
    assert_eq!("MODIFIED", ev["type"]);
    assert_eq!("DELETED", w.event(SECOND * 5).await["type"]);
}

#[tokio::test]
async fn deleting_a_namespace_terminates_it_and_its_content() {
    let s = TestServer::start(&[]);
    assert_eq!(
        201,
        s.post("/api/v1/namespaces", &json!({"metadata": {"name": "team"}}))
            .await
            .code
    );
    s.configmap("team", "a", json!({})).await;
    let ns = s.delete("/api/v1/namespaces/team").await.json();
    assert_eq!("Namespace", ns["kind"]);
    assert_eq!("Terminating", ns["status"]["phase"]);
    assert_eq!(
        404,
        s.get("/api/v1/namespaces/team/configmaps/a").await.code
    );
    let refused = s
        .post(
            "/api/v1/namespaces/team/configmaps",
            &json!({"metadata": {"name": "b"}}),
        )
        .await;
    assert_eq!(403, refused.code);
    assert!(refused.json()["message"]
        .as_str()
        .unwrap()
        .contains("unable to create new content in namespace team because it is being terminated"));
    let mut gone = false;
    for _ in 0..50 {
        if s.get("/api/v1/namespaces/team").await.code == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(SECOND / 10).await;
    }
    assert!(gone, "the namespace goes once empty");
}

#[tokio::test]
async fn deletecollection_honours_selectors() {
    let s = TestServer::start(&[]);
    s.configmap("default", "a", json!({"app": "x"})).await;
    s.configmap("default", "b", json!({"app": "x"})).await;
    s.configmap("default", "c", json!({"app": "y"})).await;
    let r = s
        .delete(&format!("{CMS}?labelSelector=app%3Dx"))
        .await
        .json();
    assert_eq!("ConfigMapList", r["kind"]);
    assert_eq!(2, r["items"].as_array().unwrap().len());
    let left = s.get(CMS).await.json();
    assert_eq!(1, left["items"].as_array().unwrap().len());
    assert_eq!("c", left["items"][0]["metadata"]["name"]);
}

#[tokio::test]
async fn scale_subresource() {
    let s = TestServer::start(&[]);
    s.post(DEPLOYS, &deployment("web")).await;
    let sc = s.get(&format!("{DEPLOYS}/web/scale")).await.json();
    assert_eq!(
        ("Scale", "autoscaling/v1"),
        (
            sc["kind"].as_str().unwrap(),
            sc["apiVersion"].as_str().unwrap()
        )
    );
    assert_eq!(1, sc["spec"]["replicas"]);
    assert_eq!("app=web", sc["status"]["selector"]);
    let mut up = sc.clone();
    up["spec"]["replicas"] = json!(5);
    let r = s.put(&format!("{DEPLOYS}/web/scale"), &up).await;
    assert_eq!(200, r.code);
    assert_eq!(5, r.json()["spec"]["replicas"]);
    let d = s.get(&format!("{DEPLOYS}/web")).await.json();
    assert_eq!(5, d["spec"]["replicas"]);
    assert_eq!(2, d["metadata"]["generation"]);
    let stale = s.put(&format!("{DEPLOYS}/web/scale"), &up).await;
    assert_eq!(409, stale.code);
    let p = s
        .request(
            "PATCH",
            &format!("{DEPLOYS}/web/scale"),
            Some(&json!({"spec": {"replicas": 2}})),
        )
        .await;
    assert_eq!(200, p.code);
    assert_eq!(
        2,
        s.get(&format!("{DEPLOYS}/web")).await.json()["spec"]["replicas"]
    );
    assert_eq!(404, s.get(&format!("{CMS}/x/scale")).await.code);
}

#[tokio::test]
async fn eviction_deletes_and_binding_assigns_a_node() {
    let s = TestServer::start(&[]);
    s.post(PODS, &pod("victim")).await;
    let ev = s
        .post(
            &format!("{PODS}/victim/eviction"),
            &json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "victim"}}),
        )
        .await;
    assert_eq!(201, ev.code);
    assert_eq!("Success", ev.json()["status"]);
    assert_eq!(404, s.get(&format!("{PODS}/victim")).await.code);

    let mut p = pod("waiting");
    p["spec"]["schedulerName"] = json!("my-scheduler");
    let created = s.post(PODS, &p).await.json();
    assert_eq!("Pending", created["status"]["phase"]);
    assert!(created["spec"].get("nodeName").is_none());
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "waiting"}, "target": {"kind": "Node", "name": "node-7"}});
    assert_eq!(
        201,
        s.post(&format!("{PODS}/waiting/binding"), &binding)
            .await
            .code
    );
    let bound = s.get(&format!("{PODS}/waiting")).await.json();
    assert_eq!("node-7", bound["spec"]["nodeName"]);
    // Bound and scheduled; it runs once a kubelet on node-7 starts it.
    assert_eq!("Pending", bound["status"]["phase"]);
    assert_eq!("PodScheduled", bound["status"]["conditions"][0]["type"]);
    assert_eq!("True", bound["status"]["conditions"][0]["status"]);
    let twice = s.post(&format!("{PODS}/waiting/binding"), &binding).await;
    assert_eq!(409, twice.code);
}

#[tokio::test]
async fn ephemeral_containers_and_namespace_finalize() {
    let s = TestServer::start(&[]);
    let p = s.post(PODS, &pod("p")).await.json();
    let mut with = p.clone();
    with["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox"}]);
    with["spec"]["containers"][0]["image"] = json!("changed");
    let r = s
        .put(&format!("{PODS}/p/ephemeralcontainers"), &with)
        .await
        .json();
    assert_eq!("debug", r["spec"]["ephemeralContainers"][0]["name"]);
    assert_eq!(
        "i", r["spec"]["containers"][0]["image"],
        "only ephemeral containers change"
    );

    s.post("/api/v1/namespaces", &json!({"metadata": {"name": "fin"}}))
        .await;
    let mut ns = s.get("/api/v1/namespaces/fin").await.json();
    assert_eq!(json!(["kubernetes"]), ns["spec"]["finalizers"]);
    ns["spec"]["finalizers"] = json!([]);
    let r = s.put("/api/v1/namespaces/fin/finalize", &ns).await.json();
    assert_eq!(json!([]), r["spec"]["finalizers"]);
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let s = TestServer::start(&[]);
    let a = s.configmap("default", "a", json!({})).await;
    let mut changed = a.clone();
    changed["data"] = json!({"k": "dry"});
    let r = s.put(&format!("{CMS}/a?dryRun=All"), &changed).await;
    assert_eq!(200, r.code);
    assert_eq!("dry", r.json()["data"]["k"]);
    let p = s
        .request(
            "PATCH",
            &format!("{CMS}/a?dryRun=All"),
            Some(&json!({"data": {"k": "patched"}})),
        )
        .await;
    assert_eq!("patched", p.json()["data"]["k"]);
    let now = s.get(&format!("{CMS}/a")).await.json();
    assert_eq!("v", now["data"]["k"]);
    assert_eq!(
        a["metadata"]["resourceVersion"],
        now["metadata"]["resourceVersion"]
    );
    let bad = s
        .post(
            &format!("{CMS}?dryRun=Some"),
            &json!({"metadata": {"name": "b"}}),
        )
        .await;
    assert_eq!(400, bad.code);
}

#[tokio::test]
async fn viewer_is_forbidden_with_the_real_wording() {
    let mut s = TestServer::start(&[]);
    s.token = s.viewer_token.clone();
    let r = s.delete(&format!("{CMS}/x")).await;
    assert_eq!(403, r.code);
    assert_eq!(
        "configmaps \"x\" is forbidden: User \"viewer\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"default\"",
        r.json()["message"]
    );
    assert_eq!(200, s.get(CMS).await.code);
}

/// Protobuf field `n` (length-delimited) holding `bytes`.
fn pb_field(n: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![n << 3 | 2, bytes.len() as u8];
    out.extend_from_slice(bytes);
    out
}

/// `kubectl create configmap pb --from-literal=a=1` as kubectl 1.32 sends it:
/// the `k8s\0` envelope, a runtime.Unknown with apiVersion/kind and the
/// ConfigMap message.
fn protobuf_configmap() -> Vec<u8> {
    let meta = pb_field(1, b"pb");
    let entry = [pb_field(1, b"a"), pb_field(2, b"1")].concat();
    let cm = [pb_field(1, &meta), pb_field(2, &entry)].concat();
    let type_meta = [pb_field(1, b"v1"), pb_field(2, b"ConfigMap")].concat();
    let unknown = [pb_field(1, &type_meta), pb_field(2, &cm)].concat();
    [b"k8s\x00".to_vec(), unknown].concat()
}

#[tokio::test]
async fn protobuf_bodies_are_decoded_and_answered_in_json() {
    let s = TestServer::start(&[]);
    let r = s
        .send_raw(
            "POST",
            CMS,
            "application/vnd.kubernetes.protobuf",
            protobuf_configmap(),
        )
        .await;
    assert_eq!(201, r.code, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!("pb", r.json()["metadata"]["name"]);
    assert_eq!("1", r.json()["data"]["a"]);
    assert_eq!("ConfigMap", r.json()["kind"]);
    assert_eq!("1", s.get(&format!("{CMS}/pb")).await.json()["data"]["a"]);
}

#[tokio::test]
async fn bodies_other_than_json_yaml_or_protobuf_are_415() {
    let s = TestServer::start(&[]);
    let cut = s
        .send_raw(
            "POST",
            CMS,
            "application/vnd.kubernetes.protobuf",
            b"k8s\x00\x0a".to_vec(),
        )
        .await;
    assert_eq!(400, cut.code);
    assert_eq!("BadRequest", cut.json()["reason"]);
    let r = s
        .send_raw("POST", CMS, "application/cbor", b"\xa0".to_vec())
        .await;
    assert_eq!(415, r.code);
    assert_eq!("UnsupportedMediaType", r.json()["reason"]);
    let yaml = s
        .send_raw(
            "POST",
            CMS,
            "application/yaml",
            b"metadata: {name: from-yaml}\ndata: {a: '1'}\n".to_vec(),
        )
        .await;
    assert_eq!(201, yaml.code);
}

#[tokio::test]
async fn seeded_objects_keep_their_status() {
    let dir = TempDir(std::env::temp_dir().join(format!("kts-seed-status-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let seed = dir.0.join("seed.yaml");
    let mut d = deployment("seeded");
    d["metadata"]["namespace"] = json!("default");
    d["status"] = json!({"replicas": 1, "readyReplicas": 1});
    std::fs::write(&seed, serde_json::to_string(&d).unwrap()).unwrap();
    let s = TestServer::start(&["--seed", seed.to_str().unwrap()]);
    let got = s.get(&format!("{DEPLOYS}/seeded")).await.json();
    assert_eq!(1, got["status"]["readyReplicas"]);
}

#[tokio::test]
async fn services_get_a_cluster_ip_and_spec_defaults() {
    let s = TestServer::start(&[]);
    let svcs = "/api/v1/namespaces/default/services";
    let svc = json!({"metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let a = s.post(svcs, &svc).await.json();
    let ip = a["spec"]["clusterIP"].as_str().unwrap().to_string();
    assert!(ip.starts_with("10.96."), "{ip}");
    assert_eq!(json!([ip]), a["spec"]["clusterIPs"]);
    assert_eq!("ClusterIP", a["spec"]["type"]);
    assert_eq!(
        json!({"port": 80, "protocol": "TCP", "targetPort": 80}),
        a["spec"]["ports"][0]
    );
    let mut other = svc.clone();
    other["metadata"]["name"] = json!("api");
    let b = s.post(svcs, &other).await.json();
    assert_ne!(a["spec"]["clusterIP"], b["spec"]["clusterIP"]);
    let mut headless = svc.clone();
    headless["metadata"]["name"] = json!("db");
    headless["spec"]["clusterIP"] = json!("None");
    let h = s.post(svcs, &headless).await.json();
    assert_eq!("None", h["spec"]["clusterIP"]);
    let ext = json!({"metadata": {"name": "ext"},
        "spec": {"type": "ExternalName", "externalName": "example.com"}});
    let e = s.post(svcs, &ext).await.json();
    assert!(e["spec"].get("clusterIP").is_none());
}

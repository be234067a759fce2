//! The simulated cluster over HTTPS, controller by controller: what a client
//! sees after its writes (scheduler and kubelet, Deployment → ReplicaSet →
//! pods, garbage collection by policy, namespaces, Jobs, endpoints, the
//! clock and CronJobs, switching controllers off).

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PODS: &str = "/api/v1/namespaces/default/pods";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const RS: &str = "/apis/apps/v1/namespaces/default/replicasets";

fn cluster(extra: &[&str]) -> TestServer {
    let mut args = vec!["--controllers", "all", "--nodes", "2", "--speed", "0"];
    args.extend(extra);
    TestServer::start(&args)
}

/// Polls GET `path` until `ok` holds for its JSON, failing after 10 s.
async fn until(s: &TestServer, path: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = s.get(path).await;
        if r.code == 200 && ok(&r.json()) {
            return r.json();
        }
        assert!(
            Instant::now() < deadline,
            "timed out on {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
}

/// Creates Deployment NAME with REPLICAS pods and waits until they are all
/// available; the Deployment as it is then.
async fn rolled_out(s: &TestServer, name: &str, replicas: i64) -> Value {
    assert_eq!(201, s.post(DEPLOYS, &deployment(name, replicas)).await.code);
    until(s, &format!("{DEPLOYS}/{name}"), |d| {
        d["status"]["availableReplicas"] == replicas
    })
    .await
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn scheduler_and_kubelet_run_a_pod_on_a_node() {
    let s = cluster(&[]);
    let created = s
        .post(PODS, &json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}))
        .await
        .json();
    assert_eq!("Pending", created["status"]["phase"]);
    let p = until(&s, &format!("{PODS}/p"), |p| {
        p["status"]["phase"] == "Running"
    })
    .await;
    let node = p["spec"]["nodeName"].as_str().unwrap();
    assert!(node == "node-1" || node == "node-2");
    let ip = p["status"]["podIP"].as_str().unwrap();
    let cidr = if node == "node-1" {
        "10.244.0."
    } else {
        "10.244.1."
    };
    assert!(ip.starts_with(cidr), "{ip} on {node}");
    assert_eq!(true, p["status"]["containerStatuses"][0]["ready"]);
    let conds: Vec<&str> = p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert!(
        conds.contains(&"Ready") && conds.contains(&"PodScheduled"),
        "{conds:?}"
    );

    // No node matches: Pending, PodScheduled=False, FailedScheduling.
    s.post(
        PODS,
        &json!({"metadata": {"name": "nowhere"}, "spec": {"nodeSelector": {"disk": "ssd"},
        "containers": [{"name": "c", "image": "i"}]}}),
    )
    .await;
    let p = until(&s, &format!("{PODS}/nowhere"), |p| {
        p["status"]["conditions"][0]["reason"] == "Unschedulable"
    })
    .await;
    assert_eq!("Pending", p["status"]["phase"]);
    let evs = until(
        &s,
        "/api/v1/namespaces/default/events?fieldSelector=reason%3DFailedScheduling",
        |l| !items(l).is_empty(),
    )
    .await;
    assert_eq!(
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        items(&evs)[0]["message"]
    );
}

#[tokio::test]
async fn deployment_rolls_out_and_rolls_over() {
    let s = cluster(&[]);
    let d = rolled_out(&s, "web", 3).await;
    assert_eq!(
        d["metadata"]["generation"],
        d["status"]["observedGeneration"]
    );
    assert_eq!(
        "1",
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    );
    let rs = items(&s.get(RS).await.json());
    assert_eq!(1, rs.len());
    let hash = rs[0]["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(format!("web-{hash}"), rs[0]["metadata"]["name"]);

    let mut changed = d.clone();
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    assert_eq!(200, s.put(&format!("{DEPLOYS}/web"), &changed).await.code);
    let d = until(&s, &format!("{DEPLOYS}/web"), |d| {
        d["status"]["updatedReplicas"] == 3
            && d["status"]["availableReplicas"] == 3
            && d["status"]["replicas"] == 3
            && d["status"]["observedGeneration"] == 2
    })
    .await;
    assert_eq!(
        "2",
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    );
    let rs = items(&s.get(RS).await.json());
    assert_eq!(2, rs.len());
    let replicas: Vec<i64> = rs
        .iter()
        .map(|r| r["spec"]["replicas"].as_i64().unwrap())
        .collect();
    assert!(
        replicas.contains(&0) && replicas.contains(&3),
        "{replicas:?}"
    );
    let reasons: Vec<String> = items(
        &s.get("/api/v1/namespaces/default/events?fieldSelector=reason%3DScalingReplicaSet")
            .await
            .json(),
    )
    .iter()
    .map(|e| e["message"].as_str().unwrap().to_string())
    .collect();
    assert!(
        reasons
            .iter()
            .any(|m| m.starts_with("Scaled down replica set web-")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn garbage_collector_follows_the_propagation_policy() {
    let s = cluster(&[]);
    rolled_out(&s, "keep", 2).await;
    let r = s
        .request(
            "DELETE",
            &format!("{DEPLOYS}/keep"),
            Some(&json!({"propagationPolicy": "Orphan"})),
        )
        .await;
    assert_eq!(200, r.code);
    until(&s, RS, |l| {
        items(l).len() == 1 && items(l)[0]["metadata"]["ownerReferences"].is_null()
    })
    .await;
    assert_eq!(404, s.get(&format!("{DEPLOYS}/keep")).await.code);

    rolled_out(&s, "gone", 2).await;
    let r = s
        .request(
            "DELETE",
            &format!("{DEPLOYS}/gone"),
            Some(&json!({"propagationPolicy": "Foreground"})),
        )
        .await
        .json();
    assert_eq!(
        json!(["foregroundDeletion"]),
        r["metadata"]["finalizers"],
        "{r}"
    );
    until(&s, &format!("{PODS}?labelSelector=app%3Dgone"), |l| {
        items(l).is_empty()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.get(&format!("{DEPLOYS}/gone")).await.code != 404 {
        assert!(Instant::now() < deadline, "the owner stayed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Background (the default): the orphaned ReplicaSet's pods go with it.
    let rs = items(&s.get(RS).await.json());
    let name = rs[0]["metadata"]["name"].as_str().unwrap();
    assert_eq!(200, s.delete(&format!("{RS}/{name}")).await.code);
    until(&s, &format!("{PODS}?labelSelector=app%3Dkeep"), |l| {
        items(l).is_empty()
    })
    .await;
}

#[tokio::test]
async fn namespaces_get_their_service_account_and_root_ca() {
    let s = cluster(&[]);
    s.post("/api/v1/namespaces", &json!({"metadata": {"name": "team"}}))
        .await;
    until(
        &s,
        "/api/v1/namespaces/team/serviceaccounts/default",
        |_| true,
    )
    .await;
    let cm = until(
        &s,
        "/api/v1/namespaces/team/configmaps/kube-root-ca.crt",
        |_| true,
    )
    .await;
    assert!(cm["data"]["ca.crt"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    // Deleted: made again.
    s.delete("/api/v1/namespaces/team/serviceaccounts/default")
        .await;
    until(
        &s,
        "/api/v1/namespaces/team/serviceaccounts/default",
        |_| true,
    )
    .await;
}

#[tokio::test]
async fn jobs_complete_and_services_get_endpoints() {
    let s = cluster(&[]);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"completions": 2, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "echo ok"]}]}}}});
    assert_eq!(
        201,
        s.post("/apis/batch/v1/namespaces/default/jobs", &job)
            .await
            .code
    );
    let j = until(&s, "/apis/batch/v1/namespaces/default/jobs/j", |j| {
        j["status"]["succeeded"] == 2
    })
    .await;
    let types: Vec<&str> = j["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(vec!["SuccessCriteriaMet", "Complete"], types);

    s.post(DEPLOYS, &deployment("web", 2)).await;
    s.post(
        "/api/v1/namespaces/default/services",
        &json!({"metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
    )
    .await;
    let ep = until(&s, "/api/v1/namespaces/default/endpoints/web", |e| {
        e["subsets"][0]["addresses"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
    })
    .await;
    assert_eq!(8080, ep["subsets"][0]["ports"][0]["port"]);
    let slices = until(&s, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb", |l| {
        items(l).len() == 1 && items(l)[0]["endpoints"].as_array().is_some_and(|e| e.len() == 2)
    })
    .await;
    assert_eq!(
        "Service",
        items(&slices)[0]["metadata"]["ownerReferences"][0]["kind"]
    );
}

#[tokio::test]
async fn cronjobs_run_when_the_clock_moves() {
    let s = cluster(&[]);
    let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
        "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox"}]}}}}}});
    assert_eq!(
        201,
        s.post("/apis/batch/v1/namespaces/default/cronjobs", &cj)
            .await
            .code
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(items(&s.get("/apis/batch/v1/namespaces/default/jobs").await.json()).is_empty());
    let r = s
        .post("/testserver/clock", &json!({"advanceSeconds": 3600}))
        .await;
    assert_eq!(200, r.code);
    assert_eq!(3600.0, r.json()["offsetSeconds"]);
    let jobs = until(&s, "/apis/batch/v1/namespaces/default/jobs", |l| {
        items(l).len() == 1
    })
    .await;
    assert!(items(&jobs)[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("tick-"));
    assert_eq!(
        400,
        s.post("/testserver/clock", &json!({"advanceSeconds": -1}))
            .await
            .code
    );
}

#[tokio::test]
async fn controllers_switch_off() {
    let s = TestServer::start(&["--controllers", "namespace", "--nodes", "1"]);
    s.post(DEPLOYS, &deployment("web", 1)).await;
    s.post(
        PODS,
        &json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        items(&s.get(RS).await.json()).is_empty(),
        "no deployment controller"
    );
    let p = s.get(&format!("{PODS}/p")).await.json();
    assert!(p["spec"]["nodeName"].is_null(), "no scheduler");
    assert_eq!(
        200,
        s.get("/api/v1/namespaces/default/serviceaccounts/default")
            .await
            .code
    );
}

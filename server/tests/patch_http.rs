//! PATCH over HTTPS against the real kube-testserver binary: every patch
//! type, server-side apply with conflicts and force, and the errors.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// A running server and an HTTPS client for it (admin token, verified CA).
struct TestServer {
    child: Child,
    port: u16,
    token: String,
    tls: Arc<rustls::ClientConfig>,
    _dir: TempDir,
}

/// A scratch directory removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Response {
    code: u16,
    body: Value,
}

impl TestServer {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "kube-testserver-patch-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let kubeconfig = dir.join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kube-testserver"))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            // A bare API server: no deployment controller writes status here.
            .args(["--controllers", "none"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start kube-testserver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("ready line");
        let port: u16 = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let config: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&kubeconfig).expect("kubeconfig"))
                .expect("kubeconfig yaml");
        use base64::Engine;
        let ca_pem = base64::engine::general_purpose::STANDARD
            .decode(
                config["clusters"][0]["cluster"]["certificate-authority-data"]
                    .as_str()
                    .expect("CA data"),
            )
            .expect("CA base64");
        let token = config["users"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["name"] == "admin"))
            .and_then(|u| u["user"]["token"].as_str())
            .expect("admin token")
            .to_string();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(&ca_pem).expect("CA pem"))
            .expect("CA cert");
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        TestServer {
            child,
            port,
            token,
            tls: Arc::new(tls),
            _dir: TempDir(dir),
        }
    }

    fn request(&self, method: &str, path: &str, content_type: &str, body: &str) -> Response {
        let server_name = ServerName::try_from("127.0.0.1").expect("server name");
        let conn = rustls::ClientConnection::new(self.tls.clone(), server_name).expect("tls");
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: {content_type}\r\nAccept: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.token,
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("send head");
        stream.write_all(body.as_bytes()).expect("send body");
        let mut raw = Vec::new();
        // The server may close without close_notify; what arrived is whole.
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status code");
        Response {
            code,
            body: serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
        }
    }

    fn patch(&self, path: &str, content_type: &str, body: &str) -> Response {
        self.request("PATCH", path, content_type, body)
    }

    fn create(&self, collection: &str, obj: &Value) -> Value {
        let r = self.request("POST", collection, "application/json", &obj.to_string());
        assert_eq!(r.code, 201, "create: {}", r.body);
        r.body
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const SMP: &str = "application/strategic-merge-patch+json";
const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";
const APPLY: &str = "application/apply-patch+yaml";

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
                    {"name": "log", "image": "busybox"}
                ]}
            }
        }
    })
}

fn container_names(d: &Value) -> Vec<String> {
    d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn manager<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == name)
}

#[test]
fn strategic_merge_patch_merges_by_keys_with_directives() {
    let s = TestServer::start();
    s.create(DEPLOYMENTS, &deployment("smp"));
    let path = format!("{DEPLOYMENTS}/smp?fieldManager=kubectl-patch");
    let r = s.patch(
        &path,
        SMP,
        r#"{"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"side"},{"name":"web"},{"name":"log"}],
            "containers":[
                {"name":"web","image":"nginx:2","env":[{"name":"B","value":"2"}]},
                {"name":"side","image":"envoy"}
            ]}}}}"#,
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(container_names(&r.body), ["side", "web", "log"]);
    let web = &r.body["spec"]["template"]["spec"]["containers"][1];
    assert_eq!(web["image"], "nginx:2");
    assert_eq!(
        web["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    let entry = manager(&r.body, "kubectl-patch").expect("update entry");
    assert_eq!(entry["operation"], "Update");

    let r = s.patch(
        &path,
        SMP,
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"log","$patch":"delete"}]}}}}"#,
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(container_names(&r.body), ["side", "web"]);

    let got = s.request("GET", &format!("{DEPLOYMENTS}/smp"), "", "");
    assert_eq!(container_names(&got.body), ["side", "web"], "stored");
}

#[test]
fn json_and_merge_patches_and_their_errors() {
    let s = TestServer::start();
    s.create(DEPLOYMENTS, &deployment("jp"));
    let path = format!("{DEPLOYMENTS}/jp");
    let r = s.patch(
        &path,
        JSON_PATCH,
        r#"[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":3}]"#,
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["spec"]["replicas"], 3);

    let r = s.patch(
        &path,
        JSON_PATCH,
        r#"[{"op":"test","path":"/spec/replicas","value":1}]"#,
    );
    assert_eq!(r.code, 422, "{}", r.body);
    assert_eq!(r.body["kind"], "Status");
    assert_eq!(r.body["reason"], "Invalid");
    assert_eq!(
        r.body["message"],
        "the server rejected our request due to an error in our request"
    );

    let r = s.patch(
        &path,
        MERGE,
        r#"{"metadata":{"labels":{"app":null,"x":"y"}}}"#,
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["metadata"]["labels"], json!({"x": "y"}));

    let r = s.patch(&path, MERGE, "{oops");
    assert_eq!(
        (r.code, r.body["reason"].as_str()),
        (400, Some("BadRequest"))
    );

    let r = s.patch(&path, "text/plain", "{}");
    assert_eq!(r.code, 415, "{}", r.body);
    assert_eq!(r.body["reason"], "UnsupportedMediaType");

    let r = s.patch(&format!("{DEPLOYMENTS}/missing"), MERGE, "{}");
    assert_eq!(r.code, 404, "{}", r.body);
    assert_eq!(r.body["message"], "deployments.apps \"missing\" not found");
}

#[test]
fn server_side_apply_creates_conflicts_and_forces() {
    let s = TestServer::start();
    let config = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {"team": "a"}},
        "data": {"mode": "fast", "level": "1"}
    });
    let cms = "/api/v1/namespaces/default/configmaps";

    let r = s.patch(&format!("{cms}/cfg"), APPLY, &config.to_string());
    assert_eq!(r.code, 422, "fieldManager is required: {}", r.body);

    let r = s.patch(
        &format!("{cms}/cfg?fieldManager=alice"),
        APPLY,
        &config.to_string(),
    );
    assert_eq!(r.code, 201, "{}", r.body);
    assert!(r.body["metadata"]["uid"].is_string());
    let alice = manager(&r.body, "alice").expect("alice's entry");
    assert_eq!(alice["operation"], "Apply");
    assert_eq!(alice["fieldsType"], "FieldsV1");
    assert_eq!(
        alice["fieldsV1"],
        json!({"f:data": {"f:level": {}, "f:mode": {}}, "f:metadata": {"f:labels": {"f:team": {}}}})
    );

    // Bob changes a value alice owns: 409 with the real message and causes.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  mode: slow\n";
    let r = s.patch(&format!("{cms}/cfg?fieldManager=bob"), APPLY, yaml);
    assert_eq!(r.code, 409, "{}", r.body);
    assert_eq!(r.body["reason"], "Conflict");
    assert_eq!(
        r.body["message"],
        "Apply failed with 1 conflict: conflict with \"alice\": .data.mode"
    );
    assert_eq!(
        r.body["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".data.mode"}])
    );

    // Forced, bob owns it now.
    let r = s.patch(
        &format!("{cms}/cfg?fieldManager=bob&force=true"),
        APPLY,
        yaml,
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["data"]["mode"], "slow");
    assert_eq!(
        manager(&r.body, "bob").expect("bob")["fieldsV1"],
        json!({"f:data": {"f:mode": {}}})
    );
    assert!(
        manager(&r.body, "alice").expect("alice")["fieldsV1"]["f:data"]
            .get("f:mode")
            .is_none()
    );

    // Alice stops applying `level`: nobody else owns it, so it goes.
    let smaller = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {"team": "a"}}
    });
    let r = s.patch(
        &format!("{cms}/cfg?fieldManager=alice"),
        APPLY,
        &smaller.to_string(),
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["data"], json!({"mode": "slow"}));

    // dryRun changes nothing.
    let r = s.patch(
        &format!("{cms}/cfg?fieldManager=bob&dryRun=All"),
        APPLY,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  mode: dry\n",
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["data"]["mode"], "dry");
    let got = s.request("GET", &format!("{cms}/cfg"), "", "");
    assert_eq!(got.body["data"]["mode"], "slow");
}

#[test]
fn status_subresource_patch_changes_only_status() {
    let s = TestServer::start();
    s.create(DEPLOYMENTS, &deployment("st"));
    let r = s.patch(
        &format!("{DEPLOYMENTS}/st/status"),
        MERGE,
        r#"{"spec":{"replicas":9},"status":{"readyReplicas":1}}"#,
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["status"]["readyReplicas"], 1);
    assert_eq!(r.body["spec"]["replicas"], 1);
    let r = s.patch(
        &format!("{DEPLOYMENTS}/st/status"),
        SMP,
        r#"{"status":{"conditions":[{"type":"Available","status":"True"}]}}"#,
    );
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["status"]["readyReplicas"], 1);
    assert_eq!(r.body["status"]["conditions"][0]["type"], "Available");
}

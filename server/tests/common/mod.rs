//! Test harness: starts the real kube-testserver binary and talks HTTPS to
//! it, verifying the server against the CA from the kubeconfig it writes.
#![allow(dead_code)] // each test file uses a different part of the harness

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

pub struct TestServer {
    child: Child,
    pub url: String,
    pub port: u16,
    pub token: String,
    pub viewer_token: String,
    tls: tokio_rustls::TlsConnector,
    _dir: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kubeconfig_value<'a>(text: &'a str, after: &str, key: &str) -> &'a str {
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("{after} not in kubeconfig"));
    let rest = &text[start..];
    let at = rest
        .find(key)
        .unwrap_or_else(|| panic!("{key} not in kubeconfig"))
        + key.len();
    rest[at..].split(['}', '\n', ',']).next().unwrap().trim()
}

/// What an HTTP exchange gave back.
pub struct Resp {
    pub code: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A response read to its end.
async fn whole(resp: hyper::Response<hyper::body::Incoming>) -> Result<Resp, String> {
    let code = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes()
        .to_vec();
    Ok(Resp {
        code,
        headers,
        body,
    })
}

/// A streamed response read line by line.
pub struct Lines {
    body: hyper::body::Incoming,
    buf: Vec<u8>,
    pub code: u16,
}

impl Lines {
    /// The next line, or None at the end of the stream or after `wait`.
    pub async fn next_line(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()?;
            match frame {
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                    }
                }
                _ => return None,
            }
        }
    }

    /// The next watch event as JSON (panics after `wait`).
    pub async fn event(&mut self, wait: Duration) -> Value {
        let line = self
            .next_line(wait)
            .await
            .expect("a watch event before the timeout");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("event not JSON ({e}): {line}"))
    }

    /// Whether the stream ended (rather than stalling) within `wait`.
    pub async fn ended(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                    }
                }
            }
        }
    }
}

pub const SECOND: Duration = Duration::from_secs(1);

impl TestServer {
    /// Starts the server as a bare API server (`--controllers none`, as
    /// envtest runs kube-apiserver): these tests check what the API server
    /// itself answers. Tests of the simulated cluster pass `--controllers`.
    pub fn start(args: &[&str]) -> TestServer {
        let mut args = args.to_vec();
        if !args.contains(&"--controllers") {
            args.extend(["--controllers", "none"]);
        }
        let dir = std::env::temp_dir().join(format!(
            "kts-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let kc = dir.join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kube-testserver"))
            .args(["--port", "0", "--kubeconfig"])
            .arg(&kc)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start kube-testserver");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("no ready line: {line:?}"))
            .to_string();
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        let text = std::fs::read_to_string(&kc).unwrap();
        let ca = base64::engine::general_purpose::STANDARD
            .decode(kubeconfig_value(
                &text,
                "cluster:",
                "certificate-authority-data:",
            ))
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&ca) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        TestServer {
            child,
            url,
            port,
            token: kubeconfig_value(&text, "name: admin\n", "token:").to_string(),
            viewer_token: kubeconfig_value(&text, "name: viewer\n", "token:").to_string(),
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            _dir: TempDir(dir),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, String> {
        self.send_with(method, path, content_type, body, "application/json")
            .await
    }

    /// A request with a body of `content_type`, accepting `accept`.
    async fn send_with(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        accept: &str,
    ) -> Result<hyper::Response<hyper::body::Incoming>, String> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("Host", "127.0.0.1")
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", content_type)
            .header("Accept", accept)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        sender.send_request(req).await.map_err(|e| e.to_string())
    }

    /// A request whose failure (connection reset, cut body) is the result.
    pub async fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Resp, String> {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let ct = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let resp = self.send(method, path, ct, body).await?;
        whole(resp).await
    }

    pub async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.try_request(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.request("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.request("PUT", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.request("DELETE", path, None).await
    }

    /// A request with a body of any content type.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let resp = self
            .send(method, path, content_type, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        whole(resp)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Posts log lines for a container.
    pub async fn append_log(&self, ns: &str, pod: &str, container: &str, text: &str) {
        let r = self
            .send(
                "POST",
                &format!("/testserver/logs/{ns}/{pod}/{container}"),
                "text/plain",
                text.as_bytes().to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(200, r.status().as_u16());
    }

    /// A GET whose answer is asked for in the media types of `accept`.
    pub async fn get_accepting(&self, path: &str, accept: &str) -> Resp {
        let resp = self
            .send_with("GET", path, "application/json", vec![], accept)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        whole(resp)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Opens a streamed GET (watch, follow).
    pub async fn stream(&self, path: &str) -> Lines {
        self.stream_accepting(path, "application/json").await
    }

    /// Opens a streamed GET whose events are asked for as `accept`.
    pub async fn stream_accepting(&self, path: &str, accept: &str) -> Lines {
        let resp = self
            .send_with("GET", path, "application/json", vec![], accept)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Lines {
            code: resp.status().as_u16(),
            body: resp.into_body(),
            buf: vec![],
        }
    }

    /// Creates a ConfigMap in `ns` and returns it.
    pub async fn configmap(&self, ns: &str, name: &str, labels: Value) -> Value {
        let r = self
            .post(
                &format!("/api/v1/namespaces/{ns}/configmaps"),
                &serde_json::json!({"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}),
            )
            .await;
        assert_eq!(201, r.code, "{}", String::from_utf8_lossy(&r.body));
        r.json()
    }
}

pub fn rv_of(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .parse()
        .unwrap()
}

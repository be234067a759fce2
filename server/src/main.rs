//! kube-testserver: a stand-in Kubernetes API server over HTTPS for tests.
//!
//! `kube-testserver [--port N] [--kubeconfig PATH] [--seed FILE]...
//! [--watch-history N] [--bookmark-interval-ms MS] [--exec-dir DIR | --no-exec]` prints
//! `ready https://127.0.0.1:PORT` once it serves and stops on SIGTERM/SIGINT.

// An ApiError carries a whole Status; requests fail rarely, so its size on
// the error path does not matter.
#![allow(clippy::result_large_err)]

// The floor plan: one folder per concern (server/ARCHITECTURE.md).
mod auth;
mod controllers;
mod crd;
mod discovery;
mod http;
mod patch;
mod printers;
mod storage;
mod streams;
mod test_aids;
mod types;
mod watch;

// Each room's modules by their short names, so `crate::store`, `crate::api`
// … name the same module wherever it is used.
use auth::{authz, identity, tls};
use discovery::openapi;
use http::{api, body, reply, request};
use printers::partial;
use storage::{
    builtins, lifecycle, pods, registry, resources, rest, selectors, store, subresources,
    validation,
};
use test_aids::{faults, firehose, logs};
use types::{defaults, field_validation, protobuf, rules};
use watch::list_stream;

use api::Server;
use base64::Engine;
use http_body_util::BodyExt;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use identity::Users;
use request::Incoming;
use std::io::Write;
use std::sync::{Arc, Mutex};

struct Args {
    port: u16,
    kubeconfig: Option<String>,
    seeds: Vec<String>,
    watch_history: usize,
    identity: Option<String>,
    data: Option<String>,
    nodes: u32,
    controllers: std::collections::BTreeSet<&'static str>,
    event_ttl: f64,
    /// Where exec/attach run processes (`None` with `--no-exec`).
    exec_dir: Option<Option<std::path::PathBuf>>,
}

const USAGE: &str = "usage: kube-testserver [--port N] [--kubeconfig PATH] [--seed FILE]... [--watch-history N] [--bookmark-interval-ms MS] [--identity FILE] [--data FILE] [--nodes N] [--controllers all|none|a,b,-c] [--speed F] [--event-ttl DURATION] [--exec-dir DIR | --no-exec]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        port: 0,
        kubeconfig: None,
        seeds: vec![],
        watch_history: store::DEFAULT_HISTORY,
        identity: None,
        data: None,
        nodes: 1,
        controllers: controllers::parse_list("all")?,
        event_ttl: controllers::event_ttl::DEFAULT_TTL_SECS,
        exec_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => a.port = val()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--kubeconfig" => a.kubeconfig = Some(val()?),
            "--seed" => a.seeds.push(val()?),
            "--identity" => a.identity = Some(val()?),
            "--data" => a.data = Some(val()?),
            "--nodes" => a.nodes = val()?.parse().map_err(|e| format!("--nodes: {e}"))?,
            "--controllers" => a.controllers = controllers::parse_list(&val()?)?,
            "--event-ttl" => {
                a.event_ttl =
                    controllers::parse_duration(&val()?).map_err(|e| format!("--event-ttl: {e}"))?
            }
            "--speed" => {
                let v = val()?;
                let f: f64 = v.parse().map_err(|e| format!("--speed: {e}"))?;
                controllers::clock::set_speed(f).map_err(|e| format!("--speed: {e}"))?
            }
            "--exec-dir" => a.exec_dir = Some(Some(val()?.into())),
            "--no-exec" => a.exec_dir = Some(None),
            "--watch-history" => {
                a.watch_history = val()?
                    .parse()
                    .map_err(|e| format!("--watch-history: {e}"))?
            }
            "--bookmark-interval-ms" => watch::set_bookmark_interval(
                val()?
                    .parse()
                    .map_err(|e| format!("--bookmark-interval-ms: {e}"))?,
            ),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn kubeconfig(url: &str, pki: &tls::Pki, users: &Users) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1
kind: Config
current-context: testserver
clusters:
- name: testserver
  cluster:
    server: {url}
    certificate-authority-data: {ca}
contexts:
- name: testserver
  context: {{cluster: testserver, user: admin, namespace: default}}
- name: testserver-cert
  context: {{cluster: testserver, user: admin-cert}}
- name: testserver-basic
  context: {{cluster: testserver, user: admin-basic}}
- name: testserver-readonly
  context: {{cluster: testserver, user: viewer}}
users:
- name: admin
  user: {{token: {admin}}}
- name: admin-cert
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
- name: admin-basic
  user: {{username: {bu}, password: {bp}}}
- name: viewer
  user: {{token: {viewer}}}
",
        ca = b64(&pki.ca_pem),
        admin = users.admin_token,
        cert = b64(&pki.client_cert_pem),
        key = b64(&pki.client_key_pem),
        bu = users.basic_user,
        bp = users.basic_password,
        viewer = users.viewer_token,
    )
}

fn seed(server: &Server, files: &[String]) -> Result<(), String> {
    let mut docs = builtins::documents();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("--seed {f}: {e}"))?;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: serde_json::Value =
                serde::Deserialize::deserialize(doc).map_err(|e| format!("--seed {f}: {e}"))?;
            if v.is_object() {
                docs.push(v);
            }
        }
    }
    for d in docs {
        let (gv, kind) = (
            d["apiVersion"].as_str().unwrap_or("").to_string(),
            d["kind"].as_str().unwrap_or("").to_string(),
        );
        let res = registry::find_kind(&gv, &kind)
            .ok_or_else(|| format!("seed: unknown kind {gv}/{kind}"))?;
        let ns = if res.namespaced {
            d["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        // Seeds keep the status they bring (a created object's status is
        // otherwise the server's): they stand for what controllers would do.
        let opts = rest::CreateOptions {
            dry_run: false,
            keep_status: true,
        };
        // As after an etcd restore: a seed of an object the server made
        // itself (a built-in namespace) replaces it, keeping its status.
        let name = d["metadata"]["name"].as_str().unwrap_or("").to_string();
        let mut st = server.lock();
        let made = if !name.is_empty() && rest::get(&st, res, &ns, &name).is_ok() {
            rest::update(&mut st, res, &ns, &name, d.clone(), None, false).and_then(|_| {
                match d.get("status") {
                    Some(status) if res.status => {
                        let mut cur = rest::get(&st, res, &ns, &name)?;
                        cur["status"] = status.clone();
                        rest::update(&mut st, res, &ns, &name, cur, Some("status"), false)
                    }
                    _ => Ok(json_null()),
                }
            })
        } else {
            rest::create(&mut st, res, &ns, d, opts)
        };
        made.map_err(|e| format!("seed: creating {kind} {gv}: {}", e.message))?;
    }
    Ok(())
}

fn json_null() -> serde_json::Value {
    serde_json::Value::Null
}

/// Registers the nodes and starts the controllers, once what is stored has
/// settled (seeded pods run, Deployments have their pods) as on a cluster
/// that has been up for a while.
fn start_cluster(server: &Server, nodes: u32) -> Result<(), String> {
    let mut st = server.lock();
    controllers::nodes::register(&mut st, nodes)?;
    let mut runner = controllers::runner::Runner::new(&mut st);
    drop(st);
    runner.settle(&server.store, std::time::Duration::from_secs(5));
    tokio::spawn(runner.run(server.store.clone()));
    Ok(())
}

/// Loads what `keep_data` wrote, and serves the CRDs among it again.
fn restore(server: &Server, bytes: &[u8]) -> Result<(), String> {
    let snap: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("--data: {e}"))?;
    let mut st = server.lock();
    st.restore(&snap).map_err(|e| format!("--data: {e}"))?;
    for ((group, plural, _, _), obj) in &st.objects {
        if group == "apiextensions.k8s.io" && plural == "customresourcedefinitions" {
            registry::register_crd(obj);
        }
    }
    Ok(())
}

/// Writes the store to the `--data` file on shutdown (owner-only: it holds secrets).
fn keep_data(server: &Server, path: Option<&str>) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let Some(path) = path else { return Ok(()) };
    let snap = server.lock().snapshot();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(snap.to_string().as_bytes()))
        .map_err(|e| format!("--data {path}: {e}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("kube-testserver: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    if let Some(dir) = args.exec_dir.clone() {
        streams::configure(dir);
    }
    let (pki, users) = match &args.identity {
        Some(path) => identity::load_or_create(path)?,
        None => identity::generate()?,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("listen: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let url = format!("https://127.0.0.1:{port}");
    if let Some(path) = &args.kubeconfig {
        std::fs::write(path, kubeconfig(&url, &pki, &users))
            .map_err(|e| format!("--kubeconfig {path}: {e}"))?;
    }
    let server = Arc::new(Server {
        store: Arc::new(Mutex::new(store::Store::new(args.watch_history))),
        users,
        faults: Default::default(),
        firehose: Default::default(),
    });
    controllers::configure(controllers::Settings {
        enabled: args.controllers.clone(),
        ca_pem: pki.ca_pem.clone(),
        event_ttl_secs: args.event_ttl,
    });
    // Kept data stands for etcd: a restarted server goes on where it stopped.
    match args.data.as_deref().map(std::fs::read) {
        Some(Ok(bytes)) => restore(&server, &bytes)?,
        _ => seed(&server, &args.seeds)?,
    }
    start_cluster(&server, args.nodes)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config.clone());
    println!("ready {url}");
    let _ = std::io::stdout().flush();

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r { Ok(c) => c, Err(_) => continue },
            _ = term.recv() => return keep_data(&server, args.data.as_deref()),
            _ = tokio::signal::ctrl_c() => return keep_data(&server, args.data.as_deref()),
        };
        // Small TLS and HTTP writes must not wait for the peer's delayed ACK (40 ms).
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve_connection(tcp, acceptor.clone(), server.clone()));
    }
}

/// One TLS connection; requests on it may be hit by injected faults.
async fn serve_connection(
    tcp: tokio::net::TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    server: Arc<Server>,
) {
    // A second handle on the socket, to reset it when a fault says so.
    let Some((tcp, raw)) = body::split_socket(tcp) else {
        return;
    };
    let raw = Arc::new(raw);
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    let client_cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .is_some_and(|c| !c.is_empty());
    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let server = server.clone();
        let raw = raw.clone();
        async move {
            if let Some(route) = streams::route(req.uri().path()) {
                return streams::serve(server, req, client_cert, route).await;
            }
            let (parts, body) = req.into_parts();
            let fault = server.faults.take(parts.uri.path());
            if let Some(f) = &fault {
                if let Some(early) = body::before_handling(f, &raw).await {
                    return early;
                }
            }
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let header = |n: hyper::header::HeaderName| {
                parts
                    .headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from)
            };
            let auth = header(hyper::header::AUTHORIZATION);
            let ct = header(hyper::header::CONTENT_TYPE).unwrap_or_default();
            let accept = header(hyper::header::ACCEPT).unwrap_or_default();
            let user_agent = header(hyper::header::USER_AGENT).unwrap_or_default();
            let query = request::parse_query(parts.uri.query().unwrap_or(""));
            let answer = server.handle(Incoming {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query,
                authorization: auth.as_deref(),
                client_cert,
                content_type: &ct,
                accept: &accept,
                user_agent: &user_agent,
                body: &body,
            });
            body::respond(answer, fault.and_then(|f| f.mode))
        }
    });
    if tls.get_ref().1.alpn_protocol() == Some(&b"h2"[..]) {
        // A stream reset by a fault ends only its own request here: the
        // connection carries the client's other calls.
        let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .max_concurrent_streams(H2_MAX_STREAMS)
            .serve_connection(TokioIo::new(tls), svc)
            .await;
    } else {
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tls), svc)
            .with_upgrades()
            .await;
    }
}

/// Concurrent requests on one HTTP/2 connection, as the generic API server
/// sets when `--http2-max-streams-per-connection` is left at 0 (Go's 250).
const H2_MAX_STREAMS: u32 = 250;

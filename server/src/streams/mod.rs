//! `pods/exec`, `pods/attach` and `pods/portforward`: the streaming
//! subresources. A request with WebSocket upgrade headers and one of the
//! Kubernetes subprotocols is upgraded (`101 Switching Protocols`) and served
//! over the channel protocol; anything else gets the real server's answers
//! (400 "Upgrade request required", 404 for an unknown pod, 400 for an
//! unknown container or a completed pod).
//!
//! Test-server behaviour (documented in the README): exec runs the command
//! as a child process of the server, on this machine, in a per-container
//! working directory under the exec directory (`--exec-dir`, default a
//! directory in the system temp dir); `--no-exec` turns exec and attach off.
//! Attach joins a per-container long-running process (the container's
//! `command` and `args`, else `cat`). Port-forward connects to the address
//! named by the pod annotation `kube-testserver/port.PORT` (`HOST:PORT`),
//! else to a built-in echo.

mod channel;
mod portforward;
mod process;
mod spdy;

use crate::api::Server;
use crate::body::{respond, Response, ResponseBody};
use crate::pods;
use crate::registry;
use crate::reply::{err_reply, Answer};
use crate::request::Incoming;
use crate::store::ApiError;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// Where exec and attach run; `None` when `--no-exec` turned them off.
static EXEC_DIR: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Sets the exec directory (`None`: exec and attach are off). Called once at start.
pub fn configure(dir: Option<PathBuf>) {
    let _ = EXEC_DIR.set(dir);
}

fn exec_dir() -> Option<PathBuf> {
    EXEC_DIR
        .get_or_init(|| {
            Some(std::env::temp_dir().join(format!("kube-testserver-{}", std::process::id())))
        })
        .clone()
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    Exec,
    Attach,
    PortForward,
}

/// The pod a streaming URL names, or `None` for any other path.
pub fn route(path: &str) -> Option<(String, String, Kind)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", "v1", "namespaces", ns, "pods", name, sub] => {
            let kind = match *sub {
                "exec" => Kind::Exec,
                "attach" => Kind::Attach,
                "portforward" => Kind::PortForward,
                _ => return None,
            };
            Some((ns.to_string(), name.to_string(), kind))
        }
        _ => None,
    }
}

/// Query parameters in order, repeated keys kept (`command=sh&command=-c`).
fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .flat_map(crate::request::parse_query)
        .collect()
}

fn flag(q: &[(String, String)], k: &str) -> bool {
    q.iter()
        .any(|(n, v)| n == k && matches!(v.as_str(), "true" | "1" | "True"))
}

fn err(e: ApiError) -> Result<Response, std::io::Error> {
    respond(Answer::Full(err_reply(e)), None)
}

/// The protocols this server speaks, in its order of preference.
const EXEC_PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];
const PORTFORWARD_PROTOCOLS: &[&str] = &["portforward.k8s.io", "v4.channel.k8s.io", SPDY_TUNNEL];
/// kubectl's port-forward: SPDY/3.1 carried in WebSocket binary messages.
const SPDY_TUNNEL: &str = "SPDY/3.1+portforward.k8s.io";

/// Serves one streaming request.
pub async fn serve(
    server: Arc<Server>,
    mut req: hyper::Request<hyper::body::Incoming>,
    client_cert: bool,
    (ns, name, kind): (String, String, Kind),
) -> Result<Response, std::io::Error> {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let authorization = header("authorization");
    let incoming = Incoming {
        method: req.method().as_str(),
        path: req.uri().path(),
        query: HashMap::new(),
        authorization: (!authorization.is_empty()).then_some(authorization.as_str()),
        client_cert,
        content_type: "",
        accept: "",
        user_agent: "",
        body: &[],
    };
    let Some(user) = server.authenticate(&incoming) else {
        return err(ApiError::new(401, "Unauthorized", "Unauthorized"));
    };
    let sub = match kind {
        Kind::Exec => "exec",
        Kind::Attach => "attach",
        Kind::PortForward => "portforward",
    };
    if !matches!(req.method().as_str(), "GET" | "POST") {
        return err(ApiError::method_not_allowed());
    }
    if user == "viewer" {
        let mut e = ApiError::new(
            403,
            "Forbidden",
            format!("pods \"{name}\" is forbidden: User \"{user}\" cannot create resource \"pods/{sub}\" in API group \"\" in the namespace \"{ns}\""),
        );
        e.details = serde_json::json!({"name": name, "kind": "pods"});
        return err(e);
    }
    let q = query_pairs(req.uri().query().unwrap_or(""));
    let pod = {
        let st = server.lock();
        let res = registry::find("", "v1", "pods").expect("pods are in the table");
        match crate::rest::get(&st, res, &ns, &name) {
            Ok(p) => p,
            Err(e) => return err(e),
        }
    };
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    if matches!(phase, "Succeeded" | "Failed") {
        let verb = if kind == Kind::Attach {
            "attach to"
        } else {
            "exec into"
        };
        return err(ApiError::bad_request(format!(
            "cannot {verb} a container in a completed pod; current phase is {phase}"
        )));
    }
    if kind != Kind::PortForward && pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
        return err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let container = if kind == Kind::PortForward {
        None
    } else {
        let asked = q
            .iter()
            .find(|(k, v)| k == "container" && !v.is_empty())
            .map(|(_, v)| v.as_str());
        match pods::pick_container(&pod, &name, asked) {
            Ok(c) => Some(c),
            Err(e) => return err(e),
        }
    };
    // What the WebSocket upgrade needs.
    let upgrade = header("upgrade").to_ascii_lowercase();
    if kind == Kind::PortForward && upgrade == "spdy/3.1" {
        return spdy_upgrade(req, pod);
    }
    let key = header("sec-websocket-key");
    if upgrade != "websocket" || key.is_empty() {
        return err(ApiError::bad_request("Upgrade request required"));
    }
    let offered: Vec<String> = header("sec-websocket-protocol")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let ours = if kind == Kind::PortForward {
        PORTFORWARD_PROTOCOLS
    } else {
        EXEC_PROTOCOLS
    };
    let Some(protocol) = ours.iter().find(|p| offered.iter().any(|o| o == *p)) else {
        return err(ApiError::bad_request(format!(
            "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server supports {ours:?}"
        )));
    };
    let protocol = protocol.to_string();
    let (dir, options) = match kind {
        Kind::PortForward => (None, None),
        _ => {
            let Some(base) = exec_dir() else {
                return err(ApiError::new(
                    403,
                    "Forbidden",
                    "exec and attach are turned off in this kube-testserver (--no-exec)",
                ));
            };
            let container = container.clone().unwrap_or_default();
            let dir = base.join(&ns).join(&name).join(&container);
            if let Err(e) = std::fs::create_dir_all(&dir) {
                return err(ApiError::new(
                    500,
                    "InternalError",
                    format!("exec directory: {e}"),
                ));
            }
            let options = process::Options {
                command: q
                    .iter()
                    .filter(|(k, _)| k == "command")
                    .map(|(_, v)| v.clone())
                    .collect(),
                stdin: flag(&q, "stdin"),
                stdout: flag(&q, "stdout"),
                stderr: flag(&q, "stderr"),
                tty: flag(&q, "tty"),
            };
            if kind == Kind::Exec && options.command.is_empty() {
                return err(ApiError::bad_request("you must specify at least 1 command"));
            }
            if !options.stdin && !options.stdout && !options.stderr {
                return err(ApiError::bad_request(
                    "you must specify at least 1 of stdin, stdout, stderr",
                ));
            }
            (Some(dir), Some(options))
        }
    };
    let ports: Vec<u16> = q
        .iter()
        .filter(|(k, _)| k == "ports")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|p| p.trim().parse::<u16>())
                .collect::<Vec<_>>()
        })
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    // kubectl names its ports in the SPDY streams' headers, not in the URL.
    if kind == Kind::PortForward && ports.is_empty() && protocol != SPDY_TUNNEL {
        return err(ApiError::bad_request("at least 1 port must be specified"));
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    let container_spec = container
        .as_ref()
        .and_then(|c| {
            pod["spec"]["containers"]
                .as_array()
                .and_then(|cs| cs.iter().find(|x| x["name"].as_str() == Some(c)))
        })
        .cloned()
        .unwrap_or(Value::Null);
    let key = (
        ns.clone(),
        name.clone(),
        container.clone().unwrap_or_default(),
    );
    let v5 = protocol == "v5.channel.k8s.io";
    let tunnel = protocol == SPDY_TUNNEL;
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        match kind {
            Kind::Exec => {
                let (Some(dir), Some(opts)) = (dir, options) else {
                    return;
                };
                let proc = process::spawn_exec(&opts, &dir);
                channel::run(ws, proc, &opts, v5).await;
            }
            Kind::Attach => {
                let (Some(dir), Some(opts)) = (dir, options) else {
                    return;
                };
                let proc = process::attach(key, &container_spec, &opts, &dir);
                channel::run(ws, proc, &opts, v5).await;
            }
            Kind::PortForward if tunnel => {
                spdy_over_websocket(ws, pod).await;
            }
            Kind::PortForward => {
                let targets = ports
                    .iter()
                    .map(|p| (*p, portforward::target(&pod, *p)))
                    .collect();
                portforward::run(ws, targets).await;
            }
        }
    });
    let mut resp = hyper::Response::new(ResponseBody::Whole(None));
    *resp.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert("connection", "Upgrade".parse().expect("static"));
    h.insert("upgrade", "websocket".parse().expect("static"));
    if let Ok(v) = accept.parse() {
        h.insert("sec-websocket-accept", v);
    }
    if let Ok(v) = protocol.parse() {
        h.insert("sec-websocket-protocol", v);
    }
    Ok(resp)
}

/// kubectl's fallback: `Upgrade: SPDY/3.1` on the connection itself
/// (`X-Stream-Protocol-Version: portforward.k8s.io`).
fn spdy_upgrade(
    mut req: hyper::Request<hyper::body::Incoming>,
    pod: Value,
) -> Result<Response, std::io::Error> {
    let offered = req
        .headers()
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim() == "portforward.k8s.io");
    if !offered {
        return err(ApiError::bad_request(
            "unable to upgrade: unable to negotiate protocol: client supports [], server supports [portforward.k8s.io]",
        ));
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        spdy::serve_io(io, move |p| portforward::target(&pod, p)).await;
    });
    let mut resp = hyper::Response::new(ResponseBody::Whole(None));
    *resp.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert("connection", "Upgrade".parse().expect("static"));
    h.insert("upgrade", "SPDY/3.1".parse().expect("static"));
    h.insert(
        "x-stream-protocol-version",
        "portforward.k8s.io".parse().expect("static"),
    );
    Ok(resp)
}

/// The WebSocket tunnel: binary messages carry the SPDY byte stream both ways.
async fn spdy_over_websocket<S>(ws: WebSocketStream<S>, pod: Value)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut sink, mut stream) = ws.split();
    let (in_tx, in_rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(16);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let b = match msg {
                Message::Binary(b) => b,
                Message::Close(_) => return,
                _ => continue,
            };
            if in_tx.send(b).await.is_err() {
                return;
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(f) = out_rx.recv().await {
            if sink.send(Message::Binary(f.into())).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    spdy::serve(in_rx, out_tx, move |p| portforward::target(&pod, p)).await;
    reader.abort();
    let _ = writer.await;
}

//! `pods:portforward_listen(name, port, opts)`: what `kubectl port-forward`
//! does, as a background task. A local TCP listener (127.0.0.1 and a free
//! port by default) accepts connections; each one gets its own
//! `portforward.k8s.io` WebSocket to the pod's port and bytes are copied
//! both ways on the background runtime, never on the Lua thread.
//!
//! Half-close: the WebSocket port-forward protocol cannot close one
//! direction of a pod stream, so when the local side stops sending the
//! connection keeps reading what the pod sends (an HTTP client that shut
//! down its write side still gets its answer) and ends when the pod closes.

use super::PORTFORWARD;
use crate::transport::upgrade::Upgrader;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use mlua::{MetaMethod, UserData, UserDataMethods};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

/// How much of the local side is read into one WebSocket message.
const CHUNK: usize = 64 * 1024;
/// Errors kept for `errors()` (the oldest are dropped).
const MAX_ERRORS: usize = 32;

#[derive(Default)]
struct Stats {
    accepted: AtomicU64,
    active: AtomicU64,
    errors: Mutex<VecDeque<String>>,
}

impl Stats {
    fn error(&self, e: String) {
        if let Ok(mut q) = self.errors.lock() {
            if q.len() == MAX_ERRORS {
                q.pop_front();
            }
            q.push_back(e);
        }
    }
}

/// The listener as the Lua side holds it (`kube.PortForwarder`); closing or
/// collecting it stops the listener and every forwarded connection.
pub(crate) struct Forwarder {
    address: String,
    port: u16,
    stats: Arc<Stats>,
    stop: Option<watch::Sender<bool>>,
    accepting: tokio::task::AbortHandle,
}

impl Forwarder {
    /// Binds `address:local_port` (0: any free port) on the Lua thread, so a
    /// busy port is an error of this call, and starts accepting.
    pub(crate) fn start(
        upgrader: Upgrader,
        url: String,
        address: &str,
        local_port: u16,
    ) -> Result<Forwarder, String> {
        let std_listener = std::net::TcpListener::bind((address, local_port))
            .map_err(|e| format!("cannot listen on {address}:{local_port}: {e}"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot listen on {address}:{local_port}: {e}"))?;
        let bound = std_listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {address}:{local_port}: {e}"))?;
        let handle = crate::runtime::handle()?;
        let listener = {
            let _in_runtime = handle.enter();
            TcpListener::from_std(std_listener)
                .map_err(|e| format!("cannot listen on {address}:{local_port}: {e}"))?
        };
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = watch::channel(false);
        let accepting =
            crate::runtime::spawn(accept_loop(listener, upgrader, url, stats.clone(), stopped))?;
        Ok(Forwarder {
            address: bound.ip().to_string(),
            port: bound.port(),
            stats,
            stop: Some(stop),
            accepting,
        })
    }

    /// Stops accepting and ends the forwarded connections. Dropping the
    /// sender wakes every task waiting on `stopped`; the accept loop is
    /// also aborted, and `close()` waits (up to a second) until its socket
    /// is closed, so a connection attempt right after it is refused.
    fn stop(&mut self) {
        self.stop = None;
        self.accepting.abort();
    }

    fn close(&mut self) {
        self.stop();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while !self.accepting.is_finished() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upgrader: Upgrader,
    url: String,
    stats: Arc<Stats>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((sock, _)) => {
                    stats.accepted.fetch_add(1, Ordering::Relaxed);
                    let _ = sock.set_nodelay(true);
                    tokio::spawn(forward(
                        sock,
                        upgrader.clone(),
                        url.clone(),
                        stats.clone(),
                        stopped.clone(),
                    ));
                }
                Err(e) => {
                    // Out of descriptors and the like: say so, then breathe.
                    stats.error(format!("accept: {e}"));
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Counts a connection as active while it lives.
struct Active(Arc<Stats>);
impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn forward(
    sock: TcpStream,
    upgrader: Upgrader,
    url: String,
    stats: Arc<Stats>,
    mut stopped: watch::Receiver<bool>,
) {
    stats.active.fetch_add(1, Ordering::Relaxed);
    let _active = Active(stats.clone());
    let ws = tokio::select! {
        _ = stopped.changed() => return,
        r = upgrader.open(&url, &[PORTFORWARD]) => match r {
            Ok((ws, _)) => ws,
            Err(e) => {
                stats.error(e);
                return;
            }
        },
    };
    let (mut sink, mut stream) = ws.split();
    let (mut rd, mut wr) = sock.into_split();
    let mut buf = vec![0u8; CHUNK + 1];
    let mut local_open = true;
    // The first message on each channel is the port number.
    let mut opened = [false; 2];
    loop {
        tokio::select! {
            _ = stopped.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
            n = rd.read(&mut buf[1..]), if local_open => match n {
                Ok(0) | Err(_) => local_open = false,
                Ok(n) => {
                    // buf[0] is the data channel (0).
                    let msg = Message::Binary(Bytes::copy_from_slice(&buf[..n + 1]));
                    if let Err(e) = sink.send(msg).await {
                        stats.error(format!("{url}: writing to the pod failed: {e}"));
                        return;
                    }
                }
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) if !b.is_empty() => {
                    let ch = b[0] as usize;
                    if ch < 2 && !opened[ch] {
                        opened[ch] = true;
                        continue;
                    }
                    let data = &b[1..];
                    if ch == 1 {
                        if !data.is_empty() {
                            stats.error(format!("port-forward: {}", String::from_utf8_lossy(data)));
                            let _ = sink.send(Message::Close(None)).await;
                            return;
                        }
                        continue;
                    }
                    if wr.write_all(data).await.is_err() {
                        // The local side is gone: end the pod stream too.
                        let _ = sink.send(Message::Close(None)).await;
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None => {
                    let _ = wr.shutdown().await;
                    return;
                }
                Some(Err(e)) => {
                    stats.error(format!("{url}: the connection broke: {e}"));
                    let _ = wr.shutdown().await;
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

impl UserData for Forwarder {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("port", |_, this, ()| Ok(this.port));
        m.add_method("address", |_, this, ()| Ok(this.address.clone()));
        m.add_method("url", |_, this, ()| {
            Ok(format!("http://{}:{}", this.address, this.port))
        });
        m.add_method("stats", |lua, this, ()| {
            let t = lua.create_table()?;
            t.set("accepted", this.stats.accepted.load(Ordering::Relaxed))?;
            t.set("active", this.stats.active.load(Ordering::Relaxed))?;
            t.set("open", this.stop.is_some())?;
            Ok(t)
        });
        m.add_method("errors", |lua, this, ()| {
            let list: Vec<String> = match this.stats.errors.lock() {
                Ok(q) => q.iter().cloned().collect(),
                Err(_) => vec![],
            };
            lua.create_sequence_from(list)
        });
        m.add_method_mut("close", |_, this, ()| {
            this.close();
            Ok(())
        });
        m.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!(
                "kube.PortForwarder({}:{}{})",
                this.address,
                this.port,
                if this.stop.is_some() { "" } else { ", closed" }
            ))
        });
    }
}

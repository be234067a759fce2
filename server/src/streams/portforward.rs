//! Port-forward over WebSocket (`portforward.k8s.io`, and the
//! `v4.channel.k8s.io` the Python client asks for): port i of the request
//! has data channel 2i and error channel 2i+1; the first message the server
//! sends on each channel is the port number (2 bytes, little-endian). Each
//! port is connected to the address of the pod annotation
//! `kube-testserver/port.PORT` (`HOST:PORT`), else to a built-in echo.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Where a port goes: an address, or the echo.
pub enum Target {
    Addr(String),
    Echo,
}

pub fn target(pod: &Value, port: u16) -> Target {
    match pod["metadata"]["annotations"][format!("kube-testserver/port.{port}")].as_str() {
        Some(a) => Target::Addr(a.to_string()),
        None => Target::Echo,
    }
}

const CHUNK: usize = 32 * 1024;

fn framed(ch: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(ch);
    v.extend_from_slice(data);
    Message::Binary(Bytes::from(v))
}

pub async fn run<S>(ws: WebSocketStream<S>, targets: Vec<(u16, Target)>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    // Everything the server sends goes through one queue to the socket.
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(16);
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if sink.send(m).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    let mut inputs: Vec<Option<mpsc::Sender<Bytes>>> = vec![];
    for (i, (port, target)) in targets.into_iter().enumerate() {
        let (data_ch, err_ch) = ((2 * i) as u8, (2 * i + 1) as u8);
        let pb = port.to_le_bytes();
        let _ = out_tx.send(framed(data_ch, &pb)).await;
        let _ = out_tx.send(framed(err_ch, &pb)).await;
        let (in_tx, mut in_rx) = mpsc::channel::<Bytes>(16);
        inputs.push(Some(in_tx));
        let out = out_tx.clone();
        match target {
            Target::Echo => {
                tokio::spawn(async move {
                    while let Some(b) = in_rx.recv().await {
                        if out.send(framed(data_ch, &b)).await.is_err() {
                            break;
                        }
                    }
                });
            }
            Target::Addr(addr) => {
                tokio::spawn(async move {
                    match pump(&addr, in_rx, &out, |b| framed(data_ch, b)).await {
                        Err(e) => {
                            let msg = format!("an error occurred forwarding {port} -> {port}: error forwarding port {port} to pod, uid : failed to connect to {addr}: {e}");
                            let _ = out.send(framed(err_ch, msg.as_bytes())).await;
                        }
                        // The remote closed: the stream ends for the client.
                        Ok(()) => {
                            let _ = out.send(Message::Close(None)).await;
                        }
                    }
                });
            }
        }
    }
    drop(out_tx);
    while let Some(Ok(msg)) = stream.next().await {
        let msg = match msg {
            Message::Text(t) => Message::Binary(Bytes::from(t)),
            m => m,
        };
        match msg {
            Message::Binary(b) if !b.is_empty() => {
                let ch = b[0] as usize;
                if ch.is_multiple_of(2) {
                    if let Some(Some(tx)) = inputs.get(ch / 2) {
                        if b.len() > 1 && tx.send(b.slice(1..)).await.is_err() {
                            inputs[ch / 2] = None;
                        }
                    }
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    drop(inputs);
    writer.abort();
}

/// Connects to `addr`, then copies `from_client` to it (shutting its write
/// side down when that ends) and what it sends to `out`, each read made a
/// message by `frame`, until it closes or `out` is gone. The error is a
/// failure to connect.
pub async fn pump<T: Send + 'static>(
    addr: &str,
    mut from_client: mpsc::Receiver<Bytes>,
    out: &mpsc::Sender<T>,
    frame: impl Fn(&[u8]) -> T,
) -> std::io::Result<()> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let _ = tcp.set_nodelay(true);
    let (mut r, mut w) = tcp.into_split();
    let up = tokio::spawn(async move {
        while let Some(b) = from_client.recv().await {
            if w.write_all(&b).await.is_err() {
                return;
            }
        }
        let _ = w.shutdown().await;
    });
    let mut buf = vec![0u8; CHUNK];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if out.send(frame(&buf[..n])).await.is_err() {
                    break;
                }
            }
        }
    }
    up.abort();
    Ok(())
}

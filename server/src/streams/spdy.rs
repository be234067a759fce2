//! Port-forward over SPDY/3.1, as kubectl speaks it: either tunnelled in
//! WebSocket binary messages (subprotocol `SPDY/3.1+portforward.k8s.io`,
//! what kubectl 1.31+ tries first) or on the connection itself after an
//! `Upgrade: SPDY/3.1` answer (its fallback). Either way the bytes are a
//! SPDY/3.1 session in which the client opens, per forwarded connection, an
//! error stream and a data stream (headers `streamtype: error|data`,
//! `port`, `requestid`); the server answers each SYN_STREAM with a
//! SYN_REPLY, copies the data stream to the pod's port (see
//! [`super::portforward::target`]) and back, ends it with FIN when the port
//! closes, and writes a failure to connect on the error stream.
//!
//! Framing (SPDY/3 draft, section 2.2): control frames start with the
//! control bit, version 3 and a type; data frames with a 31-bit stream id;
//! both then carry flags and a 24-bit length. Header blocks are zlib
//! streams, one per direction and connection, primed with the SPDY/3
//! dictionary (`spdy3.dict`, 1,423 bytes from the draft's section
//! 2.6.10.1) and flushed after every block (`flate2`).
//! Flow control: this server, like the Go library kubectl and the kubelet
//! use, sends no WINDOW_UPDATE and ignores the client's; TCP and the
//! bounded queues below hold the pace.

use super::portforward::Target;
use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::collections::HashMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// The SPDY/3 header compression dictionary.
const DICTIONARY: &[u8] = include_bytes!("spdy3.dict");

const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const FLAG_FIN: u8 = 1;
/// RST_STREAM status for a stream id that breaks the rules.
const PROTOCOL_ERROR: u32 = 1;

/// The most data one frame carries here (kubectl writes 32 KB at a time).
const CHUNK: usize = 32 * 1024;
/// The largest frame accepted (a frame's length field allows 16 MB).
const MAX_FRAME: usize = 1 << 20;
/// The largest header block after decompression.
const MAX_HEADERS: usize = 64 * 1024;
/// Forwarded connections one session may hold open.
const MAX_PAIRS: usize = 256;

fn control(kind: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + payload.len());
    f.extend_from_slice(&[0x80, 3]);
    f.extend_from_slice(&kind.to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(payload);
    f
}

fn data(stream: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + payload.len());
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(payload);
    f
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The two zlib streams of a session.
struct Headers {
    inflate: Decompress,
    deflate: Compress,
}

impl Headers {
    fn new() -> Result<Headers, String> {
        let mut deflate = Compress::new(Compression::best(), true);
        deflate
            .set_dictionary(DICTIONARY)
            .map_err(|e| format!("header compression: {e}"))?;
        Ok(Headers {
            inflate: Decompress::new(true),
            deflate,
        })
    }

    /// Decodes one compressed header block into (name, value) pairs (names
    /// lowercase, as SPDY sends them; several values joined by NUL).
    fn decode(&mut self, block: &[u8]) -> Result<Vec<(String, String)>, String> {
        let mut raw = Vec::with_capacity(1024);
        let mut input = block;
        loop {
            if raw.capacity() - raw.len() < 1024 {
                if raw.len() >= MAX_HEADERS {
                    return Err("header block too large".into());
                }
                raw.reserve(4096);
            }
            let before = self.inflate.total_in();
            let res = self
                .inflate
                .decompress_vec(input, &mut raw, FlushDecompress::Sync);
            let used = (self.inflate.total_in() - before) as usize;
            input = &input[used..];
            if used == 0 && !input.is_empty() && matches!(res, Ok(Status::BufError)) {
                return Err("header block: no progress".into());
            }
            match res {
                Ok(Status::StreamEnd) => break,
                Ok(_) if input.is_empty() && raw.capacity() > raw.len() => break,
                Ok(_) => {}
                Err(e) if e.needs_dictionary().is_some() => {
                    self.inflate
                        .set_dictionary(DICTIONARY)
                        .map_err(|e| format!("header block: {e}"))?;
                }
                Err(e) => return Err(format!("header block: {e}")),
            }
        }
        parse_block(&raw)
    }

    /// Compresses a header block of `pairs`.
    fn encode(&mut self, pairs: &[(&str, &str)]) -> Result<Vec<u8>, String> {
        let mut raw = Vec::new();
        raw.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
        for (k, v) in pairs {
            raw.extend_from_slice(&(k.len() as u32).to_be_bytes());
            raw.extend_from_slice(k.as_bytes());
            raw.extend_from_slice(&(v.len() as u32).to_be_bytes());
            raw.extend_from_slice(v.as_bytes());
        }
        let mut out = Vec::with_capacity(raw.len() + 64);
        let mut input = &raw[..];
        loop {
            let before = self.deflate.total_in();
            self.deflate
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .map_err(|e| format!("header compression: {e}"))?;
            input = &input[(self.deflate.total_in() - before) as usize..];
            // Done when everything went in and the flush fit.
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(out);
            }
            out.reserve(256);
        }
    }
}

fn parse_block(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut b = raw;
    let mut take = |n: usize| -> Result<&[u8], String> {
        if b.len() < n {
            return Err("header block truncated".to_string());
        }
        let (h, t) = b.split_at(n);
        b = t;
        Ok(h)
    };
    let count = be32(take(4)?) as usize;
    let mut out = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let n = be32(take(4)?) as usize;
        let name = String::from_utf8_lossy(take(n)?).to_ascii_lowercase();
        let n = be32(take(4)?) as usize;
        let value = String::from_utf8_lossy(take(n)?).into_owned();
        out.push((name, value));
    }
    Ok(out)
}

/// One client stream.
struct Stream {
    request: String,
    /// Data from the client for the pod (data streams only, until FIN).
    to_pod: Option<mpsc::Sender<Bytes>>,
}

/// The streams of one forwarded connection, paired by `requestid`.
#[derive(Default)]
struct Pair {
    error: Option<u32>,
    data: Option<(u32, mpsc::Receiver<Bytes>)>,
    port: u16,
}

/// Runs a SPDY port-forward session over `incoming` (bytes from the
/// client, in any cut) and `outgoing` (whole frames for the client).
pub async fn serve(
    mut incoming: mpsc::Receiver<Bytes>,
    outgoing: mpsc::Sender<Vec<u8>>,
    target: impl Fn(u16) -> Target,
) {
    let Ok(mut headers) = Headers::new() else {
        return;
    };
    let mut buf = BytesMut::new();
    let mut streams: HashMap<u32, Stream> = HashMap::new();
    let mut pairs: HashMap<String, Pair> = HashMap::new();
    let mut last_id = 0u32;
    'session: while let Some(chunk) = incoming.recv().await {
        buf.extend_from_slice(&chunk);
        while buf.len() >= 8 {
            let len = (be32(&buf[4..8]) & 0x00ff_ffff) as usize;
            if len > MAX_FRAME {
                let _ = outgoing
                    .send(control(GOAWAY, 0, &[0, 0, 0, 0, 0, 0, 0, 1]))
                    .await;
                break 'session;
            }
            if buf.len() < 8 + len {
                break;
            }
            let head = buf.split_to(8);
            let body = buf.split_to(len).freeze();
            let flags = head[4];
            if head[0] & 0x80 == 0 {
                // DATA
                let id = be32(&head[..4]) & 0x7fff_ffff;
                let Some(s) = streams.get_mut(&id) else {
                    continue;
                };
                if let Some(tx) = &s.to_pod {
                    if !body.is_empty() && tx.send(body).await.is_err() {
                        s.to_pod = None;
                    }
                }
                if flags & FLAG_FIN != 0 {
                    s.to_pod = None;
                }
                continue;
            }
            let kind = u16::from_be_bytes([head[2], head[3]]);
            match kind {
                SYN_STREAM if body.len() >= 10 => {
                    let id = be32(&body[..4]) & 0x7fff_ffff;
                    let pairs_in = match headers.decode(&body[10..]) {
                        Ok(p) => p,
                        Err(_) => break 'session,
                    };
                    // Client streams are odd and increasing.
                    if id.is_multiple_of(2) || id <= last_id || pairs.len() >= MAX_PAIRS {
                        let mut p = id.to_be_bytes().to_vec();
                        p.extend_from_slice(&PROTOCOL_ERROR.to_be_bytes());
                        let _ = outgoing.send(control(RST_STREAM, 0, &p)).await;
                        continue;
                    }
                    last_id = id;
                    let get = |n: &str| {
                        pairs_in
                            .iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let (stype, port, request) = (get("streamtype"), get("port"), get("requestid"));
                    let Ok(block) = headers.encode(&[]) else {
                        break 'session;
                    };
                    let mut reply = id.to_be_bytes().to_vec();
                    reply.extend_from_slice(&block);
                    if outgoing.send(control(SYN_REPLY, 0, &reply)).await.is_err() {
                        break 'session;
                    }
                    let pair = pairs.entry(request.clone()).or_default();
                    pair.port = port.parse().unwrap_or(0);
                    let mut s = Stream {
                        request: request.clone(),
                        to_pod: None,
                    };
                    match stype.as_str() {
                        "data" => {
                            let (tx, rx) = mpsc::channel(16);
                            s.to_pod = Some(tx);
                            pair.data = Some((id, rx));
                        }
                        _ => pair.error = Some(id),
                    }
                    streams.insert(id, s);
                    let ready = pair.error.is_some() && pair.data.is_some();
                    if ready {
                        if let Some(p) = pairs.remove(&request) {
                            let t = target(p.port);
                            tokio::spawn(forward(p, t, outgoing.clone()));
                        }
                    }
                }
                RST_STREAM if body.len() >= 4 => {
                    let id = be32(&body[..4]) & 0x7fff_ffff;
                    if let Some(s) = streams.remove(&id) {
                        // A half-made pair goes with its stream.
                        if pairs.get(&s.request).is_some_and(|p| {
                            p.error == Some(id) || p.data.as_ref().is_some_and(|d| d.0 == id)
                        }) {
                            pairs.remove(&s.request);
                        }
                    }
                }
                PING => {
                    // The client's pings come back as they are.
                    let _ = outgoing.send(control(PING, flags, &body)).await;
                }
                GOAWAY => break 'session,
                // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do here.
                _ => {}
            }
        }
    }
}

/// Copies one forwarded connection between its data stream and the pod's
/// port; a failure to connect goes to its error stream.
async fn forward(pair: Pair, target: Target, out: mpsc::Sender<Vec<u8>>) {
    let (Some(err_id), Some((data_id, mut from_client))) = (pair.error, pair.data) else {
        return;
    };
    let port = pair.port;
    match target {
        Target::Echo => {
            while let Some(b) = from_client.recv().await {
                for c in b.chunks(CHUNK) {
                    if out.send(data(data_id, 0, c)).await.is_err() {
                        return;
                    }
                }
            }
        }
        Target::Addr(addr) => {
            let sent = super::portforward::pump(&addr, from_client, &out, |b| data(data_id, 0, b));
            if let Err(e) = sent.await {
                let msg = format!(
                    "error forwarding port {port} to pod, uid : failed to connect to {addr}: {e}"
                );
                let _ = out.send(data(err_id, FLAG_FIN, msg.as_bytes())).await;
                let _ = out.send(data(data_id, FLAG_FIN, &[])).await;
                return;
            }
        }
    }
    let _ = out.send(data(data_id, FLAG_FIN, &[])).await;
    let _ = out.send(data(err_id, FLAG_FIN, &[])).await;
}

/// Feeds a byte stream (the upgraded connection) to [`serve`] and its
/// frames back.
pub async fn serve_io<S>(io: S, target: impl Fn(u16) -> Target)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut r, mut w) = tokio::io::split(io);
    let (in_tx, in_rx) = mpsc::channel::<Bytes>(16);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    let reader = tokio::spawn(async move {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        loop {
            buf.reserve(64 * 1024);
            match r.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if in_tx.send(buf.split().freeze()).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(f) = out_rx.recv().await {
            if w.write_all(&f).await.is_err() {
                return;
            }
        }
        let _ = w.shutdown().await;
    });
    serve(in_rx, out_tx, target).await;
    reader.abort();
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_blocks_round_trip_through_the_dictionary() {
        assert_eq!(DICTIONARY.len(), 1423);
        let mut a = Headers::new().unwrap();
        let mut b = Headers::new().unwrap();
        // b's deflate side talks to a's inflate side.
        for _ in 0..3 {
            let block = b
                .encode(&[("streamtype", "data"), ("port", "8080"), ("requestid", "0")])
                .unwrap();
            let got = a.decode(&block).unwrap();
            assert_eq!(
                got,
                vec![
                    ("streamtype".to_string(), "data".to_string()),
                    ("port".to_string(), "8080".to_string()),
                    ("requestid".to_string(), "0".to_string()),
                ]
            );
        }
    }

    #[test]
    fn frames_have_the_spdy3_layout() {
        assert_eq!(
            control(PING, 0, &[0, 0, 0, 1]),
            vec![0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1]
        );
        assert_eq!(data(3, FLAG_FIN, b"x"), vec![0, 0, 0, 3, 1, 0, 0, 1, b'x']);
        assert!(parse_block(&[0, 0, 0, 1, 0, 0, 0, 9]).is_err());
    }
}

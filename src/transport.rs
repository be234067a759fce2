//! HTTPS transport: one pooled reqwest client per API client. Requests and
//! streams run as tasks on the module's background runtime (`runtime`);
//! their results reach the Lua thread through mailboxes, so a call can be
//! waited for (the blocking API), polled, or waited for by an event loop.
//!
//! A runtime created before `fork()` is dead in the child, so the runtime and
//! every connection pool are rebuilt when the process id changes. The pool is
//! also rebuilt when an exec plugin hands out a new client certificate.
//!
//! Every request carries the credentials, impersonation headers and the call
//! timeout; 429/503/504 answers and dropped connections are retried with
//! backoff (see `retry`), a 401 with exec credentials re-runs the plugin once.

pub(crate) mod lines;
pub(crate) mod proxy;
pub(crate) mod upgrade;

use crate::auth::{ClientIdentity, Presented};
use crate::config::{ClusterSettings, Impersonation};
use crate::retry;
use crate::runtime::{self, Mailbox, Sender, Signal};
use crate::streaming::BodySink;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const USER_AGENT: &str = concat!("luakube-rs/", env!("CARGO_PKG_VERSION"));

/// One HTTP request as the API layer describes it.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) accept: &'a str,
    /// Retry 429/503/504 and dropped connections here (`retry`); false when
    /// the caller retries by its own policy (a watch's re-list), so the two
    /// never nest.
    pub(crate) retry: bool,
}

/// A complete response.
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Empty when a `BodySink` took a successful answer's body.
    pub(crate) body: bytes::Bytes,
}

/// An HTTPS client bound to one cluster's settings.
pub(crate) struct Transport {
    shared: Arc<Shared>,
}

/// What the background tasks of one transport share.
struct Shared {
    settings: Arc<ClusterSettings>,
    http: Mutex<Option<PooledClient>>,
}

/// The connection pools and what they were built for.
struct PooledClient {
    pid: u32,
    /// Generation of the client certificate in its TLS settings (see `Presented`).
    identity: Option<u64>,
    /// Calls: HTTP/2 when the server offers it (kube-apiserver does), so
    /// concurrent calls share one connection instead of opening one each.
    calls: reqwest::Client,
    /// Long streams (watches, followed logs) and upgrades: HTTP/1.1, a
    /// connection each. A stream whose reader falls behind stops reading
    /// (`STREAM_BUFFER`); on a shared HTTP/2 connection its unread data would
    /// hold the connection's flow-control window and stall every call on it.
    /// Upgrades (exec, attach, port-forward) are HTTP/1.1 only.
    streams: reqwest::Client,
    /// Blocking calls, run on the caller's thread (`runtime::block_here`):
    /// their connections live on that runtime, so they are a pool of their
    /// own. HTTP/1.1: a blocking caller sends one call at a time, so HTTP/2's
    /// multiplexing buys nothing, and sequential GETs measured ~10-15 % slower
    /// over HTTP/2 (per-GET p10 0.20 vs 0.17 ms against kube-testserver,
    /// six alternations; its framing, window updates and the server's task per
    /// stream).
    here: reqwest::Client,
}

/// Which pool a request goes through (see `PooledClient`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pool {
    Calls,
    Streams,
    Here,
}

/// What one try produced: an answer, or a failure and where it happened.
enum Attempt {
    Answer(Response, Option<Duration>),
    Failed(reqwest::Error, &'static str),
    /// The body passed `limits.body` (never retried: it would again).
    TooLarge(String),
}

/// A request as the background task owns it.
struct OwnedRequest {
    method: reqwest::Method,
    url: String,
    body: Option<bytes::Bytes>,
    content_type: Option<String>,
    accept: String,
    retry: bool,
}

impl OwnedRequest {
    fn from(req: Request<'_>) -> Result<Self, String> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| format!("invalid HTTP method {:?}", req.method))?;
        Ok(OwnedRequest {
            method,
            url: req.url.to_string(),
            body: req.body.map(bytes::Bytes::from),
            content_type: req.content_type.map(str::to_string),
            accept: req.accept.to_string(),
            retry: req.retry,
        })
    }

    fn what(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

/// What a call's task sends to the Lua thread.
pub(crate) enum CallEvent {
    /// A new attempt's body begins: forget what earlier ones fed.
    Restart,
    /// A piece of a successful answer's body (when it is forwarded).
    Data(bytes::Bytes),
    Done(Result<Response, String>),
}

/// Where a successful answer's body goes piece by piece, if anywhere.
trait Forward {
    fn restart(&mut self);
    async fn data(&mut self, chunk: bytes::Bytes);
}

/// To the Lua thread through the call's mailbox (background calls).
impl Forward for &Sender<CallEvent> {
    fn restart(&mut self) {
        self.push(CallEvent::Restart, 0);
    }
    /// Waits while `CALL_BUFFER` bytes wait for the Lua thread: a list
    /// arrives faster than Lua decodes it, and unbounded, the queued pieces
    /// were a second copy of the body at the peak (5,000 pods: 30 MB).
    async fn data(&mut self, chunk: bytes::Bytes) {
        let n = chunk.len();
        self.push_bounded(CallEvent::Data(chunk), n).await;
    }
}

/// Straight into the sink (calls run on the caller's thread).
impl Forward for &mut dyn BodySink {
    fn restart(&mut self) {
        BodySink::restart(*self)
    }
    async fn data(&mut self, chunk: bytes::Bytes) {
        self.feed(&chunk)
    }
}

/// A call started by the Lua thread: running in the background, or not yet
/// sent because the caller will wait for it (`Transport::start`, `here`).
pub(crate) struct PendingCall {
    mailbox: Option<Mailbox<CallEvent>>,
    /// The call to run on the caller's thread at the first waiting `pump`.
    here: Option<Here>,
    done: Option<Result<Response, String>>,
    /// The rest of a piece the sink has not had yet (a budget ran out).
    held: Option<bytes::Bytes>,
}

struct Here {
    req: OwnedRequest,
    shared: Arc<Shared>,
    forward_body: bool,
    signal: Arc<Signal>,
}

/// What a sink gets at a time when the drain has a budget: the runtime
/// reads what the socket holds, up to hundreds of KB under load (one piece
/// of a 3 MB list took 28 ms to decode), so pieces are cut to this size and
/// the budget is looked at between them.
const BUDGET_PIECE: usize = 16 * 1024;

/// Feeds `data` to `sink` in pieces until the budget runs out; what is left.
fn feed_within(
    sink: &mut Option<&mut dyn BodySink>,
    mut data: bytes::Bytes,
    budget: Option<Instant>,
) -> Option<bytes::Bytes> {
    // No sink: the body is not wanted piece by piece (nothing to keep).
    let s = sink.as_deref_mut()?;
    loop {
        let piece = if budget.is_some() && data.len() > BUDGET_PIECE {
            data.split_to(BUDGET_PIECE)
        } else {
            std::mem::take(&mut data)
        };
        s.feed(&piece);
        if data.is_empty() || s.has_news() || budget.is_some_and(|b| Instant::now() >= b) {
            return (!data.is_empty()).then_some(data);
        }
    }
}

impl PendingCall {
    /// A call answered at once with `response` (a mock backend): what the
    /// background task would have sent is in the mailbox already.
    pub(crate) fn answered(response: Response, forward_body: bool, signal: Arc<Signal>) -> Self {
        let (tx, mailbox) = runtime::mailbox(signal, usize::MAX);
        if forward_body && (200..300).contains(&response.status) {
            let n = response.body.len();
            tx.push(CallEvent::Restart, 0);
            tx.push(CallEvent::Data(response.body), n);
            let status = response.status;
            let body = bytes::Bytes::new();
            tx.push(CallEvent::Done(Ok(Response { status, body })), 0);
        } else {
            tx.push(CallEvent::Done(Ok(response)), 0);
        }
        PendingCall {
            mailbox: Some(mailbox),
            here: None,
            done: None,
            held: None,
        }
    }

    /// Hands what arrived to `sink` (body pieces) and keeps the outcome;
    /// waits until `deadline` for the outcome (never when it is `Some(now)`),
    /// stopping after `budget` once a piece was handed to the
    /// sink (the rest stays news: the signal is notified again, so a loop
    /// comes back for it at its next turn). An event loop's drain uses it:
    /// a 3,000-item list that had arrived whole was decoded in one 70 ms
    /// slice of the loop thread (issue 12).
    pub(crate) fn pump_within(
        &mut self,
        mut sink: Option<&mut dyn BodySink>,
        deadline: Option<Instant>,
        budget: Option<Instant>,
    ) -> bool {
        if let Some(here) = self.here.take() {
            let Here {
                req,
                shared,
                forward_body,
                signal,
            } = here;
            if deadline.is_none() {
                let fwd = if forward_body { sink.take() } else { None };
                if let Some(outcome) = runtime::block_here(shared.call(&req, fwd, Pool::Here)) {
                    self.done = Some(outcome.and_then(|r| r));
                    signal.notify();
                    return true;
                }
            }
            // Polled with a deadline after all (or inside a runtime): run it
            // in the background as any call.
            match spawn_call(shared, req, forward_body, signal) {
                Ok(mailbox) => self.mailbox = Some(mailbox),
                Err(e) => {
                    self.done = Some(Err(e));
                    return true;
                }
            }
        }
        let Some(mailbox) = self.mailbox.as_mut() else {
            return true;
        };
        while self.done.is_none() {
            if let Some(rest) = self.held.take() {
                self.held = feed_within(&mut sink, rest, budget);
                if self.held.is_some() || sink.as_deref().is_some_and(|s| s.has_news()) {
                    mailbox.signal().notify();
                    break;
                }
            }
            if mailbox.orphaned() {
                self.done = Some(Err(
                    "the call was started before fork() in the parent process; start it again"
                        .into(),
                ));
                break;
            }
            let event = if deadline.is_some_and(|d| d <= Instant::now()) {
                mailbox.signal().mark_seen();
                mailbox.try_pop()
            } else {
                mailbox.pop(deadline)
            };
            let Some(event) = event else { break };
            match event {
                CallEvent::Restart => {
                    if let Some(s) = sink.as_deref_mut() {
                        s.restart()
                    }
                }
                CallEvent::Data(d) => {
                    self.held = feed_within(&mut sink, d, budget);
                    let news = sink.as_deref().is_some_and(|s| s.has_news());
                    if self.held.is_some() || news || budget.is_some_and(|b| Instant::now() >= b) {
                        mailbox.signal().notify();
                        break;
                    }
                }
                CallEvent::Done(r) => {
                    self.done = Some(r);
                    // Done stays news: a waiter learns it at once.
                    mailbox.signal().notify();
                }
            }
        }
        self.done.is_some()
    }

    /// The outcome, once `pump` said the call is done.
    pub(crate) fn take(&mut self) -> Option<Result<Response, String>> {
        self.done.take()
    }

    /// Stops the request (the connection is dropped).
    pub(crate) fn cancel(&mut self) {
        self.here = None;
        if let Some(m) = self.mailbox.as_mut() {
            m.cancel();
        }
        if self.done.is_none() {
            self.done = Some(Err("the call was cancelled".into()));
        }
    }
}

impl Transport {
    pub(crate) fn new(settings: Arc<ClusterSettings>) -> Result<Self, String> {
        // Check CA, client certificate, proxy and TLS settings now, so a
        // broken config fails at Client:new rather than on the first call.
        tls_config(&settings, settings.credentials.static_identity())?;
        proxy::for_cluster(settings.proxy_url.as_deref())?;
        Ok(Transport {
            shared: Arc::new(Shared {
                settings,
                http: Mutex::new(None),
            }),
        })
    }

    /// Starts a call in the background; its progress notifies `signal`.
    /// With `forward_body`, a successful answer's body comes piece by piece
    /// (for `PendingCall::pump_within`'s sink) instead of whole. With `here`,
    /// the caller is about to wait for it (`pump_within` without a deadline):
    /// it is sent then, on the caller's thread (see `runtime::block_here`).
    pub(crate) fn start(
        &self,
        req: Request<'_>,
        forward_body: bool,
        signal: Arc<Signal>,
        here: bool,
    ) -> Result<PendingCall, String> {
        let req = OwnedRequest::from(req)?;
        let shared = self.shared.clone();
        if here {
            return Ok(PendingCall {
                mailbox: None,
                here: Some(Here {
                    req,
                    shared,
                    forward_body,
                    signal,
                }),
                done: None,
                held: None,
            });
        }
        Ok(PendingCall {
            mailbox: Some(spawn_call(shared, req, forward_body, signal)?),
            here: None,
            done: None,
            held: None,
        })
    }

    /// Starts a streaming GET; its progress notifies `signal`.
    pub(crate) fn start_streaming(
        &self,
        req: Request<'_>,
        signal: Arc<Signal>,
    ) -> Result<Opening, String> {
        let req = OwnedRequest::from(req)?;
        let what = req.what();
        let (tx, mut mailbox) = runtime::mailbox(signal, STREAM_BUFFER);
        let shared = self.shared.clone();
        let task = runtime::spawn(async move { shared.stream(req, tx).await })?;
        mailbox.set_task(task);
        Ok(Opening {
            mailbox: Some(mailbox),
            what,
            shared: self.shared.clone(),
        })
    }
}

/// How many bytes of a stream may wait for the Lua thread before the
/// background task stops reading (the server then waits too).
const STREAM_BUFFER: usize = 1 << 20;

/// Runs a call as a background task reporting to a new mailbox.
fn spawn_call(
    shared: Arc<Shared>,
    req: OwnedRequest,
    forward_body: bool,
    signal: Arc<Signal>,
) -> Result<Mailbox<CallEvent>, String> {
    let (tx, mut mailbox) = runtime::mailbox(signal, CALL_BUFFER);
    let task = runtime::spawn(async move {
        let fwd = forward_body.then_some(&tx);
        let outcome = shared.call(&req, fwd, Pool::Calls).await;
        tx.push(CallEvent::Done(outcome), 0);
    })?;
    mailbox.set_task(task);
    Ok(mailbox)
}

/// How many bytes of a call's forwarded body (a list) may wait for the Lua
/// thread before the background task stops reading.
const CALL_BUFFER: usize = 1 << 20;

impl Shared {
    /// The credentials for one request; a token file is read and an exec
    /// plugin runs off the I/O thread. Credentials already in memory are
    /// presented in place: `block_in_place` hands the runtime's core to
    /// another thread and back, two thread wake-ups per call (seen in the
    /// profile of sequential GETs as the blocking pool's futex waits).
    fn present(&self) -> Result<Presented, String> {
        let credentials = &self.settings.credentials;
        let limits = self.settings.plugin_limits();
        if credentials.may_block() && !runtime::on_caller_thread() {
            tokio::task::block_in_place(|| credentials.present(&limits))
        } else {
            credentials.present(&limits)
        }
    }

    /// A server's answer with the credentials this transport sends cut out
    /// (for error answers, which end up in messages).
    pub(crate) fn scrub(&self, body: bytes::Bytes) -> bytes::Bytes {
        let secrets = self.settings.credentials.known_secrets();
        match crate::auth::scrub(&body, &secrets) {
            Some(clean) => clean.into(),
            None => body,
        }
    }

    /// The pooled client, rebuilt after a fork or when the TLS identity changed.
    fn client_for(&self, presented: &Presented, pool: Pool) -> Result<reqwest::Client, String> {
        let pid = std::process::id();
        let identity = presented
            .identity
            .as_ref()
            .map(|(_, generation)| *generation);
        let pick = |p: &PooledClient| match pool {
            Pool::Calls => p.calls.clone(),
            Pool::Streams => p.streams.clone(),
            Pool::Here => p.here.clone(),
        };
        let mut slot = self.http.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = slot.as_ref() {
            if p.pid == pid && p.identity == identity {
                return Ok(pick(p));
            }
        }
        let s = &self.settings;
        let tls = tls_config(s, presented.identity.as_ref().map(|(id, _)| id.as_ref()))?;
        let build = |alpn: &[&[u8]], http1_only: bool| {
            let mut tls = tls.clone();
            tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            let mut builder = reqwest::Client::builder()
                .use_preconfigured_tls(tls)
                .user_agent(USER_AGENT)
                .pool_idle_timeout(Duration::from_secs(90))
                .no_proxy();
            if http1_only {
                builder = builder.http1_only();
            }
            if let Some(t) = s.timeouts.connect {
                builder = builder.connect_timeout(t);
            }
            if s.disable_compression {
                builder = builder.no_gzip();
            }
            if let Some(p) = proxy::for_cluster(s.proxy_url.as_deref())? {
                builder = builder.proxy(p);
            }
            builder
                .build()
                .map_err(|e| format!("cannot build the HTTPS client: {}", error_chain(&e)))
        };
        let fresh = PooledClient {
            pid,
            identity,
            calls: build(&[b"h2", b"http/1.1"], false)?,
            streams: build(&[b"http/1.1"], true)?,
            here: build(&[b"http/1.1"], true)?,
        };
        let client = pick(&fresh);
        let old = slot.replace(fresh);
        match old {
            // Connections of another process must not be touched (see `runtime`).
            Some(old) if old.pid != pid => std::mem::forget(old),
            other => drop(other),
        }
        Ok(client)
    }

    /// A request with method, URL, Accept, credentials and impersonation set
    /// (no timeout: `call` adds the call timeout, a stream sets its own).
    fn prepare(
        &self,
        http: &reqwest::Client,
        req: &OwnedRequest,
        presented: &Presented,
    ) -> Result<reqwest::RequestBuilder, String> {
        let mut rb = http
            .request(req.method.clone(), &req.url)
            .header(reqwest::header::ACCEPT, &req.accept);
        if let Some(a) = &presented.authorization {
            let mut value = reqwest::header::HeaderValue::from_bytes(a.expose())
                .map_err(|_| "the credentials contain characters not allowed in a header")?;
            value.set_sensitive(true);
            rb = rb.header(reqwest::header::AUTHORIZATION, value);
        }
        for (name, value) in impersonation_headers(&self.settings.impersonate) {
            let value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
                format!("impersonation: {name} has characters not allowed in a header")
            })?;
            rb = rb.header(name, value);
        }
        for (name, value) in &self.settings.extra_headers {
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| format!("header {name} has characters not allowed in a header"))?;
            rb = rb.header(name.as_str(), value);
        }
        if let Some(body) = &req.body {
            if let Some(ct) = &req.content_type {
                rb = rb.header(reqwest::header::CONTENT_TYPE, ct);
            }
            rb = rb.body(body.clone());
        }
        Ok(rb)
    }

    /// Sends `req` through `pool` with the credentials presented (`adjust`
    /// adds what this kind of request needs: a timeout, upgrade headers),
    /// and once more with fresh credentials when a plugin credential was
    /// refused (401: expired or revoked, the plugin runs again). The one way
    /// a request goes out: calls, streams and upgrades.
    pub(crate) async fn send_authorized(
        &self,
        req: &OwnedRequest,
        pool: Pool,
        adjust: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SendError> {
        let mut reauthenticated = false;
        loop {
            let presented = self.present().map_err(SendError::Setup)?;
            let http = self
                .client_for(&presented, pool)
                .map_err(SendError::Setup)?;
            let rb = adjust(
                self.prepare(&http, req, &presented)
                    .map_err(SendError::Setup)?,
            );
            let resp = rb.send().await.map_err(SendError::Send)?;
            if resp.status().as_u16() == 401
                && !reauthenticated
                && self.settings.credentials.reject(&presented)
            {
                reauthenticated = true;
                continue;
            }
            return Ok(resp);
        }
    }

    /// One call with its retries, through `pool`; a successful answer's body
    /// goes to `fwd` piece by piece when there is one.
    async fn call<F: Forward>(
        &self,
        req: &OwnedRequest,
        mut fwd: Option<F>,
        pool: Pool,
    ) -> Result<Response, String> {
        if pool == Pool::Here {
            // Let the runtime read what arrived while nobody drove it (a
            // connection the server closed in the meantime) before a pooled
            // connection is picked: the first yield runs the I/O driver, the
            // second the connection tasks it woke.
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
        }
        let idempotent = retry::idempotent(req.method.as_str());
        let started = Instant::now();
        let timeout = self.settings.timeouts.request;
        let limit = self.settings.limits.body;
        let mut tries = 0;
        loop {
            tries += 1;
            let sent = self
                .send_authorized(req, pool, |rb| match timeout {
                    Some(t) => rb.timeout(t),
                    None => rb,
                })
                .await;
            let outcome = match sent {
                Ok(resp) => read_answer(resp, fwd.as_mut(), limit).await,
                Err(SendError::Setup(e)) => return Err(e),
                Err(SendError::Send(e)) => Attempt::Failed(e, ""),
            };
            if let Some(wait) = self.retry_wait(&outcome, req.retry && idempotent, tries, started) {
                tokio::time::sleep(wait).await;
                continue;
            }
            return match outcome {
                // An error answer goes into messages: the credentials this
                // transport sends are cut out of it (a server may echo them).
                Attempt::Answer(r, _) if !(200..300).contains(&r.status) => Ok(Response {
                    status: r.status,
                    body: self.scrub(r.body),
                }),
                Attempt::Answer(r, _) => Ok(r),
                Attempt::Failed(e, stage) => {
                    let after = if tries > 1 {
                        format!(" (after {tries} tries)")
                    } else {
                        String::new()
                    };
                    Err(format!("{}: {stage}{}{after}", req.what(), error_chain(&e)))
                }
                Attempt::TooLarge(m) => Err(format!("{}: {m}", req.what())),
            };
        }
    }

    /// How long to wait before trying again after `outcome`, if at all.
    fn retry_wait(
        &self,
        outcome: &Attempt,
        idempotent: bool,
        tries: u32,
        started: Instant,
    ) -> Option<Duration> {
        let retry_after = match outcome {
            Attempt::Answer(r, retry_after) if idempotent && retry::retriable_status(r.status) => {
                *retry_after
            }
            // POST and PATCH only when the request cannot have reached the server.
            Attempt::Failed(e, _)
                if retry::connection_dropped(e) && (idempotent || e.is_connect()) =>
            {
                None
            }
            _ => return None,
        };
        let policy = &self.settings.retries;
        policy.next_delay(tries, started.elapsed(), retry_after, retry::jitter_unit())
    }

    /// A streaming GET (in the background): the head, the body's pieces as
    /// they arrive (while the Lua thread keeps up), then the end.
    async fn stream(&self, req: OwnedRequest, tx: Sender<StreamEvent>) {
        let what = req.what();
        let opened = self
            .send_authorized(&req, Pool::Streams, |rb| rb)
            .await
            .map_err(|e| e.describe(&what));
        let mut resp = match opened {
            Ok(r) => r,
            Err(e) => {
                tx.push(StreamEvent::Failed(e), 0);
                return;
            }
        };
        if !tx.push(StreamEvent::Head(resp.status().as_u16()), 0) {
            return;
        }
        loop {
            match resp.chunk().await {
                Ok(Some(data)) => {
                    let n = data.len();
                    if !tx.push_bounded(StreamEvent::Data(data), n).await {
                        return;
                    }
                }
                Ok(None) => {
                    tx.push(StreamEvent::End, 0);
                    return;
                }
                Err(e) => {
                    let msg = format!("{what}: reading the stream failed: {}", error_chain(&e));
                    tx.push(StreamEvent::Failed(msg), 0);
                    return;
                }
            }
        }
    }
}

/// Why a request did not go out: it could not be prepared (credentials,
/// TLS settings, a header), or sending it failed.
pub(crate) enum SendError {
    Setup(String),
    Send(reqwest::Error),
}

impl SendError {
    /// The message, naming the request (`what`) when sending failed.
    pub(crate) fn describe(self, what: &str) -> String {
        match self {
            SendError::Setup(e) => e,
            SendError::Send(e) => format!("{what}: {}", error_chain(&e)),
        }
    }
}

/// The rest of one try: read the whole body (forwarded to `tx` if it
/// succeeded), at most `limit` bytes of it (counted after decompression).
async fn read_answer<F: Forward>(
    resp: reqwest::Response,
    fwd: Option<&mut F>,
    limit: usize,
) -> Attempt {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry::parse_retry_after);
    let too_large = || Attempt::TooLarge(crate::limits::too_large("the answer", limit));
    let mut resp = resp;
    let mut received = 0usize;
    if let (Some(fwd), true) = (fwd, (200..300).contains(&status)) {
        fwd.restart();
        return loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    received += chunk.len();
                    if received > limit {
                        break too_large();
                    }
                    fwd.data(chunk).await;
                }
                Ok(None) => {
                    let body = bytes::Bytes::new();
                    break Attempt::Answer(Response { status, body }, retry_after);
                }
                Err(e) => break Attempt::Failed(e, "reading the response body failed: "),
            }
        };
    }
    let mut body = bytes::BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return too_large();
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => {
                let body = body.freeze();
                return Attempt::Answer(Response { status, body }, retry_after);
            }
            Err(e) => return Attempt::Failed(e, "reading the response body failed: "),
        }
    }
}

/// The `Impersonate-*` headers, as kubectl sends them.
pub(crate) fn impersonation_headers(imp: &Impersonation) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(user) = &imp.user {
        out.push(("Impersonate-User".to_string(), user.clone()));
    }
    for g in &imp.groups {
        out.push(("Impersonate-Group".to_string(), g.clone()));
    }
    if let Some(uid) = &imp.uid {
        out.push(("Impersonate-Uid".to_string(), uid.clone()));
    }
    for (key, values) in &imp.extra {
        let name = format!("Impersonate-Extra-{}", escape_header_key(key));
        for v in values {
            out.push((name.clone(), v.clone()));
        }
    }
    out
}

/// Extra keys may hold characters a header name cannot (e.g. `/`):
/// percent-encode them, as Kubernetes expects.
fn escape_header_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&'*+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Joins an error with its sources, so "connection refused" is not hidden
/// behind reqwest's generic "error sending request".
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the TLS settings: the cluster CA (or system roots) verified by
/// default, the optional client certificate, tls-server-name and insecure mode.
pub(crate) fn tls_config(
    s: &ClusterSettings,
    identity: Option<&ClientIdentity>,
) -> Result<rustls::ClientConfig, String> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = if s.insecure_skip_tls_verify {
        Arc::new(AcceptAnyServer(provider.clone()))
    } else {
        let mut roots = RootCertStore::empty();
        match &s.ca_pem {
            Some(pem) => {
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|e| format!("certificate authority: bad PEM: {e}"))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("certificate authority: {e}"))?;
                }
                if roots.is_empty() {
                    return Err(
                        "certificate authority: no certificate found in the PEM data".into(),
                    );
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("TLS setup: {e}"))?;
        match &s.tls_server_name {
            Some(name) => Arc::new(ExpectServerName {
                inner,
                name: ServerName::try_from(name.clone())
                    .map_err(|e| format!("tls-server-name {name:?}: {e}"))?,
            }),
            None => inner,
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match identity {
        Some(id) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&id.cert_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("client certificate: bad PEM: {e}"))?;
            if certs.is_empty() {
                return Err("client certificate: no certificate found in the PEM data".into());
            }
            // The key's own error text could quote key material; keep it generic.
            let key = PrivateKeyDer::from_pem_slice(id.key_pem.expose())
                .map_err(|_| "client key: no valid PEM private key found".to_string())?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("client certificate and key: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// Verifies the chain as usual, but against `tls-server-name` instead of the URL host.
#[derive(Debug)]
struct ExpectServerName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for ExpectServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `insecure-skip-tls-verify: true`: any certificate is accepted (signatures
/// are still checked so the handshake itself is sound).
#[derive(Debug)]
struct AcceptAnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a stream's task sends to the Lua thread.
pub(crate) enum StreamEvent {
    Head(u16),
    Data(bytes::Bytes),
    End,
    Failed(String),
}

/// A streaming request whose headers have not been seen yet.
pub(crate) struct Opening {
    mailbox: Option<Mailbox<StreamEvent>>,
    what: String,
    /// For the limits and the scrubbing of an error answer.
    shared: Arc<Shared>,
}

impl Opening {
    /// The response once its headers are in, waiting until `deadline`
    /// (forever when `None`); `None` when they have not come yet.
    pub(crate) fn wait(
        &mut self,
        deadline: Option<Instant>,
    ) -> Option<Result<StreamingResponse, String>> {
        let mb = self.mailbox.as_mut()?;
        if mb.orphaned() {
            self.mailbox = None;
            return Some(Err(format!(
                "{}: opened before fork() in the parent process",
                self.what
            )));
        }
        let event = if deadline.is_some_and(|d| d <= Instant::now()) {
            mb.signal().mark_seen();
            mb.try_pop()
        } else {
            mb.pop(deadline)
        }?;
        let mailbox = self.mailbox.take()?;
        Some(match event {
            StreamEvent::Head(status) => {
                // The rest may already be here: it is news for the reader.
                mailbox.signal().notify();
                Ok(StreamingResponse {
                    status,
                    body: Some(mailbox),
                    what: std::mem::take(&mut self.what),
                    limits: self.shared.settings.limits,
                    shared: self.shared.clone(),
                })
            }
            StreamEvent::Failed(e) => Err(e),
            StreamEvent::Data(_) | StreamEvent::End => Err(format!(
                "{}: the stream ended before its headers",
                self.what
            )),
        })
    }
}

/// A response whose body is read piece by piece as it arrives (watch streams,
/// followed logs) instead of being collected whole.
pub(crate) struct StreamingResponse {
    pub(crate) status: u16,
    body: Option<Mailbox<StreamEvent>>,
    what: String,
    /// The client's limits (one line of the stream, an error answer).
    pub(crate) limits: crate::limits::Limits,
    /// Scrubs an error answer of the credentials sent.
    shared: Arc<Shared>,
}

/// One step of reading a [`StreamingResponse`].
pub(crate) enum Chunk {
    Data(bytes::Bytes),
    /// The server ended the body.
    End,
    /// Nothing arrived within the time asked for; the stream stays open.
    TimedOut,
}

impl StreamingResponse {
    /// The next piece of the body, waiting at most `wait` (forever when
    /// `None`; a zero wait only takes what has arrived).
    pub(crate) fn next_chunk(&mut self, wait: Option<Duration>) -> Result<Chunk, String> {
        let Some(body) = self.body.as_mut() else {
            return Ok(Chunk::End);
        };
        if body.orphaned() {
            self.close();
            return Err(format!(
                "{}: the stream was opened before fork() in the parent process",
                self.what
            ));
        }
        let event = match wait {
            Some(d) if d.is_zero() => {
                body.signal().mark_seen();
                body.try_pop()
            }
            Some(d) => body.pop(Some(Instant::now() + d)),
            None => body.pop(None),
        };
        match event {
            None => Ok(Chunk::TimedOut),
            Some(StreamEvent::Data(data)) => Ok(Chunk::Data(data)),
            Some(StreamEvent::End) => {
                self.close();
                Ok(Chunk::End)
            }
            Some(StreamEvent::Failed(e)) => {
                self.close();
                Err(e)
            }
            Some(StreamEvent::Head(_)) => Ok(Chunk::TimedOut),
        }
    }

    /// The rest of the body (for error answers, which are short).
    pub(crate) fn read_to_end(&mut self) -> Result<bytes::Bytes, String> {
        let mut all = Vec::new();
        loop {
            match self.next_chunk(Some(Duration::from_secs(30)))? {
                Chunk::Data(d) => {
                    if all.len() + d.len() > self.limits.body {
                        self.close();
                        return Err(format!(
                            "{}: {}",
                            self.what,
                            crate::limits::too_large("the error answer", self.limits.body)
                        ));
                    }
                    all.extend_from_slice(&d)
                }
                Chunk::End => return Ok(self.shared.scrub(all.into())),
                Chunk::TimedOut => {
                    self.close();
                    return Err(format!("{}: the error answer did not finish", self.what));
                }
            }
        }
    }

    /// Drops the connection (an unfinished HTTP/1.1 body is never reused):
    /// the background task is aborted and drops it on the runtime's thread.
    pub(crate) fn close(&mut self) {
        self.body.take();
    }
}

impl Drop for Transport {
    /// Closes the pooled connections now, on the runtime's thread; never
    /// enters the runtime from here (this runs in `__gc`, at `lua_close` from
    /// an exit handler, after thread-locals are gone: see issue 12).
    fn drop(&mut self) {
        let pooled = self
            .shared
            .http
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(PooledClient {
            pid,
            calls,
            streams,
            here,
            ..
        }) = pooled
        {
            runtime::drop_in_background((calls, streams), pid);
            runtime::drop_here(here, pid);
        }
    }
}

impl Drop for StreamingResponse {
    fn drop(&mut self) {
        self.close();
    }
}

/// The server's message from a Status body, or the start of a non-JSON body.
pub(crate) fn status_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Status {
        message: Option<String>,
    }
    if let Ok(Status { message: Some(m) }) = serde_json::from_slice::<Status>(body) {
        return m;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let cut: String = text.chars().take(500).collect();
    if cut.is_empty() {
        "(empty response body)".into()
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Pieces(Vec<usize>);
    impl BodySink for Pieces {
        fn restart(&mut self) {
            self.0.clear();
        }
        fn feed(&mut self, chunk: &[u8]) {
            self.0.push(chunk.len());
        }
    }

    #[test]
    fn a_budget_cuts_a_big_piece_and_keeps_the_rest() {
        let data = bytes::Bytes::from(vec![b'x'; 40 * 1024]);
        // No budget (a blocking call): the piece goes whole.
        let mut whole = Pieces::default();
        let rest = feed_within(
            &mut Some(&mut whole as &mut dyn BodySink),
            data.clone(),
            None,
        );
        assert!(rest.is_none());
        assert_eq!(whole.0, vec![40 * 1024]);
        // A budget already spent: one 16 KB piece, the rest kept in order.
        let mut cut = Pieces::default();
        let spent = Some(Instant::now());
        let rest = feed_within(
            &mut Some(&mut cut as &mut dyn BodySink),
            data.clone(),
            spent,
        )
        .expect("a rest");
        assert_eq!(cut.0, vec![BUDGET_PIECE]);
        assert_eq!(rest.len(), 40 * 1024 - BUDGET_PIECE);
        assert_eq!(&rest[..], &data[BUDGET_PIECE..]);
        // A budget with room: every piece, none larger than BUDGET_PIECE.
        let mut all = Pieces::default();
        let later = Some(Instant::now() + std::time::Duration::from_secs(60));
        assert!(feed_within(&mut Some(&mut all as &mut dyn BodySink), data, later).is_none());
        assert_eq!(
            all.0,
            vec![BUDGET_PIECE, BUDGET_PIECE, 40 * 1024 - 2 * BUDGET_PIECE]
        );
        // No sink: nothing kept.
        assert!(feed_within(&mut None, bytes::Bytes::from_static(b"abc"), spent).is_none());
    }
}

//! HTTPS transport: one pooled reqwest client per API client, driven
//! synchronously from Lua on a per-process tokio runtime.
//!
//! A runtime created before `fork()` hangs in the child, so the runtime and
//! every connection pool are rebuilt when the process id changes. The pool is
//! also rebuilt when an exec plugin hands out a new client certificate.
//!
//! Every request carries the credentials, impersonation headers and the call
//! timeout; 429/503/504 answers and dropped connections are retried with
//! backoff (see `retry`), a 401 with exec credentials re-runs the plugin once.

pub mod proxy;
pub mod retry;

use crate::auth::{ClientIdentity, Credentials, Presented};
use crate::config::{ClusterSettings, Impersonation};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

pub const USER_AGENT: &str = concat!("luakube-rs/", env!("CARGO_PKG_VERSION"));

/// One HTTP request as the API layer describes it.
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub body: Option<Vec<u8>>,
    pub content_type: Option<&'a str>,
    pub accept: &'a str,
}

/// A complete response.
pub struct Response {
    pub status: u16,
    /// Empty when a `BodySink` took a successful answer's body.
    pub body: bytes::Bytes,
}

/// Takes a successful answer's body as it arrives, so decoding overlaps the
/// transfer (see `list_decoder`).
pub trait BodySink {
    /// A new attempt begins: forget what earlier ones fed.
    fn restart(&mut self);
    fn feed(&mut self, chunk: &[u8]);
}

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// Writing to a connection the server has reset raises SIGPIPE (hyper
/// writes with `writev`, which cannot ask for no signal), and a Lua host
/// keeps the default action: the whole process dies. Ignore it, unless the
/// host installed its own handler, so the write fails with EPIPE instead and
/// becomes a normal error (or a retry). Done once per process.
fn ignore_sigpipe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_DFL
        {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    });
}

/// The runtime of this process, created on first use and after a fork.
fn runtime() -> Result<Arc<Runtime>, String> {
    ignore_sigpipe();
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return Ok(rt.clone());
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {e}"))?;
    let rt = Arc::new(rt);
    // The parent's runtime is unusable here; dropping it could block on its
    // threads, which do not exist in the child. Leak it instead.
    if let Some(old) = slot.replace((pid, rt.clone())) {
        std::mem::forget(old);
    }
    Ok(rt)
}

/// Runs the runtime for a moment so connection tasks whose handles were
/// just dropped see it and close their sockets. The runtime only runs inside
/// calls, so without this a collected client or stream kept its connection
/// open until the next call of any client (found by
/// spec/hardening_lifecycle_spec.lua). Skipped when already inside the
/// runtime (a collection during a call).
fn let_connections_close(rt: &Runtime) {
    if tokio::runtime::Handle::try_current().is_ok() {
        return;
    }
    rt.block_on(async {
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    });
}

/// An HTTPS client bound to one cluster's settings.
pub struct Transport {
    settings: Arc<ClusterSettings>,
    http: RefCell<Option<PooledClient>>,
}

/// A connection pool and what it was built for.
struct PooledClient {
    pid: u32,
    /// Generation of the client certificate in its TLS settings (see `Presented`).
    identity: Option<u64>,
    client: reqwest::Client,
}

/// What one try produced: an answer, or a failure and where it happened.
enum Attempt {
    Answer(Response, Option<Duration>),
    Failed(reqwest::Error, &'static str),
    /// The body passed `limits.body` (never retried: it would again).
    TooLarge(String),
}

impl Transport {
    pub fn new(settings: Arc<ClusterSettings>) -> Result<Self, String> {
        // Check CA, client certificate, proxy and TLS settings now, so a
        // broken config fails at Client:new rather than on the first call.
        tls_config(&settings, settings.credentials.static_identity())?;
        proxy::for_cluster(settings.proxy_url.as_deref())?;
        Ok(Transport {
            settings,
            http: RefCell::new(None),
        })
    }

    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// A server's answer with the credentials this transport sends cut out
    /// (for error answers, which end up in messages).
    pub fn scrub(&self, body: bytes::Bytes) -> bytes::Bytes {
        let secrets = self.settings.credentials.known_secrets();
        match crate::auth::scrub(&body, &secrets) {
            Some(clean) => clean.into(),
            None => body,
        }
    }

    /// The pooled client, rebuilt after a fork or when the TLS identity changed.
    fn client_for(&self, rt: &Runtime, presented: &Presented) -> Result<reqwest::Client, String> {
        let pid = std::process::id();
        let identity = presented
            .identity
            .as_ref()
            .map(|(_, generation)| *generation);
        let mut slot = self.http.borrow_mut();
        if let Some(p) = slot.as_ref() {
            if p.pid == pid && p.identity == identity {
                return Ok(p.client.clone());
            }
        }
        let s = &self.settings;
        let tls = tls_config(s, presented.identity.as_ref().map(|(id, _)| id.as_ref()))?;
        let _guard = rt.enter();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .user_agent(USER_AGENT)
            .pool_idle_timeout(Duration::from_secs(90))
            .no_proxy();
        if let Some(t) = s.timeouts.connect {
            builder = builder.connect_timeout(t);
        }
        if s.disable_compression {
            builder = builder.no_gzip();
        }
        if let Some(p) = proxy::for_cluster(s.proxy_url.as_deref())? {
            builder = builder.proxy(p);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTPS client: {}", error_chain(&e)))?;
        let old = slot.replace(PooledClient {
            pid,
            identity,
            client: client.clone(),
        });
        match old {
            // Connections of another process must not be touched (see `runtime`).
            Some(old) if old.pid != pid => std::mem::forget(old),
            other => drop(other),
        }
        Ok(client)
    }

    /// A request with method, URL, Accept, credentials and impersonation set
    /// (no timeout: `send` adds the call timeout, a stream sets its own).
    fn prepare(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        accept: &str,
        presented: &Presented,
    ) -> Result<reqwest::RequestBuilder, String> {
        let mut rb = http
            .request(method, url)
            .header(reqwest::header::ACCEPT, accept);
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
        Ok(rb)
    }

    /// Sends a request and reads the whole answer, retrying as the retry
    /// policy allows.
    pub fn send(&self, req: Request<'_>) -> Result<Response, String> {
        self.send_into(req, None)
    }

    /// As `send`, with a successful answer's body handed to `sink` as it
    /// arrives instead of collected.
    pub fn send_into(
        &self,
        req: Request<'_>,
        mut sink: Option<&mut dyn BodySink>,
    ) -> Result<Response, String> {
        let rt = runtime()?;
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| format!("invalid HTTP method {:?}", req.method))?;
        let body = req.body.map(bytes::Bytes::from);
        let what = || format!("{} {}", req.method, req.url);
        let idempotent = retry::idempotent(req.method);
        let started = Instant::now();
        let mut tries = 0;
        let mut reauthenticated = false;
        loop {
            tries += 1;
            let presented = self
                .settings
                .credentials
                .present(&self.settings.plugin_limits())?;
            let http = self.client_for(&rt, &presented)?;
            let mut rb = self.prepare(&http, method.clone(), req.url, req.accept, &presented)?;
            if let Some(t) = self.settings.timeouts.request {
                rb = rb.timeout(t);
            }
            if let Some(body) = &body {
                if let Some(ct) = req.content_type {
                    rb = rb.header(reqwest::header::CONTENT_TYPE, ct);
                }
                rb = rb.body(body.clone());
            }
            let limit = self.settings.limits.body;
            let outcome = rt.block_on(attempt(rb, sink.as_deref_mut(), limit));
            if let Attempt::Answer(r, _) = &outcome {
                if r.status == 401
                    && !reauthenticated
                    && self.settings.credentials.reject(&presented)
                {
                    // Expired or revoked plugin credential: run the plugin again, once.
                    reauthenticated = true;
                    tries -= 1;
                    continue;
                }
            }
            if let Some(wait) = self.retry_wait(&outcome, idempotent, tries, started) {
                std::thread::sleep(wait);
                continue;
            }
            return match outcome {
                Attempt::Answer(r, _) => Ok(r),
                Attempt::Failed(e, stage) => {
                    let after = if tries > 1 {
                        format!(" (after {tries} tries)")
                    } else {
                        String::new()
                    };
                    Err(format!("{}: {stage}{}{after}", what(), error_chain(&e)))
                }
                Attempt::TooLarge(m) => Err(format!("{}: {m}", what())),
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
}

/// One try: send, then read the whole body (into `sink` if it succeeded),
/// at most `limit` bytes of it (counted after decompression).
async fn attempt(
    rb: reqwest::RequestBuilder,
    sink: Option<&mut (dyn BodySink + '_)>,
    limit: usize,
) -> Attempt {
    let resp = match rb.send().await {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(e, ""),
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry::parse_retry_after);
    let too_large = || Attempt::TooLarge(crate::limits::too_large("the answer", limit));
    let mut resp = resp;
    let mut received = 0usize;
    if let (Some(sink), true) = (sink, (200..300).contains(&status)) {
        sink.restart();
        return loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    received += chunk.len();
                    if received > limit {
                        break too_large();
                    }
                    sink.feed(&chunk)
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
pub fn impersonation_headers(imp: &Impersonation) -> Vec<(String, String)> {
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
pub fn error_chain(e: &dyn std::error::Error) -> String {
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
pub fn tls_config(
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

/// Credentials-free description of a client for error messages and tests.
pub fn describe_auth(c: &Credentials) -> &'static str {
    match c {
        Credentials::None => "none",
        Credentials::Token(_) => "token",
        Credentials::TokenFile(_) => "tokenFile",
        Credentials::Basic { .. } => "basic",
        Credentials::Exec(_) => "exec plugin",
        Credentials::WithIdentity { inner, .. } => match **inner {
            Credentials::None => "client certificate",
            Credentials::Exec(_) => "client certificate + exec plugin",
            _ => "client certificate + credentials",
        },
    }
}

/// A response whose body is read piece by piece as it arrives (watch streams,
/// followed logs) instead of being collected whole.
pub struct StreamingResponse {
    pub status: u16,
    body: Option<reqwest::Response>,
    what: String,
    /// The client's limits (one line of the stream, an error answer).
    pub limits: crate::limits::Limits,
}

/// One step of reading a [`StreamingResponse`].
pub enum Chunk {
    Data(bytes::Bytes),
    /// The server ended the body.
    End,
    /// Nothing arrived within the time asked for; the stream stays open.
    TimedOut,
}

impl StreamingResponse {
    /// The next piece of the body, waiting at most `wait` (forever when `None`).
    pub fn next_chunk(&mut self, wait: Option<Duration>) -> Result<Chunk, String> {
        let Some(body) = self.body.as_mut() else {
            return Ok(Chunk::End);
        };
        let rt = runtime()?;
        let outcome = rt.block_on(async {
            match wait {
                Some(d) => tokio::time::timeout(d, body.chunk()).await.ok(),
                None => Some(body.chunk().await),
            }
        });
        match outcome {
            None => Ok(Chunk::TimedOut),
            Some(Ok(Some(data))) => Ok(Chunk::Data(data)),
            Some(Ok(None)) => {
                self.close();
                Ok(Chunk::End)
            }
            Some(Err(e)) => {
                self.close();
                Err(format!(
                    "{}: reading the stream failed: {}",
                    self.what,
                    error_chain(&e)
                ))
            }
        }
    }

    /// The rest of the body (for error answers, which are short).
    pub fn read_to_end(&mut self) -> Result<bytes::Bytes, String> {
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
                Chunk::End => return Ok(all.into()),
                Chunk::TimedOut => {
                    self.close();
                    return Err(format!("{}: the error answer did not finish", self.what));
                }
            }
        }
    }

    /// Drops the connection (an unfinished HTTP/1.1 body is never reused).
    pub fn close(&mut self) {
        if let Some(body) = self.body.take() {
            // Dropping hyper's body may wake its connection task: do it with
            // the runtime entered.
            match runtime() {
                Ok(rt) => {
                    {
                        let _guard = rt.enter();
                        drop(body);
                    }
                    let_connections_close(&rt);
                }
                Err(_) => std::mem::forget(body),
            }
        }
    }
}

impl Drop for Transport {
    /// Closes the pooled connections now, not at the next call of another client.
    fn drop(&mut self) {
        let Some(pooled) = self.http.get_mut().take() else {
            return;
        };
        match runtime() {
            Ok(rt) if pooled.pid == std::process::id() => {
                {
                    let _guard = rt.enter();
                    drop(pooled);
                }
                let_connections_close(&rt);
            }
            // Connections of the parent process must not be touched (see `runtime`).
            _ => std::mem::forget(pooled),
        }
    }
}

impl Drop for StreamingResponse {
    fn drop(&mut self) {
        self.close();
    }
}

impl Transport {
    /// Sends a request and returns as soon as the status line and headers are
    /// in; the body is then read with [`StreamingResponse::next_chunk`].
    pub fn send_streaming(&self, req: Request<'_>) -> Result<StreamingResponse, String> {
        let rt = runtime()?;
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| format!("invalid HTTP method {:?}", req.method))?;
        let what = format!("{} {}", req.method, req.url);
        let mut reauthenticated = false;
        loop {
            let presented = self
                .settings
                .credentials
                .present(&self.settings.plugin_limits())?;
            let http = self.client_for(&rt, &presented)?;
            let mut rb = self.prepare(&http, method.clone(), req.url, req.accept, &presented)?;
            if let Some(body) = &req.body {
                if let Some(ct) = req.content_type {
                    rb = rb.header(reqwest::header::CONTENT_TYPE, ct);
                }
                rb = rb.body(body.clone());
            }
            let resp = rt
                .block_on(rb.send())
                .map_err(|e| format!("{what}: {}", error_chain(&e)))?;
            let status = resp.status().as_u16();
            if status == 401 && !reauthenticated && self.settings.credentials.reject(&presented) {
                // Expired or revoked plugin credential: run the plugin again, once.
                reauthenticated = true;
                continue;
            }
            return Ok(StreamingResponse {
                status,
                body: Some(resp),
                what,
                limits: self.settings.limits,
            });
        }
    }
}

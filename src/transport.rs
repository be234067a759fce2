//! HTTPS transport: one pooled reqwest client per API client, driven
//! synchronously from Lua on a per-process tokio runtime.
//!
//! A runtime created before `fork()` hangs in the child, so the runtime and
//! every connection pool are rebuilt when the process id changes.

use crate::auth::Credentials;
use crate::config::ClusterSettings;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
    pub body: bytes::Bytes,
}

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process, created on first use and after a fork.
fn runtime() -> Result<Arc<Runtime>, String> {
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

/// An HTTPS client bound to one cluster's settings.
pub struct Transport {
    settings: Arc<ClusterSettings>,
    tls: rustls::ClientConfig,
    http: RefCell<Option<(u32, reqwest::Client)>>,
}

impl Transport {
    pub fn new(settings: Arc<ClusterSettings>) -> Result<Self, String> {
        let tls = tls_config(&settings)?;
        Ok(Transport {
            settings,
            tls,
            http: RefCell::new(None),
        })
    }

    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    fn client(&self, rt: &Runtime) -> Result<reqwest::Client, String> {
        let pid = std::process::id();
        let mut slot = self.http.borrow_mut();
        if let Some((owner, c)) = slot.as_ref() {
            if *owner == pid {
                return Ok(c.clone());
            }
        }
        let _guard = rt.enter();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(self.tls.clone())
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(90))
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build the HTTPS client: {}", error_chain(&e)))?;
        if let Some(old) = slot.replace((pid, client.clone())) {
            std::mem::forget(old);
        }
        Ok(client)
    }

    /// Sends a request and reads the whole answer.
    pub fn send(&self, req: Request<'_>) -> Result<Response, String> {
        let rt = runtime()?;
        let http = self.client(&rt)?;
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| format!("invalid HTTP method {:?}", req.method))?;
        let auth = self.settings.credentials.authorization()?;
        let mut rb = http
            .request(method, req.url)
            .header(reqwest::header::ACCEPT, req.accept);
        if let Some(a) = auth {
            let mut value = reqwest::header::HeaderValue::from_bytes(a.expose())
                .map_err(|_| "the credentials contain characters not allowed in a header")?;
            value.set_sensitive(true);
            rb = rb.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(body) = req.body {
            if let Some(ct) = req.content_type {
                rb = rb.header(reqwest::header::CONTENT_TYPE, ct);
            }
            rb = rb.body(body);
        }
        let what = || format!("{} {}", req.method, req.url);
        rt.block_on(async {
            let resp = rb
                .send()
                .await
                .map_err(|e| format!("{}: {}", what(), error_chain(&e)))?;
            let status = resp.status().as_u16();
            let body = resp.bytes().await.map_err(|e| {
                format!(
                    "{}: reading the response body failed: {}",
                    what(),
                    error_chain(&e)
                )
            })?;
            Ok(Response { status, body })
        })
    }
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
pub fn tls_config(s: &ClusterSettings) -> Result<rustls::ClientConfig, String> {
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
    let config = match s.credentials.identity() {
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
        Credentials::WithIdentity { inner, .. } => match **inner {
            Credentials::None => "client certificate",
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
                Chunk::Data(d) => all.extend_from_slice(&d),
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
                    let _guard = rt.enter();
                    drop(body);
                }
                Err(_) => std::mem::forget(body),
            }
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
        let http = self.client(&rt)?;
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| format!("invalid HTTP method {:?}", req.method))?;
        let mut rb = http
            .request(method, req.url)
            .header(reqwest::header::ACCEPT, req.accept);
        if let Some(a) = self.settings.credentials.authorization()? {
            let mut value = reqwest::header::HeaderValue::from_bytes(a.expose())
                .map_err(|_| "the credentials contain characters not allowed in a header")?;
            value.set_sensitive(true);
            rb = rb.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(body) = req.body {
            if let Some(ct) = req.content_type {
                rb = rb.header(reqwest::header::CONTENT_TYPE, ct);
            }
            rb = rb.body(body);
        }
        let what = format!("{} {}", req.method, req.url);
        let resp = rt
            .block_on(rb.send())
            .map_err(|e| format!("{what}: {}", error_chain(&e)))?;
        Ok(StreamingResponse {
            status: resp.status().as_u16(),
            body: Some(resp),
            what,
        })
    }
}

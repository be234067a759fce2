//! Credentials: what a request presents to the API server. Secrets live only in
//! memory and never print (their Debug is redacted).

pub(crate) mod exec;

use base64::Engine;
use exec::ExecAuth;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes that must not leak: Debug prints a placeholder, Drop wipes the buffer.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret(Vec<u8>);

impl Secret {
    pub(crate) fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // zeroize: volatile writes over the whole allocation (spare capacity
        // included) and a compiler fence, before the allocator reuses it.
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// How requests authenticate. A client certificate can accompany any of them.
#[derive(Debug, Clone, Default)]
pub(crate) enum Credentials {
    #[default]
    None,
    Token(Secret),
    /// Re-read on every request so rotated tokens are picked up.
    TokenFile(PathBuf),
    Basic {
        username: String,
        password: Secret,
    },
    /// An exec credential plugin; its result (token and/or client
    /// certificate) is cached and shared by every client of this config.
    Exec(Arc<ExecAuth>),
    WithIdentity {
        inner: Box<Credentials>,
        identity: Arc<ClientIdentity>,
    },
}

/// A client certificate chain and its private key, both PEM.
#[derive(Debug, Clone)]
pub(crate) struct ClientIdentity {
    pub(crate) cert_pem: Vec<u8>,
    pub(crate) key_pem: Secret,
}

/// What one request presents, resolved just before it is sent.
#[derive(Debug, Default)]
pub(crate) struct Presented {
    pub(crate) authorization: Option<Secret>,
    /// The TLS client identity and its generation: 0 for the kubeconfig's own,
    /// else the exec run that produced it (a change means a new TLS client).
    pub(crate) identity: Option<(Arc<ClientIdentity>, u64)>,
    /// The exec run whose credential this is, to drop it after a 401.
    exec_generation: Option<u64>,
}

impl Credentials {
    pub(crate) fn with_identity(inner: Credentials, cert_pem: Vec<u8>, key_pem: Secret) -> Self {
        Credentials::WithIdentity {
            inner: Box::new(inner),
            identity: Arc::new(ClientIdentity { cert_pem, key_pem }),
        }
    }

    /// The client certificate named in the kubeconfig itself (not an exec plugin's).
    pub(crate) fn static_identity(&self) -> Option<&ClientIdentity> {
        match self {
            Credentials::WithIdentity { identity, .. } => Some(identity),
            _ => None,
        }
    }

    /// Resolves the credentials for one request (may run an exec plugin).
    /// `limits` bound an exec plugin's run and output.
    pub(crate) fn present(&self, limits: &crate::limits::Limits) -> Result<Presented, String> {
        match self {
            Credentials::None => Ok(Presented::default()),
            Credentials::WithIdentity { inner, identity } => {
                let mut p = inner.present(limits)?;
                if p.identity.is_none() {
                    p.identity = Some((identity.clone(), 0));
                }
                Ok(p)
            }
            Credentials::Exec(plugin) => {
                let c = plugin.credential(limits)?;
                Ok(Presented {
                    authorization: c.token.as_ref().map(bearer),
                    identity: c.identity.clone().map(|id| (id, c.generation)),
                    exec_generation: Some(c.generation),
                })
            }
            _ => Ok(Presented {
                authorization: self.authorization(limits)?,
                ..Default::default()
            }),
        }
    }

    /// Called after the server answered 401 to `presented`: drops an exec
    /// plugin's cached credential and says whether retrying with a fresh one
    /// makes sense (kubectl re-runs the plugin once).
    pub(crate) fn reject(&self, presented: &Presented) -> bool {
        match (self, presented.exec_generation) {
            (Credentials::Exec(plugin), Some(generation)) => {
                plugin.invalidate(generation);
                true
            }
            (Credentials::WithIdentity { inner, .. }, _) => inner.reject(presented),
            _ => false,
        }
    }

    /// The bearer token, if this authenticates by token.
    pub(crate) fn bearer_token(
        &self,
        limits: &crate::limits::Limits,
    ) -> Result<Option<Secret>, String> {
        match self {
            Credentials::Token(t) => Ok(Some(t.clone())),
            Credentials::TokenFile(p) => read_token_file(p).map(Some),
            Credentials::Exec(plugin) => Ok(plugin.credential(limits)?.token.clone()),
            Credentials::WithIdentity { inner, .. } => inner.bearer_token(limits),
            _ => Ok(None),
        }
    }

    /// The value of the Authorization header, if any.
    pub(crate) fn authorization(
        &self,
        limits: &crate::limits::Limits,
    ) -> Result<Option<Secret>, String> {
        match self {
            Credentials::Basic { username, password } => {
                let mut raw = username.as_bytes().to_vec();
                raw.push(b':');
                raw.extend_from_slice(password.expose());
                let enc = base64::engine::general_purpose::STANDARD.encode(&raw);
                Secret::new(raw); // wiped on drop
                Ok(Some(Secret::new(format!("Basic {enc}"))))
            }
            Credentials::WithIdentity { inner, .. } => inner.authorization(limits),
            _ => Ok(self.bearer_token(limits)?.as_ref().map(bearer)),
        }
    }
}

impl Credentials {
    /// Which kind of credentials these are, without any secret (`tostring`
    /// of a config, error messages, tests).
    pub(crate) fn describe(&self) -> &'static str {
        match self {
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

    /// The headers shown in a call's `info.headers`: the scheme, never the
    /// secret.
    pub(crate) fn redacted_headers(&self) -> Vec<(String, String)> {
        let scheme = match self {
            Credentials::WithIdentity { inner, .. } => return inner.redacted_headers(),
            Credentials::Token(_) | Credentials::TokenFile(_) | Credentials::Exec(_) => {
                "Bearer <redacted>"
            }
            Credentials::Basic { .. } => "Basic <redacted>",
            Credentials::None => return vec![],
        };
        vec![("authorization".into(), scheme.into())]
    }

    /// Every secret these credentials put on the wire, as it could come back
    /// in a server's text: the token, the Authorization value, a password.
    /// An exec plugin's token only when one is cached (no plugin is run).
    pub(crate) fn known_secrets(&self) -> Vec<Secret> {
        let mut out = Vec::new();
        match self {
            Credentials::Token(t) => out.push(t.clone()),
            Credentials::TokenFile(p) => out.extend(read_token_file(p).ok()),
            Credentials::Basic { password, .. } => {
                out.push(password.clone());
                if let Ok(Some(a)) = self.authorization(&crate::limits::Limits::DEFAULT) {
                    let value = a.expose();
                    out.push(Secret::new(value.strip_prefix(b"Basic ").unwrap_or(value)));
                }
            }
            Credentials::Exec(plugin) => out.extend(plugin.cached_token()),
            Credentials::WithIdentity { inner, .. } => out = inner.known_secrets(),
            Credentials::None => {}
        }
        // "Basic dXNlcjpwYXNz" holds the base64 text; a bare token is covered
        // by itself. Too short a secret would blank ordinary words.
        out.retain(|s| s.expose().len() >= 4);
        out
    }
}

/// `text` with every occurrence of a secret replaced by `[redacted]`: a
/// server that echoes the Authorization header in an error must not put the
/// token into the message the module returns.
pub(crate) fn scrub(text: &[u8], secrets: &[Secret]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for secret in secrets {
        let needle = secret.expose();
        let current = out.as_deref().unwrap_or(text);
        if memchr::memmem::find(current, needle).is_none() {
            continue;
        }
        let mut next = Vec::with_capacity(current.len());
        let mut rest = current;
        while let Some(i) = memchr::memmem::find(rest, needle) {
            next.extend_from_slice(&rest[..i]);
            next.extend_from_slice(b"[redacted]");
            rest = &rest[i + needle.len()..];
        }
        next.extend_from_slice(rest);
        out = Some(next);
    }
    out
}

/// The Authorization value for a bearer token (the one place it is formatted).
pub(crate) fn bearer(token: &Secret) -> Secret {
    let mut v = b"Bearer ".to_vec();
    v.extend_from_slice(token.expose());
    Secret::new(v)
}

/// Reads a token file, trimming surrounding white space. The error names the
/// file but never its contents.
pub(crate) fn read_token_file(path: &Path) -> Result<Secret, String> {
    let raw = crate::limits::read_file(path, crate::limits::CONFIG_FILE)
        .map_err(|e| format!("token file {}: {e}", path.display()))?;
    let text = raw.trim_ascii();
    if text.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(Secret::new(text.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect 15 of issue 16: a server echoing the Authorization header put
    /// the token into the returned error message.
    #[test]
    fn echoed_secrets_are_scrubbed() {
        let t = Credentials::Token(Secret::new("tok-123456"));
        let secrets = t.known_secrets();
        let echoed = br#"{"message":"bad header Authorization: Bearer tok-123456 (tok-123456)"}"#;
        let clean = scrub(echoed, &secrets).unwrap();
        let clean = String::from_utf8(clean).unwrap();
        assert!(!clean.contains("tok-123456"), "{clean}");
        assert!(clean.contains("Bearer [redacted]"), "{clean}");
        assert!(scrub(b"nothing here", &secrets).is_none());
        let b = Credentials::Basic {
            username: "user".into(),
            password: Secret::new("hunter2"),
        };
        let clean = scrub(b"Basic dXNlcjpodW50ZXIy and hunter2", &b.known_secrets()).unwrap();
        assert_eq!(clean, b"Basic [redacted] and [redacted]");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::Basic {
            username: "bob".into(),
            password: Secret::new("hunter2"),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let t = Credentials::Token(Secret::new("tok-123"));
        assert!(!format!("{t:?}").contains("tok-123"));
    }

    #[test]
    fn authorization_headers() {
        let t = Credentials::Token(Secret::new("abc"));
        assert_eq!(
            t.authorization(&Default::default())
                .unwrap()
                .unwrap()
                .expose(),
            b"Bearer abc"
        );
        let b = Credentials::Basic {
            username: "u".into(),
            password: Secret::new("p"),
        };
        assert_eq!(
            b.authorization(&Default::default())
                .unwrap()
                .unwrap()
                .expose(),
            b"Basic dTpw"
        );
        assert!(Credentials::None
            .authorization(&Default::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn token_file_is_reread() {
        let dir = std::env::temp_dir().join(format!("kube-auth-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("token");
        std::fs::write(&p, "one\n").unwrap();
        let c = Credentials::TokenFile(p.clone());
        assert_eq!(
            c.bearer_token(&Default::default())
                .unwrap()
                .unwrap()
                .expose(),
            b"one"
        );
        std::fs::write(&p, "two").unwrap();
        assert_eq!(
            c.bearer_token(&Default::default())
                .unwrap()
                .unwrap()
                .expose(),
            b"two"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

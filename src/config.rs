//! Kubeconfig files: the typed model, context selection and the resolved
//! connection settings a client needs (server, TLS trust, credentials).

use crate::auth::{Credentials, Secret};
use base64::Engine;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// An error in configuration, already worded for the user (names the file).
#[derive(Debug, Clone)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

type Result<T> = std::result::Result<T, ConfigError>;

/// The kubeconfig file as written by kubectl (only the fields we use).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KubeConfigFile {
    #[serde(rename = "current-context", default)]
    pub current_context: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub contexts: Vec<NamedContext>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub users: Vec<NamedUser>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedCluster {
    pub name: String,
    #[serde(default)]
    pub cluster: ClusterEntry,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterEntry {
    pub server: Option<String>,
    pub certificate_authority: Option<String>,
    pub certificate_authority_data: Option<String>,
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    pub proxy_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedContext {
    pub name: String,
    #[serde(default)]
    pub context: ContextEntry,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContextEntry {
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedUser {
    pub name: String,
    #[serde(default)]
    pub user: UserEntry,
}

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct UserEntry {
    pub token: Option<String>,
    #[serde(rename = "tokenFile")]
    pub token_file: Option<String>,
    pub client_certificate: Option<String>,
    pub client_certificate_data: Option<String>,
    pub client_key: Option<String>,
    pub client_key_data: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub exec: Option<serde_yaml::Value>,
    pub auth_provider: Option<serde_yaml::Value>,
}

// Never print credentials, even in debug output.
impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEntry").finish_non_exhaustive()
    }
}

fn null_as_empty<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Settings resolved for one context: everything a transport needs.
#[derive(Debug, Clone, Default)]
pub struct ClusterSettings {
    pub server: String,
    /// PEM bundle of the CAs to trust; `None` means the system roots.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    pub credentials: Credentials,
    pub namespace: Option<String>,
    /// File paths named by the kubeconfig (luakube's `cert()` / `key()`).
    pub cert_path: Option<String>,
    pub key_path: Option<String>,
}

/// A loaded kubeconfig with a selected context.
#[derive(Debug, Clone)]
pub struct KubeConfig {
    pub source: String,
    dir: Option<PathBuf>,
    pub file: KubeConfigFile,
    pub context: String,
    pub settings: ClusterSettings,
}

/// The default kubeconfig path: `$KUBECONFIG`'s first entry, else `$HOME/.kube/config`.
pub fn default_path() -> Result<PathBuf> {
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        if let Some(first) = std::env::split_paths(&list).find(|p| !p.as_os_str().is_empty()) {
            return Ok(first);
        }
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(Path::new(&home).join(".kube").join("config")),
        None => Err(ConfigError(
            "kubeconfig: no path given, KUBECONFIG is unset and HOME is unset".into(),
        )),
    }
}

impl KubeConfig {
    /// Reads and parses a kubeconfig file, selecting `context` or the file's current-context.
    pub fn load(path: &Path, context: Option<&str>) -> Result<Self> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("kubeconfig {source}: cannot read file: {e}")))?;
        let dir = path.parent().map(Path::to_path_buf);
        Self::parse(&text, source, dir, context)
    }

    /// Parses kubeconfig text; `source` names it in errors, `dir` resolves relative paths.
    pub fn parse(
        text: &str,
        source: String,
        dir: Option<PathBuf>,
        context: Option<&str>,
    ) -> Result<Self> {
        if text.trim().is_empty() {
            return Err(ConfigError(format!(
                "kubeconfig {source}: the file is empty"
            )));
        }
        let file: KubeConfigFile = serde_yaml::from_str(text)
            .map_err(|e| ConfigError(format!("kubeconfig {source}: malformed YAML: {e}")))?;
        let context = match context {
            Some(c) => c.to_string(),
            None => file
                .current_context
                .clone()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    ConfigError(format!(
                        "kubeconfig {source}: no context given and no current-context set"
                    ))
                })?,
        };
        let mut cfg = KubeConfig {
            source,
            dir,
            file,
            context: String::new(),
            settings: ClusterSettings::default(),
        };
        cfg.use_context(&context)?;
        Ok(cfg)
    }

    /// Switches to another context, re-resolving server and credentials.
    pub fn use_context(&mut self, name: &str) -> Result<()> {
        let src = &self.source;
        let ctx = self
            .file
            .contexts
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                ConfigError(format!(
                    "kubeconfig {src}: context \"{name}\" not found (contexts: {})",
                    names(self.file.contexts.iter().map(|c| c.name.as_str()))
                ))
            })?;
        let cluster_name = ctx.context.cluster.as_deref().unwrap_or_default();
        let cluster = self
            .file
            .clusters
            .iter()
            .find(|c| c.name == cluster_name)
            .ok_or_else(|| {
                ConfigError(format!(
                    "kubeconfig {src}: cluster \"{cluster_name}\" of context \"{name}\" not found"
                ))
            })?;
        let user_name = ctx.context.user.as_deref().unwrap_or_default();
        let user = self.file.users.iter().find(|u| u.name == user_name);
        if user.is_none() && !user_name.is_empty() {
            return Err(ConfigError(format!(
                "kubeconfig {src}: user \"{user_name}\" of context \"{name}\" not found"
            )));
        }
        let settings = self.resolve(&cluster.cluster, user, name)?;
        self.settings = settings;
        self.context = name.to_string();
        Ok(())
    }

    fn resolve(
        &self,
        cluster: &ClusterEntry,
        user: Option<&NamedUser>,
        ctx_name: &str,
    ) -> Result<ClusterSettings> {
        let src = &self.source;
        let server = cluster
            .server
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ConfigError(format!(
                    "kubeconfig {src}: the cluster of context \"{ctx_name}\" has no server"
                ))
            })?;
        let ca_pem = match (
            &cluster.certificate_authority_data,
            &cluster.certificate_authority,
        ) {
            (Some(data), _) => Some(self.decode_b64(data, "certificate-authority-data")?),
            (None, Some(path)) => Some(self.read_file(path, "certificate-authority")?),
            (None, None) => None,
        };
        let mut settings = ClusterSettings {
            server,
            ca_pem,
            insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
            tls_server_name: cluster.tls_server_name.clone(),
            namespace: self
                .file
                .contexts
                .iter()
                .find(|c| c.name == ctx_name)
                .and_then(|c| c.context.namespace.clone()),
            ..Default::default()
        };
        if let Some(user) = user {
            settings.credentials = self.credentials(&user.name, &user.user, &mut settings)?;
        }
        Ok(settings)
    }

    fn credentials(
        &self,
        name: &str,
        u: &UserEntry,
        settings: &mut ClusterSettings,
    ) -> Result<Credentials> {
        let src = &self.source;
        let cert = match (&u.client_certificate_data, &u.client_certificate) {
            (Some(d), _) => Some(self.decode_b64(d, "client-certificate-data")?),
            (None, Some(p)) => {
                settings.cert_path = Some(self.resolve_path(p).display().to_string());
                Some(self.read_file(p, "client-certificate")?)
            }
            _ => None,
        };
        let key = match (&u.client_key_data, &u.client_key) {
            (Some(d), _) => Some(self.decode_b64(d, "client-key-data")?),
            (None, Some(p)) => {
                settings.key_path = Some(self.resolve_path(p).display().to_string());
                Some(self.read_file(p, "client-key")?)
            }
            _ => None,
        };
        let identity = match (cert, key) {
            (Some(c), Some(k)) => Some((c, Secret::new(k))),
            (Some(_), None) => {
                return Err(ConfigError(format!(
                    "kubeconfig {src}: user \"{name}\" has a client certificate but no client-key"
                )))
            }
            (None, Some(_)) => {
                return Err(ConfigError(format!(
                    "kubeconfig {src}: user \"{name}\" has a client-key but no client-certificate"
                )))
            }
            (None, None) => None,
        };
        let creds = if let Some(t) = u.token.as_ref().filter(|t| !t.is_empty()) {
            Credentials::Token(Secret::new(t.clone().into_bytes()))
        } else if let Some(p) = &u.token_file {
            let path = self.resolve_path(p);
            // Read once now so a missing file is reported at load time; re-read per request.
            crate::auth::read_token_file(&path).map_err(|e| {
                ConfigError(format!("kubeconfig {src}: user \"{name}\" tokenFile: {e}"))
            })?;
            Credentials::TokenFile(path)
        } else if let (Some(user), Some(pass)) = (&u.username, &u.password) {
            Credentials::Basic {
                username: user.clone(),
                password: Secret::new(pass.clone().into_bytes()),
            }
        } else if identity.is_some() {
            Credentials::None
        } else if u.exec.is_some() {
            return Err(ConfigError(format!(
                "kubeconfig {src}: user \"{name}\" uses an exec credential plugin, which this version does not run"
            )));
        } else if u.auth_provider.is_some() {
            return Err(ConfigError(format!(
                "kubeconfig {src}: user \"{name}\" uses an auth-provider, which is not supported"
            )));
        } else {
            return Err(ConfigError(format!(
                "kubeconfig {src}: user \"{name}\" has no usable credentials (token, tokenFile, client certificate and key, or username and password)"
            )));
        };
        Ok(match (creds, identity) {
            (c, Some((cert, key))) => Credentials::with_identity(c, cert, key),
            (c, None) => c,
        })
    }

    fn resolve_path(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        match &self.dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    fn read_file(&self, p: &str, field: &str) -> Result<Vec<u8>> {
        let path = self.resolve_path(p);
        std::fs::read(&path).map_err(|e| {
            ConfigError(format!(
                "kubeconfig {}: {field} {}: {e}",
                self.source,
                path.display()
            ))
        })
    }

    fn decode_b64(&self, data: &str, field: &str) -> Result<Vec<u8>> {
        let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map_err(|e| {
                ConfigError(format!(
                    "kubeconfig {}: {field} is not valid base64: {e}",
                    self.source
                ))
            })
    }

    pub fn context_names(&self) -> Vec<String> {
        self.file.contexts.iter().map(|c| c.name.clone()).collect()
    }

    pub fn cluster_names(&self) -> Vec<String> {
        self.file.clusters.iter().map(|c| c.name.clone()).collect()
    }

    pub fn user_names(&self) -> Vec<String> {
        self.file.users.iter().map(|c| c.name.clone()).collect()
    }

    fn current(&self) -> Option<&ContextEntry> {
        self.file
            .contexts
            .iter()
            .find(|c| c.name == self.context)
            .map(|c| &c.context)
    }

    pub fn cluster_name(&self) -> Option<String> {
        self.current().and_then(|c| c.cluster.clone())
    }

    pub fn user_name(&self) -> Option<String> {
        self.current().and_then(|c| c.user.clone())
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The service-account directory mounted into every pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Settings for a process running inside a pod (kubectl's in-cluster rules).
pub fn in_cluster(dir: &Path) -> Result<ClusterSettings> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST").unwrap_or_default();
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_default();
    if host.is_empty() || port.is_empty() {
        return Err(ConfigError(
            "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a pod?)".into(),
        ));
    }
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let token_path = dir.join("token");
    crate::auth::read_token_file(&token_path)
        .map_err(|e| ConfigError(format!("in-cluster config: {e}")))?;
    let ca_path = dir.join("ca.crt");
    let ca_pem = std::fs::read(&ca_path)
        .map_err(|e| ConfigError(format!("in-cluster config: {}: {e}", ca_path.display())))?;
    let namespace = std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Ok(ClusterSettings {
        server: format!("https://{host}:{port}"),
        ca_pem: Some(ca_pem),
        credentials: Credentials::TokenFile(token_path),
        namespace,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: aGVsbG8=
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team}
- name: bad-user
  context: {cluster: c1, user: nobody}
- name: ops
  context: {cluster: c1, user: u2}
users:
- name: u1
  user: {token: abc}
- name: u2
  user: {username: bob, password: pw}
"#;

    fn parse(ctx: Option<&str>) -> Result<KubeConfig> {
        KubeConfig::parse(SAMPLE, "test.yaml".into(), None, ctx)
    }

    #[test]
    fn selects_current_context() {
        let c = parse(None).unwrap();
        assert_eq!(c.context, "dev");
        assert_eq!(c.settings.server, "https://127.0.0.1:6443");
        assert_eq!(c.settings.ca_pem.as_deref(), Some(&b"hello"[..]));
        assert_eq!(c.settings.namespace.as_deref(), Some("team"));
        assert!(matches!(c.settings.credentials, Credentials::Token(_)));
        assert_eq!(c.context_names(), vec!["dev", "bad-user", "ops"]);
    }

    #[test]
    fn switches_context_and_credentials() {
        let mut c = parse(None).unwrap();
        c.use_context("ops").unwrap();
        assert!(matches!(c.settings.credentials, Credentials::Basic { .. }));
        assert_eq!(c.user_name().as_deref(), Some("u2"));
    }

    #[test]
    fn errors_name_file_and_missing_part() {
        let e = parse(Some("nope")).unwrap_err().0;
        assert!(
            e.contains("test.yaml") && e.contains("\"nope\" not found"),
            "{e}"
        );
        let e = parse(Some("bad-user")).unwrap_err().0;
        assert!(e.contains("user \"nobody\""), "{e}");
        let e = KubeConfig::parse("", "empty.yaml".into(), None, None)
            .unwrap_err()
            .0;
        assert!(e.contains("empty.yaml") && e.contains("empty"), "{e}");
        let e = KubeConfig::parse("clusters: [", "bad.yaml".into(), None, None)
            .unwrap_err()
            .0;
        assert!(e.contains("malformed YAML"), "{e}");
    }

    #[test]
    fn error_messages_hide_secrets() {
        let text = SAMPLE.replace("aGVsbG8=", "not~base64");
        let e = KubeConfig::parse(&text, "t".into(), None, None)
            .unwrap_err()
            .0;
        assert!(e.contains("certificate-authority-data is not valid base64"));
        assert!(!e.contains("abc"));
    }
}

//! Kubeconfig files: the typed model, context selection and the resolved
//! connection settings a client needs (server, TLS trust, credentials).

use crate::auth::exec::ExecConfig;
use crate::auth::{Credentials, Secret, UserAuth, UserAuthError};
use crate::retry::RetryPolicy;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An error in configuration, already worded for the user (names the file).
#[derive(Debug, Clone)]
pub struct ConfigError(pub(crate) String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

type Result<T> = std::result::Result<T, ConfigError>;

/// The kubeconfig file as written by kubectl (only the fields we use).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct KubeConfigFile {
    #[serde(rename = "current-context", default)]
    pub(crate) current_context: Option<String>,
    #[serde(default, deserialize_with = "crate::yaml11::null_as_empty")]
    pub(crate) clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "crate::yaml11::null_as_empty")]
    pub(crate) contexts: Vec<NamedContext>,
    #[serde(default, deserialize_with = "crate::yaml11::null_as_empty")]
    pub(crate) users: Vec<NamedUser>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NamedCluster {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) cluster: ClusterEntry,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ClusterEntry {
    pub(crate) server: Option<String>,
    pub(crate) certificate_authority: Option<String>,
    pub(crate) certificate_authority_data: Option<String>,
    #[serde(default)]
    pub(crate) insecure_skip_tls_verify: bool,
    pub(crate) tls_server_name: Option<String>,
    pub(crate) proxy_url: Option<String>,
    #[serde(default)]
    pub(crate) disable_compression: bool,
    #[serde(default, deserialize_with = "crate::yaml11::null_as_empty")]
    pub(crate) extensions: Vec<NamedExtension>,
}

/// A named extension; exec plugins with provideClusterInfo receive the one
/// called `client.authentication.k8s.io/exec` as `spec.cluster.config`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NamedExtension {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) extension: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NamedContext {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) context: ContextEntry,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ContextEntry {
    pub(crate) cluster: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NamedUser {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) user: UserEntry,
}

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct UserEntry {
    pub(crate) token: Option<String>,
    #[serde(rename = "tokenFile")]
    pub(crate) token_file: Option<String>,
    pub(crate) client_certificate: Option<String>,
    pub(crate) client_certificate_data: Option<String>,
    pub(crate) client_key: Option<String>,
    pub(crate) client_key_data: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    #[serde(rename = "as")]
    pub(crate) impersonate: Option<String>,
    #[serde(default, deserialize_with = "crate::yaml11::null_as_empty")]
    pub(crate) as_groups: Vec<String>,
    pub(crate) as_uid: Option<String>,
    #[serde(default)]
    pub(crate) as_user_extra: BTreeMap<String, Vec<String>>,
    pub(crate) exec: Option<ExecConfig>,
    pub(crate) auth_provider: Option<serde_yaml::Value>,
}

// Never print credentials, even in debug output.
impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEntry").finish_non_exhaustive()
    }
}

impl KubeConfigFile {
    /// Makes relative file references absolute against `dir`, the directory of
    /// the file that defined them (kubectl resolves each file before merging).
    pub(crate) fn resolve_paths(&mut self, dir: &Path) {
        let abs = |p: &mut Option<String>| {
            if let Some(v) = p.as_mut() {
                if !v.is_empty() && Path::new(v.as_str()).is_relative() {
                    *v = dir.join(v.as_str()).display().to_string();
                }
            }
        };
        for c in &mut self.clusters {
            abs(&mut c.cluster.certificate_authority);
        }
        for u in &mut self.users {
            let u = &mut u.user;
            abs(&mut u.client_certificate);
            abs(&mut u.client_key);
            abs(&mut u.token_file);
            if let Some(exec) = u.exec.as_mut() {
                // A bare name is looked up on PATH; only a path with a slash is relative.
                if exec.command.contains('/') && Path::new(&exec.command).is_relative() {
                    exec.command = dir.join(&exec.command).display().to_string();
                }
            }
        }
    }

    /// Merges a later file into this one as kubectl does: the first file to
    /// define a cluster, context or user (by name) or current-context wins.
    pub(crate) fn merge(&mut self, later: KubeConfigFile) {
        if self
            .current_context
            .as_deref()
            .unwrap_or_default()
            .is_empty()
        {
            self.current_context = later.current_context;
        }
        fn add<T>(into: &mut Vec<T>, from: Vec<T>, name: fn(&T) -> &str) {
            for item in from {
                if !into.iter().any(|have| name(have) == name(&item)) {
                    into.push(item);
                }
            }
        }
        add(&mut self.clusters, later.clusters, |c| &c.name);
        add(&mut self.contexts, later.contexts, |c| &c.name);
        add(&mut self.users, later.users, |u| &u.name);
    }
}

/// Connection limits; `None` means no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Option<Duration>,
    /// A whole call, from sending to the last byte of the answer.
    pub(crate) request: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(10)),
            request: Some(Duration::from_secs(60)),
        }
    }
}

/// Impersonation (`as`, `as-groups`, `as-uid`, `as-user-extra`): sent as
/// `Impersonate-*` headers on every request.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Impersonation {
    pub(crate) user: Option<String>,
    pub(crate) groups: Vec<String>,
    pub(crate) uid: Option<String>,
    pub(crate) extra: BTreeMap<String, Vec<String>>,
}

/// Settings resolved for one context: everything a transport needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClusterSettings {
    pub(crate) server: String,
    /// PEM bundle of the CAs to trust; `None` means the system roots.
    pub(crate) ca_pem: Option<Vec<u8>>,
    pub(crate) insecure_skip_tls_verify: bool,
    pub(crate) tls_server_name: Option<String>,
    /// `proxy-url`; when unset, HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply.
    pub(crate) proxy_url: Option<String>,
    pub(crate) disable_compression: bool,
    pub(crate) credentials: Credentials,
    pub(crate) impersonate: Impersonation,
    /// Headers of a script's own config object (luakube's `conf:headers()`
    /// beyond `authorization`, e.g. `Impersonate-User` or a trace id), sent
    /// on every request.
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) namespace: Option<String>,
    /// File paths named by the kubeconfig (luakube's `cert()` / `key()`).
    pub(crate) cert_path: Option<String>,
    pub(crate) key_path: Option<String>,
    pub(crate) timeouts: Timeouts,
    pub(crate) retries: RetryPolicy,
    /// Bounds on answers and plugin output (`conf:set_limits`).
    pub(crate) limits: crate::limits::Limits,
}

/// The server URL without userinfo (`https://user:pass@host` → `https://host`).
/// A password there would show in `tostring(conf)`, `info.url` and every
/// error message, and reqwest would send it as Basic auth in place of the
/// configured credentials. kubectl ignores URL userinfo too: the user entry's
/// credentials are the ones used.
pub(crate) fn without_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_string(),
    }
}

impl ClusterSettings {
    /// The limits an exec plugin runs under: its time is also bounded by
    /// the request timeout (a call honours its own timeout).
    pub(crate) fn plugin_limits(&self) -> crate::limits::Limits {
        let mut l = self.limits;
        if let Some(t) = self.timeouts.request {
            l.plugin_time = l.plugin_time.min(t);
        }
        l
    }
}

/// A loaded kubeconfig with a selected context.
#[derive(Debug, Clone)]
pub struct KubeConfig {
    /// The file, or the `:`-joined list of merged files, for error messages.
    pub(crate) source: String,
    pub(crate) file: KubeConfigFile,
    pub(crate) context: String,
    pub(crate) settings: ClusterSettings,
}

/// Where to look when no path is given: every entry of `$KUBECONFIG` (merged),
/// else `$HOME/.kube/config`.
pub(crate) fn default_paths() -> Result<Vec<PathBuf>> {
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        let mut paths: Vec<PathBuf> = Vec::new();
        for p in std::env::split_paths(&list) {
            if !p.as_os_str().is_empty() && !paths.contains(&p) {
                paths.push(p);
            }
        }
        if !paths.is_empty() {
            return Ok(paths);
        }
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(vec![Path::new(&home).join(".kube").join("config")]),
        None => Err(ConfigError(
            "kubeconfig: no path given, KUBECONFIG is unset and HOME is unset".into(),
        )),
    }
}

impl KubeConfig {
    /// Reads and parses a kubeconfig file, selecting `context` or the file's current-context.
    pub(crate) fn load(path: &Path, context: Option<&str>) -> Result<Self> {
        let source = path.display().to_string();
        let text = read_text(path)
            .map_err(|e| ConfigError(format!("kubeconfig {source}: cannot read file: {e}")))?;
        Self::parse(&text, source, path.parent().map(Path::to_path_buf), context)
    }

    /// Loads several files merged as kubectl merges `KUBECONFIG`: missing and
    /// empty files are skipped, the first definition of anything wins.
    pub(crate) fn load_merged(paths: &[PathBuf], context: Option<&str>) -> Result<Self> {
        if let [single] = paths {
            return Self::load(single, context);
        }
        let source = std::env::join_paths(paths)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|_| format!("{paths:?}"));
        let mut merged: Option<KubeConfigFile> = None;
        for path in paths {
            let text = match read_text(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(ConfigError(format!(
                        "kubeconfig {}: cannot read file: {e}",
                        path.display()
                    )))
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            let file = parse_file(&text, &path.display().to_string(), path.parent())?;
            match merged.as_mut() {
                Some(m) => m.merge(file),
                None => merged = Some(file),
            }
        }
        let file = merged.ok_or_else(|| {
            ConfigError(format!(
                "kubeconfig {source}: none of these files exists or has content"
            ))
        })?;
        Self::select(file, source, context)
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
        let file = parse_file(text, &source, dir.as_deref())?;
        Self::select(file, source, context)
    }

    fn select(file: KubeConfigFile, source: String, context: Option<&str>) -> Result<Self> {
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
            file,
            context: String::new(),
            settings: ClusterSettings::default(),
        };
        cfg.use_context(&context)?;
        Ok(cfg)
    }

    /// Switches to another context, re-resolving server and credentials.
    /// Timeouts and retries set from Lua carry over.
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
        let mut settings = self.resolve(&cluster.cluster, user, name)?;
        settings.timeouts = self.settings.timeouts;
        settings.retries = self.settings.retries;
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
            server: without_userinfo(&server),
            ca_pem,
            insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
            tls_server_name: cluster.tls_server_name.clone().filter(|s| !s.is_empty()),
            proxy_url: cluster.proxy_url.clone().filter(|s| !s.is_empty()),
            disable_compression: cluster.disable_compression,
            namespace: self
                .file
                .contexts
                .iter()
                .find(|c| c.name == ctx_name)
                .and_then(|c| c.context.namespace.clone())
                .filter(|n| !n.is_empty()),
            ..Default::default()
        };
        if let Some(user) = user {
            let u = &user.user;
            settings.credentials = self.credentials(&user.name, u, cluster, &mut settings)?;
            settings.impersonate = Impersonation {
                user: u.impersonate.clone().filter(|s| !s.is_empty()),
                groups: u.as_groups.clone(),
                uid: u.as_uid.clone().filter(|s| !s.is_empty()),
                extra: u.as_user_extra.clone(),
            };
        }
        Ok(settings)
    }

    fn credentials(
        &self,
        name: &str,
        u: &UserEntry,
        cluster: &ClusterEntry,
        settings: &mut ClusterSettings,
    ) -> Result<Credentials> {
        let src = &self.source;
        let cert = match (&u.client_certificate_data, &u.client_certificate) {
            (Some(d), _) => Some(self.decode_b64(d, "client-certificate-data")?),
            (None, Some(p)) => {
                settings.cert_path = Some(p.clone());
                Some(self.read_file(p, "client-certificate")?)
            }
            _ => None,
        };
        let key = match (&u.client_key_data, &u.client_key) {
            (Some(d), _) => Some(self.decode_b64(d, "client-key-data")?),
            (None, Some(p)) => {
                settings.key_path = Some(p.clone());
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
        let auth = UserAuth {
            token: u
                .token
                .as_ref()
                .filter(|t| !t.is_empty())
                .map(|t| Secret::new(t.clone().into_bytes())),
            token_file: u.token_file.as_ref().map(PathBuf::from),
            basic: match (&u.username, &u.password) {
                (Some(user), Some(pass)) => {
                    Some((user.clone(), Secret::new(pass.clone().into_bytes())))
                }
                _ => None,
            },
            exec: u
                .exec
                .as_ref()
                .map(|e| (e.clone(), exec_cluster_info(cluster, settings))),
            identity,
        };
        if !auth.is_empty() {
            return Credentials::from_user(auth).map_err(|e| match e {
                UserAuthError::TokenFile(e) => {
                    ConfigError(format!("kubeconfig {src}: user \"{name}\" tokenFile: {e}"))
                }
                UserAuthError::Exec(e) => {
                    ConfigError(format!("kubeconfig {src}: user \"{name}\": {e}"))
                }
            });
        }
        if u.auth_provider.is_some() {
            return Err(ConfigError(format!(
                "kubeconfig {src}: user \"{name}\" uses an auth-provider, which is not supported (use an exec credential plugin instead)"
            )));
        }
        Err(ConfigError(format!(
            "kubeconfig {src}: user \"{name}\" has no usable credentials (token, tokenFile, client certificate and key, username and password, or exec)"
        )))
    }

    fn read_file(&self, p: &str, field: &str) -> Result<Vec<u8>> {
        crate::limits::read_file(Path::new(p), crate::limits::CONFIG_FILE)
            .map_err(|e| ConfigError(format!("kubeconfig {}: {field} {p}: {e}", self.source)))
    }

    fn decode_b64(&self, data: &str, field: &str) -> Result<Vec<u8>> {
        decode_b64(data).map_err(|e| {
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

    pub(crate) fn cluster_name(&self) -> Option<String> {
        self.current().and_then(|c| c.cluster.clone())
    }

    pub(crate) fn user_name(&self) -> Option<String> {
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

fn decode_b64(data: &str) -> std::result::Result<Vec<u8>, base64::DecodeError> {
    let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes())
}

/// A decoding error without the scalar values it quotes between backticks
/// (`invalid type: integer \`1234\``): a numeric token in the wrong place.
fn hide_values(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut parts = msg.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut inside = true;
    for p in parts {
        if inside {
            out.push_str("(value not shown)");
        } else {
            out.push_str(p);
        }
        inside = !inside;
    }
    out
}

/// A YAML decoding error without the string values it quotes (`invalid type:
/// string "…", expected …`): the value may be a token or password put in the
/// wrong place.
fn hide_string_values(msg: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        out.push_str("string (value not shown)");
        let quoted = &rest[at + MARK.len()..];
        let mut escaped = false;
        let end = quoted
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map(|(i, _)| i + 1)
            .unwrap_or(quoted.len());
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
}

/// A kubeconfig's text: a regular file of bounded size, UTF-8.
fn read_text(path: &Path) -> std::io::Result<String> {
    let raw = crate::limits::read_file(path, crate::limits::CONFIG_FILE)?;
    String::from_utf8(raw).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Parses one file and makes its relative paths absolute against `dir`.
fn parse_file(text: &str, source: &str, dir: Option<&Path>) -> Result<KubeConfigFile> {
    // A byte order mark (editors on Windows write one): kubectl reads past
    // it, serde_yaml took it for the start of a second document.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    crate::convert::check_yaml_depth(text.as_bytes())
        .map_err(|e| ConfigError(format!("kubeconfig {source}: {e}")))?;
    // YAML 1.1 as kubectl reads kubeconfigs (merge keys, yes/no, 0644).
    let malformed = |e: String| {
        ConfigError(format!(
            "kubeconfig {source}: malformed YAML: {}",
            hide_values(&hide_string_values(&e))
        ))
    };
    let value = crate::yaml11::parse_first(text).map_err(malformed)?;
    let value = match value {
        serde_json::Value::Null => serde_json::Value::Object(Default::default()),
        v => v,
    };
    // Typed through serde_yaml again (the resolved values written out as plain
    // YAML), so errors keep naming where they are (`users[0].user: …`).
    let resolved = serde_yaml::to_string(&value).map_err(|e| malformed(e.to_string()))?;
    let mut file: KubeConfigFile =
        serde_yaml::from_str(&resolved).map_err(|e| malformed(e.to_string()))?;
    if let Some(dir) = dir {
        file.resolve_paths(dir);
    }
    Ok(file)
}

/// `spec.cluster` of KUBERNETES_EXEC_INFO, as kubectl fills it for plugins
/// that set provideClusterInfo.
fn exec_cluster_info(cluster: &ClusterEntry, settings: &ClusterSettings) -> serde_json::Value {
    let mut info = serde_json::json!({ "server": settings.server });
    let obj = info.as_object_mut().expect("a JSON object");
    if let Some(ca) = &settings.ca_pem {
        obj.insert(
            "certificate-authority-data".into(),
            base64::engine::general_purpose::STANDARD.encode(ca).into(),
        );
    }
    if let Some(name) = &settings.tls_server_name {
        obj.insert("tls-server-name".into(), name.clone().into());
    }
    if settings.insecure_skip_tls_verify {
        obj.insert("insecure-skip-tls-verify".into(), true.into());
    }
    if let Some(proxy) = &settings.proxy_url {
        obj.insert("proxy-url".into(), proxy.clone().into());
    }
    if settings.disable_compression {
        obj.insert("disable-compression".into(), true.into());
    }
    if let Some(ext) = cluster
        .extensions
        .iter()
        .find(|e| e.name == crate::auth::exec::CLUSTER_EXTENSION)
    {
        obj.insert("config".into(), ext.extension.clone());
    }
    info
}

/// The service-account directory mounted into every pod.
pub(crate) const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The API server address a pod sees: `https://KUBERNETES_SERVICE_HOST:PORT`
/// (an IPv6 host in brackets).
pub(crate) fn in_cluster_server() -> Result<String> {
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
    Ok(format!("https://{host}:{port}"))
}

/// Settings for a process running inside a pod (kubectl's in-cluster rules).
/// The token file is re-read on every request, so rotated tokens are used.
pub(crate) fn in_cluster(dir: &Path) -> Result<ClusterSettings> {
    let server = in_cluster_server()?;
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
        server,
        ca_pem: Some(ca_pem),
        credentials: Credentials::TokenFile(token_path),
        namespace,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    /// Found by spec/hardening_secrets_spec.lua: a token written where YAML
    /// expected a map was quoted in the error message.
    #[test]
    fn yaml_errors_do_not_quote_string_values() {
        let text = "apiVersion: v1\nusers:\n- name: u\n  user: tok-SEKRIT-\\\"x\n";
        let e = KubeConfig::parse(text, "t".into(), None, None)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("SEKRIT"), "{e}");
        assert!(
            e.contains("users[0].user: invalid type: string (value not shown)"),
            "{e}"
        );
        assert_eq!(
            super::hide_string_values(r#"a string "x\"y" and string "z", end"#),
            "a string (value not shown) and string (value not shown), end"
        );
    }

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

    /// Defect 14 of issue 16: a password in the server URL was shown and
    /// sent as Basic auth in place of the configured token.
    #[test]
    fn userinfo_is_stripped_from_server_urls() {
        assert_eq!(
            without_userinfo("https://user:pa@ss@host:6443/base?x=a@b"),
            "https://host:6443/base?x=a@b"
        );
        assert_eq!(without_userinfo("https://host:6443"), "https://host:6443");
        assert_eq!(without_userinfo("https://u@h"), "https://h");
        assert_eq!(without_userinfo("not a url"), "not a url");
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

    #[test]
    fn merges_files_first_definition_wins() {
        let first = KubeConfigFile {
            current_context: None,
            ..serde_yaml::from_str(SAMPLE).unwrap()
        };
        let second: KubeConfigFile = serde_yaml::from_str(
            r#"
current-context: ops
clusters:
- {name: c1, cluster: {server: "https://ignored:1"}}
- {name: c2, cluster: {server: "https://second:6443"}}
contexts:
- {name: dev, context: {cluster: c2, user: u1}}
- {name: extra, context: {cluster: c2, user: u3}}
users:
- {name: u1, user: {token: ignored}}
- {name: u3, user: {token: third}}
"#,
        )
        .unwrap();
        let mut merged = first;
        merged.merge(second);
        assert_eq!(merged.current_context.as_deref(), Some("ops"));
        let clusters: Vec<_> = merged.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(clusters, ["c1", "c2"]);
        assert_eq!(
            merged.clusters[0].cluster.server.as_deref(),
            Some("https://127.0.0.1:6443")
        );
        let contexts: Vec<_> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(contexts, ["dev", "bad-user", "ops", "extra"]);
        assert_eq!(merged.contexts[0].context.cluster.as_deref(), Some("c1"));
        assert_eq!(merged.users.len(), 3);
    }

    #[test]
    fn loads_a_kubeconfig_list_skipping_missing_files() {
        let dir = std::env::temp_dir().join(format!("kube-merge-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a"), "current-context: dev\n").unwrap();
        std::fs::write(
            dir.join("sub/b"),
            SAMPLE.replace("current-context: dev", "current-context: ops"),
        )
        .unwrap();
        std::fs::write(dir.join("empty"), "").unwrap();
        let paths = [
            dir.join("missing"),
            dir.join("a"),
            dir.join("empty"),
            dir.join("sub/b"),
        ];
        let c = KubeConfig::load_merged(&paths, None).unwrap();
        assert_eq!(c.context, "dev");
        assert!(c.source.contains("missing") && c.source.contains(':'));
        let e = KubeConfig::load_merged(&[dir.join("missing"), dir.join("empty")], None)
            .unwrap_err()
            .0;
        assert!(e.contains("none of these files"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn resolves_relative_paths_against_the_defining_file() {
        let mut f: KubeConfigFile = serde_yaml::from_str(
            r#"
clusters:
- {name: c, cluster: {server: "https://x", certificate-authority: ca.crt}}
users:
- name: u
  user:
    client-certificate: certs/u.crt
    client-key: /abs/u.key
    tokenFile: ../tok
    exec: {command: ./bin/plugin, apiVersion: client.authentication.k8s.io/v1beta1}
- name: v
  user:
    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}
"#,
        )
        .unwrap();
        f.resolve_paths(Path::new("/home/me/.kube"));
        assert_eq!(
            f.clusters[0].cluster.certificate_authority.as_deref(),
            Some("/home/me/.kube/ca.crt")
        );
        let u = &f.users[0].user;
        assert_eq!(
            u.client_certificate.as_deref(),
            Some("/home/me/.kube/certs/u.crt")
        );
        assert_eq!(u.client_key.as_deref(), Some("/abs/u.key"));
        assert_eq!(u.token_file.as_deref(), Some("/home/me/.kube/../tok"));
        assert_eq!(
            u.exec.as_ref().unwrap().command,
            "/home/me/.kube/./bin/plugin"
        );
        assert_eq!(f.users[1].user.exec.as_ref().unwrap().command, "aws");
    }

    #[test]
    fn reads_impersonation_proxy_and_exec() {
        let text = r#"
current-context: x
clusters:
- name: c
  cluster:
    server: https://k:6443
    proxy-url: socks5://proxy:1080
    disable-compression: true
    tls-server-name: api.internal
    extensions:
    - {name: client.authentication.k8s.io/exec, extension: {audience: k8s}}
contexts:
- {name: x, context: {cluster: c, user: u}}
users:
- name: u
  user:
    as: jane
    as-groups: [dev, ops]
    as-uid: "42"
    as-user-extra: {scopes: [view, edit]}
    exec:
      command: gke-gcloud-auth-plugin
      apiVersion: client.authentication.k8s.io/v1beta1
      provideClusterInfo: true
"#;
        let c = KubeConfig::parse(text, "t".into(), None, None).unwrap();
        let s = &c.settings;
        assert_eq!(s.proxy_url.as_deref(), Some("socks5://proxy:1080"));
        assert!(s.disable_compression);
        assert_eq!(s.namespace, None);
        assert_eq!(s.impersonate.user.as_deref(), Some("jane"));
        assert_eq!(s.impersonate.groups, ["dev", "ops"]);
        assert_eq!(s.impersonate.uid.as_deref(), Some("42"));
        assert_eq!(s.impersonate.extra["scopes"], ["view", "edit"]);
        assert!(matches!(s.credentials, Credentials::Exec(_)));
        let ext = &c.file.clusters[0].cluster.extensions[0];
        let info = exec_cluster_info(&c.file.clusters[0].cluster, s);
        assert_eq!(info["config"], ext.extension);
        assert_eq!(info["tls-server-name"], "api.internal");
        assert_eq!(info["server"], "https://k:6443");
    }
}

//! `kube.config` objects as Lua sees them: luakube's Config methods over the
//! Rust kubeconfig model, and the conversion of a config into a client.

use crate::auth::{Credentials, Secret};
use crate::call::ClientCore;
use crate::config::{self, ClusterSettings, KubeConfig};
use crate::lua_fn;
use crate::target::ApiClient;
use crate::transport::Transport;
use mlua::{AnyUserData, Lua, Table, UserData, UserDataMethods, Value};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// A loaded configuration: a kubeconfig file with a selected context, or
/// settings made from a token or the in-cluster service account.
pub(crate) struct LuaConfig {
    file: RefCell<Option<KubeConfig>>,
    settings: RefCell<Arc<ClusterSettings>>,
}

impl LuaConfig {
    pub(crate) fn from_file(cfg: KubeConfig) -> Self {
        let settings = Arc::new(cfg.settings.clone());
        LuaConfig {
            file: RefCell::new(Some(cfg)),
            settings: RefCell::new(settings),
        }
    }

    pub(crate) fn from_settings(mut settings: ClusterSettings) -> Self {
        settings.server = config::without_userinfo(&settings.server);
        LuaConfig {
            file: RefCell::new(None),
            settings: RefCell::new(Arc::new(settings)),
        }
    }

    pub(crate) fn settings(&self) -> Arc<ClusterSettings> {
        self.settings.borrow().clone()
    }

    /// Changes connection settings here and in the kubeconfig (so they
    /// survive a context switch); clients made afterwards use them.
    fn update(&self, change: impl Fn(&mut ClusterSettings)) {
        if let Some(f) = self.file.borrow_mut().as_mut() {
            change(&mut f.settings);
        }
        change(Arc::make_mut(&mut self.settings.borrow_mut()));
    }
}

/// A duration in seconds from Lua: a positive number, or `false` / 0 for none.
fn seconds(what: &str, v: Value) -> mlua::Result<Option<Option<Duration>>> {
    match v {
        Value::Nil => Ok(None),
        Value::Boolean(false) => Ok(Some(None)),
        Value::Integer(0) => Ok(Some(None)),
        Value::Number(0.0) => Ok(Some(None)),
        Value::Integer(n) if n > 0 => Ok(Some(Some(Duration::from_secs(n as u64)))),
        Value::Number(n) if n > 0.0 => Duration::try_from_secs_f64(n)
            .map(|d| Some(Some(d)))
            .map_err(|_| err(format!("{what}: {n} seconds is out of range"))),
        other => Err(err(format!(
            "{what} must be a number of seconds (0 or false for none), got {}",
            match other {
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                o => o.type_name().to_string(),
            }
        ))),
    }
}

/// Rejects keys a setter does not know, so a typo is not silently ignored.
fn check_keys(what: &str, t: &Table, known: &[&str]) -> mlua::Result<()> {
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let name = match &k {
            Value::String(s) => s.to_str()?.to_string(),
            other => format!("<{}>", other.type_name()),
        };
        if !known.contains(&name.as_str()) {
            return Err(err(format!(
                "{what}: unknown option \"{name}\" (known: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// `conf:set_timeouts{connect = s, request = s}`.
fn set_timeouts(this: &LuaConfig, t: Table) -> mlua::Result<()> {
    const WHAT: &str = "config:set_timeouts";
    check_keys(WHAT, &t, &["connect", "request"])?;
    let connect = seconds(&format!("{WHAT}: connect"), t.get("connect")?)?;
    let request = seconds(&format!("{WHAT}: request"), t.get("request")?)?;
    this.update(|s| {
        if let Some(c) = connect {
            s.timeouts.connect = c;
        }
        if let Some(r) = request {
            s.timeouts.request = r;
        }
    });
    Ok(())
}

/// `conf:set_retries{max = n, backoff = s, max_backoff = s, budget = s}`:
/// `max` retries after the first try (0 turns retrying off).
fn set_retries(this: &LuaConfig, t: Table) -> mlua::Result<()> {
    const WHAT: &str = "config:set_retries";
    check_keys(WHAT, &t, &["max", "backoff", "max_backoff", "budget"])?;
    let max = match t.get::<Value>("max")? {
        Value::Nil => None,
        Value::Integer(n) if (0..=100).contains(&n) => Some(n as u32),
        Value::Number(n) if n.fract() == 0.0 && (0.0..=100.0).contains(&n) => Some(n as u32),
        _ => {
            return Err(err(format!(
                "{WHAT}: max must be a whole number from 0 to 100"
            )))
        }
    };
    let positive = |key: &str| -> mlua::Result<Option<Duration>> {
        match seconds(&format!("{WHAT}: {key}"), t.get(key)?)? {
            None => Ok(None),
            Some(Some(d)) => Ok(Some(d)),
            Some(None) => Err(err(format!("{WHAT}: {key} must be more than 0 seconds"))),
        }
    };
    let (backoff, max_backoff, budget) = (
        positive("backoff")?,
        positive("max_backoff")?,
        positive("budget")?,
    );
    this.update(|s| {
        let r = &mut s.retries;
        if let Some(m) = max {
            r.max_tries = m + 1;
        }
        r.base = backoff.unwrap_or(r.base);
        r.max_delay = max_backoff.unwrap_or(r.max_delay);
        r.budget = budget.unwrap_or(r.budget);
    });
    Ok(())
}

/// `conf:set_limits{body = bytes, line = bytes, plugin_output = bytes,
/// plugin_time = seconds}` (see `limits`).
fn set_limits(this: &LuaConfig, t: Table) -> mlua::Result<()> {
    const WHAT: &str = "config:set_limits";
    check_keys(WHAT, &t, &["body", "line", "plugin_output", "plugin_time"])?;
    let size = |key: &str| -> mlua::Result<Option<usize>> {
        match t.get::<Value>(key)? {
            Value::Nil => Ok(None),
            Value::Integer(n) if n > 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => {
                Ok(Some(if n >= usize::MAX as f64 {
                    usize::MAX
                } else {
                    n as usize
                }))
            }
            _ => Err(err(format!(
                "{WHAT}: {key} must be a whole number of bytes, 1 or more"
            ))),
        }
    };
    let (body, line, output) = (size("body")?, size("line")?, size("plugin_output")?);
    let time = match seconds(&format!("{WHAT}: plugin_time"), t.get("plugin_time")?)? {
        None => None,
        Some(Some(d)) => Some(d),
        Some(None) => {
            return Err(err(format!(
                "{WHAT}: plugin_time must be more than 0 seconds"
            )))
        }
    };
    this.update(|s| {
        let l = &mut s.limits;
        l.body = body.unwrap_or(l.body);
        l.line = line.unwrap_or(l.line);
        l.plugin_output = output.unwrap_or(l.plugin_output);
        l.plugin_time = time.unwrap_or(l.plugin_time);
    });
    Ok(())
}

fn err(e: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(e.to_string())
}

fn list(lua: &Lua, items: Vec<String>) -> mlua::Result<Table> {
    lua.create_sequence_from(items)
}

fn config_methods(lua: &Lua) -> mlua::Result<Table> {
    type C = LuaConfig;
    let names = |f: fn(&KubeConfig) -> Vec<String>| {
        move |lua: &Lua, this: &C, ()| {
            list(lua, this.file.borrow().as_ref().map(f).unwrap_or_default())
        }
    };
    let entries = vec![
        (
            "contexts",
            lua_fn::method(lua, "config:contexts", names(KubeConfig::context_names))?,
        ),
        (
            "clusters",
            lua_fn::method(lua, "config:clusters", names(KubeConfig::cluster_names))?,
        ),
        (
            "usernames",
            lua_fn::method(lua, "config:usernames", names(KubeConfig::user_names))?,
        ),
        (
            "context",
            lua_fn::method(
                lua,
                "config:context",
                |_, this: &C, name: Option<String>| {
                    let mut file = this.file.borrow_mut();
                    let Some(f) = file.as_mut() else {
                        return Ok(None);
                    };
                    if let Some(name) = name {
                        f.use_context(&name).map_err(err)?;
                        *this.settings.borrow_mut() = Arc::new(f.settings.clone());
                    }
                    Ok(Some(f.context.clone()))
                },
            )?,
        ),
        (
            "cluster",
            lua_fn::method(lua, "config:cluster", |_, this: &C, ()| {
                Ok(this.file.borrow().as_ref().and_then(|f| f.cluster_name()))
            })?,
        ),
        (
            "username",
            lua_fn::method(lua, "config:username", |_, this: &C, ()| {
                Ok(this.file.borrow().as_ref().and_then(|f| f.user_name()))
            })?,
        ),
        (
            "server_addr",
            lua_fn::method(lua, "config:server_addr", |_, this: &C, ()| {
                let s = this.settings().server.clone();
                Ok((!s.is_empty()).then_some(s))
            })?,
        ),
        (
            "namespace",
            lua_fn::method(lua, "config:namespace", |_, this: &C, ()| {
                Ok(this
                    .settings()
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into()))
            })?,
        ),
        (
            "set_timeouts",
            lua_fn::method(lua, "config:set_timeouts", |_, this: &C, t: Table| {
                set_timeouts(this, t)
            })?,
        ),
        (
            "set_limits",
            lua_fn::method(lua, "config:set_limits", |_, this: &C, t: Table| {
                set_limits(this, t)
            })?,
        ),
        (
            "set_retries",
            lua_fn::method(lua, "config:set_retries", |_, this: &C, t: Table| {
                set_retries(this, t)
            })?,
        ),
        (
            "headers",
            lua_fn::method(lua, "config:headers", |lua, this: &C, ()| {
                let t = lua.create_table()?;
                if let Some(tok) = this
                    .settings()
                    .credentials
                    .bearer_token(&this.settings().plugin_limits())
                    .map_err(err)?
                {
                    let value = crate::auth::bearer(&tok);
                    t.set("authorization", lua.create_string(value.expose())?)?;
                }
                Ok(t)
            })?,
        ),
        (
            "cert",
            lua_fn::method(lua, "config:cert", |_, this: &C, ()| {
                Ok(this.settings().cert_path.clone())
            })?,
        ),
        (
            "key",
            lua_fn::method(lua, "config:key", |_, this: &C, ()| {
                Ok(this.settings().key_path.clone())
            })?,
        ),
    ];
    crate::extend::with_fallback(lua, lua_fn::table(lua, entries)?, "config")
}

impl UserData for LuaConfig {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(mlua::MetaMethod::ToString, |lua, this: Value| {
            let this = lua_fn::this::<LuaConfig>(lua, Some(this), "tostring")?;
            let s = this.settings();
            Ok(format!(
                "kube.config.Config({}, auth: {})",
                s.server,
                s.credentials.describe()
            ))
        });
    }
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(mlua::MetaMethod::Index, config_methods);
    }
}

/// `from_kube_config(path?, context?)`: one file, or with no path every file
/// of `$KUBECONFIG` merged (else `$HOME/.kube/config`).
pub(crate) fn from_kube_config(
    _: &Lua,
    (path, context): (Option<String>, Option<String>),
) -> mlua::Result<LuaConfig> {
    let cfg = match path {
        Some(p) => KubeConfig::load(&PathBuf::from(p), context.as_deref()),
        None => KubeConfig::load_merged(&config::default_paths().map_err(err)?, context.as_deref()),
    }
    .map_err(err)?;
    Ok(LuaConfig::from_file(cfg))
}

/// `in_cluster_config(dir?)`: the pod's service account. `dir` replaces
/// /var/run/secrets/kubernetes.io/serviceaccount (for tests); only the
/// calling script can pass it, the environment cannot redirect it.
pub(crate) fn in_cluster_config(_: &Lua, dir: Option<String>) -> mlua::Result<LuaConfig> {
    let dir = dir.unwrap_or_else(|| config::SERVICE_ACCOUNT_DIR.to_string());
    Ok(LuaConfig::from_settings(
        config::in_cluster(Path::new(&dir)).map_err(err)?,
    ))
}

/// `from_token(token, server?)`: the server defaults to the in-cluster address.
pub(crate) fn from_token(
    _: &Lua,
    (token, server): (Value, Option<String>),
) -> mlua::Result<LuaConfig> {
    let token = match token {
        Value::String(s) if !s.as_bytes().is_empty() => Secret::new(s.as_bytes().to_vec()),
        other => {
            return Err(err(format!(
                "from_token: token must be a non-empty string, got {}",
                other.type_name()
            )))
        }
    };
    let mut settings = match server {
        Some(server) => ClusterSettings {
            server,
            ..Default::default()
        },
        // In a pod: the service address, and the mounted CA when there is one.
        None => ClusterSettings {
            server: config::in_cluster_server().map_err(|_| {
                err("from_token: no server address known: pass it as the second argument, e.g. from_token(token, \"https://my-cluster:6443\"), or run in a pod (KUBERNETES_SERVICE_HOST/PORT)")
            })?,
            ca_pem: std::fs::read(Path::new(config::SERVICE_ACCOUNT_DIR).join("ca.crt")).ok(),
            ..Default::default()
        },
    };
    settings.credentials = Credentials::Token(token);
    Ok(LuaConfig::from_settings(settings))
}

/// `Config:new(tbl)`: settings from a table of fields (server, token,
/// certificate_authority_data (PEM), insecure_skip_tls_verify, namespace).
/// `Config:new{...}`: this module's fields (`server`, `token`,
/// `certificate_authority_data` …) or luakube's own (`addr_`, `token_`,
/// `cert_file_`, `key_file_`), which is how luakube built a config by hand;
/// `Config:new{}` / `Config:new()` make a config without a server, as in
/// luakube (a client made from it raises).
pub(crate) fn config_from_table(_: &Lua, t: Option<Table>) -> mlua::Result<LuaConfig> {
    let Some(t) = t else {
        return Ok(LuaConfig::from_settings(ClusterSettings::default()));
    };
    let first = |a: &str, b: &str| -> mlua::Result<Option<mlua::LuaString>> {
        match t.get::<Option<mlua::LuaString>>(a)? {
            Some(v) => Ok(Some(v)),
            None => t.get(b),
        }
    };
    let server = first("server", "addr_")?
        .map(|s| s.to_str().map(|s| s.to_string()))
        .transpose()?
        .unwrap_or_default();
    let token = first("token", "token_")?;
    let ca: Option<mlua::LuaString> = t.get("certificate_authority_data")?;
    let cert_file: Option<String> = t.get("cert_file_")?;
    let key_file: Option<String> = t.get("key_file_")?;
    let mut settings = ClusterSettings {
        server,
        ca_pem: ca.map(|c| c.as_bytes().to_vec()),
        insecure_skip_tls_verify: t
            .get::<Option<bool>>("insecure_skip_tls_verify")?
            .unwrap_or(false),
        namespace: t.get("namespace")?,
        credentials: match token {
            Some(tok) => Credentials::Token(Secret::new(tok.as_bytes().to_vec())),
            None => Credentials::None,
        },
        ..Default::default()
    };
    if let (Some(cp), Some(kp)) = (cert_file, key_file) {
        let cert = std::fs::read(&cp)
            .map_err(|e| err(format!("Config:new: client certificate {cp}: {e}")))?;
        let key =
            std::fs::read(&kp).map_err(|e| err(format!("Config:new: client key {kp}: {e}")))?;
        let creds = std::mem::replace(&mut settings.credentials, Credentials::None);
        settings.credentials = Credentials::with_identity(creds, cert, Secret::new(key));
        settings.cert_path = Some(cp);
        settings.key_path = Some(kp);
    }
    Ok(LuaConfig::from_settings(settings))
}

/// Header names whose values are credentials: shown as `<redacted>` in `info`.
fn secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("authorization")
        || n.contains("token")
        || n.contains("key")
        || n.contains("secret")
        || n.contains("cookie")
        || n.contains("password")
}

/// Settings from a config object that is not ours (a luakube-style table with
/// `server_addr`, `headers`, `cert` and `key` methods).
fn settings_from_duck(conf: &Table) -> mlua::Result<ClusterSettings> {
    let call = |name: &str| -> mlua::Result<Value> {
        match conf.get::<Value>(name)? {
            Value::Function(f) => f.call(conf.clone()),
            _ => Ok(Value::Nil),
        }
    };
    let server = match call("server_addr")? {
        Value::String(s) => s.to_str()?.to_string(),
        _ => return Err(err("Client:new: the config has no server_addr()")),
    };
    let mut credentials = Credentials::None;
    let mut extra_headers = Vec::new();
    if let Value::Table(h) = call("headers")? {
        for pair in h.pairs::<String, mlua::LuaString>() {
            let (k, v) = pair?;
            if k.eq_ignore_ascii_case("authorization") {
                if let Some(tok) = v.as_bytes().strip_prefix(b"Bearer ") {
                    credentials = Credentials::Token(Secret::new(tok.to_vec()));
                }
            } else if !["content-type", "content-length", "host", "accept"]
                .iter()
                .any(|n| k.eq_ignore_ascii_case(n))
            {
                // luakube sent every header headers() returned.
                extra_headers.push((k, v.to_str()?.to_string()));
            }
        }
    }
    extra_headers.sort();
    let mut settings = ClusterSettings {
        server: config::without_userinfo(&server),
        extra_headers,
        ..Default::default()
    };
    if let (Value::String(c), Value::String(k)) = (call("cert")?, call("key")?) {
        let (cp, kp) = (c.to_str()?.to_string(), k.to_str()?.to_string());
        let read = |p: &str| crate::limits::read_file(Path::new(p), crate::limits::CONFIG_FILE);
        let cert = read(&cp).map_err(|e| err(format!("client certificate {cp}: {e}")))?;
        let key = read(&kp).map_err(|e| err(format!("client key {kp}: {e}")))?;
        credentials = Credentials::with_identity(credentials, cert, Secret::new(key));
        settings.cert_path = Some(cp);
        settings.key_path = Some(kp);
    }
    settings.credentials = credentials;
    Ok(settings)
}

/// `api.Client:new(conf, panic?, mock?)`.
pub(crate) fn new_client(
    lua: &Lua,
    (conf, panic, mock): (Value, Option<bool>, Option<bool>),
) -> mlua::Result<ApiClient> {
    let settings = match &conf {
        Value::UserData(ud) => ud_settings(lua, ud)?,
        Value::Table(t) => Arc::new(settings_from_duck(t)?),
        other => {
            return Err(err(format!(
                "Client:new: expected a config from kube.config, got {}",
                other.type_name()
            )))
        }
    };
    if settings.server.is_empty() {
        return Err(err(
            "Client:new: the config has no server address (Config:new needs `server` or luakube's `addr_`)",
        ));
    }
    let mock = mock.unwrap_or(false);
    let transport = if mock {
        None
    } else {
        Some(Transport::new(settings.clone()).map_err(|e| err(format!("Client:new: {e}")))?)
    };
    Ok(ApiClient {
        core: Rc::new(ClientCore {
            server: settings.server.trim_end_matches('/').to_string(),
            transport,
            info_headers: {
                let mut h = settings.credentials.redacted_headers();
                for (k, v) in &settings.extra_headers {
                    let shown = if secret_header(k) {
                        "<redacted>"
                    } else {
                        v.as_str()
                    };
                    h.push((k.clone(), shown.to_string()));
                }
                h
            },
            panic: panic.unwrap_or(false),
        }),
    })
}

fn ud_settings(lua: &Lua, ud: &AnyUserData) -> mlua::Result<Arc<ClusterSettings>> {
    let cfg = lua_fn::borrow::<LuaConfig>(lua, ud).ok_or_else(|| {
        err("Client:new: expected a config from kube.config, got another userdata")
    })?;
    Ok(cfg.settings())
}

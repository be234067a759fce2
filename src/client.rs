//! The Lua-facing API client: `raw_call` / `call`, group clients and resource
//! clients generated from the resource table, and luakube's return
//! conventions `(object, info, code)` / `(body, message, code)` / `(nil, message)`.

use crate::convert::{self, Format};
use crate::list_decoder::ListDecoder;
use crate::lua_fn;
use crate::query;
use crate::resources::{self, Extra, Group, Resource, Scope};
use crate::runtime::Signal;
use crate::streaming::LineStream;
use crate::transport::{Opening, PendingCall, Request, Transport};
use mlua::{
    Function, IntoLuaMulti, Lua, MetaMethod, MultiValue, Table, UserData, UserDataMethods, Value,
};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

const MOCK_BODY: &[u8] = br#"{"items": []}"#;

/// State shared by a client and every group and resource client made from it.
pub struct ClientCore {
    pub server: String,
    /// `None` in mock mode: nothing touches the network.
    pub transport: Option<Transport>,
    /// Headers shown in `info.headers`, credentials already redacted.
    pub info_headers: Vec<(String, String)>,
    pub panic: bool,
}

/// The outcome of one API call, before it is turned into Lua return values.
pub(crate) enum Reply {
    Done {
        code: u16,
        body: bytes::Bytes,
        info: Table,
        /// The body decoded as it arrived (`body` is then empty).
        decoded: Option<Result<Value, String>>,
    },
    Failed {
        code: u16,
        body: bytes::Bytes,
        message: String,
    },
    Unreachable(String),
}

/// How a successful result is handed back.
#[derive(Clone, Copy)]
pub(crate) enum Wrap {
    /// The decoded body as it is.
    Plain,
    /// The decoded object with an APIObject / NamespacedAPIObject metatable.
    Object,
    /// A list: each item wrapped, the list a Response.
    List,
    /// A list reduced to the array of its wrapped items.
    Items,
    /// The `status` field of the object.
    StatusField,
    /// A Response (deletes).
    Response,
    /// The raw body as a string (logs).
    Text,
}

pub(crate) fn class(lua: &Lua, name: &str) -> mlua::Result<Table> {
    let key = format!("kube.class.{name}");
    if let Ok(t) = lua.named_registry_value::<Table>(&key) {
        return Ok(t);
    }
    let require: Function = lua.globals().get("require")?;
    let objects: Table = require.call("kube.api.objects")?;
    let t: Table = objects.get(name)?;
    lua.set_named_registry_value(&key, &t)?;
    Ok(t)
}

impl ClientCore {
    /// `server/path?query`.
    pub(crate) fn url(&self, path: &str, query: &Value) -> mlua::Result<String> {
        let mut url = format!("{}/{}", self.server, path);
        match query {
            Value::Nil => {}
            Value::Table(t) => {
                let q = query::build(t).map_err(mlua::Error::runtime)?;
                if !q.is_empty() {
                    url.push('?');
                    url.push_str(&q);
                }
            }
            other => {
                return Err(mlua::Error::runtime(format!(
                    "query must be a table, got {}",
                    other.type_name()
                )))
            }
        }
        Ok(url)
    }

    /// Starts one call in the background (see `Started`); its progress
    /// notifies `signal`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        &self,
        lua: &Lua,
        method: &str,
        path: &str,
        body: Value,
        query: Value,
        style: Option<String>,
        decode_as_it_arrives: bool,
        signal: Arc<Signal>,
    ) -> mlua::Result<Started> {
        let url = self.url(path, &query)?;
        let payload = match &body {
            Value::Nil => None,
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Table(_) => {
                Some(convert::encode(lua, &body, "body").map_err(mlua::Error::runtime)?)
            }
            other => {
                return Err(mlua::Error::runtime(format!(
                    "body must be a table or a string, got {}",
                    other.type_name()
                )))
            }
        };
        let content_type = payload.as_ref().map(|_| {
            if method.eq_ignore_ascii_case("PATCH") {
                match style.as_deref().unwrap_or("merge") {
                    "apply" => "application/apply-patch+yaml".to_string(),
                    // luakube sent application/strategic-patch+json, which every
                    // API server rejects with 415: send the real type.
                    "strategic" | "strategic-merge" => {
                        "application/strategic-merge-patch+json".to_string()
                    }
                    s => format!("application/{s}-patch+json"),
                }
            } else {
                "application/json".to_string()
            }
        });
        let info = lua.create_table()?;
        info.set("method", method)?;
        info.set("url", url.as_str())?;
        let headers = lua.create_table()?;
        for (k, v) in &self.info_headers {
            headers.set(k.as_str(), v.as_str())?;
        }
        if let (Some(ct), Some(p)) = (&content_type, &payload) {
            headers.set("Content-Type", ct.as_str())?;
            headers.set("Content-Length", p.len())?;
        }
        info.set("headers", headers)?;
        info.set("body", body)?;
        let Some(transport) = &self.transport else {
            signal.notify();
            return Ok(Started {
                call: None,
                info,
                method: method.to_string(),
                url,
                decoder: None,
                signal,
            });
        };
        let request = Request {
            method,
            url: &url,
            body: payload,
            content_type: content_type.as_deref(),
            accept: "application/json",
        };
        let decoder = decode_as_it_arrives.then(|| ListDecoder::new(lua));
        let call = transport.start(request, decoder.is_some(), signal.clone());
        Ok(Started {
            call: Some(call),
            info,
            method: method.to_string(),
            url,
            decoder,
            signal,
        })
    }

    /// Starts a GET whose answer is read line by line as it arrives; its
    /// progress notifies `signal`.
    pub(crate) fn start_stream(
        &self,
        path: &str,
        query: &Value,
        signal: Arc<Signal>,
    ) -> mlua::Result<OpeningStream> {
        let url = self.url(path, query)?;
        let Some(transport) = &self.transport else {
            return Ok(OpeningStream {
                url,
                opening: Err(Opened::Mock),
            });
        };
        let opening = transport
            .start_streaming(
                Request {
                    method: "GET",
                    url: &url,
                    body: None,
                    content_type: None,
                    accept: "application/json",
                },
                signal,
            )
            .map_err(|e| Opened::Unreachable(format!("failed to perform API call: {e}")));
        Ok(OpeningStream { url, opening })
    }

    /// `nil, message` for a call that got no answer (raised in panic mode).
    pub(crate) fn unreachable(&self, lua: &Lua, msg: String) -> mlua::Result<MultiValue> {
        if self.panic {
            return Err(mlua::Error::runtime(msg));
        }
        (Value::Nil, msg).into_lua_multi(lua)
    }

    /// `status, message, code` for an HTTP error, the Status decoded with its
    /// helpers (`is_not_found` …); raised as `Code N: …` in panic mode.
    pub(crate) fn failed(
        &self,
        lua: &Lua,
        code: u16,
        body: &[u8],
        message: String,
    ) -> mlua::Result<MultiValue> {
        if self.panic {
            return Err(http_error(code, &message));
        }
        let status = failure_table(lua, body, code)?;
        status.set_metatable(Some(class(lua, "Status")?))?;
        (status, message, code).into_lua_multi(lua)
    }

    /// Runs a call and converts the reply to Lua return values; in deferred
    /// mode (`kube.nonblocking`), returns a pending handle instead.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn call(
        self: &Rc<Self>,
        lua: &Lua,
        method: &str,
        path: &str,
        body: Value,
        query: Value,
        style: Option<String>,
        wrap: Option<(Wrap, bool)>,
    ) -> mlua::Result<MultiValue> {
        // Lists are decoded while they arrive.
        let incremental = matches!(wrap, Some((Wrap::List | Wrap::Items, _)));
        let deferred = crate::nonblocking::take_defer(lua);
        let signal = Signal::new();
        let mut started = self.start(lua, method, path, body, query, style, incremental, signal)?;
        if deferred {
            let core = self.clone();
            let method = method.to_string();
            return crate::nonblocking::Pending::new(
                started,
                Box::new(move |lua, reply| core.reply_values(lua, &method, reply, wrap)),
            )
            .into_lua_multi(lua);
        }
        started.poll(None);
        self.reply_values(lua, method, started.finish(), wrap)
    }

    /// A call's reply as luakube's return values.
    pub(crate) fn reply_values(
        &self,
        lua: &Lua,
        method: &str,
        reply: Reply,
        wrap: Option<(Wrap, bool)>,
    ) -> mlua::Result<MultiValue> {
        match reply {
            Reply::Unreachable(msg) => self.unreachable(lua, msg),
            Reply::Failed {
                code,
                body,
                message,
            } => {
                if wrap.is_some() {
                    return self.failed(lua, code, &body, message);
                }
                if self.panic {
                    return Err(http_error(code, &message));
                }
                (lua.create_string(&body)?, message, code).into_lua_multi(lua)
            }
            Reply::Done {
                code,
                body,
                info,
                decoded,
            } => {
                let first = match wrap {
                    None => Value::String(lua.create_string(&body)?),
                    Some((Wrap::Text, _)) => Value::String(lua.create_string(&body)?),
                    Some((how, namespaced)) => {
                        let decoded = match decoded {
                            Some(done) => done,
                            None if body.iter().all(u8::is_ascii_whitespace) => Ok(Value::Nil),
                            None => {
                                convert::decode(lua, &body, Format::Json).map_err(|e| e.to_string())
                            }
                        };
                        // An empty 2xx answer where an object was expected:
                        // `nil, message` like every other failure (`nil, info,
                        // code` made `print("error: " .. err)` raise).
                        if matches!(decoded, Ok(Value::Nil)) {
                            let msg = format!(
                                "the answer to {method} {} was empty (HTTP {code}), expected a JSON object",
                                info.get::<String>("url")?
                            );
                            if self.panic {
                                return Err(mlua::Error::runtime(msg));
                            }
                            return (Value::Nil, msg).into_lua_multi(lua);
                        }
                        let decoded = {
                            match decoded {
                                Ok(v) => v,
                                Err(e) => {
                                    let msg = format!(
                                        "invalid JSON in the answer to {method} {}: {e}",
                                        info.get::<String>("url")?
                                    );
                                    if self.panic {
                                        return Err(mlua::Error::runtime(msg));
                                    }
                                    return (Value::Nil, msg).into_lua_multi(lua);
                                }
                            }
                        };
                        shape(lua, decoded, how, namespaced)?
                    }
                };
                (first, info, code).into_lua_multi(lua)
            }
        }
    }
}

/// A call on its way: the request runs in the background; the Lua thread
/// decodes what arrived (`poll`) and makes the reply once it is done.
pub(crate) struct Started {
    /// `None` in mock mode; the error when it could not be started.
    call: Option<Result<PendingCall, String>>,
    info: Table,
    method: String,
    url: String,
    decoder: Option<ListDecoder>,
    signal: Arc<Signal>,
}

impl Started {
    pub(crate) fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }

    /// Decodes what has arrived, waiting until `deadline` for the answer
    /// (forever when `None`, not at all when it has passed). True when done.
    pub(crate) fn poll(&mut self, deadline: Option<Instant>) -> bool {
        match &mut self.call {
            Some(Ok(call)) => call.pump(
                self.decoder
                    .as_mut()
                    .map(|d| d as &mut dyn crate::transport::BodySink),
                deadline,
            ),
            _ => true,
        }
    }

    /// Stops the request; the reply says it was cancelled.
    pub(crate) fn cancel(&mut self) {
        if let Some(Ok(call)) = &mut self.call {
            call.cancel();
        }
    }

    /// The reply, once `poll` said the call is done.
    pub(crate) fn finish(self) -> Reply {
        let Started {
            call,
            info,
            method,
            url,
            decoder,
            ..
        } = self;
        let resp = match call {
            None => {
                return Reply::Done {
                    code: 200,
                    body: bytes::Bytes::from_static(MOCK_BODY),
                    info,
                    decoded: None,
                }
            }
            Some(Err(e)) => Err(e),
            Some(Ok(mut call)) => call
                .take()
                .unwrap_or_else(|| Err("the call has not finished".into())),
        };
        match resp {
            Err(e) => Reply::Unreachable(format!("failed to perform API call: {e}")),
            Ok(r) if (200..300).contains(&r.status) => Reply::Done {
                code: r.status,
                body: r.body,
                info,
                decoded: decoder.map(ListDecoder::finish),
            },
            Ok(r) => Reply::Failed {
                code: r.status,
                message: failure_message(&method, &url, r.status, &r.body),
                body: r.body,
            },
        }
    }
}

/// A streaming GET waiting for its head.
pub struct OpeningStream {
    url: String,
    /// The outcome already known (mock mode, could not start) as `Err`.
    opening: Result<Opening, Opened>,
}

impl OpeningStream {
    /// How opening went, waiting until `deadline` (forever when `None`);
    /// `None` while the head has not come.
    pub(crate) fn wait(&mut self, deadline: Option<Instant>) -> Option<Opened> {
        let opening = match &mut self.opening {
            Ok(o) => o,
            Err(done) => {
                return Some(std::mem::replace(
                    done,
                    Opened::Unreachable("the stream was already opened".into()),
                ))
            }
        };
        let url = &self.url;
        Some(match opening.wait(deadline)? {
            Err(e) => Opened::Unreachable(format!("failed to perform API call: {e}")),
            Ok(r) if (200..300).contains(&r.status) => Opened::Stream(Box::new(LineStream::new(r))),
            Ok(mut r) => {
                let body = r.read_to_end().unwrap_or_default();
                Opened::Failed {
                    code: r.status,
                    message: failure_message("GET", url, r.status, &body),
                }
            }
        })
    }
}

/// How opening a streaming request went.
pub(crate) enum Opened {
    Stream(Box<LineStream>),
    Failed {
        code: u16,
        message: String,
    },
    Unreachable(String),
    /// Mock mode: nothing is sent and the stream is empty.
    Mock,
}

/// The message of a failed call: method, URL, code and the server's words.
fn failure_message(method: &str, url: &str, code: u16, body: &[u8]) -> String {
    format!(
        "failed to perform API call: {method} {url}: {code} {}",
        status_message(body)
    )
}

/// The error an iterator raises for a failed call (the panic-mode wording).
pub(crate) fn http_error(code: u16, message: &str) -> mlua::Error {
    mlua::Error::runtime(format!("Code {code}: {message}"))
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

/// A failed answer as a table: the decoded Status, or one made from the text.
pub(crate) fn failure_table(lua: &Lua, body: &[u8], code: u16) -> mlua::Result<Table> {
    if let Ok(Value::Table(t)) = convert::decode(lua, body, Format::Json) {
        return Ok(t);
    }
    let t = lua.create_table()?;
    t.set("kind", "Status")?;
    t.set("apiVersion", "v1")?;
    t.set("metadata", lua.create_table()?)?;
    t.set("status", "Failure")?;
    t.set("message", status_message(body))?;
    t.set("code", code)?;
    Ok(t)
}

pub(crate) fn shape(lua: &Lua, decoded: Value, how: Wrap, namespaced: bool) -> mlua::Result<Value> {
    let obj_class = || {
        class(
            lua,
            if namespaced {
                "NamespacedAPIObject"
            } else {
                "APIObject"
            },
        )
    };
    let Value::Table(t) = decoded else {
        return Ok(decoded);
    };
    Ok(match how {
        Wrap::Plain | Wrap::Text => Value::Table(t),
        Wrap::Object => {
            t.set_metatable(Some(obj_class()?))?;
            Value::Table(t)
        }
        Wrap::Response => {
            t.set_metatable(Some(class(lua, "Response")?))?;
            Value::Table(t)
        }
        Wrap::StatusField => t.get("status")?,
        Wrap::List | Wrap::Items => {
            let mt = obj_class()?;
            let items = match t.get::<Value>("items")? {
                Value::Table(items) => items,
                _ => {
                    let empty = lua.create_table()?;
                    empty.set_metatable(Some(convert::array_metatable(lua)?))?;
                    t.set("items", &empty)?;
                    empty
                }
            };
            for item in items.sequence_values::<Value>() {
                if let Value::Table(item) = item? {
                    item.set_metatable(Some(mt.clone()))?;
                }
            }
            if let Wrap::Items = how {
                Value::Table(items)
            } else {
                t.set_metatable(Some(class(lua, "Response")?))?;
                Value::Table(t)
            }
        }
    })
}

pub(crate) fn arg_error(what: &str, msg: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("{what}: {msg}"))
}

pub(crate) fn opt_string(v: &Value, what: &str, arg: &str) -> mlua::Result<Option<String>> {
    match v {
        Value::Nil => Ok(None),
        Value::String(s) => Ok(Some(s.to_str()?.to_string())),
        other => Err(arg_error(
            what,
            format!("{arg} must be a string, got {}", other.type_name()),
        )),
    }
}

/// The name of a by-name call: a non-empty string, or a number formatted as
/// Lua does (luakube concatenated it: `delete(5)` deleted the object "5").
pub(crate) fn name_arg(lua: &Lua, v: &Value, what: &str) -> mlua::Result<String> {
    match v {
        Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s.to_str()?.to_string()),
            None => req_string(v, what, "name"),
        },
        _ => req_string(v, what, "name"),
    }
}

pub(crate) fn req_string(v: &Value, what: &str, arg: &str) -> mlua::Result<String> {
    match v {
        Value::String(s) if !s.as_bytes().is_empty() => Ok(s.to_str()?.to_string()),
        other => Err(arg_error(
            what,
            format!(
                "{arg} must be a non-empty string, got {}",
                if let Value::String(_) = other {
                    "an empty string"
                } else {
                    other.type_name()
                }
            ),
        )),
    }
}

/// The top-level client: `api.Client:new(conf, panic, mock)`.
pub struct ApiClient {
    pub core: Rc<ClientCore>,
}

/// `raw_call(method, path, body?, query?, style?)` / `call(...)` for clients
/// whose paths start with the prefix `core` returns.
fn call_method<T: 'static>(
    lua: &Lua,
    name: &'static str,
    core: fn(&T) -> (&Rc<ClientCore>, String),
) -> mlua::Result<Function> {
    let decode = name == "call";
    lua_fn::method(lua, name, move |lua, this: &T, args: MultiValue| {
        let (core, prefix) = core(this);
        let (method, path, body, query, style) = (
            nth(&args, 0),
            nth(&args, 1),
            nth(&args, 2),
            nth(&args, 3),
            nth(&args, 4),
        );
        let what = format!("client:{name}");
        let method = call_verb(&method, &what)?;
        let path = call_path(lua, path, &what)?;
        let style = opt_string(&style, &what, "style")?;
        let full = join_path(&prefix, &path);
        let wrap = decode.then_some((Wrap::Plain, false));
        core.call(lua, &method, &full, body, query, style, wrap)
    })
    .and_then(|f| crate::nonblocking::yielding(lua, f))
}

/// The HTTP method of `call`/`raw_call`: upper-cased; nil is GET (luakube's
/// transport, LuaSocket, sent GET when the method was nil).
fn call_verb(method: &Value, what: &str) -> mlua::Result<String> {
    match method {
        Value::Nil => Ok("GET".into()),
        v => Ok(req_string(v, what, "method")?.to_ascii_uppercase()),
    }
}

/// The path of `call`/`raw_call`: a string, or a number formatted as Lua does
/// (luakube concatenated it into the URL); nil is "".
fn call_path(lua: &Lua, path: Value, what: &str) -> mlua::Result<String> {
    match path {
        Value::Nil => Ok(String::new()),
        Value::String(s) => Ok(s.to_str()?.to_string()),
        v @ (Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v)? {
            Some(s) => Ok(s.to_str()?.to_string()),
            None => Ok(String::new()),
        },
        other => Err(arg_error(
            what,
            format!("path must be a string, got {}", other.type_name()),
        )),
    }
}

/// `prefix` + `path` as luakube concatenated them, with exactly one `/`
/// between: `""` adds nothing (`/api/v1` is the group's discovery document,
/// not `/api/v1/`), `"/x"` and `"x"` both give `prefix/x` (luakube glued the
/// latter into `prefixx`).
fn join_path(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}/{path}")
    }
}

fn api_client_methods(lua: &Lua) -> mlua::Result<Table> {
    fn prefix(this: &ApiClient) -> (&Rc<ClientCore>, String) {
        (&this.core, "api/".to_string())
    }
    let mut entries = vec![
        ("raw_call", call_method(lua, "raw_call", prefix)?),
        ("call", call_method(lua, "call", prefix)?),
    ];
    for group in resources::GROUPS.iter() {
        let f = lua_fn::method(lua, group.method, move |lua, this: &ApiClient, ()| {
            lua_fn::userdata(
                lua,
                GroupClient {
                    core: this.core.clone(),
                    group,
                },
            )
        })?;
        entries.push((group.method, f));
    }
    entries.push((
        "api",
        crate::nonblocking::yielding(lua, crate::dynamic::api_method(lua)?)?,
    ));
    crate::extend::with_fallback(lua, lua_fn::table(lua, entries)?, "client")
}

impl UserData for ApiClient {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::ToString, |lua, this: Value| {
            let this = lua_fn::this::<ApiClient>(lua, Some(this), "tostring")?;
            Ok(format!("kube.api.Client({})", this.core.server))
        });
    }
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, api_client_methods);
    }
}

/// A client for one API group version (`client:corev1()`), keeping its own base.
pub struct GroupClient {
    pub(crate) core: Rc<ClientCore>,
    pub(crate) group: &'static Group,
}

const GROUP_METHODS_KEY: &str = "kube.group_methods";

fn group_methods(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(t) = lua.named_registry_value::<Table>(GROUP_METHODS_KEY) {
        return Ok(t);
    }
    fn prefix(this: &GroupClient) -> (&Rc<ClientCore>, String) {
        let g = this.group;
        (&this.core, format!("{}/{}/", g.base, g.version))
    }
    let t = lua_fn::table(
        lua,
        vec![
            ("raw_call", call_method(lua, "raw_call", prefix)?),
            ("call", call_method(lua, "call", prefix)?),
        ],
    )?;
    lua.set_named_registry_value(GROUP_METHODS_KEY, &t)?;
    Ok(t)
}

impl UserData for GroupClient {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::Index, |lua, (this, key): (Value, Value)| {
            let this = lua_fn::this::<GroupClient>(lua, Some(this), "GroupClient")?;
            let Value::String(key) = key else {
                return Ok(Value::Nil);
            };
            let name = key.to_str()?.to_string();
            if let Some(f) = group_methods(lua)?.raw_get::<Option<Function>>(name.as_str())? {
                return Ok(Value::Function(f));
            }
            match this.group.resource(&name) {
                Some(res) => Ok(Value::Function(resource_constructor(lua, this.group, res)?)),
                None => match name.as_str() {
                    // luakube's private fields, read-only
                    "api_" => Ok(Value::String(lua.create_string(this.group.version)?)),
                    "client_" => lua
                        .create_userdata(ApiClient {
                            core: this.core.clone(),
                        })
                        .map(Value::UserData),
                    _ => crate::extend::method(
                        lua,
                        &format!("group:{}", this.group.method),
                        &Value::String(key),
                    ),
                },
            }
        });
        methods.add_meta_function(MetaMethod::ToString, |lua, this: Value| {
            let this = lua_fn::this::<GroupClient>(lua, Some(this), "tostring")?;
            Ok(format!("kube.api.GroupClient({})", this.group.version))
        });
    }
}

/// `group:pods(ns?)`, cached per Lua state so `__index` does not build closures.
fn resource_constructor(
    lua: &Lua,
    group: &'static Group,
    res: &'static Resource,
) -> mlua::Result<Function> {
    // By address: a discovered group can be re-learned with other resources.
    let key = format!("kube.ctor.{:p}.{:p}", group, res);
    if let Ok(f) = lua.named_registry_value::<Function>(&key) {
        return Ok(f);
    }
    let what: &'static str = Box::leak(format!("{}:{}", group.method, res.name).into_boxed_str());
    let f = lua_fn::method(lua, what, move |lua, this: &GroupClient, ns: Value| {
        let ns = namespace_arg(lua, ns, what)?.filter(|s| !s.is_empty());
        if let Some(ns) = &ns {
            crate::path::check(what, "namespace", ns)?;
        }
        if res.scope == Scope::Cluster {
            if let Some(ns) = ns {
                return Err(arg_error(
                    what,
                    format!(
                        "{} is cluster-scoped; do not pass a namespace ({ns:?})",
                        res.name
                    ),
                ));
            }
        }
        lua_fn::userdata(
            lua,
            ResourceClient {
                core: this.core.clone(),
                group,
                res,
                namespace: ns,
            },
        )
    })?;
    lua.set_named_registry_value(&key, &f)?;
    Ok(f)
}

/// The namespace argument of `group:pods(ns)`, read as luakube did: nil and
/// false are no namespace, a number is formatted (`pods(5)` is namespace "5").
fn namespace_arg(lua: &Lua, ns: Value, what: &str) -> mlua::Result<Option<String>> {
    match ns {
        Value::Nil | Value::Boolean(false) => Ok(None),
        Value::String(s) => Ok(Some(s.to_str()?.to_string())),
        v @ (Value::Integer(_) | Value::Number(_)) => {
            Ok(lua.coerce_string(v)?.map(|s| s.to_string_lossy()))
        }
        other => Err(arg_error(
            what,
            format!("namespace must be a string, got {}", other.type_name()),
        )),
    }
}

/// A client for one resource, optionally in one namespace.
pub struct ResourceClient {
    pub(crate) core: Rc<ClientCore>,
    pub(crate) group: &'static Group,
    pub(crate) res: &'static Resource,
    pub(crate) namespace: Option<String>,
}

impl ResourceClient {
    pub(crate) fn what(&self, verb: &str) -> String {
        format!("{}:{verb}", self.res.name)
    }

    /// `api/v1/namespaces/ns/pods` or `api/v1/pods` (the namespace was
    /// checked where it came in: the constructor or `obj_ns`).
    pub(crate) fn collection(&self, ns: Option<&str>) -> String {
        let g = self.group;
        match ns {
            Some(ns) => format!(
                "{}/{}/namespaces/{}/{}",
                g.base,
                g.version,
                crate::path::encode(ns),
                crate::path::encode(self.res.name)
            ),
            None => format!(
                "{}/{}/{}",
                g.base,
                g.version,
                crate::path::encode(self.res.name)
            ),
        }
    }

    /// `collection/name` and a subresource (`""`, `"/status"` …); a name that
    /// cannot be a path segment is an error naming the call.
    pub(crate) fn item(
        &self,
        verb: &str,
        ns: Option<&str>,
        name: &str,
        sub: &str,
    ) -> mlua::Result<String> {
        let name = crate::path::segment(&self.what(verb), "name", name)?;
        Ok(format!("{}/{name}{sub}", self.collection(ns)))
    }

    /// The namespace a by-name call uses; namespaced resources need one.
    pub(crate) fn need_ns(&self, verb: &str) -> mlua::Result<Option<&str>> {
        match (self.res.scope, &self.namespace) {
            (Scope::Namespaced, None) => Err(arg_error(
                &self.what(verb),
                format!(
                    "{} are namespaced: make the client with a namespace, e.g. :{}(\"default\")",
                    self.res.name, self.res.name
                ),
            )),
            (_, ns) => Ok(ns.as_deref()),
        }
    }

    /// The namespace for a write: the client's, else the object's own.
    pub(crate) fn obj_ns(&self, obj: &Table, verb: &str) -> mlua::Result<Option<String>> {
        if let Some(ns) = &self.namespace {
            return Ok(Some(ns.clone()));
        }
        if self.res.scope != Scope::Namespaced {
            return Ok(None);
        }
        let ns = metadata_field(obj, "namespace")?;
        match ns {
            Some(ns) => {
                crate::path::check(&self.what(verb), "obj.metadata.namespace", &ns)?;
                Ok(Some(ns))
            }
            None => Err(arg_error(
                &self.what(verb),
                format!(
                    "{} are namespaced: give the client a namespace or set obj.metadata.namespace",
                    self.res.name
                ),
            )),
        }
    }

    /// Objects get `:namespace()`: namespaced resources, and persistentvolumes
    /// asked through a namespace (luakube's pv("ns"), whose URLs are kept).
    pub(crate) fn namespaced_objects(&self) -> bool {
        match self.res.scope {
            Scope::Namespaced => true,
            Scope::Either => self.namespace.is_some(),
            Scope::Cluster => false,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run(
        &self,
        lua: &Lua,
        method: &str,
        path: &str,
        body: Value,
        query: Value,
        style: Option<String>,
        wrap: Wrap,
    ) -> mlua::Result<MultiValue> {
        self.core.call(
            lua,
            method,
            path,
            body,
            query,
            style,
            Some((wrap, self.namespaced_objects())),
        )
    }

    /// A write body: a shallow copy of the table (or the decoded YAML string)
    /// stamped with this resource's apiVersion and kind.
    pub(crate) fn body(
        &self,
        lua: &Lua,
        obj: Value,
        verb: &str,
        kind: &str,
    ) -> mlua::Result<Table> {
        let t = body_table(lua, obj, &self.what(verb))?;
        t.set("apiVersion", self.group.version)?;
        t.set("kind", kind)?;
        Ok(t)
    }
}

pub(crate) fn body_table(lua: &Lua, obj: Value, what: &str) -> mlua::Result<Table> {
    match obj {
        Value::Table(src) => {
            let copy = lua.create_table()?;
            for pair in src.pairs::<Value, Value>() {
                let (k, v) = pair?;
                copy.raw_set(k, v)?;
            }
            if let Some(mt) = src.metatable() {
                copy.set_metatable(Some(mt))?;
            }
            Ok(copy)
        }
        Value::String(s) => match convert::decode(lua, &s.as_bytes(), Format::Yaml) {
            Ok(Value::Table(t)) => Ok(t),
            Ok(_) => Err(arg_error(what, "the YAML string is not a mapping")),
            Err(e) => Err(arg_error(
                what,
                format!("the YAML string is malformed: {e}"),
            )),
        },
        other => Err(arg_error(
            what,
            format!(
                "obj must be a table or a YAML string, got {}",
                other.type_name()
            ),
        )),
    }
}

pub(crate) fn metadata_field(obj: &Table, field: &str) -> mlua::Result<Option<String>> {
    match obj.get::<Value>("metadata")? {
        Value::Table(m) => match m.get::<Value>(field)? {
            Value::String(s) if !s.as_bytes().is_empty() => Ok(Some(s.to_str()?.to_string())),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

pub(crate) fn obj_name(obj: &Table, what: &str) -> mlua::Result<String> {
    metadata_field(obj, "name")?.ok_or_else(|| arg_error(what, "obj.metadata.name is required"))
}

pub(crate) type Args = MultiValue;

pub(crate) fn nth(args: &Args, i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

/// Every resource-client method, by name; `__index` hands out only those the
/// resource supports (luakube left the others nil).
fn resource_method(
    lua: &Lua,
    name: &str,
    res: &'static Resource,
) -> mlua::Result<Option<Function>> {
    let supported = match name {
        "get" | "list" | "create" | "update" | "patch" | "delete" => true,
        "call" | "raw_call" => true,
        "status" | "update_status" | "patch_status" => res.status,
        "delete_collection" => res.delete_collection,
        "logs" | "follow_logs" => res.has(Extra::Logs),
        "ephemeralcontainers" => res.has(Extra::EphemeralContainers),
        "exec" | "exec_session" => res.has(Extra::Exec),
        "attach" => res.has(Extra::Attach),
        "portforward" => res.has(Extra::PortForward),
        "finalize" => res.has(Extra::Finalize),
        "scale" => res.has(Extra::Scale),
        "informer" => return crate::verbs::lua_method(lua, name).map(Some),
        other => crate::verbs::supports(other, res),
    };
    if !supported {
        return Ok(None);
    }
    // One function per resource and verb: its name is in every error it raises.
    let key = format!("kube.method.{}.{name}", res.name);
    if let Ok(f) = lua.named_registry_value::<Function>(&key) {
        return Ok(Some(f));
    }
    let owned: &'static str = Box::leak(format!("{}:{name}", res.name).into_boxed_str());
    let verb = name.to_string();
    let f = lua_fn::method(lua, owned, move |lua, this: &ResourceClient, rest: Args| {
        dispatch(lua, this, &verb, rest)
    })?;
    // Network methods yield in an event-loop adapter's coroutine.
    let f = crate::nonblocking::yielding(lua, f)?;
    lua.set_named_registry_value(&key, &f)?;
    Ok(Some(f))
}

/// `call`/`raw_call(method, path, body?, query?, style?)` on a resource or
/// ephemeral-containers client: `path` is relative to the client's own path,
/// as in luakube (`pods("demo"):call("GET", "/web-1")`).
fn relative_call(
    lua: &Lua,
    core: &Rc<ClientCore>,
    base: &str,
    what: &str,
    decode: bool,
    a: &Args,
) -> mlua::Result<MultiValue> {
    let method = call_verb(&nth(a, 0), what)?;
    let path = call_path(lua, nth(a, 1), what)?;
    let style = opt_string(&nth(a, 4), what, "style")?;
    let full = join_path(base, &path);
    let wrap = decode.then_some((Wrap::Plain, false));
    core.call(lua, &method, &full, nth(a, 2), nth(a, 3), style, wrap)
}

fn dispatch(lua: &Lua, rc: &ResourceClient, verb: &str, a: Args) -> mlua::Result<MultiValue> {
    let what = rc.what(verb);
    let (a0, a1, a2, a3) = (nth(&a, 0), nth(&a, 1), nth(&a, 2), nth(&a, 3));
    match verb {
        "call" | "raw_call" => {
            let base = rc.collection(rc.namespace.as_deref());
            relative_call(lua, &rc.core, &base, &what, verb == "call", &a)
        }
        // luakube: a first argument that is not a string is no name, and
        // `query = query or name` (so `get(nil, {limit = 5})` lists with it).
        "get" => match a0 {
            Value::String(_) => {
                let name = req_string(&a0, &what, "name")?;
                let ns = rc.need_ns(verb)?;
                let path = rc.item(verb, ns, &name, "")?;
                rc.run(lua, "GET", &path, Value::Nil, a1, None, Wrap::Object)
            }
            other => {
                let query = if a1.is_nil() { other } else { a1 };
                let query = match query {
                    Value::Table(_) => query,
                    _ => Value::Nil,
                };
                let path = rc.collection(rc.namespace.as_deref());
                rc.run(lua, "GET", &path, Value::Nil, query, None, Wrap::Items)
            }
        },
        "list" => {
            let path = rc.collection(rc.namespace.as_deref());
            rc.run(lua, "GET", &path, Value::Nil, a0, None, Wrap::List)
        }
        "status" => {
            let name = name_arg(lua, &a0, &what)?;
            let path = rc.item(verb, rc.need_ns(verb)?, &name, "/status")?;
            rc.run(lua, "GET", &path, Value::Nil, a1, None, Wrap::StatusField)
        }
        "create" => {
            let body = rc.body(lua, a0, verb, rc.res.kind)?;
            let ns = rc.obj_ns(&body, verb)?;
            let path = rc.collection(ns.as_deref());
            rc.run(
                lua,
                "POST",
                &path,
                Value::Table(body),
                a1,
                None,
                Wrap::Object,
            )
        }
        "update" | "update_status" | "finalize" => {
            let kind = rc.res.kind;
            let body = rc.body(lua, a0, verb, kind)?;
            let name = obj_name(&body, &what)?;
            let ns = rc.obj_ns(&body, verb)?;
            let sub = match verb {
                "update_status" => "/status",
                "finalize" => "/finalize",
                _ => "",
            };
            let path = rc.item(verb, ns.as_deref(), &name, sub)?;
            rc.run(
                lua,
                "PUT",
                &path,
                Value::Table(body),
                a1,
                None,
                Wrap::Object,
            )
        }
        "patch" | "patch_status" => {
            let name = name_arg(lua, &a0, &what)?;
            let style = opt_string(&a3, &what, "style")?;
            let sub = if verb == "patch_status" {
                "/status"
            } else {
                ""
            };
            let path = rc.item(verb, rc.need_ns(verb)?, &name, sub)?;
            // nil: a PATCH without a body, as luakube sent it.
            let patch = match a1 {
                Value::Nil | Value::Table(_) | Value::String(_) => a1,
                other => {
                    return Err(arg_error(
                        &what,
                        format!(
                            "patch must be a table, a string or nil, got {}",
                            other.type_name()
                        ),
                    ))
                }
            };
            rc.run(lua, "PATCH", &path, patch, a2, style, Wrap::Object)
        }
        "delete" => {
            let name = name_arg(lua, &a0, &what)?;
            let path = rc.item(verb, rc.need_ns(verb)?, &name, "")?;
            rc.run(lua, "DELETE", &path, Value::Nil, a1, None, Wrap::Response)
        }
        "delete_collection" => {
            let path = rc.collection(rc.need_ns(verb)?);
            rc.run(lua, "DELETE", &path, a0, a1, None, Wrap::Response)
        }
        "logs" => {
            let name = name_arg(lua, &a0, &what)?;
            let path = rc.item(verb, rc.need_ns(verb)?, &name, "/log")?;
            rc.run(lua, "GET", &path, Value::Nil, a1, None, Wrap::Text)
        }
        "scale" => {
            let name = name_arg(lua, &a0, &what)?;
            // Sent as given, as luakube did (`"5"` too): the server decides.
            let replicas = match a1 {
                Value::Function(_)
                | Value::Thread(_)
                | Value::UserData(_)
                | Value::LightUserData(_) => {
                    return Err(arg_error(
                        &what,
                        format!("replicas must be a number, got {}", a1.type_name()),
                    ))
                }
                v => v,
            };
            let spec = lua.create_table()?;
            spec.set("replicas", replicas)?;
            let patch = lua.create_table()?;
            patch.set("spec", spec)?;
            let path = rc.item(verb, rc.need_ns(verb)?, &name, "")?;
            rc.run(
                lua,
                "PATCH",
                &path,
                Value::Table(patch),
                a2,
                Some("merge".into()),
                Wrap::Object,
            )
        }
        "ephemeralcontainers" => {
            let name = name_arg(lua, &a0, &what)?;
            let ns = rc.need_ns(verb)?;
            let path = rc.item(verb, ns, &name, "/ephemeralcontainers")?;
            lua_fn::userdata(
                lua,
                EphemeralClient {
                    core: rc.core.clone(),
                    path,
                    version: rc.group.version,
                },
            )?
            .into_lua_multi(lua)
        }
        "exec" | "exec_session" | "attach" | "portforward" => {
            crate::exec::dispatch(lua, rc, verb, a)
        }
        _ => crate::verbs::dispatch(lua, rc, verb, a),
    }
}

impl UserData for ResourceClient {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::Index, |lua, (this, key): (Value, Value)| {
            let this = lua_fn::this::<ResourceClient>(lua, Some(this), "ResourceClient")?;
            let Value::String(skey) = &key else {
                return Ok(Value::Nil);
            };
            let name = skey.to_str()?.to_string();
            if let Some(f) = resource_method(lua, &name, this.res)? {
                return Ok(Value::Function(f));
            }
            Ok(match name.as_str() {
                // luakube's private fields, read-only: path_ relative to the group
                "path_" => Value::String(lua.create_string(match &this.namespace {
                    Some(ns) => format!("/namespaces/{ns}/{}", this.res.name),
                    None => format!("/{}", this.res.name),
                })?),
                "api_" => Value::String(lua.create_string(this.res.name)?),
                "namespaced_" => Value::Boolean(this.namespace.is_some()),
                "client_" => Value::UserData(lua.create_userdata(ApiClient {
                    core: this.core.clone(),
                })?),
                // luakube's resource clients reached their group class's methods too
                _ => crate::extend::method(lua, &format!("group:{}", this.group.method), &key)?,
            })
        });
        methods.add_meta_function(MetaMethod::ToString, |lua, this: Value| {
            let this = lua_fn::this::<ResourceClient>(lua, Some(this), "tostring")?;
            Ok(match &this.namespace {
                Some(ns) => format!("kube.api.ResourceClient({}, namespace {ns})", this.res.name),
                None => format!("kube.api.ResourceClient({})", this.res.name),
            })
        });
    }
}

/// `pods:ephemeralcontainers(name)`: get / update / patch on that subresource.
pub struct EphemeralClient {
    core: Rc<ClientCore>,
    path: String,
    version: &'static str,
}

fn ephemeral_methods(lua: &Lua) -> mlua::Result<Table> {
    let wrap = Some((Wrap::Object, true));
    let get = lua_fn::method(
        lua,
        "ephemeralcontainers:get",
        move |lua, this: &EphemeralClient, query: Value| {
            this.core
                .call(lua, "GET", &this.path, Value::Nil, query, None, wrap)
        },
    )?;
    let update = lua_fn::method(
        lua,
        "ephemeralcontainers:update",
        move |lua, this: &EphemeralClient, (obj, query): (Value, Value)| {
            let body = body_table(lua, obj, "ephemeralcontainers:update")?;
            body.set("apiVersion", this.version)?;
            body.set("kind", "EphemeralContainers")?;
            this.core.call(
                lua,
                "PUT",
                &this.path,
                Value::Table(body),
                query,
                None,
                wrap,
            )
        },
    )?;
    let patch = lua_fn::method(
        lua,
        "ephemeralcontainers:patch",
        move |lua,
              this: &EphemeralClient,
              (patch, query, style): (Value, Value, Option<String>)| {
            this.core
                .call(lua, "PATCH", &this.path, patch, query, style, wrap)
        },
    )?;
    let y = |f| crate::nonblocking::yielding(lua, f);
    let mut entries = vec![
        ("get", y(get)?),
        ("update", y(update)?),
        ("patch", y(patch)?),
    ];
    for (name, decode) in [("call", true), ("raw_call", false)] {
        let what: &'static str = if decode {
            "ephemeralcontainers:call"
        } else {
            "ephemeralcontainers:raw_call"
        };
        let f = lua_fn::method(lua, what, move |lua, this: &EphemeralClient, a: Args| {
            relative_call(lua, &this.core, &this.path, what, decode, &a)
        })?;
        entries.push((name, y(f)?));
    }
    lua_fn::table(lua, entries)
}

impl UserData for EphemeralClient {
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, ephemeral_methods);
    }
}

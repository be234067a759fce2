//! Sending one call: [`ClientCore`] (what every client made from one
//! `api.Client:new` shares) turns an [`HttpRequest`] into a started call on
//! the transport ([`Started`], or [`OpeningStream`] for a line-by-line GET),
//! and hands its [`Reply`] to `returns` for luakube's return values. Mock
//! mode (no transport) is decided here and nowhere else: a call answers 200
//! with `{"items": []}`, a stream is empty.

use crate::args::{call_path, call_verb, nth, opt_string, Args};
use crate::convert;
use crate::list_decoder::ListDecoder;
use crate::query;
use crate::request::{join_path, HttpRequest};
use crate::returns::{self, failure_message, Reply, Wrap};
use crate::runtime::Signal;
use crate::streaming::LineStream;
use crate::transport::{Opening, PendingCall, Request, Transport};
use crate::view::{Projection, View};
use mlua::{IntoLuaMulti, Lua, MultiValue, Table, Value};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

const MOCK_BODY: &[u8] = br#"{"items": []}"#;

/// State shared by a client and every group and resource client made from it.
pub(crate) struct ClientCore {
    pub(crate) server: String,
    /// `None` in mock mode: nothing touches the network.
    pub(crate) transport: Option<Transport>,
    /// Headers shown in `info.headers`, credentials already redacted.
    pub(crate) info_headers: Vec<(String, String)>,
    pub(crate) panic: bool,
}

/// A query argument as a query string: nil is none, a table is encoded as
/// luakube encoded it (`query::build`), anything else is an error.
pub(crate) fn query_string(query: &Value) -> mlua::Result<String> {
    match query {
        Value::Nil => Ok(String::new()),
        Value::Table(t) => query::build(t).map_err(mlua::Error::runtime),
        other => Err(mlua::Error::runtime(format!(
            "query must be a table, got {}",
            other.type_name()
        ))),
    }
}

/// A body argument as bytes: nil is none, a string is sent as it is, a
/// table is encoded as JSON.
fn payload(lua: &Lua, body: &Value) -> mlua::Result<Option<Vec<u8>>> {
    match body {
        Value::Nil => Ok(None),
        Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
        Value::Table(_) => Ok(Some(
            convert::encode(lua, body, "body").map_err(mlua::Error::runtime)?,
        )),
        other => Err(mlua::Error::runtime(format!(
            "body must be a table or a string, got {}",
            other.type_name()
        ))),
    }
}

impl ClientCore {
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
        let query = query_string(&query)?;
        let payload = payload(lua, &body)?;
        let request = HttpRequest::new(method, path.to_string(), query, payload, style.as_deref());
        self.start_request(lua, request, body, decode_as_it_arrives, None, signal)
    }

    /// Starts a GET whose answer comes back as `view` says: metadata-only
    /// (Accept of a list or of an object, `list`) and, when decoded as it
    /// arrives, its list items projected.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_viewed(
        &self,
        lua: &Lua,
        path: &str,
        query: Value,
        view: &View,
        list: bool,
        decode_as_it_arrives: bool,
        signal: Arc<Signal>,
    ) -> mlua::Result<Started> {
        let request = HttpRequest::new("GET", path.to_string(), query_string(&query)?, None, None)
            .accepting(view.accept(list));
        let projection = view.projection.clone();
        self.start_request(
            lua,
            request,
            Value::Nil,
            decode_as_it_arrives,
            projection,
            signal,
        )
    }

    /// Starts `request` (`shown_body`: the body as the caller gave it, for
    /// `info.body`).
    fn start_request(
        &self,
        lua: &Lua,
        request: HttpRequest,
        shown_body: Value,
        decode_as_it_arrives: bool,
        projection: Option<Rc<Projection>>,
        signal: Arc<Signal>,
    ) -> mlua::Result<Started> {
        let url = request.url(&self.server);
        let info = lua.create_table()?;
        info.set("method", request.method.as_str())?;
        info.set("url", url.as_str())?;
        let headers = lua.create_table()?;
        for (k, v) in &self.info_headers {
            headers.set(k.as_str(), v.as_str())?;
        }
        if let (Some(ct), Some(p)) = (&request.content_type, &request.body) {
            headers.set("Content-Type", ct.as_str())?;
            headers.set("Content-Length", p.len())?;
        }
        info.set("headers", headers)?;
        info.set("body", shown_body)?;
        let Some(transport) = &self.transport else {
            signal.notify();
            return Ok(Started {
                call: None,
                info,
                method: request.method,
                url,
                decoder: None,
                signal,
            });
        };
        let decoder = decode_as_it_arrives.then(|| ListDecoder::new(lua).projecting(projection));
        let call = transport.start(
            Request {
                method: &request.method,
                url: &url,
                body: request.body,
                content_type: request.content_type.as_deref(),
                accept: request.accept,
            },
            decoder.is_some(),
            signal.clone(),
        );
        Ok(Started {
            call: Some(call),
            info,
            method: request.method,
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
        self.start_stream_accepting(path, query, "application/json", signal)
    }

    /// As `start_stream`, accepting `accept` (a metadata-only watch).
    pub(crate) fn start_stream_accepting(
        &self,
        path: &str,
        query: &Value,
        accept: &'static str,
        signal: Arc<Signal>,
    ) -> mlua::Result<OpeningStream> {
        let request = HttpRequest::new("GET", path.to_string(), query_string(query)?, None, None)
            .accepting(accept);
        let url = request.url(&self.server);
        let Some(transport) = &self.transport else {
            return Ok(OpeningStream {
                url,
                opening: Err(Opened::Mock),
            });
        };
        let opening = transport
            .start_streaming(
                Request {
                    method: &request.method,
                    url: &url,
                    body: None,
                    content_type: None,
                    accept: request.accept,
                },
                signal,
            )
            .map_err(|e| Opened::Unreachable(format!("failed to perform API call: {e}")));
        Ok(OpeningStream { url, opening })
    }

    /// `nil, message` for a call that got no answer (see `returns`).
    pub(crate) fn unreachable(&self, lua: &Lua, msg: String) -> mlua::Result<MultiValue> {
        returns::unreachable(lua, self.panic, msg)
    }

    /// `status, message, code` for an HTTP error (see `returns`).
    pub(crate) fn failed(
        &self,
        lua: &Lua,
        code: u16,
        body: &[u8],
        message: String,
    ) -> mlua::Result<MultiValue> {
        returns::failed(lua, self.panic, code, body, message)
    }

    /// A call's reply as luakube's return values (see `returns`).
    pub(crate) fn reply_values(
        &self,
        lua: &Lua,
        method: &str,
        reply: Reply,
        wrap: Option<(Wrap, bool)>,
    ) -> mlua::Result<MultiValue> {
        returns::values(lua, self.panic, method, reply, wrap)
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
        let started = self.start(lua, method, path, body, query, style, incremental, signal)?;
        self.complete(lua, method, started, deferred, wrap)
    }

    /// `call` for a GET whose objects come back as `view` says.
    pub(crate) fn call_viewed(
        self: &Rc<Self>,
        lua: &Lua,
        path: &str,
        query: Value,
        view: &View,
        wrap: Option<(Wrap, bool)>,
    ) -> mlua::Result<MultiValue> {
        let list = matches!(wrap, Some((Wrap::List | Wrap::Items, _)));
        let deferred = crate::nonblocking::take_defer(lua);
        let signal = Signal::new();
        let started = self.start_viewed(lua, path, query, view, list, list, signal)?;
        self.complete(lua, "GET", started, deferred, wrap)
    }

    /// Waits for a started call (or, deferred, hands out its pending handle)
    /// and makes its return values.
    fn complete(
        self: &Rc<Self>,
        lua: &Lua,
        method: &str,
        mut started: Started,
        deferred: bool,
        wrap: Option<(Wrap, bool)>,
    ) -> mlua::Result<MultiValue> {
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
}

/// `call`/`raw_call(method, path, body?, query?, style?)` on a resource or
/// ephemeral-containers client: `path` is relative to the client's own path,
/// as in luakube (`pods("demo"):call("GET", "/web-1")`).
pub(crate) fn relative_call(
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
pub(crate) struct OpeningStream {
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

//! Sending one call: [`ClientCore`] (what every client made from one
//! `api.Client:new` shares) turns an [`HttpRequest`] into a started call on
//! the transport ([`Started`], or [`OpeningStream`] for a line-by-line GET),
//! and hands its [`Reply`] to `returns` for luakube's return values. Mock
//! mode is one [`Backend`] beside the real transport, decided here and
//! nowhere else: a call answers 200 with `{"items": []}`, a stream is empty.

use crate::args::{call_path, call_verb, nth, opt_string, Args};
use crate::convert;
use crate::list_decoder::ListDecoder;
use crate::query;
use crate::request::{join_path, HttpRequest};
use crate::returns::{self, failure_message, Failure, Reply, Wrap};
use crate::runtime::Signal;
use crate::transport::lines::LineStream;
use crate::transport::{Opening, PendingCall, Request, Response, Transport};
use crate::view::{Projection, View};
use mlua::{IntoLuaMulti, Lua, MultiValue, Table, Value};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

const MOCK_BODY: &[u8] = br#"{"items": []}"#;

/// Where a client's requests go: the cluster over HTTPS, or nowhere (mock
/// mode, `api.Client:new(conf, panic, true)`).
pub(crate) enum Backend {
    Https(Transport),
    /// Nothing touches the network: a call answers 200 with `{"items": []}`
    /// at once, a stream opens as `Opened::Mock` (empty; a watch ends).
    Mock,
}

impl Backend {
    /// Starts a call (see `Transport::start`).
    fn start(
        &self,
        req: Request<'_>,
        forward_body: bool,
        signal: Arc<Signal>,
        here: bool,
    ) -> Result<PendingCall, String> {
        match self {
            Backend::Https(t) => t.start(req, forward_body, signal, here),
            Backend::Mock => Ok(PendingCall::answered(
                Response {
                    status: 200,
                    body: bytes::Bytes::from_static(MOCK_BODY),
                },
                forward_body,
                signal,
            )),
        }
    }

    /// Starts a streaming GET (see `Transport::start_streaming`); what it
    /// came to already, as `Err`, when it could not start or is a mock.
    fn start_streaming(&self, req: Request<'_>, signal: Arc<Signal>) -> Result<Opening, Opened> {
        match self {
            Backend::Https(t) => t
                .start_streaming(req, signal)
                .map_err(|e| Opened::Failed(Failure::Unreachable(unreachable_message(&e)))),
            Backend::Mock => Err(Opened::Mock),
        }
    }

    /// The HTTPS transport; `None` for a mock (sessions need a connection).
    pub(crate) fn transport(&self) -> Option<&Transport> {
        match self {
            Backend::Https(t) => Some(t),
            Backend::Mock => None,
        }
    }
}

/// State shared by a client and every group and resource client made from it.
pub(crate) struct ClientCore {
    pub(crate) server: String,
    pub(crate) backend: Backend,
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
    /// notifies `signal`. `retry`: the transport retries by the client's
    /// retry policy (false when the caller has its own, see
    /// `transport::Request::retry`).
    /// `here`: the caller waits for it at once (`poll(None)`), which then
    /// runs it on the caller's thread.
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
        retry: bool,
        signal: Arc<Signal>,
        here: bool,
    ) -> mlua::Result<Started> {
        let query = query_string(&query)?;
        let payload = payload(lua, &body)?;
        let request = HttpRequest::new(method, path.to_string(), query, payload, style.as_deref());
        self.start_request(
            lua,
            request,
            body,
            decode_as_it_arrives,
            retry,
            None,
            signal,
            here,
        )
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
        retry: bool,
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
            retry,
            projection,
            signal,
            false,
        )
    }

    /// Starts `request` (`shown_body`: the body as the caller gave it, for
    /// `info.body`; `projection`: the list items' paths to build).
    #[allow(clippy::too_many_arguments)]
    fn start_request(
        &self,
        lua: &Lua,
        request: HttpRequest,
        shown_body: Value,
        decode_as_it_arrives: bool,
        retry: bool,
        projection: Option<Rc<Projection>>,
        signal: Arc<Signal>,
        here: bool,
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
        let decoder = decode_as_it_arrives.then(|| ListDecoder::new(lua).projecting(projection));
        let call = self.backend.start(
            Request {
                method: &request.method,
                url: &url,
                body: request.body,
                content_type: request.content_type.as_deref(),
                accept: request.accept,
                retry,
            },
            decoder.is_some(),
            signal.clone(),
            here,
        );
        Ok(Started {
            call,
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

    /// `start_stream` with its own Accept (a metadata-only watch).
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
        let opening = self.backend.start_streaming(
            Request {
                method: &request.method,
                url: &url,
                body: None,
                content_type: None,
                accept: request.accept,
                retry: false,
            },
            signal,
        );
        Ok(OpeningStream { url, opening })
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
        // A blocking call runs on this thread: no hand-off to the I/O thread
        // and back (1 context switch per GET instead of 3.3; see
        // `runtime::block_here`). Not a list: it decodes while the I/O thread
        // receives and decrypts the rest, which measured faster (5,000 pods,
        // lua5.4, medians of 5: 2.26 s in the background, 2.96 s here).
        let here = !deferred && !incremental;
        let started = self.start(
            lua,
            method,
            path,
            body,
            query,
            style,
            incremental,
            true,
            signal,
            here,
        )?;
        self.complete(lua, method, started, deferred, wrap, incremental)
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
        let started = self.start_viewed(lua, path, query, view, list, list, true, signal)?;
        self.complete(lua, "GET", started, deferred, wrap, list)
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
        incremental: bool,
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
        // While a list is decoded, its tables are all alive: the incremental
        // collector would only walk the growing list again and again (5,000
        // pods on Lua 5.4: the collector's steps were most of the interpreter's
        // share of the profile). Paused for the call, as it was found.
        let _paused = incremental.then(|| gc_pause::Paused::start(lua)).flatten();
        started.poll(None);
        self.reply_values(lua, method, started.finish(), wrap)
    }
}

/// Pausing the collector around a blocking list (see `ClientCore::call`),
/// where the state can say whether it runs (not Lua 5.1's API: LuaJIT and
/// 5.1 collect as before).
mod gc_pause {
    use mlua::Lua;

    /// The collector stopped by `start`; restarted when dropped (an error
    /// or a caught panic included).
    pub(super) struct Paused(Lua);

    impl Paused {
        /// Stops a running collector; `None` when it was not running.
        #[cfg(any(feature = "lua54", feature = "lua53", feature = "lua52"))]
        pub(super) fn start(lua: &Lua) -> Option<Paused> {
            if !lua.gc_is_running() {
                return None;
            }
            lua.gc_stop();
            Some(Paused(lua.clone()))
        }

        #[cfg(not(any(feature = "lua54", feature = "lua53", feature = "lua52")))]
        pub(super) fn start(_: &Lua) -> Option<Paused> {
            None
        }
    }

    impl Drop for Paused {
        fn drop(&mut self) {
            self.0.gc_restart();
        }
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

/// The most a poll that must not wait decodes in one go. An event loop
/// drains a handle when it has news; a list body that arrived whole while
/// the loop was busy was decoded in one slice (70 ms for 3,000 configmaps of
/// 1 KB on lua5.4), and every timer of the loop waited behind it. 4 ms keeps
/// a 100 ms timer within its 110 ms on a quiet machine (issue 12).
const DRAIN_BUDGET: std::time::Duration = std::time::Duration::from_millis(4);

/// A call on its way: the request runs in the background; the Lua thread
/// decodes what arrived (`poll`) and makes the reply once it is done.
pub(crate) struct Started {
    /// The error when it could not be started.
    call: Result<PendingCall, String>,
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
    ///
    /// A poll that must not wait (the deadline has passed: `ready()`, an
    /// iterator's `next(0)`, an event loop's drain) decodes for at most
    /// `DRAIN_BUDGET` and leaves the rest as news for the loop's next turn
    /// (see `PendingCall::pump_within`): the results are the same, only
    /// spread over turns of the loop.
    pub(crate) fn poll(&mut self, deadline: Option<Instant>) -> bool {
        let now = Instant::now();
        let budget = deadline.filter(|d| *d <= now).map(|_| now + DRAIN_BUDGET);
        match &mut self.call {
            Ok(call) => call.pump_within(
                self.decoder
                    .as_mut()
                    .map(|d| d as &mut dyn crate::streaming::BodySink),
                deadline,
                budget,
            ),
            _ => true,
        }
    }

    /// Each element of the list's `items` as the JSON text it came in, once
    /// `poll` said the call is done; `None` when the body was not decoded as
    /// it arrived or not in the shape the decoder scans.
    pub(crate) fn item_texts(&self) -> Option<Vec<crate::list_decoder::JsonText>> {
        self.decoder.as_ref().and_then(ListDecoder::item_texts)
    }

    /// Has `poll` return (false) once a list's continue token was read from
    /// its `metadata`, before the items: see `take_continue`.
    pub(crate) fn announce_continue(&mut self) {
        if let Some(d) = self.decoder.as_mut() {
            d.announce_continue();
        }
    }

    /// The list's continue token, once read (given once).
    pub(crate) fn take_continue(&mut self) -> Option<String> {
        self.decoder.as_mut()?.take_continue()
    }

    /// Stops the request; the reply says it was cancelled.
    pub(crate) fn cancel(&mut self) {
        if let Ok(call) = &mut self.call {
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
            Err(e) => Err(e),
            Ok(mut call) => call
                .take()
                .unwrap_or_else(|| Err("the call has not finished".into())),
        };
        match resp {
            Err(e) => Reply::Failed(Failure::Unreachable(unreachable_message(&e))),
            Ok(r) if (200..300).contains(&r.status) => Reply::Done {
                code: r.status,
                body: r.body,
                info,
                decoded: decoder.map(ListDecoder::finish),
            },
            Ok(r) => Reply::Failed(Failure::Status {
                code: r.status,
                message: failure_message(&method, &url, r.status, &r.body),
                body: r.body,
            }),
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
                    Opened::Failed(Failure::Unreachable("the stream was already opened".into())),
                ))
            }
        };
        let url = &self.url;
        Some(match opening.wait(deadline)? {
            Err(e) => Opened::Failed(Failure::Unreachable(unreachable_message(&e))),
            Ok(r) if (200..300).contains(&r.status) => Opened::Stream(Box::new(LineStream::new(r))),
            Ok(mut r) => {
                let body = r.read_to_end().unwrap_or_default();
                Opened::Failed(Failure::Status {
                    code: r.status,
                    message: failure_message("GET", url, r.status, &body),
                    body,
                })
            }
        })
    }
}

/// The message of a call that got no answer.
fn unreachable_message(e: &str) -> String {
    format!("failed to perform API call: {e}")
}

/// How opening a streaming request went.
pub(crate) enum Opened {
    Stream(Box<LineStream>),
    Failed(Failure),
    /// Mock mode: nothing is sent and the stream is empty.
    Mock,
}

impl crate::nonblocking::Background for Started {
    fn signal(&self) -> &Arc<Signal> {
        Started::signal(self)
    }
    fn poll(&mut self, deadline: Option<Instant>) -> bool {
        Started::poll(self, deadline)
    }
    fn cancel(&mut self) {
        Started::cancel(self)
    }
    fn finish(self: Box<Self>) -> Reply {
        Started::finish(*self)
    }
}

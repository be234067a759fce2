//! `rc:watch(query?, opts?)`: a generic-for iterator of `event_type, object`.
//!
//! Events are decoded one line at a time as they arrive, straight onto the Lua
//! stack. The iterator keeps going across the ends of the server's streams and
//! across reconnects, resuming from the last resourceVersion it saw (bookmarks
//! included, so quiet streams still advance it). It remembers the identity
//! and resourceVersion of every object it has reported (and, when asked, its
//! last state), which gives two guarantees:
//!
//! - Without a starting resourceVersion, it lists first and reports every
//!   existing object as ADDED, then watches from the list's resourceVersion.
//! - When the server answers 410 Expired (the resourceVersion fell out of its
//!   history), it lists again and reports the difference to what it had
//!   reported: ADDED for new objects, MODIFIED for changed ones (another
//!   resourceVersion), DELETED for vanished ones, and DELETED + ADDED for an
//!   object recreated under the same name (another uid). Such a DELETED
//!   carries the object's identity (kind, apiVersion, namespace, name, uid,
//!   resourceVersion); with `keep_last_state` the last state seen. The
//!   re-list's changes go out as its pages come in.
//!   No change is lost and none reported twice; intermediate states between
//!   the two lists are skipped, as with any re-list.
//!
//! Failed connections are retried with backoff; an HTTP error other than 410,
//! 429 and 5xx raises `Code N: …`; an ERROR event other than 410 is handed to
//! the loop as a Status and ends the watch. The connection closes when the
//! loop is left by `break` (the iterator is collected; on Lua 5.4 the for loop
//! closes it at once), on `w:close()`, or at the end of `timeout`.
//!
//! The I/O (opening streams, reading them, list pages, backoff timers) runs
//! in the background and notifies the watch's signal; the decisions stay
//! here, on the Lua thread, and never wait longer than the caller allows:
//! `w:next(0)` only takes what has arrived and starts what is due (a
//! connection, a re-list page), so an event loop can drain it from a timer
//! or when its descriptor is readable.

use crate::call::{ClientCore, Opened, OpeningStream};
use crate::convert::{self, Format};
use crate::iterator::{Iter, Step};
use crate::lua_fn;
use crate::lua_raw;
use crate::pager::{
    event_parts, identity, Identity, PageError, PageItem, Pager, Stamp, DEFAULT_PAGE_SIZE,
};
use crate::returns::{class, shape, Wrap};
use crate::runtime::Signal;
use crate::transport::lines::{Line, LineStream};
use crate::view::View;
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Consecutive failed connections before the iterator gives up.
const DEFAULT_RETRIES: u32 = 10;
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A stream that ends sooner than this without an event is a failure (as
/// client-go's reflector treats a "very short watch"): a server that ends
/// every stream at once got thousands of requests a second.
const SHORT_STREAM: Duration = Duration::from_secs(1);

/// What a watch is asked for; built by the resource client.
pub(crate) struct WatchSpec {
    pub(crate) core: Rc<ClientCore>,
    /// The collection, e.g. `api/v1/namespaces/default/pods`.
    pub(crate) path: String,
    /// The caller's query without `resourceVersion` (selectors …).
    pub(crate) query: Option<Table>,
    pub(crate) resource_version: Option<String>,
    pub(crate) namespaced: bool,
    pub(crate) stamp: Option<Stamp>,
    pub(crate) options: WatchOptions,
}

pub(crate) struct WatchOptions {
    /// Total time the iterator runs before it ends.
    pub(crate) timeout: Option<Duration>,
    /// Hand BOOKMARK events to the loop too (they are always used to resume).
    pub(crate) bookmarks: bool,
    /// Reconnect when the server ends a stream (default true).
    pub(crate) reconnect: bool,
    pub(crate) retries: u32,
    /// `timeoutSeconds` asked of the server per connection (it ends each
    /// stream after that long; the iterator reconnects).
    pub(crate) server_timeout: Option<u64>,
    /// Keep the last reported state of every object, so that a DELETED a
    /// re-list reports carries it (opt-in: it is a second copy of the watched
    /// set, 5,000 pods about 30 MB; by default such a DELETED carries the
    /// object's identity only, see `tombstone`).
    pub(crate) keep_last_state: bool,
    /// Metadata-only or projected objects (`view.rs`).
    pub(crate) view: View,
}

impl WatchOptions {
    /// The option names `rc:watch(query, opts)` takes.
    pub(crate) const KNOWN: &'static [&'static str] = &[
        "timeout",
        "bookmarks",
        "reconnect",
        "retries",
        "server_timeout",
        "keep_last_state",
        "metadata_only",
        "fields",
    ];

    pub(crate) fn from_lua(opts: Option<Table>) -> mlua::Result<Self> {
        let mut o = WatchOptions {
            timeout: None,
            bookmarks: false,
            reconnect: true,
            retries: DEFAULT_RETRIES,
            server_timeout: None,
            keep_last_state: false,
            view: View::whole(),
        };
        let Some(t) = opts else { return Ok(o) };
        o.view = View::from_options(Some(&t)).map_err(mlua::Error::runtime)?;
        if let Some(secs) = t.get::<Option<f64>>("timeout")? {
            o.timeout = Some(
                crate::streaming::seconds(secs, "opts.timeout").map_err(mlua::Error::runtime)?,
            );
        }
        o.bookmarks = t.get::<Option<bool>>("bookmarks")?.unwrap_or(false);
        o.reconnect = t.get::<Option<bool>>("reconnect")?.unwrap_or(true);
        if let Some(n) = t.get::<Option<u32>>("retries")? {
            o.retries = n;
        }
        o.server_timeout = t.get::<Option<u64>>("server_timeout")?;
        o.keep_last_state = t.get::<Option<bool>>("keep_last_state")?.unwrap_or(false);
        Ok(o)
    }
}

/// What the watch remembers of an object it reported: what a re-list needs
/// to tell ADDED, MODIFIED, DELETED and recreated apart, and (only with
/// `keep_last_state`) the last state itself.
struct Known {
    resource_version: Option<String>,
    uid: Option<String>,
    last: Option<LastState>,
}

/// The last reported state of an object, kept as JSON in Rust memory for the
/// DELETED event a re-list may have to report (decoded again only then).
/// Holding every object as a Lua table instead made each collector cycle mark
/// the whole watched set: a watch over 5,000 pods ran at about half the event
/// rate and with several times the memory.
enum LastState {
    /// The event line it came in, `{"type":…,"object":{…}}`.
    Event(Vec<u8>),
    /// The object from a list: its text in the page, or encoded again when
    /// the page could not be scanned for it.
    Listed(Box<[u8]>),
}

impl Known {
    /// Keeps the line of a watch event of this object as its last state
    /// (`None` when last states are not kept). The buffer of the last one is
    /// reused: a fresh allocation per event of several KB made the allocator
    /// consolidate the Lua heap's small free chunks each time.
    fn keep(&mut self, line: Option<&[u8]>) {
        let Some(line) = line else { return };
        match &mut self.last {
            Some(LastState::Event(buf)) => {
                buf.clear();
                buf.extend_from_slice(line);
            }
            last => *last = Some(LastState::Event(line.to_vec())),
        }
    }
}

/// What one object of a re-list means against what was reported.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    Added,
    Modified,
    /// The same name with another uid: DELETED (old) then ADDED.
    Recreated,
    Unchanged,
}

fn change_of(old: Option<&Known>, id: &Identity) -> Change {
    match old {
        None => Change::Added,
        Some(old) if old.uid != id.uid => Change::Recreated,
        Some(old) if old.resource_version != id.resource_version => Change::Modified,
        Some(_) => Change::Unchanged,
    }
}

/// Objects reported before and absent from a complete re-list, by key.
fn gone(known: &HashMap<String, Known>, seen: &HashSet<String>) -> Vec<String> {
    let mut gone: Vec<String> = known
        .keys()
        .filter(|k| !seen.contains(*k))
        .cloned()
        .collect();
    gone.sort_unstable();
    gone
}

/// A re-list in progress: its pager and the objects it has listed so far.
/// Its changes are reported as its pages come in (ADDED, MODIFIED and
/// recreated in the list's order); the deletions once the last page is in.
struct Relisting {
    pager: Pager,
    seen: HashSet<String>,
}

/// A watch event's `type`.
#[derive(Debug, PartialEq)]
enum EventType {
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
    Other(String),
}

impl EventType {
    fn of(bytes: &[u8]) -> Self {
        match bytes {
            b"ADDED" => EventType::Added,
            b"MODIFIED" => EventType::Modified,
            b"DELETED" => EventType::Deleted,
            b"BOOKMARK" => EventType::Bookmark,
            b"ERROR" => EventType::Error,
            other => EventType::Other(String::from_utf8_lossy(other).into_owned()),
        }
    }

    fn is_change(&self) -> bool {
        matches!(
            self,
            EventType::Added | EventType::Modified | EventType::Deleted
        )
    }
}

/// An event line as one raw call into Lua reads it (see `decode_event`).
struct RawEvent {
    /// `type`, when it is a string.
    kind: Option<EventType>,
    /// `object`; for a change with metadata, stamped and with its class.
    object: Value,
    /// `object.metadata` is a table (its identity is in `Watch::event_id`).
    metadata: bool,
}

/// The identity of the event last decoded, in buffers kept from event to
/// event: read into fresh strings it cost about five allocations an event.
#[derive(Default)]
struct EventId {
    /// `namespace/name`.
    key: String,
    resource_version: Option<String>,
    uid: Option<String>,
}

/// `slot` set to `value`, reusing its buffer.
fn set_reusing(slot: &mut Option<String>, value: Option<&[u8]>) {
    match (slot.as_mut(), value) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(&String::from_utf8_lossy(v));
        }
        (_, v) => *slot = v.map(|v| String::from_utf8_lossy(v).into_owned()),
    }
}

impl EventId {
    /// Reads `namespace`, `name`, `resourceVersion` and `uid` of the
    /// metadata table at `idx` (absolute) of a raw stack, read raw.
    fn read(&mut self, stack: lua_raw::Stack, idx: std::os::raw::c_int) {
        let top = stack.top();
        self.key.clear();
        for (field, sep) in [("namespace", "/"), ("name", "")] {
            stack.raw_get_field(idx, field);
            if let Some(v) = stack.string(-1) {
                self.key.push_str(&String::from_utf8_lossy(v));
            }
            self.key.push_str(sep);
            stack.set_top(top);
        }
        stack.raw_get_field(idx, "resourceVersion");
        set_reusing(&mut self.resource_version, stack.string(-1));
        stack.set_top(top);
        stack.raw_get_field(idx, "uid");
        set_reusing(&mut self.uid, stack.string(-1));
        stack.set_top(top);
    }
}

pub(crate) struct Watch {
    spec: WatchSpec,
    deadline: Option<Instant>,
    /// When the current read must return (the deadline or `w:next`'s timeout).
    wait_until: Option<Instant>,
    resource_version: Option<String>,
    stream: Option<LineStream>,
    known: HashMap<String, Known>,
    pending: VecDeque<(&'static str, Table)>,
    needs_list: bool,
    failures: u32,
    /// When the current stream was asked for, how many events it gave, and
    /// the `timeoutSeconds` it was asked with (it may end then, normally).
    stream_opened: Instant,
    stream_events: u64,
    stream_asked: Option<u64>,
    /// Re-lists after 410 with no event since the previous one.
    bare_relists: u32,
    finished: bool,
    /// What the background I/O of this watch notifies.
    signal: Arc<Signal>,
    /// A connection whose answer has not come yet.
    opening: Option<OpeningStream>,
    /// No new attempt before this (backoff after a failure).
    retry_at: Option<Instant>,
    /// A re-list in progress.
    relisting: Option<Relisting>,
    /// The objects' metatable, looked up once: per event the lookup cost more
    /// than setting it.
    object_class: std::cell::OnceCell<Table>,
    /// The JSON array marker (`convert::array_metatable`), looked up once.
    array_mt: std::cell::OnceCell<Table>,
    /// The event line last read (one buffer for all: see `LineBuffer::next_line_into`).
    line: Vec<u8>,
    /// The identity of the event last read (buffers kept: see `EventId`).
    event_id: EventId,
}

impl Watch {
    pub(crate) fn new(spec: WatchSpec) -> Self {
        let start = spec.resource_version.clone().filter(|rv| rv != "0");
        Watch {
            deadline: spec
                .options
                .timeout
                .and_then(crate::streaming::deadline_after),
            wait_until: None,
            needs_list: start.is_none(),
            resource_version: start,
            spec,
            stream: None,
            known: HashMap::new(),
            pending: VecDeque::new(),
            failures: 0,
            stream_opened: Instant::now(),
            stream_events: 0,
            stream_asked: None,
            bare_relists: 0,
            finished: false,
            signal: Signal::new(),
            opening: None,
            retry_at: None,
            relisting: None,
            object_class: std::cell::OnceCell::new(),
            array_mt: std::cell::OnceCell::new(),
            line: Vec::new(),
            event_id: EventId::default(),
        }
    }

    pub(crate) fn close(&mut self) {
        if let Some(mut s) = self.stream.take() {
            s.close();
        }
        self.opening = None;
        self.relisting = None;
        self.finished = true;
        self.pending.clear();
    }

    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The next event, or `None` when the watch is over or, with `until`,
    /// when nothing arrived by then (the watch then stays open).
    fn next_event(
        &mut self,
        lua: &Lua,
        until: Option<Instant>,
    ) -> mlua::Result<Option<(&'static str, Table)>> {
        let wait_until = match (self.deadline, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.wait_until = wait_until;
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(Some(ev));
            }
            if self.finished || self.expired() {
                self.close();
                return Ok(None);
            }
            if self.backing_off() {
                return Ok(None);
            }
            if self.needs_list {
                if !self.relist(lua)? {
                    return Ok(None);
                }
                continue;
            }
            let Some(stream) = self.stream.as_mut() else {
                // Starts the connection when none is under way (also for
                // `next(0)`), then takes its answer if it has come.
                self.connect(lua)?;
                if self.opening.is_some() {
                    return Ok(None);
                }
                continue;
            };
            let mut line = std::mem::take(&mut self.line);
            let read = stream.next_line(wait_until, &mut line);
            let handled = self.handle_read(lua, read, &line);
            self.line = line;
            if !handled? {
                return Ok(None);
            }
        }
    }

    /// What one read of the stream gave (the line in `line`); false when the
    /// caller must return without an event.
    fn handle_read(
        &mut self,
        lua: &Lua,
        read: Result<Line, String>,
        line: &[u8],
    ) -> mlua::Result<bool> {
        match read {
            // A complete line that cannot be decoded is an error the loop
            // sees (the stream stays open: the next call goes on after
            // it), never a silent reconnect that loses what follows.
            Ok(Line::Text) => self.handle_line(lua, line)?,
            Ok(Line::Last) => {
                // The stream ended inside a line: whole if it decodes,
                // else cut off by a dropped connection.
                if convert::decode(lua, line, Format::Json).is_ok() {
                    self.handle_line(lua, line)?;
                } else {
                    self.stream = None;
                    self.stream_failed("an event was cut off".into())?;
                }
            }
            Ok(Line::End) => {
                self.stream = None;
                if !self.spec.options.reconnect {
                    self.finished = true;
                } else if self.short_lived() {
                    self.failed(format!(
                        "watch {}: the server ended the stream at once, without an event",
                        self.spec.path
                    ))?;
                }
            }
            Ok(Line::TimedOut) => {
                if !self.expired() {
                    return Ok(false);
                }
                self.close();
            }
            Ok(Line::TooLong(m)) => {
                self.close();
                return Err(mlua::Error::runtime(format!(
                    "watch {}: {m}",
                    self.spec.path
                )));
            }
            Err(e) => {
                self.stream = None;
                self.stream_failed(e)?;
            }
        }
        Ok(true)
    }

    /// The current stream gave nothing and ended sooner than SHORT_STREAM,
    /// or than half the `timeoutSeconds` it was asked with (a server that
    /// ends a stream when asked to is not failing; with `server_timeout = 1`
    /// such a stream lasts about 1 s and must not be backed off).
    fn short_lived(&self) -> bool {
        let limit = match self.stream_asked {
            Some(secs) => SHORT_STREAM.min(Duration::from_millis(secs.saturating_mul(500))),
            None => SHORT_STREAM,
        };
        self.stream_events == 0 && self.stream_opened.elapsed() < limit
    }

    /// A stream broke. One that had worked (gave events or lasted) is
    /// reopened at once from its resourceVersion, as client-go's reflector
    /// restarts a watch that ended, and failures count from zero again (a
    /// long watch is not given up because of drops hours apart; the events
    /// written meanwhile arrive a reconnect later, not a backoff later). A
    /// stream that broke at once is a failure with backoff.
    fn stream_failed(&mut self, message: String) -> mlua::Result<()> {
        if !self.short_lived() {
            self.failures = 0;
            return Ok(());
        }
        self.failed(message)
    }

    /// The server said 410 Expired: list again; a second 410 with no event
    /// since the last re-list is a failure (backoff, counted toward
    /// `retries`): a server answering every watch with 410 got 155 LISTs and
    /// 155 watches in 5 s.
    fn expired_relist(&mut self) -> mlua::Result<()> {
        if let Some(mut s) = self.stream.take() {
            s.close();
        }
        self.needs_list = true;
        self.bare_relists += 1;
        if self.bare_relists > 1 {
            self.failed(format!(
                "watch {}: 410 Expired again right after a re-list",
                self.spec.path
            ))?;
        }
        Ok(())
    }

    /// In a backoff: waits for its end as long as the caller allows; true
    /// when it has not ended by then.
    fn backing_off(&mut self) -> bool {
        let Some(at) = self.retry_at else {
            return false;
        };
        loop {
            let now = Instant::now();
            if now >= at {
                self.retry_at = None;
                return false;
            }
            let until = match self.wait_until {
                Some(w) if w < at => w,
                _ => at,
            };
            if now >= until {
                return true;
            }
            std::thread::sleep(until - now);
        }
    }

    /// Counts a failed attempt and starts the wait before the next (a timer
    /// in the background notifies the watch when it ends), or gives up.
    fn failed(&mut self, message: String) -> mlua::Result<()> {
        self.failures += 1;
        if self.failures > self.spec.options.retries {
            self.close();
            return Err(mlua::Error::runtime(format!(
                "watch {}: giving up after {} failed attempts: {message}",
                self.spec.path, self.failures
            )));
        }
        let mut wait = Duration::from_millis(100) * 2u32.pow(self.failures.min(6));
        wait = wait.min(MAX_BACKOFF);
        if let Some(d) = self.deadline {
            wait = wait.min(d.saturating_duration_since(Instant::now()));
        }
        let at = Instant::now() + wait;
        self.retry_at = Some(at);
        self.signal.notify_at(at);
        Ok(())
    }

    fn watch_query(&self, lua: &Lua) -> mlua::Result<Table> {
        let q = lua.create_table()?;
        if let Some(user) = &self.spec.query {
            for pair in user.pairs::<Value, Value>() {
                let (k, v) = pair?;
                q.raw_set(k, v)?;
            }
        }
        q.raw_set("watch", true)?;
        q.raw_set("allowWatchBookmarks", true)?;
        if let Some(rv) = &self.resource_version {
            q.raw_set("resourceVersion", rv.as_str())?;
        }
        // Let the server end the stream near our own deadline.
        let left = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()).as_secs() + 1);
        let per_stream = match (left, self.spec.options.server_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(secs) = per_stream {
            q.raw_set("timeoutSeconds", secs)?;
        }
        Ok(q)
    }

    /// Starts a connection if none is under way and takes its outcome if it
    /// came by `wait_until` (`opening` stays set while it has not).
    fn connect(&mut self, lua: &Lua) -> mlua::Result<()> {
        if self.opening.is_none() {
            let query = Value::Table(self.watch_query(lua)?);
            self.stream_asked = match &query {
                Value::Table(q) => q.raw_get::<Option<u64>>("timeoutSeconds")?,
                _ => None,
            };
            let opening = self.spec.core.start_stream_accepting(
                &self.spec.path,
                &query,
                self.spec.options.view.accept(false),
                self.signal.clone(),
            )?;
            self.opening = Some(opening);
            // Counted from the request: the answer's head may wait for the Lua thread.
            self.stream_opened = Instant::now();
        }
        let Some(opened) = self.opening.as_mut().and_then(|o| o.wait(self.wait_until)) else {
            return Ok(());
        };
        self.opening = None;
        match opened {
            Opened::Stream(s) => {
                self.stream = Some(*s);
                self.stream_events = 0;
            }
            Opened::Mock => self.finished = true,
            Opened::Failed(f) if f.code() == Some(410) => self.expired_relist()?,
            // What requests retry (no answer, 429, 503, 504); 500 and other
            // codes are raised as the README says, not retried eleven times.
            Opened::Failed(f) if f.is_retriable() => self.failed(f.message().to_string())?,
            Opened::Failed(f) => {
                self.close();
                return Err(f.into_error());
            }
        }
        Ok(())
    }

    /// The objects' class, as `shape(…, Wrap::Object, …)` sets it.
    fn class(&self, lua: &Lua) -> mlua::Result<&Table> {
        if let Some(c) = self.object_class.get() {
            return Ok(c);
        }
        let Value::Table(probe) = shape(
            lua,
            Value::Table(lua.create_table()?),
            Wrap::Object,
            self.spec.namespaced,
        )?
        else {
            return Err(mlua::Error::runtime("watch: object is not a table"));
        };
        let class = probe
            .metatable()
            .ok_or_else(|| mlua::Error::runtime("watch: objects have no class"))?;
        Ok(self.object_class.get_or_init(|| class))
    }

    /// The object with its class, as `shape(…, Wrap::Object, …)` gives it.
    fn wrap(&self, lua: &Lua, obj: Table) -> mlua::Result<Table> {
        obj.set_metatable(Some(self.class(lua)?.clone()))?;
        Ok(obj)
    }

    /// Decodes an event line and, for a change (ADDED, MODIFIED, DELETED)
    /// whose object has metadata, reads its identity, stamps it and sets its
    /// class, all in one raw call into Lua: as five calls (decode, type and
    /// object, identity, stamp, class) the crossings cost about as much as
    /// decoding a small ConfigMap.
    fn decode_event(&self, lua: &Lua, line: &[u8], id: &mut EventId) -> mlua::Result<RawEvent> {
        let array_mt = match self.array_mt.get() {
            Some(t) => t,
            None => {
                let t = convert::array_metatable(lua)?;
                self.array_mt.get_or_init(|| t)
            }
        };
        let class = self.class(lua)?;
        let stamp = self.spec.stamp.as_ref();
        let projection = self.spec.options.view.events.as_deref();
        let mut failure: Option<String> = None;
        let mut kind = None;
        let mut metadata = false;
        let object: Value = lua_raw::run(lua, (array_mt, class), |stack| {
            // 1: the array marker, 2: the class, 3: the event.
            let pushed = match projection {
                Some(p) => crate::view::push_json(stack, line, 1, p),
                None => convert::push_json(stack, line, 1),
            };
            if let Err(e) = pushed {
                failure = Some(format!("not valid JSON: {e}"));
            } else if stack.kind(3) != lua_raw::LUA_TTABLE {
                failure = Some("not a JSON object".into());
            }
            if failure.is_some() {
                stack.set_top(0);
                return;
            }
            stack.raw_get_field(3, "type"); // 4
            kind = stack.string(4).map(EventType::of);
            stack.raw_get_field(3, "object"); // 5
            if stack.kind(5) == lua_raw::LUA_TTABLE {
                stack.raw_get_field(5, "metadata"); // 6
                if stack.kind(6) == lua_raw::LUA_TTABLE {
                    id.read(stack, 6);
                    metadata = true;
                }
                stack.set_top(5);
                if metadata && kind.as_ref().is_some_and(EventType::is_change) {
                    if let Some(stamp) = stamp {
                        stamp.apply_on(stack, 5);
                    }
                    stack.push_copy(2);
                    stack.set_metatable(5);
                }
            }
            stack.replace(1);
            stack.set_top(1);
        })?;
        match failure {
            Some(what) => Err(self.bad_event(&what)),
            None => Ok(RawEvent {
                kind,
                object,
                metadata,
            }),
        }
    }

    fn handle_line(&mut self, lua: &Lua, line: &[u8]) -> mlua::Result<()> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let mut id = std::mem::take(&mut self.event_id);
        let decoded = self.decode_event(lua, line, &mut id);
        let handled = decoded.and_then(|event| self.handle_event(lua, line, event, &id));
        self.event_id = id;
        handled
    }

    fn handle_event(
        &mut self,
        lua: &Lua,
        line: &[u8],
        event: RawEvent,
        id: &EventId,
    ) -> mlua::Result<()> {
        let RawEvent {
            kind,
            object,
            metadata,
        } = event;
        let Some(kind) = kind else {
            return Err(self.bad_event("no type"));
        };
        let Value::Table(mut obj) = object else {
            return Err(self.bad_event("no object"));
        };
        let kind = match kind {
            EventType::Error => {
                if self.spec.options.view.events.is_some() {
                    // A Status is handed over whole, whatever the projection.
                    if let Value::Table(whole) = convert::decode(lua, line, Format::Json)? {
                        if let Value::Table(status) = event_parts(lua, &whole)?.1 {
                            obj = status;
                        }
                    }
                }
                let code = obj.raw_get::<Value>("code")?;
                let expired = match code {
                    Value::Integer(c) => c == 410,
                    Value::Number(c) => c == 410.0,
                    _ => false,
                };
                if expired {
                    // Expired: drop this stream and list again.
                    self.expired_relist()?;
                } else {
                    // Hand the Status to the loop, then end: retrying an error
                    // the server chose to send could loop forever.
                    obj.set_metatable(Some(class(lua, "Status")?))?;
                    if let Some(mut s) = self.stream.take() {
                        s.close();
                    }
                    self.finished = true;
                    self.pending.push_back(("ERROR", obj));
                }
                return Ok(());
            }
            EventType::Bookmark => {
                // A bookmark without metadata (or resourceVersion) carries
                // nothing to resume from: ignored, not the end of the watch.
                if metadata && id.resource_version.is_some() {
                    set_reusing(
                        &mut self.resource_version,
                        id.resource_version.as_deref().map(str::as_bytes),
                    );
                }
                self.progressed();
                if self.spec.options.bookmarks {
                    self.pending.push_back(("BOOKMARK", obj));
                }
                return Ok(());
            }
            EventType::Other(other) => {
                return Err(self.bad_event(&format!("unknown event type {other:?}")))
            }
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        };
        // Stamped and with its class already (decode_event).
        if !metadata {
            return Err(self.bad_event("object without metadata"));
        }
        self.progressed();
        let rv = id.resource_version.as_deref();
        if rv.is_some() {
            set_reusing(&mut self.resource_version, rv.map(str::as_bytes));
        }
        let kept = self.spec.options.keep_last_state.then_some(line);
        if kind == "DELETED" {
            self.known.remove(id.key.as_str());
        } else if let Some(known) = self.known.get_mut(id.key.as_str()) {
            set_reusing(&mut known.resource_version, rv.map(str::as_bytes));
            set_reusing(&mut known.uid, id.uid.as_deref().map(str::as_bytes));
            known.keep(kept);
        } else {
            self.known.insert(
                id.key.clone(),
                Known {
                    resource_version: id.resource_version.clone(),
                    uid: id.uid.clone(),
                    last: kept.map(|l| LastState::Event(l.to_vec())),
                },
            );
        }
        self.pending.push_back((kind, obj));
        Ok(())
    }

    /// An event arrived: the stream works, failures start counting anew.
    fn progressed(&mut self) {
        self.failures = 0;
        self.bare_relists = 0;
        self.stream_events += 1;
    }

    fn bad_event(&self, what: &str) -> mlua::Error {
        mlua::Error::runtime(format!(
            "watch {}: malformed event from the server: {what}",
            self.spec.path
        ))
    }

    /// What a DELETED that a re-list implies carries for the object under
    /// `key`, as a fresh table with its class: its last reported state when
    /// `keep_last_state`, else its tombstone.
    fn last_state(&self, lua: &Lua, key: &str) -> mlua::Result<Option<Table>> {
        let Some(known) = self.known.get(key) else {
            return Ok(None);
        };
        let (json, in_event) = match &known.last {
            Some(LastState::Event(line)) => (line.as_slice(), true),
            Some(LastState::Listed(object)) => (&object[..], false),
            None => return self.tombstone(lua, key, known).map(Some),
        };
        let view = &self.spec.options.view;
        let projection = if in_event {
            &view.events
        } else {
            &view.projection
        };
        let decoded = match projection {
            Some(p) => crate::view::decode(lua, json, p)?,
            None => convert::decode(lua, json, Format::Json)?,
        };
        let Value::Table(mut obj) = decoded else {
            return Err(self.bad_event("not a JSON object"));
        };
        if in_event {
            let Value::Table(inner) = event_parts(lua, &obj)?.1 else {
                return Err(self.bad_event("no object"));
            };
            obj = inner;
        }
        if let Some(stamp) = &self.spec.stamp {
            stamp.apply(lua, &obj)?;
        }
        self.wrap(lua, obj).map(Some)
    }

    /// The object as far as the watch knows it without its last state:
    /// `kind`, `apiVersion` and `metadata` with `namespace` (when it has
    /// one), `name`, `uid` and `resourceVersion` (the last reported). As
    /// client-go's informers hand out a `DeletedFinalStateUnknown` for an
    /// object a re-list found gone, this says which object went, not what
    /// it last held; kube-rs's `watcher` reports no deletion at all after a
    /// re-list (its `Init…` events restate the set).
    fn tombstone(&self, lua: &Lua, key: &str, known: &Known) -> mlua::Result<Table> {
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        let metadata = lua.create_table_with_capacity(0, 4)?;
        if !namespace.is_empty() {
            metadata.raw_set("namespace", namespace)?;
        }
        metadata.raw_set("name", name)?;
        if let Some(uid) = &known.uid {
            metadata.raw_set("uid", uid.as_str())?;
        }
        if let Some(rv) = &known.resource_version {
            metadata.raw_set("resourceVersion", rv.as_str())?;
        }
        let obj = lua.create_table_with_capacity(0, 3)?;
        obj.raw_set("metadata", metadata)?;
        if let Some(stamp) = &self.spec.stamp {
            stamp.apply(lua, &obj)?;
        }
        self.wrap(lua, obj)
    }

    /// Lists the collection and queues the difference to what was reported,
    /// page by page as the pages come in: at most one page of objects waits
    /// in Lua (the whole list at once held 5,000 pods as tables, most of a
    /// pod watch's peak memory), and the first ADDED is out before the last
    /// page is. True when events are queued or the re-list is done; false
    /// when nothing came in by `wait_until` (it goes on in the background
    /// and the next call picks it up).
    fn relist(&mut self, lua: &Lua) -> mlua::Result<bool> {
        let mut relisting = match self.relisting.take() {
            Some(r) => r,
            None => {
                let mut pager = Pager::new(
                    self.spec.core.clone(),
                    self.spec.path.clone(),
                    self.spec.query.clone(),
                    DEFAULT_PAGE_SIZE,
                    self.spec.stamp.clone(),
                );
                pager.keep_json = self.spec.options.keep_last_state;
                pager.prefetch = true;
                // The watch's own backoff is the one retry policy of a
                // re-list: the transport does not retry its pages as well.
                pager.retry = false;
                pager.view = self.spec.options.view.clone();
                pager.signal = self.signal.clone();
                Relisting {
                    pager,
                    seen: HashSet::new(),
                }
            }
        };
        loop {
            if !self.pending.is_empty() {
                self.relisting = Some(relisting);
                return Ok(true);
            }
            match relisting.pager.next_item_until(lua, self.wait_until) {
                Ok(Some(item)) => self.relisted(lua, &mut relisting.seen, item)?,
                Ok(None) => break,
                Err(PageError::NotYet) => {
                    self.relisting = Some(relisting);
                    return Ok(false);
                }
                // The same rule as for opening the stream (one retry policy).
                Err(PageError::Failed(f)) if f.is_retriable() => {
                    return self.failed(f.message().to_string()).map(|_| true)
                }
                Err(e) => {
                    self.close();
                    return Err(e.into_lua());
                }
            }
        }
        // Failures are not forgotten here: a server answering every watch
        // with 410 must reach `retries` (see expired_relist).
        for key in gone(&self.known, &relisting.seen) {
            if let Some(old) = self.last_state(lua, &key)? {
                self.pending.push_back(("DELETED", old));
            }
            self.known.remove(&key);
        }
        self.resource_version = relisting.pager.resource_version().map(str::to_string);
        self.needs_list = false;
        Ok(true)
    }

    /// One object of a re-list: its events queued, what is known of it
    /// updated. A re-list cut short by a failure leaves what it reported
    /// recorded, so the next one reports no object twice.
    fn relisted(
        &mut self,
        lua: &Lua,
        seen: &mut HashSet<String>,
        (item, text): PageItem,
    ) -> mlua::Result<()> {
        let id = identity(lua, &item)?;
        seen.insert(id.key.clone());
        let change = change_of(self.known.get(&id.key), &id);
        let kind = match change {
            Change::Unchanged => return Ok(()),
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Recreated => {
                if let Some(old) = self.last_state(lua, &id.key)? {
                    self.pending.push_back(("DELETED", old));
                }
                "ADDED"
            }
        };
        let last = match (self.spec.options.keep_last_state, text) {
            (false, _) => None,
            (true, Some(json)) => Some(LastState::Listed(json)),
            (true, None) => Some(LastState::Listed(
                convert::encode(lua, &Value::Table(item.clone()), "object")
                    .map_err(|e| self.bad_event(&e))?
                    .into_boxed_slice(),
            )),
        };
        self.known.insert(
            id.key,
            Known {
                resource_version: id.resource_version,
                uid: id.uid,
                last,
            },
        );
        let obj = self.wrap(lua, item)?;
        self.pending.push_back((kind, obj));
        Ok(())
    }
}

impl Step for Watch {
    const NAME: &'static str = "kube.Watch";

    fn step(&mut self, lua: &Lua) -> mlua::Result<MultiValue> {
        self.next_until(lua, None)
    }

    /// `w:next(timeout)`: one event, or nil when none came within `timeout`
    /// seconds (the watch stays open; `w:finished()` tells the two apart).
    fn next_until(&mut self, lua: &Lua, until: Option<Instant>) -> mlua::Result<MultiValue> {
        match self.next_event(lua, until)? {
            Some((kind, obj)) => (kind, obj).into_lua_multi(lua),
            None => Ok(MultiValue::new()),
        }
    }

    fn finished(&self) -> bool {
        self.finished && self.pending.is_empty()
    }

    fn buffered(&self) -> bool {
        !self.pending.is_empty()
    }

    fn signal(&self) -> Option<Arc<Signal>> {
        Some(self.signal.clone())
    }

    fn close(&mut self) {
        Watch::close(self)
    }

    fn methods(lua: &Lua) -> mlua::Result<Vec<(&'static str, Function)>> {
        let rv = lua_fn::method(
            lua,
            "watch:resource_version",
            |_, this: &Iter<Watch>, ()| Ok(this.0.borrow().resource_version.clone()),
        )?;
        Ok(vec![("resource_version", rv)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(key: &str, rv: &str, uid: &str) -> Identity {
        Identity {
            key: key.into(),
            resource_version: Some(rv.into()),
            uid: Some(uid.into()),
        }
    }

    fn known(rv: &str, uid: &str) -> Known {
        Known {
            resource_version: Some(rv.into()),
            uid: Some(uid.into()),
            last: None,
        }
    }

    #[test]
    fn relist_reports_only_what_changed() {
        let known: HashMap<String, Known> = [
            ("ns/same", "1", "u1"),
            ("ns/changed", "2", "u2"),
            ("ns/recreated", "3", "u3"),
            ("ns/gone-b", "4", "u4"),
            ("ns/gone-a", "5", "u5"),
        ]
        .into_iter()
        .map(|(k, rv, uid)| (k.to_string(), known(rv, uid)))
        .collect();
        let fresh = [
            id("ns/new", "9", "u9"),
            id("ns/same", "1", "u1"),
            id("ns/changed", "7", "u2"),
            id("ns/recreated", "8", "u8"),
        ];
        let changes: Vec<Change> = fresh
            .iter()
            .map(|i| change_of(known.get(&i.key), i))
            .collect();
        assert_eq!(
            changes,
            [
                Change::Added,
                Change::Unchanged,
                Change::Modified,
                Change::Recreated
            ]
        );
        let seen: HashSet<String> = fresh.iter().map(|i| i.key.clone()).collect();
        assert_eq!(gone(&known, &seen), ["ns/gone-a", "ns/gone-b"]);
        assert!(gone(&HashMap::new(), &HashSet::new()).is_empty());
    }

    #[test]
    fn options_default_and_validate() {
        let lua = Lua::new();
        let o = WatchOptions::from_lua(None).unwrap();
        assert!(o.reconnect && !o.bookmarks && o.timeout.is_none());
        let t = lua.create_table().unwrap();
        t.set("timeout", -2.0).unwrap();
        let e = WatchOptions::from_lua(Some(t)).err().unwrap().to_string();
        assert!(e.contains("opts.timeout"), "{e}");
    }
}

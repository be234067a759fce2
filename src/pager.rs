//! Lists read page by page with `limit` and `continue`, so a collection of any
//! size is walked with bounded memory (`rc:iter`, and the watch's re-list).
//!
//! When the server answers 410 Expired to a continue token (it compacted the
//! snapshot the token pointed into), the list restarts from the first page
//! at the current state, skipping objects already handed out: every object
//! (namespace/name) is yielded at most once, objects not yet reached come from
//! the newer snapshot.

use crate::call::{ClientCore, Started};
use crate::convert::{self, Format};
use crate::iterator::Step;
use crate::list_decoder::JsonText;
use crate::lua_raw::{self, Stack};
use crate::returns::{shape, Failure, Reply, Wrap};
use crate::runtime::Signal;
use crate::view::View;
use mlua::{IntoLuaMulti, Lua, MultiValue, Table, Value};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// Default page size for `rc:iter`.
pub(crate) const DEFAULT_PAGE_SIZE: i64 = 500;
/// Restarts after expired continue tokens before giving up.
const MAX_RESTARTS: u32 = 5;

/// Why a page could not be read.
pub(crate) enum PageError {
    /// An error status or no answer.
    Failed(Failure),
    Lua(mlua::Error),
    /// The page has not come in by the time asked for (it keeps coming in
    /// the background).
    NotYet,
}

impl From<mlua::Error> for PageError {
    fn from(e: mlua::Error) -> Self {
        PageError::Lua(e)
    }
}

impl PageError {
    pub(crate) fn into_lua(self) -> mlua::Error {
        match self {
            PageError::Failed(failure) => failure.into_error(),
            PageError::Lua(e) => e,
            PageError::NotYet => mlua::Error::runtime("the list page has not come in yet"),
        }
    }
}

/// `namespace/name`, `resourceVersion` and `uid` of an object.
pub(crate) struct Identity {
    pub(crate) key: String,
    pub(crate) resource_version: Option<String>,
    pub(crate) uid: Option<String>,
}

fn string_field(t: &Table, field: &str) -> mlua::Result<Option<String>> {
    Ok(match t.raw_get::<Value>(field)? {
        Value::String(s) => Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
        _ => None,
    })
}

/// The string at the top of the stack, if it is one.
fn top_string(stack: Stack) -> Option<String> {
    stack
        .string(-1)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}

/// Reads `metadata.namespace`, `.name`, `.resourceVersion` and `.uid` with
/// raw gets (objects carry class metatables whose `__index` must not answer
/// for a missing field), in one call into Lua: this runs for every watch
/// event and list item, and field-by-field reads through mlua cost as much
/// as decoding a small object.
pub(crate) fn identity(lua: &Lua, obj: &Table) -> mlua::Result<Identity> {
    let mut values: [Option<String>; 4] = Default::default();
    let mut has_metadata = false;
    lua_raw::run::<()>(lua, obj, |stack| {
        stack.raw_get_field(1, "metadata");
        if stack.kind(2) != lua_raw::LUA_TTABLE {
            return;
        }
        has_metadata = true;
        values = identity_fields(stack, 2);
    })?;
    if !has_metadata {
        return Err(mlua::Error::runtime("object without metadata"));
    }
    Ok(Identity::from_fields(values))
}

/// `namespace`, `name`, `resourceVersion` and `uid` of the metadata table
/// at `idx` (an absolute index) of a raw stack, read raw.
fn identity_fields(stack: Stack, idx: std::os::raw::c_int) -> [Option<String>; 4] {
    const FIELDS: [&str; 4] = ["namespace", "name", "resourceVersion", "uid"];
    let top = stack.top();
    let mut values: [Option<String>; 4] = Default::default();
    for (slot, field) in values.iter_mut().zip(FIELDS) {
        stack.raw_get_field(idx, field);
        *slot = top_string(stack);
        stack.set_top(top);
    }
    values
}

impl Identity {
    /// From what `identity_fields` read.
    pub(crate) fn from_fields([ns, name, resource_version, uid]: [Option<String>; 4]) -> Self {
        Identity {
            key: format!("{}/{}", ns.unwrap_or_default(), name.unwrap_or_default()),
            resource_version,
            uid,
        }
    }
}

/// A watch event's `type` (if a string) and `object`, read raw in one call.
pub(crate) fn event_parts(lua: &Lua, event: &Table) -> mlua::Result<(Option<String>, Value)> {
    let mut kind = None;
    let object: Value = lua_raw::run(lua, event, |stack| {
        stack.raw_get_field(1, "type");
        kind = top_string(stack);
        stack.raw_get_field(1, "object");
        stack.replace(1);
        stack.set_top(1);
    })?;
    Ok((kind, object))
}

/// `kind` and `apiVersion` set on list items that lack them (real servers
/// leave them out of list items; watch events and gets carry them).
#[derive(Clone)]
pub(crate) struct Stamp {
    pub(crate) api_version: String,
    pub(crate) kind: String,
}

impl Stamp {
    pub(crate) fn apply(&self, lua: &Lua, obj: &Table) -> mlua::Result<()> {
        lua_raw::run(lua, obj, |stack| self.apply_on(stack, 1))
    }

    /// As `apply`, on the table at `idx` (an absolute index) of a raw stack.
    pub(crate) fn apply_on(&self, stack: Stack, idx: std::os::raw::c_int) {
        let top = stack.top();
        for (field, value) in [("kind", &self.kind), ("apiVersion", &self.api_version)] {
            stack.raw_get_field(idx, field);
            let missing = stack.kind(-1) == lua_raw::LUA_TNIL;
            stack.set_top(top);
            if missing {
                stack.push_str(field);
                stack.push_str(value);
                stack.raw_set(idx);
            }
        }
    }
}

/// A listed object, with its JSON text when the pager keeps it.
pub(crate) type PageItem = (Table, Option<JsonText>);

pub(crate) struct Pager {
    core: Rc<ClientCore>,
    path: String,
    /// The caller's query (selectors …); `limit`/`continue` are added per page.
    query: Option<Table>,
    page_size: i64,
    stamp: Option<Stamp>,
    continue_token: Option<String>,
    /// The page's objects, each with its JSON text when `keep_json`.
    page: VecDeque<PageItem>,
    /// Keep each object's JSON text as it came (for the watch's last states).
    pub(crate) keep_json: bool,
    /// Pages are retried by the transport (false: the caller retries, as a
    /// watch's re-list does with its own backoff; see `Failure::is_retriable`).
    pub(crate) retry: bool,
    /// Ask for the next page as soon as a page is in, while its objects are
    /// handed out (the watch's list: its time to the last ADDED was the
    /// sum of every page's round trip and decoding).
    pub(crate) prefetch: bool,
    started: bool,
    /// The resourceVersion of the list snapshot (from the first page).
    resource_version: Option<String>,
    /// Keys handed out, to skip after a restart.
    yielded: HashSet<String>,
    restarts: u32,
    /// Hashes of the continue tokens of this listing: a token that comes
    /// back would page forever (the same object 36,716 times in 15 s).
    tokens: HashSet<u64>,
    /// The page request under way.
    inflight: Option<Started>,
    /// With `prefetch`: the next page, asked for as soon as the current
    /// one's continue token was read (its `metadata` comes before its items),
    /// so the server prepares it while the current one is still decoded.
    next: Option<(String, Started)>,
    /// What the page requests notify.
    pub(crate) signal: Arc<Signal>,
    /// Metadata-only or projected items (`view.rs`).
    pub(crate) view: View,
}

impl Pager {
    pub(crate) fn new(
        core: Rc<ClientCore>,
        path: String,
        query: Option<Table>,
        page_size: i64,
        stamp: Option<Stamp>,
    ) -> Self {
        Pager {
            core,
            path,
            query,
            page_size,
            stamp,
            continue_token: None,
            page: VecDeque::new(),
            keep_json: false,
            retry: true,
            prefetch: false,
            started: false,
            resource_version: None,
            yielded: HashSet::new(),
            restarts: 0,
            tokens: HashSet::new(),
            inflight: None,
            next: None,
            signal: Signal::new(),
            view: View::whole(),
        }
    }

    /// The resourceVersion of the snapshot being listed (after the first page).
    pub(crate) fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref()
    }

    /// The next object (`None` after the last page), with its JSON text as
    /// it came when `keep_json` (and the page could be scanned for it),
    /// waiting for a page until `until` at the latest (`PageError::NotYet`
    /// then; forever when `None`).
    pub(crate) fn next_item_until(
        &mut self,
        lua: &Lua,
        until: Option<Instant>,
    ) -> Result<Option<PageItem>, PageError> {
        loop {
            while let Some((item, json)) = self.page.pop_front() {
                let id = identity(lua, &item)?;
                if self.restarts > 0 && self.yielded.contains(&id.key) {
                    continue;
                }
                self.yielded.insert(id.key);
                return Ok(Some((item, json)));
            }
            if self.finished() {
                return Ok(None);
            }
            self.fetch_page(lua, until)?;
        }
    }

    fn page_query(&self, lua: &Lua, token: Option<&str>) -> mlua::Result<Table> {
        let q = lua.create_table()?;
        if let Some(user) = &self.query {
            for pair in user.pairs::<Value, Value>() {
                let (k, v) = pair?;
                q.raw_set(k, v)?;
            }
        }
        q.raw_set("limit", self.page_size)?;
        match token {
            Some(token) => q.raw_set("continue", token)?,
            None => q.raw_set("continue", Value::Nil)?,
        }
        Ok(q)
    }

    /// Every page was handed out.
    pub(crate) fn finished(&self) -> bool {
        self.started
            && self.continue_token.is_none()
            && self.page.is_empty()
            && self.inflight.is_none()
    }

    /// Starts the request for the next page (the one after `continue_token`):
    /// the one asked for early when it is that one. Its body is decoded as
    /// it arrives (whenever the page is polled), as plain lists are.
    fn request_page(&mut self, lua: &Lua) -> mlua::Result<()> {
        let early = self.next.take();
        self.inflight = Some(match early {
            Some((token, started)) if self.continue_token.as_ref() == Some(&token) => started,
            _ => self.start_page(lua, self.continue_token.as_deref())?,
        });
        Ok(())
    }

    fn start_page(&self, lua: &Lua, token: Option<&str>) -> mlua::Result<Started> {
        let query = Value::Table(self.page_query(lua, token)?);
        let mut started = self.core.start_viewed(
            lua,
            &self.path,
            query,
            &self.view,
            true,
            true,
            self.retry,
            self.signal.clone(),
        )?;
        if self.prefetch {
            started.announce_continue();
        }
        Ok(started)
    }

    fn fetch_page(&mut self, lua: &Lua, until: Option<Instant>) -> Result<(), PageError> {
        if self.inflight.is_none() {
            self.request_page(lua)?;
        }
        if let Some(mut started) = self.inflight.take() {
            loop {
                let done = started.poll(until);
                let early = started.take_continue();
                let wanted = self.prefetch && self.next.is_none();
                if let Some(token) = early.as_ref().filter(|_| wanted) {
                    match self.start_page(lua, Some(token)) {
                        Ok(next) => self.next = Some((token.clone(), next)),
                        Err(e) => {
                            self.inflight = Some(started);
                            return Err(e.into());
                        }
                    }
                }
                if done {
                    break;
                }
                if early.is_none() {
                    self.inflight = Some(started);
                    return Err(PageError::NotYet);
                }
            }
            self.inflight = Some(started);
        }
        let Some(started) = self.inflight.take() else {
            return Err(PageError::NotYet);
        };
        let texts = if self.keep_json {
            started.item_texts()
        } else {
            None
        };
        let reply = started.finish();
        let (body, decoded) = match reply {
            Reply::Done { body, decoded, .. } => (body, decoded),
            Reply::Failed(f)
                if f.code() == Some(410)
                    && self.continue_token.is_some()
                    && self.restarts < MAX_RESTARTS =>
            {
                self.restarts += 1;
                self.next = None;
                self.continue_token = None;
                self.started = false;
                self.tokens.clear();
                return Ok(());
            }
            Reply::Failed(failure) => {
                self.next = None;
                return Err(PageError::Failed(failure));
            }
        };
        let (decoded, mut texts) = match decoded {
            Some(decoded) => (decoded, texts),
            // Mock mode (no decoder ran).
            None => {
                let decoded = convert::decode(lua, &body, Format::Json);
                (decoded.map_err(|e| crate::lua_fn::message(&e)), None)
            }
        };
        let list = match decoded {
            Ok(Value::Table(list)) => list,
            Ok(_) => {
                return Err(PageError::Lua(mlua::Error::runtime(format!(
                    "listing {}: the answer is not a JSON object",
                    self.path
                ))))
            }
            // Cut off or garbled on the way: a transport failure, worth retrying.
            Err(e) => {
                self.next = None;
                return Err(PageError::Failed(Failure::Unreachable(format!(
                    "listing {}: the answer is not valid JSON: {e}",
                    self.path,
                ))));
            }
        };
        let meta = match list.get::<Value>("metadata")? {
            Value::Table(m) => Some(m),
            _ => None,
        };
        let token = match &meta {
            Some(m) => string_field(m, "continue")?.filter(|t| !t.is_empty()),
            None => None,
        };
        if !self.started {
            self.resource_version = match &meta {
                Some(m) => string_field(m, "resourceVersion")?,
                None => None,
            };
        }
        if let Some(t) = &token {
            use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
            let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(t);
            if !self.tokens.insert(hash) {
                self.next = None;
                self.continue_token = None;
                self.started = true;
                return Err(PageError::Lua(mlua::Error::runtime(format!(
                    "listing {}: the server sent a continue token it had sent before \
                     (paging would never end)",
                    self.path
                ))));
            }
        }
        self.started = true;
        self.continue_token = token;
        if let Value::Table(items) = list.get::<Value>("items")? {
            if texts.as_ref().is_some_and(|t| t.len() != items.raw_len()) {
                texts = None;
            }
            let mut texts = texts.map(Vec::into_iter);
            for item in items.sequence_values::<Table>() {
                let item = item?;
                if let Some(stamp) = &self.stamp {
                    stamp.apply(lua, &item)?;
                }
                let json = texts.as_mut().and_then(Iterator::next);
                self.page.push_back((item, json));
            }
        }
        if self.prefetch && self.continue_token.is_some() {
            self.request_page(lua)?;
        }
        Ok(())
    }
}

/// `rc:iter(query?, opts?)`: every item across pages, wrapped like `get`'s.
pub(crate) struct ListIter {
    pub(crate) pager: Pager,
    pub(crate) namespaced: bool,
}

impl Step for ListIter {
    const NAME: &'static str = "kube.ListIterator";

    fn step(&mut self, lua: &Lua) -> mlua::Result<MultiValue> {
        self.next_until(lua, None)
    }

    fn next_until(&mut self, lua: &Lua, until: Option<Instant>) -> mlua::Result<MultiValue> {
        match self.pager.next_item_until(lua, until) {
            Ok(Some((item, _))) => {
                shape(lua, Value::Table(item), Wrap::Object, self.namespaced)?.into_lua_multi(lua)
            }
            Ok(None) | Err(PageError::NotYet) => Ok(MultiValue::new()),
            Err(e) => Err(e.into_lua()),
        }
    }

    fn finished(&self) -> bool {
        self.pager.finished()
    }

    fn buffered(&self) -> bool {
        !self.pager.page.is_empty()
    }

    fn signal(&self) -> Option<Arc<Signal>> {
        Some(self.pager.signal.clone())
    }

    fn close(&mut self) {
        self.pager.inflight = None;
        self.pager.next = None;
        self.pager.page.clear();
        self.pager.started = true;
        self.pager.continue_token = None;
    }
}

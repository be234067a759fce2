//! The resource verbs: one table ([`VERBS`]) saying, for every method a
//! resource client has, which HTTP method it sends, whether it addresses the
//! collection or one object, which discovery subresource (`status`, `log`,
//! `scale` …), how the answer is handed back and which resources have it;
//! and one [`dispatch`] that reads each verb's arguments as luakube did and
//! sends the request the row describes. Built-in and discovered resources
//! go through the same table (their capabilities come from `resources` or
//! from discovery, `dynamic`).
//!
//! Adding a verb: a row here, an arm in `dispatch` for its arguments, and
//! `types/` plus the README for users.

use crate::args::{
    arg_error, body_table, name_arg, nth, obj_name, opt_string, opt_table, options, req_string,
    split_query, value_string, Args,
};
use crate::call::{relative_call, ClientCore};
use crate::follow::FollowLines;
use crate::iterator::Iter;
use crate::lua_fn;
use crate::pager::{ListIter, Pager, Stamp, DEFAULT_PAGE_SIZE};
use crate::request::On;
use crate::resources::{Extra, Resource};
use crate::returns::Wrap;
use crate::streaming::seconds;
use crate::target::ResourceClient;
use crate::view::{self, View};
use crate::watch::{Watch, WatchOptions, WatchSpec};
use mlua::{Function, IntoLuaMulti, Lua, MetaMethod, MultiValue, Table, UserData, Value};
use std::rc::Rc;

/// The field manager `apply` uses when the caller names none.
pub(crate) const DEFAULT_FIELD_MANAGER: &str = "luakube-rs";

/// Which resources have a verb.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Gate {
    Always,
    /// Resources with a `status` subresource.
    Status,
    /// Resources whose collection can be deleted at once.
    DeleteCollection,
    Has(Extra),
}

/// One resource-client method.
#[derive(Debug)]
pub(crate) struct Verb {
    pub(crate) name: &'static str,
    /// The HTTP method (`call`/`raw_call` take theirs from the caller).
    pub(crate) method: &'static str,
    pub(crate) on: On,
    /// The discovery subresource it addresses (`""`: the object itself).
    pub(crate) sub: &'static str,
    /// How a successful answer is handed back (`None`: as the body string).
    pub(crate) wrap: Option<Wrap>,
    pub(crate) gate: Gate,
}

const fn verb(
    name: &'static str,
    method: &'static str,
    on: On,
    sub: &'static str,
    wrap: Option<Wrap>,
    gate: Gate,
) -> Verb {
    Verb {
        name,
        method,
        on,
        sub,
        wrap,
        gate,
    }
}

use Gate::*;
use On::*;

const OBJECT: Option<Wrap> = Some(Wrap::Object);
const RESPONSE: Option<Wrap> = Some(Wrap::Response);

/// Every resource-client method. `get` without a name lists (`Items`).
#[rustfmt::skip]
pub(crate) static VERBS: &[Verb] = &[
    // luakube's verbs
    verb("get",               "GET",    Item,       "",            OBJECT,                   Always),
    verb("list",              "GET",    Collection, "",            Some(Wrap::List),         Always),
    verb("create",            "POST",   Collection, "",            OBJECT,                   Always),
    verb("update",            "PUT",    Item,       "",            OBJECT,                   Always),
    verb("patch",             "PATCH",  Item,       "",            OBJECT,                   Always),
    verb("delete",            "DELETE", Item,       "",            RESPONSE,                 Always),
    verb("call",              "GET",    Collection, "",            Some(Wrap::Plain),        Always),
    verb("raw_call",          "GET",    Collection, "",            None,                     Always),
    verb("status",            "GET",    Item,       "status",      Some(Wrap::StatusField),  Status),
    verb("update_status",     "PUT",    Item,       "status",      OBJECT,                   Status),
    verb("patch_status",      "PATCH",  Item,       "status",      OBJECT,                   Status),
    verb("delete_collection", "DELETE", Collection, "",            RESPONSE,                 DeleteCollection),
    verb("logs",              "GET",    Item,       "log",         Some(Wrap::Text),         Has(Extra::Logs)),
    verb("ephemeralcontainers", "GET",  Item,       "ephemeralcontainers", OBJECT,           Has(Extra::EphemeralContainers)),
    verb("finalize",          "PUT",    Item,       "finalize",    OBJECT,                   Has(Extra::Finalize)),
    // luakube's scale(name, n): a merge patch of spec.replicas.
    verb("scale",             "PATCH",  Item,       "",            OBJECT,                   Has(Extra::Scale)),
    // beyond luakube
    verb("watch",             "GET",    Collection, "",            OBJECT,                   Always),
    verb("iter",              "GET",    Collection, "",            Some(Wrap::List),         Always),
    verb("apply",             "PATCH",  Item,       "",            OBJECT,                   Always),
    verb("follow_logs",       "GET",    Item,       "log",         None,                     Has(Extra::Logs)),
    verb("get_scale",         "GET",    Item,       "scale",       OBJECT,                   Has(Extra::ScaleSubresource)),
    verb("replace_scale",     "PUT",    Item,       "scale",       OBJECT,                   Has(Extra::ScaleSubresource)),
    verb("evict",             "POST",   Item,       "eviction",    RESPONSE,                 Has(Extra::Eviction)),
    verb("bind",              "POST",   Item,       "binding",     RESPONSE,                 Has(Extra::Binding)),
    // WebSocket sessions (`exec`)
    verb("exec",              "GET",    Item,       "exec",        None,                     Has(Extra::Exec)),
    verb("exec_session",      "GET",    Item,       "exec",        None,                     Has(Extra::Exec)),
    verb("attach",            "GET",    Item,       "attach",      None,                     Has(Extra::Attach)),
    verb("portforward",       "GET",    Item,       "portforward", None,                     Has(Extra::PortForward)),
    verb("portforward_listen", "GET",   Item,       "portforward", None,                     Has(Extra::PortForward)),
    // `kubectl cp`: tar over exec
    verb("cp_to",             "GET",    Item,       "exec",        None,                     Has(Extra::Exec)),
    verb("cp_from",           "GET",    Item,       "exec",        None,                     Has(Extra::Exec)),
    // written in Lua (`kube.cache`, handed over by `kube.api`), on a watch
    verb("informer",          "GET",    Collection, "",            OBJECT,                   Always),
];

impl Verb {
    /// The row for a method name.
    pub(crate) fn find(name: &str) -> Option<&'static Verb> {
        VERBS.iter().find(|v| v.name == name)
    }

    /// Whether resource `res` has this verb.
    pub(crate) fn allowed(&self, res: &Resource) -> bool {
        match self.gate {
            Always => true,
            Status => res.status,
            DeleteCollection => res.delete_collection,
            Has(extra) => res.has(extra),
        }
    }
}

const INFORMER_KEY: &str = "kube.informer";

/// `kube.core.set_informer(f)`: `lua/kube/api.lua` hands over `informer`
/// (written in Lua, `kube.cache`) once, when it is required; the core never
/// requires Lua modules itself.
pub(crate) fn set_informer(lua: &Lua, f: Function) -> mlua::Result<()> {
    lua.set_named_registry_value(INFORMER_KEY, f)
}

/// `informer`, the resource-client method written in Lua.
fn informer(lua: &Lua) -> mlua::Result<Function> {
    lua.named_registry_value::<Function>(INFORMER_KEY)
        .map_err(|_| mlua::Error::runtime("informer is not registered: require \"kube.api\" first"))
}

/// The resource-client method `name`, if resource `res` has it (luakube
/// left the others nil): one function per resource and verb, cached, its
/// name in every error it raises.
pub(crate) fn method(
    lua: &Lua,
    name: &str,
    res: &'static Resource,
) -> mlua::Result<Option<Function>> {
    let Some(verb) = Verb::find(name).filter(|v| v.allowed(res)) else {
        return Ok(None);
    };
    if verb.name == "informer" {
        return informer(lua).map(Some);
    }
    let key = format!("kube.method.{}.{name}", res.name);
    if let Ok(f) = lua.named_registry_value::<Function>(&key) {
        return Ok(Some(f));
    }
    let owned: &'static str = Box::leak(format!("{}:{name}", res.name).into_boxed_str());
    let f = lua_fn::method(lua, owned, move |lua, this: &ResourceClient, rest: Args| {
        dispatch(lua, this, verb, rest)
    })?;
    // Network methods yield in an event-loop adapter's coroutine.
    let f = crate::nonblocking::yielding(lua, f)?;
    lua.set_named_registry_value(&key, &f)?;
    Ok(Some(f))
}

impl ResourceClient {
    /// The path `v` addresses: the collection in namespace `ns`, or object
    /// `name` (or its subresource).
    fn path_of(&self, v: &Verb, ns: Option<&str>, name: &str) -> mlua::Result<String> {
        match v.on {
            Collection => Ok(self.collection(ns)),
            Item => self.item(v.name, ns, name, v.sub),
        }
    }

    /// Sends `v`'s request to `path` and returns its answer as `v` hands it back.
    fn send(
        &self,
        lua: &Lua,
        v: &Verb,
        path: &str,
        body: Value,
        query: Value,
        style: Option<&str>,
    ) -> mlua::Result<MultiValue> {
        let wrap = v.wrap.map(|w| (w, self.namespaced_objects()));
        self.core.call(
            lua,
            v.method,
            path,
            body,
            query,
            style.map(str::to_string),
            wrap,
        )
    }
}

fn stamp(rc: &ResourceClient) -> Stamp {
    Stamp {
        api_version: rc.group.version.to_string(),
        kind: rc.res.kind.to_string(),
    }
}

/// `get` without a name: the collection's items.
static GET_ITEMS: Verb = verb("get", "GET", Collection, "", Some(Wrap::Items), Always);

/// Reads verb `v`'s arguments and runs it.
pub(crate) fn dispatch(
    lua: &Lua,
    rc: &ResourceClient,
    v: &'static Verb,
    a: Args,
) -> mlua::Result<MultiValue> {
    let verb = v.name;
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
                let path = rc.path_of(v, rc.need_ns(verb)?, &name)?;
                let view = view_of(&a2, &what, &["metadata_only"])?;
                if view.metadata_only {
                    let wrap = v.wrap.map(|w| (w, rc.namespaced_objects()));
                    return rc.core.call_viewed(lua, &path, a1, &view, wrap);
                }
                rc.send(lua, v, &path, Value::Nil, a1, None)
            }
            other => {
                let query = if a1.is_nil() { other } else { a1 };
                let query = match query {
                    Value::Table(_) => query,
                    _ => Value::Nil,
                };
                let path = rc.collection(rc.namespace.as_deref());
                rc.send(lua, &GET_ITEMS, &path, Value::Nil, query, None)
            }
        },
        // By name, no body: the query second.
        "status" | "delete" | "logs" => {
            let name = name_arg(lua, &a0, &what)?;
            let path = rc.path_of(v, rc.need_ns(verb)?, &name)?;
            rc.send(lua, v, &path, Value::Nil, a1, None)
        }
        "get_scale" => {
            let name = req_string(&a0, &what, "name")?;
            let path = rc.path_of(v, rc.need_ns(verb)?, &name)?;
            rc.send(lua, v, &path, Value::Nil, a1, None)
        }
        "list" => {
            let path = rc.collection(rc.namespace.as_deref());
            let view = view_of(&a1, &what, &view::OPTION_NAMES)?;
            if view.metadata_only || view.projection.is_some() {
                let wrap = v.wrap.map(|w| (w, rc.namespaced_objects()));
                return rc.core.call_viewed(lua, &path, a0, &view, wrap);
            }
            rc.send(lua, v, &path, Value::Nil, a0, None)
        }
        "delete_collection" => {
            let path = rc.collection(rc.need_ns(verb)?);
            rc.send(lua, v, &path, a0, a1, None)
        }
        "create" => {
            let body = rc.body(lua, a0, verb, rc.res.kind)?;
            let ns = rc.obj_ns(&body, verb)?;
            let path = rc.collection(ns.as_deref());
            rc.send(lua, v, &path, Value::Table(body), a1, None)
        }
        // The object names itself (and its namespace, without the client's).
        "update" | "update_status" | "finalize" => {
            let body = rc.body(lua, a0, verb, rc.res.kind)?;
            let name = obj_name(&body, &what)?;
            let ns = rc.obj_ns(&body, verb)?;
            let path = rc.path_of(v, ns.as_deref(), &name)?;
            rc.send(lua, v, &path, Value::Table(body), a1, None)
        }
        "patch" | "patch_status" => {
            let name = name_arg(lua, &a0, &what)?;
            let style = opt_string(&a3, &what, "style")?;
            let path = rc.path_of(v, rc.need_ns(verb)?, &name)?;
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
            rc.send(lua, v, &path, patch, a2, style.as_deref())
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
                n => n,
            };
            let spec = lua.create_table()?;
            spec.set("replicas", replicas)?;
            let patch = lua.create_table()?;
            patch.set("spec", spec)?;
            let path = rc.path_of(v, rc.need_ns(verb)?, &name)?;
            rc.send(lua, v, &path, Value::Table(patch), a2, Some("merge"))
        }
        "apply" => {
            let body = rc.body(lua, a0, verb, rc.res.kind)?;
            let name = obj_name(&body, &what)?;
            let ns = rc.obj_ns(&body, verb)?;
            let (query, taken) = split_query(lua, &a1, &what, &["fieldManager"])?;
            let query = match query {
                Some(q) => q,
                None => lua.create_table()?,
            };
            let manager = value_string(&taken[0])?;
            query.raw_set(
                "fieldManager",
                manager.as_deref().unwrap_or(DEFAULT_FIELD_MANAGER),
            )?;
            let path = rc.path_of(v, ns.as_deref(), &name)?;
            rc.send(
                lua,
                v,
                &path,
                Value::Table(body),
                Value::Table(query),
                Some("apply"),
            )
        }
        "replace_scale" => {
            let name = req_string(&a0, &what, "name")?;
            let ns = rc.need_ns(verb)?;
            let body = match a1 {
                Value::Integer(_) | Value::Number(_) => {
                    let spec = lua.create_table()?;
                    spec.set("replicas", a1)?;
                    let t = lua.create_table()?;
                    t.set("spec", spec)?;
                    t
                }
                other => body_table(lua, other, &what)?,
            };
            body.set("apiVersion", "autoscaling/v1")?;
            body.set("kind", "Scale")?;
            fill_metadata(lua, &body, &name, ns)?;
            let path = rc.path_of(v, ns, &name)?;
            rc.send(lua, v, &path, Value::Table(body), a2, None)
        }
        "evict" => {
            let name = req_string(&a0, &what, "name")?;
            let ns = rc.need_ns(verb)?;
            let body = lua.create_table()?;
            body.set("apiVersion", "policy/v1")?;
            body.set("kind", "Eviction")?;
            fill_metadata(lua, &body, &name, ns)?;
            if let Some(opts) = opt_table(a1, &what, "delete options")? {
                body.set("deleteOptions", opts)?;
            }
            let path = rc.path_of(v, ns, &name)?;
            rc.send(lua, v, &path, Value::Table(body), a2, None)
        }
        "bind" => {
            let name = req_string(&a0, &what, "name")?;
            let node = req_string(&a1, &what, "node")?;
            let ns = rc.need_ns(verb)?;
            let target = lua.create_table()?;
            target.set("apiVersion", "v1")?;
            target.set("kind", "Node")?;
            target.set("name", node)?;
            let body = lua.create_table()?;
            body.set("apiVersion", "v1")?;
            body.set("kind", "Binding")?;
            fill_metadata(lua, &body, &name, ns)?;
            body.set("target", target)?;
            let path = rc.path_of(v, ns, &name)?;
            rc.send(lua, v, &path, Value::Table(body), a2, None)
        }
        "ephemeralcontainers" => {
            let name = name_arg(lua, &a0, &what)?;
            let path = rc.path_of(v, rc.need_ns(verb)?, &name)?;
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
        "watch" => {
            let (query, taken) = split_query(lua, &a0, &what, &["resourceVersion", "watch"])?;
            let options = WatchOptions::from_lua(options(a1, &what, WatchOptions::KNOWN)?)
                .map_err(|e| arg_error(&what, crate::lua_fn::message(&e)))?;
            let spec = WatchSpec {
                core: rc.core.clone(),
                path: rc.collection(rc.namespace.as_deref()),
                query,
                resource_version: value_string(&taken[0])?,
                namespaced: rc.namespaced_objects(),
                stamp: Some(stamp(rc)),
                options,
            };
            Iter::new(Watch::new(spec)).into_for_loop(lua)
        }
        "iter" => {
            let (query, taken) = split_query(lua, &a0, &what, &["limit", "continue"])?;
            let opts = options(a1, &what, &["limit", "metadata_only", "fields"])?;
            let view = View::from_options(opts.as_ref()).map_err(|e| arg_error(&what, e))?;
            let from_opts = match &opts {
                Some(o) => o.get::<Option<i64>>("limit")?,
                None => None,
            };
            let page_size = match (from_opts, &taken[0]) {
                (Some(n), _) => n,
                (None, Value::Integer(n)) => *n,
                (None, Value::Number(n)) => *n as i64,
                _ => DEFAULT_PAGE_SIZE,
            };
            if page_size <= 0 {
                return Err(arg_error(&what, "the page size (limit) must be positive"));
            }
            let mut pager = Pager::new(
                rc.core.clone(),
                rc.collection(rc.namespace.as_deref()),
                query,
                page_size,
                Some(stamp(rc)),
            );
            pager.view = view;
            Iter::new(ListIter {
                pager,
                namespaced: rc.namespaced_objects(),
            })
            .into_for_loop(lua)
        }
        "follow_logs" => {
            let name = req_string(&a0, &what, "name")?;
            let (query, _) = split_query(lua, &a1, &what, &["follow"])?;
            let query = match query {
                Some(q) => q,
                None => lua.create_table()?,
            };
            query.raw_set("follow", true)?;
            let deadline = match options(a2, &what, &["timeout"])? {
                Some(o) => match o.get::<Option<f64>>("timeout")? {
                    Some(s) => crate::streaming::deadline_after(
                        seconds(s, "opts.timeout").map_err(|e| arg_error(&what, e))?,
                    ),
                    None => None,
                },
                None => None,
            };
            let path = rc.path_of(v, rc.need_ns(verb)?, &name)?;
            let deferred = crate::nonblocking::take_defer(lua);
            let signal = crate::runtime::Signal::new();
            let opening = rc
                .core
                .start_stream(&path, &Value::Table(query), signal.clone())?;
            let mut lines = FollowLines {
                stream: None,
                opening: Some(opening),
                deadline,
                signal,
                line: Vec::new(),
            };
            if !deferred {
                // The blocking start raises a failed request here, as before.
                lines.opened(None)?;
            }
            Iter::new(lines).into_for_loop(lua)
        }
        v if crate::exec::VERBS.contains(&v) => crate::exec::dispatch(lua, rc, verb, a),
        _ => Err(arg_error(&what, "unknown method")),
    }
}

/// The view (`view.rs`) an `opts` argument asks for, its names checked
/// against `known`.
fn view_of(opts: &Value, what: &str, known: &[&str]) -> mlua::Result<View> {
    let opts = options(opts.clone(), what, known)?;
    View::from_options(opts.as_ref()).map_err(|e| arg_error(what, e))
}

/// Sets `metadata.name` / `metadata.namespace` where the body lacks them.
fn fill_metadata(lua: &Lua, body: &Table, name: &str, ns: Option<&str>) -> mlua::Result<()> {
    let meta = match body.get::<Value>("metadata")? {
        Value::Table(m) => m,
        _ => {
            let m = lua.create_table()?;
            body.set("metadata", &m)?;
            m
        }
    };
    if meta.get::<Value>("name")?.is_nil() {
        meta.set("name", name)?;
    }
    if let Some(ns) = ns {
        if meta.get::<Value>("namespace")?.is_nil() {
            meta.set("namespace", ns)?;
        }
    }
    Ok(())
}

/// `pods:ephemeralcontainers(name)`: get / update / patch on that subresource.
pub(crate) struct EphemeralClient {
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

//! Resource-client verbs beyond luakube's: `watch`, `iter`, `follow_logs`,
//! server-side `apply`, and the `scale`, `eviction` and `binding`
//! subresources. They follow the same return conventions as the others.

use crate::client::{arg_error, nth, obj_name, req_string, Args, ResourceClient, Wrap};
use crate::iterator::Iter;
use crate::pager::{ListIter, Pager, Stamp, DEFAULT_PAGE_SIZE};
use crate::resources::{Extra, Resource};
use crate::streaming::{seconds, FollowLines};
use crate::watch::{Watch, WatchOptions, WatchSpec};
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::time::Instant;

/// The field manager `apply` uses when the caller names none.
pub const DEFAULT_FIELD_MANAGER: &str = "luakube-rs";

pub fn supports(name: &str, res: &Resource) -> bool {
    match name {
        "watch" | "iter" | "apply" => true,
        "get_scale" | "replace_scale" => res.has(Extra::ScaleSubresource),
        "evict" => res.has(Extra::Eviction),
        "bind" => res.has(Extra::Binding),
        _ => false,
    }
}

/// Resource-client methods written in Lua (`informer`, from `kube.cache`).
pub fn lua_method(lua: &Lua, name: &str) -> mlua::Result<Function> {
    let require: Function = lua.globals().get("require")?;
    let module: Table = require.call("kube.cache")?;
    module.get(name)
}

/// A copy of the caller's query table without the keys the verb sets itself,
/// and the removed values.
fn split_query(
    lua: &Lua,
    query: &Value,
    what: &str,
    taken: &[&str],
) -> mlua::Result<(Option<Table>, Vec<Value>)> {
    let user = match query {
        Value::Nil => return Ok((None, vec![Value::Nil; taken.len()])),
        Value::Table(t) => t,
        other => {
            return Err(arg_error(
                what,
                format!("query must be a table, got {}", other.type_name()),
            ))
        }
    };
    let copy = lua.create_table()?;
    let mut removed = vec![Value::Nil; taken.len()];
    for pair in user.pairs::<Value, Value>() {
        let (k, v) = pair?;
        if let Value::String(s) = &k {
            if let Some(i) = taken.iter().position(|t| s.as_bytes() == t.as_bytes()) {
                removed[i] = v;
                continue;
            }
        }
        copy.raw_set(k, v)?;
    }
    Ok((Some(copy), removed))
}

fn opt_table(v: Value, what: &str, arg: &str) -> mlua::Result<Option<Table>> {
    match v {
        Value::Nil => Ok(None),
        Value::Table(t) => Ok(Some(t)),
        other => Err(arg_error(
            what,
            format!("{arg} must be a table, got {}", other.type_name()),
        )),
    }
}

/// An options table whose keys must be among `known`: a misspelt option
/// (`page_size` for `limit`) is an error, not silently ignored.
fn options(v: Value, what: &str, known: &[&str]) -> mlua::Result<Option<Table>> {
    let Some(t) = opt_table(v, what, "opts")? else {
        return Ok(None);
    };
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let name = match &k {
            Value::String(s) => s.to_string_lossy(),
            other => format!("a {} key", other.type_name()),
        };
        if !known.contains(&name.as_str()) {
            return Err(arg_error(
                what,
                format!("unknown option {name:?} (known: {})", known.join(", ")),
            ));
        }
    }
    Ok(Some(t))
}

fn value_string(v: &Value) -> mlua::Result<Option<String>> {
    Ok(match v {
        Value::String(s) => Some(s.to_str()?.to_string()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn stamp(rc: &ResourceClient) -> Stamp {
    Stamp {
        api_version: rc.group.version.to_string(),
        kind: rc.res.kind.to_string(),
    }
}

pub fn dispatch(lua: &Lua, rc: &ResourceClient, verb: &str, a: Args) -> mlua::Result<MultiValue> {
    let what = rc.what(verb);
    let (a0, a1, a2) = (nth(&a, 0), nth(&a, 1), nth(&a, 2));
    match verb {
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
            let opts = options(a1, &what, &["limit"])?;
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
            let pager = Pager::new(
                rc.core.clone(),
                rc.collection(rc.namespace.as_deref()),
                query,
                page_size,
                Some(stamp(rc)),
            );
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
                    Some(s) => Some(
                        Instant::now()
                            + seconds(s, "opts.timeout").map_err(|e| arg_error(&what, e))?,
                    ),
                    None => None,
                },
                None => None,
            };
            let path = format!("{}/{name}/log", rc.collection(rc.need_ns(verb)?));
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
            };
            if !deferred {
                // The blocking start raises a failed request here, as before.
                lines.opened(None)?;
            }
            Iter::new(lines).into_for_loop(lua)
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
            let path = format!("{}/{name}", rc.collection(ns.as_deref()));
            rc.run(
                lua,
                "PATCH",
                &path,
                Value::Table(body),
                Value::Table(query),
                Some("apply".into()),
                Wrap::Object,
            )
        }
        "get_scale" => {
            let name = req_string(&a0, &what, "name")?;
            let path = format!("{}/{name}/scale", rc.collection(rc.need_ns(verb)?));
            rc.run(lua, "GET", &path, Value::Nil, a1, None, Wrap::Object)
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
                other => crate::client::body_table(lua, other, &what)?,
            };
            body.set("apiVersion", "autoscaling/v1")?;
            body.set("kind", "Scale")?;
            fill_metadata(lua, &body, &name, ns)?;
            let path = format!("{}/{name}/scale", rc.collection(ns));
            rc.run(
                lua,
                "PUT",
                &path,
                Value::Table(body),
                a2,
                None,
                Wrap::Object,
            )
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
            let path = format!("{}/{name}/eviction", rc.collection(ns));
            rc.run(
                lua,
                "POST",
                &path,
                Value::Table(body),
                a2,
                None,
                Wrap::Response,
            )
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
            let path = format!("{}/{name}/binding", rc.collection(ns));
            rc.run(
                lua,
                "POST",
                &path,
                Value::Table(body),
                a2,
                None,
                Wrap::Response,
            )
        }
        _ => Err(arg_error(&what, "unknown method")),
    }
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

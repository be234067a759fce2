//! The non-blocking API (`require "kube.nonblocking"`): a call started
//! without waiting is a [`Pending`] handle; iterators (watch, follow_logs,
//! iter, and the informer on top of watch) are handles already. Every
//! handle has `ready()`, `id()` and cqueues' pollable protocol (`pollfd()`,
//! `events()`, `timeout()`); the process-wide readiness descriptor and the
//! ready ids are `kube.core.nb_fd()` / `nb_ready()`.
//!
//! How a verb is started without waiting: `nb_start(f, ...)` (in
//! `await.lua`) switches this Lua state to deferred mode and calls `f`; the
//! first call that reaches `ClientCore::call` (or discovery) takes the switch
//! and returns a `Pending` instead of waiting. One place for a pending
//! result: `Pending` holds the started call and the closure that turns its
//! reply into exactly what the blocking call returns.
//!
//! The transparent yield: network methods are wrapped by `await.lua`; in a
//! coroutine an adapter registered (`nb_auto()[co] = wait_fn`) they start
//! deferred and call `wait_fn(handle)` until it is ready, so plain luakube
//! code yields to the host loop there and blocks as before everywhere else.

use crate::call::Started;
use crate::returns::Reply;
use crate::runtime::{self, Signal};
use crate::{lua_fn, streaming};
use mlua::{Function, Lua, MetaMethod, MultiValue, Table, UserData, Value};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The deferred-mode switch of one Lua state.
struct Defer(Cell<bool>);

/// Takes the switch: true when this call should return a pending handle.
pub(crate) fn take_defer(lua: &Lua) -> bool {
    match lua.app_data_ref::<Defer>() {
        Some(d) => d.0.replace(false),
        None => false,
    }
}

fn set_defer(lua: &Lua, on: bool) {
    if let Some(d) = lua.app_data_ref::<Defer>() {
        d.0.set(on);
        return;
    }
    lua.set_app_data(Defer(Cell::new(on)));
}

/// Turns a finished call's reply into its Lua results.
pub(crate) type Finisher = Box<dyn FnOnce(&Lua, Reply) -> mlua::Result<MultiValue>>;

enum State {
    Running(Box<Started>, Finisher),
    Done(Result<Vec<Value>, String>),
    /// Being finished (re-entered from the finisher's Lua code).
    Busy,
}

/// A call running in the background (`kube.Pending`).
pub(crate) struct Pending {
    state: RefCell<State>,
    signal: Arc<Signal>,
}

impl Pending {
    pub(crate) fn new(started: Started, finish: Finisher) -> Self {
        let signal = started.signal().clone();
        Pending {
            state: RefCell::new(State::Running(Box::new(started), finish)),
            signal,
        }
    }

    /// A handle whose results are already known (e.g. a cached discovery).
    pub(crate) fn done(values: MultiValue) -> Self {
        let signal = Signal::new();
        signal.notify();
        Pending {
            state: RefCell::new(State::Done(Ok(values.into_iter().collect()))),
            signal,
        }
    }

    /// Decodes what arrived; waits until `deadline` (never when passed).
    fn poll(&self, deadline: Option<Instant>) -> bool {
        match &mut *self.state.borrow_mut() {
            State::Running(started, _) => started.poll(deadline),
            _ => true,
        }
    }

    fn result(&self, lua: &Lua) -> mlua::Result<MultiValue> {
        self.poll(None);
        let state = std::mem::replace(&mut *self.state.borrow_mut(), State::Busy);
        let outcome = match state {
            State::Running(started, finish) => {
                let out = finish(lua, started.finish());
                let stored = match &out {
                    Ok(v) => Ok(v.iter().cloned().collect()),
                    Err(e) => Err(lua_fn::message(e)),
                };
                *self.state.borrow_mut() = State::Done(stored);
                return out;
            }
            State::Done(r) => r,
            State::Busy => Err("pending:result: called again while it runs".into()),
        };
        let again = outcome.clone();
        *self.state.borrow_mut() = State::Done(outcome);
        match again {
            Ok(v) => Ok(v.into_iter().collect()),
            Err(e) => Err(mlua::Error::runtime(e)),
        }
    }
}

/// `h:timeout()` of the pollable protocol: 0 when ready (poll returns at
/// once), nil to wait for the descriptor.
fn poll_timeout(ready: bool) -> Option<f64> {
    ready.then_some(0.0)
}

impl UserData for Pending {
    fn add_methods<M: mlua::UserDataMethods<Self>>(m: &mut M) {
        m.add_method("ready", |_, this, ()| {
            this.signal.expose();
            Ok(this.poll(Some(Instant::now())))
        });
        m.add_method("result", |lua, this, ()| this.result(lua));
        m.add_method("cancel", |_, this, ()| {
            if let State::Running(started, _) = &mut *this.state.borrow_mut() {
                started.cancel();
            }
            Ok(())
        });
        m.add_method("id", |_, this, ()| {
            this.signal.expose();
            Ok(this.signal.id())
        });
        m.add_method("pollfd", |_, this, ()| {
            this.signal.pollfd().map_err(mlua::Error::runtime)
        });
        m.add_method("events", |_, _, ()| Ok("r"));
        m.add_method("timeout", |_, this, ()| {
            Ok(poll_timeout(this.poll(Some(Instant::now()))))
        });
        m.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("kube.Pending({})", this.signal.id()))
        });
    }
}

const AWAIT: &str = include_str!("nonblocking/await.lua");
const WRAP_KEY: &str = "kube.nb.wrap";
const AUTO_KEY: &str = "kube.nb.auto";

/// The pieces `await.lua` is made of: its `wrap`, `start` and `auto` table.
fn await_module(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(t) = lua.named_registry_value::<Table>(WRAP_KEY) {
        return Ok(t);
    }
    let auto = lua.create_table()?;
    let mt = lua.create_table()?;
    mt.set("__mode", "k")?;
    auto.set_metatable(Some(mt))?;
    let set = lua.create_function(|lua, on: bool| {
        set_defer(lua, on);
        Ok(())
    })?;
    let is_pending = lua.create_function(|_, v: Value| {
        Ok(matches!(&v, Value::UserData(ud) if ud.is::<Pending>()))
    })?;
    let now = lua.create_function(|_, ()| Ok(crate::monotonic_seconds()))?;
    let module: Table = lua.load(AWAIT).set_name("=kube.nonblocking.await").call((
        auto.clone(),
        set,
        is_pending,
        now,
    ))?;
    lua.set_named_registry_value(AUTO_KEY, &auto)?;
    lua.set_named_registry_value(WRAP_KEY, &module)?;
    Ok(module)
}

/// `f` wrapped so it yields to the host loop inside an adapter's coroutine.
pub(crate) fn yielding(lua: &Lua, f: Function) -> mlua::Result<Function> {
    let wrap: Function = await_module(lua)?.get("wrap")?;
    wrap.call(f)
}

/// `iterator:next` / the iterator's `__call` wrapped the same way (`which`
/// is `wrap_next` or `wrap_call`).
pub(crate) fn yielding_iter(lua: &Lua, which: &str, f: Function) -> mlua::Result<Function> {
    let wrap: Function = await_module(lua)?.get(which)?;
    wrap.call(f)
}

/// The `nb_*` entries of `kube.core`.
pub(crate) fn exports(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let m = await_module(lua)?;
    t.set("nb_start", m.get::<Function>("start")?)?;
    t.set("nb_auto", lua.named_registry_value::<Table>(AUTO_KEY)?)?;
    t.set(
        "nb_is_pending",
        lua.create_function(|_, v: Value| {
            Ok(matches!(&v, Value::UserData(ud) if ud.is::<Pending>()))
        })?,
    )?;
    t.set(
        "nb_fd",
        lua_fn::named(lua, "nonblocking.fd", |_, ()| {
            runtime::ready_fd().map_err(mlua::Error::runtime)
        })?,
    )?;
    t.set(
        "nb_ready",
        lua_fn::named(lua, "nonblocking.ready", |lua, ()| {
            lua.create_sequence_from(runtime::take_ready())
        })?,
    )?;
    // Blocks this OS thread until handle `id` has news (OpenResty's thread
    // pool runs it in its own Lua state; ids are process-wide).
    t.set(
        "nb_wait",
        lua_fn::named(lua, "nonblocking.wait", |_, (id, timeout): (u64, f64)| {
            let d = streaming::seconds(timeout, "timeout").map_err(mlua::Error::runtime)?;
            Ok(runtime::wait_id(id, d.min(Duration::from_secs(3600))))
        })?,
    )?;
    // Blocks this OS thread until some handle has news; the ready ids joined
    // by commas (kube.ngx's dispatcher, in a pool thread's Lua state).
    t.set(
        "nb_wait_any",
        lua_fn::named(lua, "nonblocking.wait_any", |_, timeout: f64| {
            let d = streaming::seconds(timeout, "timeout").map_err(mlua::Error::runtime)?;
            let ids = runtime::wait_ready(d.min(Duration::from_secs(3600)));
            Ok(ids.iter().map(u64::to_string).collect::<Vec<_>>().join(","))
        })?,
    )?;
    t.set(
        "nb_done",
        lua.create_function(|_, v: MultiValue| Ok(Pending::done(v)))?,
    )?;
    Ok(())
}

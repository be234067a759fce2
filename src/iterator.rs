//! Iterators handed to Lua's generic `for` (watch events, list items, log
//! lines): a userdata that is called for each step, closes its connection on
//! `close()`, when collected (`__gc`, via Drop) and, on Lua 5.4, as the for
//! loop's to-be-closed value when the loop is left by `break` or an error.
//!
//! Every iterator is also a non-blocking handle: its I/O runs in the
//! background, `it:next(timeout)` waits at most `timeout` (0: only takes what
//! has arrived, never touching the network), `it:finished()` tells "nothing
//! yet" from "over", and `ready()`, `id()`, `pollfd()`, `events()`,
//! `timeout()` let a loop wait for it (see `nonblocking`).

use crate::lua_fn;
use crate::runtime::Signal;
use mlua::{Function, Lua, MetaMethod, MultiValue, UserData, UserDataMethods};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

pub(crate) trait Step: Sized + 'static {
    /// Shown in `tostring` and in error messages.
    const NAME: &'static str;
    /// The next values for the loop; nothing (nil) ends it.
    fn step(&mut self, lua: &Lua) -> mlua::Result<MultiValue>;
    /// The next values, waiting until `until` at the latest (forever when
    /// `None`); nothing when none came in time or the iterator ended.
    fn next_until(&mut self, lua: &Lua, until: Option<Instant>) -> mlua::Result<MultiValue> {
        let _ = until;
        self.step(lua)
    }
    /// Over: `next` will never give anything again.
    fn finished(&self) -> bool {
        false
    }
    /// Values are waiting to be handed out (no I/O needed).
    fn buffered(&self) -> bool {
        false
    }
    /// What the background I/O notifies.
    fn signal(&self) -> Option<Arc<Signal>> {
        None
    }
    fn close(&mut self);
    /// Methods beyond `close` (e.g. `resource_version`).
    fn methods(_lua: &Lua) -> mlua::Result<Vec<(&'static str, Function)>> {
        Ok(Vec::new())
    }
}

pub(crate) struct Iter<T: Step>(pub(crate) RefCell<T>);

impl<T: Step> Iter<T> {
    pub(crate) fn new(inner: T) -> Self {
        Iter(RefCell::new(inner))
    }

    /// `iterator, nil, nil, iterator`: what a generic `for` takes (the fourth
    /// value is the to-be-closed variable on Lua 5.4, ignored before).
    pub(crate) fn into_for_loop(self, lua: &Lua) -> mlua::Result<MultiValue> {
        let ud = lua_fn::userdata(lua, self)?;
        use mlua::IntoLuaMulti;
        (ud.clone(), mlua::Value::Nil, mlua::Value::Nil, ud).into_lua_multi(lua)
    }
}

fn call<T: Step>(lua: &Lua, this: &Iter<T>, _: MultiValue) -> mlua::Result<MultiValue> {
    let mut inner = this
        .0
        .try_borrow_mut()
        .map_err(|_| mlua::Error::runtime(format!("{}: already running", T::NAME)))?;
    inner.step(lua)
}

fn borrow<T: Step>(this: &Iter<T>) -> mlua::Result<std::cell::RefMut<'_, T>> {
    this.0
        .try_borrow_mut()
        .map_err(|_| mlua::Error::runtime(format!("{}: already running", T::NAME)))
}

/// `it:ready()`: something to hand out, news from the I/O, or over.
fn is_ready<T: Step>(this: &Iter<T>) -> bool {
    match this.0.try_borrow() {
        Ok(it) => it.buffered() || it.finished() || it.signal().is_none_or(|s| s.has_news()),
        Err(_) => false,
    }
}

fn handle_methods<T: Step>(lua: &Lua) -> mlua::Result<Vec<(&'static str, Function)>> {
    let next = lua_fn::method(lua, T::NAME, |lua, this: &Iter<T>, timeout: Option<f64>| {
        let until = match timeout {
            Some(s) => crate::streaming::deadline_after(
                crate::streaming::seconds(s, "next: timeout").map_err(mlua::Error::runtime)?,
            ),
            None => None,
        };
        borrow(this)?.next_until(lua, until)
    })?;
    let next = crate::nonblocking::yielding_iter(lua, "wrap_next", next)?;
    let finished = lua_fn::method(lua, T::NAME, |_, this: &Iter<T>, ()| {
        Ok(this.0.try_borrow().map(|it| it.finished()).unwrap_or(false))
    })?;
    let ready = lua_fn::method(lua, T::NAME, |_, this: &Iter<T>, ()| Ok(is_ready(this)))?;
    let timeout = lua_fn::method(lua, T::NAME, |_, this: &Iter<T>, ()| {
        Ok(is_ready(this).then_some(0.0))
    })?;
    let id = lua_fn::method(lua, T::NAME, |_, this: &Iter<T>, ()| {
        Ok(this
            .0
            .try_borrow()
            .ok()
            .and_then(|it| it.signal())
            .map(|s| {
                s.expose();
                s.id()
            }))
    })?;
    let pollfd = lua_fn::method(lua, T::NAME, |_, this: &Iter<T>, ()| {
        let signal = borrow(this)?.signal();
        match signal {
            Some(s) => s.pollfd().map(Some).map_err(mlua::Error::runtime),
            None => Ok(None),
        }
    })?;
    let events = lua_fn::function(lua, |_, _: MultiValue| Ok("r"))?;
    Ok(vec![
        ("next", next),
        ("finished", finished),
        ("ready", ready),
        ("timeout", timeout),
        ("id", id),
        ("pollfd", pollfd),
        ("events", events),
    ])
}

fn close<T: Step>(_: &Lua, this: &Iter<T>, _: MultiValue) -> mlua::Result<()> {
    if let Ok(mut inner) = this.0.try_borrow_mut() {
        inner.close();
    }
    Ok(())
}

impl<T: Step> UserData for Iter<T> {
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Call, |lua| {
            let f = lua_fn::method(lua, T::NAME, call::<T>)?;
            crate::nonblocking::yielding_iter(lua, "wrap_call", f)
        });
        #[cfg(feature = "lua54")]
        fields.add_meta_field_with(MetaMethod::Close, |lua| {
            lua_fn::method(lua, T::NAME, close::<T>)
        });
        fields.add_meta_field_with(MetaMethod::Index, |lua| {
            let mut entries = handle_methods::<T>(lua)?;
            entries.extend(T::methods(lua)?);
            entries.push(("close", lua_fn::method(lua, T::NAME, close::<T>)?));
            lua_fn::table(lua, entries)
        });
    }
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::ToString, |lua, this: mlua::Value| {
            lua_fn::this::<Iter<T>>(lua, Some(this), "tostring")?;
            Ok(T::NAME)
        });
    }
}

//! Iterators handed to Lua's generic `for` (watch events, list items, log
//! lines): a userdata that is called for each step, closes its connection on
//! `close()`, when collected (`__gc`, via Drop) and, on Lua 5.4, as the for
//! loop's to-be-closed value when the loop is left by `break` or an error.

use crate::lua_fn;
use mlua::{Function, Lua, MetaMethod, MultiValue, UserData, UserDataMethods};
use std::cell::RefCell;

pub trait Step: Sized + 'static {
    /// Shown in `tostring` and in error messages.
    const NAME: &'static str;
    /// The next values for the loop; nothing (nil) ends it.
    fn step(&mut self, lua: &Lua) -> mlua::Result<MultiValue>;
    fn close(&mut self);
    /// Methods beyond `close` (e.g. `resource_version`).
    fn methods(_lua: &Lua) -> mlua::Result<Vec<(&'static str, Function)>> {
        Ok(Vec::new())
    }
}

pub struct Iter<T: Step>(pub RefCell<T>);

impl<T: Step> Iter<T> {
    pub fn new(inner: T) -> Self {
        Iter(RefCell::new(inner))
    }

    /// `iterator, nil, nil, iterator`: what a generic `for` takes (the fourth
    /// value is the to-be-closed variable on Lua 5.4, ignored before).
    pub fn into_for_loop(self, lua: &Lua) -> mlua::Result<MultiValue> {
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

fn close<T: Step>(_: &Lua, this: &Iter<T>, _: MultiValue) -> mlua::Result<()> {
    if let Ok(mut inner) = this.0.try_borrow_mut() {
        inner.close();
    }
    Ok(())
}

impl<T: Step> UserData for Iter<T> {
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Call, |lua| {
            lua_fn::method(lua, T::NAME, call::<T>)
        });
        #[cfg(feature = "lua54")]
        fields.add_meta_field_with(MetaMethod::Close, |lua| {
            lua_fn::method(lua, T::NAME, close::<T>)
        });
        fields.add_meta_field_with(MetaMethod::Index, |lua| {
            let mut entries = T::methods(lua)?;
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

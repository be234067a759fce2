//! How Rust functions are exposed to Lua: errors are raised as plain strings
//! prefixed with the caller's position (`script.lua:12: pods:get: ...`), as
//! luakube's own `error()` calls were, so `pcall` users can match on them;
//! a Rust panic is caught and reported as an error, never an abort.

use mlua::{FromLuaMulti, Function, IntoLuaMulti, Lua, MultiValue, Table, UserDataRef, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

const WRAPPER: &str = r#"
local fail = ...
local error = error
local function check(first, ...)
  if first == fail then error((...), 0) end
  return first, ...
end
return function(impl)
  return function(...) return check(impl(...)) end
end
"#;

const FACTORY_KEY: &str = "kube.fn.factory";
const FAIL_KEY: &str = "kube.fn.fail";

fn factory(lua: &Lua) -> mlua::Result<(Function, Table)> {
    if let (Ok(f), Ok(fail)) = (
        lua.named_registry_value::<Function>(FACTORY_KEY),
        lua.named_registry_value::<Table>(FAIL_KEY),
    ) {
        return Ok((f, fail));
    }
    let fail = lua.create_table()?;
    let f: Function = lua
        .load(WRAPPER)
        .set_name("=kube.core")
        .call(fail.clone())?;
    lua.set_named_registry_value(FACTORY_KEY, &f)?;
    lua.set_named_registry_value(FAIL_KEY, &fail)?;
    Ok((f, fail))
}

/// The text of an mlua error without mlua's decorations.
pub fn message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => message(cause),
        mlua::Error::WithContext { context, cause } => format!("{context}: {}", message(cause)),
        other => other.to_string(),
    }
}

/// `file:line: ` of the Lua code that called the wrapper (level 2: level 1
/// is the wrapper itself).
fn caller_position(lua: &Lua) -> String {
    lua.inspect_stack(2, |d| {
        let src = d.source().short_src.map(|s| s.into_owned());
        match (src, d.current_line()) {
            (Some(s), Some(l)) if l > 0 => format!("{s}:{l}: "),
            _ => String::new(),
        }
    })
    .unwrap_or_default()
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// A Lua function running `f`, raising its errors as positioned strings.
pub fn function<A, R, F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> mlua::Result<R> + 'static,
{
    let (factory, fail) = factory(lua)?;
    let inner = lua.create_function(move |lua, args: MultiValue| {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let a = A::from_lua_multi(args, lua)?;
            f(lua, a)?.into_lua_multi(lua)
        }));
        let msg = match outcome {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => message(&e),
            Err(p) => format!(
                "internal error in luakube-rs (please report): {}",
                panic_text(p)
            ),
        };
        (fail.clone(), format!("{}{msg}", caller_position(lua))).into_lua_multi(lua)
    })?;
    factory.call(inner)
}

/// A method of userdata `T`: the first argument must be that userdata, so a
/// `.` instead of `:` gets a clear message.
pub fn method<T, A, R, F>(lua: &Lua, what: &'static str, f: F) -> mlua::Result<Function>
where
    T: 'static,
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, &T, A) -> mlua::Result<R> + 'static,
{
    function(lua, move |lua, mut args: MultiValue| {
        let this: Option<UserDataRef<T>> = match args.pop_front() {
            Some(Value::UserData(ud)) => ud.borrow::<T>().ok(),
            _ => None,
        };
        let Some(this) = this else {
            return Err(mlua::Error::runtime(format!(
                "{what}: call it as a method, with ':' on the object it belongs to"
            )));
        };
        let a = A::from_lua_multi(args, lua)
            .map_err(|e| mlua::Error::runtime(format!("{what}: bad argument: {}", message(&e))))?;
        f(lua, &this, a).map_err(|e| naming(what, e))
    })
}

/// A module function named `what` (`config.from_kube_config`): arguments of
/// the wrong type and every other error name it.
pub fn named<A, R, F>(lua: &Lua, what: &'static str, f: F) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> mlua::Result<R> + 'static,
{
    function(lua, move |lua, args: MultiValue| {
        let a = A::from_lua_multi(args, lua)
            .map_err(|e| mlua::Error::runtime(format!("{what}: bad argument: {}", message(&e))))?;
        f(lua, a).map_err(|e| naming(what, e))
    })
}

/// `e` with `what: ` in front, for errors from deeper down (query strings,
/// body encoding) that do not say which call they belong to. Messages that
/// already name the call and panic mode's `Code N: …` (which luakube scripts
/// match on) are left as they are.
fn naming(what: &str, e: mlua::Error) -> mlua::Error {
    let msg = message(&e);
    // `config.from_token` may say `from_token: …` itself.
    let short = what.rsplit('.').next().unwrap_or(what);
    if msg.starts_with(short) || msg.starts_with("Code ") {
        e
    } else {
        mlua::Error::runtime(format!("{what}: {msg}"))
    }
}

/// A table of methods (for a userdata `__index`).
pub fn table(lua: &Lua, entries: Vec<(&str, Function)>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (k, f) in entries {
        t.raw_set(k, f)?;
    }
    Ok(t)
}

//! How Rust functions are exposed to Lua: errors are raised as plain strings
//! prefixed with the caller's position (`script.lua:12: pods:get: ...`), as
//! luakube's own `error()` calls were, so `pcall` users can match on them;
//! a Rust panic is caught and reported as an error, never an abort.

use mlua::{
    AnyUserData, FromLuaMulti, Function, IntoLuaMulti, LightUserData, Lua, MultiValue, Table,
    UserData, UserDataRef, Value,
};
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
pub(crate) fn message(e: &mlua::Error) -> String {
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

thread_local! {
    /// Calls of module functions running on this thread (their panics are
    /// caught and become Lua errors).
    static IN_CALL: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Installs (once per process) a panic hook that stays silent for panics
/// inside module calls: those are caught and raised as Lua errors, and the
/// default hook printed the panic and a backtrace to the host's stderr
/// (issue 16, defect 16). Panics elsewhere go to the previous hook.
fn quiet_panics_in_calls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CALL.with(|n| n.get()) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `f` counted as a module call on this thread.
fn in_call<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_CALL.with(|n| n.set(n.get().saturating_sub(1)));
        }
    }
    IN_CALL.with(|n| n.set(n.get() + 1));
    let _leave = Leave;
    f()
}

/// A Lua function running `f`, raising its errors as positioned strings.
pub(crate) fn function<A, R, F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> mlua::Result<R> + 'static,
{
    let (factory, fail) = factory(lua)?;
    quiet_panics_in_calls();
    let inner = lua.create_function(move |lua, args: MultiValue| {
        let outcome = in_call(|| {
            catch_unwind(AssertUnwindSafe(|| {
                let a = A::from_lua_multi(args, lua)?;
                f(lua, a)?.into_lua_multi(lua)
            }))
        });
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

// Which userdata are genuinely of which type.
//
// mlua tells a userdata's type by its metatable, and takes any value with
// that metatable for the type: a table given a module metatable
// (`setmetatable({}, debug.getmetatable(cms)):get("x")`), `mt.__gc({})`, or a
// watch given a client's metatable with `debug.setmetatable` was read as the
// type's memory (SIGSEGV on every interpreter). So every userdata the module
// makes is created by `userdata`, which records it in a weak-keyed registry
// table with a token of its type; `borrow` and `method` check that record
// before touching the memory, and each type's `__gc` is wrapped to finalize
// only values recorded as that type. Weak keys stay until a value's
// finalizer has run (5.1, LuaJIT and 5.4 alike), so the check holds in
// `__gc` too.

const INSTANCES_KEY: &str = "kube.instances";

const GC_GUARD: &str = r#"
local instances, token, collect = ...
local rawequal = rawequal
return function(o)
  if rawequal(instances[o], token) then
    instances[o] = nil
    return collect(o)
  end
end
"#;

/// The token of type `T` (the address of its name: unique per type).
fn token<T: 'static>() -> LightUserData {
    LightUserData(std::any::type_name::<T>().as_ptr() as *mut std::ffi::c_void)
}

fn instances(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(t) = lua.named_registry_value::<Table>(INSTANCES_KEY) {
        return Ok(t);
    }
    let t = lua.create_table()?;
    let mt = lua.create_table()?;
    mt.raw_set("__mode", "k")?;
    t.set_metatable(Some(mt))?;
    lua.set_named_registry_value(INSTANCES_KEY, &t)?;
    Ok(t)
}

/// Makes userdata of `value`, recorded as a genuine `T`.
pub(crate) fn userdata<T: UserData + 'static>(lua: &Lua, value: T) -> mlua::Result<AnyUserData> {
    let ud = lua.create_userdata(value)?;
    let all = instances(lua)?;
    all.raw_set(&ud, token::<T>())?;
    guard_gc::<T>(lua, &ud, all)?;
    Ok(ud)
}

/// Replaces mlua's `__gc` in `T`'s metatable (once per state) by one that
/// finalizes only values recorded as `T`.
fn guard_gc<T: 'static>(lua: &Lua, ud: &AnyUserData, all: Table) -> mlua::Result<()> {
    let key = format!("kube.gc_guard.{}", std::any::type_name::<T>());
    if lua.named_registry_value::<bool>(&key).unwrap_or(false) {
        return Ok(());
    }
    // Raw: mlua protects userdata metatables from Lua code.
    let collect: Value = crate::lua_raw::run(lua, ud, |stack| {
        if stack.get_metatable(1) {
            stack.raw_get_field(-1, "__gc");
        } else {
            stack.push_nil();
        }
        stack.replace(1);
        stack.set_top(1);
    })?;
    if let Value::Function(collect) = collect {
        let guarded: Function =
            lua.load(GC_GUARD)
                .set_name("=kube.core")
                .call((all, token::<T>(), collect))?;
        // Sets one field of the same metatable.
        crate::lua_raw::run::<()>(lua, (ud, guarded), |stack| {
            if stack.get_metatable(1) {
                stack.push_str("__gc");
                stack.push_copy(2);
                stack.raw_set(-3);
            }
            stack.set_top(0);
        })?;
    }
    lua.set_named_registry_value(&key, true)
}

/// `ud` as a `T`, if it was made as one by `userdata` (whatever metatable it
/// carries now) and is not borrowed mutably or destroyed.
pub(crate) fn borrow<T: 'static>(lua: &Lua, ud: &AnyUserData) -> Option<UserDataRef<T>> {
    let genuine = instances(lua)
        .and_then(|t| t.raw_get::<Value>(ud))
        .is_ok_and(|v| matches!(v, Value::LightUserData(p) if p == token::<T>()));
    if genuine {
        ud.borrow::<T>().ok()
    } else {
        None
    }
}

/// The first value as a genuine `T`, else the "call it as a method" error.
pub(crate) fn this<T: 'static>(
    lua: &Lua,
    v: Option<Value>,
    what: &str,
) -> mlua::Result<UserDataRef<T>> {
    match v {
        Some(Value::UserData(ud)) => borrow::<T>(lua, &ud),
        _ => None,
    }
    .ok_or_else(|| {
        mlua::Error::runtime(format!(
            "{what}: call it as a method, with ':' on the object it belongs to"
        ))
    })
}

/// A method of userdata `T`: the first argument must be that userdata, so a
/// `.` instead of `:` gets a clear message.
pub(crate) fn method<T, A, R, F>(lua: &Lua, what: &'static str, f: F) -> mlua::Result<Function>
where
    T: 'static,
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, &T, A) -> mlua::Result<R> + 'static,
{
    function(lua, move |lua, mut args: MultiValue| {
        let this = this::<T>(lua, args.pop_front(), what)?;
        let a = A::from_lua_multi(args, lua)
            .map_err(|e| mlua::Error::runtime(format!("{what}: bad argument: {}", message(&e))))?;
        f(lua, &this, a).map_err(|e| naming(what, e))
    })
}

/// A module function named `what` (`config.from_kube_config`): arguments of
/// the wrong type and every other error name it.
pub(crate) fn named<A, R, F>(lua: &Lua, what: &'static str, f: F) -> mlua::Result<Function>
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
pub(crate) fn table(lua: &Lua, entries: Vec<(&str, Function)>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (k, f) in entries {
        t.raw_set(k, f)?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect 16 of issue 16: a panic inside a call became a Lua error but
    /// the default hook also printed it with a backtrace to stderr. Inside a
    /// call the hook is silent (IN_CALL), outside it is the previous one.
    #[test]
    fn panics_in_calls_become_errors_and_are_counted_as_in_call() {
        let lua = Lua::new();
        let f = function(&lua, |_, ()| -> mlua::Result<u32> {
            assert_eq!(IN_CALL.with(|n| n.get()), 1);
            panic!("boom")
        })
        .unwrap();
        let e = f.call::<()>(()).unwrap_err().to_string();
        assert!(
            e.contains("internal error in luakube-rs") && e.contains("boom"),
            "{e}"
        );
        assert_eq!(IN_CALL.with(|n| n.get()), 0);
    }
}

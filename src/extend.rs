//! luakube's extension points (issue 19 #16): methods a script adds to
//! `api.Client`, `config.Config` or a group module's `Client` table reach the
//! instances, as luakube's instances looked them up in those class tables.
//! One mechanism: the Lua files register each class table here
//! (`core.set_class(kind, table)`), and every `__index` of a client or config,
//! after its own methods, asks `method(kind, key)`.

use mlua::{Lua, Table, Value};

const CLASSES: &str = "kube.classes";

fn classes(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(t) = lua.named_registry_value::<Table>(CLASSES) {
        return Ok(t);
    }
    let t = lua.create_table()?;
    lua.set_named_registry_value(CLASSES, &t)?;
    Ok(t)
}

/// `core.set_class(kind, table)`: "client", "config" or "group:<method>".
pub(crate) fn set_class(lua: &Lua, (kind, t): (String, Table)) -> mlua::Result<()> {
    classes(lua)?.raw_set(kind, t)
}

/// What the class table of `kind` holds under `key` (nil when none is registered).
pub(crate) fn method(lua: &Lua, kind: &str, key: &Value) -> mlua::Result<Value> {
    match classes(lua)?.raw_get::<Value>(kind)? {
        Value::Table(t) => t.get(key.clone()),
        _ => Ok(Value::Nil),
    }
}

/// Gives a method table (an `__index` table) the class of `kind` as fallback.
pub(crate) fn with_fallback(lua: &Lua, methods: Table, kind: &'static str) -> mlua::Result<Table> {
    let mt = lua.create_table()?;
    mt.set(
        "__index",
        lua.create_function(move |lua, (_, key): (Value, Value)| method(lua, kind, &key))?,
    )?;
    methods.set_metatable(Some(mt))?;
    Ok(methods)
}

//! Arguments as luakube read them: the checks every Lua-facing method makes
//! on what a script passes (names, strings, bodies, option tables), with
//! errors that name the call (`pods:get: name must be …`).

use crate::convert::{self, Format};
use mlua::{Lua, MultiValue, Table, Value};

pub(crate) fn arg_error(what: &str, msg: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("{what}: {msg}"))
}

pub(crate) fn opt_string(v: &Value, what: &str, arg: &str) -> mlua::Result<Option<String>> {
    match v {
        Value::Nil => Ok(None),
        Value::String(s) => Ok(Some(s.to_str()?.to_string())),
        other => Err(arg_error(
            what,
            format!("{arg} must be a string, got {}", other.type_name()),
        )),
    }
}

/// The name of a by-name call: a non-empty string, or a number formatted as
/// Lua does (luakube concatenated it: `delete(5)` deleted the object "5").
pub(crate) fn name_arg(lua: &Lua, v: &Value, what: &str) -> mlua::Result<String> {
    match v {
        Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s.to_str()?.to_string()),
            None => req_string(v, what, "name"),
        },
        _ => req_string(v, what, "name"),
    }
}

pub(crate) fn req_string(v: &Value, what: &str, arg: &str) -> mlua::Result<String> {
    match v {
        Value::String(s) if !s.as_bytes().is_empty() => Ok(s.to_str()?.to_string()),
        other => Err(arg_error(
            what,
            format!(
                "{arg} must be a non-empty string, got {}",
                if let Value::String(_) = other {
                    "an empty string"
                } else {
                    other.type_name()
                }
            ),
        )),
    }
}

pub(crate) fn body_table(lua: &Lua, obj: Value, what: &str) -> mlua::Result<Table> {
    match obj {
        Value::Table(src) => {
            let copy = lua.create_table()?;
            for pair in src.pairs::<Value, Value>() {
                let (k, v) = pair?;
                copy.raw_set(k, v)?;
            }
            if let Some(mt) = src.metatable() {
                copy.set_metatable(Some(mt))?;
            }
            Ok(copy)
        }
        Value::String(s) => match convert::decode(lua, &s.as_bytes(), Format::Yaml) {
            Ok(Value::Table(t)) => Ok(t),
            Ok(_) => Err(arg_error(what, "the YAML string is not a mapping")),
            Err(e) => Err(arg_error(
                what,
                format!("the YAML string is malformed: {e}"),
            )),
        },
        other => Err(arg_error(
            what,
            format!(
                "obj must be a table or a YAML string, got {}",
                other.type_name()
            ),
        )),
    }
}

pub(crate) fn metadata_field(obj: &Table, field: &str) -> mlua::Result<Option<String>> {
    match obj.get::<Value>("metadata")? {
        Value::Table(m) => match m.get::<Value>(field)? {
            Value::String(s) if !s.as_bytes().is_empty() => Ok(Some(s.to_str()?.to_string())),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

pub(crate) fn obj_name(obj: &Table, what: &str) -> mlua::Result<String> {
    metadata_field(obj, "name")?.ok_or_else(|| arg_error(what, "obj.metadata.name is required"))
}

pub(crate) type Args = MultiValue;

pub(crate) fn nth(args: &Args, i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

/// The HTTP method of `call`/`raw_call`: upper-cased; nil is GET (luakube's
/// transport, LuaSocket, sent GET when the method was nil).
pub(crate) fn call_verb(method: &Value, what: &str) -> mlua::Result<String> {
    match method {
        Value::Nil => Ok("GET".into()),
        v => Ok(req_string(v, what, "method")?.to_ascii_uppercase()),
    }
}

/// The path of `call`/`raw_call`: a string, or a number formatted as Lua does
/// (luakube concatenated it into the URL); nil is "".
pub(crate) fn call_path(lua: &Lua, path: Value, what: &str) -> mlua::Result<String> {
    match path {
        Value::Nil => Ok(String::new()),
        Value::String(s) => Ok(s.to_str()?.to_string()),
        v @ (Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v)? {
            Some(s) => Ok(s.to_str()?.to_string()),
            None => Ok(String::new()),
        },
        other => Err(arg_error(
            what,
            format!("path must be a string, got {}", other.type_name()),
        )),
    }
}

/// A copy of the caller's query table without the keys the verb sets itself,
/// and the removed values.
pub(crate) fn split_query(
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

pub(crate) fn opt_table(v: Value, what: &str, arg: &str) -> mlua::Result<Option<Table>> {
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
pub(crate) fn options(v: Value, what: &str, known: &[&str]) -> mlua::Result<Option<Table>> {
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

pub(crate) fn value_string(v: &Value) -> mlua::Result<Option<String>> {
    Ok(match v {
        Value::String(s) => Some(s.to_str()?.to_string()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

//! Outcomes and luakube's return conventions, in one place: what a call came
//! to ([`Reply`]: answered 2xx, or a [`Failure`]: answered with an error
//! status, unreachable; calls, list pages and streams share `Failure` and
//! its one retry rule, [`Failure::is_retriable`]) and how that becomes Lua
//! return values (`object, info, code` /
//! `status, message, code` / `nil, message`, or a raised error in panic
//! mode), with the object classes (`kube.api.objects`) set on what is
//! returned ([`shape`]).

use crate::convert::{self, Format};
use mlua::{IntoLuaMulti, Lua, MultiValue, Table, Value};

/// The outcome of one API call, before it is turned into Lua return values.
pub(crate) enum Reply {
    Done {
        code: u16,
        body: bytes::Bytes,
        info: Table,
        /// The body decoded as it arrived (`body` is then empty).
        decoded: Option<Result<Value, String>>,
    },
    Failed(Failure),
}

/// What a call, a list page or a stream comes to when it fails.
pub(crate) enum Failure {
    /// The server answered with an error status (`body`: what it said,
    /// credentials cut out; `message`: method, URL, code and its words).
    Status {
        code: u16,
        body: bytes::Bytes,
        message: String,
    },
    /// No answer at all (refused, TLS, timeout, cut off).
    Unreachable(String),
}

impl Failure {
    /// The answer's status, if there was an answer.
    pub(crate) fn code(&self) -> Option<u16> {
        match self {
            Failure::Status { code, .. } => Some(*code),
            Failure::Unreachable(_) => None,
        }
    }

    /// Worth trying again later: no answer, or a status that says "later"
    /// (`retry::retriable_status`: 429, 503, 504). Calls, pages and watches
    /// all decide by this; 500 and other codes come back at once.
    pub(crate) fn is_retriable(&self) -> bool {
        match self {
            Failure::Status { code, .. } => crate::retry::retriable_status(*code),
            Failure::Unreachable(_) => true,
        }
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Failure::Status { message, .. } | Failure::Unreachable(message) => message,
        }
    }

    /// The error an iterator raises (the panic-mode wording).
    pub(crate) fn into_error(self) -> mlua::Error {
        match self {
            Failure::Status { code, message, .. } => http_error(code, &message),
            Failure::Unreachable(m) => mlua::Error::runtime(m),
        }
    }

    /// luakube's return values for a failed call: `status, message, code`
    /// (the Status decoded when `decoded`, else the raw body), `nil,
    /// message` without an answer; raised in panic mode.
    pub(crate) fn values(self, lua: &Lua, panic: bool, decoded: bool) -> mlua::Result<MultiValue> {
        match self {
            Failure::Unreachable(msg) => unreachable(lua, panic, msg),
            Failure::Status {
                code,
                body,
                message,
            } => {
                if decoded {
                    return failed(lua, panic, code, &body, message);
                }
                if panic {
                    return Err(http_error(code, &message));
                }
                (lua.create_string(&body)?, message, code).into_lua_multi(lua)
            }
        }
    }
}

/// How a successful result is handed back.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wrap {
    /// The decoded body as it is.
    Plain,
    /// The decoded object with an APIObject / NamespacedAPIObject metatable.
    Object,
    /// A list: each item wrapped, the list a Response.
    List,
    /// A list reduced to the array of its wrapped items.
    Items,
    /// The `status` field of the object.
    StatusField,
    /// A Response (deletes).
    Response,
    /// The raw body as a string (logs).
    Text,
}

/// The object classes the core sets on what it returns (`kube.api.objects`).
const CLASSES: [&str; 4] = ["Response", "APIObject", "NamespacedAPIObject", "Status"];

/// `kube.core.set_object_classes(objects)`: `lua/kube/api.lua` hands the
/// object classes over once, when it is required; the core never requires
/// Lua modules itself.
pub(crate) fn set_object_classes(lua: &Lua, objects: Table) -> mlua::Result<()> {
    for name in CLASSES {
        let t: Table = objects.get(name).map_err(|_| {
            mlua::Error::runtime(format!(
                "set_object_classes: objects.{name} must be a table"
            ))
        })?;
        lua.set_named_registry_value(&format!("kube.class.{name}"), t)?;
    }
    Ok(())
}

/// The object class `name` (`APIObject` …) handed over by `kube.api`.
pub(crate) fn class(lua: &Lua, name: &str) -> mlua::Result<Table> {
    lua.named_registry_value::<Table>(&format!("kube.class.{name}"))
        .map_err(|_| {
            mlua::Error::runtime(format!(
                "the object class {name} is not registered: require \"kube.api\" before making calls"
            ))
        })
}

/// `nil, message` for a call that got no answer (raised in panic mode).
pub(crate) fn unreachable(lua: &Lua, panic: bool, msg: String) -> mlua::Result<MultiValue> {
    if panic {
        return Err(mlua::Error::runtime(msg));
    }
    (Value::Nil, msg).into_lua_multi(lua)
}

/// `status, message, code` for an HTTP error, the Status decoded with its
/// helpers (`is_not_found` …); raised as `Code N: …` in panic mode.
pub(crate) fn failed(
    lua: &Lua,
    panic: bool,
    code: u16,
    body: &[u8],
    message: String,
) -> mlua::Result<MultiValue> {
    if panic {
        return Err(http_error(code, &message));
    }
    let status = failure_table(lua, body, code)?;
    status.set_metatable(Some(class(lua, "Status")?))?;
    (status, message, code).into_lua_multi(lua)
}

/// A call's reply as luakube's return values.
pub(crate) fn values(
    lua: &Lua,
    panic: bool,
    method: &str,
    reply: Reply,
    wrap: Option<(Wrap, bool)>,
) -> mlua::Result<MultiValue> {
    match reply {
        Reply::Failed(failure) => failure.values(lua, panic, wrap.is_some()),
        Reply::Done {
            code,
            body,
            info,
            decoded,
        } => {
            let first = match wrap {
                None => Value::String(lua.create_string(&body)?),
                Some((Wrap::Text, _)) => Value::String(lua.create_string(&body)?),
                Some((how, namespaced)) => {
                    let decoded = match decoded {
                        Some(done) => done,
                        None if body.iter().all(u8::is_ascii_whitespace) => Ok(Value::Nil),
                        None => {
                            convert::decode(lua, &body, Format::Json).map_err(|e| e.to_string())
                        }
                    };
                    // An empty 2xx answer where an object was expected:
                    // `nil, message` like every other failure (`nil, info,
                    // code` made `print("error: " .. err)` raise).
                    if matches!(decoded, Ok(Value::Nil)) {
                        let msg = format!(
                            "the answer to {method} {} was empty (HTTP {code}), expected a JSON object",
                            info.get::<String>("url")?
                        );
                        if panic {
                            return Err(mlua::Error::runtime(msg));
                        }
                        return (Value::Nil, msg).into_lua_multi(lua);
                    }
                    let decoded = {
                        match decoded {
                            Ok(v) => v,
                            Err(e) => {
                                let msg = format!(
                                    "invalid JSON in the answer to {method} {}: {e}",
                                    info.get::<String>("url")?
                                );
                                if panic {
                                    return Err(mlua::Error::runtime(msg));
                                }
                                return (Value::Nil, msg).into_lua_multi(lua);
                            }
                        }
                    };
                    shape(lua, decoded, how, namespaced)?
                }
            };
            (first, info, code).into_lua_multi(lua)
        }
    }
}

/// The message of a failed call: method, URL, code and the server's words.
pub(crate) fn failure_message(method: &str, url: &str, code: u16, body: &[u8]) -> String {
    format!(
        "failed to perform API call: {method} {url}: {code} {}",
        crate::transport::status_message(body)
    )
}

/// The error an iterator raises for a failed call (the panic-mode wording).
pub(crate) fn http_error(code: u16, message: &str) -> mlua::Error {
    mlua::Error::runtime(format!("Code {code}: {message}"))
}

/// A failed answer as a table: the decoded Status, or one made from the text.
pub(crate) fn failure_table(lua: &Lua, body: &[u8], code: u16) -> mlua::Result<Table> {
    if let Ok(Value::Table(t)) = convert::decode(lua, body, Format::Json) {
        return Ok(t);
    }
    let t = lua.create_table()?;
    t.set("kind", "Status")?;
    t.set("apiVersion", "v1")?;
    t.set("metadata", lua.create_table()?)?;
    t.set("status", "Failure")?;
    t.set("message", crate::transport::status_message(body))?;
    t.set("code", code)?;
    Ok(t)
}

pub(crate) fn shape(lua: &Lua, decoded: Value, how: Wrap, namespaced: bool) -> mlua::Result<Value> {
    let obj_class = || {
        class(
            lua,
            if namespaced {
                "NamespacedAPIObject"
            } else {
                "APIObject"
            },
        )
    };
    let Value::Table(t) = decoded else {
        return Ok(decoded);
    };
    Ok(match how {
        Wrap::Plain | Wrap::Text => Value::Table(t),
        Wrap::Object => {
            t.set_metatable(Some(obj_class()?))?;
            Value::Table(t)
        }
        Wrap::Response => {
            t.set_metatable(Some(class(lua, "Response")?))?;
            Value::Table(t)
        }
        Wrap::StatusField => t.get("status")?,
        Wrap::List | Wrap::Items => {
            let mt = obj_class()?;
            let items = match t.get::<Value>("items")? {
                Value::Table(items) => items,
                _ => {
                    let empty = lua.create_table()?;
                    empty.set_metatable(Some(convert::array_metatable(lua)?))?;
                    t.set("items", &empty)?;
                    empty
                }
            };
            for item in items.sequence_values::<Value>() {
                if let Value::Table(item) = item? {
                    item.set_metatable(Some(mt.clone()))?;
                }
            }
            if let Wrap::Items = how {
                Value::Table(items)
            } else {
                t.set_metatable(Some(class(lua, "Response")?))?;
                Value::Table(t)
            }
        }
    })
}

//! The Lua classes of the API client: `api.Client:new(conf, panic, mock)`
//! (with `raw_call`/`call` and one method per group), group clients
//! (`client:corev1()`, generated from the resource table) and the
//! `__index` of resource clients, whose verbs come from `verbs`.

use crate::args::arg_error;
use crate::call::{relative_call, ClientCore};
use crate::lua_fn;
use crate::resources::{self, Group, Resource, Scope};
use crate::target::{ApiClient, GroupClient, ResourceClient};
use mlua::{Function, Lua, MetaMethod, MultiValue, Table, UserData, UserDataMethods, Value};
use std::rc::Rc;

/// `raw_call(method, path, body?, query?, style?)` / `call(...)` for clients
/// whose paths start with the prefix `core` returns.
fn call_method<T: 'static>(
    lua: &Lua,
    name: &'static str,
    core: fn(&T) -> (&Rc<ClientCore>, String),
) -> mlua::Result<Function> {
    let decode = name == "call";
    lua_fn::method(lua, name, move |lua, this: &T, args: MultiValue| {
        let (core, prefix) = core(this);
        relative_call(lua, core, &prefix, &format!("client:{name}"), decode, &args)
    })
    .and_then(|f| crate::nonblocking::yielding(lua, f))
}

fn api_client_methods(lua: &Lua) -> mlua::Result<Table> {
    fn prefix(this: &ApiClient) -> (&Rc<ClientCore>, String) {
        (&this.core, "api/".to_string())
    }
    let mut entries = vec![
        ("raw_call", call_method(lua, "raw_call", prefix)?),
        ("call", call_method(lua, "call", prefix)?),
    ];
    for group in resources::GROUPS.iter() {
        let f = lua_fn::method(lua, group.method, move |lua, this: &ApiClient, ()| {
            lua_fn::userdata(
                lua,
                GroupClient {
                    core: this.core.clone(),
                    group,
                },
            )
        })?;
        entries.push((group.method, f));
    }
    entries.push((
        "api",
        crate::nonblocking::yielding(lua, crate::dynamic::api_method(lua)?)?,
    ));
    crate::extend::with_fallback(lua, lua_fn::table(lua, entries)?, "client")
}

impl UserData for ApiClient {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::ToString, |lua, this: Value| {
            let this = lua_fn::this::<ApiClient>(lua, Some(this), "tostring")?;
            Ok(format!("kube.api.Client({})", this.core.server))
        });
    }
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, api_client_methods);
    }
}

const GROUP_METHODS_KEY: &str = "kube.group_methods";

fn group_methods(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(t) = lua.named_registry_value::<Table>(GROUP_METHODS_KEY) {
        return Ok(t);
    }
    fn prefix(this: &GroupClient) -> (&Rc<ClientCore>, String) {
        let g = this.group;
        (&this.core, format!("{}/{}/", g.base, g.version))
    }
    let t = lua_fn::table(
        lua,
        vec![
            ("raw_call", call_method(lua, "raw_call", prefix)?),
            ("call", call_method(lua, "call", prefix)?),
        ],
    )?;
    lua.set_named_registry_value(GROUP_METHODS_KEY, &t)?;
    Ok(t)
}

impl UserData for GroupClient {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::Index, |lua, (this, key): (Value, Value)| {
            let this = lua_fn::this::<GroupClient>(lua, Some(this), "GroupClient")?;
            let Value::String(key) = key else {
                return Ok(Value::Nil);
            };
            let name = key.to_str()?.to_string();
            if let Some(f) = group_methods(lua)?.raw_get::<Option<Function>>(name.as_str())? {
                return Ok(Value::Function(f));
            }
            match this.group.resource(&name) {
                Some(res) => Ok(Value::Function(resource_constructor(lua, this.group, res)?)),
                None => match name.as_str() {
                    // luakube's private fields, read-only
                    "api_" => Ok(Value::String(lua.create_string(this.group.version)?)),
                    "client_" => lua
                        .create_userdata(ApiClient {
                            core: this.core.clone(),
                        })
                        .map(Value::UserData),
                    _ => crate::extend::method(
                        lua,
                        &format!("group:{}", this.group.method),
                        &Value::String(key),
                    ),
                },
            }
        });
        methods.add_meta_function(MetaMethod::ToString, |lua, this: Value| {
            let this = lua_fn::this::<GroupClient>(lua, Some(this), "tostring")?;
            Ok(format!("kube.api.GroupClient({})", this.group.version))
        });
    }
}

/// `group:pods(ns?)`, cached per Lua state so `__index` does not build closures.
fn resource_constructor(
    lua: &Lua,
    group: &'static Group,
    res: &'static Resource,
) -> mlua::Result<Function> {
    // By address: a discovered group can be re-learned with other resources.
    let key = format!("kube.ctor.{:p}.{:p}", group, res);
    if let Ok(f) = lua.named_registry_value::<Function>(&key) {
        return Ok(f);
    }
    let what: &'static str = Box::leak(format!("{}:{}", group.method, res.name).into_boxed_str());
    let f = lua_fn::method(lua, what, move |lua, this: &GroupClient, ns: Value| {
        let ns = namespace_arg(lua, ns, what)?.filter(|s| !s.is_empty());
        if let Some(ns) = &ns {
            crate::path::check(what, "namespace", ns)?;
        }
        if res.scope == Scope::Cluster {
            if let Some(ns) = ns {
                return Err(arg_error(
                    what,
                    format!(
                        "{} is cluster-scoped; do not pass a namespace ({ns:?})",
                        res.name
                    ),
                ));
            }
        }
        lua_fn::userdata(
            lua,
            ResourceClient {
                core: this.core.clone(),
                group,
                res,
                namespace: ns,
            },
        )
    })?;
    lua.set_named_registry_value(&key, &f)?;
    Ok(f)
}

/// The namespace argument of `group:pods(ns)`, read as luakube did: nil and
/// false are no namespace, a number is formatted (`pods(5)` is namespace "5").
fn namespace_arg(lua: &Lua, ns: Value, what: &str) -> mlua::Result<Option<String>> {
    match ns {
        Value::Nil | Value::Boolean(false) => Ok(None),
        Value::String(s) => Ok(Some(s.to_str()?.to_string())),
        v @ (Value::Integer(_) | Value::Number(_)) => {
            Ok(lua.coerce_string(v)?.map(|s| s.to_string_lossy()))
        }
        other => Err(arg_error(
            what,
            format!("namespace must be a string, got {}", other.type_name()),
        )),
    }
}

impl UserData for ResourceClient {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::Index, |lua, (this, key): (Value, Value)| {
            let this = lua_fn::this::<ResourceClient>(lua, Some(this), "ResourceClient")?;
            let Value::String(skey) = &key else {
                return Ok(Value::Nil);
            };
            let name = skey.to_str()?.to_string();
            if let Some(f) = crate::verbs::method(lua, &name, this.res)? {
                return Ok(Value::Function(f));
            }
            Ok(match name.as_str() {
                // luakube's private fields, read-only: path_ relative to the group
                "path_" => Value::String(lua.create_string(match &this.namespace {
                    Some(ns) => format!("/namespaces/{ns}/{}", this.res.name),
                    None => format!("/{}", this.res.name),
                })?),
                "api_" => Value::String(lua.create_string(this.res.name)?),
                "namespaced_" => Value::Boolean(this.namespace.is_some()),
                "client_" => Value::UserData(lua.create_userdata(ApiClient {
                    core: this.core.clone(),
                })?),
                // luakube's resource clients reached their group class's methods too
                _ => crate::extend::method(lua, &format!("group:{}", this.group.method), &key)?,
            })
        });
        methods.add_meta_function(MetaMethod::ToString, |lua, this: Value| {
            let this = lua_fn::this::<ResourceClient>(lua, Some(this), "tostring")?;
            Ok(match &this.namespace {
                Some(ns) => format!("kube.api.ResourceClient({}, namespace {ns})", this.res.name),
                None => format!("kube.api.ResourceClient({})", this.res.name),
            })
        });
    }
}

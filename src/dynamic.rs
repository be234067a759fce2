//! The dynamic client: `client:api("stable.example.com/v1")` (or `"v1"`) is a
//! group client like `client:appsv1()`, its resources (names, short names,
//! kind, scope, subresources) learned from discovery, `GET /apis/GROUP/VERSION`.
//! The answer is cached per client (a weak-keyed table in the registry), so
//! only the first `api()` call per group version asks the server; call
//! `client:api(gv, {refresh = true})` after installing a CRD to ask again.
//!
//! Resource clients keep `&'static` descriptions, so discovered groups are
//! interned: one leaked description per distinct discovery answer per process.

use crate::call::ClientCore;
use crate::lua_fn;
use crate::resources::{Group, Resource, Scope};
use crate::returns::Reply;
use crate::target::{ApiClient, GroupClient};
use mlua::{AnyUserData, Function, IntoLuaMulti, Lua, MultiValue, Table, Value};
use serde::Deserialize;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Mutex;

#[derive(Deserialize, Debug, Clone)]
struct ApiResourceList {
    #[serde(default)]
    resources: Vec<ApiResource>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
struct ApiResource {
    name: String,
    #[serde(default)]
    singular_name: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
}

static INTERNED: Mutex<Option<HashMap<String, &'static Group>>> = Mutex::new(None);

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// The group described by a discovery answer (an APIResourceList).
fn group_from_discovery(group_version: &str, body: &[u8]) -> Result<&'static Group, String> {
    let mut list: ApiResourceList = serde_json::from_slice(body)
        .map_err(|e| format!("discovery of {group_version}: not an APIResourceList: {e}"))?;
    list.resources.sort_by(|a, b| a.name.cmp(&b.name));
    let key = format!("{group_version}\n{:?}", list.resources);
    let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    let table = interned.get_or_insert_with(HashMap::new);
    if let Some(g) = table.get(&key) {
        return Ok(g);
    }
    let mut taken: Vec<&str> = list
        .resources
        .iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| r.name.as_str())
        .collect();
    // Subresources by parent: the entries named `<parent>/<subresource>`.
    let mut subresources: HashMap<&str, Vec<&str>> = HashMap::new();
    for (parent, sub) in list.resources.iter().filter_map(|r| r.name.split_once('/')) {
        subresources.entry(parent).or_default().push(sub);
    }
    let mut resources = Vec::new();
    // A name that cannot be a path segment (a hostile or broken server) is
    // left out: it would make every URL of the group point elsewhere.
    for r in list
        .resources
        .iter()
        .filter(|r| crate::path::check("discovery", "resource", &r.name).is_ok())
    {
        let name = r.name.as_str();
        let mut aliases = Vec::new();
        for a in r
            .short_names
            .iter()
            .chain(std::iter::once(&r.singular_name))
        {
            if !a.is_empty() && !taken.contains(&a.as_str()) {
                taken.push(a);
                aliases.push(leak(a));
            }
        }
        let scope = if r.namespaced {
            Scope::Namespaced
        } else {
            Scope::Cluster
        };
        resources.push(Resource::described(
            leak(name),
            Box::leak(aliases.into_boxed_slice()),
            leak(&r.kind),
            scope,
            r.verbs.iter().map(String::as_str),
            subresources.get(name).into_iter().flatten().copied(),
            &[],
        ));
    }
    let group: &'static Group = Box::leak(Box::new(Group {
        method: leak(group_version),
        version: leak(group_version),
        base: if group_version.contains('/') {
            "apis"
        } else {
            "api"
        },
        resources: Box::leak(resources.into_boxed_slice()),
    }));
    table.insert(key, group);
    Ok(group)
}

const CACHE_KEY: &str = "kube.discovery_cache";

/// client → { [group version] = group client }, weak in the client.
fn cache_for(lua: &Lua, client: &AnyUserData) -> mlua::Result<Table> {
    let all = match lua.named_registry_value::<Table>(CACHE_KEY) {
        Ok(t) => t,
        Err(_) => {
            let t = lua.create_table()?;
            let mt = lua.create_table()?;
            mt.set("__mode", "k")?;
            t.set_metatable(Some(mt))?;
            lua.set_named_registry_value(CACHE_KEY, &t)?;
            t
        }
    };
    match all.raw_get::<Value>(client)? {
        Value::Table(t) => Ok(t),
        _ => {
            let t = lua.create_table()?;
            all.raw_set(client, &t)?;
            Ok(t)
        }
    }
}

/// The group client a discovery reply describes (cached for `ud`), or the
/// failed call's `status, message, code`.
fn discovered(
    lua: &Lua,
    core: &Rc<ClientCore>,
    ud: &AnyUserData,
    gv: &str,
    reply: Reply,
) -> mlua::Result<MultiValue> {
    let body = match reply {
        Reply::Done { body, .. } => body,
        Reply::Failed {
            code,
            body,
            message,
        } => return core.failed(lua, code, &body, message),
        Reply::Unreachable(m) => return core.unreachable(lua, m),
    };
    let group = group_from_discovery(gv, &body).map_err(mlua::Error::runtime)?;
    let g = lua_fn::userdata(
        lua,
        GroupClient {
            core: core.clone(),
            group,
        },
    )?;
    cache_for(lua, ud)?.raw_set(gv, &g)?;
    g.into_lua_multi(lua)
}

/// `client:api(group_version, opts?)` → a group client, or the failed
/// discovery call's `status, message, code`.
pub(crate) fn api_method(lua: &Lua) -> mlua::Result<Function> {
    lua_fn::named(
        lua,
        "client:api",
        |lua, (this, gv, opts): (Value, Value, Option<Table>)| {
            let what = "client:api";
            let Value::UserData(ud) = this else {
                return Err(mlua::Error::runtime(format!(
                    "{what}: call it as a method, with ':' on the client"
                )));
            };
            let Value::String(gv) = gv else {
                return Err(mlua::Error::runtime(format!(
                    "{what}: the group version must be a string like \"apps/v1\" or \"v1\", got {}",
                    gv.type_name()
                )));
            };
            let gv = gv.to_str()?.trim_matches('/').to_string();
            if gv.is_empty() || gv.matches('/').count() > 1 {
                return Err(mlua::Error::runtime(format!(
                    "{what}: {gv:?} is not a group version like \"apps/v1\" or \"v1\""
                )));
            }
            for part in gv.split('/') {
                crate::path::check(what, "group version part", part)?;
            }
            let refresh = match &opts {
                Some(o) => o.get::<Option<bool>>("refresh")?.unwrap_or(false),
                None => false,
            };
            let cache = cache_for(lua, &ud)?;
            if !refresh {
                if let Value::UserData(g) = cache.raw_get::<Value>(gv.as_str())? {
                    return Value::UserData(g).into_lua_multi(lua);
                }
            }
            let core = lua_fn::this::<ApiClient>(lua, Some(Value::UserData(ud.clone())), what)?
                .core
                .clone();
            let base = if gv.contains('/') { "apis" } else { "api" };
            let path = format!("{base}/{gv}");
            let deferred = crate::nonblocking::take_defer(lua);
            let mut started = core.start(
                lua,
                "GET",
                &path,
                Value::Nil,
                Value::Nil,
                None,
                false,
                crate::runtime::Signal::new(),
            )?;
            if deferred {
                return crate::nonblocking::Pending::new(
                    started,
                    Box::new(move |lua, reply| discovered(lua, &core, &ud, &gv, reply)),
                )
                .into_lua_multi(lua);
            }
            started.poll(None);
            discovered(lua, &core, &ud, &gv, started.finish())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Extra;

    #[test]
    fn discovery_answers_become_groups() {
        let body = std::fs::read("/work/shared/k8s-reference/discovery/api__v1.json")
            .unwrap_or_else(|_| {
                br#"{"kind":"APIResourceList","groupVersion":"v1","resources":[
                {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","deletecollection"],"shortNames":["po"]},
                {"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},
                {"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},
                {"name":"pods/eviction","singularName":"","namespaced":true,"kind":"Eviction","verbs":["create"]},
                {"name":"nodes","singularName":"node","namespaced":false,"kind":"Node","verbs":["get"],"shortNames":["no"]}]}"#
                    .to_vec()
            });
        let g = group_from_discovery("v1", &body).unwrap();
        assert_eq!(g.base, "api");
        let pods = g.resource("po").unwrap();
        assert_eq!(
            (pods.name, pods.kind, pods.scope),
            ("pods", "Pod", Scope::Namespaced)
        );
        assert!(pods.status && pods.delete_collection);
        assert!(pods.has(Extra::Logs) && pods.has(Extra::Eviction));
        assert_eq!(g.resource("node").unwrap().scope, Scope::Cluster);
        // The same answer is interned once.
        assert!(std::ptr::eq(g, group_from_discovery("v1", &body).unwrap()));
    }

    #[test]
    fn each_subresource_brings_only_its_own_methods() {
        // A resource with logs but no exec, attach, portforward or
        // ephemeral containers gets `logs` only (it used to get them all).
        let body = br#"{"resources":[
            {"name":"widgets","namespaced":true,"kind":"Widget","verbs":["get"]},
            {"name":"widgets/log","namespaced":true,"kind":"Widget","verbs":["get"]},
            {"name":"widgets/scale","namespaced":true,"kind":"Scale","verbs":["get"]}]}"#;
        let w = group_from_discovery("example.com/v1", body)
            .unwrap()
            .resource("widgets")
            .unwrap();
        assert_eq!(w.extras, [Extra::Logs, Extra::ScaleSubresource]);
        assert!(!w.status);
    }

    #[test]
    fn crd_groups_use_apis_and_reject_garbage() {
        let body = br#"{"resources":[{"name":"crontabs","singularName":"crontab","namespaced":true,
            "kind":"CronTab","verbs":["list"],"shortNames":["ct"]}]}"#;
        let g = group_from_discovery("stable.example.com/v1", body).unwrap();
        assert_eq!(g.base, "apis");
        assert_eq!(g.resource("ct").unwrap().kind, "CronTab");
        assert!(!g.resource("crontab").unwrap().delete_collection);
        let e = group_from_discovery("x/v1", b"[1]").unwrap_err();
        assert!(e.contains("x/v1"), "{e}");
    }
}

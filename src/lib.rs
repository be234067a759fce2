//! luakube-rs: a Kubernetes client for Lua with a Rust core.
//!
//! The native module `kube.core` exports the pieces the thin Lua files under
//! `lua/` assemble into luakube's API.

pub(crate) mod args;
pub(crate) mod auth;
pub(crate) mod call;
pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod convert;
pub(crate) mod dynamic;
pub(crate) mod exec;
pub(crate) mod extend;
pub(crate) mod follow;
pub(crate) mod iterator;
pub(crate) mod limits;
pub(crate) mod list_decoder;
pub(crate) mod lua_config;
pub(crate) mod lua_fn;
pub(crate) mod lua_raw;
pub(crate) mod nonblocking;
pub(crate) mod pager;
pub(crate) mod path;
pub(crate) mod query;
pub(crate) mod request;
pub(crate) mod resources;
pub(crate) mod retry;
pub(crate) mod returns;
pub(crate) mod runtime;
pub(crate) mod streaming;
pub(crate) mod target;
pub(crate) mod testing;
pub(crate) mod transport;
pub(crate) mod verbs;
pub(crate) mod view;
pub(crate) mod watch;
pub(crate) mod yaml11;

use mlua::{Lua, Table, Value};

/// The crate's Rust surface beyond [`exports`]: what the fuzz checks
/// (`fuzz/src/lib.rs`, replayed by `tests/fuzz_corpus.rs`) call directly.
/// Everything else is `pub(crate)`; Lua reaches the module through
/// `exports` (`require "kube.core"`) only.
pub mod surface {
    pub use crate::config::{ConfigError, KubeConfig};
    pub use crate::convert::{array_metatable, decode, encode, Format};
    pub use crate::query::build as query_string;
    pub use crate::streaming::LineBuffer;
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Seconds on a monotonic clock (Lua's os.time has 1 s steps, os.clock is CPU time).
pub(crate) fn monotonic_seconds() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// The table `require "kube.core"` returns.
pub fn exports(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("version", VERSION)?;
    t.set("null", Value::NULL)?;
    t.set("array_mt", convert::array_metatable(lua)?)?;
    t.set(
        "from_kube_config",
        lua_fn::named(lua, "config.from_kube_config", |lua, a| {
            lua_fn::userdata(lua, lua_config::from_kube_config(lua, a)?)
        })?,
    )?;
    t.set(
        "in_cluster_config",
        lua_fn::named(lua, "config.in_cluster_config", |lua, a| {
            lua_fn::userdata(lua, lua_config::in_cluster_config(lua, a)?)
        })?,
    )?;
    t.set(
        "from_token",
        lua_fn::named(lua, "config.from_token", |lua, a| {
            lua_fn::userdata(lua, lua_config::from_token(lua, a)?)
        })?,
    )?;
    t.set(
        "config_from_table",
        lua_fn::named(lua, "Config:new", |lua, a| {
            lua_fn::userdata(lua, lua_config::config_from_table(lua, a)?)
        })?,
    )?;
    t.set("set_class", lua_fn::function(lua, extend::set_class)?)?;
    t.set(
        "set_object_classes",
        lua_fn::function(lua, returns::set_object_classes)?,
    )?;
    t.set("set_informer", lua_fn::function(lua, verbs::set_informer)?)?;
    t.set(
        "testing_start",
        lua_fn::named(lua, "testing.start", testing::start)?,
    )?;
    t.set(
        "monotonic",
        lua_fn::function(lua, |_, ()| Ok(monotonic_seconds()))?,
    )?;
    t.set(
        "new_client",
        lua_fn::named(lua, "Client:new", |lua, a| {
            lua_fn::userdata(lua, lua_config::new_client(lua, a)?)
        })?,
    )?;
    t.set(
        "json_decode",
        lua_fn::function(lua, |lua, s: mlua::LuaString| {
            convert::decode(lua, &s.as_bytes(), convert::Format::Json)
        })?,
    )?;
    t.set(
        "yaml_decode",
        lua_fn::function(lua, |lua, s: mlua::LuaString| {
            convert::decode(lua, &s.as_bytes(), convert::Format::Yaml)
        })?,
    )?;
    t.set(
        "json_encode",
        lua_fn::function(lua, |lua, v: Value| {
            let out = convert::encode(lua, &v, "value").map_err(mlua::Error::runtime)?;
            lua.create_string(&out)
        })?,
    )?;
    t.set(
        "query_string",
        lua_fn::function(lua, |_, q: Table| {
            query::build(&q).map_err(mlua::Error::runtime)
        })?,
    )?;
    nonblocking::exports(lua, &t)?;
    Ok(t)
}

/// Keeps this shared library mapped until the process exits. Lua's package
/// loader unloads a C module (dlclose) from a finalizer when the state
/// closes, and LuaJIT runs that finalizer before those of objects made later:
/// a script's `__gc` calling the module at exit then jumped into unmapped
/// code (SIGSEGV; issue 16, defect 1). RTLD_NODELETE on the already-loaded
/// object makes the dlclose keep it.
#[cfg(feature = "module")]
fn pin_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: dladdr reads the loader's tables for an address inside this
        // library; dlopen with RTLD_NOLOAD only changes flags of an object
        // already loaded (the handle is deliberately never closed).
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let here = pin_library as *const std::ffi::c_void;
            if libc::dladdr(here, &mut info) != 0 && !info.dli_fname.is_null() {
                libc::dlopen(
                    info.dli_fname,
                    libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
                );
            }
        }
    });
}

#[cfg(feature = "module")]
#[mlua::lua_module(name = "kube_core")]
fn kube_core(lua: &Lua) -> mlua::Result<Table> {
    pin_library();
    exports(lua)
}

//! A client used in a child after `fork()`: the child inherits the parent's
//! kept-alive TLS connection. Parent and child then both make calls; every
//! call in both must succeed (or fail cleanly in the child), and neither may
//! see the other's answers (a shared TLS session would garble both).
//!
//! Lua 5.4 has no fork without a C module (Debian's lua-posix is not built
//! for 5.4), so the test drives the module from Rust with the system Lua 5.4
//! linked, as `cargo test --features lua54` does, and gives Lua a `fork`.

use mlua::{Function, Lua, Table};
use std::path::Path;

fn lua_with_module() -> Lua {
    let lua = Lua::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let core = kube_core::exports(&lua).expect("kube.core exports");
    let loaded: Table = lua
        .globals()
        .get::<Table>("package")
        .and_then(|p| p.get("loaded"))
        .expect("package.loaded");
    loaded.set("kube.core", core).expect("preload kube.core");
    let package: Table = lua.globals().get("package").expect("package");
    package
        .set("path", format!("{}/lua/?.lua", root.display()))
        .expect("package.path");
    let fork = lua
        // SAFETY: the test process is single-threaded at this point apart from
        // threads the module may have started; the child only runs Lua and
        // the module's calls, then leaves with _exit.
        .create_function(|_, ()| Ok(unsafe { libc::fork() }))
        .expect("fork");
    let wait = lua
        .create_function(|_, pid: i32| {
            let mut status = 0;
            // SAFETY: waits for a child this test forked.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            Ok(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            })
        })
        .expect("wait");
    let exit = lua
        // SAFETY: ends the forked child without running the parent's atexit
        // handlers or the test harness's cleanup.
        .create_function(|_, code: i32| -> mlua::Result<()> { unsafe { libc::_exit(code) } })
        .expect("_exit");
    lua.globals().set("fork", fork).unwrap();
    lua.globals().set("wait", wait).unwrap();
    lua.globals().set("_exit", exit).unwrap();
    lua
}

/// The stand-in server's binary (built by scripts/setup.sh).
fn testserver() -> std::path::PathBuf {
    let server =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("server/target/release/kube-testserver");
    assert!(
        server.is_file(),
        "{} is built by scripts/setup.sh",
        server.display()
    );
    server
}

/// Runs `script` (which returns the child's exit status) and checks it is 0.
fn child_status_of(lua: &Lua, script: &str, what: &str) {
    let run: Function = lua.load(script).into_function().expect("script");
    let child_status: i32 = run.call(()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(child_status, 0, "{what}");
}

#[test]
fn a_client_used_in_a_forked_child_and_in_the_parent() {
    let server = testserver();
    let lua = lua_with_module();
    let script = format!(
        r#"
        local srv = require("kube.testing").start {{ bin = {bin:?}, seed = {seed:?} }}
        local api, config = require "kube.api", require "kube.config"
        local client = api.Client:new(config.from_kube_config(srv.kubeconfig))
        local cms = client:corev1():configmaps("default")
        -- The connection is open and kept alive before the fork.
        assert(select(3, cms:create {{ metadata = {{ name = "before-fork" }} }}) == 201)
        local pid = fork()
        if pid == 0 then
          local ok, failed = pcall(function()
            for i = 1, 20 do
              local obj, msg, code = cms:create {{ metadata = {{ name = "child-" .. i }} }}
              if code ~= 201 then return "child create " .. i .. ": " .. tostring(msg) end
              if obj:name() ~= "child-" .. i then return "child got another answer: " .. obj:name() end
            end
          end)
          _exit((ok and failed == nil) and 0 or 1)
        end
        for i = 1, 20 do
          local obj, msg, code = cms:create {{ metadata = {{ name = "parent-" .. i }} }}
          assert(code == 201, "parent create " .. i .. ": " .. tostring(msg))
          assert(obj:name() == "parent-" .. i, "parent got another answer: " .. obj:name())
        end
        local child_status = wait(pid)
        -- Both sides' objects all arrived.
        local names = {{}}
        for _, cm in ipairs(cms:get()) do names[cm:name()] = true end
        for i = 1, 20 do
          assert(names["parent-" .. i], "parent-" .. i .. " missing")
          assert(names["child-" .. i], "child-" .. i .. " missing")
        end
        srv.stop()
        return child_status
        "#,
        bin = server.display().to_string(),
        seed = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("spec/fixtures/seed.yaml")
            .display()
            .to_string(),
    );
    child_status_of(&lua, &script, "the forked child's calls failed");
}

/// Issue 12: what was under way at `fork()` in the child. A watch opened in
/// the parent goes on in the child from the last resourceVersion it handed
/// out (the parent's connection is not the child's: it opens its own, and
/// neither repeats nor loses an event); a call started in the parent and not
/// finished fails loudly in the child, naming the fork (its task ran in the
/// parent's runtime, which the child does not have), never hangs or returns
/// nothing.
#[test]
fn a_watch_and_a_pending_call_from_before_fork_in_the_child() {
    let server = testserver();
    let lua = lua_with_module();
    let script = format!(
        r#"
        local srv = require("kube.testing").start {{ bin = {bin:?} }}
        local api, config = require "kube.api", require "kube.config"
        local nb = require "kube.nonblocking"
        local client = api.Client:new(config.from_kube_config(srv.kubeconfig))
        local cms = client:corev1():configmaps("default")
        assert(select(3, cms:create {{ metadata = {{ name = "pre", labels = {{ f = "1" }} }} }}) == 201)
        assert(select(3, cms:create {{ metadata = {{ name = "slow" }} }}) == 201)
        local w = cms:watch({{ labelSelector = "f=1" }})
        local kind, obj = w:next(5)
        assert(kind == "ADDED" and obj.metadata.name == "pre", "parent: " .. tostring(kind))
        -- Held 3 s by the server: still under way at the fork.
        assert(select(3, client:call("POST", "../testserver/faults",
          {{ latencyMs = 3000, count = 1, match = "configmaps/slow" }})) == 200)
        local held = nb.start(cms, "get", "slow")
        local pid = fork()
        if pid == 0 then
          local ok, failed = pcall(function()
            local t0 = require("kube.core").monotonic()
            local got, msg = held:result()
            if got ~= nil or not tostring(msg):find("fork", 1, true) then
              return "the held call in the child: " .. tostring(got) .. " " .. tostring(msg)
            end
            if require("kube.core").monotonic() - t0 > 1 then return "the held call waited in the child" end
            if select(3, cms:create {{ metadata = {{ name = "child", labels = {{ f = "1" }} }} }}) ~= 201 then
              return "child create"
            end
            local k, o = w:next(10)
            if k ~= "ADDED" or o.metadata.name ~= "child" then
              return "the watch in the child: " .. tostring(k) .. " " .. tostring(o and o.metadata.name)
            end
          end)
          if not ok or failed then io.stderr:write(tostring(failed), "\n") end
          _exit((ok and failed == nil) and 0 or 1)
        end
        local child_status = wait(pid)
        -- The parent's own call and watch are untouched by the child's.
        local got, _, code = held:result()
        assert(code == 200 and got.metadata.name == "slow", "parent's held call: " .. tostring(code))
        local k, o = w:next(10)
        assert(k == "ADDED" and o.metadata.name == "child", "parent's watch: " .. tostring(k))
        w:close()
        srv.stop()
        return child_status
        "#,
        bin = server.display().to_string(),
    );
    child_status_of(&lua, &script, "the forked child's checks failed");
}

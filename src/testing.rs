//! `kube.testing`: starts the stand-in API server (`kube-testserver`) as a
//! child process for a script's or a spec's own tests, and stops it again
//! (explicitly, or when the handle is garbage-collected).

use crate::lua_fn;
use mlua::{Lua, Table, UserData, Value};
use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

/// The running child; dropping it stops the server.
struct ServerProcess {
    child: RefCell<Option<Child>>,
    dir: PathBuf,
}

impl ServerProcess {
    fn stop(&self) {
        if let Some(mut child) = self.child.borrow_mut().take() {
            // SIGTERM first so the server shuts down cleanly; kill if it lingers.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            for _ in 0..50 {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Held in the returned table: when it is collected, the server stops.
struct Handle {
    _process: Rc<ServerProcess>,
}
impl UserData for Handle {}

fn find_binary(explicit: Option<String>) -> Result<PathBuf, String> {
    if let Some(p) = explicit.or_else(|| std::env::var("KUBE_TESTSERVER").ok()) {
        return Ok(PathBuf::from(p));
    }
    let name = "kube-testserver";
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let local = Path::new("server/target/release").join(name);
    if local.is_file() {
        return Ok(local);
    }
    Err(format!(
        "kube.testing: cannot find {name}: put it on PATH, set KUBE_TESTSERVER, or pass {{bin = path}}"
    ))
}

fn fresh_dir() -> Result<PathBuf, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kube-testserver-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("kube.testing: {}: {e}", dir.display()))?;
    Ok(dir)
}

/// `testing.start{seed = "file.yaml" | {files}, bin = path, args = {...}, timeout = s}`
/// → `{url = ..., kubeconfig = ..., stop = function}`.
pub fn start(lua: &Lua, opts: Option<Table>) -> mlua::Result<Table> {
    let err = mlua::Error::runtime;
    let opts = match opts {
        Some(t) => t,
        None => lua.create_table()?,
    };
    let bin = find_binary(opts.get("bin")?).map_err(err)?;
    let dir = fresh_dir().map_err(err)?;
    let kubeconfig = dir.join("kubeconfig");
    let mut cmd = Command::new(&bin);
    cmd.arg("--port")
        .arg("0")
        .arg("--kubeconfig")
        .arg(&kubeconfig);
    match opts.get::<Value>("seed")? {
        Value::Nil => {}
        Value::String(s) => {
            cmd.arg("--seed").arg(s.to_str()?.to_string());
        }
        Value::Table(t) => {
            for s in t.sequence_values::<String>() {
                cmd.arg("--seed").arg(s?);
            }
        }
        other => {
            return Err(err(format!(
                "kube.testing.start: seed must be a file name or a list of them, got {}",
                other.type_name()
            )))
        }
    }
    if let Some(extra) = opts.get::<Option<Table>>("args")? {
        for a in extra.sequence_values::<String>() {
            cmd.arg(a?);
        }
    }
    let log = std::fs::File::create(dir.join("server.log"))
        .map_err(|e| err(format!("kube.testing: {e}")))?;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| err(format!("kube.testing: cannot start {}: {e}", bin.display())))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let process = Rc::new(ServerProcess {
        child: RefCell::new(Some(child)),
        dir: dir.clone(),
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if let Some(url) = line.strip_prefix("ready ") {
                let _ = tx.send(url.trim().to_string());
                break;
            }
        }
        // Keep draining so the server never blocks on a full pipe.
        for _ in lines {}
    });
    let timeout = opts.get::<Option<f64>>("timeout")?.unwrap_or(30.0);
    let url = rx
        .recv_timeout(Duration::from_secs_f64(timeout))
        .map_err(|_| {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            process.stop();
            err(format!(
                "kube.testing: {} did not print its ready line within {timeout}s; its log:\n{log}",
                bin.display()
            ))
        })?;
    let t = lua.create_table()?;
    t.set("url", url)?;
    t.set("kubeconfig", kubeconfig.display().to_string())?;
    t.set("dir", dir.display().to_string())?;
    t.set(
        "handle",
        Handle {
            _process: process.clone(),
        },
    )?;
    let p = process.clone();
    t.set(
        "stop",
        lua_fn::function(lua, move |_, _: mlua::MultiValue| {
            p.stop();
            Ok(())
        })?,
    )?;
    Ok(t)
}

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

/// How the server is launched, kept to start it again.
struct Launch {
    bin: PathBuf,
    /// Everything but `--port`.
    args: Vec<String>,
    dir: PathBuf,
    timeout: Duration,
}

/// The running child; dropping it stops the server.
struct ServerProcess {
    child: RefCell<Option<Child>>,
    launch: Launch,
}

impl ServerProcess {
    /// Ends the child: SIGTERM first so it shuts down cleanly; kill if it lingers.
    fn end_child(&self) {
        if let Some(mut child) = self.child.borrow_mut().take() {
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
        }
    }

    fn stop(&self) {
        let running = self.child.borrow().is_some();
        self.end_child();
        if running {
            let _ = std::fs::remove_dir_all(&self.launch.dir);
        }
    }

    /// Starts the child on `port` (0: any) and returns its URL.
    fn spawn(&self, port: u16) -> Result<String, String> {
        let l = &self.launch;
        let log = std::fs::File::create(l.dir.join("server.log"))
            .map_err(|e| format!("kube.testing: {e}"))?;
        let mut child = Command::new(&l.bin)
            .arg("--port")
            .arg(port.to_string())
            .args(&l.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("kube.testing: cannot start {}: {e}", l.bin.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        *self.child.borrow_mut() = Some(child);
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
        rx.recv_timeout(l.timeout).map_err(|_| {
            let log = std::fs::read_to_string(l.dir.join("server.log")).unwrap_or_default();
            self.end_child();
            format!(
                "kube.testing: {} did not print its ready line within {}s; its log:\n{log}",
                l.bin.display(),
                l.timeout.as_secs_f64()
            )
        })
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

/// `testing.start{seed = "file.yaml" | {files}, bin = path, args = {...}, timeout = s,
/// controllers = "all" | "none" | {names}, nodes = n, speed = f}`
/// → `{url = ..., kubeconfig = ..., dir = ..., stop = function, restart = function}`.
pub(crate) fn start(lua: &Lua, opts: Option<Table>) -> mlua::Result<Table> {
    let err = mlua::Error::runtime;
    let opts = match opts {
        Some(t) => t,
        None => lua.create_table()?,
    };
    let bin = find_binary(opts.get("bin")?).map_err(err)?;
    let dir = fresh_dir().map_err(err)?;
    let kubeconfig = dir.join("kubeconfig");
    // `restart()` keeps the CA and credentials (identity) and the objects
    // (data, written on SIGTERM), as a real API server with its etcd would.
    let mut args = vec![
        "--kubeconfig".to_string(),
        kubeconfig.display().to_string(),
        "--identity".to_string(),
        dir.join("identity.json").display().to_string(),
        "--data".to_string(),
        dir.join("data.json").display().to_string(),
    ];
    match opts.get::<Value>("seed")? {
        Value::Nil => {}
        Value::String(s) => {
            args.push("--seed".into());
            args.push(s.to_str()?.to_string());
        }
        Value::Table(t) => {
            for s in t.sequence_values::<String>() {
                args.push("--seed".into());
                args.push(s?);
            }
        }
        other => {
            return Err(err(format!(
                "kube.testing.start: seed must be a file name or a list of them, got {}",
                other.type_name()
            )))
        }
    }
    // The simulated cluster: which controllers run, how many nodes, how
    // fast simulated time goes.
    match opts.get::<Value>("controllers")? {
        Value::Nil => {}
        Value::String(s) => {
            args.push("--controllers".into());
            args.push(s.to_str()?.to_string());
        }
        Value::Table(t) => {
            let names = t
                .sequence_values::<String>()
                .collect::<mlua::Result<Vec<_>>>()?;
            args.push("--controllers".into());
            args.push(if names.is_empty() {
                "none".into()
            } else {
                names.join(",")
            });
        }
        other => {
            return Err(err(format!(
            "kube.testing.start: controllers must be \"all\", \"none\" or a list of names, got {}",
            other.type_name()
        )))
        }
    }
    if let Some(n) = opts.get::<Option<u32>>("nodes")? {
        args.push("--nodes".into());
        args.push(n.to_string());
    }
    if let Some(speed) = opts.get::<Option<f64>>("speed")? {
        if !speed.is_finite() || speed < 0.0 {
            return Err(err(
                "kube.testing.start: speed must be a number >= 0".to_string()
            ));
        }
        args.push("--speed".into());
        args.push(speed.to_string());
    }
    if let Some(extra) = opts.get::<Option<Table>>("args")? {
        for a in extra.sequence_values::<String>() {
            args.push(a?);
        }
    }
    let timeout = opts.get::<Option<f64>>("timeout")?.unwrap_or(30.0);
    let process = Rc::new(ServerProcess {
        child: RefCell::new(None),
        launch: Launch {
            bin,
            args,
            dir: dir.clone(),
            timeout: Duration::try_from_secs_f64(timeout).map_err(|_| {
                err("kube.testing.start: timeout must be a positive number".to_string())
            })?,
        },
    });
    let url = process.spawn(0).map_err(|e| {
        process.stop();
        err(e)
    })?;
    let port = port_of(&url).map_err(err)?;
    let t = lua.create_table()?;
    t.set("url", url)?;
    t.set("kubeconfig", kubeconfig.display().to_string())?;
    t.set("dir", dir.display().to_string())?;
    t.set(
        "handle",
        lua_fn::userdata(
            lua,
            Handle {
                _process: process.clone(),
            },
        )?,
    )?;
    let p = process.clone();
    t.set(
        "stop",
        lua_fn::function(lua, move |_, _: mlua::MultiValue| {
            p.stop();
            Ok(())
        })?,
    )?;
    // Stops the server and starts it again on the same port with the same
    // arguments: a fresh process with the same CA, credentials and objects.
    let p = process.clone();
    t.set(
        "restart",
        lua_fn::function(lua, move |_, _: mlua::MultiValue| {
            p.end_child();
            p.spawn(port).map(|_| ()).map_err(err)
        })?,
    )?;
    Ok(t)
}

fn port_of(url: &str) -> Result<u16, String> {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .ok_or_else(|| format!("kube.testing: no port in the server's URL {url}"))
}

//! Local processes behind exec and attach: a child per exec (pipes, or a
//! pseudo-terminal for `tty=true`), one long-running child per attached
//! container shared by every attach session.

use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};

/// What the client asked for (the exec/attach query).
pub struct Options {
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// What a process produces, in order: output chunks, then how it ended.
#[derive(Clone)]
pub enum Out {
    Data(u8, Bytes),
    Exit(i32),
    /// The process could not start (the runtime's error).
    Failed(String),
}

type Resize = Arc<dyn Fn(u16, u16) + Send + Sync>;

/// One session's ends of a process.
pub struct Proc {
    pub out: mpsc::Receiver<Out>,
    /// Dropping it closes the process's stdin (exec) or this session's part of it (attach).
    pub stdin: Option<mpsc::Sender<Bytes>>,
    pub resize: Option<Resize>,
    /// Kills an exec'd process when the session ends.
    _guard: Option<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How many chunks wait between a process and its session: with 32 KB
/// chunks, at most ~0.5 MB per stream, whatever the process prints.
const QUEUE: usize = 16;
const CHUNK: usize = 32 * 1024;

fn failed(msg: String) -> Proc {
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(Out::Failed(msg));
    Proc {
        out: rx,
        stdin: None,
        resize: None,
        _guard: None,
    }
}

fn pump_out(
    mut r: impl AsyncRead + Unpin + Send + 'static,
    ch: u8,
    tx: mpsc::Sender<Out>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break, // a pty reads EIO once the child is gone
                Ok(n) => {
                    if tx
                        .send(Out::Data(ch, Bytes::copy_from_slice(&buf[..n])))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    })
}

fn pump_in(mut w: impl AsyncWrite + Unpin + Send + 'static) -> mpsc::Sender<Bytes> {
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
    tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            if w.write_all(&b).await.is_err() || w.flush().await.is_err() {
                break;
            }
        }
    });
    tx
}

/// A pseudo-terminal pair (master, slave).
fn openpty() -> std::io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let (mut m, mut s) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into m and s; null name,
    // termios and winsize pointers are allowed.
    let rc = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) })
}

fn set_size(fd: &OwnedFd, cols: u16, rows: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer; fd is a pty master we own.
    unsafe {
        libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws);
    }
}

/// Starts `argv` in `dir`. Its output goes to the returned receiver; its
/// stdin is fed from the returned sender. The task handle owns the child
/// (killed when the task is aborted).
fn start(
    argv: &[String],
    dir: &Path,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
) -> Result<(Proc, tokio::task::JoinHandle<()>), String> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(dir).kill_on_drop(true);
    let mut readers = vec![];
    let (child, stdin_tx, resize) = if tty {
        let (master, slave) = openpty().map_err(|e| format!("openpty: {e}"))?;
        set_size(&master, 80, 24);
        let dup = |f: &OwnedFd| f.try_clone().map_err(|e| e.to_string());
        cmd.stdin(Stdio::from(dup(&slave)?))
            .stdout(Stdio::from(dup(&slave)?))
            .stderr(Stdio::from(dup(&slave)?));
        // SAFETY: setsid and ioctl are async-signal-safe; the child makes
        // the pty (its stdin) its controlling terminal in a new session.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY as _, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| e.to_string())?;
        drop(cmd);
        drop(slave);
        let reader = tokio::fs::File::from_std(std::fs::File::from(dup(&master)?));
        let writer = tokio::fs::File::from_std(std::fs::File::from(dup(&master)?));
        readers.push(pump_out(reader, 1, tx.clone()));
        let stdin_tx = stdin.then(|| pump_in(writer));
        let master = Arc::new(master);
        let resize: Resize = Arc::new(move |c, r| set_size(&master, c, r));
        (child, stdin_tx, Some(resize))
    } else {
        let io = |on: bool| if on { Stdio::piped() } else { Stdio::null() };
        cmd.stdin(io(stdin)).stdout(io(stdout)).stderr(io(stderr));
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        if let Some(o) = child.stdout.take() {
            readers.push(pump_out(o, 1, tx.clone()));
        }
        if let Some(e) = child.stderr.take() {
            readers.push(pump_out(e, 2, tx.clone()));
        }
        let stdin_tx = child.stdin.take().map(pump_in);
        (child, stdin_tx, None)
    };
    let driver = tokio::spawn(async move {
        let mut child = child;
        for r in readers {
            let _ = r.await;
        }
        let code = match child.wait().await {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
            }
            Err(_) => 1,
        };
        let _ = tx.send(Out::Exit(code)).await;
    });
    Ok((
        Proc {
            out: rx,
            stdin: stdin_tx,
            resize,
            _guard: None,
        },
        driver,
    ))
}

/// Runs an exec'd command; the process dies with the session.
pub fn spawn_exec(o: &Options, dir: &Path) -> Proc {
    match start(&o.command, dir, o.stdin, o.stdout, o.stderr, o.tty) {
        Ok((mut p, driver)) => {
            p._guard = Some(AbortOnDrop(driver));
            p
        }
        Err(e) => failed(format!(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{}\": {e}: unknown",
            o.command[0]
        )),
    }
}

/// A container's long-running process, shared by its attach sessions.
struct Attached {
    stdin: Option<mpsc::Sender<Bytes>>,
    out: broadcast::Sender<Out>,
    resize: Option<Resize>,
}

type Key = (String, String, String);

fn attached() -> &'static Mutex<HashMap<Key, Arc<Attached>>> {
    static MAP: OnceLock<Mutex<HashMap<Key, Arc<Attached>>>> = OnceLock::new();
    MAP.get_or_init(Default::default)
}

/// Joins the container's process, starting it on first use: the container's
/// `command` and `args`, else `cat` (it echoes what attach sends it).
pub fn attach(key: Key, container: &Value, o: &Options, dir: &Path) -> Proc {
    let shared = {
        let mut map = attached().lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key) {
            Some(a) => a.clone(),
            None => {
                let strs = |f: &str| -> Vec<String> {
                    container[f]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                };
                let mut argv = strs("command");
                argv.extend(strs("args"));
                if argv.is_empty() {
                    argv = vec!["cat".into()];
                }
                let tty = container["tty"].as_bool().unwrap_or(false);
                let (proc, driver) = match start(&argv, dir, true, true, true, tty) {
                    Ok(p) => p,
                    Err(e) => return failed(format!("attach: starting {argv:?}: {e}")),
                };
                let (btx, _) = broadcast::channel(64);
                let a = Arc::new(Attached {
                    stdin: proc.stdin,
                    out: btx.clone(),
                    resize: proc.resize,
                });
                map.insert(key.clone(), a.clone());
                let mut out = proc.out;
                tokio::spawn(async move {
                    let _driver = driver;
                    while let Some(o) = out.recv().await {
                        let end = !matches!(o, Out::Data(..));
                        if end {
                            attached()
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .remove(&key);
                        }
                        let _ = btx.send(o);
                        if end {
                            break;
                        }
                    }
                });
                a
            }
        }
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut sub = shared.out.subscribe();
    let (want_out, want_err) = (o.stdout, o.stderr);
    tokio::spawn(async move {
        loop {
            match sub.recv().await {
                Ok(Out::Data(1, _)) if !want_out => {}
                Ok(Out::Data(2, _)) if !want_err => {}
                Ok(o) => {
                    let end = !matches!(o, Out::Data(..));
                    if tx.send(o).await.is_err() || end {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    Proc {
        out: rx,
        stdin: if o.stdin { shared.stdin.clone() } else { None },
        resize: shared.resize.clone(),
        _guard: None,
    }
}

//! `pods:cp_to(name, local, remote, opts)` and `pods:cp_from(name, remote,
//! local, opts)`: what `kubectl cp` does, a tar stream over an exec session.
//! Into the container: a tar of the local file or directory (built with the
//! `tar` crate on a blocking thread, streamed in 64 KB messages with
//! back-pressure) goes to `tar -xmf - -C DIR` in the container. Out of it:
//! `tar cf - -C DIR ./BASE` runs in the container and its stdout is unpacked
//! as it arrives. Only regular files and directories are written locally;
//! links and devices are skipped, and no entry may leave the destination.
//!
//! The whole copy runs on the background runtime; the Lua call waits for
//! its outcome (`opts.timeout` bounds it), or hands back a pending handle in
//! a host adapter's coroutine (`Copy` is a `nonblocking::Job`).

use super::{exit_of, framed, Exit, V5};
use crate::nonblocking::Job;
use crate::runtime::{self, Signal};
use crate::transport::upgrade::Upgrader;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use mlua::{IntoLuaMulti, Lua, MultiValue};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Size of the messages the tar stream is cut into.
const CHUNK: usize = 64 * 1024;
/// Messages in flight between the tar thread and the socket.
const IN_FLIGHT: usize = 8;
/// tar's record size (20 blocks of 512 bytes).
const RECORD: usize = 10 * 1024;
/// What is kept of the remote tar's error output.
const STDERR_KEPT: usize = 16 * 1024;

/// Splits a container path into the directory tar runs in and the name
/// inside it (`/a/b/c` -> `/a/b`, `c`; `c` -> `.`, `c`).
pub(crate) fn split_remote(path: &str) -> Result<(String, String), String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.contains('\0') {
        return Err(format!("{path:?} is not a path of a file in the container"));
    }
    let (dir, base) = match trimmed.rfind('/') {
        Some(0) => ("/".to_string(), &trimmed[1..]),
        Some(i) => (trimmed[..i].to_string(), &trimmed[i + 1..]),
        None => (".".to_string(), trimmed),
    };
    if base == "." || base == ".." {
        return Err(format!("{path:?}: name the file or directory itself"));
    }
    Ok((dir, base.to_string()))
}

/// A `Write` that cuts what it gets into messages for the socket task and
/// waits while too many are in flight.
struct ChanWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Bytes>,
    written: u64,
}

impl ChanWriter {
    fn push(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the session ended"))
    }
}

impl Write for ChanWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.written += n as u64;
        if self.buf.len() >= CHUNK {
            self.push()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.push()
    }
}

/// A `Read` over the chunks the socket task receives.
struct ChanReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChanReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.current = b,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Writes the tar of `src` (a file or a directory) named `name`.
fn build_tar(src: &Path, name: &str, w: ChanWriter) -> Result<(), String> {
    let mut b = tar::Builder::new(w);
    let meta = std::fs::metadata(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let r = if meta.is_dir() {
        b.append_dir_all(name, src)
    } else {
        b.append_path_with_name(src, name)
    };
    r.map_err(|e| format!("{}: {e}", src.display()))?;
    let mut w = b
        .into_inner()
        .map_err(|e| format!("{}: {e}", src.display()))?;
    // Pad to tar's 10,240-byte record: GNU tar reads whole records, and over
    // v4 (no way to close stdin) it would wait for the rest of the last one.
    let pad = (RECORD - (w.written % RECORD as u64) as usize) % RECORD;
    w.write_all(&vec![0; pad])
        .and_then(|_| w.flush())
        .map_err(|e| format!("{}: {e}", src.display()))
}

/// Unpacks the stream of `tar cf - ./BASE` into `dest` (BASE itself
/// becomes `dest`); the number of files written.
fn unpack_tar(r: ChanReader, base: &str, dest: &Path) -> Result<u64, String> {
    let mut ar = tar::Archive::new(r);
    let prefix = Path::new(".").join(base);
    let mut files = 0;
    let entries = ar
        .entries()
        .map_err(|e| format!("reading the tar stream: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("reading the tar stream: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("reading the tar stream: {e}"))?
            .into_owned();
        let Ok(rest) = path.strip_prefix(&prefix) else {
            return Err(format!(
                "the container sent {} outside {}",
                path.display(),
                prefix.display()
            ));
        };
        if rest
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "the container sent {}, which leaves the destination",
                path.display()
            ));
        }
        let target = if rest.as_os_str().is_empty() {
            dest.to_path_buf()
        } else {
            dest.join(rest)
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        } else if kind.is_file() {
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            entry
                .unpack(&target)
                .map_err(|e| format!("{}: {e}", target.display()))?;
            files += 1;
        }
        // Links, devices and FIFOs are not copied.
    }
    // tar pads its output to a whole record after the end-of-archive
    // blocks: read it, so the session is not cut before tar's exit status.
    let mut rest = ar.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink())
        .map_err(|e| format!("reading the tar stream: {e}"))?;
    Ok(files)
}

/// What the remote side said: its exit and the start of its error output.
#[derive(Default)]
struct Remote {
    exit: Option<Exit>,
    stderr: Vec<u8>,
}

impl Remote {
    fn keep(&mut self, data: &[u8]) {
        let room = STDERR_KEPT.saturating_sub(self.stderr.len());
        self.stderr.extend_from_slice(&data[..data.len().min(room)]);
    }

    /// Ok when tar in the container exited 0.
    fn outcome(&self, what: &str) -> Result<(), String> {
        let said = String::from_utf8_lossy(&self.stderr).trim().to_string();
        match &self.exit {
            Some(Exit { code: Some(0), .. }) => Ok(()),
            Some(Exit { code: Some(c), .. }) => Err(format!(
                "{what}: tar in the container exited with {c}{}{said}",
                if said.is_empty() { "" } else { ": " }
            )),
            Some(e) => Err(format!(
                "{what}: {}",
                e.message
                    .as_deref()
                    .unwrap_or("tar could not run in the container")
            )),
            None => Err(format!(
                "{what}: the connection closed before tar's exit status"
            )),
        }
    }
}

/// Into the container: the tar of `src` to `tar -xmf -` there.
pub(crate) async fn copy_to(
    up: Upgrader,
    url: String,
    protocols: Vec<&'static str>,
    src: PathBuf,
    name: String,
    what: String,
) -> Result<u64, String> {
    let (ws, protocol) = up.open(&url, &protocols).await?;
    let v5 = protocol == V5;
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Bytes>(IN_FLIGHT);
    let builder = tokio::task::spawn_blocking(move || {
        build_tar(
            &src,
            &name,
            ChanWriter {
                buf: Vec::with_capacity(CHUNK),
                tx,
                written: 0,
            },
        )
    });
    let mut remote = Remote::default();
    let mut input_open = true;
    let mut sent: u64 = 0;
    let broke = loop {
        tokio::select! {
            chunk = rx.recv(), if input_open => {
                let msg = match chunk {
                    Some(b) => {
                        sent += b.len() as u64;
                        framed(0, &b)
                    }
                    None => {
                        input_open = false;
                        // v4 cannot close stdin; tar stops at the archive's end anyway.
                        if !v5 {
                            continue;
                        }
                        framed(255, &[0])
                    }
                };
                if let Err(e) = sink.send(msg).await {
                    break Some(format!("{what}: writing to the session failed: {e}"));
                }
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) if !b.is_empty() => match b[0] {
                    1 | 2 => remote.keep(&b[1..]),
                    3 => remote.exit = Some(exit_of(&b[1..])),
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(e)) => break (remote.exit.is_none())
                    .then(|| format!("{what}: the session broke: {e}")),
                Some(Ok(_)) => {}
            }
        }
    };
    drop(rx);
    let built = builder
        .await
        .map_err(|e| format!("{what}: the tar writer stopped: {e}"))?;
    let _ = sink.close().await;
    if let Some(e) = broke {
        return Err(e);
    }
    // A local failure is the cause unless the remote side ended first.
    match (built, remote.outcome(&what)) {
        (Err(e), Ok(())) => Err(format!("{what}: {e}")),
        (Err(e), Err(r)) if input_open || !e.contains("the session ended") => {
            Err(format!("{what}: {e} ({r})"))
        }
        (_, Err(r)) => Err(r),
        (Ok(()), Ok(())) => Ok(sent),
    }
}

/// Out of the container: `tar cf -` there, unpacked here into `dest`.
pub(crate) async fn copy_from(
    up: Upgrader,
    url: String,
    protocols: Vec<&'static str>,
    base: String,
    dest: PathBuf,
    what: String,
) -> Result<u64, String> {
    let (ws, _) = up.open(&url, &protocols).await?;
    let (mut sink, mut stream) = ws.split();
    let (tx, rx) = mpsc::channel::<Bytes>(IN_FLIGHT);
    let unpacker = tokio::task::spawn_blocking(move || {
        let r = ChanReader {
            rx,
            current: Bytes::new(),
        };
        unpack_tar(r, &base, &dest)
    });
    let mut tx = Some(tx);
    let mut remote = Remote::default();
    let broke = loop {
        match stream.next().await {
            Some(Ok(Message::Binary(b))) if !b.is_empty() => match b[0] {
                1 => {
                    let Some(t) = &tx else { continue };
                    if t.send(b.slice(1..)).await.is_err() {
                        // The unpacker stopped (its error says why): stop tar too.
                        tx = None;
                        let _ = sink.send(Message::Close(None)).await;
                        break None;
                    }
                }
                2 => remote.keep(&b[1..]),
                3 => remote.exit = Some(exit_of(&b[1..])),
                _ => {}
            },
            Some(Ok(Message::Close(_))) | None => break None,
            Some(Err(e)) => {
                break remote
                    .exit
                    .is_none()
                    .then(|| format!("{what}: the session broke: {e}"))
            }
            Some(Ok(_)) => {}
        }
    };
    drop(tx);
    let unpacked = unpacker
        .await
        .map_err(|e| format!("{what}: the tar reader stopped: {e}"))?;
    let files = unpacked.map_err(|e| format!("{what}: {e}"))?;
    if let Some(e) = broke {
        return Err(e);
    }
    remote.outcome(&what)?;
    Ok(files)
}

/// The task's end of a copy: says how it ended, also when the copy's
/// future panicked or was dropped before it finished.
struct Outcome(Option<runtime::Sender<Result<u64, String>>>, String);

impl Outcome {
    fn send(mut self, r: Result<u64, String>) {
        if let Some(tx) = self.0.take() {
            tx.push(r, 0);
        }
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            tx.push(Err(format!("{}: the copy stopped", self.1)), 0);
        }
    }
}

/// A copy running on the background runtime, as a job a pending handle or
/// the blocking call waits for (`opts.timeout` bounds it).
pub(crate) struct Copy {
    mailbox: runtime::Mailbox<Result<u64, String>>,
    until: Option<Instant>,
    got: Option<Result<u64, String>>,
    what: String,
    panic: bool,
}

impl Copy {
    /// Starts `fut`; the job, the signal its end notifies and its deadline.
    #[allow(clippy::type_complexity)]
    pub(crate) fn start<F>(
        fut: F,
        timeout: Option<Duration>,
        what: String,
        panic: bool,
    ) -> Result<(Copy, Arc<Signal>, Option<Instant>), String>
    where
        F: std::future::Future<Output = Result<u64, String>> + Send + 'static,
    {
        let signal = Signal::new();
        let (tx, mut mailbox) = runtime::mailbox(signal.clone(), 0);
        let outcome = Outcome(Some(tx), what.clone());
        let task = runtime::spawn(async move { outcome.send(fut.await) })?;
        mailbox.set_task(task);
        let until = timeout.and_then(crate::streaming::deadline_after);
        let job = Copy {
            mailbox,
            until,
            got: None,
            what,
            panic,
        };
        Ok((job, signal, until))
    }
}

impl Job for Copy {
    fn poll(&mut self, deadline: Option<Instant>) -> bool {
        while self.got.is_none() {
            let wait_until = match (deadline, self.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(r) = self.mailbox.pop(wait_until) {
                self.got = Some(r);
            } else if self.mailbox.orphaned() {
                self.got = Some(Err(format!(
                    "{}: the copy belongs to another process",
                    self.what
                )));
            } else if self.until.is_some_and(|u| Instant::now() >= u) {
                self.mailbox.cancel();
                self.got = Some(Err(format!("{}: timed out", self.what)));
            } else {
                return false;
            }
        }
        true
    }

    fn finish(mut self: Box<Self>, lua: &Lua) -> mlua::Result<MultiValue> {
        self.poll(None);
        match self.got.take() {
            Some(Ok(n)) => (true, n).into_lua_multi(lua),
            Some(Err(e)) => super::failure(lua, self.panic, e),
            None => super::failure(lua, self.panic, format!("{}: the copy stopped", self.what)),
        }
    }

    fn cancel(&mut self) {
        if self.got.is_none() {
            self.mailbox.cancel();
            self.got = Some(Err(format!("{}: cancelled", self.what)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_remote;

    #[test]
    fn remote_paths_split_into_directory_and_name() {
        assert_eq!(split_remote("/a/b/c").unwrap(), ("/a/b".into(), "c".into()));
        assert_eq!(split_remote("/c").unwrap(), ("/".into(), "c".into()));
        assert_eq!(split_remote("c").unwrap(), (".".into(), "c".into()));
        assert_eq!(split_remote("d/c/").unwrap(), ("d".into(), "c".into()));
        assert!(split_remote("/").is_err());
        assert!(split_remote("").is_err());
        assert!(split_remote("a/..").is_err());
    }
}

//! Exec, attach and port-forward sessions: WebSocket connections to
//! `pods/NAME/exec|attach|portforward` run as tasks on the background
//! runtime; the Lua side talks to a task through a command channel (stdin,
//! resize, close) and a mailbox (output, status), so `next(0)`/`read(0)`
//! never touch the network on the Lua thread.
//!
//! Exec and attach offer `v5.channel.k8s.io` then `v4.channel.k8s.io`:
//! each message starts with its channel (stdin 0, stdout 1, stderr 2, the
//! final Status 3, resize 4; v5 only: `[255, 0]` closes stdin).
//! Port-forward speaks `portforward.k8s.io` (data channel 0, error channel
//! 1, each opened by a 2-byte port number from the server).

mod copy;
mod listen;

use crate::args::{arg_error, nth, Args};
use crate::iterator::{Iter, Step};
use crate::lua_fn;
use crate::runtime::{self, Mailbox, Signal};
use crate::target::ResourceClient;
use crate::transport::upgrade::Upgrader;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The pod-client methods this module serves.
pub(crate) const VERBS: &[&str] = &[
    "exec",
    "exec_session",
    "attach",
    "portforward",
    "portforward_listen",
    "cp_to",
    "cp_from",
];

const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";
const PORTFORWARD: &str = "portforward.k8s.io";

/// Output waiting for the Lua side before the task stops reading (and the
/// server, then the process, wait too).
const SESSION_BUFFER: usize = 4 << 20;

/// What the task reports, in order.
enum Event {
    Opened(String),
    Data(u8, Bytes),
    Status(Bytes),
    End,
    Failed(String),
}

/// What the Lua side asks of the task.
enum Command {
    Data(u8, Bytes),
    CloseStdin,
    Resize(u16, u16),
}

fn framed(ch: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(ch);
    v.extend_from_slice(data);
    Message::Binary(Bytes::from(v))
}

/// The session task: open, then move frames both ways until the server
/// closes, the connection fails or the Lua side lets go.
async fn run(
    upgrader: Upgrader,
    url: String,
    protocols: Vec<&'static str>,
    portforward: bool,
    tx: runtime::Sender<Event>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let (ws, protocol) = match upgrader.open(&url, &protocols).await {
        Ok(x) => x,
        Err(e) => {
            tx.push(Event::Failed(e), 0);
            return;
        }
    };
    let v5 = protocol == V5;
    if !tx.push(Event::Opened(protocol), 0) {
        return;
    }
    let (mut sink, mut stream) = ws.split();
    let mut got_status = false;
    // Port-forward: the first message on each channel is the port number.
    let mut opened = [false; 2];
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) if !b.is_empty() => {
                    let ch = b[0];
                    let data = b.slice(1..);
                    if portforward && ch < 2 && !opened[ch as usize] {
                        opened[ch as usize] = true;
                        continue;
                    }
                    if portforward && ch == 1 {
                        if !data.is_empty() {
                            let msg = String::from_utf8_lossy(&data).into_owned();
                            tx.push(Event::Failed(format!("port-forward: {msg}")), 0);
                            return;
                        }
                        continue;
                    }
                    if !portforward && ch == 3 {
                        got_status = true;
                        tx.push(Event::Status(data), 0);
                        continue;
                    }
                    let n = data.len();
                    if n > 0 && !tx.push_bounded(Event::Data(ch, data), n).await {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None => {
                    if got_status || portforward {
                        tx.push(Event::End, 0);
                    } else {
                        tx.push(Event::Failed(format!(
                            "{url}: the connection closed before the command's status"
                        )), 0);
                    }
                    return;
                }
                Some(Err(e)) => {
                    if got_status {
                        tx.push(Event::End, 0);
                    } else {
                        tx.push(Event::Failed(format!("{url}: the session broke: {e}")), 0);
                    }
                    return;
                }
                Some(Ok(_)) => {}
            },
            cmd = commands.recv() => {
                let msg = match cmd {
                    Some(Command::Data(ch, b)) => framed(ch, &b),
                    Some(Command::CloseStdin) if v5 => framed(255, &[0]),
                    Some(Command::CloseStdin) => continue,
                    Some(Command::Resize(w, h)) => framed(4, format!("{{\"Width\":{w},\"Height\":{h}}}").as_bytes()),
                    None => {
                        // The Lua side let go: say goodbye and stop.
                        let _ = sink.send(Message::Close(None)).await;
                        return;
                    }
                };
                if let Err(e) = sink.send(msg).await {
                    tx.push(Event::Failed(format!("{url}: writing to the session failed: {e}")), 0);
                    return;
                }
            }
        }
    }
}

/// How the command ended, from the Status on channel 3.
struct Exit {
    code: Option<i64>,
    message: Option<String>,
    status: serde_json::Value,
}

fn exit_of(status: &[u8]) -> Exit {
    let v: serde_json::Value = serde_json::from_slice(status).unwrap_or_default();
    if v["status"] == "Success" {
        return Exit {
            code: Some(0),
            message: None,
            status: v,
        };
    }
    let code = v["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["reason"] == "ExitCode")
        .and_then(|c| c["message"].as_str())
        .and_then(|m| m.parse().ok());
    Exit {
        code,
        message: v["message"].as_str().map(String::from),
        status: v,
    }
}

/// A session as the Lua side holds it.
pub(crate) struct Session {
    mailbox: Mailbox<Event>,
    commands: Option<mpsc::UnboundedSender<Command>>,
    protocol: Option<String>,
    exit: Option<Exit>,
    ended: bool,
    portforward: bool,
    what: String,
}

impl Session {
    fn start(
        upgrader: Upgrader,
        url: String,
        protocols: Vec<&'static str>,
        portforward: bool,
        what: String,
    ) -> Result<Session, String> {
        let signal = Signal::new();
        let (tx, mut mailbox) = runtime::mailbox(signal, SESSION_BUFFER);
        let (ctx, crx) = mpsc::unbounded_channel();
        let task = runtime::spawn(run(upgrader, url, protocols, portforward, tx, crx))?;
        mailbox.set_task(task);
        Ok(Session {
            mailbox,
            commands: Some(ctx),
            protocol: None,
            exit: None,
            ended: false,
            portforward,
            what,
        })
    }

    /// The next chunk (channel, data) before `until`; `Ok(None)` at the end
    /// or on timeout (`ended` tells which).
    fn next_chunk(&mut self, until: Option<Instant>) -> Result<Option<(u8, Bytes)>, String> {
        while !self.ended {
            let Some(ev) = self.mailbox.pop(until) else {
                if self.mailbox.orphaned() {
                    self.ended = true;
                    return Err(format!(
                        "{}: the session belongs to another process",
                        self.what
                    ));
                }
                return Ok(None);
            };
            match ev {
                Event::Opened(p) => self.protocol = Some(p),
                Event::Data(ch, b) => return Ok(Some((ch, b))),
                Event::Status(s) => self.exit = Some(exit_of(&s)),
                Event::End => self.ended = true,
                Event::Failed(e) => {
                    self.ended = true;
                    self.commands = None;
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    /// Hands a command to the task; when the task is gone, the reason it
    /// reported (a refused upgrade, a broken connection).
    fn send(&mut self, cmd: Command) -> Result<(), String> {
        let sent = match &self.commands {
            Some(c) if !self.ended => c.send(cmd).is_ok(),
            _ => false,
        };
        if sent {
            return Ok(());
        }
        // The task is gone, and it queued its last event before it went:
        // look for the reason without waiting.
        while !self.ended {
            match self.mailbox.try_pop() {
                Some(Event::Failed(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Some(Event::End) | None => break,
                Some(_) => {}
            }
        }
        Err(format!("{}: the session is over", self.what))
    }

    /// Waits for the protocol to be known (the upgrade answered) until
    /// `until`; false when it is not known by then.
    fn opened(&mut self, until: Option<Instant>) -> Result<bool, String> {
        while self.protocol.is_none() && !self.ended {
            let Some(ev) = self.mailbox.pop(until) else {
                return Ok(false);
            };
            match ev {
                Event::Opened(p) => self.protocol = Some(p),
                Event::Failed(e) => {
                    self.ended = true;
                    return Err(e);
                }
                // Only Opened comes first.
                _ => {}
            }
        }
        Ok(true)
    }
}

fn stream_name(portforward: bool, ch: u8) -> &'static str {
    match (portforward, ch) {
        (true, _) => "data",
        (_, 1) => "stdout",
        (_, 2) => "stderr",
        _ => "other",
    }
}

fn deadline(timeout: Option<f64>) -> mlua::Result<Option<Instant>> {
    match timeout {
        Some(s) => Ok(Some(
            Instant::now()
                + crate::streaming::seconds(s, "timeout").map_err(mlua::Error::runtime)?,
        )),
        None => Ok(None),
    }
}

impl Step for Session {
    const NAME: &'static str = "kube.session";

    fn step(&mut self, lua: &Lua) -> mlua::Result<MultiValue> {
        self.next_until(lua, None)
    }

    fn next_until(&mut self, lua: &Lua, until: Option<Instant>) -> mlua::Result<MultiValue> {
        match self.next_chunk(until).map_err(mlua::Error::runtime)? {
            Some((ch, b)) => {
                let s = lua.create_string(&b)?;
                (stream_name(self.portforward, ch), s).into_lua_multi(lua)
            }
            None => Ok(MultiValue::new()),
        }
    }

    fn finished(&self) -> bool {
        self.ended
    }

    fn signal(&self) -> Option<Arc<Signal>> {
        Some(self.mailbox.signal().clone())
    }

    fn close(&mut self) {
        self.commands = None;
        self.mailbox.cancel();
        self.ended = true;
    }

    fn methods(lua: &Lua) -> mlua::Result<Vec<(&'static str, Function)>> {
        type It = Iter<Session>;
        fn borrow(this: &Iter<Session>) -> mlua::Result<std::cell::RefMut<'_, Session>> {
            this.0
                .try_borrow_mut()
                .map_err(|_| mlua::Error::runtime("kube.session: already running"))
        }
        let read = lua_fn::method(lua, Self::NAME, move |lua, this: &It, t: Option<f64>| {
            let until = deadline(t)?;
            let mut s = borrow(this)?;
            let v = s.next_until(lua, until)?;
            if v.is_empty() && !s.ended {
                return (Value::Nil, "timeout").into_lua_multi(lua);
            }
            Ok(v)
        })?;
        let write = lua_fn::method(
            lua,
            Self::NAME,
            move |_, this: &It, data: mlua::LuaString| {
                let mut s = borrow(this)?;
                s.send(Command::Data(0, Bytes::copy_from_slice(&data.as_bytes())))
                    .map_err(mlua::Error::runtime)?;
                Ok(true)
            },
        )?;
        let close_stdin = lua_fn::method(lua, Self::NAME, move |lua, this: &It, ()| {
            let mut s = borrow(this)?;
            s.opened(None).map_err(mlua::Error::runtime)?;
            if s.protocol.as_deref() != Some(V5) {
                let msg = format!(
                    "the server speaks {}, which cannot close stdin",
                    s.protocol.as_deref().unwrap_or("?")
                );
                return (false, msg).into_lua_multi(lua);
            }
            s.send(Command::CloseStdin).map_err(mlua::Error::runtime)?;
            true.into_lua_multi(lua)
        })?;
        let resize = lua_fn::method(lua, Self::NAME, move |_, this: &It, (w, h): (u16, u16)| {
            borrow(this)?
                .send(Command::Resize(w, h))
                .map_err(mlua::Error::runtime)?;
            Ok(true)
        })?;
        // protocol(timeout): nil, "timeout" when the upgrade has not been
        // answered in time (0: only looks).
        let protocol = lua_fn::method(lua, Self::NAME, move |lua, this: &It, t: Option<f64>| {
            let until = deadline(t)?;
            let mut s = borrow(this)?;
            if !s.opened(until).map_err(mlua::Error::runtime)? {
                return (Value::Nil, "timeout").into_lua_multi(lua);
            }
            s.protocol.clone().into_lua_multi(lua)
        })?;
        // wait(timeout): the exit code (nil when the command could not run or
        // the time ran out) and the Status; unread output is dropped.
        let wait = lua_fn::method(lua, Self::NAME, move |lua, this: &It, t: Option<f64>| {
            let until = deadline(t)?;
            let mut s = borrow(this)?;
            while !s.ended {
                if s.next_chunk(until).map_err(mlua::Error::runtime)?.is_none() && !s.ended {
                    return (Value::Nil, "timeout").into_lua_multi(lua);
                }
            }
            exit_values(lua, s.exit.as_ref())
        })?;
        // In a host adapter's coroutine both yield to the loop instead of blocking.
        let read = crate::nonblocking::yielding_iter(lua, "wrap_read", read)?;
        let wait = crate::nonblocking::yielding_iter(lua, "wrap_wait", wait)?;
        // Both need the upgrade's answer: in an adapter's coroutine they
        // yield until the session is open (protocol(0) tells).
        let protocol = crate::nonblocking::yielding_iter(lua, "wrap_opening", protocol)?;
        let close_stdin = crate::nonblocking::yielding_iter(lua, "wrap_opening", close_stdin)?;
        Ok(vec![
            ("read", read),
            ("write", write),
            ("close_stdin", close_stdin),
            ("resize", resize),
            ("wait", wait),
            ("protocol", protocol),
        ])
    }
}

fn exit_values(lua: &Lua, exit: Option<&Exit>) -> mlua::Result<MultiValue> {
    match exit {
        Some(e) => {
            let text = serde_json::to_vec(&e.status).unwrap_or_default();
            let status = crate::convert::decode(lua, &text, crate::convert::Format::Json)?;
            match e.code {
                Some(c) => (c, status).into_lua_multi(lua),
                None => (
                    Value::Nil,
                    e.message
                        .clone()
                        .unwrap_or_else(|| "the command failed".into()),
                    status,
                )
                    .into_lua_multi(lua),
            }
        }
        None => (Value::Nil, "the session ended without a status").into_lua_multi(lua),
    }
}

/// `%XX`-escapes a query value.
fn escape(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn add(q: &mut String, k: &str, v: &str) {
    q.push(if q.is_empty() { '?' } else { '&' });
    q.push_str(k);
    q.push('=');
    escape(q, v);
}

/// What exec/attach options say.
struct Opts {
    container: Option<String>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
    protocols: Vec<&'static str>,
    input: Option<Vec<u8>>,
    timeout: Option<f64>,
    max_bytes: usize,
}

fn parse_opts(v: &Value, what: &str, interactive: bool) -> mlua::Result<Opts> {
    let mut o = Opts {
        container: None,
        stdin: interactive,
        stdout: true,
        stderr: true,
        tty: false,
        protocols: vec![V5, V4],
        input: None,
        timeout: None,
        max_bytes: 64 << 20,
    };
    let Some(t) = opts_table(v, what)? else {
        return Ok(o);
    };
    for pair in t.pairs::<String, Value>() {
        let (k, val) = pair?;
        let b = |v: &Value| match v {
            Value::Boolean(b) => Ok(*b),
            other => Err(arg_error(
                what,
                format!("opts.{k} must be a boolean, got {}", other.type_name()),
            )),
        };
        match k.as_str() {
            "container" => {
                o.container = Some(crate::args::req_string(&val, what, "opts.container")?)
            }
            "stdin" => match &val {
                Value::String(s) => {
                    o.stdin = true;
                    o.input = Some(s.as_bytes().to_vec());
                }
                v => o.stdin = b(v)?,
            },
            "stdout" => o.stdout = b(&val)?,
            "stderr" => o.stderr = b(&val)?,
            "tty" => o.tty = b(&val)?,
            "protocol" => o.protocols = protocol_opt(&val, what)?,
            "timeout" => {
                o.timeout = Some(
                    val.as_f64()
                        .ok_or_else(|| arg_error(what, "opts.timeout must be a number"))?,
                )
            }
            "max_bytes" => {
                o.max_bytes = val
                    .as_usize()
                    .ok_or_else(|| arg_error(what, "opts.max_bytes must be a number"))?
            }
            other => return Err(arg_error(what, format!("unknown option {other:?}"))),
        }
    }
    if o.tty {
        o.stderr = false;
    }
    Ok(o)
}

fn upgrader(rc: &ResourceClient, what: &str) -> mlua::Result<Upgrader> {
    match rc.core.backend.transport() {
        Some(t) => Ok(t.upgrader()),
        None => Err(mlua::Error::runtime(format!(
            "{what}: sessions need a connection (this client is a mock)"
        ))),
    }
}

fn command_list(v: &Value, what: &str) -> mlua::Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec!["sh".into(), "-c".into(), s.to_str()?.to_string()]),
        Value::Table(t) => {
            let mut out = vec![];
            for x in t.sequence_values::<Value>() {
                match x? {
                    Value::String(s) => out.push(s.to_str()?.to_string()),
                    Value::Integer(i) => out.push(i.to_string()),
                    Value::Number(n) => out.push(n.to_string()),
                    other => {
                        return Err(arg_error(
                            what,
                            format!("command items must be strings, got {}", other.type_name()),
                        ))
                    }
                }
            }
            if out.is_empty() {
                return Err(arg_error(what, "command must not be empty"));
            }
            Ok(out)
        }
        other => Err(arg_error(
            what,
            format!(
                "command must be a table of strings or a string, got {}",
                other.type_name()
            ),
        )),
    }
}

fn session_url(
    rc: &ResourceClient,
    verb: &str,
    name: &str,
    sub: &str,
    command: &[String],
    o: &Opts,
) -> mlua::Result<String> {
    let mut q = String::new();
    for c in command {
        add(&mut q, "command", c);
    }
    if let Some(c) = &o.container {
        add(&mut q, "container", c);
    }
    for (k, on) in [
        ("stdin", o.stdin),
        ("stdout", o.stdout),
        ("stderr", o.stderr),
        ("tty", o.tty),
    ] {
        if on {
            add(&mut q, k, "true");
        }
    }
    let base = rc.collection(rc.need_ns(verb)?);
    Ok(format!("{}/{base}/{name}/{sub}{q}", rc.core.server))
}

/// Pod-client methods: `exec`, `exec_session`, `attach`, `portforward`.
pub(crate) fn dispatch(
    lua: &Lua,
    rc: &ResourceClient,
    verb: &str,
    a: Args,
) -> mlua::Result<MultiValue> {
    let what = rc.what(verb);
    let name = crate::args::req_string(&nth(&a, 0), &what, "name")?;
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(arg_error(&what, format!("{name:?} is not a pod name")));
    }
    match verb {
        "exec" | "exec_session" => {
            let command = command_list(&nth(&a, 1), &what)?;
            let interactive = verb == "exec_session";
            let o = parse_opts(&nth(&a, 2), &what, interactive)?;
            let url = session_url(rc, verb, &name, "exec", &command, &o)?;
            let up = upgrader(rc, &what)?;
            let session = Session::start(up, url, o.protocols.clone(), false, what.clone())
                .map_err(mlua::Error::runtime)?;
            if interactive {
                return Iter::new(session).into_for_loop(lua);
            }
            one_shot(lua, rc, session, &o)
        }
        "attach" => {
            let o = parse_opts(&nth(&a, 1), &what, true)?;
            let url = session_url(rc, verb, &name, "attach", &[], &o)?;
            let session = Session::start(
                upgrader(rc, &what)?,
                url,
                o.protocols.clone(),
                false,
                what.clone(),
            )
            .map_err(mlua::Error::runtime)?;
            Iter::new(session).into_for_loop(lua)
        }
        "portforward" => {
            let port = port_arg(&nth(&a, 1), &what, "port", false)?;
            let base = rc.collection(rc.need_ns(verb)?);
            let url = format!("{}/{base}/{name}/portforward?ports={port}", rc.core.server);
            let session = Session::start(
                upgrader(rc, &what)?,
                url,
                vec![PORTFORWARD],
                true,
                what.clone(),
            )
            .map_err(mlua::Error::runtime)?;
            Iter::new(session).into_for_loop(lua)
        }
        "portforward_listen" => {
            let port = port_arg(&nth(&a, 1), &what, "port", false)?;
            let (mut address, mut local_port) = ("127.0.0.1".to_string(), 0u16);
            if let Some(t) = opts_table(&nth(&a, 2), &what)? {
                for pair in t.pairs::<String, Value>() {
                    let (k, v) = pair?;
                    match k.as_str() {
                        "address" => address = crate::args::req_string(&v, &what, "opts.address")?,
                        "local_port" => local_port = port_arg(&v, &what, "opts.local_port", true)?,
                        other => return Err(arg_error(&what, format!("unknown option {other:?}"))),
                    }
                }
            }
            let base = rc.collection(rc.need_ns(verb)?);
            let url = format!("{}/{base}/{name}/portforward?ports={port}", rc.core.server);
            let fw = listen::Forwarder::start(upgrader(rc, &what)?, url, &address, local_port)
                .map_err(|e| mlua::Error::runtime(format!("{what}: {e}")))?;
            lua.create_userdata(fw)?.into_lua_multi(lua)
        }
        "cp_to" | "cp_from" => {
            let first = crate::args::req_string(&nth(&a, 1), &what, "source")?;
            let second = crate::args::req_string(&nth(&a, 2), &what, "destination")?;
            let (local, remote) = if verb == "cp_to" {
                (first, second)
            } else {
                (second, first)
            };
            let (container, timeout, protocols) = cp_opts(&nth(&a, 3), &what)?;
            // cp_to into a directory named with a trailing / keeps the source's name.
            let into_dir = verb == "cp_to" && remote.ends_with('/');
            let (dir, base) = if into_dir {
                let dir = remote.trim_end_matches('/');
                let name = std::path::Path::new(&local)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| arg_error(&what, format!("{local:?} has no file name")))?;
                (if dir.is_empty() { "/" } else { dir }.to_string(), name)
            } else {
                copy::split_remote(&remote).map_err(|e| arg_error(&what, e))?
            };
            let o = Opts {
                container,
                stdin: verb == "cp_to",
                stdout: true,
                stderr: true,
                tty: false,
                protocols,
                input: None,
                timeout: None,
                max_bytes: 0,
            };
            let up = upgrader(rc, &what)?;
            let what = if verb == "cp_to" {
                format!("{what} {local} -> {name}:{remote}")
            } else {
                format!("{what} {name}:{remote} -> {local}")
            };
            let deferred = crate::nonblocking::take_defer(lua);
            let job = if verb == "cp_to" {
                let src = std::path::PathBuf::from(&local);
                if let Err(e) = std::fs::metadata(&src) {
                    return failure(lua, rc.core.panic, format!("{what}: {e}"));
                }
                let command: Vec<String> = ["tar", "-xmf", "-", "-C", &dir]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                let url = session_url(rc, verb, &name, "exec", &command, &o)?;
                copy::Copy::start(
                    copy::copy_to(up, url, o.protocols.clone(), src, base, what.clone()),
                    timeout,
                    what,
                    rc.core.panic,
                )
            } else {
                let command: Vec<String> = ["tar", "cf", "-", "-C", &dir, &format!("./{base}")]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                let url = session_url(rc, verb, &name, "exec", &command, &o)?;
                let dest = std::path::PathBuf::from(&local);
                copy::Copy::start(
                    copy::copy_from(up, url, o.protocols.clone(), base, dest, what.clone()),
                    timeout,
                    what,
                    rc.core.panic,
                )
            };
            let (job, signal, until) = job.map_err(mlua::Error::runtime)?;
            run_job(lua, deferred, signal, until, Box::new(job))
        }
        _ => Err(mlua::Error::runtime(format!("{what}: unknown verb"))),
    }
}

/// A port number argument (0 allowed for a local port: any free one).
fn port_arg(v: &Value, what: &str, arg: &str, zero: bool) -> mlua::Result<u16> {
    let low = if zero { 0 } else { 1 };
    match v {
        Value::Integer(p) if (low..=65535).contains(p) => Ok(*p as u16),
        Value::Number(p) if (low as f64..=65535.0).contains(p) && p.fract() == 0.0 => Ok(*p as u16),
        other => Err(arg_error(
            what,
            format!(
                "{arg} must be a number {low}-65535, got {}",
                match other {
                    Value::Integer(i) => i.to_string(),
                    Value::Number(n) => n.to_string(),
                    o => o.type_name().to_string(),
                }
            ),
        )),
    }
}

/// An options argument: nil or a table.
fn opts_table<'a>(v: &'a Value, what: &str) -> mlua::Result<Option<&'a mlua::Table>> {
    match v {
        Value::Nil => Ok(None),
        Value::Table(t) => Ok(Some(t)),
        other => Err(arg_error(
            what,
            format!("opts must be a table, got {}", other.type_name()),
        )),
    }
}

/// `opts.protocol`: only that one of the exec protocols.
fn protocol_opt(v: &Value, what: &str) -> mlua::Result<Vec<&'static str>> {
    let p = crate::args::req_string(v, what, "opts.protocol")?;
    match p.as_str() {
        V5 => Ok(vec![V5]),
        V4 => Ok(vec![V4]),
        _ => Err(arg_error(
            what,
            format!("opts.protocol: {p:?} is not {V5} or {V4}"),
        )),
    }
}

/// cp options: `container`, `timeout` (seconds), `protocol`.
fn cp_opts(
    v: &Value,
    what: &str,
) -> mlua::Result<(Option<String>, Option<Duration>, Vec<&'static str>)> {
    let (mut container, mut timeout, mut protocols) = (None, None, vec![V5, V4]);
    let Some(t) = opts_table(v, what)? else {
        return Ok((container, timeout, protocols));
    };
    for pair in t.pairs::<String, Value>() {
        let (k, val) = pair?;
        match k.as_str() {
            "container" => container = Some(crate::args::req_string(&val, what, "opts.container")?),
            "timeout" => {
                let s = val
                    .as_f64()
                    .ok_or_else(|| arg_error(what, "opts.timeout must be a number"))?;
                timeout = Some(
                    crate::streaming::seconds(s, "opts.timeout").map_err(|e| arg_error(what, e))?,
                );
            }
            "protocol" => protocols = protocol_opt(&val, what)?,
            other => return Err(arg_error(what, format!("unknown option {other:?}"))),
        }
    }
    Ok((container, timeout, protocols))
}

/// `out, err, code` (or `nil, message` when the session failed; the exit
/// code is nil with the Status message when the command could not run): a
/// pending handle in deferred mode (a host adapter's coroutine,
/// `nonblocking.start`), else waited for here. Both run the same job.
fn one_shot(lua: &Lua, rc: &ResourceClient, s: Session, o: &Opts) -> mlua::Result<MultiValue> {
    let deferred = crate::nonblocking::take_defer(lua);
    // A negative or NaN timeout is 0, a huge one none.
    let until = o
        .timeout
        .and_then(|t| Duration::try_from_secs_f64(t.max(0.0)).ok())
        .and_then(crate::streaming::deadline_after);
    let signal = s.mailbox.signal().clone();
    let mut job = OneShot {
        s,
        until,
        max_bytes: o.max_bytes,
        panic: rc.core.panic,
        out: Vec::new(),
        err: Vec::new(),
        outcome: None,
    };
    if let Some(input) = &o.input {
        let _ = job.s.send(Command::Data(0, Bytes::copy_from_slice(input)));
        let _ = job.s.send(Command::CloseStdin);
    }
    run_job(lua, deferred, signal, until, Box::new(job))
}

/// A job as a pending handle (`deferred`) or waited for on this thread;
/// `until` (the job's own time limit) wakes a loop waiting for the handle.
fn run_job(
    lua: &Lua,
    deferred: bool,
    signal: Arc<Signal>,
    until: Option<Instant>,
    mut job: Box<dyn crate::nonblocking::Job>,
) -> mlua::Result<MultiValue> {
    if deferred {
        if let Some(t) = until {
            signal.notify_at(t);
        }
        let h = crate::nonblocking::Pending::job(signal, job);
        return lua.create_userdata(h)?.into_lua_multi(lua);
    }
    job.poll(None);
    job.finish(lua)
}

/// `nil, message`, raised instead in panic mode (luakube's convention, one
/// home: `returns::unreachable`).
use crate::returns::unreachable as failure;

/// `pods:exec(...)`: the session's output gathered until it ends.
struct OneShot {
    s: Session,
    until: Option<Instant>,
    max_bytes: usize,
    panic: bool,
    out: Vec<u8>,
    err: Vec<u8>,
    /// Set once over: Err(message) when it failed.
    outcome: Option<Result<(), String>>,
}

impl crate::nonblocking::Job for OneShot {
    fn poll(&mut self, deadline: Option<Instant>) -> bool {
        while self.outcome.is_none() {
            let wait_until = match (deadline, self.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match self.s.next_chunk(wait_until) {
                Ok(Some((ch, b))) => {
                    if self.out.len() + self.err.len() + b.len() > self.max_bytes {
                        self.s.close();
                        self.outcome = Some(Err(format!(
                            "{}: the output is larger than opts.max_bytes ({} bytes)",
                            self.s.what, self.max_bytes
                        )));
                    } else if ch == 2 {
                        self.err.extend_from_slice(&b);
                    } else {
                        self.out.extend_from_slice(&b);
                    }
                }
                Ok(None) if self.s.ended => self.outcome = Some(Ok(())),
                Ok(None) => {
                    if self.until.is_some_and(|u| Instant::now() >= u) {
                        self.s.close();
                        self.outcome = Some(Err(format!("{}: timed out", self.s.what)));
                    } else {
                        return false;
                    }
                }
                Err(e) => self.outcome = Some(Err(e)),
            }
        }
        true
    }

    fn finish(mut self: Box<Self>, lua: &Lua) -> mlua::Result<MultiValue> {
        if self.outcome.is_none() {
            self.poll(None);
        }
        if let Some(Err(e)) = self.outcome.take() {
            return failure(lua, self.panic, e);
        }
        let out = lua.create_string(&self.out)?;
        let err = lua.create_string(&self.err)?;
        match &self.s.exit {
            Some(Exit { code: Some(c), .. }) => (out, err, *c).into_lua_multi(lua),
            Some(e) => (out, err, Value::Nil, e.message.clone()).into_lua_multi(lua),
            None => failure(
                lua,
                self.panic,
                format!("{}: the session ended without a status", self.s.what),
            ),
        }
    }

    fn cancel(&mut self) {
        if self.outcome.is_none() {
            self.s.close();
            self.outcome = Some(Err(format!("{}: cancelled", self.s.what)));
        }
    }
}

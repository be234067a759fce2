//! Newline-delimited bodies read as they arrive: watch events (one JSON
//! object per line) and followed pod logs. Chunks from the network are cut
//! into whole lines; a line split across chunks is held until it is complete.

use crate::client::{http_error, Opened, OpeningStream};
use crate::iterator::Step;
use crate::runtime::Signal;
use crate::transport::{Chunk, StreamingResponse};
use mlua::{IntoLuaMulti, Lua, MultiValue};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes received but not yet handed out as lines.
#[derive(Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
    /// Where the unread part of `pending` starts (compacted lazily).
    start: usize,
    /// How many unread bytes are known to hold no newline: a long line that
    /// arrives in many chunks is searched once, not again for every chunk.
    scanned: usize,
}

impl LineBuffer {
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.pending.len() {
            self.pending.clear();
            self.start = 0;
        }
        self.pending.extend_from_slice(data);
    }

    /// The next complete line without its `\n` (and `\r`), if one is buffered.
    pub fn next_line(&mut self) -> Option<Vec<u8>> {
        let rest = &self.pending[self.start..];
        let Some(end) = memchr::memchr(b'\n', &rest[self.scanned..]) else {
            self.scanned = rest.len();
            return None;
        };
        let end = self.scanned + end;
        self.scanned = 0;
        let mut line = rest[..end].to_vec();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.start += end + 1;
        if self.start > 64 * 1024 && self.start * 2 > self.pending.len() {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        Some(line)
    }

    /// What is left after the stream ended: a last line without a newline.
    pub fn take_rest(&mut self) -> Option<Vec<u8>> {
        let rest = self.pending.split_off(self.start);
        self.pending.clear();
        self.start = 0;
        self.scanned = 0;
        (!rest.is_empty()).then_some(rest)
    }
}

/// What reading a line produced.
pub enum Line {
    Text(Vec<u8>),
    End,
    TimedOut,
}

/// A streaming response read line by line.
pub struct LineStream {
    response: StreamingResponse,
    buffer: LineBuffer,
    ended: bool,
}

impl LineStream {
    pub fn new(response: StreamingResponse) -> Self {
        LineStream {
            response,
            buffer: LineBuffer::default(),
            ended: false,
        }
    }

    /// The next line, waiting until `deadline` at the latest (forever when `None`).
    pub fn next_line(&mut self, deadline: Option<Instant>) -> Result<Line, String> {
        loop {
            if let Some(line) = self.buffer.next_line() {
                return Ok(Line::Text(line));
            }
            if self.ended {
                return Ok(match self.buffer.take_rest() {
                    Some(rest) => Line::Text(rest),
                    None => Line::End,
                });
            }
            // A deadline already passed still takes what has arrived.
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.response.next_chunk(wait)? {
                Chunk::Data(data) => self.buffer.push(&data),
                Chunk::End => self.ended = true,
                Chunk::TimedOut => return Ok(Line::TimedOut),
            }
        }
    }

    pub fn close(&mut self) {
        self.response.close();
        self.ended = true;
    }
}

/// Seconds from Lua (`timeout = 2.5`) as a duration; negative or NaN is an error.
pub fn seconds(value: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("{what} must be a non-negative number of seconds, got {value}"))
}

/// `pods:follow_logs(name, query?, opts?)`: log lines as the server sends them.
pub struct FollowLines {
    pub stream: Option<LineStream>,
    /// The request, while its answer has not come (non-blocking start).
    pub opening: Option<OpeningStream>,
    pub deadline: Option<Instant>,
    pub signal: Arc<Signal>,
}

impl FollowLines {
    /// Takes the answer to the request once it came by `until`; raises a
    /// failed one as the blocking start does.
    pub fn opened(&mut self, until: Option<Instant>) -> mlua::Result<bool> {
        let Some(opening) = self.opening.as_mut() else {
            return Ok(true);
        };
        let Some(opened) = opening.wait(until) else {
            return Ok(false);
        };
        self.opening = None;
        match opened {
            Opened::Stream(s) => self.stream = Some(s),
            Opened::Mock => {}
            Opened::Failed { code, message, .. } => return Err(http_error(code, &message)),
            Opened::Unreachable(m) => return Err(mlua::Error::runtime(m)),
        }
        Ok(true)
    }
}

impl Step for FollowLines {
    const NAME: &'static str = "kube.LogLines";

    fn step(&mut self, lua: &Lua) -> mlua::Result<MultiValue> {
        self.next_until(lua, None)
    }

    fn next_until(&mut self, lua: &Lua, until: Option<Instant>) -> mlua::Result<MultiValue> {
        let wait_until = match (self.deadline, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if !self.opened(wait_until)? {
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                self.close();
            }
            return Ok(MultiValue::new());
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(MultiValue::new());
        };
        match stream.next_line(wait_until).map_err(mlua::Error::runtime)? {
            Line::Text(line) => lua.create_string(&line)?.into_lua_multi(lua),
            Line::TimedOut if self.deadline.is_none_or(|d| Instant::now() < d) => {
                Ok(MultiValue::new())
            }
            Line::End | Line::TimedOut => {
                self.close();
                Ok(MultiValue::new())
            }
        }
    }

    fn finished(&self) -> bool {
        self.stream.is_none() && self.opening.is_none()
    }

    fn signal(&self) -> Option<Arc<Signal>> {
        Some(self.signal.clone())
    }

    fn close(&mut self) {
        self.opening = None;
        if let Some(mut s) = self.stream.take() {
            s.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buf: &mut LineBuffer) -> Vec<String> {
        std::iter::from_fn(|| buf.next_line())
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let mut buf = LineBuffer::default();
        buf.push(b"{\"type\":\"ADD");
        assert!(lines(&mut buf).is_empty());
        buf.push(b"ED\"}\n{\"type\":\"DELETED\"}\r\n{\"ty");
        assert_eq!(
            lines(&mut buf),
            vec!["{\"type\":\"ADDED\"}", "{\"type\":\"DELETED\"}"]
        );
        buf.push(b"pe\":\"BOOKMARK\"}");
        assert!(lines(&mut buf).is_empty());
        assert_eq!(buf.take_rest().unwrap(), b"{\"type\":\"BOOKMARK\"}");
        assert!(buf.take_rest().is_none());
    }

    /// Found by the line_framer fuzz target: a line arriving in many chunks
    /// was searched from its start again for each chunk (quadratic: a 10 MB
    /// object in 16 KB chunks meant gigabytes scanned).
    #[test]
    fn a_long_line_in_many_chunks_is_searched_once() {
        let mut buf = LineBuffer::default();
        for _ in 0..1000 {
            buf.push(&[b'x'; 64]);
            assert!(buf.next_line().is_none());
            assert_eq!(
                buf.scanned,
                buf.pending.len() - buf.start,
                "searched up to the end"
            );
        }
        buf.push(b"y\nz");
        assert_eq!(buf.next_line().unwrap().len(), 64_001);
        assert_eq!(buf.scanned, 0);
        assert!(buf.next_line().is_none());
        assert_eq!(buf.take_rest().unwrap(), b"z");
    }

    #[test]
    fn empty_lines_are_kept_and_long_streams_compact() {
        let mut buf = LineBuffer::default();
        buf.push(b"a\n\nb\n");
        assert_eq!(lines(&mut buf), vec!["a", "", "b"]);
        let line = vec![b'x'; 1000];
        for _ in 0..500 {
            buf.push(&line);
            buf.push(b"\n");
            assert_eq!(buf.next_line().unwrap().len(), 1000);
        }
        assert!(
            buf.pending.len() < 200 * 1024,
            "buffer kept {} bytes",
            buf.pending.len()
        );
    }

    #[test]
    fn seconds_rejects_negative_values() {
        assert_eq!(
            seconds(1.5, "timeout").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(seconds(-1.0, "timeout").unwrap_err().contains("timeout"));
    }
}

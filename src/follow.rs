//! `pods:follow_logs(name, query?, opts?)`: a followed log read line by line
//! as the server sends it, as a generic-for iterator (and non-blocking
//! handle, see `iterator`).

use crate::call::{Opened, OpeningStream};
use crate::iterator::Step;
use crate::runtime::Signal;
use crate::transport::lines::{Line, LineStream};
use mlua::{IntoLuaMulti, Lua, MultiValue};
use std::sync::Arc;
use std::time::Instant;

/// `pods:follow_logs(name, query?, opts?)`: log lines as the server sends them.
pub(crate) struct FollowLines {
    pub(crate) stream: Option<LineStream>,
    /// The request, while its answer has not come (non-blocking start).
    pub(crate) opening: Option<OpeningStream>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) signal: Arc<Signal>,
    /// The line last read (one buffer for all).
    pub(crate) line: Vec<u8>,
}

impl FollowLines {
    /// Takes the answer to the request once it came by `until`; raises a
    /// failed one as the blocking start does.
    pub(crate) fn opened(&mut self, until: Option<Instant>) -> mlua::Result<bool> {
        let Some(opening) = self.opening.as_mut() else {
            return Ok(true);
        };
        let Some(opened) = opening.wait(until) else {
            return Ok(false);
        };
        self.opening = None;
        match opened {
            Opened::Stream(s) => self.stream = Some(*s),
            Opened::Mock => {}
            Opened::Failed(failure) => return Err(failure.into_error()),
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
        // Checked before every line, not only while waiting: under a flood
        // the next line is always there already, and the loop never ended.
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.close();
            return Ok(MultiValue::new());
        }
        match stream
            .next_line(wait_until, &mut self.line)
            .map_err(mlua::Error::runtime)?
        {
            Line::Text | Line::Last => lua.create_string(&self.line)?.into_lua_multi(lua),
            Line::TooLong(m) => {
                self.close();
                Err(mlua::Error::runtime(format!("follow_logs: {m}")))
            }
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

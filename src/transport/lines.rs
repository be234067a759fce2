//! A streaming response read line by line: watch events (one JSON object
//! per line) and followed pod logs, framed by `streaming::LineBuffer`.

use super::{Chunk, StreamingResponse};
use crate::streaming::LineBuffer;
use std::time::Instant;

/// What reading a line produced.
pub(crate) enum Line {
    /// A complete line (ended by a newline), in the caller's buffer.
    Text,
    /// What was left without a newline when the stream ended (in the
    /// caller's buffer): cut off when the server dropped the connection
    /// mid-line.
    Last,
    End,
    TimedOut,
    /// A line grew past `limits.line` without ending (the stream is closed).
    TooLong(String),
}

/// A streaming response read line by line.
pub(crate) struct LineStream {
    response: StreamingResponse,
    buffer: LineBuffer,
    ended: bool,
}

impl LineStream {
    pub(crate) fn new(response: StreamingResponse) -> Self {
        LineStream {
            response,
            buffer: LineBuffer::default(),
            ended: false,
        }
    }

    /// The next line into `out` (reused by the caller: no allocation per
    /// line), waiting until `deadline` at the latest (forever when `None`).
    pub(crate) fn next_line(
        &mut self,
        deadline: Option<Instant>,
        out: &mut Vec<u8>,
    ) -> Result<Line, String> {
        loop {
            if self.buffer.next_line_into(out) {
                return Ok(Line::Text);
            }
            if self.ended {
                return Ok(match self.buffer.take_rest() {
                    Some(rest) => {
                        *out = rest;
                        Line::Last
                    }
                    None => Line::End,
                });
            }
            let limit = self.response.limits.line;
            if self.buffer.incomplete() > limit {
                self.close();
                self.buffer = LineBuffer::default();
                return Ok(Line::TooLong(crate::limits::too_large(
                    "a line of the stream",
                    limit,
                )));
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

    pub(crate) fn close(&mut self) {
        self.response.close();
        self.ended = true;
    }
}

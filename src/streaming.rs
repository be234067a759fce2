//! Newline-delimited bodies read as they arrive: watch events (one JSON
//! object per line) and followed pod logs. Chunks from the network are cut
//! into whole lines; a line split across chunks is held until it is complete.

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
        let mut line = Vec::new();
        self.next_line_into(&mut line).then_some(line)
    }

    /// As `next_line`, into `out` (cleared first; false and `out` empty when no
    /// line is complete). A watch reuses one `out`: a fresh allocation per
    /// event line of several KB made glibc consolidate the Lua heap's small
    /// free chunks at every event (`malloc_consolidate`, ~10 % of a pod watch).
    pub fn next_line_into(&mut self, out: &mut Vec<u8>) -> bool {
        out.clear();
        let rest = &self.pending[self.start..];
        let Some(end) = memchr::memchr(b'\n', &rest[self.scanned..]) else {
            self.scanned = rest.len();
            return false;
        };
        let end = self.scanned + end;
        self.scanned = 0;
        let line = &rest[..end];
        out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        self.start += end + 1;
        if self.start > 64 * 1024 && self.start * 2 > self.pending.len() {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        true
    }

    /// Bytes of the line not yet complete (after `next_line` found none).
    pub(crate) fn incomplete(&self) -> usize {
        self.pending.len() - self.start
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

/// Takes a successful answer's body as it arrives, so decoding overlaps the
/// transfer (see `list_decoder`).
pub(crate) trait BodySink {
    /// A new attempt begins: forget what earlier ones fed.
    fn restart(&mut self);
    fn feed(&mut self, chunk: &[u8]);
    /// Something for the caller before the rest is fed (a list's continue
    /// token): the pump stops and hands control back.
    fn has_news(&self) -> bool {
        false
    }
}

/// Seconds from Lua (`timeout = 2.5`) as a duration; negative or NaN is an
/// error, and anything beyond what a `Duration` holds (1e19, infinity) is the
/// longest one: no arithmetic on it may overflow later (see `deadline_after`).
pub(crate) fn seconds(value: f64, what: &str) -> Result<Duration, String> {
    if value.is_nan() || value < 0.0 {
        return Err(format!(
            "{what} must be a non-negative number of seconds, got {value}"
        ));
    }
    Ok(Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX))
}

/// The instant `d` from now; `None` (no deadline) when that is beyond what
/// the clock can represent.
pub(crate) fn deadline_after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
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
        assert!(seconds(f64::NAN, "timeout").is_err());
    }

    /// Defect 16 of issue 16: 1e19 s passed the check and then overflowed
    /// `Instant + Duration` (a panic with a backtrace on stderr).
    #[test]
    fn huge_durations_saturate_instead_of_overflowing() {
        for v in [1e19, 1.8e19, 1e300, f64::INFINITY] {
            let d = seconds(v, "timeout").unwrap();
            assert!(deadline_after(d).is_none(), "{v}");
        }
        assert!(deadline_after(seconds(5.0, "t").unwrap()).is_some());
    }
}

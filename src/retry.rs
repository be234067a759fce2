//! When and how long to wait before trying a request again: exponential
//! backoff with jitter on 429/503/504 and dropped connections, Retry-After
//! honoured, capped in tries and in total time.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Retry settings (`conf:set_retries{...}` from Lua).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RetryPolicy {
    /// Tries in all, the first one included (1 = never retry).
    pub(crate) max_tries: u32,
    /// The wait before the first retry; doubled for each further one.
    pub(crate) base: Duration,
    /// No single wait computed by backoff is longer than this.
    pub(crate) max_delay: Duration,
    /// No retry starts after this much time since the first try.
    pub(crate) budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 5,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(30),
        }
    }
}

/// Statuses that say "try again later": too many requests, unavailable, gateway timeout.
pub(crate) fn retriable_status(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// Methods that may be repeated without changing the outcome.
pub(crate) fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS")
}

/// Retry-After in seconds (the form API servers send); HTTP dates are ignored.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1-based), for a uniform
    /// random `unit` in [0, 1): half of it fixed, half jitter, so clients
    /// that failed together do not come back together.
    pub(crate) fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let factor = 2f64.powi(retry.saturating_sub(1).min(30) as i32);
        let full = (self.base.as_secs_f64() * factor).min(self.max_delay.as_secs_f64());
        Duration::from_secs_f64(full * (0.5 + 0.5 * unit.clamp(0.0, 1.0)))
    }

    /// The wait before the next try after `tries` tries and `elapsed` time,
    /// or `None` when the tries or the time budget are used up.
    pub(crate) fn next_delay(
        &self,
        tries: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Option<Duration> {
        if tries >= self.max_tries {
            return None;
        }
        let wait = retry_after.unwrap_or_else(|| self.backoff(tries, unit));
        (elapsed + wait <= self.budget).then_some(wait)
    }
}

/// A uniform random number in [0, 1) for jitter (std's randomly keyed hasher).
pub(crate) fn jitter_unit() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether a failed send lost its connection in a way worth retrying
/// (reset, aborted, closed before the answer) rather than being refused or timing out.
pub(crate) fn connection_dropped(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return true;
            }
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_canceled() {
                return true;
            }
        }
        // HTTP/2: the server reset the request's stream or went away (the
        // connection-level drops of HTTP/1.1 become these).
        if let Some(h) = err.downcast_ref::<h2::Error>() {
            if h.reason().is_some() || h.is_io() {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(250));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(p.backoff(3, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(3, 0.5), Duration::from_millis(1500));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(8));
        assert_eq!(p.backoff(100, 0.0), Duration::from_secs(4));
        for _ in 0..100 {
            let u = jitter_unit();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }

    #[test]
    fn stops_at_max_tries_and_budget() {
        let p = RetryPolicy::default();
        let zero = Duration::ZERO;
        assert_eq!(
            p.next_delay(1, zero, None, 1.0),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            p.next_delay(4, zero, None, 1.0),
            Some(Duration::from_secs(4))
        );
        assert_eq!(p.next_delay(5, zero, None, 1.0), None);
        let ra = Some(Duration::from_secs(3));
        assert_eq!(p.next_delay(1, zero, ra, 0.0), ra);
        assert_eq!(p.next_delay(1, Duration::from_secs(28), ra, 0.0), None);
        assert_eq!(p.next_delay(1, Duration::from_secs(27), ra, 0.0), ra);
        let once = RetryPolicy { max_tries: 1, ..p };
        assert_eq!(once.next_delay(1, zero, None, 0.0), None);
    }

    #[test]
    fn classifies_statuses_methods_and_headers() {
        assert!(retriable_status(429) && retriable_status(503) && retriable_status(504));
        assert!(!retriable_status(500) && !retriable_status(502) && !retriable_status(404));
        assert!(
            idempotent("GET") && idempotent("PUT") && idempotent("DELETE") && idempotent("HEAD")
        );
        assert!(!idempotent("POST") && !idempotent("PATCH"));
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn recognises_dropped_connections() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        assert!(connection_dropped(&reset));
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(!connection_dropped(&refused));
        let stream_reset = h2::Error::from(h2::Reason::INTERNAL_ERROR);
        assert!(connection_dropped(&stream_reset));
    }
}

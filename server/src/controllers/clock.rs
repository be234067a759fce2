//! The simulated clock: wall time plus an offset tests can grow, and the
//! speed factor on simulated durations. `POST /testserver/clock` changes both.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use tokio::sync::Notify;

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);
/// f64 bits of the speed factor (1.0 by default).
static SPEED: AtomicU64 = AtomicU64::new(0x3FF0_0000_0000_0000);
/// Wakes the runner when the clock or the speed changed.
pub static CHANGED: Notify = Notify::const_new();

/// Milliseconds since the epoch on the simulated clock.
pub fn now_ms() -> u64 {
    let wall = (crate::store::unix_now() * 1000.0) as i64;
    (wall + OFFSET_MS.load(Ordering::Relaxed)).max(0) as u64
}

pub fn now_secs() -> f64 {
    now_ms() as f64 / 1000.0
}

pub fn speed() -> f64 {
    f64::from_bits(SPEED.load(Ordering::Relaxed))
}

pub fn set_speed(s: f64) -> Result<(), String> {
    if !s.is_finite() || s < 0.0 {
        return Err(format!("speed must be a number >= 0, not {s}"));
    }
    SPEED.store(s.to_bits(), Ordering::Relaxed);
    CHANGED.notify_one();
    Ok(())
}

/// A simulated duration (seconds) scaled by the speed, in milliseconds.
pub fn scaled_ms(secs: f64) -> u64 {
    (secs.max(0.0) * 1000.0 * speed()) as u64
}

/// The clock as the admin endpoint shows it.
pub fn describe() -> Value {
    let now = now_secs();
    json!({
        "now": crate::store::rfc3339_nanos(now),
        "offsetSeconds": OFFSET_MS.load(Ordering::Relaxed) as f64 / 1000.0,
        "speed": speed(),
    })
}

/// `{"advanceSeconds": N}` moves the clock forward, `{"speed": F}` sets the
/// factor on simulated durations.
pub fn configure(body: &[u8]) -> Result<Value, String> {
    let v: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| format!("clock: {e}"))?
    };
    if !v.is_object() {
        return Err("clock: the body must be an object".into());
    }
    for k in v.as_object().into_iter().flatten().map(|(k, _)| k) {
        if k != "advanceSeconds" && k != "speed" {
            return Err(format!(
                "clock: unknown field {k:?} (advanceSeconds, speed)"
            ));
        }
    }
    if let Some(s) = v.get("speed") {
        set_speed(s.as_f64().ok_or("clock: speed must be a number")?)?;
    }
    if let Some(a) = v.get("advanceSeconds") {
        let secs = a.as_f64().ok_or("clock: advanceSeconds must be a number")?;
        if !(0.0..=1e9).contains(&secs) {
            return Err("clock: advanceSeconds must be between 0 and 1e9".into());
        }
        OFFSET_MS.fetch_add((secs * 1000.0) as i64, Ordering::Relaxed);
        CHANGED.notify_one();
    }
    Ok(describe())
}

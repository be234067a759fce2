//! Fault injection for reliability tests, switched at run time:
//! `POST /testserver/faults` adds a rule, `DELETE /testserver/faults` clears
//! them all, `GET` lists them. A rule applies to the next `count` requests
//! whose path contains `match` (every request when unset), never to
//! `/testserver/` itself.

use crate::reply::{json_reply, Reply};
use crate::store::ApiError;
use serde_json::{json, Value};
use std::sync::Mutex;

/// What happens to a response on the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Headers with the full Content-Length, half the body, then the connection closes.
    DropMidBody,
    /// Half the body, sent as a complete response.
    TruncateJson,
    /// Headers, then no body at all.
    Stall,
    /// The connection is reset (RST) without an answer.
    Reset,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "drop-mid-body" => Mode::DropMidBody,
            "truncate-json" => Mode::TruncateJson,
            "stall" => Mode::Stall,
            "reset" => Mode::Reset,
            _ => return None,
        })
    }
}

/// One request's fault.
#[derive(Clone, Debug)]
pub struct Fault {
    pub latency_ms: u64,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub mode: Option<Mode>,
}

struct Rule {
    fault: Fault,
    path_contains: String,
    remaining: Option<u64>,
    spec: Value,
}

#[derive(Default)]
pub struct Faults(Mutex<Vec<Rule>>);

fn parse_rule(v: &Value) -> Result<Rule, ApiError> {
    let uint = |k: &str| -> Result<Option<u64>, ApiError> {
        match &v[k] {
            Value::Null => Ok(None),
            n => n.as_u64().map(Some).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "fault {k}: expected a non-negative integer, got {n}"
                ))
            }),
        }
    };
    let status = match uint("status")? {
        Some(s) if !(400..=599).contains(&s) => {
            return Err(ApiError::bad_request(format!(
                "fault status: {s} is not an HTTP error code (400-599)"
            )))
        }
        s => s.map(|s| s as u16),
    };
    let mode = match v["mode"].as_str() {
        None => None,
        Some(m) => Some(Mode::parse(m).ok_or_else(|| {
            ApiError::bad_request(format!(
                "fault mode {m:?}: expected drop-mid-body, truncate-json, stall or reset"
            ))
        })?),
    };
    Ok(Rule {
        fault: Fault {
            latency_ms: uint("latencyMs")?.unwrap_or(0),
            status,
            retry_after: uint("retryAfter")?,
            mode,
        },
        path_contains: v["match"].as_str().unwrap_or("").to_string(),
        remaining: uint("count")?,
        spec: v.clone(),
    })
}

impl Faults {
    /// The control endpoint.
    pub fn configure(&self, method: &str, body: &[u8]) -> Result<Reply, ApiError> {
        let mut rules = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match method {
            "POST" => {
                let v: Value = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("fault rule: invalid JSON: {e}")))?;
                rules.push(parse_rule(&v)?);
            }
            "DELETE" => rules.clear(),
            "GET" => {}
            _ => return Err(ApiError::method_not_allowed()),
        }
        let active: Vec<Value> = rules.iter().map(|r| r.spec.clone()).collect();
        Ok(json_reply(200, &json!({"faults": active})))
    }

    /// The fault for a request to `path`, if a rule matches (using one of its count).
    pub fn take(&self, path: &str) -> Option<Fault> {
        if path.starts_with("/testserver/") {
            return None;
        }
        let mut rules = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let i = rules.iter().position(|r| path.contains(&r.path_contains))?;
        let fault = rules[i].fault.clone();
        if let Some(n) = rules[i].remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                rules.remove(i);
            }
        }
        Some(fault)
    }
}

/// The Status a fault's HTTP code answers with, as the real server words it.
pub fn status_body(code: u16, retry_after: Option<u64>) -> Value {
    let (reason, message) = match code {
        429 => ("TooManyRequests", "Too many requests, please try again later.".to_string()),
        500 => ("InternalError", "an error on the server (\"\") has prevented the request from succeeding".to_string()),
        503 => ("ServiceUnavailable", "the server is currently unable to handle the request".to_string()),
        504 => ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request".to_string()),
        c => ("Unknown", format!("the server responded with the status code {c} but did not return more information")),
    };
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    if let Some(r) = retry_after {
        s["details"] = json!({"retryAfterSeconds": r});
    }
    s
}

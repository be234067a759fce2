//! The object store: one global resourceVersion counter, objects by
//! (group, resource, namespace, name), container logs, and the bounded
//! history of change events that watches and continue tokens read from.

use crate::resources::ResourceInfo;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// (group, plural, namespace, name): one key for every version of a resource.
pub type Key = (String, String, String, String);

/// How many change events are kept for watches from a resourceVersion.
pub const DEFAULT_HISTORY: usize = 1000;

/// One change, as watchers see it. `previous` lets a selector-filtered watch
/// turn a MODIFIED into ADDED or DELETED when an object enters or leaves it.
pub struct ChangeEvent {
    pub rv: u64,
    pub kind: &'static str,
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub object: Value,
    pub previous: Option<Value>,
}

/// A container log line and when it was written (Unix seconds).
#[derive(Clone)]
pub struct LogLine {
    pub time: f64,
    pub text: String,
}

pub struct Store {
    pub rv: u64,
    pub objects: BTreeMap<Key, Value>,
    pub logs: HashMap<(String, String, String), Vec<LogLine>>,
    uid_counter: u64,
    history: VecDeque<Arc<ChangeEvent>>,
    history_limit: usize,
    /// Changes at or below this resourceVersion are no longer in the history.
    pub compacted_rv: u64,
    changes: broadcast::Sender<Arc<ChangeEvent>>,
    /// The simulated cluster's controllers: every change, none dropped.
    observer: Option<tokio::sync::mpsc::UnboundedSender<Arc<ChangeEvent>>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(DEFAULT_HISTORY)
    }
}

/// An API error: HTTP code, reason and message, rendered as a Status.
#[derive(Debug)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
    /// For 410 on an expired continue token: a token to go on inconsistently.
    pub list_continue: Option<String>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: Value::Null,
            list_continue: None,
        }
    }
    /// 400 BadRequest with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }
    /// 405, worded as the real server words it.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }
    pub fn not_found(res: &ResourceInfo, name: &str) -> Self {
        let mut e = Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(res)),
        );
        e.details = details(res, name);
        e
    }
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": self.message, "reason": self.reason,
        });
        if !self.details.is_null() {
            s["details"] = self.details.clone();
        }
        if let Some(c) = &self.list_continue {
            s["metadata"]["continue"] = json!(c);
        }
        s["code"] = json!(self.code);
        s
    }
}

/// `pods` or `deployments.apps`, as the real server words its messages.
pub fn qualified(res: &ResourceInfo) -> String {
    if res.group.is_empty() {
        res.plural.to_string()
    } else {
        format!("{}.{}", res.plural, res.group)
    }
}

pub fn details(res: &ResourceInfo, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": res.plural});
    if !res.group.is_empty() {
        d["group"] = json!(res.group);
    }
    d
}

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub fn now_rfc3339() -> String {
    rfc3339(unix_now().floor() as u64)
}

/// The time `secs` seconds from now.
pub fn rfc3339_after(secs: i64) -> String {
    rfc3339((unix_now().floor() as i64 + secs).max(0) as u64)
}

/// `2024-09-18T14:06:40.123456789Z`, as kubelet timestamps log lines.
pub fn rfc3339_nanos(t: f64) -> String {
    let secs = t.floor() as u64;
    let nanos = ((t - t.floor()) * 1e9) as u64;
    let s = rfc3339(secs);
    format!("{}.{nanos:09}Z", s.trim_end_matches('Z'))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)` into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = s.get(19..)?;
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        frac = format!("0.{}", &r[..end]).parse().ok()?;
        rest = &r[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let part = |r: std::ops::Range<usize>| o.get(r)?.parse::<i64>().ok();
            sign * (part(1..3)? * 3600 + part(4..6)? * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Some((days * 86400 + h * 3600 + mi * 60 + se - offset) as f64 + frac)
}

pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// Howard Hinnant's civil-to-days algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

// Howard Hinnant's days-to-civil algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Store {
    pub fn new(history_limit: usize) -> Self {
        // The channel holds as many events as the history: a watcher further
        // behind than that has lost events and is told so (410 Expired).
        let (changes, _) = broadcast::channel(history_limit.max(16));
        Store {
            rv: 0,
            objects: BTreeMap::new(),
            logs: HashMap::new(),
            uid_counter: 0,
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted_rv: 0,
            changes,
            observer: None,
        }
    }

    /// The stored objects and counters, as `--data` keeps them across a
    /// restart (what etcd keeps for a real API server).
    pub fn snapshot(&self) -> Value {
        let objects: Vec<Value> = self
            .objects
            .iter()
            .map(|((g, p, ns, n), obj)| json!([g, p, ns, n, obj]))
            .collect();
        json!({"resourceVersion": self.rv, "uidCounter": self.uid_counter, "objects": objects})
    }

    /// Loads a snapshot. The change history starts empty: a watch from before
    /// the restart gets 410 Expired and lists again, as clients do.
    pub fn restore(&mut self, snap: &Value) -> Result<(), String> {
        let rv = snap["resourceVersion"]
            .as_u64()
            .ok_or("no resourceVersion in the snapshot")?;
        for entry in snap["objects"].as_array().into_iter().flatten() {
            let part = |i: usize| {
                entry[i]
                    .as_str()
                    .map(String::from)
                    .ok_or("a malformed object entry")
            };
            let key = (part(0)?, part(1)?, part(2)?, part(3)?);
            self.objects.insert(key, entry[4].clone());
        }
        self.rv = rv;
        self.uid_counter = snap["uidCounter"].as_u64().unwrap_or(0);
        self.compacted_rv = rv;
        Ok(())
    }

    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    pub fn new_uid(&mut self) -> String {
        self.uid_counter += 1;
        let n = self.uid_counter;
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (t >> 32) as u32,
            (t >> 16) as u16,
            n & 0xfff,
            (t & 0xfff),
            n
        )
    }

    pub fn key(res: &ResourceInfo, ns: &str, name: &str) -> Key {
        (
            res.group.to_string(),
            res.plural.to_string(),
            ns.to_string(),
            name.to_string(),
        )
    }

    /// The stored objects of a resource (in one namespace or all), in key order.
    pub fn list(&self, res: &ResourceInfo, ns: Option<&str>) -> Vec<(&Key, &Value)> {
        let from = (
            res.group.to_string(),
            res.plural.to_string(),
            ns.unwrap_or("").to_string(),
            String::new(),
        );
        self.objects
            .range(from..)
            .take_while(|((g, p, n, _), _)| {
                g == res.group && p == res.plural && ns.is_none_or(|ns| ns == n)
            })
            .collect()
    }

    /// Sets server-owned metadata on a new object (its resourceVersion is set
    /// when it is stored).
    pub fn stamp_new(&mut self, res: &ResourceInfo, obj: &mut Value, ns: &str) {
        let uid = self.new_uid();
        let meta = obj
            .as_object_mut()
            .expect("object")
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if res.namespaced {
            meta["namespace"] = json!(ns);
        }
        meta["uid"] = json!(uid);
        meta["creationTimestamp"] = json!(now_rfc3339());
    }

    /// Stores an object under a new resourceVersion and tells watchers.
    pub fn put(&mut self, res: &ResourceInfo, obj: &mut Value) {
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
        let name = obj["metadata"]["name"].as_str().unwrap_or("");
        let key = Store::key(res, if res.namespaced { ns } else { "" }, name);
        let previous = self.objects.insert(key, obj.clone());
        let kind = if previous.is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.record(rv, kind, res, obj.clone(), previous);
    }

    /// Removes an object; the DELETED event carries the deletion's resourceVersion.
    pub fn remove(&mut self, res: &ResourceInfo, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self.objects.remove(&Store::key(res, ns, name))?;
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        if res.plural == "pods" && res.group.is_empty() {
            self.logs.retain(|(n, p, _), _| !(n == ns && p == name));
        }
        self.record(rv, "DELETED", res, obj.clone(), None);
        Some(obj)
    }

    fn record(
        &mut self,
        rv: u64,
        kind: &'static str,
        res: &ResourceInfo,
        object: Value,
        previous: Option<Value>,
    ) {
        let ev = Arc::new(ChangeEvent {
            rv,
            kind,
            group: res.group.to_string(),
            plural: res.plural.to_string(),
            namespace: object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            object,
            previous,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
        if let Some(o) = &self.observer {
            let _ = o.send(ev.clone());
        }
        // No receivers is fine: nobody is watching.
        let _ = self.changes.send(ev);
    }

    /// Drops the whole history, as an etcd compaction at the current revision.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }

    /// The changes after `rv`, or None when some of them were compacted away.
    pub fn changes_since(&self, rv: u64) -> Option<Vec<Arc<ChangeEvent>>> {
        if rv < self.compacted_rv {
            return None;
        }
        Some(self.history.iter().filter(|e| e.rv > rv).cloned().collect())
    }

    /// Every change from now on, for the controllers (unbounded: they must
    /// not miss one; they keep up with the writers).
    pub fn observe(&mut self) -> tokio::sync::mpsc::UnboundedReceiver<Arc<ChangeEvent>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.observer = Some(tx);
        rx
    }

    /// A receiver of every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_and_garbage() {
        let t = 1_726_668_400.25;
        assert_eq!(Some(t), parse_rfc3339(&rfc3339_nanos(t)));
        assert_eq!(
            Some(1_726_668_400.0),
            parse_rfc3339("2024-09-18T16:06:40+02:00")
        );
        for bad in [
            "",
            "2024-09-18",
            "2024-09-18T14:06:4é0Z",
            "2024-09-18T14:06:40+0é:00",
        ] {
            assert_eq!(None, parse_rfc3339(bad), "{bad}");
        }
    }
}

//! Test control for benchmarking watch clients: `POST /testserver/firehose`
//! with `{"match": "<path substring>", "count": N}` makes the next watch
//! request whose path contains `match` receive, after its initial events, N
//! synthetic MODIFIED events of the first object it watches, and then its
//! stream ends; `DELETE` clears the rules, `GET` lists them. Each rule serves
//! one watch.
//!
//! The events are generated on the fly and never stored: each is the object
//! with `metadata.resourceVersion` counting up from the store's current one
//! and the annotation `kube-testserver/firehose-seq` carrying its sequence
//! number (1..=N). They are produced only as fast as the client reads (the
//! stream's queue is short), so N can be far larger than memory would hold.

use crate::reply::{json_reply, Reply};
use crate::store::ApiError;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Mutex;
use tokio::sync::mpsc;

/// The annotation that makes each synthetic event differ.
pub const SEQUENCE_ANNOTATION: &str = "kube-testserver/firehose-seq";

/// Events are sent in chunks of about this size: per-chunk costs (channel,
/// HTTP chunk framing, TLS record) would otherwise dominate small events.
const CHUNK_BYTES: usize = 64 * 1024;

/// Stand-ins spliced out of the serialized event (plain ASCII, so JSON
/// leaves them as they are).
const RV_HOLE: &str = "@@kube-testserver-firehose-rv@@";
const SEQ_HOLE: &str = "@@kube-testserver-firehose-seq@@";

struct Rule {
    path_contains: String,
    count: u64,
}

#[derive(Default)]
pub struct Firehose(Mutex<Vec<Rule>>);

impl Firehose {
    /// The control endpoint.
    pub fn configure(&self, method: &str, body: &[u8]) -> Result<Reply, ApiError> {
        let mut rules = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match method {
            "POST" => {
                let v: Value = serde_json::from_slice(body).map_err(|e| {
                    ApiError::bad_request(format!("firehose rule: invalid JSON: {e}"))
                })?;
                let count = v["count"].as_u64().ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "firehose count: expected a non-negative integer, got {}",
                        v["count"]
                    ))
                })?;
                let path_contains = match &v["match"] {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "firehose match: expected a string, got {other}"
                        )))
                    }
                };
                rules.push(Rule {
                    path_contains,
                    count,
                });
            }
            "DELETE" => rules.clear(),
            "GET" => {}
            _ => return Err(ApiError::method_not_allowed()),
        }
        let active: Vec<Value> = rules
            .iter()
            .map(|r| json!({"match": r.path_contains, "count": r.count}))
            .collect();
        Ok(json_reply(200, &json!({"firehose": active})))
    }

    /// The event count for a watch of `path`, if a rule matches (using it up).
    pub fn take(&self, path: &str) -> Option<u64> {
        let mut rules = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let i = rules.iter().position(|r| path.contains(&r.path_contains))?;
        Some(rules.remove(i).count)
    }
}

/// The synthetic events of one watch: the serialized event line cut at the
/// resourceVersion and sequence number, so each event is a few copies.
pub struct Events {
    /// Text around the holes, in order; `holes[i]` follows `pieces[i]`.
    pieces: Vec<Vec<u8>>,
    holes: Vec<Hole>,
    first_rv: u64,
    count: u64,
}

#[derive(Clone, Copy)]
enum Hole {
    ResourceVersion,
    Sequence,
}

impl Events {
    /// Events of `object` (already carrying kind and apiVersion) with
    /// resourceVersions `current_rv + 1 ..= current_rv + count`.
    pub fn new(mut object: Value, current_rv: u64, count: u64) -> Events {
        if !object["metadata"].is_object() {
            object["metadata"] = json!({});
        }
        let meta = &mut object["metadata"];
        meta["resourceVersion"] = json!(RV_HOLE);
        if !meta["annotations"].is_object() {
            meta["annotations"] = json!({});
        }
        meta["annotations"][SEQUENCE_ANNOTATION] = json!(SEQ_HOLE);
        let mut text =
            serde_json::to_vec(&json!({"type": "MODIFIED", "object": object})).unwrap_or_default();
        text.push(b'\n');

        let mut found: Vec<(usize, Hole, usize)> =
            [(RV_HOLE, Hole::ResourceVersion), (SEQ_HOLE, Hole::Sequence)]
                .iter()
                .filter_map(|(mark, hole)| {
                    find(&text, mark.as_bytes()).map(|at| (at, *hole, mark.len()))
                })
                .collect();
        found.sort_by_key(|f| f.0);
        let mut pieces = vec![];
        let mut holes = vec![];
        let mut from = 0;
        for (at, hole, len) in found {
            pieces.push(text[from..at].to_vec());
            holes.push(hole);
            from = at + len;
        }
        pieces.push(text[from..].to_vec());
        Events {
            pieces,
            holes,
            first_rv: current_rv + 1,
            count,
        }
    }

    fn write_event(&self, seq: u64, out: &mut Vec<u8>) {
        for (piece, hole) in self.pieces.iter().zip(&self.holes) {
            out.extend_from_slice(piece);
            let n = match hole {
                Hole::ResourceVersion => self.first_rv + seq - 1,
                Hole::Sequence => seq,
            };
            out.extend_from_slice(n.to_string().as_bytes());
        }
        out.extend_from_slice(self.pieces.last().map_or(&[][..], Vec::as_slice));
    }

    /// Sends every event; false when the client left first.
    pub async fn send(&self, tx: &mpsc::Sender<Bytes>) -> bool {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES * 2);
        for seq in 1..=self.count {
            self.write_event(seq, &mut chunk);
            if chunk.len() >= CHUNK_BYTES || seq == self.count {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES * 2));
                if tx.send(Bytes::from(full)).await.is_err() {
                    return false;
                }
            }
        }
        true
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(events: &Events) -> Vec<Value> {
        let mut out = vec![];
        for seq in 1..=events.count {
            events.write_event(seq, &mut out);
        }
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn events_count_up_resource_version_and_sequence() {
        let obj = json!({"kind": "Pod", "metadata": {"name": "p", "resourceVersion": "7",
            "annotations": {"a": "b"}}, "spec": {"x": 1}});
        let events = Events::new(obj, 7, 3);
        let got = lines(&events);
        assert_eq!(3, got.len());
        for (i, ev) in got.iter().enumerate() {
            assert_eq!("MODIFIED", ev["type"]);
            assert_eq!(
                (8 + i).to_string(),
                ev["object"]["metadata"]["resourceVersion"]
            );
            assert_eq!(
                (1 + i).to_string(),
                ev["object"]["metadata"]["annotations"][SEQUENCE_ANNOTATION]
            );
            assert_eq!("b", ev["object"]["metadata"]["annotations"]["a"]);
            assert_eq!(1, ev["object"]["spec"]["x"]);
        }
    }

    #[test]
    fn rules_serve_one_matching_watch_each() {
        let f = Firehose::default();
        f.configure("POST", br#"{"match": "/pods", "count": 5}"#)
            .unwrap();
        assert_eq!(None, f.take("/api/v1/namespaces/x/configmaps"));
        assert_eq!(Some(5), f.take("/api/v1/namespaces/x/pods"));
        assert_eq!(None, f.take("/api/v1/namespaces/x/pods"));
        assert!(f.configure("POST", br#"{"count": -1}"#).is_err());
        f.configure("POST", br#"{"count": 1}"#).unwrap();
        f.configure("DELETE", b"").unwrap();
        assert_eq!(None, f.take("/anything"));
    }
}

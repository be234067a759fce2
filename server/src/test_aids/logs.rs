//! Container logs: lines come from the pod's `kube-testserver/log.CONTAINER`
//! annotation (written at the pod's creation, or when an update adds lines)
//! and from
//! `POST /testserver/logs/NS/POD/CONTAINER` (written when posted). `follow`
//! streams new lines until the client leaves or the pod is deleted.

use crate::pods;
use crate::registry;
use crate::reply::{Answer, Reply, Streaming};
use crate::store::{parse_rfc3339, rfc3339_nanos, unix_now, ApiError, LogLine, Store};
use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a followed log looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

pub fn append(st: &mut Store, ns: &str, pod: &str, container: &str, body: &[u8]) {
    let now = unix_now();
    let lines = st
        .logs
        .entry((ns.to_string(), pod.to_string(), container.to_string()))
        .or_default();
    for l in String::from_utf8_lossy(body).lines() {
        lines.push(LogLine {
            time: now,
            text: l.to_string(),
        });
    }
}

/// Which lines to send and how.
struct LogOptions {
    since: Option<f64>,
    timestamps: bool,
    tail: Option<usize>,
    limit_bytes: Option<usize>,
    follow: bool,
}

impl LogOptions {
    fn parse(q: &HashMap<String, String>) -> Result<Self, ApiError> {
        let flag = |k: &str| q.get(k).is_some_and(|v| v == "true" || v == "1");
        let num = |k: &str| -> Result<Option<i64>, ApiError> {
            q.get(k)
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        ApiError::bad_request(format!("{k}: invalid value {v:?}: not an integer"))
                    })
                })
                .transpose()
        };
        let since_seconds = num("sinceSeconds")?;
        let since_time = q.get("sinceTime");
        if since_seconds.is_some() && since_time.is_some() {
            return Err(ApiError::new(422, "Invalid", "PodLogOptions \"\" is invalid: []: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"));
        }
        let since = match (since_seconds, since_time) {
            (Some(s), _) if s < 1 => {
                return Err(ApiError::new(422, "Invalid", "PodLogOptions \"\" is invalid: sinceSeconds: Invalid value: must be greater than 0"))
            }
            (Some(s), _) => Some(unix_now() - s as f64),
            (None, Some(t)) => Some(
                parse_rfc3339(t).ok_or_else(|| ApiError::bad_request(format!("sinceTime: invalid value {t:?}")))?,
            ),
            (None, None) => None,
        };
        Ok(LogOptions {
            since,
            timestamps: flag("timestamps"),
            tail: num("tailLines")?.map(|n| n.max(0) as usize),
            limit_bytes: num("limitBytes")?.map(|n| n.max(0) as usize),
            follow: flag("follow"),
        })
    }

    fn render(&self, line: &LogLine) -> String {
        if self.timestamps {
            format!("{} {}\n", rfc3339_nanos(line.time), line.text)
        } else {
            format!("{}\n", line.text)
        }
    }
}

/// The lines of the pod's log annotation for a container.
fn annotation_lines(pod: &Value, container: &str) -> Vec<String> {
    pod["metadata"]["annotations"][format!("kube-testserver/log.{container}")]
        .as_str()
        .map(|s| s.lines().map(String::from).collect())
        .unwrap_or_default()
}

/// The lines written so far: the annotation's (written when the pod was
/// created), then the posted ones.
fn current_lines(st: &Store, pod: &Value, key: &(String, String, String)) -> Vec<LogLine> {
    let created = pod["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(parse_rfc3339)
        .unwrap_or(0.0);
    let mut lines: Vec<LogLine> = annotation_lines(pod, &key.2)
        .into_iter()
        .map(|text| LogLine {
            time: created,
            text,
        })
        .collect();
    lines.extend(st.logs.get(key).into_iter().flatten().cloned());
    lines
}

pub fn serve(
    store: &Arc<Mutex<Store>>,
    st: &Store,
    ns: &str,
    name: &str,
    q: &HashMap<String, String>,
) -> Result<Answer, ApiError> {
    let res = registry::find("", "v1", "pods").expect("pods are in the table");
    let pod = crate::rest::get(st, res, ns, name)?;
    let container = pods::pick_container(&pod, name, q.get("container").map(String::as_str))?;
    if q.get("previous").is_some_and(|v| v == "true" || v == "1") {
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    }
    let opts = LogOptions::parse(q)?;
    let key = (ns.to_string(), name.to_string(), container);
    let all = current_lines(st, &pod, &key);
    let posted_seen = st.logs.get(&key).map_or(0, Vec::len);
    let annotation_seen = annotation_lines(&pod, &key.2).len();
    let mut lines: Vec<&LogLine> = all
        .iter()
        .filter(|l| opts.since.is_none_or(|s| l.time >= s))
        .collect();
    if let Some(n) = opts.tail {
        lines.drain(..lines.len().saturating_sub(n));
    }
    // limitBytes counts bytes, and may cut a character as the real server does.
    let mut text: Vec<u8> = lines
        .iter()
        .flat_map(|l| opts.render(l).into_bytes())
        .collect();
    if let Some(n) = opts.limit_bytes {
        text.truncate(n);
    }
    if !opts.follow {
        return Ok(Answer::Full(Reply {
            code: 200,
            content_type: "text/plain",
            body: text,
            warnings: Vec::new(),
        }));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let store = store.clone();
    let uid = pod["metadata"]["uid"].clone();
    tokio::spawn(async move {
        let mut budget = opts.limit_bytes.map(|n| n.saturating_sub(text.len()));
        if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        let (mut seen, mut annotated) = (posted_seen, annotation_seen);
        while budget != Some(0) {
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(FOLLOW_POLL) => {}
            }
            let fresh: Vec<LogLine> = {
                let st = store.lock().unwrap_or_else(|p| p.into_inner());
                let Some(pod) = st
                    .objects
                    .get(&Store::key(res, &key.0, &key.1))
                    .filter(|p| p["metadata"]["uid"] == uid)
                else {
                    return; // deleted (or deleted and created again)
                };
                // Lines added to the annotation by an update count as written now.
                let now = unix_now();
                let ann = annotation_lines(pod, &key.2);
                let mut fresh: Vec<LogLine> = ann
                    .get(annotated..)
                    .unwrap_or(&[])
                    .iter()
                    .map(|text| LogLine {
                        time: now,
                        text: text.clone(),
                    })
                    .collect();
                annotated = annotated.max(ann.len());
                let posted = st.logs.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                fresh.extend(posted.get(seen..).unwrap_or(&[]).iter().cloned());
                seen = posted.len();
                fresh
            };
            let mut chunk: Vec<u8> = fresh
                .iter()
                .flat_map(|l| opts.render(l).into_bytes())
                .collect();
            if let Some(b) = budget.as_mut() {
                chunk.truncate(*b);
                *b -= chunk.len();
            }
            if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
        }
    });
    Ok(Answer::Stream(Streaming {
        code: 200,
        content_type: "text/plain",
        chunks: rx,
    }))
}

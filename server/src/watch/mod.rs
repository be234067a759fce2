//! WATCH: newline-delimited JSON events over a chunked response.
//!
//! The initial events (synthetic ADDED, or the history after a resourceVersion)
//! are taken under the store lock together with a broadcast subscription, so
//! no change falls between them; a task then forwards live changes. Writers
//! never wait for watchers: a watcher that falls further behind than the
//! broadcast buffer gets a 410 Expired ERROR event and is closed.

pub(crate) mod list_stream;

use crate::firehose::Events;
use crate::partial::Partial;
use crate::reply::Streaming;
use crate::resources::ResourceInfo;
use crate::selectors::Selection;
use crate::store::{ApiError, ChangeEvent, Store};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How often BOOKMARK events are sent when asked for (settable for tests).
static BOOKMARK_INTERVAL_MS: AtomicU64 = AtomicU64::new(1000);

pub fn set_bookmark_interval(ms: u64) {
    BOOKMARK_INTERVAL_MS.store(ms.max(10), Ordering::Relaxed);
}

/// `watch=true`, `True` or `1`.
pub fn requested(q: &HashMap<String, String>) -> bool {
    q.get("watch")
        .is_some_and(|v| matches!(v.as_str(), "true" | "True" | "1"))
}

/// What one watch looks at and how it reports.
struct Watcher {
    res: &'static ResourceInfo,
    /// The apiVersion the client asked for (CRDs may serve several).
    api_version: String,
    namespace: Option<String>,
    selection: Selection,
    bookmarks: bool,
    /// Event objects as PartialObjectMetadata (Accept
    /// `as=PartialObjectMetadata`), else whole.
    partial: Option<Partial>,
}

fn bool_param(q: &HashMap<String, String>, k: &str) -> bool {
    q.get(k).is_some_and(|v| v == "true" || v == "1")
}

fn invalid_list_options(field: &str, msg: &str) -> ApiError {
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: Forbidden: {msg}"),
    );
    e.details = json!({"group": "meta.k8s.io", "kind": "ListOptions",
        "causes": [{"reason": "FieldValueForbidden", "message": format!("Forbidden: {msg}"), "field": field}]});
    e
}

fn expired(requested: u64, oldest: u64) -> ApiError {
    ApiError::new(
        410,
        "Expired",
        format!("too old resource version: {requested} ({oldest})"),
    )
}

/// `{"type":KIND,"object":OBJECT}` and a newline, written around the object
/// without copying it into a new document first.
fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = Vec::with_capacity(4096);
    line.extend_from_slice(b"{\"type\":");
    let _ = serde_json::to_writer(&mut line, kind);
    line.extend_from_slice(b",\"object\":");
    let _ = serde_json::to_writer(&mut line, object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

impl Watcher {
    fn sees(&self, ev: &ChangeEvent) -> bool {
        ev.group == self.res.group
            && ev.plural == self.res.plural
            && self.namespace.as_ref().is_none_or(|n| *n == ev.namespace)
    }

    /// The event this watcher reports for a change, if any: a selector turns a
    /// MODIFIED into ADDED/DELETED when the object enters/leaves the selection.
    fn translate(&self, ev: &ChangeEvent) -> Option<Bytes> {
        if !self.sees(ev) {
            return None;
        }
        let now = self.selection.matches(&ev.object);
        let before = ev
            .previous
            .as_ref()
            .is_some_and(|p| self.selection.matches(p));
        let kind = match (ev.kind, before, now) {
            ("MODIFIED", false, true) => "ADDED",
            ("MODIFIED", true, false) => "DELETED",
            ("MODIFIED", false, false) => return None,
            (k, _, true) => k,
            _ => return None,
        };
        Some(event_line(kind, &self.with_type(ev.object.clone())))
    }

    /// The object as an event carries it: typed, or its metadata only.
    fn with_type(&self, mut obj: Value) -> Value {
        if let Some(p) = &self.partial {
            return p.object(&obj);
        }
        obj["kind"] = json!(self.res.kind);
        obj["apiVersion"] = json!(self.api_version);
        obj
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = match &self.partial {
            Some(p) => p.object(&json!({ "metadata": meta })),
            None => {
                json!({"kind": self.res.kind, "apiVersion": self.api_version, "metadata": meta})
            }
        };
        event_line("BOOKMARK", &object)
    }
}

/// Starts a watch: checks the options, takes the initial events and a live
/// subscription under the caller's store lock, and returns the stream.
/// `firehose`: that many synthetic MODIFIED events of the first watched
/// object follow the initial ones (see `crate::firehose`), then the stream
/// ends, as a server's watch timeout ends it: a client that reads to the end
/// (curl in the benchmark) finishes, and none sees live changes with
/// resourceVersions below the synthetic ones.
/// `partial`: the event objects as PartialObjectMetadata. Asked for as
/// `PartialObjectMetadataList`, no event can be converted: kube-apiserver
/// answers 200 and ends the stream at the first event it fails to convert,
/// so this stream ends without events.
#[allow(clippy::too_many_arguments)]
pub fn start(
    st: &Store,
    res: &'static ResourceInfo,
    api_version: String,
    ns: &str,
    q: &HashMap<String, String>,
    selection: Selection,
    firehose: Option<u64>,
    partial: Option<Partial>,
) -> Result<Streaming, ApiError> {
    let send_initial = q.get("sendInitialEvents").map(|v| v == "true" || v == "1");
    let bookmarks = bool_param(q, "allowWatchBookmarks");
    if send_initial.is_some() {
        if q.get("resourceVersionMatch").map(String::as_str) != Some("NotOlderThan") {
            return Err(invalid_list_options(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if !bookmarks {
            return Err(invalid_list_options(
                "allowWatchBookmarks",
                "sendInitialEvents requires setting allowWatchBookmarks to true",
            ));
        }
    }
    let rv_param = q.get("resourceVersion").map(String::as_str).unwrap_or("");
    let from_rv: Option<u64> = match rv_param {
        "" | "0" => None,
        n => Some(
            n.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {n}")))?,
        ),
    };
    if partial.is_some_and(|p| p.list) {
        let (_, chunks) = mpsc::channel::<Bytes>(1);
        return Ok(Streaming {
            code: 200,
            content_type: "application/json",
            chunks,
        });
    }
    let watcher = Watcher {
        res,
        api_version,
        namespace: (!ns.is_empty()).then(|| ns.to_string()),
        selection,
        bookmarks,
        partial,
    };
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);

    // Synthetic ADDED events for the current state: for rv unset/"0", and for
    // sendInitialEvents=true whatever the rv (NotOlderThan it).
    let synthetic = from_rv.is_none() && send_initial != Some(false) || send_initial == Some(true);
    let mut initial: Vec<Bytes> = vec![];
    let mut expired_error = None;
    if synthetic {
        for (_, obj) in st.list(res, watcher.namespace.as_deref()) {
            if watcher.selection.matches(obj) {
                initial.push(event_line("ADDED", &watcher.with_type(obj.clone())));
            }
        }
        if send_initial == Some(true) {
            initial.push(watcher.bookmark(st.rv, true));
        }
    } else if let Some(rv) = from_rv {
        match st.changes_since(rv) {
            Some(evs) => initial.extend(evs.iter().filter_map(|e| watcher.translate(e))),
            None => expired_error = Some(expired(rv, st.compacted_rv)),
        }
    }
    let firehose = firehose.and_then(|count| {
        let (_, first) = st
            .list(res, watcher.namespace.as_deref())
            .into_iter()
            .find(|(_, obj)| watcher.selection.matches(obj))?;
        Some(Events::new(watcher.with_type(first.clone()), st.rv, count))
    });
    // A short queue: a watcher that stops reading soon lags on the broadcast
    // channel instead of holding an unbounded backlog here.
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let live = st.subscribe();
    let last_rv = st.rv;
    tokio::spawn(async move {
        for chunk in initial {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        if let Some(e) = expired_error {
            let _ = tx.send(event_line("ERROR", &e.status())).await;
            return;
        }
        if let Some(events) = firehose {
            events.send(&tx).await;
            return;
        }
        forward(watcher, live, tx, last_rv, timeout).await;
    });
    Ok(Streaming {
        code: 200,
        content_type: "application/json",
        chunks: rx,
    })
}

/// Forwards live changes until the client leaves, the timeout ends the
/// watch, or the watcher lags so far that changes were lost.
async fn forward(
    watcher: Watcher,
    mut live: broadcast::Receiver<Arc<ChangeEvent>>,
    tx: mpsc::Sender<Bytes>,
    mut last_rv: u64,
    timeout: Option<Duration>,
) {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let interval = Duration::from_millis(BOOKMARK_INTERVAL_MS.load(Ordering::Relaxed));
    let mut bookmark_tick =
        tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        let ended = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let chunk = tokio::select! {
            _ = ended => return,
            _ = tx.closed() => return,
            _ = bookmark_tick.tick(), if watcher.bookmarks => watcher.bookmark(last_rv, false),
            ev = live.recv() => match ev {
                Ok(ev) => {
                    last_rv = ev.rv;
                    match watcher.translate(&ev) {
                        Some(c) => c,
                        None => continue,
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let e = expired(last_rv, last_rv);
                    let _ = tx.send(event_line("ERROR", &e.status())).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        if tx.send(chunk).await.is_err() {
            return;
        }
    }
}

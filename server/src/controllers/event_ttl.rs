//! Events expire: kube-apiserver stores every Event under an etcd lease of
//! `--event-ttl` (default 1h), renewed by each write, so an Event goes that
//! long after it was last written (a recorder's count update renews it).
//! Here the same TTL (`--event-ttl`, `kube.testing.start{ args = ... }`)
//! runs on the simulated clock, so a test can move the clock past it
//! (`POST /testserver/clock {"advanceSeconds": 3601}`). Both APIs' Events
//! (core v1 and events.k8s.io/v1) expire, whoever wrote them.
//!
//! Writes come in time order, so one queue ordered by due time and a single
//! timer for its head do: an entry names the Event and the resourceVersion
//! it was written at, and is skipped when the Event was written again since
//! (a later entry stands for it) or is gone. Entries are small (the 30,000
//! pod bench writes 240,000 Events): no map beside the queue.

use super::runner::{Controller, Cx, View};
use super::{clock, util};
use crate::store::{ChangeEvent, Key, Store};
use serde_json::Value;
use std::collections::VecDeque;

/// kube-apiserver's default `--event-ttl`.
pub const DEFAULT_TTL_SECS: f64 = 3600.0;

/// One write of an Event.
struct Entry {
    /// Expiry, ms on the simulated clock.
    due: u64,
    /// events.k8s.io/v1 (else core v1).
    new_api: bool,
    namespace: Box<str>,
    name: Box<str>,
    resource_version: Box<str>,
}

impl Entry {
    fn key(&self) -> Key {
        let group = if self.new_api { "events.k8s.io" } else { "" };
        (
            group.into(),
            "events".into(),
            self.namespace.to_string(),
            self.name.to_string(),
        )
    }

    /// Whether the stored Event is still the one this entry was written for.
    fn current(&self, st: &Store) -> bool {
        st.objects
            .get(&self.key())
            .is_some_and(|o| o["metadata"]["resourceVersion"] == *self.resource_version)
    }
}

#[derive(Default)]
pub struct EventTtl {
    /// Writes in order (so by expiry); may hold stale entries.
    queue: VecDeque<Entry>,
    /// Events stored, to know when stale entries outnumber live ones.
    live: usize,
    /// The expiry the runner's timer is set for.
    armed: Option<u64>,
}

fn sweep_key() -> Key {
    (String::new(), "events".into(), String::new(), String::new())
}

fn is_event(group: &str, plural: &str) -> bool {
    plural == "events" && (group.is_empty() || group == "events.k8s.io")
}

fn ttl_ms() -> u64 {
    let secs = super::settings().map_or(DEFAULT_TTL_SECS, |s| s.event_ttl_secs);
    (secs.max(0.0) * 1000.0) as u64
}

impl EventTtl {
    fn written(&mut self, st: &Store, group: &str, obj: &Value) {
        self.queue.push_back(Entry {
            due: clock::now_ms() + ttl_ms(),
            new_api: !group.is_empty(),
            namespace: util::namespace(obj).into(),
            name: util::name(obj).into(),
            resource_version: obj["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .into(),
        });
        if self.queue.len() > 2 * self.live + 1024 {
            self.queue.retain(|e| e.current(st));
        }
    }
}

impl Controller for EventTtl {
    fn name(&self) -> &'static str {
        "eventttl"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        for group in ["", "events.k8s.io"] {
            for (_, obj) in view.st.list(util::res(group, "events"), None) {
                self.live += 1;
                self.written(view.st, group, obj);
            }
        }
        out.push(sweep_key());
    }

    fn on_change(&mut self, ev: &ChangeEvent, view: &View, out: &mut Vec<Key>) {
        if !is_event(&ev.group, &ev.plural) {
            return;
        }
        if ev.kind == "DELETED" {
            self.live = self.live.saturating_sub(1);
            return;
        }
        if ev.kind == "ADDED" {
            self.live += 1;
        }
        self.written(view.st, &ev.group, &ev.object);
        if self.armed.is_none() {
            out.push(sweep_key());
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, _key: &Key) {
        let now = clock::now_ms();
        while self.queue.front().is_some_and(|e| e.due <= now) {
            let Some(e) = self.queue.pop_front() else {
                break;
            };
            if e.current(cx.st) {
                util::delete(cx.st, &e.key(), None);
            }
        }
        self.armed = self.queue.front().map(|e| e.due);
        if let Some(due) = self.armed {
            cx.at(due, &sweep_key());
        }
    }
}

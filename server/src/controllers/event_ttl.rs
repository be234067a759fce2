//! Events expire: kube-apiserver stores every Event under an etcd lease of
//! `--event-ttl` (default 1h), renewed by each write, so an Event goes that
//! long after it was last written (a recorder's count update renews it).
//! Here the same TTL (`--event-ttl`, `kube.testing.start{ args = ... }`)
//! runs on the simulated clock, so a test can move the clock past it
//! (`POST /testserver/clock {"advanceSeconds": 3601}`). Both APIs' Events
//! (core v1 and events.k8s.io/v1) expire, whoever wrote them.
//!
//! Writes come in time order, so one queue ordered by due time and a single
//! timer for its head do: a stale entry (the Event was written again since)
//! is skipped when its time comes.

use super::runner::{Controller, Cx, View};
use super::{clock, util};
use crate::store::{ChangeEvent, Key};
use std::collections::{HashMap, VecDeque};

/// kube-apiserver's default `--event-ttl`.
pub const DEFAULT_TTL_SECS: f64 = 3600.0;

#[derive(Default)]
pub struct EventTtl {
    /// Each stored Event's expiry (ms on the simulated clock).
    due: HashMap<Key, u64>,
    /// (expiry, event) in the order written; may hold stale entries.
    queue: VecDeque<(u64, Key)>,
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
    fn written(&mut self, key: Key) {
        let due = clock::now_ms() + ttl_ms();
        self.due.insert(key.clone(), due);
        self.queue.push_back((due, key));
        // Stale entries (Events written again or deleted) are dropped when
        // they outnumber the live ones.
        if self.queue.len() > 2 * self.due.len() + 1024 {
            let due = &self.due;
            self.queue.retain(|(d, k)| due.get(k) == Some(d));
        }
    }
}

impl Controller for EventTtl {
    fn name(&self) -> &'static str {
        "eventttl"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        for group in ["", "events.k8s.io"] {
            for (k, _) in view.st.list(util::res(group, "events"), None) {
                self.written(k.clone());
            }
        }
        out.push(sweep_key());
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        if !is_event(&ev.group, &ev.plural) {
            return;
        }
        let key = (
            ev.group.clone(),
            ev.plural.clone(),
            ev.namespace.clone(),
            util::name(&ev.object).to_string(),
        );
        if ev.kind == "DELETED" {
            self.due.remove(&key);
            return;
        }
        self.written(key);
        if self.armed.is_none() {
            out.push(sweep_key());
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, _key: &Key) {
        let now = clock::now_ms();
        while let Some((due, _)) = self.queue.front() {
            if *due > now {
                break;
            }
            let Some((due, key)) = self.queue.pop_front() else {
                break;
            };
            if self.due.get(&key) == Some(&due) {
                self.due.remove(&key);
                util::delete(cx.st, &key, None);
            }
        }
        self.armed = self.queue.front().map(|(due, _)| *due);
        if let Some(due) = self.armed {
            cx.at(due, &sweep_key());
        }
    }
}

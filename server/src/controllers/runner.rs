//! Feeds the controllers: the store sends every change on a channel; the
//! runner keeps an index of owners and dependents, asks each controller
//! which keys a change concerns, and calls it for each queued key with the
//! store locked, a bounded batch at a time so requests are not held up.
//! Controllers ask to be called again later (a container starting, a
//! CronJob's next run) through timers on the simulated clock.

use super::clock;
use crate::store::{ChangeEvent, Key, Store};
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// One controller loop.
pub trait Controller: Send {
    fn name(&self) -> &'static str;
    /// The keys a change concerns (the store as it is after the change).
    fn on_change(&mut self, ev: &ChangeEvent, view: &View, out: &mut Vec<Key>);
    /// The keys to look at when the runner starts.
    fn resync(&mut self, view: &View, out: &mut Vec<Key>);
    /// Brings the cluster closer to what the key's object asks for.
    fn reconcile(&mut self, cx: &mut Cx, key: &Key);
}

/// Who owns whom, by uid, kept from the change stream.
#[derive(Default)]
pub struct Index {
    pub by_uid: HashMap<String, Key>,
    dependents: HashMap<String, BTreeSet<Key>>,
    owners: HashMap<Key, Vec<String>>,
}

impl Index {
    fn apply(&mut self, key: Key, obj: &Value, deleted: bool) {
        let uid = obj["metadata"]["uid"].as_str().unwrap_or("");
        if let Some(old) = self.owners.remove(&key) {
            for o in old {
                if let Some(set) = self.dependents.get_mut(&o) {
                    set.remove(&key);
                    if set.is_empty() {
                        self.dependents.remove(&o);
                    }
                }
            }
        }
        if deleted {
            self.by_uid.remove(uid);
            return;
        }
        self.by_uid.insert(uid.to_string(), key.clone());
        let owners: Vec<String> = obj["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["uid"].as_str().map(String::from))
            .collect();
        if owners.is_empty() {
            return;
        }
        for o in &owners {
            self.dependents
                .entry(o.clone())
                .or_default()
                .insert(key.clone());
        }
        self.owners.insert(key, owners);
    }

    /// The keys of the objects that name `uid` among their owners.
    pub fn dependents(&self, uid: &str) -> Vec<Key> {
        self.dependents
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn exists(&self, uid: &str) -> bool {
        self.by_uid.contains_key(uid)
    }
}

/// What `on_change` and `resync` may read.
pub struct View<'a> {
    pub st: &'a Store,
    pub index: &'a Index,
}

/// What `reconcile` works with.
pub struct Cx<'a> {
    pub st: &'a mut Store,
    pub index: &'a Index,
    timers: &'a mut Vec<(u64, Key)>,
}

impl Cx<'_> {
    /// Calls the controller again for `key` after a simulated duration.
    pub fn after(&mut self, secs: f64, key: &Key) {
        self.at(clock::now_ms() + clock::scaled_ms(secs), key);
    }

    /// Calls the controller again for `key` at a time on the simulated clock.
    pub fn at(&mut self, due_ms: u64, key: &Key) {
        self.timers.push((due_ms, key.clone()));
    }
}

type Timer = Reverse<(u64, u64, usize, Key)>;

pub struct Runner {
    ctrls: Vec<Box<dyn Controller>>,
    index: Index,
    queue: VecDeque<(usize, Key)>,
    queued: HashSet<(usize, Key)>,
    timers: BinaryHeap<Timer>,
    seq: u64,
    rx: UnboundedReceiver<Arc<ChangeEvent>>,
    /// A change taken from the channel while waiting, not yet handled.
    pending: Option<Arc<ChangeEvent>>,
}

fn event_key(ev: &ChangeEvent) -> Key {
    (
        ev.group.clone(),
        ev.plural.clone(),
        ev.namespace.clone(),
        ev.object["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

impl Runner {
    /// Subscribes to the store's changes and queues what the enabled
    /// controllers find to do with what is stored already.
    pub fn new(st: &mut Store) -> Runner {
        let rx = st.observe();
        let ctrls: Vec<Box<dyn Controller>> = super::build()
            .into_iter()
            .filter(|c| super::enabled(c.name()))
            .collect();
        let mut r = Runner {
            ctrls,
            index: Index::default(),
            queue: VecDeque::new(),
            queued: HashSet::new(),
            timers: BinaryHeap::new(),
            seq: 0,
            rx,
            pending: None,
        };
        for (k, obj) in &st.objects {
            r.index.apply(k.clone(), obj, false);
        }
        let mut keys = vec![];
        for i in 0..r.ctrls.len() {
            keys.clear();
            let view = View {
                st,
                index: &r.index,
            };
            r.ctrls[i].resync(&view, &mut keys);
            for k in keys.drain(..) {
                r.enqueue(i, k);
            }
        }
        r
    }

    fn enqueue(&mut self, ctrl: usize, key: Key) {
        let item = (ctrl, key);
        if self.queued.insert(item.clone()) {
            self.queue.push_back(item);
        }
    }

    fn handle(&mut self, st: &Store, ev: &ChangeEvent) {
        self.index
            .apply(event_key(ev), &ev.object, ev.kind == "DELETED");
        let mut keys = vec![];
        for i in 0..self.ctrls.len() {
            let view = View {
                st,
                index: &self.index,
            };
            self.ctrls[i].on_change(ev, &view, &mut keys);
            for k in keys.drain(..) {
                self.enqueue(i, k);
            }
        }
    }

    /// Handles every change sent so far.
    fn drain(&mut self, st: &Store) {
        if let Some(ev) = self.pending.take() {
            self.handle(st, &ev);
        }
        while let Ok(ev) = self.rx.try_recv() {
            self.handle(st, &ev);
        }
    }

    fn fire_timers(&mut self) {
        let now = clock::now_ms();
        while let Some(Reverse((due, _, _, _))) = self.timers.peek() {
            if *due > now {
                break;
            }
            let Some(Reverse((_, _, ctrl, key))) = self.timers.pop() else {
                break;
            };
            self.enqueue(ctrl, key);
        }
    }

    /// Reconciles up to `budget` queued keys or for about `max` time.
    fn step(&mut self, st: &mut Store, budget: usize, max: Duration) -> usize {
        let start = Instant::now();
        let mut done = 0;
        let mut timers = vec![];
        while done < budget && start.elapsed() < max {
            self.drain(st);
            self.fire_timers();
            let Some(item) = self.queue.pop_front() else {
                break;
            };
            self.queued.remove(&item);
            let (ctrl, key) = item;
            let mut cx = Cx {
                st,
                index: &self.index,
                timers: &mut timers,
            };
            self.ctrls[ctrl].reconcile(&mut cx, &key);
            for (due, k) in timers.drain(..) {
                self.seq += 1;
                self.timers.push(Reverse((due, self.seq, ctrl, k)));
            }
            done += 1;
        }
        self.drain(st);
        done
    }

    /// Runs until nothing is left to do now (the seed settles as if the
    /// cluster had been running), with simulated durations at zero, for at
    /// most `max` of wall time.
    pub fn settle(&mut self, store: &Mutex<Store>, max: Duration) {
        let speed = clock::speed();
        let _ = clock::set_speed(0.0);
        let start = Instant::now();
        while start.elapsed() < max {
            let mut st = store.lock().unwrap_or_else(|p| p.into_inner());
            self.drain(&st);
            self.fire_timers();
            if self.queue.is_empty() {
                break;
            }
            self.step(&mut st, 10_000, max);
        }
        let _ = clock::set_speed(speed);
    }

    /// The loop: waits for a change, a due timer or a clock change, then
    /// works through the queue in batches, letting requests in between.
    pub async fn run(mut self, store: Arc<Mutex<Store>>) {
        loop {
            let wait = self.timers.peek().map(|Reverse((due, ..))| {
                Duration::from_millis(due.saturating_sub(clock::now_ms()).min(1000))
            });
            if self.queue.is_empty() {
                tokio::select! {
                    ev = self.rx.recv() => match ev {
                        Some(ev) => self.pending = Some(ev),
                        None => return,
                    },
                    _ = async {
                        match wait {
                            Some(w) => tokio::time::sleep(w).await,
                            None => std::future::pending().await,
                        }
                    } => {}
                    _ = clock::CHANGED.notified() => {}
                }
            }
            {
                let mut st = store.lock().unwrap_or_else(|p| p.into_inner());
                self.step(&mut st, 256, Duration::from_millis(20));
            }
            tokio::task::yield_now().await;
        }
    }
}

//! The simulated cluster: controllers that act after writes, as their
//! upstream counterparts do where a client can see it (kube-scheduler, the
//! kubelet, kube-controller-manager's loops).
//!
//! The store tells the runner (`runner.rs`) of every change through a channel
//! (no polling); each controller maps a change onto the keys it reconciles
//! and is called for each key with the store locked. What a controller writes
//! goes through the REST verbs (`rest::create/update/delete`), so it is
//! validated, versioned and seen by watches like any client's write.
//!
//! Simulated durations (a container starting, `sleep 5`, a crash-loop
//! back-off) run on a clock that tests control: `--speed F` scales every one
//! of them (1 = real durations, 0 = at once) and `POST /testserver/clock`
//! moves the clock forward (CronJobs) or changes the speed.

pub mod clock;
mod cronjob;
mod daemonset;
mod deployment;
mod endpoints;
pub mod events;
mod gc;
mod job;
mod kubelet;
mod namespace;
pub mod nodes;
mod replicaset;
pub mod runner;
mod scheduler;
mod statefulset;
mod util;

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Every switchable controller, as `--controllers` names them.
pub const ALL: &[&str] = &[
    "namespace",
    "garbagecollector",
    "scheduler",
    "kubelet",
    "deployment",
    "replicaset",
    "statefulset",
    "daemonset",
    "job",
    "cronjob",
    "endpoints",
    "endpointslice",
    "events",
];

/// Every controller, enabled or not (the runner keeps the enabled ones).
fn build() -> Vec<Box<dyn runner::Controller>> {
    vec![
        Box::new(namespace::Namespaces),
        Box::new(gc::GarbageCollector),
        Box::new(scheduler::Scheduler::default()),
        Box::new(kubelet::Kubelet::default()),
        Box::new(deployment::Deployments),
        Box::new(replicaset::ReplicaSets),
        Box::new(statefulset::StatefulSets),
        Box::new(daemonset::DaemonSets),
        Box::new(job::Jobs),
        Box::new(cronjob::CronJobs),
        Box::new(endpoints::Endpoints { slices: false }),
        Box::new(endpoints::Endpoints { slices: true }),
    ]
}

/// What the server was started with.
pub struct Settings {
    pub enabled: BTreeSet<&'static str>,
    /// The cluster CA, published in every namespace as `kube-root-ca.crt`.
    pub ca_pem: String,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Fixes the settings once, at start.
pub fn configure(s: Settings) {
    let _ = SETTINGS.set(s);
}

/// Whether a controller runs (none do before `configure`).
pub fn enabled(name: &str) -> bool {
    SETTINGS.get().is_some_and(|s| s.enabled.contains(name))
}

pub fn settings() -> Option<&'static Settings> {
    SETTINGS.get()
}

/// `all`, `none`, or a comma-separated list of names; `-name` leaves one
/// out of all (`all,-cronjob`).
pub fn parse_list(spec: &str) -> Result<BTreeSet<&'static str>, String> {
    let mut out = BTreeSet::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "all" | "*" => out.extend(ALL.iter().copied()),
            "none" => out.clear(),
            p => {
                let (remove, name) = match p.strip_prefix('-') {
                    Some(n) => (true, n),
                    None => (false, p),
                };
                let known = ALL.iter().find(|a| **a == name).ok_or_else(|| {
                    format!(
                        "--controllers: unknown controller {name:?} (known: all, none, {})",
                        ALL.join(", ")
                    )
                })?;
                if remove {
                    out.remove(known);
                } else {
                    out.insert(known);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_lists() {
        assert_eq!(ALL.len(), parse_list("all").unwrap().len());
        assert!(parse_list("none").unwrap().is_empty());
        let some = parse_list("scheduler, kubelet").unwrap();
        assert_eq!(
            vec!["kubelet", "scheduler"],
            some.into_iter().collect::<Vec<_>>()
        );
        let most = parse_list("all,-cronjob").unwrap();
        assert!(!most.contains("cronjob") && most.contains("job"));
        assert!(parse_list("kubelett")
            .unwrap_err()
            .contains("unknown controller"));
    }
}

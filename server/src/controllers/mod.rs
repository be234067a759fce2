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
pub mod event_ttl;
pub mod events;
mod gc;
mod history;
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
    "eventttl",
];

/// Every controller, enabled or not (the runner keeps the enabled ones).
fn build() -> Vec<Box<dyn runner::Controller>> {
    vec![
        Box::new(namespace::Namespaces),
        Box::new(gc::GarbageCollector),
        Box::new(scheduler::Scheduler::default()),
        Box::new(kubelet::Kubelet::default()),
        Box::new(deployment::Deployments::default()),
        Box::new(replicaset::ReplicaSets),
        Box::new(statefulset::StatefulSets),
        Box::new(daemonset::DaemonSets),
        Box::new(job::Jobs),
        Box::new(cronjob::CronJobs),
        Box::new(endpoints::Endpoints { slices: false }),
        Box::new(endpoints::Endpoints { slices: true }),
        Box::new(event_ttl::EventTtl::default()),
    ]
}

/// What the server was started with.
pub struct Settings {
    pub enabled: BTreeSet<&'static str>,
    /// The cluster CA, published in every namespace as `kube-root-ca.crt`.
    pub ca_pem: String,
    /// How long an Event lives after its last write (`--event-ttl`).
    pub event_ttl_secs: f64,
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

/// A duration as kube-apiserver's flags take it (`1h`, `30m`, `1h30m`,
/// `90s`, `1.5s`), or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    if let Ok(n) = s.parse::<f64>() {
        return if n.is_finite() && n >= 0.0 {
            Ok(n)
        } else {
            Err(format!("{s:?}: a duration must be >= 0"))
        };
    }
    let (mut total, mut num, mut any) = (0.0, String::new(), false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match (c, chars.peek()) {
            ('h', _) => 3600.0,
            ('m', Some('s')) => {
                chars.next();
                0.001
            }
            ('m', _) => 60.0,
            ('s', _) => 1.0,
            _ => return Err(format!("{s:?}: not a duration (1h, 30m, 90s)")),
        };
        let n: f64 = num
            .parse()
            .map_err(|_| format!("{s:?}: not a duration (1h, 30m, 90s)"))?;
        total += n * unit;
        num.clear();
        any = true;
    }
    if !num.is_empty() || !any || !total.is_finite() {
        return Err(format!("{s:?}: not a duration (1h, 30m, 90s)"));
    }
    Ok(total)
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
    fn durations() {
        assert_eq!(Ok(3600.0), parse_duration("1h"));
        assert_eq!(Ok(5400.0), parse_duration("1h30m"));
        assert_eq!(Ok(90.0), parse_duration("90"));
        assert_eq!(Ok(1.5), parse_duration("1.5s"));
        assert_eq!(Ok(0.25), parse_duration("250ms"));
        for bad in ["", "h", "1x", "10m5", "-1", "1..2s", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

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
        assert!(parse_list("all").unwrap().contains("eventttl"));
        assert!(parse_list("kubelett")
            .unwrap_err()
            .contains("unknown controller"));
    }
}

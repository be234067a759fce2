//! The Job controller: runs `parallelism` pods at a time (named
//! `JOB-xxxxx`, labelled with the job's name and controller uid) until
//! `completions` of them succeeded (Complete, with SuccessCriteriaMet before
//! it, as 1.32 writes them) or more than `backoffLimit` failed (Failed, with
//! FailureTarget, reason BackoffLimitExceeded); counts in status.active /
//! succeeded / failed / ready, startTime and completionTime. `suspend`
//! deletes the active pods and makes no new ones.

use super::runner::{Controller, Cx, View};
use super::{clock, events, util};
use crate::store::{now_rfc3339, parse_rfc3339, ChangeEvent, Key};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Jobs;

const INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// A pod's completion index (Indexed Jobs).
fn index_of(p: &Value) -> Option<i64> {
    p["metadata"]["annotations"][INDEX]
        .as_str()
        .and_then(|s| s.parse().ok())
        .filter(|i| *i >= 0)
}

/// Sorted indexes as the API writes them: `0-2,4,6-7`.
fn ranges(indexes: &std::collections::BTreeSet<i64>) -> String {
    let mut out: Vec<String> = vec![];
    let mut it = indexes.iter().copied().peekable();
    while let Some(first) = it.next() {
        let mut last = first;
        while it.peek() == Some(&(last + 1)) {
            last = it.next().unwrap_or(last);
        }
        out.push(if first == last {
            first.to_string()
        } else if last == first + 1 {
            format!("{first},{last}")
        } else {
            format!("{first}-{last}")
        });
    }
    out.join(",")
}

/// An Indexed Job's pod template for index `i`: what upstream's
/// addCompletionIndexAnnotation / EnvVariable and hostname do.
fn indexed_template(job: &Value, meta: &mut Value, spec: &mut Value, i: i64) {
    meta["annotations"][INDEX] = json!(i.to_string());
    meta["labels"][INDEX] = json!(i.to_string());
    meta["generateName"] = json!(format!("{}-{i}-", util::name(job)));
    spec["hostname"] = json!(format!("{}-{i}", util::name(job)));
    for list in ["initContainers", "containers"] {
        for c in spec[list].as_array_mut().into_iter().flatten() {
            let has = c["env"]
                .as_array()
                .is_some_and(|e| e.iter().any(|v| v["name"] == "JOB_COMPLETION_INDEX"));
            if !has {
                if !c["env"].is_array() {
                    c["env"] = json!([]);
                }
                if let Some(env) = c["env"].as_array_mut() {
                    env.push(json!({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef":
                        {"apiVersion": "v1", "fieldPath": format!("metadata.annotations['{INDEX}']")}}}));
                }
            }
        }
    }
}

fn job_key(ns: &str, name: &str) -> Key {
    ("batch".into(), "jobs".into(), ns.into(), name.into())
}

fn finished(job: &Value) -> bool {
    util::condition_true(job, "Complete") || util::condition_true(job, "Failed")
}

impl Controller for Jobs {
    fn name(&self) -> &'static str {
        "job"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "batch", "jobs", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        match (ev.group.as_str(), ev.plural.as_str()) {
            ("batch", "jobs") if ev.kind != "DELETED" => {
                out.push(job_key(&ev.namespace, util::name(&ev.object)))
            }
            ("", "pods") => {
                if let Some(k) =
                    util::controller_key(&ev.object, "Job", "batch", "jobs", &ev.namespace)
                {
                    out.push(k);
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(job) = util::get(cx.st, key) else {
            return;
        };
        if util::deleting(&job) || finished(&job) {
            return;
        }
        let spec = &job["spec"];
        let pods = util::owned(cx, &job, "", "pods", "Job");
        let phase = |p: &Value, ph: &str| p["status"]["phase"] == ph;
        let mut active: Vec<&Value> = pods.iter().filter(|p| util::pod_active(p)).collect();
        let indexed = spec["completionMode"] == "Indexed";
        let done_indexes: std::collections::BTreeSet<i64> = pods
            .iter()
            .filter(|p| phase(p, "Succeeded"))
            .filter_map(index_of)
            .filter(|i| spec["completions"].as_i64().is_some_and(|c| *i < c))
            .collect();
        let succeeded = if indexed {
            done_indexes.len() as i64
        } else {
            pods.iter().filter(|p| phase(p, "Succeeded")).count() as i64
        };
        let failed = pods.iter().filter(|p| phase(p, "Failed")).count() as i64;
        let completions = spec["completions"].as_i64();
        let parallelism = spec["parallelism"].as_i64().unwrap_or(1).max(0);
        let backoff = spec["backoffLimit"].as_i64().unwrap_or(6);
        let suspended = spec["suspend"] == Value::Bool(true);
        let mut status = job["status"].clone();
        if !status.is_object() {
            status = json!({});
        }
        if status["startTime"].is_null() && !suspended {
            status["startTime"] = json!(now_rfc3339());
        }
        let complete = match completions {
            Some(c) => succeeded >= c,
            None => succeeded >= 1 && active.is_empty(),
        };
        // activeDeadlineSeconds counts from startTime on the simulated clock.
        let deadline_at = spec["activeDeadlineSeconds"]
            .as_i64()
            .filter(|_| !suspended)
            .zip(status["startTime"].as_str().and_then(parse_rfc3339))
            .map(|(secs, start)| start + secs as f64);
        let past_deadline = !complete && deadline_at.is_some_and(|t| t <= clock::now_secs());
        let failing = failed > backoff || past_deadline;
        if failing || suspended {
            for p in active.drain(..) {
                util::delete(cx.st, &util::key(util::pods(), &key.2, util::name(p)), None);
            }
        }
        let mut made = 0;
        if failing {
            let (reason, msg) = if past_deadline {
                (
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                )
            } else {
                (
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )
            };
            util::set_condition(&mut status, "FailureTarget", "True", reason, msg, false);
            util::set_condition(&mut status, "Failed", "True", reason, msg, false);
            events::record(cx.st, &job, "Warning", reason, msg, "job-controller");
        } else if complete {
            let msg = "Reached expected number of succeeded pods";
            util::set_condition(
                &mut status,
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                msg,
                false,
            );
            util::set_condition(
                &mut status,
                "Complete",
                "True",
                "CompletionsReached",
                msg,
                false,
            );
            status["completionTime"] = json!(now_rfc3339());
            events::record(
                cx.st,
                &job,
                "Normal",
                "Completed",
                "Job completed",
                "job-controller",
            );
        } else if !suspended {
            let want = match completions {
                Some(c) => parallelism.min(c - succeeded),
                None if succeeded > 0 => 0,
                None => parallelism,
            };
            let template = &spec["template"];
            // Indexed: the lowest indexes neither done nor running.
            let busy: std::collections::BTreeSet<i64> =
                active.iter().filter_map(|p| index_of(p)).collect();
            let mut free = (0..completions.unwrap_or(0))
                .filter(|i| !done_indexes.contains(i) && !busy.contains(i));
            for _ in active.len() as i64..want {
                let mut meta = template["metadata"].clone();
                if !meta.is_object() {
                    meta = json!({});
                }
                let mut pod_spec = template["spec"].clone();
                let (name, uid) = (util::name(&job).to_string(), util::uid(&job).to_string());
                for (k, v) in [
                    ("batch.kubernetes.io/controller-uid", &uid),
                    ("batch.kubernetes.io/job-name", &name),
                    ("controller-uid", &uid),
                    ("job-name", &name),
                ] {
                    meta["labels"][k] = json!(v);
                }
                meta["generateName"] = json!(format!("{name}-"));
                if indexed {
                    let Some(i) = free.next() else { break };
                    indexed_template(&job, &mut meta, &mut pod_spec, i);
                }
                meta["ownerReferences"] = json!([util::controller_ref(&job, "batch/v1", "Job")]);
                let pod =
                    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec});
                match util::create(cx, util::pods(), &key.2, pod) {
                    Some(p) => {
                        let msg = format!("Created pod: {}", util::name(&p));
                        events::record(
                            cx.st,
                            &job,
                            "Normal",
                            "SuccessfulCreate",
                            &msg,
                            "job-controller",
                        );
                        made += 1;
                    }
                    None => break,
                }
            }
        }
        let n_active = if failing || complete || suspended {
            0
        } else {
            active.len() as i64 + made
        };
        let ready = active.iter().filter(|p| util::pod_ready(p)).count();
        let set = |status: &mut Value, f: &str, n: i64| match n {
            0 => {
                status.as_object_mut().map(|m| m.remove(f));
            }
            n => status[f] = json!(n),
        };
        set(&mut status, "active", n_active);
        set(&mut status, "succeeded", succeeded);
        set(&mut status, "failed", failed);
        match ranges(&done_indexes) {
            r if indexed && !r.is_empty() => status["completedIndexes"] = json!(r),
            _ => {
                status.as_object_mut().map(|m| m.remove("completedIndexes"));
            }
        }
        status["ready"] = json!(ready);
        if let (Some(t), false) = (deadline_at, failing || complete) {
            cx.at((t * 1000.0) as u64 + 1, key);
        }
        status["terminating"] = json!(0);
        status["uncountedTerminatedPods"] = json!({});
        util::write_status(cx, key, status);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn completed_indexes_as_ranges() {
        let set = |v: &[i64]| v.iter().copied().collect();
        assert_eq!("", super::ranges(&set(&[])));
        assert_eq!("0-2,4,6,7", super::ranges(&set(&[0, 1, 2, 4, 6, 7])));
        assert_eq!("3", super::ranges(&set(&[3])));
    }
}

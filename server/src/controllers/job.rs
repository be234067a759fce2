//! The Job controller: runs `parallelism` pods at a time (named
//! `JOB-xxxxx`, labelled with the job's name and controller uid) until
//! `completions` of them succeeded (Complete, with SuccessCriteriaMet before
//! it, as 1.32 writes them) or more than `backoffLimit` failed (Failed, with
//! FailureTarget, reason BackoffLimitExceeded); counts in status.active /
//! succeeded / failed / ready, startTime and completionTime. `suspend`
//! deletes the active pods and makes no new ones.

use super::runner::{Controller, Cx, View};
use super::{events, util};
use crate::store::{now_rfc3339, ChangeEvent, Key};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Jobs;

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
        out.extend(
            view.st
                .list(util::res("batch", "jobs"), None)
                .into_iter()
                .map(|(k, _)| k.clone()),
        );
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
        let succeeded = pods.iter().filter(|p| phase(p, "Succeeded")).count() as i64;
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
        let failing = failed > backoff;
        if failing || suspended {
            for p in active.drain(..) {
                util::delete(cx.st, &util::key(util::pods(), &key.2, util::name(p)), None);
            }
        }
        let mut made = 0;
        if failing {
            let msg = "Job has reached the specified backoff limit";
            util::set_condition(
                &mut status,
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                msg,
                false,
            );
            util::set_condition(
                &mut status,
                "Failed",
                "True",
                "BackoffLimitExceeded",
                msg,
                false,
            );
            events::record(
                cx.st,
                &job,
                "Warning",
                "BackoffLimitExceeded",
                msg,
                "job-controller",
            );
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
            for _ in active.len() as i64..want {
                let mut meta = template["metadata"].clone();
                if !meta.is_object() {
                    meta = json!({});
                }
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
                meta["ownerReferences"] = json!([util::controller_ref(&job, "batch/v1", "Job")]);
                let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]});
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
        status["ready"] = json!(ready);
        status["terminating"] = json!(0);
        status["uncountedTerminatedPods"] = json!({});
        util::write_status(cx, key, status);
    }
}

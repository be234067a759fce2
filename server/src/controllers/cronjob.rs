//! The CronJob controller: at each time of the schedule (five cron fields
//! or @hourly/@daily/..., UTC) on the simulated clock, a Job
//! `CRONJOB-<minutes since the epoch>` from the jobTemplate, owned by the
//! CronJob; concurrencyPolicy Allow/Forbid/Replace, startingDeadlineSeconds,
//! suspend, the history limits; status.active, lastScheduleTime,
//! lastSuccessfulTime; events SuccessfulCreate, SawCompletedJob,
//! SuccessfulDelete. Tests move the clock with `POST /testserver/clock`.

use super::runner::{Controller, Cx, View};
use super::{clock, events, util};
use crate::resources::ResourceInfo;
use crate::store::{parse_rfc3339, rfc3339_nanos, ChangeEvent, Key};
use serde_json::{json, Value};

#[derive(Default)]
pub struct CronJobs;

/// The allowed values of each field, as bitsets.
#[derive(Debug, PartialEq)]
pub struct Schedule {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    /// Day of month and day of week both restricted: either may match (cron's rule).
    either_day: bool,
}

fn field(s: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (
                r,
                st.parse::<u32>()
                    .map_err(|_| format!("bad step in {part:?}"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("bad step in {part:?}"));
        }
        let value = |v: &str| -> Result<u32, String> {
            if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
                return Ok(i as u32 + lo);
            }
            v.parse::<u32>().map_err(|_| format!("bad value {v:?}"))
        };
        let (a, b) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, hi),
                None => (value(r)?, value(r)?),
            },
        };
        // Sunday is 0 or 7.
        let max = if hi == 6 { 7 } else { hi };
        if a < lo || b > max || a > b {
            return Err(format!("{part:?} is out of range {lo}-{hi}"));
        }
        let mut v = a;
        while v <= b {
            bits |= 1 << (if hi == 6 { v % 7 } else { v });
            v += step;
        }
    }
    Ok(bits)
}

impl Schedule {
    pub fn parse(spec: &str) -> Result<Schedule, String> {
        let spec = spec.trim();
        let spec = match spec.split_once(' ') {
            Some((tz, rest)) if tz.starts_with("CRON_TZ=") || tz.starts_with("TZ=") => rest.trim(),
            _ => spec,
        };
        let spec = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s => s,
        };
        let f: Vec<&str> = spec.split_whitespace().collect();
        if f.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: {spec:?}",
                f.len()
            ));
        }
        const MONTHS: &[&str] = &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        Ok(Schedule {
            minute: field(f[0], 0, 59, &[])?,
            hour: field(f[1], 0, 23, &[])?,
            dom: field(f[2], 1, 31, &[])?,
            month: field(f[3], 1, 12, MONTHS)?,
            dow: field(f[4], 0, 6, DAYS)?,
            either_day: !f[2].starts_with('*') && !f[4].starts_with('*'),
        })
    }

    fn day_matches(&self, days: i64) -> bool {
        let (_, m, d) = crate::store::civil_from_days(days);
        let wd = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday
        if self.month & (1 << m) == 0 {
            return false;
        }
        let dom = self.dom & (1 << d) != 0;
        let dow = self.dow & (1 << wd) != 0;
        if self.either_day {
            dom || dow
        } else {
            dom && dow
        }
    }

    /// The first scheduled minute after `t` (Unix seconds), within 5 years.
    pub fn next_after(&self, t: i64) -> Option<i64> {
        let mut m = t.div_euclid(60) + 1;
        let end = m + 5 * 366 * 1440;
        while m < end {
            let days = m.div_euclid(1440);
            if !self.day_matches(days) {
                m = (days + 1) * 1440;
                continue;
            }
            let h = m.rem_euclid(1440) / 60;
            if self.hour & (1 << h) == 0 {
                m = (m / 60 + 1) * 60;
                continue;
            }
            if self.minute & (1 << m.rem_euclid(60)) != 0 {
                return Some(m * 60);
            }
            m += 1;
        }
        None
    }
}

fn cj_key(ns: &str, name: &str) -> Key {
    ("batch".into(), "cronjobs".into(), ns.into(), name.into())
}

/// Deletes one of the CronJob's Jobs (in the background, as the controller
/// does), with its SuccessfulDelete event.
fn delete_job(cx: &mut Cx, jobs: &ResourceInfo, ns: &str, name: &str, cj: &Value) {
    let msg = format!("Deleted job {name}");
    let job = util::key(jobs, ns, name);
    events::delete_owned(
        cx.st,
        &job,
        Some("Background"),
        cj,
        &msg,
        "cronjob-controller",
    );
}

fn finished(job: &Value) -> Option<&'static str> {
    if util::condition_true(job, "Complete") {
        Some("Complete")
    } else if util::condition_true(job, "Failed") {
        Some("Failed")
    } else {
        None
    }
}

fn rfc(secs: i64) -> String {
    let s = rfc3339_nanos(secs as f64);
    format!("{}Z", s.split('.').next().unwrap_or(&s))
}

impl Controller for CronJobs {
    fn name(&self) -> &'static str {
        "cronjob"
    }

    fn resync(&mut self, view: &View, out: &mut Vec<Key>) {
        util::all_keys(view, "batch", "cronjobs", out);
    }

    fn on_change(&mut self, ev: &ChangeEvent, _view: &View, out: &mut Vec<Key>) {
        match (ev.group.as_str(), ev.plural.as_str()) {
            ("batch", "cronjobs") if ev.kind != "DELETED" => {
                out.push(cj_key(&ev.namespace, util::name(&ev.object)))
            }
            ("batch", "jobs") => {
                if let Some(k) =
                    util::controller_key(&ev.object, "CronJob", "batch", "cronjobs", &ev.namespace)
                {
                    out.push(k);
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, cx: &mut Cx, key: &Key) {
        let Some(cj) = util::get(cx.st, key) else {
            return;
        };
        if util::deleting(&cj) {
            return;
        }
        let jobs_res = util::res("batch", "jobs");
        let mut jobs = util::owned(cx, &cj, "batch", "jobs", "CronJob");
        jobs.sort_by_key(|j| {
            j["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or("")
                .to_string()
        });
        let mut status = cj["status"].clone();
        if !status.is_object() {
            status = json!({});
        }
        // Jobs that ended leave status.active.
        let listed: Vec<Value> = status["active"].as_array().cloned().unwrap_or_default();
        let mut active = vec![];
        for r in listed {
            let Some(j) = jobs
                .iter()
                .find(|j| util::uid(j) == r["uid"].as_str().unwrap_or(""))
            else {
                continue;
            };
            let Some(cond) = finished(j) else {
                active.push(r);
                continue;
            };
            let msg = format!("Saw completed job: {}, condition: {cond}", util::name(j));
            events::record(
                cx.st,
                &cj,
                "Normal",
                "SawCompletedJob",
                &msg,
                "cronjob-controller",
            );
            if cond == "Complete" {
                status["lastSuccessfulTime"] = j["status"]["completionTime"].clone();
            }
        }
        let now = clock::now_secs() as i64;
        let schedule = Schedule::parse(cj["spec"]["schedule"].as_str().unwrap_or(""));
        let suspended = cj["spec"]["suspend"] == Value::Bool(true);
        if let (Ok(schedule), false) = (&schedule, suspended) {
            let last = status["lastScheduleTime"]
                .as_str()
                .or(cj["metadata"]["creationTimestamp"].as_str())
                .and_then(parse_rfc3339)
                .unwrap_or(now as f64) as i64;
            // The latest missed time (upstream too starts only the latest).
            let mut due = None;
            let mut t = last;
            for _ in 0..1000 {
                match schedule.next_after(t) {
                    Some(n) if n <= now => {
                        due = Some(n);
                        t = n;
                    }
                    _ => break,
                }
            }
            if let Some(t) = due {
                let late = cj["spec"]["startingDeadlineSeconds"]
                    .as_i64()
                    .is_some_and(|d| now - t > d);
                let policy = cj["spec"]["concurrencyPolicy"].as_str().unwrap_or("Allow");
                let skip = late || (policy == "Forbid" && !active.is_empty());
                if policy == "Replace" && !late {
                    for r in active.drain(..) {
                        let name = r["name"].as_str().unwrap_or("");
                        delete_job(cx, jobs_res, &key.2, name, &cj);
                    }
                }
                if !skip {
                    let name = format!("{}-{}", util::name(&cj), t / 60);
                    let tmpl = &cj["spec"]["jobTemplate"];
                    let mut meta = tmpl["metadata"].clone();
                    if !meta.is_object() {
                        meta = json!({});
                    }
                    meta["name"] = json!(name);
                    meta["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] =
                        json!(rfc(t));
                    meta["ownerReferences"] =
                        json!([util::controller_ref(&cj, "batch/v1", "CronJob")]);
                    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": tmpl["spec"]});
                    if let Some(j) = util::create(cx, jobs_res, &key.2, job) {
                        let msg = format!("Created job {name}");
                        events::record(
                            cx.st,
                            &cj,
                            "Normal",
                            "SuccessfulCreate",
                            &msg,
                            "cronjob-controller",
                        );
                        active.push(json!({"apiVersion": "batch/v1", "kind": "Job", "name": name,
                            "namespace": key.2, "uid": util::uid(&j), "resourceVersion": j["metadata"]["resourceVersion"]}));
                    }
                }
                status["lastScheduleTime"] = json!(rfc(t));
            }
            if let Some(next) = schedule.next_after(now) {
                cx.at(next as u64 * 1000, key);
            }
        }
        if active.is_empty() {
            status.as_object_mut().map(|m| m.remove("active"));
        } else {
            status["active"] = json!(active);
        }
        // Finished Jobs past the history limits go, oldest first.
        for (cond, limit) in [
            (
                "Complete",
                cj["spec"]["successfulJobsHistoryLimit"]
                    .as_i64()
                    .unwrap_or(3),
            ),
            (
                "Failed",
                cj["spec"]["failedJobsHistoryLimit"].as_i64().unwrap_or(1),
            ),
        ] {
            let done: Vec<&Value> = jobs.iter().filter(|j| finished(j) == Some(cond)).collect();
            let extra = done.len().saturating_sub(limit.max(0) as usize);
            for j in done.into_iter().take(extra) {
                delete_job(cx, jobs_res, &key.2, util::name(j), &cj);
            }
        }
        util::write_status(cx, key, status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let t0 = parse_rfc3339("2024-09-18T14:06:40Z").unwrap() as i64; // a Wednesday
        let next = |s: &str, t: i64| Schedule::parse(s).unwrap().next_after(t).map(rfc);
        assert_eq!(Some("2024-09-18T14:10:00Z".into()), next("*/5 * * * *", t0));
        assert_eq!(Some("2024-09-18T15:00:00Z".into()), next("@hourly", t0));
        assert_eq!(Some("2024-09-19T00:00:00Z".into()), next("@daily", t0));
        assert_eq!(Some("2024-09-22T00:00:00Z".into()), next("@weekly", t0));
        assert_eq!(
            Some("2024-09-20T09:30:00Z".into()),
            next("30 9 * * fri", t0)
        );
        assert_eq!(Some("2024-09-22T09:30:00Z".into()), next("30 9 * * 7", t0));
        assert_eq!(Some("2025-01-01T00:00:00Z".into()), next("0 0 1 jan *", t0));
        assert_eq!(
            Some("2024-09-18T14:15:00Z".into()),
            next("15,45 8-18 * * mon-fri", t0)
        );
        for bad in ["", "* * * *", "61 * * * *", "*/0 * * * *", "x * * * *"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}

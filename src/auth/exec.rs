//! Exec credential plugins (`users[].user.exec`, client.authentication.k8s.io
//! v1 and v1beta1), run the way kubectl runs them: the command with its args
//! and env plus `KUBERNETES_EXEC_INFO`, stdin connected only when interactive,
//! the `ExecCredential` it prints cached until its expirationTimestamp.
//! Tokens and keys from plugins stay in memory only.

use super::{ClientIdentity, Secret};
use crate::limits::Limits;
use serde::Deserialize;
use std::io::IsTerminal;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const API_V1: &str = "client.authentication.k8s.io/v1";
pub(crate) const API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
/// The cluster extension passed to plugins as `spec.cluster.config`.
pub(crate) const CLUSTER_EXTENSION: &str = "client.authentication.k8s.io/exec";

/// How much of a failing plugin's stderr an error message quotes.
const STDERR_LIMIT: usize = 2000;

/// The `exec` section of a kubeconfig user.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecConfig {
    pub(crate) command: String,
    #[serde(default, deserialize_with = "crate::yaml11::null_as_empty")]
    pub(crate) args: Vec<String>,
    #[serde(default, deserialize_with = "crate::yaml11::null_as_empty")]
    pub(crate) env: Vec<ExecEnvVar>,
    pub(crate) api_version: Option<String>,
    pub(crate) install_hint: Option<String>,
    #[serde(default)]
    pub(crate) provide_cluster_info: bool,
    pub(crate) interactive_mode: Option<String>,
}

#[derive(Clone, Deserialize)]
pub(crate) struct ExecEnvVar {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) value: String,
}

// Env values often carry secrets (API keys); never print them.
impl std::fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecConfig")
            .field("command", &self.command)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InteractiveMode {
    Never,
    IfAvailable,
    Always,
}

/// What one successful run of the plugin produced.
#[derive(Debug)]
pub(crate) struct ExecCredential {
    pub(crate) token: Option<Secret>,
    pub(crate) identity: Option<Arc<ClientIdentity>>,
    pub(crate) expires: Option<SystemTime>,
    /// Distinguishes runs: a transport rebuilds its TLS client when the
    /// identity's generation changes.
    pub(crate) generation: u64,
}

impl ExecCredential {
    fn expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|t| now >= t)
    }
}

/// An exec plugin with its cached credential.
#[derive(Debug)]
pub(crate) struct ExecAuth {
    config: ExecConfig,
    api_version: &'static str,
    mode: InteractiveMode,
    /// `spec.cluster` for provideClusterInfo.
    cluster: serde_json::Value,
    cached: Mutex<Option<Arc<ExecCredential>>>,
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

impl ExecAuth {
    /// Checks the plugin's settings (errors are worded for the user).
    pub(crate) fn new(config: ExecConfig, cluster: serde_json::Value) -> Result<Self, String> {
        let cmd = &config.command;
        if cmd.is_empty() {
            return Err("exec plugin: command is empty".into());
        }
        let api_version = match config.api_version.as_deref() {
            Some(API_V1) => API_V1,
            Some(API_V1BETA1) => API_V1BETA1,
            other => {
                return Err(format!(
                    "exec plugin \"{cmd}\": apiVersion {other:?} is not supported (use {API_V1} or {API_V1BETA1})"
                ))
            }
        };
        let mode = match config.interactive_mode.as_deref() {
            Some("Never") => InteractiveMode::Never,
            Some("IfAvailable") => InteractiveMode::IfAvailable,
            Some("Always") => InteractiveMode::Always,
            // kubectl requires the mode from v1 on; v1beta1 defaulted to IfAvailable.
            None if api_version == API_V1BETA1 => InteractiveMode::IfAvailable,
            None => {
                return Err(format!(
                    "exec plugin \"{cmd}\": interactiveMode must be set for {API_V1} (Never, IfAvailable or Always)"
                ))
            }
            Some(other) => {
                return Err(format!(
                    "exec plugin \"{cmd}\": invalid interactiveMode \"{other}\" (Never, IfAvailable or Always)"
                ))
            }
        };
        Ok(ExecAuth {
            config,
            api_version,
            mode,
            cluster,
            cached: Mutex::new(None),
        })
    }

    /// The current credential: cached, or from a new run of the plugin when
    /// there is none yet or it has expired.
    pub(crate) fn credential(&self, limits: &Limits) -> Result<Arc<ExecCredential>, String> {
        let mut slot = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref() {
            if !c.expired(SystemTime::now()) {
                return Ok(c.clone());
            }
        }
        let fresh = Arc::new(self.run(std::io::stdin().is_terminal(), limits)?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// The token of the cached credential, if there is one (for scrubbing
    /// messages; never runs the plugin).
    pub(crate) fn cached_token(&self) -> Option<Secret> {
        let slot = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().and_then(|c| c.token.clone())
    }

    /// Forgets the credential of run `generation` after the server rejected it
    /// (401), so the next `credential()` runs the plugin again. Returns false
    /// when a newer credential is already cached.
    pub(crate) fn invalidate(&self, generation: u64) -> bool {
        let mut slot = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(c) if c.generation != generation => false,
            _ => {
                *slot = None;
                true
            }
        }
    }

    /// Whether the plugin may talk to the user, given whether stdin is a terminal.
    fn interactive(&self, stdin_is_terminal: bool) -> Result<bool, String> {
        match self.mode {
            InteractiveMode::Never => Ok(false),
            InteractiveMode::IfAvailable => Ok(stdin_is_terminal),
            InteractiveMode::Always if stdin_is_terminal => Ok(true),
            InteractiveMode::Always => Err(format!(
                "exec plugin \"{}\": interactiveMode is Always, but stdin is not a terminal",
                self.config.command
            )),
        }
    }

    /// The KUBERNETES_EXEC_INFO document.
    fn exec_info(&self, interactive: bool) -> String {
        let mut spec = serde_json::json!({ "interactive": interactive });
        if self.config.provide_cluster_info {
            spec["cluster"] = self.cluster.clone();
        }
        serde_json::json!({
            "apiVersion": self.api_version,
            "kind": "ExecCredential",
            "spec": spec,
        })
        .to_string()
    }

    fn run(&self, stdin_is_terminal: bool, limits: &Limits) -> Result<ExecCredential, String> {
        let cfg = &self.config;
        let cmd = &cfg.command;
        let interactive = self.interactive(stdin_is_terminal)?;
        let mut command = Command::new(cmd);
        command
            .args(&cfg.args)
            .envs(cfg.env.iter().map(|v| (&v.name, &v.value)))
            .env("KUBERNETES_EXEC_INFO", self.exec_info(interactive))
            .stdout(Stdio::piped());
        // An interactive plugin prompts on stderr and reads stdin; otherwise
        // stderr is kept for the error message.
        if interactive {
            command.stdin(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            // Its own process group, so what it started is killed with it
            // (an interactive plugin stays in the terminal's group to read it).
            command
                .stdin(Stdio::null())
                .stderr(Stdio::piped())
                .process_group(0);
        }
        let output = run_bounded(command, !interactive, limits).map_err(|e| {
            let mut msg = format!("exec plugin \"{cmd}\": cannot run it: {e}");
            if e.kind() == std::io::ErrorKind::NotFound {
                if let Some(hint) = cfg.install_hint.as_deref().filter(|h| !h.is_empty()) {
                    msg.push_str(&format!("\n{}", hint.trim_end()));
                }
            }
            msg
        })?;
        let output = match output {
            Bounded::Done(o) => o,
            Bounded::Failed(why) => return Err(format!("exec plugin \"{cmd}\": {why}")),
        };
        if !output.status.success() {
            let code = match output.status.code() {
                Some(c) => format!("exit code {c}"),
                None => "a signal".to_string(),
            };
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stderr = truncate(stderr.trim(), STDERR_LIMIT);
            let mut msg = format!("exec plugin \"{cmd}\" failed with {code}");
            if !stderr.is_empty() {
                msg.push_str(&format!(": {stderr}"));
            }
            return Err(msg);
        }
        let generation = GENERATION.fetch_add(1, Ordering::Relaxed);
        // The plugin's output holds the token or key: wiped when dropped.
        let stdout = zeroize::Zeroizing::new(output.stdout);
        parse_credential(&stdout, self.api_version, generation)
            .map_err(|e| format!("exec plugin \"{cmd}\": {e}"))
    }
}

/// What a bounded run of a plugin gave.
enum Bounded {
    Done(std::process::Output),
    /// It ran too long or wrote too much, and was killed.
    Failed(String),
}

/// Runs `command` as `Command::output` does, but for at most
/// `limits.plugin_time` and reading at most `limits.plugin_output` bytes of
/// stdout and of stderr. A plugin that sleeps, keeps running after printing
/// its credential, or leaves a child holding stdout blocked the call
/// forever; one writing without end grew memory to gigabytes. Past either
/// bound the plugin (its whole process group when `group`) is killed.
fn run_bounded(mut command: Command, group: bool, limits: &Limits) -> std::io::Result<Bounded> {
    use std::io::Read;
    use std::sync::mpsc;
    let mut child = command.spawn()?;
    let pid = child.id() as i32;
    let kill = |child: &mut std::process::Child| {
        if group {
            // SAFETY: kill(2) with the negated id of the group the child
            // leads (process_group(0)); no memory is involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = child.kill();
    };
    let max = limits.plugin_output;
    let (tx, rx) = mpsc::channel::<(bool, Vec<u8>, bool)>();
    let mut readers = 0;
    for (is_out, pipe) in [
        (
            true,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            false,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        let Some(pipe) = pipe else { continue };
        readers += 1;
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            // A read error ends what it said; the status tells the rest.
            let _ = pipe.take(max as u64 + 1).read_to_end(&mut buf);
            let over = buf.len() > max;
            buf.truncate(max);
            let _ = tx.send((is_out, buf, over));
        });
    }
    drop(tx);
    let deadline = std::time::Instant::now() + limits.plugin_time;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut failure = None;
    while readers > 0 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((is_out, buf, over)) => {
                readers -= 1;
                if over {
                    failure = Some(format!(
                        "it wrote more than {} to {}; it was stopped",
                        crate::limits::bytes(max),
                        if is_out { "stdout" } else { "stderr" }
                    ));
                    break;
                }
                if is_out {
                    stdout = buf;
                } else {
                    stderr = buf;
                }
            }
            Err(_) => {
                failure = Some(format!(
                    "it did not finish within {} s; it was stopped",
                    limits.plugin_time.as_secs_f64()
                ));
                break;
            }
        }
    }
    let status = loop {
        if failure.is_some() {
            kill(&mut child);
            let _ = child.wait();
            return Ok(Bounded::Failed(failure.unwrap_or_default()));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            failure = Some(format!(
                "it did not finish within {} s; it was stopped",
                limits.plugin_time.as_secs_f64()
            ));
            continue;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ok(Bounded::Done(std::process::Output {
        status,
        stdout,
        stderr,
    }))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCredential {
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<RawStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
    expiration_timestamp: Option<String>,
}

/// Reads the ExecCredential a plugin printed. Errors never quote the output:
/// it holds secrets.
pub(crate) fn parse_credential(
    stdout: &[u8],
    api_version: &str,
    generation: u64,
) -> Result<ExecCredential, String> {
    let raw: RawCredential = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "its output is not an ExecCredential JSON document (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    if raw.kind.as_deref() != Some("ExecCredential") {
        return Err(format!(
            "its output has kind {:?}, expected \"ExecCredential\"",
            raw.kind.unwrap_or_default()
        ));
    }
    if raw.api_version.as_deref() != Some(api_version) {
        return Err(format!(
            "its output has apiVersion {:?}, but the kubeconfig asks for \"{api_version}\"",
            raw.api_version.unwrap_or_default()
        ));
    }
    let status = raw
        .status
        .ok_or("its output has no status (token or client certificate)")?;
    let expires =
        match status.expiration_timestamp.as_deref() {
            None | Some("") => None,
            Some(ts) => Some(parse_rfc3339(ts).ok_or_else(|| {
                format!("status.expirationTimestamp {ts:?} is not an RFC 3339 time")
            })?),
        };
    let identity = match (status.client_certificate_data, status.client_key_data) {
        (Some(cert), Some(key)) if !cert.is_empty() && !key.is_empty() => {
            Some(Arc::new(ClientIdentity {
                cert_pem: cert.into_bytes(),
                key_pem: Secret::new(key.into_bytes()),
            }))
        }
        (None, None) => None,
        (Some(c), Some(k)) if c.is_empty() && k.is_empty() => None,
        _ => {
            return Err("its status has only one of clientCertificateData and clientKeyData".into())
        }
    };
    let token = status
        .token
        .filter(|t| !t.is_empty())
        .map(|t| Secret::new(t.into_bytes()));
    if token.is_none() && identity.is_none() {
        return Err(
            "its status has neither a token nor clientCertificateData and clientKeyData".into(),
        );
    }
    Ok(ExecCredential {
        token,
        identity,
        expires,
        generation,
    })
}

/// Parses an RFC 3339 time such as `2024-05-01T12:00:00Z` or
/// `2024-05-01T12:00:00.5+02:00`.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut scaled: String = frac[..digits.min(9)].to_string();
        while scaled.len() < 9 {
            scaled.push('0');
        }
        nanos = scaled.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let (sign, hm) = match rest.as_bytes().first()? {
                b'+' => (1, &rest[1..]),
                b'-' => (-1, &rest[1..]),
                _ => return None,
            };
            let (h, m) = hm.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    let secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> ExecConfig {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn rfc3339_times() {
        let t = |s| parse_rfc3339(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64());
        assert_eq!(t("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(t("2024-03-01T00:00:00Z"), Some(1709251200.0));
        assert_eq!(t("2024-03-01T02:00:00+02:00"), Some(1709251200.0));
        assert_eq!(t("2024-02-29T23:30:00-00:30"), Some(1709251200.0));
        assert_eq!(t("2024-03-01T00:00:00.25Z"), Some(1709251200.25));
        assert_eq!(t("2024-03-01 00:00:00Z"), Some(1709251200.0));
        for bad in [
            "",
            "2024-03-01",
            "2024-13-01T00:00:00Z",
            "2024-03-01T00:00:00",
            "2024-03-01T00:00:00+2",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_token_and_certificate_credentials() {
        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
            "status":{"token":"k8s-aws-v1.abc","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#;
        let c = parse_credential(out, API_V1BETA1, 7).unwrap();
        assert_eq!(c.token.as_ref().unwrap().expose(), b"k8s-aws-v1.abc");
        assert!(c.identity.is_none());
        assert_eq!(c.generation, 7);
        assert!(!c.expired(SystemTime::now()));
        assert!(c.expired(parse_rfc3339("2030-01-01T00:00:00Z").unwrap()));

        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
            "status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\n","clientKeyData":"KEY"}}"#;
        let c = parse_credential(out, API_V1, 1).unwrap();
        let id = c.identity.unwrap();
        assert_eq!(id.key_pem.expose(), b"KEY");
        assert!(c.expires.is_none());
    }

    #[test]
    fn rejects_bad_credentials_without_quoting_secrets() {
        let cases: [(&[u8], &str); 6] = [
            (b"not json sekret", "not an ExecCredential JSON document"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"Other","status":{"token":"sekret"}}"#, "kind"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"sekret"}}"#, "apiVersion"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}"#, "no status"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientKeyData":"sekret"}}"#, "only one of"),
            (br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"sekret","expirationTimestamp":"soon"}}"#, "RFC 3339"),
        ];
        for (out, want) in cases {
            let e = parse_credential(out, API_V1, 1).unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("sekret"), "{e}");
        }
    }

    #[test]
    fn checks_api_version_and_interactive_mode() {
        let e = ExecAuth::new(
            config("command: x\napiVersion: client.authentication.k8s.io/v1alpha1"),
            serde_json::Value::Null,
        )
        .unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        let e = ExecAuth::new(
            config("command: x\napiVersion: client.authentication.k8s.io/v1"),
            serde_json::Value::Null,
        )
        .unwrap_err();
        assert!(e.contains("interactiveMode must be set"), "{e}");
        let beta = ExecAuth::new(
            config("command: x\napiVersion: client.authentication.k8s.io/v1beta1"),
            serde_json::Value::Null,
        )
        .unwrap();
        assert_eq!(beta.mode, InteractiveMode::IfAvailable);
        assert!(beta.interactive(true).unwrap());
        assert!(!beta.interactive(false).unwrap());
        let always = ExecAuth::new(
            config(
                "command: x\napiVersion: client.authentication.k8s.io/v1\ninteractiveMode: Always",
            ),
            serde_json::Value::Null,
        )
        .unwrap();
        let e = always.interactive(false).unwrap_err();
        assert!(e.contains("stdin is not a terminal"), "{e}");
        let never = ExecAuth::new(
            config(
                "command: x\napiVersion: client.authentication.k8s.io/v1\ninteractiveMode: Never",
            ),
            serde_json::Value::Null,
        )
        .unwrap();
        assert!(!never.interactive(true).unwrap());
    }

    #[test]
    fn exec_info_carries_cluster_only_when_asked() {
        let cluster = serde_json::json!({"server": "https://k:6443"});
        let plain = ExecAuth::new(
            config(
                "command: x\napiVersion: client.authentication.k8s.io/v1\ninteractiveMode: Never",
            ),
            cluster.clone(),
        )
        .unwrap();
        let info: serde_json::Value = serde_json::from_str(&plain.exec_info(false)).unwrap();
        assert_eq!(info["kind"], "ExecCredential");
        assert_eq!(info["apiVersion"], API_V1);
        assert_eq!(info["spec"]["interactive"], false);
        assert!(info["spec"].get("cluster").is_none());
        let with = ExecAuth::new(
            config("command: x\napiVersion: client.authentication.k8s.io/v1\ninteractiveMode: Never\nprovideClusterInfo: true"),
            cluster,
        )
        .unwrap();
        let info: serde_json::Value = serde_json::from_str(&with.exec_info(false)).unwrap();
        assert_eq!(info["spec"]["cluster"]["server"], "https://k:6443");
    }

    #[test]
    fn runs_the_plugin_and_reports_failures() {
        let ok = ExecAuth::new(
            config(
                r#"
command: sh
args: ["-c", "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' client.authentication.k8s.io/v1 \"$TOKEN\""]
env: [{name: TOKEN, value: from-env}]
apiVersion: client.authentication.k8s.io/v1
interactiveMode: Never
"#,
            ),
            serde_json::Value::Null,
        )
        .unwrap();
        let c = ok.credential(&Limits::DEFAULT).unwrap();
        assert_eq!(c.token.as_ref().unwrap().expose(), b"from-env");
        // Cached: the same run is returned until invalidated.
        assert_eq!(
            ok.credential(&Limits::DEFAULT).unwrap().generation,
            c.generation
        );
        assert!(ok.invalidate(c.generation));
        assert_ne!(
            ok.credential(&Limits::DEFAULT).unwrap().generation,
            c.generation
        );

        let failing = ExecAuth::new(
            config("command: sh\nargs: ['-c', 'echo boom >&2; exit 3']\napiVersion: client.authentication.k8s.io/v1\ninteractiveMode: Never"),
            serde_json::Value::Null,
        )
        .unwrap();
        let e = failing.credential(&Limits::DEFAULT).unwrap_err();
        assert!(e.contains("\"sh\" failed with exit code 3: boom"), "{e}");

        let missing = ExecAuth::new(
            config("command: no-such-plugin-xyz\ninstallHint: install it with apt\napiVersion: client.authentication.k8s.io/v1beta1"),
            serde_json::Value::Null,
        )
        .unwrap();
        let e = missing.credential(&Limits::DEFAULT).unwrap_err();
        assert!(
            e.contains("no-such-plugin-xyz") && e.contains("install it with apt"),
            "{e}"
        );
    }
}

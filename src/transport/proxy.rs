//! Proxies: the cluster's `proxy-url` (http, https, socks5), else the
//! HTTPS_PROXY / HTTP_PROXY / NO_PROXY environment with kubectl's (Go's) rules:
//! upper case before lower case, loopback and localhost never proxied,
//! NO_PROXY entries are `*`, IPs, CIDRs, domains (with their subdomains),
//! `.domain` (subdomains only), each optionally with `:port`.

use std::net::IpAddr;

/// The proxy URL with any password removed, for error messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}<redacted>@{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// A proxy URL as reqwest takes it: `http://` when no scheme is given, and
/// `socks5` resolving names at the proxy, as kubectl's SOCKS5 dialer does.
fn normalize(url: &str) -> Result<String, String> {
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let scheme = url
        .split("://")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match scheme.as_str() {
        "http" | "https" | "socks5h" => Ok(url),
        "socks5" => Ok(format!("socks5h{}", &url[6..])),
        _ => Err(format!(
            "proxy {}: unsupported scheme \"{scheme}\" (http, https or socks5)",
            redact(&url)
        )),
    }
}

/// The reqwest proxy for a cluster: `proxy-url` when set, else the environment.
pub(crate) fn for_cluster(proxy_url: Option<&str>) -> Result<Option<reqwest::Proxy>, String> {
    if let Some(url) = proxy_url {
        let url = normalize(url)?;
        return reqwest::Proxy::all(&url)
            .map(Some)
            .map_err(|_| format!("proxy-url {}: not a valid proxy URL", redact(&url)));
    }
    let env = EnvProxy::from_lookup(|k| std::env::var(k).ok());
    if env.https.is_none() && env.http.is_none() {
        return Ok(None);
    }
    for url in [&env.https, &env.http].into_iter().flatten() {
        reqwest::Proxy::all(url).map_err(|_| {
            format!(
                "HTTPS_PROXY / HTTP_PROXY {}: not a valid proxy URL",
                redact(url)
            )
        })?;
    }
    Ok(Some(reqwest::Proxy::custom(move |url| env.proxy_for(url))))
}

/// The proxy environment, read once (as Go reads it once per process).
#[derive(Debug, Clone, Default)]
pub(crate) struct EnvProxy {
    https: Option<String>,
    http: Option<String>,
    no_proxy: Vec<String>,
}

impl EnvProxy {
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |upper: &str| {
            get(upper)
                .or_else(|| get(&upper.to_ascii_lowercase()))
                .filter(|v| !v.trim().is_empty())
        };
        EnvProxy {
            https: var("HTTPS_PROXY").and_then(|u| normalize(u.trim()).ok()),
            http: var("HTTP_PROXY").and_then(|u| normalize(u.trim()).ok()),
            no_proxy: var("NO_PROXY")
                .unwrap_or_default()
                .split(',')
                .map(|e| e.trim().to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
        }
    }

    /// The proxy to use for `url`, if any.
    pub(crate) fn proxy_for(&self, url: &reqwest::Url) -> Option<String> {
        let proxy = match url.scheme() {
            "https" => self.https.clone(),
            "http" => self.http.clone(),
            _ => None,
        }?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = url.port_or_known_default().unwrap_or_default();
        self.use_proxy(&host.to_ascii_lowercase(), port)
            .then_some(proxy)
    }

    fn use_proxy(&self, host: &str, port: u16) -> bool {
        if host == "localhost" {
            return false;
        }
        let ip = host.parse::<IpAddr>().ok();
        if ip.is_some_and(|ip| ip.is_loopback()) {
            return false;
        }
        !self
            .no_proxy
            .iter()
            .any(|entry| excluded(entry, host, ip, port))
    }
}

/// Whether one NO_PROXY entry matches the host.
fn excluded(entry: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        return match (net.parse::<IpAddr>(), bits.parse::<u8>(), ip) {
            (Ok(net), Ok(bits), Some(ip)) => in_cidr(ip, net, bits),
            _ => false,
        };
    }
    // An entry may carry a port: "host:80", "[::1]:80", "1.2.3.4:80".
    let (name, entry_port) = split_port(entry);
    if entry_port.is_some_and(|p| p != port) {
        return false;
    }
    if let Ok(entry_ip) = name.parse::<IpAddr>() {
        return ip == Some(entry_ip);
    }
    if let Some(suffix) = name.strip_prefix("*.") {
        return host.ends_with(&format!(".{suffix}"));
    }
    if let Some(suffix) = name.strip_prefix('.') {
        return host.ends_with(&format!(".{suffix}"));
    }
    host == name || host.ends_with(&format!(".{name}"))
}

fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, tail)) = rest.split_once(']') {
            return (addr, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match entry.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(p) => (name, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32u32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128u32),
        _ => return false,
    };
    let bits = u32::from(bits);
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= width || (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvProxy {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvProxy::from_lookup(move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    fn via(e: &EnvProxy, url: &str) -> Option<String> {
        e.proxy_for(&reqwest::Url::parse(url).unwrap())
    }

    #[test]
    fn picks_the_variable_for_the_scheme() {
        let e = env(&[
            ("HTTPS_PROXY", "proxy:3128"),
            ("http_proxy", "http://p2:80"),
        ]);
        assert_eq!(
            via(&e, "https://k8s.example:6443").as_deref(),
            Some("http://proxy:3128")
        );
        assert_eq!(
            via(&e, "http://k8s.example").as_deref(),
            Some("http://p2:80")
        );
        let upper_first = env(&[("HTTPS_PROXY", "http://up"), ("https_proxy", "http://low")]);
        assert_eq!(via(&upper_first, "https://x").as_deref(), Some("http://up"));
        assert_eq!(via(&env(&[]), "https://x"), None);
    }

    #[test]
    fn never_proxies_loopback() {
        let e = env(&[("HTTPS_PROXY", "http://proxy:3128")]);
        for url in [
            "https://localhost:6443",
            "https://127.0.0.1:6443",
            "https://[::1]:6443",
        ] {
            assert_eq!(via(&e, url), None, "{url}");
        }
    }

    #[test]
    fn honours_no_proxy() {
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            (
                "NO_PROXY",
                "internal.corp, .svc ,10.0.0.0/8,192.168.1.5,k8s.example:8443,[fd00::1]",
            ),
        ]);
        assert_eq!(via(&e, "https://internal.corp"), None);
        assert_eq!(via(&e, "https://api.internal.corp"), None);
        assert_eq!(via(&e, "https://kubernetes.default.svc"), None);
        assert!(
            via(&e, "https://svc").is_some(),
            ".svc matches subdomains only"
        );
        assert_eq!(via(&e, "https://10.3.4.5:6443"), None);
        assert!(via(&e, "https://11.3.4.5:6443").is_some());
        assert_eq!(via(&e, "https://192.168.1.5"), None);
        assert_eq!(via(&e, "https://k8s.example:8443"), None);
        assert!(
            via(&e, "https://k8s.example:6443").is_some(),
            "port must match"
        );
        assert_eq!(via(&e, "https://[fd00::1]:6443"), None);
        assert!(via(&e, "https://notinternal.corp").is_some());
        let all = env(&[("HTTPS_PROXY", "http://proxy:3128"), ("no_proxy", "*")]);
        assert_eq!(via(&all, "https://anything"), None);
    }

    #[test]
    fn normalizes_and_redacts_proxy_urls() {
        assert_eq!(normalize("socks5://p:1080").unwrap(), "socks5h://p:1080");
        assert_eq!(normalize("https://p").unwrap(), "https://p");
        let e = normalize("ftp://user:pw@p").unwrap_err();
        assert!(e.contains("ftp") && !e.contains("pw"), "{e}");
        assert_eq!(
            redact("http://user:pw@proxy:3128"),
            "http://<redacted>@proxy:3128"
        );
        assert!(for_cluster(Some("http://proxy:3128")).unwrap().is_some());
    }
}

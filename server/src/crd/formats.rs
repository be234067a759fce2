//! The string formats a CRD schema may name that the real server checks
//! (kube-openapi's strfmt registry); unknown formats pass, as there.

use base64::Engine;

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `2006-01-02`
fn date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    matches!(p.as_slice(), [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2)
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

/// RFC 3339: `2006-01-02T15:04:05[.frac](Z|±hh:mm)`
fn date_time(s: &str) -> bool {
    let Some((d, t)) = s.split_once(['T', 't', ' ']) else {
        return false;
    };
    if !date(d) || t.len() < 8 {
        return false;
    }
    let (clock, rest) = t.split_at(8);
    let c: Vec<&str> = clock.split(':').collect();
    let clock_ok = matches!(c.as_slice(), [h, m, sec] if digits(h, 2) && digits(m, 2) && digits(sec, 2)
        && h.parse::<u32>().unwrap_or(99) < 24 && m.parse::<u32>().unwrap_or(99) < 60
        && sec.parse::<u32>().unwrap_or(99) < 61);
    let rest = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            &r[n..]
        }
        None => rest,
    };
    let zone_ok = matches!(rest, "Z" | "z")
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && digits(&rest[1..3], 2)
            && &rest[3..4] == ":"
            && digits(&rest[4..], 2));
    clock_ok && zone_ok
}

fn uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `text` is of `format`.
pub(crate) fn conforms(format: &str, text: &str) -> bool {
    match format {
        "date" => date(text),
        "date-time" | "datetime" => date_time(text),
        "uuid" => uuid(text),
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => text.split_once('/').is_some_and(|(ip, bits)| {
            ip.parse::<std::net::IpAddr>().is_ok() && bits.parse::<u8>().is_ok()
        }),
        "byte" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .is_ok(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::conforms;

    #[test]
    fn formats() {
        assert!(conforms("date-time", "2024-01-02T03:04:05Z"));
        assert!(conforms("date-time", "2024-01-02T03:04:05.123+01:00"));
        assert!(!conforms("date-time", "2024-01-02"));
        assert!(conforms("date", "2024-01-02") && !conforms("date", "2024-13-02"));
        assert!(conforms("uuid", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(!conforms("uuid", "123e4567"));
        assert!(conforms("ipv4", "10.0.0.1") && !conforms("ipv4", "10.0.0"));
        assert!(conforms("byte", "aGk=") && !conforms("byte", "a"));
        assert!(conforms("something-else", "x"));
    }
}

//! Names and namespaces as URL path segments: the one place where a value a
//! script (or a discovery answer) gives becomes part of a request path.
//!
//! A value that cannot be one path segment is refused, as client-go's
//! `IsValidPathSegmentName` does: `.` and `..` (the server would resolve
//! them to another path), anything containing `/` or `%` (another path, or
//! an escape the server decodes again), and control characters (CR/LF were
//! dropped on the way, so the call acted on another name). Everything else
//! is percent-encoded where it is not a path character (`?` and `#` would
//! start a query or a fragment, a space or non-ASCII byte is not allowed in
//! a URL). Legitimate Kubernetes names (`[a-z0-9.-]`, and `:`/`@` in RBAC
//! names) contain only path characters, so they give exactly the URLs
//! luakube built by concatenation.

use std::borrow::Cow;

/// Why `value` cannot be a path segment, if it cannot.
fn refusal(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("it is empty");
    }
    if value == "." || value == ".." {
        return Some("it would name another path");
    }
    if value.contains('/') {
        return Some("it contains '/'");
    }
    if value.contains('%') {
        return Some("it contains '%'");
    }
    if value.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Some("it contains a control character");
    }
    None
}

/// Bytes kept as they are in a path segment (RFC 3986 `pchar` without `%`):
/// unreserved, sub-delims, `:` and `@`.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

/// `value` with every byte that is not a path character percent-encoded
/// (upper-case hex). For values `check` accepted.
pub(crate) fn encode(value: &str) -> Cow<'_, str> {
    if value.bytes().all(plain) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for b in value.bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

/// Checks that `value` can be one path segment; the error names the call
/// (`what`) and the argument (`arg`: name, namespace …).
pub(crate) fn check(what: &str, arg: &str, value: &str) -> mlua::Result<()> {
    match refusal(value) {
        None => Ok(()),
        Some(why) => Err(mlua::Error::runtime(format!(
            "{what}: {arg} {} is not a valid path segment ({why})",
            shown(value)
        ))),
    }
}

/// `value` checked and encoded for the URL path.
pub(crate) fn segment<'a>(what: &str, arg: &str, value: &'a str) -> mlua::Result<Cow<'a, str>> {
    check(what, arg, value)?;
    Ok(encode(value))
}

/// The value quoted for a message, cut short and with control characters escaped.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(100).collect();
    let mut s = format!("{cut:?}");
    if cut.len() < value.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legitimate_names_stay_as_luakube_built_them() {
        for name in [
            "default",
            "my-app.v2",
            "system:controller:job-controller",
            "user@example.com",
            "a",
            "...",
            "x.",
        ] {
            assert_eq!(segment("pods:get", "name", name).unwrap(), name);
        }
    }

    #[test]
    fn names_that_would_reach_another_path_are_refused() {
        for (bad, why) in [
            ("", "empty"),
            (".", "another path"),
            ("..", "another path"),
            ("../secrets/victim", "'/'"),
            ("a/b", "'/'"),
            ("a%2Fb", "'%'"),
            ("x\r\nHost: evil", "control"),
            ("tab\there", "control"),
            ("nul\0", "control"),
            ("del\x7f", "control"),
        ] {
            let e = segment("configmaps:delete", "name", bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("configmaps:delete: name"), "{e}");
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn the_rest_is_percent_encoded() {
        assert_eq!(encode("x?watch=true"), "x%3Fwatch=true");
        assert_eq!(encode("a b#c"), "a%20b%23c");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(
            encode("[x]\"<>\\^`{|}"),
            "%5Bx%5D%22%3C%3E%5C%5E%60%7B%7C%7D"
        );
    }
}

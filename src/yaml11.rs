//! YAML read as kubectl reads it (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1
//! rules) and as luakube's lyaml did: plain `yes`/`no`/`on`/`off` are
//! booleans, `0644` is octal (420), `1_000` is 1000, `0x1F` hex, merge keys
//! `<<: *anchor` are merged, and a stream of several documents gives the first.
//! Quoted and block scalars, and `!!str`, stay strings. serde_yaml (YAML 1.2,
//! no merge keys) cannot tell a quoted `"yes"` from a plain one, hence this
//! event-level reader over yaml-rust2's parser.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Nesting deeper than this is refused (values are dropped recursively).
const MAX_DEPTH: usize = 512;
/// Nodes one document may expand to, aliases included ("billion laughs").
const MAX_NODES: usize = 4_000_000;

enum Frame {
    Seq(Vec<Value>, usize),
    /// Entries, the pending key, merge sources, anchor id.
    Map(Map<String, Value>, Option<String>, Vec<Value>, usize),
}

struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Value>,
    done: Option<Value>,
    documents: usize,
    nodes: usize,
    error: Option<String>,
}

fn size(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(size).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// A plain scalar's value under YAML 1.1 as go-yaml v2 resolves it.
pub(crate) fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        // As lyaml (luakube) reads them; go-yaml v2 also took y/Y/n/N, which
        // are left strings here (`{x: 1, y: 2}` keeps its meaning).
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Value::String(s.to_string());
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(n) = parse_int(&plain) {
        return Value::Number(n);
    }
    if plain
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && plain.bytes().any(|b| b.is_ascii_digit())
    {
        if let Ok(f) = plain.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(s.to_string())
}

/// Go's strconv.ParseInt(s, 0, 64) then ParseUint: 0x, 0o, 0b prefixes and a
/// leading 0 for octal.
fn parse_int(s: &str) -> Option<Number> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            return Some(Number::from((magnitude as i128).wrapping_neg() as i64));
        }
        None
    } else if magnitude <= i64::MAX as u64 {
        Some(Number::from(magnitude as i64))
    } else {
        Some(Number::from(magnitude))
    }
}

fn tagged(value: String, handle: &str, suffix: &str) -> Value {
    if handle != "!!" && handle != "tag:yaml.org,2002:" {
        return resolve_plain_or_string(value);
    }
    match suffix {
        "str" | "binary" | "timestamp" => Value::String(value),
        "null" => Value::Null,
        "bool" | "int" | "float" => match resolve_plain(&value) {
            v @ (Value::Bool(_) | Value::Number(_)) => v,
            _ => Value::String(value),
        },
        _ => resolve_plain_or_string(value),
    }
}

fn resolve_plain_or_string(value: String) -> Value {
    resolve_plain(&value)
}

impl Builder {
    fn fail(&mut self, msg: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(msg.into());
        }
    }

    /// A finished node: into the enclosing collection, or the document.
    fn put(&mut self, v: Value, anchor: usize) {
        self.nodes += 1;
        if anchor > 0 {
            // The anchor keeps its own copy: that copy counts against the
            // budget too, or anchors nested around one big alias expansion
            // hold a copy per level (the fuzzer's 1 KB kubeconfig that grew
            // past 2 GB).
            self.nodes += size(&v);
            if self.nodes > MAX_NODES {
                return self.fail(format!(
                    "the document expands to more than {MAX_NODES} nodes"
                ));
            }
            self.anchors.insert(anchor, v.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.done.is_none() {
                    self.done = Some(v);
                }
            }
            Some(Frame::Seq(items, _)) => items.push(v),
            Some(Frame::Map(map, key, merges, _)) => match key.take() {
                None => {
                    let k = match v {
                        Value::String(s) => s,
                        Value::Null => "null".to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        // As the API machinery's YAML-to-JSON conversion
                        // (sigs.k8s.io/yaml): only scalars name a member.
                        // Written out as text, nested mapping keys grew by
                        // re-escaping at every level: a 1 KB document took
                        // gigabytes.
                        Value::Array(_) | Value::Object(_) => {
                            return self
                                .fail("a mapping key must be a scalar, not a list or mapping");
                        }
                    };
                    *key = Some(k);
                }
                Some(k) if k == "<<" => match v {
                    Value::Array(list) => merges.extend(list),
                    other => merges.push(other),
                },
                Some(k) => {
                    map.insert(k, v);
                }
            },
        }
    }

    /// The key of a map entry keeps its text (`80: y` has the key "80").
    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map(_, None, _, _)))
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        if self.error.is_some() || self.documents > 1 {
            return;
        }
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(text, style, anchor, tag) => {
                if self.documents > 1 {
                    return;
                }
                let v = if self.expecting_key() {
                    Value::String(text)
                } else if let Some(t) = tag {
                    tagged(text, &t.handle, &t.suffix)
                } else if style == TScalarStyle::Plain {
                    resolve_plain(&text)
                } else {
                    Value::String(text)
                };
                self.put(v, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(v) => {
                    self.nodes += size(&v);
                    if self.nodes > MAX_NODES {
                        self.fail(format!(
                            "the document expands to more than {MAX_NODES} nodes"
                        ));
                        return;
                    }
                    // `put` counts it again and would re-anchor it: neither matters.
                    self.put(v, 0);
                }
                None => self.fail("an alias names an unknown anchor"),
            },
            Event::SequenceStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return self.fail("document nested too deeply");
                }
                self.stack.push(Frame::Seq(Vec::new(), anchor));
            }
            Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return self.fail("document nested too deeply");
                }
                self.stack
                    .push(Frame::Map(Map::new(), None, Vec::new(), anchor));
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, anchor)) = self.stack.pop() {
                    self.put(Value::Array(items), anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(mut map, _, merges, anchor)) = self.stack.pop() {
                    // Keys of the mapping itself win; then earlier merge sources.
                    for src in merges {
                        if let Value::Object(m) = src {
                            for (k, v) in m {
                                map.entry(k).or_insert(v);
                            }
                        }
                    }
                    self.put(Value::Object(map), anchor);
                }
            }
            _ => {}
        }
        if self.nodes > MAX_NODES {
            self.fail(format!(
                "the document expands to more than {MAX_NODES} nodes"
            ));
        }
    }
}

/// The first document of `text` as JSON data (`Null` for an empty stream).
pub(crate) fn parse_first(text: &str) -> Result<Value, String> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: Default::default(),
        done: None,
        documents: 0,
        nodes: 0,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    // Parse errors after the first document do not matter (lyaml read lazily too).
    let outcome = parser.load(&mut b, true);
    if let Some(e) = b.error {
        return Err(e);
    }
    match (outcome, b.done) {
        (_, Some(v)) if b.stack.is_empty() => Ok(v),
        (Err(e), _) => Err(e.to_string()),
        (Ok(()), v) => Ok(v.unwrap_or(Value::Null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn complex_keys_are_refused() {
        for doc in ["? [a, b]\n: 1\n", "{{a: 1}: 2}\n", "? {? {x: 1} : 2} : 3\n"] {
            let err = parse_first(doc).unwrap_err();
            assert!(
                err.contains("mapping key must be a scalar"),
                "{doc:?}: {err}"
            );
        }
        assert_eq!(parse_first("80: y\n").unwrap(), json!({"80": "y"}));
    }

    #[test]
    fn anchors_nested_around_an_expansion_stay_within_the_budget() {
        // 10 * 10 * 10 * 10 * 10 = 100,000 nodes from aliases, then 60 nested
        // anchored sequences around that value: one copy per anchor would be
        // 6 million nodes.
        let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, prev) in ["a", "b", "c", "d"].iter().enumerate() {
            let name = ["b", "c", "d", "e"][i];
            let items = vec![format!("*{prev}"); 10].join(", ");
            doc.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        doc.push_str("f: ");
        for i in 0..60 {
            doc.push_str(&format!("&n{i} ["));
        }
        doc.push_str("*e");
        doc.push_str(&"]".repeat(60));
        doc.push('\n');
        let started = std::time::Instant::now();
        let err = parse_first(&doc).unwrap_err();
        assert!(err.contains("expands to more than"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn yaml_1_1_scalars() {
        let v = parse_first(
            "a: yes\nb: off\nc: 0644\nd: 1_000\ne: 0x1F\nf: 'yes'\ng: \"0644\"\nh: ~\ni: 1.5\nj: hello\nk: !!str 12\nl: -17\nm: 08\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": 420, "d": 1000, "e": 31, "f": "yes", "g": "0644",
                   "h": null, "i": 1.5, "j": "hello", "k": "12", "l": -17, "m": 8.0})
        );
    }

    #[test]
    fn merge_keys_and_first_document() {
        let v = parse_first(
            "base: &b {a: 1, b: 2}\nspec:\n  <<: *b\n  b: 3\nlist: [*b]\n---\nother: 1\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"base": {"a": 1, "b": 2}, "spec": {"a": 1, "b": 3}, "list": [{"a": 1, "b": 2}]})
        );
        let v = parse_first("x: &a {p: 1}\ny: &c {q: 2}\nz: {<<: [*a, *c], p: 9}\n").unwrap();
        assert_eq!(v["z"], json!({"p": 9, "q": 2}));
        assert_eq!(
            parse_first("labels: {80: y}").unwrap(),
            json!({"labels": {"80": "y"}})
        );
    }

    #[test]
    fn bounded() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse_first(&doc).is_err());
        assert!(parse_first(&"[".repeat(100_000)).is_err());
        assert!(parse_first("a: [1, 2").is_err());
        assert_eq!(parse_first("").unwrap(), Value::Null);
    }
}

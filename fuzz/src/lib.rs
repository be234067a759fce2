//! The checks behind every fuzz target, as plain functions of the input bytes,
//! so the same code runs under libFuzzer (`fuzz_targets/`) and as a corpus
//! replay in the root crate's `cargo test` (`tests/fuzz_corpus.rs`), which
//! needs neither cargo-fuzz nor nightly.
//!
//! Each function panics only when a property of the module is broken; an
//! input the module rightly rejects (an `Err`) is not a failure.

use kube_core::surface::{self as kube, Format, KubeConfig, LineBuffer};
use mlua::{Lua, Table, Value};

/// Runs `f` with this thread's Lua state, collecting its garbage afterwards
/// (a fresh state per input cost more than the checks).
fn with_lua(f: impl FnOnce(&Lua)) {
    thread_local!(static LUA: Lua = Lua::new());
    LUA.with(|lua| {
        f(lua);
        let _ = lua.gc_collect();
    });
}

/// The check a fuzz target runs on one input.
pub type Check = fn(&[u8]);

/// The fuzz targets, by directory name under `fuzz/corpus/`.
pub const TARGETS: &[(&str, Check)] = &[
    ("kubeconfig", kubeconfig),
    ("json_to_lua", json_to_lua),
    ("lua_to_json", lua_to_json),
    ("line_framer", line_framer),
    ("query", query_string),
];

/// Kubeconfig text → parse, select every context (resolving servers, CAs and
/// credentials) and format the result for debugging.
///
/// The parser reads the files a kubeconfig names (CA, client certificate,
/// key, token file). Inputs that could name device or process files
/// (`/dev/zero` would never end) or spell paths through YAML escapes and tags
/// are skipped, so only ordinary missing files are tried.
pub fn kubeconfig(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let risky = ["dev", "proc", "sys", "\\", "!", "%", "exec", "command"];
    if risky.iter().any(|r| text.contains(r)) {
        return;
    }
    let Ok(mut cfg) = KubeConfig::parse(text, "fuzz".into(), None, None) else {
        return;
    };
    for name in cfg.context_names() {
        if let Err(e) = cfg.use_context(&name) {
            // Errors name the kubeconfig; an empty message helps nobody.
            assert!(!e.to_string().is_empty());
        }
    }
    let _ = format!("{cfg:?}");
    let _ = (cfg.cluster_names(), cfg.user_names());
}

/// JSON or YAML text → Lua. The first byte picks the format. Whatever JSON
/// decodes must encode back, and a second round trip changes nothing.
pub fn json_to_lua(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    with_lua(|lua| decode_and_reencode(lua, selector, text));
}

fn decode_and_reencode(lua: &Lua, selector: u8, text: &[u8]) {
    let format = if selector & 1 == 0 {
        Format::Json
    } else {
        Format::Yaml
    };
    let Ok(value) = kube::decode(lua, text, format) else {
        return;
    };
    let first = match (kube::encode(lua, &value, "doc"), format) {
        (Ok(json), _) => json,
        // YAML has values JSON lacks (.nan, .inf, non-string keys of tables).
        (Err(_), Format::Yaml) => return,
        (Err(e), Format::Json) => panic!("decoded JSON does not encode back: {e}"),
    };
    assert_same_after_round_trip(lua, &first);
}

/// Lua values built from the input (nested tables, shared tables and cycles,
/// functions, userdata, NaN and infinities, mixed keys, invalid UTF-8, long
/// strings) → JSON. Encoding either fails with a message or yields JSON that
/// survives a round trip unchanged.
pub fn lua_to_json(data: &[u8]) {
    with_lua(|lua| {
        let Ok(root) = LuaBuilder::new(lua, data).build() else {
            return;
        };
        match kube::encode(lua, &Value::Table(root), "body") {
            Ok(json) => assert_same_after_round_trip(lua, &json),
            Err(e) => assert!(e.starts_with("body"), "error does not name the path: {e}"),
        }
    });
}

/// `json` as a serde_json value, nested as deep as the module decodes
/// (serde_json's own limit, 128 levels, is below it).
fn parse_json(json: &[u8]) -> serde_json::Result<serde_json::Value> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_slice(json);
    de.disable_recursion_limit();
    let v = serde_json::Value::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// `json` must be valid JSON, decode into Lua, and encode to the same document.
fn assert_same_after_round_trip(lua: &Lua, json: &[u8]) {
    let parsed: serde_json::Value = parse_json(json).unwrap_or_else(|e| {
        panic!(
            "encoder wrote invalid JSON ({e}): {}",
            String::from_utf8_lossy(json)
        )
    });
    let again = kube::decode(lua, json, Format::Json)
        .unwrap_or_else(|e| panic!("encoder output does not decode: {e}"));
    let second = kube::encode(lua, &again, "doc")
        .unwrap_or_else(|e| panic!("decoded encoder output does not encode: {e}"));
    let reparsed: serde_json::Value = parse_json(&second).expect("second encoding");
    assert_eq!(parsed, reparsed, "round trip changed the document");
}

/// Builds a Lua table from bytes read as a tiny instruction stream.
struct LuaBuilder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
    tables: Vec<Table>,
    current: usize,
    long_string_made: bool,
    shared: usize,
}

impl<'a> LuaBuilder<'a> {
    fn new(lua: &'a Lua, data: &'a [u8]) -> Self {
        LuaBuilder {
            lua,
            data,
            pos: 0,
            tables: Vec::new(),
            current: 0,
            long_string_made: false,
            shared: 0,
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let end = (self.pos + n).min(self.data.len());
        let s = &self.data[self.pos..end];
        self.pos = end;
        s
    }

    fn eight(&mut self) -> [u8; 8] {
        let mut b = [0u8; 8];
        let s = self.bytes(8);
        b[..s.len()].copy_from_slice(s);
        b
    }

    fn build(mut self) -> mlua::Result<Table> {
        self.tables.push(self.lua.create_table()?);
        // Bounded so one input cannot build an unbounded graph.
        for _ in 0..256 {
            let Some(op) = self.byte() else { break };
            self.step(op)?;
        }
        Ok(self.tables[0].clone())
    }

    fn key(&mut self) -> mlua::Result<Value> {
        let b = self.byte().unwrap_or(0);
        Ok(match b % 5 {
            0 | 1 => Value::Integer(i64::from(b / 5 % 6) + 1 - i64::from(b >= 250)),
            2 => {
                let n = usize::from(self.byte().unwrap_or(0) % 12);
                Value::String(self.lua.create_string(self.bytes(n))?)
            }
            3 => Value::Number(f64::from_le_bytes(self.eight())),
            _ => Value::Boolean(b & 128 != 0),
        })
    }

    fn step(&mut self, op: u8) -> mlua::Result<()> {
        let value = match op % 12 {
            0 => {
                let t = self.lua.create_table()?;
                self.tables.push(t.clone());
                Value::Table(t)
            }
            1 => {
                let n = usize::from(self.byte().unwrap_or(0));
                Value::String(self.lua.create_string(self.bytes(n))?)
            }
            2 => Value::Integer(i64::from_le_bytes(self.eight())),
            3 => Value::Number(f64::from_le_bytes(self.eight())),
            4 => Value::Boolean(op & 128 != 0),
            // A table made earlier: shared subtrees, or a cycle. Each shared
            // reference can double what the encoder writes, so only a few.
            5 if self.shared < 8 => {
                self.shared += 1;
                let i = usize::from(self.byte().unwrap_or(0)) % self.tables.len();
                Value::Table(self.tables[i].clone())
            }
            5 => Value::Boolean(op & 128 != 0),
            6 => Value::Function(self.lua.create_function(|_, ()| Ok(()))?),
            7 => Value::UserData(self.lua.create_any_userdata(op)?),
            8 => Value::NULL,
            9 => {
                self.current = usize::from(self.byte().unwrap_or(0)) % self.tables.len();
                return Ok(());
            }
            10 => {
                let mt = kube::array_metatable(self.lua)?;
                self.tables[self.current].set_metatable(Some(mt))?;
                return Ok(());
            }
            _ => {
                // At most one long string per input (12 KB), and only for one
                // opcode. A 60 KB one, kept by most inputs, spent three
                // quarters of the fuzzer's time escaping and parsing
                // `\u00XX` without reaching new code; strings of megabytes
                // are checked once by convert's unit tests instead.
                let unit = self.bytes(3).to_vec();
                let long = op == 251 && !self.long_string_made;
                let times = if long { 4_000 } else { 16 };
                self.long_string_made |= long;
                Value::String(self.lua.create_string(unit.repeat(times))?)
            }
        };
        let key = self.key()?;
        // NaN keys are not allowed in Lua tables; the builder skips them.
        if matches!(key, Value::Number(n) if n.is_nan()) {
            return Ok(());
        }
        self.tables[self.current].raw_set(key, value)
    }
}

/// Watch and log streams: bytes cut into chunks where the input says, fed to
/// the line buffer, must come out as exactly the lines of the whole stream
/// (`\n` separated, one trailing `\r` dropped, the unterminated rest last).
pub fn line_framer(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let mut buffer = LineBuffer::default();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut pos = 0;
    let mut step = usize::from(seed) + 1;
    while pos < stream.len() {
        let end = (pos + step).min(stream.len());
        buffer.push(&stream[pos..end]);
        while let Some(line) = buffer.next_line() {
            lines.push(line);
        }
        pos = end;
        step = step * 7 % 257 + 1;
    }
    lines.extend(buffer.take_rest());
    assert!(buffer.next_line().is_none(), "lines left after the rest");

    // Everything up to the last newline is whole lines; after it, the raw rest.
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let rest = match stream.iter().rposition(|&b| b == b'\n') {
        Some(last) => {
            expected.extend(
                stream[..last]
                    .split(|&b| b == b'\n')
                    .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec()),
            );
            &stream[last + 1..]
        }
        None => stream,
    };
    if !rest.is_empty() {
        expected.push(rest.to_vec());
    }
    assert_eq!(lines, expected);
}

/// Query tables with keys and values of every Lua type → a query string that
/// is percent-encoded, sorted by key, with one pair per table entry; or an
/// error naming the key or value that is not a string, number or boolean.
pub fn query_string(data: &[u8]) {
    with_lua(|lua| query_from_entries(lua, data));
}

fn query_from_entries(lua: &Lua, data: &[u8]) {
    let Ok(t) = lua.create_table() else { return };
    let mut entries = 0usize;
    let mut chunks = data.chunks(9);
    for chunk in chunks.by_ref().take(64) {
        let (&kind, rest) = chunk.split_first().unwrap_or((&0, &[]));
        let key: Value = match kind % 4 {
            0 => Value::Integer(i64::from(rest.first().copied().unwrap_or(0))),
            1 => Value::Boolean(kind & 16 != 0),
            2 => match lua.create_table() {
                Ok(inner) => Value::Table(inner),
                Err(_) => return,
            },
            _ => match lua.create_string(rest) {
                Ok(s) => Value::String(s),
                Err(_) => return,
            },
        };
        let value: Value = match kind / 4 % 6 {
            0 => Value::Boolean(kind & 64 != 0),
            1 => {
                let mut b = [0u8; 8];
                b[..rest.len().min(8)].copy_from_slice(&rest[..rest.len().min(8)]);
                Value::Number(f64::from_le_bytes(b))
            }
            2 => Value::Integer(i64::from(kind)),
            3 => Value::Function(match lua.create_function(|_, ()| Ok(())) {
                Ok(f) => f,
                Err(_) => return,
            }),
            _ => match lua.create_string(rest.iter().rev().copied().collect::<Vec<u8>>()) {
                Ok(s) => Value::String(s),
                Err(_) => return,
            },
        };
        // Counted as set, not by walking the table after every insert (that
        // walk made this target quadratic in its entries).
        let is_new = matches!(t.raw_get::<Value>(&key), Ok(Value::Nil));
        if t.raw_set(key, value).is_ok() && is_new {
            entries += 1;
        }
    }
    match kube::query_string(&t) {
        Ok(q) => check_query(&q, entries),
        Err(e) => assert!(
            e.starts_with("query key") || e.starts_with("query value of"),
            "unexpected error: {e}"
        ),
    }
}

fn check_query(q: &str, entries: usize) {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-~%+=&".contains(c);
    assert!(q.chars().all(allowed), "unescaped character in {q:?}");
    // An empty key with an empty value renders as nothing, so "" may stand
    // for no entry or for that one.
    let pairs: Vec<&str> = q.split('&').collect();
    if entries == 0 {
        assert!(q.is_empty(), "no entries but {q:?}");
    } else {
        assert_eq!(pairs.len(), entries, "one pair per entry in {q:?}");
    }
    let keys: Vec<Vec<u8>> = pairs
        .iter()
        .map(|p| percent_decode(p.split('=').next().unwrap_or("")))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "keys not sorted: {q:?}"
    );
    for p in &pairs {
        assert!(p.matches('=').count() <= 1, "'=' not escaped in {p:?}");
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3).expect("truncated %-escape"))
                .expect("ascii");
            assert!(
                hex.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
                "lower-case or bad escape %{hex}"
            );
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

//! Decoding a list answer into Lua while it arrives.
//!
//! A list of thousands of objects is tens of megabytes; decoding it only after
//! the last byte leaves the decoder idle while the server encodes and the
//! network carries the rest. `ListDecoder` takes the body chunk by chunk,
//! finds each complete value of the top-level object (and each element of its
//! `items` array) with a light structural scan, and decodes it at once with
//! the regular decoder, so most of the work is done by the time the body
//! ends.
//!
//! The result is the table whole-document decoding gives. Anything the scan
//! does not expect (a top level that is not an object, a value that fails to
//! decode, a cut-off body) makes `finish` decode the whole body instead, so
//! errors read exactly as they always did.

use crate::convert::{self, Format};
use crate::streaming::BodySink;
use crate::view::Projection;
use mlua::{Lua, Table, Value};
use std::rc::Rc;

/// An object's JSON text, as it came in the body.
pub(crate) type JsonText = Box<[u8]>;

/// Where the scan is in the top-level object.
#[derive(Clone, Copy, PartialEq, Debug)]
enum At {
    /// Before the opening `{`.
    Start,
    /// After `{` or `,`: a key, or `}` right after `{`.
    Key,
    /// After a key: its `:`.
    Colon,
    /// After `:`: the value.
    Value,
    /// After a value: `,` or `}`.
    AfterValue,
    /// Inside `items`: an element, or `]` right after `[`.
    Item,
    /// After an element: `,` or `]`.
    AfterItem,
    /// After the closing `}`: only whitespace may follow.
    Done,
}

/// Progress through one JSON value that may span chunks.
#[derive(Default)]
struct ValueScan {
    start: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// A number, `true`, `false` or `null`: ends at the next delimiter.
    scalar: bool,
}

pub(crate) struct ListDecoder {
    /// A handle of the state (owned, so a pending call can keep its decoder).
    lua: Lua,
    /// The whole body so far: values are decoded from it in place, and it is
    /// what `finish` falls back to.
    body: Vec<u8>,
    /// The next byte to scan.
    pos: usize,
    at: At,
    /// The value being scanned, once its first byte is seen.
    value: Option<ValueScan>,
    /// Where in `body` the key whose value comes next is (quotes included).
    key: (usize, usize),
    /// The last structural byte was a `,`.
    after_comma: bool,
    top: Option<Table>,
    items: Option<(Table, i64)>,
    /// Where each element of `items` is in `body`.
    item_spans: Vec<(usize, usize)>,
    /// The structure was not what the scan expects: decode the whole body.
    broken: bool,
    /// Items are built with only these fields (`view.rs`).
    projection: Option<Rc<Projection>>,
    /// `metadata.continue`, read as soon as the top-level `metadata` was
    /// decoded (real servers and the stand-in write it before `items`), until
    /// taken: a pager asks for the next page while this one still arrives.
    continue_token: Option<String>,
    /// A pager takes the token early: the pump stops when it is read.
    announce_continue: bool,
}

impl ListDecoder {
    pub(crate) fn new(lua: &Lua) -> Self {
        ListDecoder {
            lua: lua.clone(),
            body: Vec::new(),
            pos: 0,
            at: At::Start,
            value: None,
            key: (0, 0),
            after_comma: false,
            top: None,
            items: None,
            item_spans: Vec::new(),
            broken: false,
            projection: None,
            continue_token: None,
            announce_continue: false,
        }
    }

    /// Has the pump stop once the continue token was read (`take_continue`).
    pub(crate) fn announce_continue(&mut self) {
        self.announce_continue = true;
    }

    /// The list's continue token, once its `metadata` was decoded (given once).
    pub(crate) fn take_continue(&mut self) -> Option<String> {
        self.continue_token.take()
    }

    /// The same decoder building list items with only `projection`'s fields.
    pub(crate) fn projecting(mut self, projection: Option<Rc<Projection>>) -> Self {
        self.projection = projection;
        self
    }

    /// The decoded document: `Nil` for an empty body, the whole-body
    /// decoder's result (or error) when the incremental scan gave up.
    pub(crate) fn finish(self) -> Result<Value, String> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Nil);
        }
        match (self.broken, self.at, self.top) {
            (false, At::Done, Some(top)) => Ok(Value::Table(top)),
            _ => match &self.projection {
                // The whole body, its items projected.
                Some(p) => crate::view::decode(&self.lua, &self.body, &Projection::for_lists(p))
                    .map_err(|e| e.to_string()),
                None => {
                    convert::decode(&self.lua, &self.body, Format::Json).map_err(|e| e.to_string())
                }
            },
        }
    }

    /// As `finish`, with each element of `items` also as the JSON text it came
    /// in; `None` for those when the whole body had to be decoded instead.
    #[cfg(test)]
    pub(crate) fn finish_with_items(self) -> (Result<Value, String>, Option<Vec<JsonText>>) {
        let items = self.item_texts();
        (self.finish(), items)
    }

    /// Each element of `items` as the JSON text it came in, once the whole
    /// body was scanned as expected.
    pub(crate) fn item_texts(&self) -> Option<Vec<JsonText>> {
        let whole = !self.broken && self.at == At::Done && self.top.is_some();
        whole.then(|| {
            self.item_spans
                .iter()
                .map(|&(start, end)| self.body[start..end].into())
                .collect()
        })
    }

    fn scan(&mut self) {
        while !self.broken && self.pos < self.body.len() {
            if self.value.is_some() {
                match self.scan_value() {
                    Some(end) => self.value_done(end),
                    None => return,
                }
                continue;
            }
            let b = self.body[self.pos];
            if b.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            match (self.at, b) {
                (At::Start, b'{') => match self.lua.create_table() {
                    Ok(t) => {
                        self.top = Some(t);
                        self.step(At::Key);
                    }
                    Err(_) => self.broken = true,
                },
                // A member or element may not follow a comma directly.
                (At::Key, b'}') | (At::Item, b']') if self.after_comma => self.broken = true,
                (At::Key, b'}') => self.step(At::Done),
                (At::Item, b']') => self.end_items(),
                (At::Value, b'[') if self.key_is_items() => self.start_items(),
                (At::Key, b'"') | (At::Value, _) | (At::Item, _) => {
                    self.after_comma = false;
                    self.value = Some(ValueScan {
                        start: self.pos,
                        ..ValueScan::default()
                    });
                }
                (At::Colon, b':') => self.step(At::Value),
                (At::AfterValue, b',') => {
                    self.step(At::Key);
                    self.after_comma = true;
                }
                (At::AfterValue, b'}') => self.step(At::Done),
                (At::AfterItem, b',') => {
                    self.step(At::Item);
                    self.after_comma = true;
                }
                (At::AfterItem, b']') => self.end_items(),
                _ => self.broken = true,
            }
        }
    }

    /// Moves past the structural byte at `pos`.
    fn step(&mut self, to: At) {
        self.at = to;
        self.pos += 1;
    }

    fn key_is_items(&self) -> bool {
        self.body.get(self.key.0..self.key.1) == Some(b"\"items\"".as_slice())
    }

    fn start_items(&mut self) {
        let (Some(top), Ok(items)) = (&self.top, self.lua.create_table()) else {
            self.broken = true;
            return;
        };
        let marked = convert::array_metatable(&self.lua)
            .and_then(|mt| items.set_metatable(Some(mt)))
            .and_then(|()| top.raw_set("items", &items));
        match marked {
            Ok(()) => {
                self.items = Some((items, 0));
                self.step(At::Item);
            }
            Err(_) => self.broken = true,
        }
    }

    fn end_items(&mut self) {
        self.items = None;
        self.step(At::AfterValue);
    }

    /// Advances through the current value; its end (exclusive) once complete.
    fn scan_value(&mut self) -> Option<usize> {
        let v = self.value.as_mut()?;
        let bytes = &self.body;
        let mut i = self.pos;
        if i == v.start {
            match bytes[i] {
                b'{' | b'[' => v.depth = 1,
                b'"' => v.in_string = true,
                _ => v.scalar = true,
            }
            i += 1;
        }
        while i < bytes.len() {
            let b = bytes[i];
            if v.in_string {
                if v.escaped {
                    v.escaped = false;
                    i += 1;
                    continue;
                }
                // Most of a list's bytes are inside strings: jump to the
                // next quote or backslash (byte by byte this scan was an
                // eighth of a 5,000-pod list's profile on LuaJIT).
                let Some(at) = memchr::memchr2(b'"', b'\\', &bytes[i..]) else {
                    i = bytes.len();
                    break;
                };
                i += at;
                if bytes[i] == b'\\' {
                    v.escaped = true;
                } else {
                    v.in_string = false;
                    if v.depth == 0 {
                        self.pos = i + 1;
                        return Some(i + 1);
                    }
                }
            } else if v.scalar {
                if matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace() {
                    self.pos = i;
                    return Some(i);
                }
            } else {
                match b {
                    b'"' => v.in_string = true,
                    b'{' | b'[' => v.depth += 1,
                    b'}' | b']' => {
                        v.depth -= 1;
                        if v.depth == 0 {
                            self.pos = i + 1;
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        self.pos = i;
        None
    }

    /// A complete value at `start..end`: a key, an object member or an item.
    fn value_done(&mut self, end: usize) {
        let Some(v) = self.value.take() else { return };
        match self.at {
            At::Key => {
                self.key = (v.start, end);
                self.at = At::Colon;
            }
            At::Value => {
                let stored = self.decode(v.start, end).and_then(|value| {
                    let key: String = serde_json::from_slice(&self.body[self.key.0..self.key.1])
                        .map_err(|e| e.to_string())?;
                    let top = self.top.as_ref().ok_or("no object")?;
                    let token = match (&value, key.as_str()) {
                        (Value::Table(meta), "metadata") => match meta.raw_get("continue") {
                            Ok(Value::String(t)) => Some(t.to_string_lossy()),
                            _ => None,
                        },
                        _ => None,
                    };
                    top.raw_set(key, value).map_err(|e| e.to_string())?;
                    Ok(token.filter(|t| !t.is_empty()))
                });
                match stored {
                    Ok(token) => self.continue_token = token.or(self.continue_token.take()),
                    Err(_) => self.broken = true,
                }
                self.at = At::AfterValue;
            }
            At::Item => {
                self.item_spans.push((v.start, end));
                let stored = self.decode_item(v.start, end).and_then(|value| {
                    let (items, n) = self.items.as_mut().ok_or("no items")?;
                    *n += 1;
                    items.raw_set(*n, value).map_err(|e| e.to_string())
                });
                self.broken |= stored.is_err();
                self.at = At::AfterItem;
            }
            _ => self.broken = true,
        }
    }

    fn decode(&self, start: usize, end: usize) -> Result<Value, String> {
        convert::decode(&self.lua, &self.body[start..end], Format::Json).map_err(|e| e.to_string())
    }

    /// A list item, projected when asked.
    fn decode_item(&self, start: usize, end: usize) -> Result<Value, String> {
        match &self.projection {
            Some(p) => {
                crate::view::decode(&self.lua, &self.body[start..end], p).map_err(|e| e.to_string())
            }
            None => self.decode(start, end),
        }
    }
}

impl BodySink for ListDecoder {
    fn restart(&mut self) {
        let announce = self.announce_continue;
        *self = ListDecoder::new(&self.lua).projecting(self.projection.take());
        self.announce_continue = announce;
    }

    fn feed(&mut self, chunk: &[u8]) {
        self.body.extend_from_slice(chunk);
        if !self.broken {
            self.scan();
        }
    }

    fn has_news(&self) -> bool {
        self.announce_continue && self.continue_token.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `text` cut every `step` bytes; returns the result as JSON.
    /// The document as JSON values: compared as maps, since a Lua table's
    /// key order depends on how it was built (and on the state's hash seed).
    fn as_json(lua: &Lua, v: &Value) -> Result<serde_json::Value, String> {
        let bytes = convert::encode(lua, v, "doc")?;
        Ok(serde_json::from_slice(&bytes).expect("the encoder writes JSON"))
    }

    fn decode_in_steps(lua: &Lua, text: &str, step: usize) -> Result<serde_json::Value, String> {
        let mut d = ListDecoder::new(lua);
        for chunk in text.as_bytes().chunks(step) {
            d.feed(chunk);
        }
        // Objects are decoded as they come, not by the whole-body fallback.
        if text.trim_start().starts_with('{') && !text.contains("\\ud800") {
            let incremental = !d.broken && d.at == At::Done;
            let malformed = whole(lua, text).is_err();
            assert_eq!(!malformed, incremental, "{text} in steps of {step}");
        }
        let v = d.finish()?;
        as_json(lua, &v)
    }

    fn whole(lua: &Lua, text: &str) -> Result<serde_json::Value, String> {
        let v = if text.bytes().all(|b| b.is_ascii_whitespace()) {
            Value::Nil
        } else {
            convert::decode(lua, text.as_bytes(), Format::Json).map_err(|e| e.to_string())?
        };
        as_json(lua, &v)
    }

    #[test]
    fn any_cut_gives_what_whole_decoding_gives() {
        let lua = Lua::new();
        let docs = [
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"a\"}]"}},{"n":[1,2.5,-3e2,true,false,null]},"s",7]}"#,
            r#" { "items" : [ ] , "metadata" : { } } "#,
            r#"{"items":[],"items":[{"a":1}]}"#,
            r#"{"items":null,"x":"\u00e9\\"}"#,
            r#"{"metadata":{"continue":"abc"},"items":[{"a":{"b":[[],{}]}}]}"#,
            r#"{}"#,
            r#"[1,2]"#,
            r#""text""#,
            "  ",
        ];
        for doc in docs {
            for step in [1, 2, 3, 7, 64, 4096] {
                assert_eq!(
                    whole(&lua, doc),
                    decode_in_steps(&lua, doc, step),
                    "{doc} in steps of {step}"
                );
            }
        }
    }

    #[test]
    fn broken_documents_fail_as_whole_decoding_fails() {
        let lua = Lua::new();
        let docs = [
            r#"{"items":[{"a":1},]}"#,
            r#"{"items":[{"a":1}],}"#,
            r#"{"items":[{"a":1}"#,
            r#"{"items":[{"a":1}]} x"#,
            r#"{"items":[{"a":tru}]}"#,
            r#"{"a" 1}"#,
            r#"{"items":[1 2]}"#,
            r#"{"items":[{"a":"\ud800"}]}"#,
        ];
        for doc in docs {
            for step in [1, 5, 4096] {
                let got = decode_in_steps(&lua, doc, step);
                assert!(got.is_err(), "{doc} decoded as {got:?}");
                assert_eq!(whole(&lua, doc).unwrap_err(), got.unwrap_err(), "{doc}");
            }
        }
    }

    /// The pager asks for the next page once the token is read, before the
    /// items: the pump learns it from `has_news` (only when announced).
    #[test]
    fn the_continue_token_is_known_before_the_items() {
        let lua = Lua::new();
        let mut d = ListDecoder::new(&lua);
        d.feed(br#"{"kind":"PodList","metadata":{"continue":"tok","resourceVersion":"5"},"#);
        assert!(!d.has_news(), "not announced: no news");
        d.announce_continue();
        assert!(d.has_news());
        assert_eq!(d.take_continue().as_deref(), Some("tok"));
        assert!(!d.has_news(), "given once");
        d.feed(br#""items":[{"a":1}]}"#);
        assert!(d.take_continue().is_none());
        assert!(d.finish().is_ok());
        let mut last = ListDecoder::new(&lua);
        last.announce_continue();
        last.feed(br#"{"metadata":{"continue":""},"items":[]}"#);
        assert!(!last.has_news(), "an empty token is the last page");
    }

    #[test]
    fn a_new_attempt_starts_afresh() {
        let lua = Lua::new();
        let mut d = ListDecoder::new(&lua);
        d.feed(br#"{"items":[{"a":1},{"b""#);
        d.restart();
        d.feed(br#"{"items":[{"c":3}]}"#);
        let v = d.finish().unwrap();
        let json = convert::encode(&lua, &v, "doc").unwrap();
        assert_eq!(br#"{"items":[{"c":3}]}"#.as_slice(), json.as_slice());
    }

    #[test]
    fn items_come_with_their_text() {
        let lua = Lua::new();
        let body =
            br#"{"kind":"PodList","items":[ {"a":[1,"]}"]} ,{"b":{"c":null}}],"metadata":{}}"#;
        for step in [1, 7, body.len()] {
            let mut d = ListDecoder::new(&lua);
            for chunk in body.chunks(step) {
                d.feed(chunk);
            }
            let (value, texts) = d.finish_with_items();
            assert!(value.is_ok());
            let texts: Vec<&[u8]> = texts.as_deref().unwrap().iter().map(|t| &t[..]).collect();
            assert_eq!(
                texts,
                [br#"{"a":[1,"]}"]}"#.as_slice(), br#"{"b":{"c":null}}"#]
            );
        }
        // Not the shape the scan expects: decoded whole, no texts.
        let mut d = ListDecoder::new(&lua);
        d.feed(br#"{"items":[1,,2]}"#);
        let (value, texts) = d.finish_with_items();
        assert!(value.is_err() && texts.is_none());
    }
}

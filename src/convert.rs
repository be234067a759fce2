//! JSON and YAML <-> Lua values.
//!
//! Decoding builds Lua tables directly on the Lua stack from serde events (no
//! intermediate `serde_json::Value`): that is what keeps a large list as fast
//! as lua-cjson. Arrays get a marker metatable so `[]` stays `[]` when a
//! decoded object is sent back; JSON null is `kube.null` (the NULL light
//! userdata, equal to `cjson.null`).

use mlua::ffi;
use mlua::{Lua, Table, Value};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::os::raw::c_int;

const ARRAY_MT_KEY: &str = "kube.array_mt";

/// The metatable that marks a table as a JSON array (created once per state).
pub fn array_metatable(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(t) = lua.named_registry_value::<Table>(ARRAY_MT_KEY) {
        return Ok(t);
    }
    let t = lua.create_table()?;
    t.raw_set("__name", "kube.array")?;
    lua.set_named_registry_value(ARRAY_MT_KEY, &t)?;
    Ok(t)
}

/// Input formats the decoder understands.
#[derive(Clone, Copy)]
pub enum Format {
    Json,
    Yaml,
}

/// Decodes JSON or YAML text into a Lua value.
pub fn decode(lua: &Lua, text: &[u8], format: Format) -> mlua::Result<Value> {
    let mt = array_metatable(lua)?;
    let mut failure: Option<String> = None;
    let value: Value = unsafe {
        lua.exec_raw(mt, |state| {
            let seed = PushSeed { state, array_mt: 1 };
            let outcome = match format {
                Format::Json => {
                    let mut de = serde_json::Deserializer::from_slice(text);
                    seed.deserialize(&mut de)
                        .map_err(|e| e.to_string())
                        .and_then(|_| de.end().map_err(|e| e.to_string()))
                }
                Format::Yaml => match std::str::from_utf8(text) {
                    Ok(s) => seed
                        .deserialize(serde_yaml::Deserializer::from_str(s))
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("invalid UTF-8: {e}")),
                },
            };
            match outcome {
                Ok(()) => ffi::lua_replace(state, 1),
                Err(e) => {
                    failure = Some(e);
                    ffi::lua_settop(state, 0);
                    ffi::lua_pushnil(state);
                }
            }
            ffi::lua_settop(state, 1);
        })
    }?;
    match failure {
        Some(e) => Err(mlua::Error::runtime(e)),
        None => Ok(value),
    }
}

/// Pushes exactly one Lua value per deserialized value.
#[derive(Clone, Copy)]
struct PushSeed {
    state: *mut ffi::lua_State,
    array_mt: c_int,
}

impl PushSeed {
    fn room(&self) -> Result<(), &'static str> {
        if unsafe { ffi::lua_checkstack(self.state, 4) } == 0 {
            return Err("document nested too deeply for the Lua stack");
        }
        Ok(())
    }
    fn push_str(&self, s: &[u8]) {
        unsafe {
            ffi::lua_pushlstring(self.state, s.as_ptr() as *const _, s.len());
        }
    }
    fn push_i64(&self, v: i64) {
        #[cfg(any(feature = "lua54", feature = "lua53"))]
        unsafe {
            ffi::lua_pushinteger(self.state, v)
        }
        #[cfg(not(any(feature = "lua54", feature = "lua53")))]
        unsafe {
            ffi::lua_pushnumber(self.state, v as f64)
        }
    }
}

impl<'de> DeserializeSeed<'de> for PushSeed {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PushSeed {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        unsafe { ffi::lua_pushboolean(self.state, v as c_int) };
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.push_i64(v);
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => self.push_i64(i),
            Err(_) => unsafe { ffi::lua_pushnumber(self.state, v as f64) },
        }
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        unsafe { ffi::lua_pushnumber(self.state, v) };
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.push_str(v.as_bytes());
        Ok(())
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.push_str(v);
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        unsafe { ffi::lua_pushlightuserdata(self.state, std::ptr::null_mut()) };
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.room().map_err(serde::de::Error::custom)?;
        let hint = seq.size_hint().unwrap_or(0).min(1 << 16) as c_int;
        unsafe { ffi::lua_createtable(self.state, hint, 0) };
        let mut i: ffi::lua_Integer = 0;
        while seq.next_element_seed(self)?.is_some() {
            i += 1;
            unsafe { ffi::lua_rawseti(self.state, -2, i as _) };
        }
        unsafe {
            ffi::lua_pushvalue(self.state, self.array_mt);
            ffi::lua_setmetatable(self.state, -2);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.room().map_err(serde::de::Error::custom)?;
        let hint = map.size_hint().unwrap_or(0).min(1 << 16) as c_int;
        unsafe { ffi::lua_createtable(self.state, 0, hint) };
        while map.next_key_seed(KeySeed(self))?.is_some() {
            map.next_value_seed(self)?;
            unsafe { ffi::lua_rawset(self.state, -3) };
        }
        Ok(())
    }
}

/// Map keys become Lua strings; YAML's non-string scalar keys are stringified
/// as Kubernetes' YAML-to-JSON conversion does.
#[derive(Clone, Copy)]
struct KeySeed(PushSeed);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or scalar key")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v.as_bytes());
        Ok(())
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.visit_str(if v { "true" } else { "false" })
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.visit_str(&v.to_string())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_str("null")
    }
}

/// Largest nesting accepted when encoding (protects against runaway structures).
const MAX_DEPTH: usize = 200;

/// Encodes a Lua value as JSON. Errors name the path of the offending value
/// (e.g. `body.spec.containers[1].image`).
pub fn encode(lua: &Lua, value: &Value, root: &str) -> Result<Vec<u8>, String> {
    let array_mt = array_metatable(lua).map_err(|e| e.to_string())?;
    let mut enc = Encoder {
        out: Vec::with_capacity(256),
        path: vec![Seg::Key(root.to_string())],
        open: Vec::new(),
        array_mt: array_mt.to_pointer(),
    };
    enc.value(value)
        .map_err(|e| format!("{}: {e}", enc.path_text()))?;
    Ok(enc.out)
}

enum Seg {
    Key(String),
    Index(usize),
}

struct Encoder {
    out: Vec<u8>,
    path: Vec<Seg>,
    open: Vec<*const std::ffi::c_void>,
    array_mt: *const std::ffi::c_void,
}

impl Encoder {
    fn path_text(&self) -> String {
        let mut s = String::new();
        for (i, seg) in self.path.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => s.push_str(k),
                Seg::Key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                Seg::Index(n) => s.push_str(&format!("[{n}]")),
            }
        }
        s
    }

    fn value(&mut self, v: &Value) -> Result<(), String> {
        match v {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Integer(i) => self.out.extend_from_slice(itoa_buf(*i).as_bytes()),
            Value::Number(n) => self.number(*n)?,
            Value::String(s) => {
                let b = s.as_bytes();
                let text = std::str::from_utf8(&b)
                    .map_err(|_| "string is not valid UTF-8 (JSON needs UTF-8)".to_string())?;
                serde_json::to_writer(&mut self.out, text).map_err(|e| e.to_string())?;
            }
            Value::Table(t) => self.table(t)?,
            other => return Err(format!("cannot encode a {} as JSON", other.type_name())),
        }
        Ok(())
    }

    fn number(&mut self, n: f64) -> Result<(), String> {
        if !n.is_finite() {
            return Err(format!("cannot encode {n} as JSON"));
        }
        if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
            self.out.extend_from_slice(itoa_buf(n as i64).as_bytes());
        } else {
            serde_json::to_writer(&mut self.out, &n).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn table(&mut self, t: &Table) -> Result<(), String> {
        let ptr = t.to_pointer();
        if self.open.contains(&ptr) {
            return Err("table contains a reference to itself (a cycle)".into());
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.open.push(ptr);
        let marked_array = t
            .metatable()
            .is_some_and(|mt| mt.to_pointer() == self.array_mt);
        let len = t.raw_len();
        let mut count = 0usize;
        let mut sequence = true;
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair.map_err(|e| e.to_string())?;
            count += 1;
            let in_range = match k {
                Value::Integer(i) => i >= 1 && (i as usize) <= len,
                Value::Number(n) => n >= 1.0 && n.fract() == 0.0 && (n as usize) <= len,
                _ => false,
            };
            sequence &= in_range;
        }
        let as_array = sequence && count == len && (len > 0 || marked_array);
        if as_array {
            self.out.push(b'[');
            for i in 1..=len {
                if i > 1 {
                    self.out.push(b',');
                }
                let v: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                self.path.push(Seg::Index(i));
                self.value(&v)?;
                self.path.pop();
            }
            self.out.push(b']');
        } else {
            self.out.push(b'{');
            let mut first = true;
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                let key = match &k {
                    Value::String(s) => s
                        .to_str()
                        .map_err(|_| "a key is not valid UTF-8".to_string())?
                        .to_string(),
                    Value::Integer(i) => i.to_string(),
                    Value::Number(n) if n.fract() == 0.0 => (*n as i64).to_string(),
                    Value::Number(n) => n.to_string(),
                    Value::Boolean(b) => b.to_string(),
                    other => {
                        return Err(format!(
                            "cannot use a {} as an object key",
                            other.type_name()
                        ))
                    }
                };
                if !first {
                    self.out.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut self.out, &key).map_err(|e| e.to_string())?;
                self.out.push(b':');
                self.path.push(Seg::Key(key));
                self.value(&v)?;
                self.path.pop();
            }
            self.out.push(b'}');
        }
        self.open.pop();
        Ok(())
    }
}

fn itoa_buf(i: i64) -> String {
    i.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        Lua::new()
    }

    #[test]
    fn round_trip_keeps_empty_containers() {
        let lua = lua();
        let v = decode(
            &lua,
            br#"{"a":[],"b":{},"c":[1,2.5,"x",true,null]}"#,
            Format::Json,
        )
        .unwrap();
        let out = String::from_utf8(encode(&lua, &v, "body").unwrap()).unwrap();
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"a":[],"b":{},"c":[1,2.5,"x",true,null]})
        );
    }

    #[test]
    fn errors_name_the_path() {
        let lua = lua();
        let t: Table = lua
            .load("return {spec = {containers = {{image = function() end}}}}")
            .eval()
            .unwrap();
        let e = encode(&lua, &Value::Table(t), "body").unwrap_err();
        assert!(e.starts_with("body.spec.containers[1].image:"), "{e}");
        let c: Table = lua.load("local t = {} t.self = t return t").eval().unwrap();
        assert!(encode(&lua, &Value::Table(c), "body")
            .unwrap_err()
            .contains("cycle"));
    }

    #[test]
    fn invalid_json_is_an_error() {
        let lua = lua();
        assert!(decode(&lua, b"{\"a\":", Format::Json).is_err());
        assert!(decode(&lua, b"{} x", Format::Json).is_err());
        let deep = "[".repeat(100_000);
        assert!(decode(&lua, deep.as_bytes(), Format::Json).is_err());
    }

    #[test]
    fn yaml_documents_decode() {
        let lua = lua();
        let v = decode(
            &lua,
            b"kind: Pod\nmetadata:\n  name: x\n  labels: {80: y}\n",
            Format::Yaml,
        )
        .unwrap();
        let out: serde_json::Value =
            serde_json::from_slice(&encode(&lua, &v, "body").unwrap()).unwrap();
        assert_eq!(out["metadata"]["labels"]["80"], "y");
    }
}

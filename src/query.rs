//! Query strings as luakube built them: keys sorted, keys and values
//! percent-encoded (unreserved `A-Za-z0-9_.-~` kept, `%XX` upper-case), a
//! space in a value as `+`, booleans as `true`/`false`, a key with an empty
//! value alone.

use mlua::{Table, Value};

fn escape(out: &mut String, raw: &[u8], space_as_plus: bool) {
    for &b in raw {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' if space_as_plus => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// Renders a scalar as Lua's `tostring` would (what luakube sent).
fn scalar(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    Ok(match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Boolean(b) => b.to_string().into_bytes(),
        Value::Integer(i) => i.to_string().into_bytes(),
        Value::Number(n) => lua_number(*n).into_bytes(),
        other => {
            return Err(format!(
                "query {what} must be a string, number or boolean, got {}",
                other.type_name()
            ))
        }
    })
}

/// Lua's number formatting: integral floats print like integers on Lua 5.1 and
/// LuaJIT (`%.14g`) and with `.0` on Lua 5.3+.
fn lua_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        if cfg!(any(feature = "lua54", feature = "lua53")) {
            format!("{n:.1}")
        } else {
            format!("{}", n as i64)
        }
    } else {
        format!("{n}")
    }
}

/// Builds `a=b&c=d` (without the leading `?`) from a Lua table.
pub fn build(t: &Table) -> Result<String, String> {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        let key = scalar(&k, "key")?;
        let key_text = String::from_utf8_lossy(&key).into_owned();
        let value = scalar(&v, &format!("value of {key_text:?}"))?;
        pairs.push((key, value));
    }
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        escape(&mut out, k, false);
        if !v.is_empty() {
            out.push('=');
            escape(&mut out, v, true);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::Lua;

    #[test]
    fn matches_luakube_encoding() {
        let lua = Lua::new();
        let t: Table = lua
            .load(
                r#"return {labelSelector = "os=ubuntu", dryRun = true, watch = "", q = "a b/c~"}"#,
            )
            .eval()
            .unwrap();
        assert_eq!(
            build(&t).unwrap(),
            "dryRun=true&labelSelector=os%3Dubuntu&q=a+b%2Fc~&watch"
        );
    }

    #[test]
    fn rejects_tables_as_values() {
        let lua = Lua::new();
        let t: Table = lua.load("return {x = {}}").eval().unwrap();
        assert!(build(&t).unwrap_err().contains("value of \"x\""));
    }
}

//! PATCH: the content types the API server accepts and how each applies.

use crate::store::ApiError;
use serde_json::Value;

pub fn apply_patch(mut cur: Value, content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let bad = |e: String| ApiError::new(400, "BadRequest", e);
    let ct = content_type.split(';').next().unwrap_or("").trim();
    match ct {
        "application/merge-patch+json" => {
            let p: Value = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
            json_patch::merge(&mut cur, &p);
        }
        "application/strategic-merge-patch+json" | "application/apply-patch+yaml" => {
            let p: Value = serde_json::from_slice(body)
                .or_else(|_| serde_yaml::from_slice(body))
                .map_err(|e| bad(e.to_string()))?;
            strategic_merge(&mut cur, &p);
        }
        "application/json-patch+json" => {
            let p: json_patch::Patch =
                serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
            json_patch::patch(&mut cur, &p)
                .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?;
        }
        other => {
            return Err(ApiError::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {other})")));
        }
    }
    Ok(cur)
}

/// Strategic merge: lists of objects with a `name` merge by name; `$patch:
/// delete` removes an entry; other values merge as in a JSON merge patch.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, pv) in p {
                if pv.is_null() {
                    t.remove(k);
                    continue;
                }
                match t.get_mut(k) {
                    Some(tv) => strategic_merge(tv, pv),
                    None => {
                        t.insert(k.clone(), pv.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(p))
            if p.iter().all(|v| v.get("name").is_some()) && !p.is_empty() =>
        {
            for pv in p {
                let name = &pv["name"];
                let pos = t.iter().position(|tv| &tv["name"] == name);
                let delete = pv.get("$patch").and_then(|v| v.as_str()) == Some("delete");
                match (pos, delete) {
                    (Some(i), true) => {
                        t.remove(i);
                    }
                    (Some(i), false) => strategic_merge(&mut t[i], pv),
                    (None, false) => t.push(pv.clone()),
                    (None, true) => {}
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

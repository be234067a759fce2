//! Metadata-only answers: `PartialObjectMetadata` and
//! `PartialObjectMetadataList` (`meta.k8s.io` v1 and v1beta1), for clients
//! that ask for them in Accept, as client-go's metadata client and kube-rs's
//! `list_metadata` / `watch_metadata` do:
//! `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`.
//!
//! kube-apiserver 1.32 negotiates the first acceptable media range of the
//! Accept header; a conversion it cannot make for the object at hand (a list
//! asked for as `PartialObjectMetadata`, an object as `...List`) is a 406
//! NotAcceptable, as is an Accept none of whose ranges it can serve.

use crate::resources::ResourceInfo;
use crate::rest::ListPage;
use crate::store::ApiError;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Value};

/// A metadata-only answer asked for by one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Partial {
    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// `as=PartialObjectMetadataList` (else `as=PartialObjectMetadata`).
    pub list: bool,
}

/// What one media range of an Accept header asks for.
#[derive(PartialEq)]
enum Range {
    /// A media type the server encodes, unconverted (or a Table, which
    /// `printers::requested` serves).
    Served,
    Partial(Partial),
    /// Nothing this server can answer with.
    Refused,
}

/// The media types a resource endpoint encodes, as the 406 Status lists them.
const SERVED: [&str; 3] = [
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

fn range(media: &str) -> Range {
    let mut parts = media.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("");
    if !(SERVED.contains(&mime) || mime == "*/*" || mime == "application/*") {
        return Range::Refused;
    }
    let (mut as_kind, mut group, mut version) = (None, None, None);
    for p in parts {
        match p.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("as", v)) => as_kind = Some(v),
            Some(("g", v)) => group = Some(v),
            Some(("v", v)) => version = Some(v),
            _ => {}
        }
    }
    let Some(kind) = as_kind else {
        return Range::Served;
    };
    let api_version = match (group, version) {
        (Some("meta.k8s.io"), Some("v1")) => "meta.k8s.io/v1",
        (Some("meta.k8s.io"), Some("v1beta1")) => "meta.k8s.io/v1beta1",
        _ => return Range::Refused,
    };
    match kind {
        "Table" if mime == "application/json" || mime == "application/yaml" => Range::Served,
        "PartialObjectMetadata" => Range::Partial(Partial {
            api_version,
            list: false,
        }),
        "PartialObjectMetadataList" => Range::Partial(Partial {
            api_version,
            list: true,
        }),
        _ => Range::Refused,
    }
}

/// 406 NotAcceptable, worded as the real server words it.
pub fn not_acceptable(message: impl Into<String>) -> ApiError {
    ApiError::new(406, "NotAcceptable", message)
}

/// The metadata-only answer the Accept header asks for, if its first range
/// the server can serve is one. An Accept that names a conversion (`as=`)
/// and offers nothing the server can serve is refused with 406; an Accept
/// without any `as=` is left to the other answers as before.
pub fn requested(accept: &str) -> Result<Option<Partial>, ApiError> {
    let ranges: Vec<&str> = accept.split(',').filter(|r| !r.trim().is_empty()).collect();
    for r in &ranges {
        match range(r) {
            Range::Served => return Ok(None),
            Range::Partial(p) => return Ok(Some(p)),
            Range::Refused => {}
        }
    }
    if ranges.iter().any(|r| r.contains("as=")) {
        return Err(not_acceptable(format!(
            "only the following media types are accepted: {}",
            SERVED.join(", ")
        )));
    }
    Ok(None)
}

/// The Go type kube-apiserver names in its refusals: the internal type of a
/// built-in kind, an unstructured object for a custom resource.
fn go_type(res: &ResourceInfo, list: bool) -> String {
    let suffix = if list { "List" } else { "" };
    if !crate::patch::merge_keys::is_built_in_group(res.group) {
        return format!("*unstructured.Unstructured{suffix}");
    }
    let package = match res.group.split('.').next().unwrap_or("") {
        "" | "events" => "core",
        other => other,
    };
    format!("*{package}.{}{suffix}", res.kind)
}

impl Partial {
    /// One object (GET) as PartialObjectMetadata.
    pub fn of_object(&self, res: &ResourceInfo, obj: &Value) -> Result<Value, ApiError> {
        if self.list {
            return Err(not_acceptable(format!(
                "you requested PartialObjectMetadataList, but the requested object is not a list ({})",
                go_type(res, false)
            )));
        }
        Ok(self.object(obj))
    }

    /// `{"kind":"PartialObjectMetadata","apiVersion":…,"metadata":…}`.
    pub fn object(&self, obj: &Value) -> Value {
        json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": self.api_version,
            "metadata": obj["metadata"],
        })
    }

    /// A list page (LIST) as PartialObjectMetadataList: the list's metadata
    /// (resourceVersion, continue, remainingItemCount) and each item's.
    pub fn of_list<'a>(
        &self,
        res: &ResourceInfo,
        page: &'a ListPage<'a>,
    ) -> Result<PartialList<'a>, ApiError> {
        if !self.list {
            return Err(not_acceptable(format!(
                "you requested PartialObjectMetadata, but the requested object is a list ({})",
                go_type(res, true)
            )));
        }
        Ok(PartialList {
            api_version: self.api_version,
            page,
        })
    }
}

/// A PartialObjectMetadataList written straight from a list page (no copy
/// of the items' metadata).
pub struct PartialList<'a> {
    api_version: &'static str,
    page: &'a ListPage<'a>,
}

struct PartialItem<'a> {
    api_version: &'static str,
    metadata: &'a Value,
}

impl Serialize for PartialItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("kind", "PartialObjectMetadata")?;
        m.serialize_entry("apiVersion", self.api_version)?;
        m.serialize_entry("metadata", self.metadata)?;
        m.end()
    }
}

struct PartialItems<'a>(&'static str, &'a [&'a Value]);

impl Serialize for PartialItems<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for item in self.1 {
            seq.serialize_element(&PartialItem {
                api_version: self.0,
                metadata: &item["metadata"],
            })?;
        }
        seq.end()
    }
}

impl Serialize for PartialList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("kind", "PartialObjectMetadataList")?;
        m.serialize_entry("apiVersion", self.api_version)?;
        m.serialize_entry("metadata", &self.page.metadata)?;
        m.serialize_entry("items", &PartialItems(self.api_version, &self.page.items))?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT_GO_LIST: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

    #[test]
    fn first_servable_range_decides() {
        let v1_list = Some(Partial {
            api_version: "meta.k8s.io/v1",
            list: true,
        });
        assert_eq!(requested(CLIENT_GO_LIST).unwrap(), v1_list);
        assert_eq!(
            requested("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1").unwrap(),
            Some(Partial {
                api_version: "meta.k8s.io/v1beta1",
                list: false
            })
        );
        assert_eq!(requested("application/json").unwrap(), None);
        assert_eq!(requested("").unwrap(), None);
        assert_eq!(
            requested("application/json;as=Table;v=v1;g=meta.k8s.io,application/json").unwrap(),
            None
        );
        // A plain range first wins over a later conversion.
        assert_eq!(
            requested(
                "application/json,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn nothing_servable_is_406() {
        for accept in [
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v2",
            "application/json;as=Pod;g=;v=v1",
            "text/html;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        ] {
            let e = requested(accept).unwrap_err();
            assert_eq!((e.code, e.reason), (406, "NotAcceptable"), "{accept}");
            assert!(e
                .message
                .starts_with("only the following media types are accepted: application/json"));
        }
        // Fallback to JSON is acceptable.
        assert_eq!(
            requested(
                "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v2,application/json"
            )
            .unwrap(),
            None
        );
    }
}

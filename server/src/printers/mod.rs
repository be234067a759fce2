//! Server-side printing: `meta.k8s.io` Table answers for clients that ask
//! for them in Accept (`kubectl get`), with the columns kube-apiserver
//! 1.32's printers give each built-in kind and a CRD's
//! additionalPrinterColumns.

use crate::registry;
use crate::reply::{json_reply, Answer, Reply, Streaming};
use crate::resources::ResourceInfo;
use crate::store::{ApiError, Store};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;

mod kinds;
pub mod partial;

/// The media type of a Table answer, per Table API version.
const CONTENT_TYPE_V1: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";
const CONTENT_TYPE_V1BETA1: &str = "application/json;as=Table;v=v1beta1;g=meta.k8s.io";

/// One column of a Table, as `columnDefinitions` lists it.
pub struct Column {
    pub name: String,
    pub kind: &'static str,
    pub format: &'static str,
    pub description: String,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: u8,
}

impl Column {
    fn definition(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// How a row's cells are made from an object.
enum Cells {
    /// A built-in printer (Name first).
    Printer(kinds::Table),
    /// A CRD's columns after Name: a JSONPath each, and whether it is a date
    /// (shown as an age).
    Paths(Vec<(String, bool)>),
}

/// What each row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, PartialEq)]
enum Include {
    None,
    Metadata,
    Object,
}

/// A Table rendering asked for by one request.
pub struct View {
    api_version: &'static str,
    content_type: &'static str,
    columns: Vec<Column>,
    cells: Cells,
    include: Include,
}

/// The Table version the Accept header asks for, if any: each media range
/// `application/json;as=Table;v=V;g=meta.k8s.io`, in the client's order.
fn asked_version(accept: &str) -> Option<(&'static str, &'static str)> {
    accept.split(',').find_map(|range| {
        let mut parts = range.split(';').map(str::trim);
        if parts.next()? != "application/json" {
            return None;
        }
        let params: HashMap<&str, &str> = parts.filter_map(|p| p.split_once('=')).collect();
        if params.get("as") != Some(&"Table") || params.get("g") != Some(&"meta.k8s.io") {
            return None;
        }
        match params.get("v") {
            Some(&"v1") => Some(("meta.k8s.io/v1", CONTENT_TYPE_V1)),
            Some(&"v1beta1") => Some(("meta.k8s.io/v1beta1", CONTENT_TYPE_V1BETA1)),
            _ => None,
        }
    })
}

fn include_param(q: &HashMap<String, String>) -> Result<Include, ApiError> {
    match q.get("includeObject").map(String::as_str) {
        None | Some("") | Some("Metadata") => Ok(Include::Metadata),
        Some("None") => Ok(Include::None),
        Some("Object") => Ok(Include::Object),
        Some(other) => Err(ApiError::new(
            400,
            "BadRequest",
            format!("includeObject: Unsupported value: \"{other}\": supported values: \"None\", \"Metadata\", \"Object\""),
        )),
    }
}

/// The Table view a request asks for, or None when it wants plain JSON.
pub fn requested(
    accept: &str,
    q: &HashMap<String, String>,
    st: &Store,
    res: &ResourceInfo,
) -> Result<Option<View>, ApiError> {
    let Some((api_version, content_type)) = asked_version(accept) else {
        return Ok(None);
    };
    let include = include_param(q)?;
    let (columns, cells) = match kinds::for_resource(res) {
        Some(table) => (kinds::columns(table), Cells::Printer(table)),
        None => custom_columns(st, res),
    };
    Ok(Some(View {
        api_version,
        content_type,
        columns,
        cells,
        include,
    }))
}

/// The printer columns a CRD declares for this version; Age when it
/// declares none (as the CRD defaulting adds).
fn custom_columns(st: &Store, res: &ResourceInfo) -> (Vec<Column>, Cells) {
    let declared: Vec<Value> = registry::crd_details()
        .into_iter()
        .filter(|c| c.info.group == res.group && c.info.plural == res.plural)
        .filter_map(|c| crd_object(st, &c.crd_name))
        .flat_map(|crd| {
            crd["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["name"].as_str() == Some(res.version))
                .filter_map(|v| v["additionalPrinterColumns"].as_array().cloned())
                .flatten()
                .collect::<Vec<_>>()
        })
        .collect();
    let mut columns = vec![kinds::name_column()];
    let mut paths = vec![];
    if declared.is_empty() {
        columns.push(kinds::age_column());
        paths.push((".metadata.creationTimestamp".to_string(), true));
    }
    for c in &declared {
        let kind = c["type"].as_str().unwrap_or("string");
        columns.push(Column {
            name: c["name"].as_str().unwrap_or("").to_string(),
            kind: match kind {
                "integer" => "integer",
                "number" => "number",
                "boolean" => "boolean",
                "date" => "date",
                _ => "string",
            },
            format: match c["format"].as_str().unwrap_or("") {
                "name" => "name",
                _ => "",
            },
            description: c["description"].as_str().unwrap_or("").to_string(),
            priority: c["priority"].as_u64().unwrap_or(0).min(1) as u8,
        });
        let path = c["jsonPath"].as_str().unwrap_or("").to_string();
        paths.push((path, kind == "date"));
    }
    (columns, Cells::Paths(paths))
}

fn crd_object(st: &Store, crd_name: &str) -> Option<Value> {
    let crds = crate::resources::find("apiextensions.k8s.io", "v1", "customresourcedefinitions")?;
    st.objects.get(&Store::key(crds, "", crd_name)).cloned()
}

/// The value at a simple JSONPath (`.a.b`, `.a[0].b`, `{.a.b}`).
fn at_json_path<'a>(obj: &'a Value, path: &str) -> &'a Value {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    path.trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .fold(obj, |cur, step| match step.split_once('[') {
            Some((field, index)) => {
                let at = if field.is_empty() { cur } else { &cur[field] };
                match index.trim_end_matches(']').parse::<usize>() {
                    Ok(i) => &at[i],
                    Err(_) => &Value::Null,
                }
            }
            None => &cur[step],
        })
}

/// A CRD cell: scalars as they are, dates as ages, anything else as JSON.
fn path_cell(obj: &Value, path: &str, date: bool) -> Value {
    match at_json_path(obj, path) {
        Value::Null => Value::Null,
        Value::String(s) if date => json!(kinds::age_of(s)),
        v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => v.clone(),
        other => json!(other.to_string()),
    }
}

impl View {
    /// A Table as the answer, typed as the Table media type.
    pub fn answer(&self, table: &Value) -> Answer {
        Answer::Full(Reply {
            content_type: self.content_type,
            ..json_reply(200, table)
        })
    }

    fn cells(&self, obj: &Value) -> Vec<Value> {
        match &self.cells {
            Cells::Printer(table) => kinds::cells(table, obj),
            Cells::Paths(paths) => {
                let mut cells = vec![obj["metadata"]["name"].clone()];
                cells.extend(paths.iter().map(|(p, date)| path_cell(obj, p, *date)));
                cells
            }
        }
    }

    fn row(&self, obj: &Value) -> Value {
        let mut row = json!({"cells": self.cells(obj)});
        match self.include {
            Include::None => {}
            Include::Metadata => {
                row["object"] = json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                })
            }
            Include::Object => row["object"] = obj.clone(),
        }
        row
    }

    fn table(&self, metadata: Value, rows: Vec<Value>, headers: bool) -> Value {
        let columns: Vec<Value> = if headers {
            self.columns.iter().map(Column::definition).collect()
        } else {
            vec![]
        };
        json!({
            "kind": "Table",
            "apiVersion": self.api_version,
            "metadata": metadata,
            "columnDefinitions": columns,
            "rows": rows,
        })
    }

    /// A list answer as a Table: one row per item, the list's metadata
    /// (resourceVersion, continue, remainingItemCount) kept.
    pub fn of_list(&self, list: &crate::rest::ListPage, kind: &str, api_version: &str) -> Value {
        let rows = list
            .items
            .iter()
            .map(|&item| {
                let mut item = item.clone();
                item["kind"] = json!(kind);
                item["apiVersion"] = json!(api_version);
                self.row(&item)
            })
            .collect();
        self.table(list.metadata.clone(), rows, true)
    }

    /// One object as a Table of one row.
    pub fn of_object(&self, obj: &Value) -> Value {
        let meta = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
        self.table(meta, vec![self.row(obj)], true)
    }

    /// One watch event line with its object as a one-row Table; ERROR and
    /// BOOKMARK events (and anything unreadable) as they came.
    fn event_as_table(&self, line: &[u8], headers: &mut bool) -> Vec<u8> {
        match serde_json::from_slice::<Value>(line) {
            Ok(mut ev) if matches!(ev["type"].as_str(), Some("ADDED" | "MODIFIED" | "DELETED")) => {
                let meta = json!({"resourceVersion": ev["object"]["metadata"]["resourceVersion"]});
                ev["object"] = self.table(meta, vec![self.row(&ev["object"])], *headers);
                *headers = false;
                serde_json::to_vec(&ev).unwrap_or_else(|_| line.to_vec())
            }
            _ => line.to_vec(),
        }
    }

    /// A watch whose event objects become one-row Tables; the first carries
    /// the column definitions, later ones only rows (as the real server
    /// sends them). Events are newline-delimited, whatever the chunking.
    pub fn watch(self, mut inner: Streaming) -> Streaming {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        let content_type = self.content_type;
        tokio::spawn(async move {
            let mut headers = true;
            let mut pending: Vec<u8> = vec![];
            while let Some(chunk) = inner.chunks.recv().await {
                pending.extend_from_slice(&chunk);
                let Some(end) = pending.iter().rposition(|b| *b == b'\n') else {
                    continue;
                };
                let rest = pending.split_off(end + 1);
                let mut out = vec![];
                for line in pending.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    out.extend(self.event_as_table(line, &mut headers));
                    out.push(b'\n');
                }
                pending = rest;
                if tx.send(Bytes::from(out)).await.is_err() {
                    return;
                }
            }
        });
        Streaming {
            code: inner.code,
            content_type,
            chunks: rx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_the_first_table_version() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(asked_version(kubectl).map(|v| v.0), Some("meta.k8s.io/v1"));
        let old = "application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json";
        assert_eq!(asked_version(old).map(|v| v.0), Some("meta.k8s.io/v1beta1"));
        assert!(asked_version("application/json").is_none());
        assert!(asked_version(
            "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io"
        )
        .is_none());
    }

    #[test]
    fn json_paths_reach_nested_fields_and_indexes() {
        let obj = json!({"spec": {"size": 3, "ports": [{"port": 80}]}});
        assert_eq!(at_json_path(&obj, ".spec.size"), &json!(3));
        assert_eq!(at_json_path(&obj, ".spec.ports[0].port"), &json!(80));
        assert_eq!(at_json_path(&obj, "{.spec.size}"), &json!(3));
        assert!(at_json_path(&obj, ".spec.missing.deeper").is_null());
    }

    #[tokio::test]
    async fn watch_events_become_tables_whatever_the_chunking() {
        let st = Store::new(10);
        let configmaps = crate::resources::find("", "v1", "configmaps").expect("configmaps");
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io";
        let view = requested(accept, &HashMap::new(), &st, configmaps)
            .expect("a valid request")
            .expect("a Table view");
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut out = view.watch(Streaming {
            code: 200,
            content_type: "application/json",
            chunks: rx,
        });
        let two = concat!(
            r#"{"type":"ADDED","object":{"metadata":{"name":"a"},"data":{"k":"v"}}}"#,
            "\n",
            r#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#,
            "\n",
            r#"{"type":"DELETED","object":{"metadata":{"name":"b"}}}"#,
            "\n",
        );
        // Split mid-line: the first event arrives in two chunks.
        let (first, second) = two.split_at(20);
        tx.send(Bytes::from(first)).await.unwrap();
        tx.send(Bytes::from(second)).await.unwrap();
        drop(tx);
        let mut text = vec![];
        while let Some(c) = out.chunks.recv().await {
            text.extend_from_slice(&c);
        }
        let events: Vec<Value> = text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(3, events.len());
        let cells = &events[0]["object"]["rows"][0]["cells"];
        assert_eq!((json!("a"), json!(1)), (cells[0].clone(), cells[1].clone()));
        assert_eq!(
            3,
            events[0]["object"]["columnDefinitions"]
                .as_array()
                .unwrap()
                .len()
        );
        assert_eq!("BOOKMARK", events[1]["type"]);
        assert!(events[1]["object"]["rows"].is_null());
        assert_eq!(json!([]), events[2]["object"]["columnDefinitions"]);
        assert_eq!("b", events[2]["object"]["rows"][0]["cells"][0]);
        assert_eq!(CONTENT_TYPE_V1, out.content_type);
    }

    /// Every built-in resource's Table (columns and the cells of each object
    /// in tests/data/printer_objects.json, objects made to reach every
    /// branch of the printers) as recorded in tests/data/printers_golden.json:
    /// a change to the printers shows here byte for byte. After an intended
    /// change, `PRINTERS_GOLDEN=write cargo test printers` records it anew.
    #[test]
    fn every_kind_prints_as_recorded() {
        let objects: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/data/printer_objects.json"))
                .expect("printer objects");
        let st = Store::new(10);
        let q: HashMap<String, String> = [("includeObject".to_string(), "None".to_string())].into();
        let mut out = serde_json::Map::new();
        for res in crate::resources::RESOURCES {
            let view = requested(CONTENT_TYPE_V1, &q, &st, res)
                .expect("a valid request")
                .expect("a Table view");
            let tables: Vec<Value> = objects.iter().map(|o| view.of_object(o)).collect();
            let key = format!("{}/{}", res.group_version(), res.plural);
            out.insert(
                key,
                json!({
                    "columnDefinitions": tables[0]["columnDefinitions"],
                    "cells": tables.iter().map(|t| t["rows"][0]["cells"].clone()).collect::<Vec<_>>(),
                }),
            );
        }
        let got = serde_json::to_string_pretty(&Value::Object(out)).unwrap() + "\n";
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/printers_golden.json"
        );
        if std::env::var("PRINTERS_GOLDEN").as_deref() == Ok("write") {
            std::fs::write(path, &got).expect("write the golden file");
        }
        let want = std::fs::read_to_string(path).expect("tests/data/printers_golden.json");
        if let Some((n, (g, w))) = got
            .lines()
            .zip(want.lines())
            .enumerate()
            .find(|(_, (g, w))| g != w)
        {
            panic!(
                "printers changed at line {}: {g:?}, recorded {w:?} ({path})",
                n + 1
            );
        }
        assert_eq!(
            got.len(),
            want.len(),
            "printers changed: compare with {path}"
        );
    }
}

//! Label and field selectors as the API server parses them: `=`, `==`, `!=`,
//! `in (..)`, `notin (..)`, `key`, `!key` (and `>`/`<` on labels), with the
//! field labels each kind supports. Parse errors become 400 BadRequest.
//! The same requirements answer for selector objects: a workload's
//! `metav1.LabelSelector` (matchLabels, matchExpressions), a node affinity's
//! `NodeSelectorRequirement`, and the selector text a Scale or a printed
//! column shows for them.

use crate::resources::ResourceInfo;
use crate::store::ApiError;
use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
    /// An operator word of a selector object that its kind does not have:
    /// the requirement matches nothing and prints as `key word (values)`.
    Unknown(String),
}

#[derive(Debug, Clone)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

impl Requirement {
    fn matches(&self, value: Option<&str>) -> bool {
        let num = |v: &str| v.parse::<i64>().ok();
        let bound = || self.values.first().and_then(|w| num(w));
        match self.op {
            Op::Equals | Op::In => value.is_some_and(|v| self.values.iter().any(|w| w == v)),
            Op::NotEquals | Op::NotIn => value.is_none_or(|v| self.values.iter().all(|w| w != v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::GreaterThan => value.and_then(num).zip(bound()).is_some_and(|(a, b)| a > b),
            Op::LessThan => value.and_then(num).zip(bound()).is_some_and(|(a, b)| a < b),
            Op::Unknown(_) => false,
        }
    }

    /// A `{key, operator, values}` object: In, NotIn, Exists, DoesNotExist,
    /// and where `numeric` (node selectors) Gt and Lt.
    fn from_expression(e: &Value, numeric: bool) -> Self {
        let op = match e["operator"].as_str().unwrap_or("") {
            "In" => Op::In,
            "NotIn" => Op::NotIn,
            "Exists" => Op::Exists,
            "DoesNotExist" => Op::DoesNotExist,
            "Gt" if numeric => Op::GreaterThan,
            "Lt" if numeric => Op::LessThan,
            other => Op::Unknown(other.to_string()),
        };
        Requirement {
            key: e["key"].as_str().unwrap_or("").to_string(),
            op,
            values: e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
        }
    }
}

/// The term as selector text writes it (`app=web`, `tier in (a,b)`, `!gone`).
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, values) = (&self.key, self.values.join(","));
        match &self.op {
            Op::Equals => write!(f, "{key}={values}"),
            Op::NotEquals => write!(f, "{key}!={values}"),
            Op::In => write!(f, "{key} in ({values})"),
            Op::NotIn => write!(f, "{key} notin ({values})"),
            Op::Exists => write!(f, "{key}"),
            Op::DoesNotExist => write!(f, "!{key}"),
            Op::GreaterThan => write!(f, "{key}>{values}"),
            Op::LessThan => write!(f, "{key}<{values}"),
            Op::Unknown(word) => write!(f, "{key} {word} ({values})"),
        }
    }
}

/// Whether one value (a node's label, its name) meets a
/// `NodeSelectorRequirement` (In, NotIn, Exists, DoesNotExist, Gt, Lt); any
/// other operator meets nothing.
pub fn node_requirement_matches(e: &Value, value: Option<&str>) -> bool {
    Requirement::from_expression(e, true).matches(value)
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default)]
pub struct LabelSelector(Vec<Requirement>);

/// A parsed `fieldSelector` (only `=`, `==`, `!=`).
#[derive(Debug, Clone, Default)]
pub struct FieldSelector(Vec<Requirement>);

/// Splits on commas that are not inside parentheses.
fn split_terms(s: &str) -> Result<Vec<&str>, ApiError> {
    let (mut out, mut depth, mut start) = (vec![], 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(ApiError::bad_request(format!(
                "unable to parse requirement: unbalanced parentheses in {s:?}"
            )));
        }
    }
    if depth != 0 {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: found '', expected: ')' in {s:?}"
        )));
    }
    out.push(&s[start..]);
    Ok(out)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A label name or value: up to 63 characters, alphanumeric at both ends.
fn check_label_part(s: &str, what: &str) -> Result<(), ApiError> {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if s.len() > 63
        || !s.chars().all(is_name_char)
        || !ends_ok(s.chars().next())
        || !ends_ok(s.chars().last())
    {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: {what}: Invalid value: {s:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )));
    }
    Ok(())
}

fn check_label_key(key: &str) -> Result<(), ApiError> {
    match key.split_once('/') {
        Some((prefix, name)) => {
            let prefix_ok = !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(|l| {
                    !l.is_empty()
                        && l.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                });
            if !prefix_ok {
                return Err(ApiError::bad_request(format!(
                    "unable to parse requirement: key: Invalid value: {key:?}: prefix part must be a lowercase RFC 1123 subdomain"
                )));
            }
            check_label_part(name, "key")
        }
        None => check_label_part(key, "key"),
    }
}

fn check_label_value(v: &str) -> Result<(), ApiError> {
    if v.is_empty() {
        return Ok(());
    }
    check_label_part(v, "values[0]")
}

fn parse_set(key: &str, rest: &str) -> Result<Vec<String>, ApiError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to parse requirement: found '{}', expected: '(' for key {key:?}",
                rest.trim()
            ))
        })?;
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().all(|v| v.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: values: Invalid value: \"\": for 'in', 'notin' operators, values set can't be empty (key {key:?})"
        )));
    }
    Ok(values)
}

fn parse_label_term(term: &str) -> Result<Requirement, ApiError> {
    let term = term.trim();
    let req = |key: &str, op: Op, values: Vec<String>| Requirement {
        key: key.trim().to_string(),
        op,
        values,
    };
    let r = if let Some(k) = term.strip_prefix('!') {
        req(k, Op::DoesNotExist, vec![])
    } else if let Some((k, v)) = term.split_once("!=") {
        req(k, Op::NotEquals, vec![v.trim().to_string()])
    } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        req(k, Op::Equals, vec![v.trim().to_string()])
    } else if let Some((k, v)) = term.split_once('>') {
        req(k, Op::GreaterThan, vec![v.trim().to_string()])
    } else if let Some((k, v)) = term.split_once('<') {
        req(k, Op::LessThan, vec![v.trim().to_string()])
    } else if let Some((k, rest)) = split_word(term, "notin") {
        req(k, Op::NotIn, parse_set(k, rest)?)
    } else if let Some((k, rest)) = split_word(term, "in") {
        req(k, Op::In, parse_set(k, rest)?)
    } else {
        if term.contains(char::is_whitespace) || term.contains(['(', ')']) {
            return Err(ApiError::bad_request(format!(
                "unable to parse requirement: found '{term}', expected: in, notin, =, ==, !=, gt, lt"
            )));
        }
        req(term, Op::Exists, vec![])
    };
    check_label_key(&r.key)?;
    match r.op {
        Op::GreaterThan | Op::LessThan if r.values[0].parse::<i64>().is_err() => {
            return Err(ApiError::bad_request(format!(
                "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer (key {:?})",
                r.key
            )))
        }
        Op::GreaterThan | Op::LessThan => {}
        _ => {
            for v in &r.values {
                check_label_value(v)?;
            }
        }
    }
    Ok(r)
}

/// `key in (..)`: the key, then the text after the operator word.
fn split_word<'a>(term: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    let mut parts = term.splitn(2, char::is_whitespace);
    let key = parts.next()?;
    let rest = parts.next()?.trim_start();
    let after = rest.strip_prefix(word)?;
    (after.starts_with(|c: char| c.is_whitespace() || c == '(')).then_some((key, after))
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        if s.trim().is_empty() {
            return Ok(Self::default());
        }
        split_terms(s)?
            .into_iter()
            .map(parse_label_term)
            .collect::<Result<Vec<_>, _>>()
            .map(LabelSelector)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.matches_labels(&obj["metadata"]["labels"])
    }

    /// Whether a label map (an object's `metadata.labels`) is selected.
    pub fn matches_labels(&self, labels: &Value) -> bool {
        self.0
            .iter()
            .all(|r| r.matches(labels.get(&r.key).and_then(Value::as_str)))
    }

    /// A `metav1.LabelSelector`'s `matchLabels` map and `matchExpressions`
    /// list (In, NotIn, Exists, DoesNotExist; another operator, or a
    /// matchLabels value that is not a string, matches nothing).
    pub fn from_parts(match_labels: &Value, match_expressions: &Value) -> Self {
        let labels = match_labels.as_object().into_iter().flatten();
        let exprs = match_expressions.as_array().into_iter().flatten();
        LabelSelector(
            labels
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    op: match v {
                        Value::String(_) => Op::Equals,
                        _ => Op::Unknown(String::new()),
                    },
                    values: v.as_str().map(String::from).into_iter().collect(),
                })
                .chain(exprs.map(|e| Requirement::from_expression(e, false)))
                .collect(),
        )
    }

    /// A `metav1.LabelSelector` object; one that is not an object selects
    /// nothing (None).
    pub fn from_object(sel: &Value) -> Option<Self> {
        sel.is_object()
            .then(|| Self::from_parts(&sel["matchLabels"], &sel["matchExpressions"]))
    }
}

/// Selector text as a Scale's `status.selector` and the printed Selector
/// columns show it, terms sorted: `app=web,tier in (a,b),!gone`, from a
/// `metav1.LabelSelector` or a plain label map (a Service's, a
/// ReplicationController's, a nodeSelector); "" for none. Label values that
/// are not strings are left out.
pub fn selector_text(sel: &Value) -> String {
    let labels: serde_json::Map<String, Value> = (sel.get("matchLabels").unwrap_or(sel))
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_string())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let selector = LabelSelector::from_parts(&Value::Object(labels), &sel["matchExpressions"]);
    let mut terms: Vec<String> = selector.0.iter().map(Requirement::to_string).collect();
    terms.sort();
    terms.join(",")
}

/// The field labels a kind can be selected by, beyond metadata.name/namespace.
fn kind_fields(res: &ResourceInfo) -> &'static [&'static str] {
    match (res.group, res.plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "secrets") => &["type"],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "namespaces") => &["status.phase"],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "replicationcontrollers") => &["status.replicas"],
        ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        _ => &[],
    }
}

/// The value of a field label on an object, as a string ("" when unset).
fn field_value(obj: &Value, path: &str) -> String {
    let mut cur = obj;
    for p in path.split('.') {
        cur = &cur[p];
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => match path {
            "spec.hostNetwork" | "spec.unschedulable" => "false".into(),
            _ => String::new(),
        },
        other => other.to_string(),
    }
}

impl FieldSelector {
    pub fn parse(s: &str, res: &ResourceInfo) -> Result<Self, ApiError> {
        if s.trim().is_empty() {
            return Ok(Self::default());
        }
        let mut reqs = vec![];
        for term in s.split(',') {
            let (key, op, value) = if let Some((k, v)) = term.split_once("!=") {
                (k, Op::NotEquals, v)
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, Op::Equals, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                )));
            };
            let key = key.trim();
            let known = matches!(key, "metadata.name" | "metadata.namespace")
                || kind_fields(res).contains(&key);
            if !known {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {key}"
                )));
            }
            reqs.push(Requirement {
                key: key.to_string(),
                op,
                values: vec![value.trim().to_string()],
            });
        }
        Ok(FieldSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0
            .iter()
            .all(|r| r.matches(Some(&field_value(obj, &r.key))))
    }

    /// Narrows the selection to one object (a watch of `.../watch/pods/NAME`).
    pub fn add_name(&mut self, name: &str) {
        self.0.push(Requirement {
            key: "metadata.name".into(),
            op: Op::Equals,
            values: vec![name.to_string()],
        });
    }
}

/// Both selectors of a list or watch request.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selection {
    pub fn from_query(
        q: &std::collections::HashMap<String, String>,
        res: &ResourceInfo,
    ) -> Result<Self, ApiError> {
        Ok(Selection {
            labels: LabelSelector::parse(q.get("labelSelector").map_or("", |s| s.as_str()))?,
            fields: FieldSelector::parse(q.get("fieldSelector").map_or("", |s| s.as_str()), res)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "ns", "labels": labels},
               "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_operators() {
        let o = pod(json!({"app": "web", "tier": "front"}));
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&o);
        assert!(m("app=web") && m("app==web") && m("app!=db") && !m("app!=web"));
        assert!(m("app in (web, db)") && !m("app notin (web,db)") && m("tier notin (back)"));
        assert!(m("app") && !m("!app") && m("!missing") && !m("missing"));
        assert!(m("app=web,tier in (front)") && !m("app=web,tier=back"));
        assert!(m("") && m("missing!=x"));
    }

    #[test]
    fn invalid_label_selectors_are_bad_requests() {
        for s in ["app in", "app in ()", "a b", "app=(x", "-bad=x", "app=a b"] {
            let e = LabelSelector::parse(s).expect_err(s);
            assert_eq!(400, e.code, "{s}");
        }
    }

    #[test]
    fn selector_objects() {
        let labels = json!({"app": "web", "tier": "front", "size": "3"});
        let m = |sel: Value| {
            LabelSelector::from_object(&sel).is_some_and(|s| s.matches_labels(&labels))
        };
        assert!(
            m(json!({"matchLabels": {"app": "web"}})) && !m(json!({"matchLabels": {"app": "db"}}))
        );
        assert!(m(
            json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]},
                                            {"key": "gone", "operator": "DoesNotExist"}]})
        ));
        assert!(m(json!({})) && !m(json!(null)) && !m(json!({"matchLabels": {"app": 1}})));
        // Gt and Lt are node selector operators, not label selector ones.
        assert!(!m(
            json!({"matchExpressions": [{"key": "size", "operator": "Gt", "values": ["1"]}]})
        ));
        let gt = json!({"key": "size", "operator": "Gt", "values": ["1"]});
        assert!(
            node_requirement_matches(&gt, Some("3")) && !node_requirement_matches(&gt, Some("1"))
        );
        assert!(!node_requirement_matches(
            &json!({"key": "size", "operator": "Lt"}),
            Some("1")
        ));
        assert!(!node_requirement_matches(
            &json!({"key": "size", "operator": "Near"}),
            Some("1")
        ));
    }

    #[test]
    fn selector_text_sorts_terms() {
        let sel = json!({"matchLabels": {"tier": "front", "app": "web", "n": 1},
            "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["a", "b"]},
                                 {"key": "gone", "operator": "DoesNotExist"},
                                 {"key": "x", "operator": "Exists"}]});
        assert_eq!(
            selector_text(&sel),
            "!gone,app=web,env notin (a,b),tier=front,x"
        );
        assert_eq!(selector_text(&json!({"app": "web"})), "app=web");
        assert_eq!(selector_text(&json!(null)), "");
    }

    #[test]
    fn field_selectors() {
        let res = crate::resources::find("", "v1", "pods").unwrap();
        let o = pod(json!({}));
        let m = |s: &str| FieldSelector::parse(s, res).unwrap().matches(&o);
        assert!(m("metadata.name=p") && m("spec.nodeName=n1") && m("status.phase!=Pending"));
        assert!(!m("metadata.namespace=other"));
        let e = FieldSelector::parse("spec.foo=x", res).unwrap_err();
        assert_eq!("field label not supported: spec.foo", e.message);
    }
}

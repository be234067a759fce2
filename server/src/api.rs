//! Request handling: authentication, discovery, and the generic REST verbs
//! over the store, answering with the real server's codes and Status shapes.

use crate::patch::{self, Patched};
use crate::resources::{self, ResourceInfo};
use crate::store::{qualified, ApiError, Store};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Users {
    pub admin_token: String,
    pub viewer_token: String,
    pub basic_user: String,
    pub basic_password: String,
}

pub struct Server {
    pub store: Mutex<Store>,
    pub users: Users,
}

pub struct Reply {
    pub code: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub fn json_reply(code: u16, v: &Value) -> Reply {
    Reply {
        code,
        content_type: "application/json",
        body: serde_json::to_vec(v).unwrap_or_default(),
    }
}

fn err_reply(e: ApiError) -> Reply {
    json_reply(e.code, &e.status())
}

pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: HashMap<String, String>,
    pub authorization: Option<&'a str>,
    pub client_cert: bool,
    pub content_type: &'a str,
    /// The Accept header (aggregated discovery is served only when asked for).
    #[allow(dead_code)] // read by the aggregated discovery documents, in progress
    pub accept: &'a str,
    pub body: &'a [u8],
}

pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(v) => {
                    out.push(v);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Server {
    fn authenticate(&self, req: &Incoming) -> Option<&'static str> {
        use base64::Engine;
        match req.authorization {
            Some(a) if a == format!("Bearer {}", self.users.admin_token) => Some("admin"),
            Some(a) if a == format!("Bearer {}", self.users.viewer_token) => Some("viewer"),
            Some(a) if a.starts_with("Basic ") => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(a[6..].trim())
                    .ok()?;
                let want = format!("{}:{}", self.users.basic_user, self.users.basic_password);
                (raw == want.as_bytes()).then_some("admin")
            }
            Some(_) => None,
            None if req.client_cert => Some("admin-cert"),
            None => None,
        }
    }

    pub fn handle(&self, req: Incoming) -> Reply {
        let Some(user) = self.authenticate(&req) else {
            return err_reply(ApiError::new(401, "Unauthorized", "Unauthorized"));
        };
        if let Some(reply) = crate::discovery::serve(&req) {
            return reply;
        }
        let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        match segs.as_slice() {
            ["testserver", "logs", ns, pod, container] if req.method == "POST" => {
                if user == "viewer" {
                    return forbidden(user, req.method, "pods/log", "", ns);
                }
                let mut st = self.store.lock().unwrap_or_else(|p| p.into_inner());
                let lines = st
                    .logs
                    .entry((ns.to_string(), pod.to_string(), container.to_string()))
                    .or_default();
                for l in String::from_utf8_lossy(req.body).lines() {
                    lines.push(l.to_string());
                }
                json_reply(200, &json!({"appended": true}))
            }
            _ => match self.resource_request(user, &req, &segs) {
                Ok(r) => r,
                Err(e) => err_reply(e),
            },
        }
    }

    fn resource_request(
        &self,
        user: &str,
        req: &Incoming,
        segs: &[&str],
    ) -> Result<Reply, ApiError> {
        let not_found = || {
            ApiError::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        };
        let (group, version, rest) = match segs {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => return Err(not_found()),
        };
        let (ns, rest) = match rest {
            ["namespaces", ns, r, tail @ ..] => (Some(*ns), [&[*r][..], tail].concat()),
            other => (None, other.to_vec()),
        };
        // `namespaces/NAME[/sub]` itself.
        let (ns, rest) = match (ns, rest.as_slice()) {
            (Some(n), [r, ..])
                if group.is_empty()
                    && resources::find("", version, r).is_none_or(|r| !r.namespaced)
                    && *r != "namespaces" =>
            {
                let mut v = vec!["namespaces", n];
                v.extend(rest.iter());
                (None, v)
            }
            _ => (ns, rest),
        };
        let (plural, name, sub) = match rest.as_slice() {
            [p] => (*p, None, None),
            [p, n] => (*p, Some(*n), None),
            [p, n, s] => (*p, Some(*n), Some(*s)),
            _ => return Err(not_found()),
        };
        let res = resources::find(group, version, plural).ok_or_else(not_found)?;
        if res.namespaced && ns.is_none() && name.is_some() {
            return Err(not_found());
        }
        if !res.namespaced && ns.is_some() {
            return Err(not_found());
        }
        let ns = ns.unwrap_or("");
        let write = !matches!(req.method, "GET" | "HEAD");
        if write && user == "viewer" {
            let verb = match req.method {
                "POST" => "create",
                "PUT" => "update",
                "PATCH" => "patch",
                _ if name.is_none() => "deletecollection",
                _ => "delete",
            };
            let _ = verb;
            return Ok(forbidden(user, req.method, res.plural, res.group, ns));
        }
        let dry_run = req.query.get("dryRun").is_some_and(|v| v == "All");
        let mut st = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *st;
        match (req.method, name, sub) {
            ("GET", None, None) => Ok(json_reply(200, &list(st, res, ns, &req.query)?)),
            ("GET", Some(n), None) => Ok(json_reply(200, &get(st, res, ns, n)?)),
            ("GET", Some(n), Some("status")) if res.status => {
                Ok(json_reply(200, &get(st, res, ns, n)?))
            }
            ("GET", Some(n), Some("log")) if res.plural == "pods" => logs(st, ns, n, &req.query),
            ("POST", None, None) => {
                let body = parse_body(req.body)?;
                Ok(json_reply(201, &create(st, res, ns, body, dry_run)?))
            }
            (
                "PUT",
                Some(n),
                sub @ (None | Some("status") | Some("finalize") | Some("ephemeralcontainers")),
            ) => {
                let body = parse_body(req.body)?;
                Ok(json_reply(
                    200,
                    &update(st, res, ns, n, body, sub, dry_run)?,
                ))
            }
            ("PATCH", Some(n), sub @ (None | Some("status") | Some("ephemeralcontainers"))) => {
                let target = patch::Target {
                    resource: res,
                    name: n,
                    subresource: sub,
                };
                let cur = get(st, res, ns, n).ok();
                match patch::patch(cur, &target, req.content_type, req.body, &req.query)? {
                    Patched::Create(obj) => {
                        Ok(json_reply(201, &create(st, res, ns, obj, dry_run)?))
                    }
                    Patched::Update(obj) => {
                        Ok(json_reply(200, &update(st, res, ns, n, obj, sub, dry_run)?))
                    }
                }
            }
            ("DELETE", Some(n), None) => {
                let obj = get(st, res, ns, n)?;
                if !dry_run {
                    st.objects.remove(&Store::key(res, ns, n));
                    st.next_rv();
                }
                Ok(json_reply(200, &obj))
            }
            ("DELETE", None, None) => {
                let l = list(st, res, ns, &req.query)?;
                if !dry_run {
                    for item in l["items"].as_array().into_iter().flatten() {
                        let (n, ins) = (
                            item["metadata"]["name"].as_str().unwrap_or(""),
                            item["metadata"]["namespace"].as_str().unwrap_or(""),
                        );
                        st.objects.remove(&Store::key(res, ins, n));
                    }
                    st.next_rv();
                }
                Ok(json_reply(200, &l))
            }
            _ => Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )),
        }
    }
}

fn forbidden(user: &str, method: &str, plural: &str, group: &str, ns: &str) -> Reply {
    let verb = match method {
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        _ => "delete",
    };
    let mut msg = format!("{plural} is forbidden: User \"{user}\" cannot {verb} resource \"{plural}\" in API group \"{group}\"");
    if !ns.is_empty() {
        msg.push_str(&format!(" in the namespace \"{ns}\""));
    } else {
        msg.push_str(" at the cluster scope");
    }
    let mut e = ApiError::new(403, "Forbidden", msg);
    e.details = json!({"kind": plural});
    err_reply(e)
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .or_else(|_| serde_yaml::from_slice(body))
        .map_err(|e| {
            ApiError::new(
                400,
                "BadRequest",
                format!("the body of the request was in an unknown format: {e}"),
            )
        })?;
    if !v.is_object() {
        return Err(ApiError::new(
            400,
            "BadRequest",
            "the body of the request must be an object",
        ));
    }
    Ok(v)
}

fn get(st: &Store, res: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
    let mut obj = st
        .objects
        .get(&Store::key(res, ns, name))
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, name))?;
    obj["kind"] = json!(res.kind);
    obj["apiVersion"] = json!(res.group_version());
    Ok(obj)
}

fn label_match(labels: &Value, selector: &str) -> bool {
    selector
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .all(|term| {
            let term = term.trim();
            let get = |k: &str| labels.get(k.trim()).and_then(|v| v.as_str());
            if let Some((k, v)) = term.split_once("!=") {
                get(k) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                get(k) == Some(v.trim())
            } else if let Some(k) = term.strip_prefix('!') {
                get(k).is_none()
            } else {
                get(term).is_some()
            }
        })
}

fn field_match(obj: &Value, selector: &str) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        let (k, v, neg) = match term.split_once("!=") {
            Some((k, v)) => (k, v, true),
            None => match term.split_once("==").or_else(|| term.split_once('=')) {
                Some((k, v)) => (k, v, false),
                None => return true,
            },
        };
        let path: Vec<&str> = k.split('.').collect();
        let mut cur = obj;
        for p in &path {
            cur = &cur[*p];
        }
        (cur.as_str().unwrap_or("") == v) != neg
    })
}

fn list(
    st: &Store,
    res: &ResourceInfo,
    ns: &str,
    q: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let ns = (!ns.is_empty()).then_some(ns);
    let items: Vec<Value> = st
        .list(res, ns)
        .into_iter()
        .filter(|o| {
            q.get("labelSelector")
                .is_none_or(|s| label_match(&o["metadata"]["labels"], s))
        })
        .filter(|o| q.get("fieldSelector").is_none_or(|s| field_match(o, s)))
        .collect();
    Ok(json!({
        "kind": format!("{}List", res.kind),
        "apiVersion": res.group_version(),
        "metadata": {"resourceVersion": st.rv.to_string()},
        "items": items,
    }))
}

fn create(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    mut obj: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    check_kind(res, &obj)?;
    let name = match obj["metadata"]["name"].as_str() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => match obj["metadata"]["generateName"].as_str() {
            Some(g) => format!("{g}{:05x}", st.rv + 1),
            None => {
                let mut e = ApiError::new(422, "Invalid", format!("{} \"\" is invalid: metadata.name: Required value: name or generateName is required", res.kind));
                e.details = json!({"kind": res.kind, "causes": [{"reason": "FieldValueRequired", "message": "Required value: name or generateName is required", "field": "metadata.name"}]});
                return Err(e);
            }
        },
    };
    obj["metadata"]["name"] = json!(name);
    if res.namespaced {
        let ns_res = resources::find("", "v1", "namespaces").expect("namespaces");
        if !st.objects.contains_key(&Store::key(ns_res, "", ns)) {
            return Err(ApiError::not_found(ns_res, ns));
        }
        if let Some(body_ns) = obj["metadata"]["namespace"].as_str() {
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::new(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"));
            }
        }
    }
    let key = Store::key(res, ns, &name);
    if st.objects.contains_key(&key) {
        let mut e = ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(res)),
        );
        e.details = crate::store::details(res, &name);
        return Err(e);
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("resourceVersion");
        m.remove("uid");
    }
    st.stamp_new(res, &mut obj, ns);
    if res.plural == "pods" {
        crate::pods::start(&mut obj);
    }
    if res.plural == "namespaces" {
        obj["status"] = json!({"phase": "Active"});
        obj["spec"] = json!({"finalizers": ["kubernetes"]});
    }
    obj["kind"] = json!(res.kind);
    obj["apiVersion"] = json!(res.group_version());
    if !dry_run {
        st.objects.insert(key, obj.clone());
    }
    Ok(obj)
}

fn check_kind(res: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    if let Some(kind) = obj["kind"].as_str() {
        let ok = kind == res.kind || (kind == "EphemeralContainers" && res.plural == "pods");
        if !ok
            || resources::find_kind(obj["apiVersion"].as_str().unwrap_or(""), kind).is_none()
                && kind != "EphemeralContainers"
        {
            return Err(ApiError::new(
                400,
                "BadRequest",
                format!(
                    "the API version in the data ({}) does not match the expected API version ({})",
                    obj["apiVersion"].as_str().unwrap_or(""),
                    res.group_version()
                ),
            ));
        }
    }
    Ok(())
}

fn update(
    st: &mut Store,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    mut obj: Value,
    sub: Option<&str>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let cur = get(st, res, ns, name)?;
    check_kind(res, &obj)?;
    if let Some(n) = obj["metadata"]["name"].as_str() {
        if n != name {
            return Err(ApiError::new(
                400,
                "BadRequest",
                "the name of the object does not match the name on the URL",
            ));
        }
    }
    if let Some(rv) = obj["metadata"]["resourceVersion"].as_str() {
        if rv != cur["metadata"]["resourceVersion"].as_str().unwrap_or("") {
            let mut e = ApiError::new(409, "Conflict", format!("Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", qualified(res)));
            e.details = crate::store::details(res, name);
            return Err(e);
        }
    }
    match sub {
        // The main resource keeps its status; /status keeps everything else.
        None if res.status => obj["status"] = cur["status"].clone(),
        Some("status") => {
            let status = obj["status"].clone();
            obj = cur.clone();
            obj["status"] = status;
        }
        Some("ephemeralcontainers") => {
            let ec = obj["spec"]["ephemeralContainers"].clone();
            obj = cur.clone();
            obj["spec"]["ephemeralContainers"] = ec;
        }
        Some("finalize") => {
            let fin = obj["spec"]["finalizers"].clone();
            obj = cur.clone();
            obj["spec"]["finalizers"] = fin;
        }
        _ => {}
    }
    for k in ["uid", "creationTimestamp", "namespace", "name"] {
        obj["metadata"][k] = cur["metadata"][k].clone();
    }
    if res.plural != "pods" && obj["spec"] != cur["spec"] {
        let g = cur["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        obj["metadata"]["generation"] = json!(g);
    } else if !cur["metadata"]["generation"].is_null() {
        obj["metadata"]["generation"] = cur["metadata"]["generation"].clone();
    }
    if obj["metadata"]["namespace"].is_null() {
        obj["metadata"]
            .as_object_mut()
            .map(|m| m.remove("namespace"));
    }
    obj["kind"] = json!(res.kind);
    obj["apiVersion"] = json!(res.group_version());
    if !dry_run {
        obj["metadata"]["resourceVersion"] = json!(st.next_rv());
        st.objects.insert(Store::key(res, ns, name), obj.clone());
    }
    Ok(obj)
}

fn logs(st: &Store, ns: &str, name: &str, q: &HashMap<String, String>) -> Result<Reply, ApiError> {
    let res = resources::find("", "v1", "pods").expect("pods");
    let pod = get(st, res, ns, name)?;
    let names: Vec<String> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    let container = match q.get("container") {
        Some(c) if !names.contains(c) => {
            return Err(ApiError::new(
                400,
                "BadRequest",
                format!("container {c} is not valid for pod {name}"),
            ))
        }
        Some(c) => c.clone(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(ApiError::new(
                400,
                "BadRequest",
                format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                ),
            ))
        }
    };
    let mut lines: Vec<String> = pod["metadata"]["annotations"]
        [format!("kube-testserver/log.{container}")]
    .as_str()
    .map(|s| s.lines().map(String::from).collect())
    .unwrap_or_default();
    if let Some(extra) = st.logs.get(&(ns.to_string(), name.to_string(), container)) {
        lines.extend(extra.iter().cloned());
    }
    if let Some(n) = q.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut text = String::new();
    for l in lines {
        if q.get("timestamps").is_some_and(|v| v == "true") {
            text.push_str(&crate::store::now_rfc3339());
            text.push(' ');
        }
        text.push_str(&l);
        text.push('\n');
    }
    if let Some(n) = q.get("limitBytes").and_then(|n| n.parse::<usize>().ok()) {
        text.truncate(n);
    }
    Ok(Reply {
        code: 200,
        content_type: "text/plain",
        body: text.into_bytes(),
    })
}

//! Request handling: authentication, routing of resource URLs (including
//! `watch` paths and subresources) onto the REST verbs. The request and reply
//! types live below it (`request`, `reply`), so the modules it routes to need
//! not import the router.

use crate::identity::Users;
use crate::patch::{self, Patched};
use crate::registry;
use crate::reply::{err_reply, json_reply, warned, Answer, Reply};
use crate::request::Incoming;
use crate::resources::ResourceInfo;
use crate::rest;
use crate::store::{ApiError, Store};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Server {
    /// Shared with the tasks that stream logs and finish namespace deletion.
    pub store: Arc<Mutex<Store>>,
    pub users: Users,
    pub faults: crate::faults::Faults,
    pub firehose: crate::firehose::Firehose,
}

/// A resource URL taken apart.
pub struct Target<'a> {
    pub res: &'static ResourceInfo,
    pub ns: &'a str,
    pub name: Option<&'a str>,
    pub sub: Option<&'a str>,
    /// `/api/v1/watch/...`: the legacy watch paths.
    pub watch_path: bool,
}

fn path_not_found() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// Parses `/api/v1[/watch][/namespaces/NS]/PLURAL[/NAME[/SUB]]` and the
/// `/apis/GROUP/VERSION/...` equivalents.
pub fn parse_target<'a>(segs: &[&'a str]) -> Result<Target<'a>, ApiError> {
    let (group, version, rest) = match segs {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(path_not_found()),
    };
    let (watch_path, rest) = match rest {
        ["watch", r @ ..] => (true, r),
        r => (false, r),
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, r, tail @ ..] => (Some(*ns), [&[*r][..], tail].concat()),
        other => (None, other.to_vec()),
    };
    // `namespaces/NAME/status` and `namespaces/NAME/finalize` are the namespace itself.
    let (ns, rest) = match (ns, rest.as_slice()) {
        (Some(n), [r, ..])
            if group.is_empty()
                && registry::find("", version, r).is_none_or(|r| !r.namespaced)
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
        _ => return Err(path_not_found()),
    };
    let res = registry::find(group, version, plural).ok_or_else(path_not_found)?;
    if (res.namespaced && ns.is_none() && name.is_some()) || (!res.namespaced && ns.is_some()) {
        return Err(path_not_found());
    }
    Ok(Target {
        res,
        ns: ns.unwrap_or(""),
        name,
        sub,
        watch_path,
    })
}

/// The subresources `resource_request` answers, each only where the resource
/// declares it (model/src/table.rs, or a CRD's `subresources`). exec, attach
/// and portforward are streams, routed before it (streams/); proxy and
/// checkpoint are not served.
const ANSWERED_SUBRESOURCES: &[&str] = &[
    "status",
    "scale",
    "log",
    "eviction",
    "binding",
    "ephemeralcontainers",
    "finalize",
    "token",
];

fn has_subresource(res: &ResourceInfo, sub: &str) -> bool {
    ANSWERED_SUBRESOURCES.contains(&sub) && res.has_subresource(sub)
}

impl Server {
    pub fn authenticate(&self, req: &Incoming) -> Option<&'static str> {
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

    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn handle(&self, mut req: Incoming) -> Answer {
        crate::patch::manager_from_user_agent(&mut req.query, req.content_type, req.user_agent);
        let Some(user) = self.authenticate(&req) else {
            return err_reply(ApiError::new(401, "Unauthorized", "Unauthorized")).into();
        };
        // Protobuf bodies become the JSON the rest of the server works on;
        // answers go back in protobuf only to clients that accept nothing else.
        if crate::protobuf::is_protobuf(req.content_type) && !req.body.is_empty() {
            return match crate::protobuf::request_to_json(req.body) {
                Ok(json) => self.handle(Incoming {
                    content_type: "application/json",
                    body: &json,
                    ..req
                }),
                Err(e) => err_reply(e).into(),
            };
        }
        if crate::protobuf::wants_protobuf(req.accept) {
            return match self.handle_as(user, &req) {
                Answer::Full(r) if r.content_type == "application/json" => {
                    match crate::protobuf::json_to_response(&r.body) {
                        Some(body) => Answer::Full(Reply {
                            code: r.code,
                            content_type: crate::protobuf::MEDIA_TYPE,
                            body,
                            warnings: Vec::new(),
                        }),
                        None => Answer::Full(r),
                    }
                }
                other => other,
            };
        }
        self.handle_as(user, &req)
    }

    fn handle_as(&self, user: &'static str, req: &Incoming) -> Answer {
        let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        if let Some(reply) = crate::discovery::serve(req) {
            return reply.into();
        }
        let result = match segs.as_slice() {
            ["testserver", rest @ ..] => self.test_control(user, req, rest).map(Answer::from),
            _ => self.resource_request(user, req, &segs),
        };
        result.unwrap_or_else(|e| err_reply(e).into())
    }

    /// `/testserver/...`: what tests use to steer the server.
    fn test_control(&self, user: &str, req: &Incoming, rest: &[&str]) -> Result<Reply, ApiError> {
        if user == "viewer" && req.method != "GET" {
            let mut e = ApiError::new(
                403,
                "Forbidden",
                format!(
                    "forbidden: User \"{user}\" cannot {} path \"{}\"",
                    verb(req.method),
                    req.path
                ),
            );
            e.details = json!({});
            return Ok(err_reply(e));
        }
        match (req.method, rest) {
            ("POST", ["logs", ns, pod, container]) => {
                let mut st = self.lock();
                crate::logs::append(&mut st, ns, pod, container, req.body);
                Ok(json_reply(200, &json!({"appended": true})))
            }
            ("POST", ["compact"]) => {
                let mut st = self.lock();
                st.compact();
                Ok(json_reply(
                    200,
                    &json!({"compactedResourceVersion": st.rv.to_string()}),
                ))
            }
            ("GET", ["clock"]) => Ok(json_reply(200, &crate::controllers::clock::describe())),
            ("POST", ["clock"]) => crate::controllers::clock::configure(req.body)
                .map(|v| json_reply(200, &v))
                .map_err(ApiError::bad_request),
            (_, ["faults"]) => self.faults.configure(req.method, req.body),
            (_, ["firehose"]) => self.firehose.configure(req.method, req.body),
            _ => Err(path_not_found()),
        }
    }

    /// A request on a resource URL: the checks every verb shares, then the
    /// verb.
    fn resource_request(
        &self,
        user: &str,
        req: &Incoming,
        segs: &[&str],
    ) -> Result<Answer, ApiError> {
        let call = admit(user, req, segs)?;
        let mut st = self.lock();
        let st = &mut *st;
        match req.method {
            "GET" => self.get(req, &call, st),
            "POST" => self.post(user, req, &call, st),
            "PUT" => self.put(req, &call, st),
            "PATCH" => self.patch(req, &call, st),
            "DELETE" => self.delete(req, &call, st),
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    /// GET: a watch, a list, an object or one of its read subresources, as
    /// JSON or, when `kubectl get` asks for it in Accept, as a Table.
    fn get(&self, req: &Incoming, call: &Call, st: &mut Store) -> Result<Answer, ApiError> {
        let (res, ns) = (call.target.res, call.target.ns);
        let partial = match call.target.sub {
            None | Some("status") | Some("ephemeralcontainers") => {
                crate::partial::requested(req.accept)?
            }
            Some(_) => None,
        };
        let table = match call.target.sub {
            None if partial.is_none() => {
                crate::printers::requested(req.accept, &req.query, st, res)?
            }
            _ => None,
        };
        match (call.target.name, call.target.sub) {
            (name, None) if call.watch => {
                let mut selection = crate::selectors::Selection::from_query(&req.query, res)?;
                if let Some(n) = name {
                    selection.fields.add_name(n);
                }
                let firehose = self.firehose.take(req.path);
                let stream = crate::watch::start(
                    st,
                    res,
                    res.group_version(),
                    ns,
                    &req.query,
                    selection,
                    firehose,
                    partial,
                )?;
                Ok(Answer::Stream(match table {
                    Some(view) => view.watch(stream),
                    None => stream,
                }))
            }
            (None, None) => {
                let list = rest::list(st, res, ns, &req.query)?;
                if let Some(p) = partial {
                    return Ok(Answer::Full(json_reply(200, &p.of_list(res, &list)?)));
                }
                match table {
                    Some(view) => {
                        Ok(view.answer(&view.of_list(&list, res.kind, &res.group_version())))
                    }
                    None if list.items.len() > crate::list_stream::STREAM_ABOVE_ITEMS => {
                        Ok(Answer::Stream(crate::list_stream::start(
                            self.store.clone(),
                            res,
                            ns.to_string(),
                            req.query.clone(),
                        )))
                    }
                    None => Ok(Answer::Full(json_reply(200, &list))),
                }
            }
            (Some(n), None | Some("status") | Some("ephemeralcontainers")) => {
                let obj = rest::get(st, res, ns, n)?;
                if let Some(p) = partial {
                    return ok(p.of_object(res, &obj)?);
                }
                match table {
                    Some(view) => Ok(view.answer(&view.of_object(&obj))),
                    None => ok(obj),
                }
            }
            (Some(n), Some("scale")) => ok(crate::subresources::get_scale(st, res, ns, n)?),
            (Some(n), Some("log")) => crate::logs::serve(&self.store, st, ns, n, &req.query),
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    /// POST: a create, a review answered without storing, or a subresource
    /// that acts (token, eviction, binding).
    fn post(
        &self,
        user: &str,
        req: &Incoming,
        call: &Call,
        st: &mut Store,
    ) -> Result<Answer, ApiError> {
        let (res, ns, dry_run) = (call.target.res, call.target.ns, call.dry_run);
        let created = |v: Value| Ok(Answer::Full(json_reply(201, &v)));
        match (call.target.name, call.target.sub) {
            (None, None) if crate::authz::is_review(res) => {
                let body = rest::parse_body(req.body)?;
                created(crate::authz::review(user, res, ns, &body)?)
            }
            (Some(n), Some("token")) => {
                let body = rest::parse_body(req.body)?;
                created(crate::authz::create_token(st, res, ns, n, &body)?)
            }
            (None, None) => {
                let mut body = rest::parse_body(req.body)?;
                crate::crd::strict_fields(res, &body, &req.query)?;
                let target = patch::Target {
                    resource: res,
                    name: "",
                    subresource: None,
                };
                let warnings = crate::field_validation::check(res, &mut body, &req.query)?;
                patch::record_write(&json!({}), &mut body, &target, &req.query);
                crate::rules::on_create(res, &body)?;
                let opts = rest::CreateOptions {
                    dry_run,
                    keep_status: false,
                };
                let obj = rest::create(st, res, ns, body, opts)?;
                Ok(Answer::Full(warned(201, &obj, warnings)))
            }
            (Some(n), Some("eviction")) => {
                let body = rest::parse_body(req.body)?;
                created(crate::subresources::evict(st, ns, n, &body, dry_run)?)
            }
            (Some(n), Some("binding")) => {
                let body = rest::parse_body(req.body)?;
                created(crate::subresources::bind(st, ns, n, &body, dry_run)?)
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    /// PUT: a whole object, its status, a namespace's finalizers, a pod's
    /// ephemeral containers, or a scale.
    fn put(&self, req: &Incoming, call: &Call, st: &mut Store) -> Result<Answer, ApiError> {
        let (res, ns, dry_run) = (call.target.res, call.target.ns, call.dry_run);
        match (call.target.name, call.target.sub) {
            (Some(n), Some("scale")) => {
                let body = rest::parse_body(req.body)?;
                ok(crate::subresources::put_scale(
                    st, res, ns, n, body, dry_run,
                )?)
            }
            (Some(n), sub @ (None | Some("status" | "finalize" | "ephemeralcontainers"))) => {
                let mut body = rest::parse_body(req.body)?;
                crate::crd::strict_fields(res, &body, &req.query)?;
                let warnings = crate::field_validation::check(res, &mut body, &req.query)?;
                if let (None, Ok(old)) = (sub, rest::get(st, res, ns, n)) {
                    let target = patch::Target {
                        resource: res,
                        name: n,
                        subresource: None,
                    };
                    patch::record_write(&old, &mut body, &target, &req.query);
                    crate::rules::on_update(res, &old, &body)?;
                }
                Ok(Answer::Full(warned(
                    200,
                    &rest::update(st, res, ns, n, body, sub, dry_run)?,
                    warnings,
                )))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    /// PATCH: an object (or its status, or ephemeral containers; an apply may
    /// create it) or a scale.
    fn patch(&self, req: &Incoming, call: &Call, st: &mut Store) -> Result<Answer, ApiError> {
        let (res, ns, dry_run) = (call.target.res, call.target.ns, call.dry_run);
        match (call.target.name, call.target.sub) {
            (Some(n), Some("scale")) => {
                let scale = crate::subresources::get_scale(st, res, ns, n)?;
                let patched =
                    patch::patch_view(scale, "Scale", req.content_type, req.body, &req.query)?;
                ok(crate::subresources::put_scale(
                    st, res, ns, n, patched, dry_run,
                )?)
            }
            (Some(n), sub @ (None | Some("status") | Some("ephemeralcontainers"))) => {
                let target = patch::Target {
                    resource: res,
                    name: n,
                    subresource: sub,
                };
                let cur = rest::get(st, res, ns, n).ok();
                match patch::patch(cur.clone(), &target, req.content_type, req.body, &req.query)? {
                    Patched::Create(mut obj) => {
                        let warnings = crate::field_validation::check(res, &mut obj, &req.query)?;
                        crate::rules::on_create(res, &obj)?;
                        let opts = rest::CreateOptions {
                            dry_run,
                            keep_status: false,
                        };
                        Ok(Answer::Full(warned(
                            201,
                            &rest::create(st, res, ns, obj, opts)?,
                            warnings,
                        )))
                    }
                    Patched::Update(mut obj) => {
                        let warnings = crate::field_validation::check(res, &mut obj, &req.query)?;
                        if let (None, Some(old)) = (sub, &cur) {
                            crate::rules::on_update(res, old, &obj)?;
                        }
                        Ok(Answer::Full(warned(
                            200,
                            &rest::update(st, res, ns, n, obj, sub, dry_run)?,
                            warnings,
                        )))
                    }
                }
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    /// DELETE: one object (a namespace then empties in the background) or a
    /// collection.
    fn delete(&self, req: &Incoming, call: &Call, st: &mut Store) -> Result<Answer, ApiError> {
        let (res, ns, dry_run) = (call.target.res, call.target.ns, call.dry_run);
        let options = || rest::DeleteOptions::from_request(&req.query, req.body);
        match (call.target.name, call.target.sub) {
            (Some(n), None) => {
                let reply = rest::delete(st, res, ns, n, &options()?, dry_run)?;
                if res.group.is_empty() && res.plural == "namespaces" && !dry_run {
                    crate::lifecycle::finish_namespace_later(self.store.clone(), n.to_string());
                }
                ok(reply)
            }
            (None, None) => ok(rest::delete_collection(
                st,
                res,
                ns,
                &req.query,
                &options()?,
                dry_run,
            )?),
            _ => Err(ApiError::method_not_allowed()),
        }
    }
}

/// A resource request that passed the checks every verb shares.
struct Call<'a> {
    target: Target<'a>,
    dry_run: bool,
    /// A watch, by path (`/watch/`) or by query (`?watch=true`).
    watch: bool,
}

/// The checks before any verb, in this order (the first failing one
/// answers): the URL names a resource (and a subresource it has), the user
/// may write, `dryRun` is valid, a namespaced resource is written in a
/// namespace, and a POST or PUT body comes in a content type the server reads.
fn admit<'a>(user: &str, req: &Incoming, segs: &[&'a str]) -> Result<Call<'a>, ApiError> {
    let t = parse_target(segs)?;
    if let Some(sub) = t.sub {
        if !has_subresource(t.res, sub) {
            return Err(path_not_found());
        }
    }
    let (res, ns) = (t.res, t.ns);
    let write = !matches!(req.method, "GET" | "HEAD");
    if write && user == "viewer" && !crate::authz::is_review(res) {
        return Err(forbidden(user, req.method, &t));
    }
    let dry_run = match req.query.get("dryRun").map(String::as_str) {
        _ if !write => false,
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::new(
                400,
                "BadRequest",
                format!("Invalid dryRun value: \"{other}\": supported values: \"All\""),
            ))
        }
    };
    // Across namespaces a namespaced resource can only be listed and watched.
    if res.namespaced && ns.is_empty() && req.method != "GET" {
        return Err(ApiError::method_not_allowed());
    }
    let watch = t.watch_path || crate::watch::requested(&req.query);
    if matches!(req.method, "POST" | "PUT") {
        rest::check_content_type(req.content_type)?;
    }
    Ok(Call {
        target: t,
        dry_run,
        watch,
    })
}

/// 200 with the object.
fn ok(v: Value) -> Result<Answer, ApiError> {
    Ok(Answer::Full(json_reply(200, &v)))
}

fn verb(method: &str) -> &'static str {
    match method {
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "GET" => "get",
        _ => "delete",
    }
}

/// 403 as the authorizer words it: `pods "x" is forbidden: User "viewer"
/// cannot delete resource "pods" in API group "" in the namespace "default"`.
fn forbidden(user: &str, method: &str, t: &Target) -> ApiError {
    let res = t.res;
    let verb = match (method, t.name) {
        ("DELETE", None) => "deletecollection",
        (m, _) => verb(m),
    };
    let resource = match t.sub {
        Some(s) => format!("{}/{s}", res.plural),
        None => res.plural.to_string(),
    };
    let subject = match t.name {
        Some(n) => format!("{} \"{n}\"", crate::store::qualified(res)),
        None => crate::store::qualified(res),
    };
    let scope = if t.ns.is_empty() {
        " at the cluster scope".to_string()
    } else {
        format!(" in the namespace \"{}\"", t.ns)
    };
    let mut e = ApiError::new(
        403,
        "Forbidden",
        format!("{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\"{scope}", res.group),
    );
    e.details = crate::store::details(res, t.name.unwrap_or(""));
    if t.name.is_none() {
        e.details.as_object_mut().map(|d| d.remove("name"));
    }
    e
}

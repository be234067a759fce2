//! Who a client is and what it may do, as it asks the server: the
//! authentication.k8s.io reviews (SelfSubjectReview for `kubectl auth whoami`,
//! TokenReview), the authorization.k8s.io ones (SelfSubjectAccessReview and
//! SelfSubjectRulesReview for `kubectl auth can-i [--list]`, SubjectAccessReview,
//! LocalSubjectAccessReview) and `serviceaccounts/NAME/token` (TokenRequest,
//! `kubectl create token`). Reviews are answered, never stored (201, as the
//! real server does).
//!
//! The server's authorizer is simple: `admin` (token, basic or client
//! certificate) is in `system:masters` and may do everything; `viewer` may
//! get, list and watch anything and nothing else; any other user, service
//! accounts included, nothing.

use crate::resources::ResourceInfo;
use crate::store::{ApiError, Store};
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Mutex;

const READ_VERBS: &[&str] = &["get", "list", "watch"];
const DEFAULT_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// Tokens issued by `serviceaccounts/NAME/token`: what TokenReview finds.
struct Issued {
    user: Value,
    expires: f64,
    audiences: Vec<String>,
}

static ISSUED: Mutex<Vec<(String, Issued)>> = Mutex::new(Vec::new());
/// More than this many live tokens: the oldest go first.
const MAX_ISSUED: usize = 10_000;

/// The groups and verbs that decide what a user may do.
fn groups_of(user: &str) -> Vec<&'static str> {
    match user {
        "admin" | "admin-cert" => vec!["system:masters", "system:authenticated"],
        _ => vec!["system:authenticated"],
    }
}

pub fn user_info(user: &str) -> Value {
    json!({"username": user, "groups": groups_of(user)})
}

/// Whether USER in GROUPS may do VERB, and the authorizer's reason.
fn decide(user: &str, groups: &[String], verb: &str) -> (bool, String) {
    if groups.iter().any(|g| g == "system:masters") || matches!(user, "admin" | "admin-cert") {
        return (
            true,
            "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"".into(),
        );
    }
    if user == "viewer" && READ_VERBS.contains(&verb) {
        return (
            true,
            "RBAC: allowed by ClusterRoleBinding \"viewer\" of ClusterRole \"view\" to User \"viewer\"".into(),
        );
    }
    (false, String::new())
}

/// The kinds this module answers on POST instead of storing them.
pub fn is_review(res: &ResourceInfo) -> bool {
    matches!(res.group, "authentication.k8s.io" | "authorization.k8s.io")
}

fn invalid(res: &ResourceInfo, field: &str, value: &str, detail: &str) -> ApiError {
    crate::validation::invalid(
        res,
        "",
        field,
        "FieldValueInvalid",
        &format!("Invalid value: {value}: {detail}"),
    )
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

/// Answers a review POSTed by `user` (namespace `ns` for the local one).
pub fn review(user: &str, res: &ResourceInfo, ns: &str, body: &Value) -> Result<Value, ApiError> {
    let spec = body.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status = match res.kind {
        "SelfSubjectReview" => json!({"userInfo": user_info(user)}),
        "TokenReview" => {
            let token = spec["token"].as_str().unwrap_or("");
            if token.is_empty() {
                return Err(invalid(
                    res,
                    "spec.token",
                    "\"\"",
                    "token must be specified",
                ));
            }
            token_review(token, &strings(&spec["audiences"]))
        }
        "SelfSubjectRulesReview" => {
            let (verbs, non_resource): (Vec<&str>, Vec<&str>) = match decide(user, &[], "create").0
            {
                true => (vec!["*"], vec!["*"]),
                false if user == "viewer" => (READ_VERBS.to_vec(), vec!["get"]),
                false => (vec![], vec![]),
            };
            let mut rules = vec![
                json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
            ];
            rules.push(
                json!({"verbs": ["create"], "apiGroups": ["authentication.k8s.io"],
                "resources": ["selfsubjectreviews"]}),
            );
            if !verbs.is_empty() {
                rules.insert(
                    0,
                    json!({"verbs": verbs, "apiGroups": ["*"], "resources": ["*"]}),
                );
            }
            let mut non = vec![
                json!({"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*",
                "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]}),
            ];
            if !non_resource.is_empty() {
                non.insert(0, json!({"verbs": non_resource, "nonResourceURLs": ["*"]}));
            }
            json!({"resourceRules": rules, "nonResourceRules": non, "incomplete": false})
        }
        "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview" => {
            let attrs = &spec["resourceAttributes"];
            let non = &spec["nonResourceAttributes"];
            if attrs.is_object() == non.is_object() {
                return Err(invalid(
                    res,
                    "spec.resourceAttributes",
                    "\"null\"",
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                ));
            }
            if res.kind == "LocalSubjectAccessReview" && attrs["namespace"].as_str() != Some(ns) {
                return Err(invalid(
                    res,
                    "spec.resourceAttributes.namespace",
                    &format!("\"{}\"", attrs["namespace"].as_str().unwrap_or("")),
                    "must match metadata.namespace",
                ));
            }
            let (who, groups) = if res.kind == "SelfSubjectAccessReview" {
                (
                    user.to_string(),
                    groups_of(user).iter().map(|g| g.to_string()).collect(),
                )
            } else {
                let who = spec["user"].as_str().unwrap_or("").to_string();
                let groups = strings(&spec["groups"]);
                if who.is_empty() && groups.is_empty() {
                    return Err(invalid(
                        res,
                        "spec.user",
                        "\"\"",
                        "at least one of user or group must be specified",
                    ));
                }
                (who, groups)
            };
            let verb = if attrs.is_object() {
                &attrs["verb"]
            } else {
                &non["verb"]
            };
            let (allowed, reason) = decide(&who, &groups, verb.as_str().unwrap_or(""));
            let mut st = json!({"allowed": allowed});
            if !reason.is_empty() {
                st["reason"] = json!(reason);
            }
            st
        }
        other => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                format!("{other} cannot be created here"),
            ))
        }
    };
    let mut metadata = json!({"creationTimestamp": null});
    if res.namespaced {
        metadata["namespace"] = json!(ns);
    }
    Ok(json!({
        "kind": res.kind, "apiVersion": res.group_version(),
        "metadata": metadata, "spec": spec, "status": status,
    }))
}

fn token_review(token: &str, audiences: &[String]) -> Value {
    let now = crate::store::unix_now();
    let issued = ISSUED.lock().unwrap_or_else(|p| p.into_inner());
    match issued.iter().find(|(t, _)| t == token) {
        Some((_, i)) if i.expires > now => {
            let auds: Vec<&String> = if audiences.is_empty() {
                i.audiences.iter().collect()
            } else {
                audiences
                    .iter()
                    .filter(|a| i.audiences.contains(a))
                    .collect()
            };
            if auds.is_empty() {
                return json!({"user": {}, "error": "[invalid bearer token, token audiences is invalid]"});
            }
            json!({"authenticated": true, "user": i.user, "audiences": auds})
        }
        Some(_) => {
            json!({"user": {}, "error": "[invalid bearer token, service account token has expired]"})
        }
        None => {
            json!({"user": {}, "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]"})
        }
    }
}

/// The user a bearer token issued by `create_token` stands for, while it is valid.
#[allow(dead_code)]
pub fn issued_user(token: &str) -> Option<String> {
    let now = crate::store::unix_now();
    let issued = ISSUED.lock().unwrap_or_else(|p| p.into_inner());
    issued
        .iter()
        .find(|(t, i)| t == token && i.expires > now)
        .and_then(|(_, i)| i.user["username"].as_str().map(String::from))
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `POST serviceaccounts/NAME/token`: a TokenRequest with a bound token.
pub fn create_token(
    st: &Store,
    sa: &ResourceInfo,
    ns: &str,
    name: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let account = crate::rest::get(st, sa, ns, name)?;
    let spec = &body["spec"];
    let seconds = spec["expirationSeconds"].as_i64().unwrap_or(3600);
    if seconds < 600 {
        let e = ApiError::new(
            422,
            "Invalid",
            format!("TokenRequest.authentication.k8s.io \"{name}\" is invalid: spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 10 minutes"),
        );
        return Err(e);
    }
    let mut audiences = strings(&spec["audiences"]);
    if audiences.is_empty() {
        audiences.push(DEFAULT_AUDIENCE.into());
    }
    let now = crate::store::unix_now().floor() as i64;
    let exp = now + seconds;
    let uid = account["metadata"]["uid"].as_str().unwrap_or("");
    let username = format!("system:serviceaccount:{ns}:{name}");
    let claims = json!({
        "aud": audiences, "exp": exp, "iat": now, "iss": DEFAULT_AUDIENCE,
        "jti": crate::identity::random_hex(16),
        "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": uid}},
        "nbf": now, "sub": username,
    });
    let header = json!({"alg": "RS256", "kid": "kube-testserver"});
    let token = format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        b64url(crate::identity::random_hex(32).as_bytes())
    );
    let user = json!({"username": username, "uid": uid,
        "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"],
        "extra": {"authentication.kubernetes.io/credential-id": [format!("JTI={}", claims["jti"].as_str().unwrap_or(""))]}});
    {
        let mut issued = ISSUED.lock().unwrap_or_else(|p| p.into_inner());
        let t = crate::store::unix_now();
        issued.retain(|(_, i)| i.expires > t);
        if issued.len() >= MAX_ISSUED {
            issued.remove(0);
        }
        issued.push((
            token.clone(),
            Issued {
                user,
                expires: exp as f64,
                audiences: audiences.clone(),
            },
        ));
    }
    Ok(json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": account["metadata"]["creationTimestamp"]},
        "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": spec["boundObjectRef"]},
        "status": {"token": token, "expirationTimestamp": crate::store::rfc3339(exp.max(0) as u64)},
    }))
}

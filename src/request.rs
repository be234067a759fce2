//! Requests as data: the method, path, query, body and content type of a
//! call, built without Lua and without the network (the unit tests below
//! need neither). The verb table (`verbs::VERBS`) says which method, target
//! and subresource a verb uses; [`Location`] turns that into a path,
//! [`HttpRequest`] adds the query, body and content type, and `call` sends
//! it through the transport.

use crate::path;

/// Which part of a resource a verb addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum On {
    /// `…/pods`: list, create, watch, delete_collection.
    Collection,
    /// `…/pods/NAME[/SUB]`: one object or one of its subresources.
    Item,
}

/// Where a resource's objects live: `BASE/VERSION[/namespaces/NS]/RESOURCE`
/// (`api/v1/namespaces/default/pods`, `apis/apps/v1/deployments`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Location<'a> {
    /// `api` for the core group, `apis` for named groups.
    pub(crate) base: &'a str,
    /// The group version, e.g. `v1`, `apps/v1`.
    pub(crate) version: &'a str,
    /// A namespace already checked to be a path segment.
    pub(crate) namespace: Option<&'a str>,
    /// The resource's plural name.
    pub(crate) resource: &'a str,
}

impl Location<'_> {
    /// The collection path, every segment percent-encoded where needed.
    pub(crate) fn collection(&self) -> String {
        match self.namespace {
            Some(ns) => format!(
                "{}/{}/namespaces/{}/{}",
                self.base,
                self.version,
                path::encode(ns),
                path::encode(self.resource)
            ),
            None => format!(
                "{}/{}/{}",
                self.base,
                self.version,
                path::encode(self.resource)
            ),
        }
    }

    /// The path of object `name` (already checked and encoded, see
    /// `path::segment`) or of its subresource `sub` (`""`: the object).
    pub(crate) fn item(&self, name: &str, sub: &str) -> String {
        if sub.is_empty() {
            format!("{}/{name}", self.collection())
        } else {
            format!("{}/{name}/{sub}", self.collection())
        }
    }
}

/// `prefix` + `path` as luakube concatenated them, with exactly one `/`
/// between: `""` adds nothing (`/api/v1` is the group's discovery document,
/// not `/api/v1/`), `"/x"` and `"x"` both give `prefix/x` (luakube glued the
/// latter into `prefixx`).
pub(crate) fn join_path(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}/{path}")
    }
}

/// The Content-Type of a body sent with `method`; `style` names a PATCH's
/// kind (`merge` when absent, `json`, `strategic`, `apply`).
pub(crate) fn content_type(method: &str, style: Option<&str>) -> String {
    if !method.eq_ignore_ascii_case("PATCH") {
        return "application/json".to_string();
    }
    match style.unwrap_or("merge") {
        "apply" => "application/apply-patch+yaml".to_string(),
        // luakube sent application/strategic-patch+json, which every API
        // server rejects with 415: send the real type.
        "strategic" | "strategic-merge" => "application/strategic-merge-patch+json".to_string(),
        s => format!("application/{s}-patch+json"),
    }
}

/// One HTTP request as the API sees it, before credentials and transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpRequest {
    pub(crate) method: String,
    /// Relative to the server, without a leading `/`.
    pub(crate) path: String,
    /// `a=b&c=d` (see `query::build`), empty for none.
    pub(crate) query: String,
    pub(crate) body: Option<Vec<u8>>,
    /// Set exactly when there is a body.
    pub(crate) content_type: Option<String>,
    /// What the answer may be (`application/json`, or a metadata-only view:
    /// `view.rs`).
    pub(crate) accept: &'static str,
}

impl HttpRequest {
    pub(crate) fn new(
        method: &str,
        path: String,
        query: String,
        body: Option<Vec<u8>>,
        patch_style: Option<&str>,
    ) -> Self {
        let content_type = body.as_ref().map(|_| content_type(method, patch_style));
        HttpRequest {
            method: method.to_string(),
            path,
            query,
            body,
            content_type,
            accept: "application/json",
        }
    }

    /// The same request accepting `accept`.
    pub(crate) fn accepting(self, accept: &'static str) -> Self {
        HttpRequest { accept, ..self }
    }

    /// `server/path?query` (no `?` for an empty query).
    pub(crate) fn url(&self, server: &str) -> String {
        let mut url = format!("{server}/{}", self.path);
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(&self.query);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pods(ns: Option<&str>) -> Location<'_> {
        Location {
            base: "api",
            version: "v1",
            namespace: ns,
            resource: "pods",
        }
    }

    #[test]
    fn paths_of_collections_items_and_subresources() {
        assert_eq!(pods(None).collection(), "api/v1/pods");
        assert_eq!(
            pods(Some("default")).collection(),
            "api/v1/namespaces/default/pods"
        );
        assert_eq!(
            pods(Some("default")).item("web", ""),
            "api/v1/namespaces/default/pods/web"
        );
        assert_eq!(
            pods(Some("default")).item("web", "log"),
            "api/v1/namespaces/default/pods/web/log"
        );
        let deploy = Location {
            base: "apis",
            version: "apps/v1",
            namespace: Some("a b"),
            resource: "deployments",
        };
        assert_eq!(
            deploy.item("web", "scale"),
            "apis/apps/v1/namespaces/a%20b/deployments/web/scale"
        );
    }

    #[test]
    fn joined_paths_have_one_slash() {
        assert_eq!(join_path("api/", ""), "api");
        assert_eq!(join_path("api/v1/", "/pods"), "api/v1/pods");
        assert_eq!(join_path("api/v1", "pods"), "api/v1/pods");
    }

    #[test]
    fn content_types_follow_method_and_patch_style() {
        assert_eq!(content_type("POST", None), "application/json");
        assert_eq!(content_type("put", Some("apply")), "application/json");
        assert_eq!(content_type("PATCH", None), "application/merge-patch+json");
        assert_eq!(
            content_type("patch", Some("json")),
            "application/json-patch+json"
        );
        assert_eq!(
            content_type("PATCH", Some("strategic")),
            "application/strategic-merge-patch+json"
        );
        assert_eq!(
            content_type("PATCH", Some("apply")),
            "application/apply-patch+yaml"
        );
    }

    #[test]
    fn requests_carry_a_content_type_only_with_a_body() {
        let get = HttpRequest::new("GET", "api/v1/pods".into(), "limit=5".into(), None, None);
        assert_eq!(get.content_type, None);
        assert_eq!(get.url("https://k"), "https://k/api/v1/pods?limit=5");
        let patch = HttpRequest::new(
            "PATCH",
            "api/v1/namespaces/d/pods/w".into(),
            String::new(),
            Some(b"{}".to_vec()),
            Some("json"),
        );
        assert_eq!(
            patch.content_type.as_deref(),
            Some("application/json-patch+json")
        );
        assert_eq!(
            patch.url("https://k"),
            "https://k/api/v1/namespaces/d/pods/w"
        );
    }
}

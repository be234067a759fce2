//! What each Lua client object holds and addresses: the top-level client,
//! a group client (one group version) and a resource client (one resource,
//! optionally in one namespace), with the paths a resource client's verbs
//! go to. Their Lua methods live in `client` (the classes) and `verbs` (the
//! resource verbs).

use crate::args::{arg_error, body_table, metadata_field};
use crate::call::ClientCore;
use crate::request::Location;
use crate::resources::{Group, Resource, Scope};
use mlua::{Lua, Table, Value};
use std::rc::Rc;

/// The top-level client: `api.Client:new(conf, panic, mock)`.
pub(crate) struct ApiClient {
    pub(crate) core: Rc<ClientCore>,
}

/// A client for one API group version (`client:corev1()`), keeping its own base.
pub(crate) struct GroupClient {
    pub(crate) core: Rc<ClientCore>,
    pub(crate) group: &'static Group,
}

/// A client for one resource, optionally in one namespace.
pub(crate) struct ResourceClient {
    pub(crate) core: Rc<ClientCore>,
    pub(crate) group: &'static Group,
    pub(crate) res: &'static Resource,
    pub(crate) namespace: Option<String>,
}

impl ResourceClient {
    pub(crate) fn what(&self, verb: &str) -> String {
        format!("{}:{verb}", self.res.name)
    }

    /// Where this resource's objects live in namespace `ns`.
    pub(crate) fn location<'a>(&'a self, ns: Option<&'a str>) -> Location<'a> {
        Location {
            base: self.group.base,
            version: self.group.version,
            namespace: ns,
            resource: self.res.name,
        }
    }

    /// `api/v1/namespaces/ns/pods` or `api/v1/pods` (the namespace was
    /// checked where it came in: the constructor or `obj_ns`).
    pub(crate) fn collection(&self, ns: Option<&str>) -> String {
        self.location(ns).collection()
    }

    /// `collection/name` or its subresource `sub` (`""`: the object,
    /// `"status"` …); a name that cannot be a path segment is an error
    /// naming the call.
    pub(crate) fn item(
        &self,
        verb: &str,
        ns: Option<&str>,
        name: &str,
        sub: &str,
    ) -> mlua::Result<String> {
        let name = crate::path::segment(&self.what(verb), "name", name)?;
        Ok(self.location(ns).item(&name, sub))
    }

    /// The namespace a by-name call uses; namespaced resources need one.
    pub(crate) fn need_ns(&self, verb: &str) -> mlua::Result<Option<&str>> {
        match (self.res.scope, &self.namespace) {
            (Scope::Namespaced, None) => Err(arg_error(
                &self.what(verb),
                format!(
                    "{} are namespaced: make the client with a namespace, e.g. :{}(\"default\")",
                    self.res.name, self.res.name
                ),
            )),
            (_, ns) => Ok(ns.as_deref()),
        }
    }

    /// The namespace for a write: the client's, else the object's own.
    pub(crate) fn obj_ns(&self, obj: &Table, verb: &str) -> mlua::Result<Option<String>> {
        if let Some(ns) = &self.namespace {
            return Ok(Some(ns.clone()));
        }
        if self.res.scope != Scope::Namespaced {
            return Ok(None);
        }
        let ns = metadata_field(obj, "namespace")?;
        match ns {
            Some(ns) => {
                crate::path::check(&self.what(verb), "obj.metadata.namespace", &ns)?;
                Ok(Some(ns))
            }
            None => Err(arg_error(
                &self.what(verb),
                format!(
                    "{} are namespaced: give the client a namespace or set obj.metadata.namespace",
                    self.res.name
                ),
            )),
        }
    }

    /// Objects get `:namespace()`: namespaced resources, and persistentvolumes
    /// asked through a namespace (luakube's pv("ns"), whose URLs are kept).
    pub(crate) fn namespaced_objects(&self) -> bool {
        match self.res.scope {
            Scope::Namespaced => true,
            Scope::Either => self.namespace.is_some(),
            Scope::Cluster => false,
        }
    }

    /// A write body: a shallow copy of the table (or the decoded YAML string)
    /// stamped with this resource's apiVersion and kind.
    pub(crate) fn body(
        &self,
        lua: &Lua,
        obj: Value,
        verb: &str,
        kind: &str,
    ) -> mlua::Result<Table> {
        let t = body_table(lua, obj, &self.what(verb))?;
        t.set("apiVersion", self.group.version)?;
        t.set("kind", kind)?;
        Ok(t)
    }
}

//! The resources of the Lua API: every group client, resource, alias and
//! capability, built once from the shared table (the `kube-model` crate,
//! model/src/table.rs) or from a discovery answer (src/dynamic.rs), the same
//! way. Clients are generated from them, not written per resource.

use std::sync::LazyLock;

/// Where a resource lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Namespaced,
    Cluster,
    /// persistentvolumes: luakube built namespaced URLs when given a namespace;
    /// without one they are (correctly) cluster-scoped.
    Either,
}

/// Methods beyond the common verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extra {
    /// `pods/log`: `logs`, `follow_logs`.
    Logs,
    /// `pods/ephemeralcontainers`: `ephemeralcontainers`.
    EphemeralContainers,
    /// `pods/exec`: `exec`, `exec_session`.
    Exec,
    /// `pods/attach`: `attach`.
    Attach,
    /// `pods/portforward`: `portforward`.
    PortForward,
    /// `namespaces/finalize`: `finalize`.
    Finalize,
    /// luakube's `scale(name, n)`: a merge patch of spec.replicas.
    Scale,
    /// The `/scale` subresource: `get_scale`, `replace_scale`.
    ScaleSubresource,
    /// `pods/eviction`: `evict`.
    Eviction,
    /// `pods/binding`: `bind`.
    Binding,
}

#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) kind: &'static str,
    pub(crate) scope: Scope,
    pub(crate) status: bool,
    pub(crate) delete_collection: bool,
    pub(crate) extras: &'static [Extra],
}

#[derive(Debug)]
pub(crate) struct Group {
    /// The client method, e.g. `corev1`.
    pub(crate) method: &'static str,
    /// `apiVersion` of its objects, e.g. `apps/v1`.
    pub(crate) version: &'static str,
    /// `api` for the core group, `apis` for named groups.
    pub(crate) base: &'static str,
    pub(crate) resources: &'static [Resource],
}

impl Resource {
    pub(crate) fn has(&self, extra: Extra) -> bool {
        self.extras.contains(&extra)
    }
}

impl Group {
    pub(crate) fn resource(&self, name: &str) -> Option<&'static Resource> {
        self.resources
            .iter()
            .find(|r| r.name == name || r.aliases.contains(&name))
    }
}

impl Resource {
    /// A resource client's description from what discovery says of it: the
    /// same for the built-in table and for `client:api(gv)`'s answers, so a
    /// subresource brings the same methods wherever the resource comes from.
    /// `more` adds methods of luakube's own (`Extra::Scale`).
    pub(crate) fn described<'a>(
        name: &'static str,
        aliases: &'static [&'static str],
        kind: &'static str,
        scope: Scope,
        verbs: impl IntoIterator<Item = &'a str>,
        subresources: impl IntoIterator<Item = &'a str>,
        more: &[Extra],
    ) -> Resource {
        let mut status = false;
        let mut extras = Vec::new();
        for sub in subresources {
            status |= sub == "status";
            if let Some((_, extra)) = SUBRESOURCE_EXTRAS.iter().find(|(s, _)| *s == sub) {
                extras.push(*extra);
            }
        }
        extras.extend_from_slice(more);
        extras.dedup();
        Resource {
            name,
            aliases,
            kind,
            scope,
            status,
            delete_collection: verbs.into_iter().any(|v| v == "deletecollection"),
            extras: Box::leak(extras.into_boxed_slice()),
        }
    }
}

/// Which client methods a discovery subresource brings: the one place a
/// subresource's name meets the methods that use it (`status` sets
/// [`Resource::status`]).
const SUBRESOURCE_EXTRAS: &[(&str, Extra)] = &[
    ("log", Extra::Logs),
    ("ephemeralcontainers", Extra::EphemeralContainers),
    ("exec", Extra::Exec),
    ("attach", Extra::Attach),
    ("portforward", Extra::PortForward),
    ("finalize", Extra::Finalize),
    ("scale", Extra::ScaleSubresource),
    ("eviction", Extra::Eviction),
    ("binding", Extra::Binding),
];

/// A built-in resource of the Lua API, from its row in the shared table.
fn built_in(r: &'static kube_model::ResourceInfo, face: kube_model::LuaFace) -> Resource {
    let scope = match (r.namespaced, face.either_scope) {
        (_, true) => Scope::Either,
        (true, false) => Scope::Namespaced,
        (false, false) => Scope::Cluster,
    };
    let verbs = r
        .verbs
        .iter()
        .copied()
        .filter(|v| !(face.no_delete_collection && *v == "deletecollection"));
    let more: &[Extra] = if face.patch_scale {
        &[Extra::Scale]
    } else {
        &[]
    };
    Resource::described(
        r.plural,
        face.aliases.unwrap_or(r.short_names),
        r.kind,
        scope,
        verbs,
        r.subresources.iter().map(|s| s.name),
        more,
    )
}

/// The group clients of the Lua API (`client:corev1()` …), built once from
/// the shared table (model/src/table.rs).
pub(crate) static GROUPS: LazyLock<Vec<Group>> = LazyLock::new(|| {
    kube_model::lua_groups()
        .into_iter()
        .map(|g| {
            let resources: Vec<Resource> = g
                .resources
                .iter()
                .filter_map(|r| Some(built_in(r, r.lua?)))
                .collect();
            Group {
                method: Box::leak(g.method.into_boxed_str()),
                version: Box::leak(g.group_version.into_boxed_str()),
                base: g.base,
                resources: Box::leak(resources.into_boxed_slice()),
            }
        })
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    fn group(method: &str) -> Option<&'static Group> {
        GROUPS.iter().find(|g| g.method == method)
    }

    #[test]
    fn aliases_resolve_and_are_unique() {
        let core = group("corev1").unwrap();
        assert_eq!(core.resource("svc").unwrap().name, "services");
        assert_eq!(core.resource("pv").unwrap().scope, Scope::Either);
        for g in GROUPS.iter() {
            let mut seen = std::collections::HashSet::new();
            for r in g.resources {
                assert!(seen.insert(r.name), "{}", r.name);
                for a in r.aliases {
                    assert!(seen.insert(a), "{a}");
                }
            }
        }
    }

    /// types/groups.lua and the group modules are generated from the shared
    /// table (model/src/bin/gen-lua.rs); CI fails when they drift from it.
    #[test]
    fn generated_lua_files_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = kube_model::lua_files();
        let fix = "run `cargo run --manifest-path model/Cargo.toml --bin gen-lua`";
        for (path, text) in &files {
            let have = std::fs::read_to_string(root.join(path)).unwrap_or_default();
            assert!(have == *text, "{path} differs from the table: {fix}");
        }
        for entry in std::fs::read_dir(root.join("lua/kube/api")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let path = format!("lua/kube/api/{name}");
            assert!(
                !kube_model::is_group_module(&name) || files.iter().any(|(p, _)| *p == path),
                "{path} is no group of the table: {fix}"
            );
        }
    }

    #[test]
    fn subresources_bring_their_methods() {
        let core = group("corev1").unwrap();
        let pods = core.resource("pods").unwrap();
        for extra in [
            Extra::Logs,
            Extra::EphemeralContainers,
            Extra::Exec,
            Extra::Attach,
            Extra::PortForward,
            Extra::Eviction,
            Extra::Binding,
        ] {
            assert!(pods.has(extra), "{extra:?}");
        }
        assert!(pods.status && !pods.has(Extra::Scale));
        let services = core.resource("svc").unwrap();
        assert!(services.status && !services.delete_collection);
        let ns = core.resource("ns").unwrap();
        assert!(ns.has(Extra::Finalize) && !ns.delete_collection);
        let apps = group("appsv1").unwrap();
        let ds = apps.resource("ds").unwrap();
        assert_eq!(ds.extras, [Extra::Scale]);
        let deploy = apps.resource("deploy").unwrap();
        assert!(deploy.has(Extra::Scale) && deploy.has(Extra::ScaleSubresource));
        assert_eq!(core.resource("nodes").unwrap().aliases, [] as [&str; 0]);
        assert_eq!(core.resource("limit").unwrap().name, "limitranges");
        assert!(group("authorizationv1").is_none());
    }

    #[test]
    fn annotations_cover_every_resource() {
        let meta = include_str!("../types/groups.lua");
        for g in GROUPS.iter() {
            let class = format!("---@class kube.Group.{}: kube.GroupClient", g.method);
            assert!(meta.contains(&class), "types/groups.lua lacks {class}");
            let section = meta.split(&class).nth(1).unwrap_or("");
            let section = section.split("\n\n").next().unwrap_or("");
            for name in g
                .resources
                .iter()
                .flat_map(|r| std::iter::once(&r.name).chain(r.aliases))
            {
                let field = format!("---@field {name} fun(");
                assert!(
                    section.contains(&field),
                    "{}: {name} is not annotated",
                    g.method
                );
            }
            let client = format!("---@field {} fun(self: kube.Client)", g.method);
            assert!(meta.contains(&client), "kube.Client lacks {}", g.method);
        }
    }
}

//! The resource model: every built-in group, version and resource, described
//! once as kube-apiserver 1.32 describes it in discovery (plural, kind, scope,
//! short names, categories, verbs, subresources), plus how luakube's Lua API
//! offers it. Read by the module (`src/resources.rs`), the stand-in server
//! (`server/src/storage/resources.rs`) and the generator of `types/groups.lua` and
//! the `kube.api.<group>_<version>` modules (`src/bin/gen-lua.rs`).
//!
//! Adding a resource kind or a whole group is one row in [`RESOURCES`]
//! (`src/table.rs`), then `cargo run --manifest-path model/Cargo.toml --bin gen-lua`.

mod lua;
mod table;

pub use lua::{is_group_module, lua_files, lua_groups, LuaGroup};
pub use table::RESOURCES;

/// One resource as discovery lists it, and its face in the Lua API.
#[derive(Debug)]
pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// Whether a `status` subresource exists (derived from `subresources`).
    pub status: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [Subresource],
    /// How luakube's group clients offer it; `None`: not a Lua resource client
    /// (reviews, bindings…; `client:api(gv)` still reaches them).
    pub lua: Option<LuaFace>,
}

/// A subresource such as `status` or `scale`. Its kind lives in the parent's
/// group-version unless `group`/`version` name another (Scale, Eviction…).
#[derive(Debug)]
pub struct Subresource {
    pub name: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub verbs: &'static [&'static str],
}

/// What luakube's Lua API does differently from discovery for one resource.
/// The default (`ResourceInfo::lua`) is what discovery says.
#[derive(Debug, Clone, Copy)]
pub struct LuaFace {
    /// The resource client's other names; `None`: the short names. luakube's
    /// core/v1 chose its own (`sec`, `limit`, none for nodes and pods).
    pub aliases: Option<&'static [&'static str]>,
    /// persistentvolumes: luakube built namespaced URLs when given a
    /// namespace; without one they are (correctly) cluster-scoped.
    pub either_scope: bool,
    /// luakube's `scale(name, n)`: a merge patch of spec.replicas.
    pub patch_scale: bool,
    /// luakube's services client had no `delete_collection` although the
    /// server offers `deletecollection`.
    pub no_delete_collection: bool,
}

const LUA: LuaFace = LuaFace {
    aliases: None,
    either_scope: false,
    patch_scale: false,
    no_delete_collection: false,
};

/// The verbs of an ordinary stored resource.
pub const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces cannot be deleted as a collection.
pub const CRUD_NO_COLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
pub const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
pub const CREATE: &[&str] = &["create"];
pub const CREATE_GET: &[&str] = &["create", "get"];
pub const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];

/// A subresource whose kind is the parent's own (`""` stands for it).
pub const fn own(name: &'static str, verbs: &'static [&'static str]) -> Subresource {
    Subresource {
        name,
        group: "",
        version: "",
        kind: "",
        verbs,
    }
}

/// A subresource that takes and returns another kind.
pub const fn other(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Subresource {
    Subresource {
        name,
        group,
        version,
        kind,
        verbs,
    }
}

pub const STATUS: Subresource = own("status", GET_PATCH_UPDATE);
pub const SCALE: Subresource = other("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE);
pub const WITH_STATUS: &[Subresource] = &[STATUS];
pub const WITH_SCALE_STATUS: &[Subresource] = &[SCALE, STATUS];
const WITH_SCALE: &[Subresource] = &[SCALE];
const WITH_STATUS_SCALE: &[Subresource] = &[STATUS, SCALE];

/// The subresources a CustomResourceDefinition version declares, in the
/// order apiextensions-apiserver lists them (status, then scale).
pub fn custom_subresources(status: bool, scale: bool) -> &'static [Subresource] {
    match (status, scale) {
        (true, true) => WITH_STATUS_SCALE,
        (true, false) => WITH_STATUS,
        (false, true) => WITH_SCALE,
        (false, false) => &[],
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A stored resource with every CRUD verb and no extras; the builder methods
/// add what differs. Public for resources defined at run time (CRDs).
pub const fn stored(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        plural,
        kind,
        namespaced,
        status: false,
        short_names: &[],
        categories: &[],
        verbs: CRUD,
        subresources: &[],
        lua: None,
    }
}

impl ResourceInfo {
    /// The singular name: the kind in lower case for every built-in resource.
    pub fn singular(&self) -> String {
        self.kind.to_lowercase()
    }

    pub const fn short(self, short_names: &'static [&'static str]) -> Self {
        ResourceInfo {
            short_names,
            ..self
        }
    }
    pub const fn categories(self, categories: &'static [&'static str]) -> Self {
        ResourceInfo { categories, ..self }
    }
    pub const fn verbs(self, verbs: &'static [&'static str]) -> Self {
        ResourceInfo { verbs, ..self }
    }
    pub const fn subs(self, subresources: &'static [Subresource]) -> Self {
        let mut status = false;
        let mut i = 0;
        while i < subresources.len() {
            status |= same(subresources[i].name, "status");
            i += 1;
        }
        ResourceInfo {
            subresources,
            status,
            ..self
        }
    }

    /// A resource client of its group client in Lua, as discovery says.
    pub const fn lua(self) -> Self {
        ResourceInfo {
            lua: Some(LUA),
            ..self
        }
    }
    /// A resource client named by luakube's aliases instead of the short names.
    pub const fn lua_aliases(self, aliases: &'static [&'static str]) -> Self {
        let face = self.face();
        self.face_is(LuaFace {
            aliases: Some(aliases),
            ..face
        })
    }
    /// See [`LuaFace::either_scope`].
    pub const fn lua_either_scope(self) -> Self {
        let face = self.face();
        self.face_is(LuaFace {
            either_scope: true,
            ..face
        })
    }
    /// See [`LuaFace::patch_scale`].
    pub const fn lua_patch_scale(self) -> Self {
        let face = self.face();
        self.face_is(LuaFace {
            patch_scale: true,
            ..face
        })
    }
    /// See [`LuaFace::no_delete_collection`].
    pub const fn lua_no_delete_collection(self) -> Self {
        let face = self.face();
        self.face_is(LuaFace {
            no_delete_collection: true,
            ..face
        })
    }
    const fn face(&self) -> LuaFace {
        match self.lua {
            Some(f) => f,
            None => LUA,
        }
    }
    const fn face_is(self, face: LuaFace) -> Self {
        ResourceInfo {
            lua: Some(face),
            ..self
        }
    }

    pub fn group_version(&self) -> String {
        group_version(self.group, self.version)
    }

    /// Whether it declares the subresource `name` (`status`, `log`…).
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.name == name)
    }
}

impl Subresource {
    /// The kind this subresource takes and returns: its own or the parent's.
    pub fn kind_of<'a>(&'a self, parent: &'a ResourceInfo) -> &'a str {
        if self.kind.is_empty() {
            parent.kind
        } else {
            self.kind
        }
    }

    /// The group and version of that kind.
    pub fn group_version_of<'a>(&'a self, parent: &'a ResourceInfo) -> (&'a str, &'a str) {
        if self.version.is_empty() {
            (parent.group, parent.version)
        } else {
            (self.group, self.version)
        }
    }
}

/// `v1` for the core group, `apps/v1` for the others.
pub fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// A built-in resource by group, version and plural.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// A built-in resource by `apiVersion` and kind.
pub fn find_kind(group_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group_version() == group_version && r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_flag_follows_the_subresources() {
        for r in RESOURCES {
            assert_eq!(r.status, r.has_subresource("status"), "{}", r.plural);
        }
    }

    #[test]
    fn every_resource_is_listed_once() {
        for (i, r) in RESOURCES.iter().enumerate() {
            assert!(
                RESOURCES[..i]
                    .iter()
                    .all(|o| (o.group, o.version, o.plural) != (r.group, r.version, r.plural)),
                "{} listed twice",
                r.plural
            );
        }
    }

    #[test]
    fn lua_faces_are_set_in_any_order() {
        let a = stored("g", "v1", "xs", "X", true)
            .lua_patch_scale()
            .lua_aliases(&["x"]);
        let f = a.lua.unwrap();
        assert!(f.patch_scale && f.aliases == Some(&["x"][..]) && !f.either_scope);
        assert!(stored("g", "v1", "xs", "X", true).lua.is_none());
    }
}

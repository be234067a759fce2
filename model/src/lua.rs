//! The Lua side of the table: the group clients (`client:corev1()` …) and the
//! files generated from them, `types/groups.lua` and one
//! `lua/kube/api/<group>_<version>.lua` module per group client.

use crate::{ResourceInfo, RESOURCES};

/// One group client of the Lua API: a group version with Lua resources.
#[derive(Debug)]
pub struct LuaGroup {
    /// The client method, e.g. `corev1`, `networkingv1`: the group's first
    /// name (`core` for the core group) and the version.
    pub method: String,
    /// `apiVersion` of its objects, e.g. `v1`, `apps/v1`.
    pub group_version: String,
    /// `api` for the core group, `apis` for named groups.
    pub base: &'static str,
    /// The module `kube.api.<file>`: `core_v1`, `networking_v1`.
    pub file: String,
    pub resources: Vec<&'static ResourceInfo>,
}

/// The group clients, in table order; within each the resources in table order.
pub fn lua_groups() -> Vec<LuaGroup> {
    let mut out: Vec<LuaGroup> = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.lua.is_some()) {
        let gv = r.group_version();
        if let Some(g) = out.iter_mut().find(|g| g.group_version == gv) {
            g.resources.push(r);
            continue;
        }
        let first = match r.group.split('.').next() {
            Some(name) if !name.is_empty() => name,
            _ => "core",
        };
        out.push(LuaGroup {
            method: format!("{first}{}", r.version),
            group_version: gv,
            base: if r.group.is_empty() { "api" } else { "apis" },
            file: format!("{first}_{}", r.version),
            resources: vec![r],
        });
    }
    out
}

impl ResourceInfo {
    /// The names of its Lua resource client: the plural, then the aliases.
    pub fn lua_names(&self) -> Vec<&'static str> {
        let aliases = match self.lua {
            Some(face) => face.aliases.unwrap_or(self.short_names),
            None => &[],
        };
        std::iter::once(self.plural)
            .chain(aliases.iter().copied())
            .collect()
    }

    /// The LuaLS class of its resource client (types/kube.lua).
    fn lua_class(&self) -> &'static str {
        let patch_scale = self.lua.is_some_and(|f| f.patch_scale);
        if self.has_subresource("log") {
            "kube.PodClient"
        } else if self.has_subresource("finalize") {
            "kube.NamespaceClient"
        } else if patch_scale && self.has_subresource("scale") {
            "kube.ScalableClient"
        } else if patch_scale {
            "kube.PatchScalableClient"
        } else if self.has_subresource("scale") {
            "kube.ScaleSubresourceClient"
        } else {
            "kube.ResourceClient"
        }
    }
}

const GENERATED: &str = "Generated from model/src/table.rs by \
`cargo run --manifest-path model/Cargo.toml --bin gen-lua`: do not edit.";

/// Every generated file: (path from the repository root, contents).
pub fn lua_files() -> Vec<(String, String)> {
    let groups = lua_groups();
    let mut files = Vec::new();
    let mut meta = format!(
        "---@meta\n-- {GENERATED}\n-- One class per group client of the Lua API and its resource clients.\n"
    );
    for g in &groups {
        let m = &g.method;
        meta.push_str(&format!(
            "\n--- The {} group: `client:{m}()`.\n---@class kube.Group.{m}: kube.GroupClient\n",
            g.group_version
        ));
        for r in &g.resources {
            for name in r.lua_names() {
                meta.push_str(&format!(
                    "---@field {name} fun(self: kube.Group.{m}, namespace: string?): {}\n",
                    r.lua_class()
                ));
            }
        }
    }
    meta.push_str("\n---@class kube.Client\n");
    for g in &groups {
        let m = &g.method;
        meta.push_str(&format!(
            "---@field {m} fun(self: kube.Client): kube.Group.{m}\n"
        ));
    }
    files.push(("types/groups.lua".to_string(), meta));
    for g in &groups {
        files.push((
            format!("lua/kube/api/{}.lua", g.file),
            format!(
                "--- The {} API group: resource clients come from the Rust resource table.\n\
                 -- {GENERATED}\n\
                 return require(\"kube.api.group\")(\"{}\", \"{}\")\n",
                g.group_version, g.group_version, g.method
            ),
        ));
    }
    files
}

/// Whether `file` (a name in lua/kube/api/) looks like a generated group
/// module: `<name>_v<version>.lua`.
pub fn is_group_module(file: &str) -> bool {
    let Some(stem) = file.strip_suffix(".lua") else {
        return false;
    };
    match stem.rsplit_once('_') {
        Some((name, version)) => {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_lowercase())
                && version.starts_with('v')
                && version.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_clients_are_named_as_luakube_names_them() {
        let groups = lua_groups();
        let names: Vec<&str> = groups.iter().map(|g| g.method.as_str()).collect();
        for want in [
            "corev1",
            "appsv1",
            "batchv1",
            "networkingv1",
            "rbacv1",
            "flowcontrolv1",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        for (i, g) in groups.iter().enumerate() {
            assert!(
                groups[..i].iter().all(|o| o.method != g.method),
                "{} twice",
                g.method
            );
            assert!(is_group_module(&format!("{}.lua", g.file)), "{}", g.file);
        }
        let core = groups.iter().find(|g| g.method == "corev1").unwrap();
        assert_eq!((core.base, core.file.as_str()), ("api", "core_v1"));
        let pods = core.resources.iter().find(|r| r.plural == "pods").unwrap();
        assert_eq!(pods.lua_names(), ["pods"]);
        let secrets = core
            .resources
            .iter()
            .find(|r| r.plural == "secrets")
            .unwrap();
        assert_eq!(secrets.lua_names(), ["secrets", "sec"]);
    }

    #[test]
    fn names_within_a_group_are_unique() {
        for g in lua_groups() {
            let mut seen = Vec::new();
            for name in g.resources.iter().flat_map(|r| r.lua_names()) {
                assert!(!seen.contains(&name), "{}: {name} twice", g.method);
                seen.push(name);
            }
        }
    }

    #[test]
    fn group_modules_are_recognised() {
        assert!(is_group_module("core_v1.lua") && is_group_module("autoscaling_v2.lua"));
        for other in [
            "group.lua",
            "objects.lua",
            "utils.lua",
            "_v1.lua",
            "core_v1.txt",
        ] {
            assert!(!is_group_module(other), "{other}");
        }
    }
}

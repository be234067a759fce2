//! The resources this server serves, described as kube-apiserver 1.32
//! describes them in discovery: group, version, plural, singular, kind,
//! scope, short names, categories, verbs and subresources. The built-in ones
//! are the shared table (the `kube-model` crate, model/src/table.rs) the Lua
//! module reads too; CRDs add theirs at run time (storage/registry.rs).

pub use kube_model::{
    custom_subresources, find, find_kind, group_version, stored, ResourceInfo, RESOURCES,
};

/// Every resource served now, as discovery lists them: the built-in table
/// and the resources stored CRDs define.
pub fn served() -> impl Iterator<Item = &'static ResourceInfo> {
    crate::registry::served_resources().into_iter()
}

/// The named groups in table order (the core group "" excluded).
pub fn groups() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for r in served().filter(|r| !r.group.is_empty()) {
        if !out.contains(&r.group) {
            out.push(r.group);
        }
    }
    out
}

/// A group's versions, preferred first (table order).
pub fn versions(group: &str) -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for r in served().filter(|r| r.group == group) {
        if !out.contains(&r.version) {
            out.push(r.version);
        }
    }
    out
}

/// The resources of one group-version, in table order.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    served().filter(move |r| r.group == group && r.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_table_is_served() {
        assert!(find("", "v1", "pods").is_some_and(|r| r.status));
        assert!(find("", "v1", "configmaps").is_some_and(|r| !r.status));
        assert!(served().any(|r| r.plural == "selfsubjectreviews"));
    }

    #[test]
    fn preferred_version_comes_first() {
        assert_eq!(versions("autoscaling"), ["v2", "v1"]);
        // As in the recorded `GET /apis` of a real server.
        assert_eq!(groups()[..2], ["apiregistration.k8s.io", "apps"]);
        assert!(!groups().contains(&""));
    }
}

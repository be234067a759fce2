//! How the built-in Kubernetes types merge their lists and maps: the
//! `patchStrategy`/`patchMergeKey` tags (strategic merge patch) and the
//! `listType`/`listMapKey` markers (server-side apply) of the Go types.
//!
//! The table is keyed by a list's field name in context (the kind and the
//! name of the field that holds it), which is enough to tell the cases the
//! real types tell apart, e.g. container `ports` (by `containerPort`) from
//! Service `ports` (by `port`). A list not in the table is atomic: replaced
//! whole, as the real server does for lists without a merge strategy.
//! Simplified: SSA keys each associative list by its single strategic merge
//! key (the real server keys ports by port and protocol together).

/// What a patch does to a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// Objects matched by this key field are merged; others are added.
    MergeByKey(&'static str),
    /// Primitives merged as a set (e.g. `metadata.finalizers`).
    Set,
    /// Replaced whole.
    Atomic,
}

/// The kind of an object whose schema the server does not know (a custom
/// resource): its lists are atomic, except those of its ObjectMeta.
pub const UNKNOWN_KIND: &str = "";

/// The strategy of list `field`, found inside an object that is itself the
/// value (or a list element) of field `parent`, in an object of kind `kind`.
pub fn list_strategy(kind: &str, parent: &str, field: &str) -> ListStrategy {
    use ListStrategy::*;
    if kind == UNKNOWN_KIND && parent != "metadata" {
        return Atomic;
    }
    const POD_SPEC_HOLDERS: [&str; 2] = ["spec", "podSpec"];
    const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
    match (parent, field) {
        (_, "containers" | "initContainers" | "ephemeralContainers") => MergeByKey("name"),
        (p, "ports") if CONTAINER_LISTS.contains(&p) => MergeByKey("containerPort"),
        ("spec", "ports") if kind == "Service" => MergeByKey("port"),
        (p, "env") if CONTAINER_LISTS.contains(&p) => MergeByKey("name"),
        (p, "volumeMounts") if CONTAINER_LISTS.contains(&p) => MergeByKey("mountPath"),
        (p, "volumeDevices") if CONTAINER_LISTS.contains(&p) => MergeByKey("devicePath"),
        (p, "resizePolicy") if CONTAINER_LISTS.contains(&p) => Atomic,
        (p, "volumes" | "imagePullSecrets" | "resourceClaims" | "schedulingGates")
            if POD_SPEC_HOLDERS.contains(&p) =>
        {
            MergeByKey("name")
        }
        (p, "hostAliases") if POD_SPEC_HOLDERS.contains(&p) => MergeByKey("ip"),
        (p, "topologySpreadConstraints") if POD_SPEC_HOLDERS.contains(&p) => {
            MergeByKey("topologyKey")
        }
        (_, "tolerations") => Atomic,
        ("metadata", "ownerReferences") => MergeByKey("uid"),
        ("metadata", "finalizers") => Set,
        ("status", "conditions") => MergeByKey("type"),
        ("status", "addresses") if kind == "Node" => MergeByKey("type"),
        ("", "secrets" | "imagePullSecrets") if kind == "ServiceAccount" => MergeByKey("name"),
        _ => Atomic,
    }
}

/// Whether the object held by field `field` is a map from free-form keys
/// (labels, data, resource quantities) rather than a struct with declared
/// fields. Server-side apply owns each entry of such a map individually.
pub fn is_free_form_map(kind: &str, field: &str) -> bool {
    match field {
        "labels" | "annotations" | "data" | "binaryData" | "stringData" | "nodeSelector"
        | "matchLabels" | "limits" | "requests" | "capacity" | "allocatable" | "hard" | "used" => {
            true
        }
        "selector" => matches!(kind, "Service" | "ReplicationController"),
        _ => false,
    }
}

/// Whether an API group's kinds are compiled into the server, which is what
/// strategic merge patch needs. Custom resource groups always contain a dot
/// and may not end in `.k8s.io` (that suffix is reserved for the project).
pub fn is_built_in_group(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ListStrategy::*;

    #[test]
    fn containers_and_their_lists_merge_by_their_keys() {
        assert_eq!(
            list_strategy("Pod", "spec", "containers"),
            MergeByKey("name")
        );
        assert_eq!(
            list_strategy("Deployment", "spec", "initContainers"),
            MergeByKey("name")
        );
        assert_eq!(
            list_strategy("Pod", "containers", "ports"),
            MergeByKey("containerPort")
        );
        assert_eq!(
            list_strategy("Pod", "initContainers", "env"),
            MergeByKey("name")
        );
        assert_eq!(
            list_strategy("Pod", "containers", "volumeMounts"),
            MergeByKey("mountPath")
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        assert_eq!(
            list_strategy("Service", "spec", "ports"),
            MergeByKey("port")
        );
    }

    #[test]
    fn pod_spec_lists() {
        assert_eq!(list_strategy("Pod", "spec", "volumes"), MergeByKey("name"));
        assert_eq!(
            list_strategy("Pod", "spec", "imagePullSecrets"),
            MergeByKey("name")
        );
        assert_eq!(
            list_strategy("Pod", "spec", "hostAliases"),
            MergeByKey("ip")
        );
        assert_eq!(
            list_strategy("Deployment", "spec", "topologySpreadConstraints"),
            MergeByKey("topologyKey")
        );
        assert_eq!(list_strategy("Pod", "spec", "tolerations"), Atomic);
    }

    #[test]
    fn metadata_and_status_lists() {
        assert_eq!(
            list_strategy("Pod", "metadata", "ownerReferences"),
            MergeByKey("uid")
        );
        assert_eq!(list_strategy("ConfigMap", "metadata", "finalizers"), Set);
        assert_eq!(
            list_strategy("Deployment", "status", "conditions"),
            MergeByKey("type")
        );
    }

    #[test]
    fn unknown_lists_are_atomic() {
        assert_eq!(list_strategy("Pod", "containers", "args"), Atomic);
        assert_eq!(list_strategy("Ingress", "spec", "rules"), Atomic);
        assert_eq!(list_strategy("Namespace", "spec", "finalizers"), Atomic);
        assert_eq!(list_strategy("Endpoints", "subsets", "ports"), Atomic);
    }

    #[test]
    fn lists_of_unknown_kinds_are_atomic_but_their_metadata() {
        assert_eq!(list_strategy(UNKNOWN_KIND, "spec", "containers"), Atomic);
        assert_eq!(list_strategy(UNKNOWN_KIND, "metadata", "finalizers"), Set);
    }

    #[test]
    fn free_form_maps() {
        assert!(is_free_form_map("Pod", "labels"));
        assert!(is_free_form_map("ConfigMap", "data"));
        assert!(is_free_form_map("Service", "selector"));
        assert!(!is_free_form_map("Deployment", "selector"));
        assert!(!is_free_form_map("Pod", "spec"));
    }

    #[test]
    fn built_in_groups() {
        assert!(is_built_in_group(""));
        assert!(is_built_in_group("apps"));
        assert!(is_built_in_group("networking.k8s.io"));
        assert!(!is_built_in_group("example.com"));
        assert!(!is_built_in_group("stable.example.com"));
    }
}

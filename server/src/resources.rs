//! The resources this server serves, described as kube-apiserver 1.32
//! describes them in discovery: group, version, plural, singular, kind,
//! scope, short names, categories, verbs and subresources.

pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// Whether a `status` subresource exists (derived from `subresources`).
    pub status: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [Subresource],
}

/// A subresource such as `status` or `scale`. Its kind lives in the parent's
/// group-version unless `group`/`version` name another (Scale, Eviction…).
pub struct Subresource {
    pub name: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub verbs: &'static [&'static str],
}

/// The verbs of an ordinary stored resource.
pub(crate) const CRUD: &[&str] = &[
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
const CRUD_NO_COLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
const CREATE: &[&str] = &["create"];
const CREATE_GET: &[&str] = &["create", "get"];
const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];
const ALL: &[&str] = &["all"];
pub(crate) const API_EXTENSIONS: &[&str] = &["api-extensions"];

/// A subresource whose kind is the parent's own (`""` stands for it).
const fn own(name: &'static str, verbs: &'static [&'static str]) -> Subresource {
    Subresource {
        name,
        group: "",
        version: "",
        kind: "",
        verbs,
    }
}

const fn other(
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

const STATUS: Subresource = own("status", GET_PATCH_UPDATE);
pub(crate) const SCALE: Subresource =
    other("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE);
pub(crate) const WITH_STATUS: &[Subresource] = &[STATUS];
pub(crate) const WITH_SCALE_STATUS: &[Subresource] = &[SCALE, STATUS];

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

/// A resource with every CRUD verb and no extras; the builder methods below
/// add what differs.
pub(crate) const fn res(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        status: false,
        short_names: &[],
        categories: &[],
        verbs: CRUD,
        subresources: &[],
    }
}

impl ResourceInfo {
    pub(crate) const fn short(self, short_names: &'static [&'static str]) -> Self {
        ResourceInfo {
            short_names,
            ..self
        }
    }
    pub(crate) const fn categories(self, categories: &'static [&'static str]) -> Self {
        ResourceInfo { categories, ..self }
    }
    const fn verbs(self, verbs: &'static [&'static str]) -> Self {
        ResourceInfo { verbs, ..self }
    }
    pub(crate) const fn subs(self, subresources: &'static [Subresource]) -> Self {
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
}

const NS: bool = true;
const CLUSTER: bool = false;

/// In the order kube-apiserver lists groups in `/apis`; within a group the
/// preferred version comes first.
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    res("", "v1", "bindings", "binding", "Binding", NS).verbs(CREATE),
    res(
        "",
        "v1",
        "componentstatuses",
        "componentstatus",
        "ComponentStatus",
        CLUSTER,
    )
    .short(&["cs"])
    .verbs(&["get", "list"]),
    res("", "v1", "configmaps", "configmap", "ConfigMap", NS).short(&["cm"]),
    res("", "v1", "endpoints", "endpoints", "Endpoints", NS).short(&["ep"]),
    res("", "v1", "events", "event", "Event", NS).short(&["ev"]),
    res("", "v1", "limitranges", "limitrange", "LimitRange", NS).short(&["limits"]),
    res("", "v1", "namespaces", "namespace", "Namespace", CLUSTER)
        .short(&["ns"])
        .verbs(CRUD_NO_COLLECTION)
        .subs(&[own("finalize", &["update"]), STATUS]),
    res("", "v1", "nodes", "node", "Node", CLUSTER)
        .short(&["no"])
        .subs(&[other("proxy", "", "", "NodeProxyOptions", PROXY), STATUS]),
    res(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        NS,
    )
    .short(&["pvc"])
    .subs(WITH_STATUS),
    res(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        CLUSTER,
    )
    .short(&["pv"])
    .subs(WITH_STATUS),
    res("", "v1", "pods", "pod", "Pod", NS)
        .short(&["po"])
        .categories(ALL)
        .subs(&[
            other("attach", "", "", "PodAttachOptions", CREATE_GET),
            other("binding", "", "", "Binding", CREATE),
            other("checkpoint", "", "", "PodCheckpointOptions", CREATE),
            own("ephemeralcontainers", GET_PATCH_UPDATE),
            other("eviction", "policy", "v1", "Eviction", CREATE),
            other("exec", "", "", "PodExecOptions", CREATE_GET),
            own("log", &["get"]),
            other("portforward", "", "", "PodPortForwardOptions", CREATE_GET),
            other("proxy", "", "", "PodProxyOptions", PROXY),
            STATUS,
        ]),
    res("", "v1", "podtemplates", "podtemplate", "PodTemplate", NS),
    res(
        "",
        "v1",
        "replicationcontrollers",
        "replicationcontroller",
        "ReplicationController",
        NS,
    )
    .short(&["rc"])
    .categories(ALL)
    .subs(WITH_SCALE_STATUS),
    res(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        NS,
    )
    .short(&["quota"])
    .subs(WITH_STATUS),
    res("", "v1", "secrets", "secret", "Secret", NS),
    res(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        NS,
    )
    .short(&["sa"])
    .subs(&[other(
        "token",
        "authentication.k8s.io",
        "v1",
        "TokenRequest",
        CREATE,
    )]),
    res("", "v1", "services", "service", "Service", NS)
        .short(&["svc"])
        .categories(ALL)
        .subs(&[other("proxy", "", "", "ServiceProxyOptions", PROXY), STATUS]),
    // apps/v1
    res(
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        NS,
    ),
    res("apps", "v1", "daemonsets", "daemonset", "DaemonSet", NS)
        .short(&["ds"])
        .categories(ALL)
        .subs(WITH_STATUS),
    res("apps", "v1", "deployments", "deployment", "Deployment", NS)
        .short(&["deploy"])
        .categories(ALL)
        .subs(WITH_SCALE_STATUS),
    res("apps", "v1", "replicasets", "replicaset", "ReplicaSet", NS)
        .short(&["rs"])
        .categories(ALL)
        .subs(WITH_SCALE_STATUS),
    res(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        NS,
    )
    .short(&["sts"])
    .categories(ALL)
    .subs(WITH_SCALE_STATUS),
    // events.k8s.io/v1
    res("events.k8s.io", "v1", "events", "event", "Event", NS).short(&["ev"]),
    // autoscaling: v2 preferred
    res(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        NS,
    )
    .short(&["hpa"])
    .categories(ALL)
    .subs(WITH_STATUS),
    res(
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        NS,
    )
    .short(&["hpa"])
    .categories(ALL)
    .subs(WITH_STATUS),
    // batch/v1
    res("batch", "v1", "cronjobs", "cronjob", "CronJob", NS)
        .short(&["cj"])
        .categories(ALL)
        .subs(WITH_STATUS),
    res("batch", "v1", "jobs", "job", "Job", NS)
        .categories(ALL)
        .subs(WITH_STATUS),
    // certificates.k8s.io/v1
    res(
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "certificatesigningrequest",
        "CertificateSigningRequest",
        CLUSTER,
    )
    .short(&["csr"])
    .subs(&[own("approval", GET_PATCH_UPDATE), STATUS]),
    // networking.k8s.io/v1
    res(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "ingressclass",
        "IngressClass",
        CLUSTER,
    ),
    res(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        NS,
    )
    .short(&["ing"])
    .subs(WITH_STATUS),
    res(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        NS,
    )
    .short(&["netpol"]),
    // policy/v1
    res(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        NS,
    )
    .short(&["pdb"])
    .subs(WITH_STATUS),
    // rbac.authorization.k8s.io/v1
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        CLUSTER,
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        CLUSTER,
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        NS,
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        NS,
    ),
    // storage.k8s.io/v1
    res(
        "storage.k8s.io",
        "v1",
        "csidrivers",
        "csidriver",
        "CSIDriver",
        CLUSTER,
    ),
    res(
        "storage.k8s.io",
        "v1",
        "csinodes",
        "csinode",
        "CSINode",
        CLUSTER,
    ),
    res(
        "storage.k8s.io",
        "v1",
        "csistoragecapacities",
        "csistoragecapacity",
        "CSIStorageCapacity",
        NS,
    ),
    res(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        CLUSTER,
    )
    .short(&["sc"]),
    res(
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        "volumeattachment",
        "VolumeAttachment",
        CLUSTER,
    )
    .subs(WITH_STATUS),
    // admissionregistration.k8s.io/v1
    res(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration",
        CLUSTER,
    )
    .categories(API_EXTENSIONS),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        "ValidatingAdmissionPolicy",
        CLUSTER,
    )
    .categories(API_EXTENSIONS)
    .subs(WITH_STATUS),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        "ValidatingAdmissionPolicyBinding",
        CLUSTER,
    )
    .categories(API_EXTENSIONS),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        "ValidatingWebhookConfiguration",
        CLUSTER,
    )
    .categories(API_EXTENSIONS),
    // apiextensions.k8s.io/v1
    res(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        CLUSTER,
    )
    .short(&["crd", "crds"])
    .categories(API_EXTENSIONS)
    .subs(WITH_STATUS),
    // scheduling.k8s.io/v1
    res(
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        CLUSTER,
    )
    .short(&["pc"]),
    // coordination.k8s.io/v1
    res("coordination.k8s.io", "v1", "leases", "lease", "Lease", NS),
    // node.k8s.io/v1
    res(
        "node.k8s.io",
        "v1",
        "runtimeclasses",
        "runtimeclass",
        "RuntimeClass",
        CLUSTER,
    ),
    // discovery.k8s.io/v1
    res(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        NS,
    ),
    // flowcontrol.apiserver.k8s.io/v1
    res(
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "flowschemas",
        "flowschema",
        "FlowSchema",
        CLUSTER,
    )
    .subs(WITH_STATUS),
    res(
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        "PriorityLevelConfiguration",
        CLUSTER,
    )
    .subs(WITH_STATUS),
];

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

impl ResourceInfo {
    pub fn group_version(&self) -> String {
        group_version(self.group, self.version)
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

pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

pub fn find_kind(group_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group_version() == group_version && r.kind == kind)
}

/// The named groups in table order (the core group "" excluded).
pub fn groups() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.contains(&r.group) {
            out.push(r.group);
        }
    }
    out
}

/// A group's versions, preferred first (table order).
pub fn versions(group: &str) -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
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
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_flag_follows_the_subresources() {
        for r in RESOURCES {
            let has = r.subresources.iter().any(|s| s.name == "status");
            assert_eq!(r.status, has, "{}", r.plural);
        }
        assert!(find("", "v1", "pods").is_some_and(|r| r.status));
        assert!(find("", "v1", "configmaps").is_some_and(|r| !r.status));
    }

    #[test]
    fn every_resource_is_unique_and_named_consistently() {
        for (i, r) in RESOURCES.iter().enumerate() {
            assert!(
                RESOURCES[..i]
                    .iter()
                    .all(|o| (o.group, o.version, o.plural) != (r.group, r.version, r.plural)),
                "{} listed twice",
                r.plural
            );
            assert_eq!(r.singular, r.kind.to_lowercase(), "{}", r.plural);
        }
    }

    #[test]
    fn preferred_version_comes_first() {
        assert_eq!(versions("autoscaling"), ["v2", "v1"]);
        assert_eq!(groups()[0], "apps");
        assert!(!groups().contains(&""));
    }
}

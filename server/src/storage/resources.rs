//! The resources this server serves, described as kube-apiserver 1.32
//! describes them in discovery: group, version, plural, singular, kind,
//! scope, short names, categories, verbs and subresources.

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
const CRUD: &[&str] = &[
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
const API_EXTENSIONS: &[&str] = &["api-extensions"];

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
const SCALE: Subresource = other("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE);
pub const WITH_STATUS: &[Subresource] = &[STATUS];
const WITH_SCALE_STATUS: &[Subresource] = &[SCALE, STATUS];
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
}

const NS: bool = true;
const CLUSTER: bool = false;

/// In the order kube-apiserver lists groups in `/apis`; within a group the
/// preferred version comes first.
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    stored("", "v1", "bindings", "Binding", NS).verbs(CREATE),
    stored("", "v1", "componentstatuses", "ComponentStatus", CLUSTER)
        .short(&["cs"])
        .verbs(&["get", "list"]),
    stored("", "v1", "configmaps", "ConfigMap", NS).short(&["cm"]),
    stored("", "v1", "endpoints", "Endpoints", NS).short(&["ep"]),
    stored("", "v1", "events", "Event", NS).short(&["ev"]),
    stored("", "v1", "limitranges", "LimitRange", NS).short(&["limits"]),
    stored("", "v1", "namespaces", "Namespace", CLUSTER)
        .short(&["ns"])
        .verbs(CRUD_NO_COLLECTION)
        .subs(&[own("finalize", &["update"]), STATUS]),
    stored("", "v1", "nodes", "Node", CLUSTER)
        .short(&["no"])
        .subs(&[other("proxy", "", "", "NodeProxyOptions", PROXY), STATUS]),
    stored(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        NS,
    )
    .short(&["pvc"])
    .subs(WITH_STATUS),
    stored("", "v1", "persistentvolumes", "PersistentVolume", CLUSTER)
        .short(&["pv"])
        .subs(WITH_STATUS),
    stored("", "v1", "pods", "Pod", NS)
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
    stored("", "v1", "podtemplates", "PodTemplate", NS),
    stored(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        NS,
    )
    .short(&["rc"])
    .categories(ALL)
    .subs(WITH_SCALE_STATUS),
    stored("", "v1", "resourcequotas", "ResourceQuota", NS)
        .short(&["quota"])
        .subs(WITH_STATUS),
    stored("", "v1", "secrets", "Secret", NS),
    stored("", "v1", "serviceaccounts", "ServiceAccount", NS)
        .short(&["sa"])
        .subs(&[other(
            "token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            CREATE,
        )]),
    stored("", "v1", "services", "Service", NS)
        .short(&["svc"])
        .categories(ALL)
        .subs(&[other("proxy", "", "", "ServiceProxyOptions", PROXY), STATUS]),
    // apiregistration.k8s.io/v1
    stored(
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "APIService",
        CLUSTER,
    )
    .categories(API_EXTENSIONS)
    .subs(WITH_STATUS),
    // apps/v1
    stored(
        "apps",
        "v1",
        "controllerrevisions",
        "ControllerRevision",
        NS,
    ),
    stored("apps", "v1", "daemonsets", "DaemonSet", NS)
        .short(&["ds"])
        .categories(ALL)
        .subs(WITH_STATUS),
    stored("apps", "v1", "deployments", "Deployment", NS)
        .short(&["deploy"])
        .categories(ALL)
        .subs(WITH_SCALE_STATUS),
    stored("apps", "v1", "replicasets", "ReplicaSet", NS)
        .short(&["rs"])
        .categories(ALL)
        .subs(WITH_SCALE_STATUS),
    stored("apps", "v1", "statefulsets", "StatefulSet", NS)
        .short(&["sts"])
        .categories(ALL)
        .subs(WITH_SCALE_STATUS),
    // events.k8s.io/v1
    stored("events.k8s.io", "v1", "events", "Event", NS).short(&["ev"]),
    // authentication.k8s.io/v1: reviews are answered, not stored (src/authz.rs)
    stored(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        CLUSTER,
    )
    .verbs(CREATE),
    stored(
        "authentication.k8s.io",
        "v1",
        "tokenreviews",
        "TokenReview",
        CLUSTER,
    )
    .verbs(CREATE),
    // authorization.k8s.io/v1
    stored(
        "authorization.k8s.io",
        "v1",
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        NS,
    )
    .verbs(CREATE),
    stored(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        CLUSTER,
    )
    .verbs(CREATE),
    stored(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        CLUSTER,
    )
    .verbs(CREATE),
    stored(
        "authorization.k8s.io",
        "v1",
        "subjectaccessreviews",
        "SubjectAccessReview",
        CLUSTER,
    )
    .verbs(CREATE),
    // autoscaling: v2 preferred
    stored(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        NS,
    )
    .short(&["hpa"])
    .categories(ALL)
    .subs(WITH_STATUS),
    stored(
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        NS,
    )
    .short(&["hpa"])
    .categories(ALL)
    .subs(WITH_STATUS),
    // batch/v1
    stored("batch", "v1", "cronjobs", "CronJob", NS)
        .short(&["cj"])
        .categories(ALL)
        .subs(WITH_STATUS),
    stored("batch", "v1", "jobs", "Job", NS)
        .categories(ALL)
        .subs(WITH_STATUS),
    // certificates.k8s.io/v1
    stored(
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        CLUSTER,
    )
    .short(&["csr"])
    .subs(&[own("approval", GET_PATCH_UPDATE), STATUS]),
    // networking.k8s.io/v1
    stored(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "IngressClass",
        CLUSTER,
    ),
    stored("networking.k8s.io", "v1", "ingresses", "Ingress", NS)
        .short(&["ing"])
        .subs(WITH_STATUS),
    stored(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        NS,
    )
    .short(&["netpol"]),
    // policy/v1
    stored(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        NS,
    )
    .short(&["pdb"])
    .subs(WITH_STATUS),
    // rbac.authorization.k8s.io/v1
    stored(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        CLUSTER,
    ),
    stored(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        CLUSTER,
    ),
    stored(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        NS,
    ),
    stored("rbac.authorization.k8s.io", "v1", "roles", "Role", NS),
    // storage.k8s.io/v1
    stored("storage.k8s.io", "v1", "csidrivers", "CSIDriver", CLUSTER),
    stored("storage.k8s.io", "v1", "csinodes", "CSINode", CLUSTER),
    stored(
        "storage.k8s.io",
        "v1",
        "csistoragecapacities",
        "CSIStorageCapacity",
        NS,
    ),
    stored(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        CLUSTER,
    )
    .short(&["sc"]),
    stored(
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        "VolumeAttachment",
        CLUSTER,
    )
    .subs(WITH_STATUS),
    // admissionregistration.k8s.io/v1
    stored(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        CLUSTER,
    )
    .categories(API_EXTENSIONS),
    stored(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        CLUSTER,
    )
    .categories(API_EXTENSIONS)
    .subs(WITH_STATUS),
    stored(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        CLUSTER,
    )
    .categories(API_EXTENSIONS),
    stored(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        CLUSTER,
    )
    .categories(API_EXTENSIONS),
    // apiextensions.k8s.io/v1
    stored(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        CLUSTER,
    )
    .short(&["crd", "crds"])
    .categories(API_EXTENSIONS)
    .subs(WITH_STATUS),
    // scheduling.k8s.io/v1
    stored(
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "PriorityClass",
        CLUSTER,
    )
    .short(&["pc"]),
    // coordination.k8s.io/v1
    stored("coordination.k8s.io", "v1", "leases", "Lease", NS),
    // node.k8s.io/v1
    stored(
        "node.k8s.io",
        "v1",
        "runtimeclasses",
        "RuntimeClass",
        CLUSTER,
    ),
    // discovery.k8s.io/v1
    stored(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        NS,
    ),
    // flowcontrol.apiserver.k8s.io/v1
    stored(
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "flowschemas",
        "FlowSchema",
        CLUSTER,
    )
    .subs(WITH_STATUS),
    stored(
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "prioritylevelconfigurations",
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
    fn status_flag_follows_the_subresources() {
        for r in RESOURCES {
            let has = r.subresources.iter().any(|s| s.name == "status");
            assert_eq!(r.status, has, "{}", r.plural);
        }
        assert!(find("", "v1", "pods").is_some_and(|r| r.status));
        assert!(find("", "v1", "configmaps").is_some_and(|r| !r.status));
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
    fn preferred_version_comes_first() {
        assert_eq!(versions("autoscaling"), ["v2", "v1"]);
        // As in the recorded `GET /apis` of a real server.
        assert_eq!(groups()[..2], ["apiregistration.k8s.io", "apps"]);
        assert!(!groups().contains(&""));
    }
}

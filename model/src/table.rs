//! The table: one row per built-in resource of kube-apiserver 1.32, in the
//! order it lists groups in `/apis` (within a group the preferred version
//! first). `.lua()` and the `lua_*` builders say how luakube's group clients
//! offer a row (`client:corev1():pods(ns)`); rows without are served by the
//! stand-in and reachable through `client:api(gv)` only.

use crate::{
    other, own, stored, ResourceInfo, CREATE, CREATE_GET, CRUD_NO_COLLECTION, GET_PATCH_UPDATE,
    PROXY, STATUS, WITH_SCALE_STATUS, WITH_STATUS,
};

const NS: bool = true;
const CLUSTER: bool = false;
const ALL: &[&str] = &["all"];
const API_EXTENSIONS: &[&str] = &["api-extensions"];

/// In the order kube-apiserver lists groups in `/apis`; within a group the
/// preferred version comes first. One row per resource (kept on one line:
/// rustfmt would spread each over ten).
#[rustfmt::skip]
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    stored("", "v1", "bindings", "Binding", NS).verbs(CREATE),
    stored("", "v1", "componentstatuses", "ComponentStatus", CLUSTER).short(&["cs"]).verbs(&["get", "list"]),
    stored("", "v1", "configmaps", "ConfigMap", NS).short(&["cm"]).lua(),
    stored("", "v1", "endpoints", "Endpoints", NS).short(&["ep"]).lua(),
    stored("", "v1", "events", "Event", NS).short(&["ev"]).lua(),
    stored("", "v1", "limitranges", "LimitRange", NS).short(&["limits"]).lua_aliases(&["limit"]),
    stored("", "v1", "namespaces", "Namespace", CLUSTER).short(&["ns"]).verbs(CRUD_NO_COLLECTION)
        .subs(&[own("finalize", &["update"]), STATUS]).lua(),
    stored("", "v1", "nodes", "Node", CLUSTER).short(&["no"])
        .subs(&[other("proxy", "", "", "NodeProxyOptions", PROXY), STATUS]).lua_aliases(&[]),
    stored("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", NS).short(&["pvc"]).subs(WITH_STATUS).lua(),
    stored("", "v1", "persistentvolumes", "PersistentVolume", CLUSTER).short(&["pv"]).subs(WITH_STATUS)
        .lua_either_scope(),
    stored("", "v1", "pods", "Pod", NS).short(&["po"]).categories(ALL).subs(&[
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
    ]).lua_aliases(&[]),
    stored("", "v1", "podtemplates", "PodTemplate", NS).lua(),
    stored("", "v1", "replicationcontrollers", "ReplicationController", NS).short(&["rc"]).categories(ALL)
        .subs(WITH_SCALE_STATUS).lua(),
    stored("", "v1", "resourcequotas", "ResourceQuota", NS).short(&["quota"]).subs(WITH_STATUS).lua(),
    stored("", "v1", "secrets", "Secret", NS).lua_aliases(&["sec"]),
    stored("", "v1", "serviceaccounts", "ServiceAccount", NS).short(&["sa"])
        .subs(&[other("token", "authentication.k8s.io", "v1", "TokenRequest", CREATE)]).lua(),
    stored("", "v1", "services", "Service", NS).short(&["svc"]).categories(ALL)
        .subs(&[other("proxy", "", "", "ServiceProxyOptions", PROXY), STATUS]).lua_no_delete_collection(),
    // apiregistration.k8s.io/v1
    stored("apiregistration.k8s.io", "v1", "apiservices", "APIService", CLUSTER).categories(API_EXTENSIONS)
        .subs(WITH_STATUS),
    // apps/v1
    stored("apps", "v1", "controllerrevisions", "ControllerRevision", NS).lua(),
    stored("apps", "v1", "daemonsets", "DaemonSet", NS).short(&["ds"]).categories(ALL).subs(WITH_STATUS)
        .lua_patch_scale(),
    stored("apps", "v1", "deployments", "Deployment", NS).short(&["deploy"]).categories(ALL)
        .subs(WITH_SCALE_STATUS).lua_patch_scale(),
    stored("apps", "v1", "replicasets", "ReplicaSet", NS).short(&["rs"]).categories(ALL).subs(WITH_SCALE_STATUS)
        .lua(),
    stored("apps", "v1", "statefulsets", "StatefulSet", NS).short(&["sts"]).categories(ALL)
        .subs(WITH_SCALE_STATUS).lua_patch_scale(),
    // events.k8s.io/v1
    stored("events.k8s.io", "v1", "events", "Event", NS).short(&["ev"]).lua(),
    // authentication.k8s.io/v1: reviews are answered, not stored (server/src/authz.rs)
    stored("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", CLUSTER).verbs(CREATE),
    stored("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", CLUSTER).verbs(CREATE),
    // authorization.k8s.io/v1
    stored("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", NS).verbs(CREATE),
    stored("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", CLUSTER)
        .verbs(CREATE),
    stored("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", CLUSTER)
        .verbs(CREATE),
    stored("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", CLUSTER).verbs(CREATE),
    // autoscaling: v2 preferred
    stored("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", NS).short(&["hpa"])
        .categories(ALL).subs(WITH_STATUS).lua(),
    stored("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", NS).short(&["hpa"])
        .categories(ALL).subs(WITH_STATUS).lua(),
    // batch/v1
    stored("batch", "v1", "cronjobs", "CronJob", NS).short(&["cj"]).categories(ALL).subs(WITH_STATUS).lua(),
    stored("batch", "v1", "jobs", "Job", NS).categories(ALL).subs(WITH_STATUS).lua(),
    // certificates.k8s.io/v1
    stored("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", CLUSTER)
        .short(&["csr"]).subs(&[own("approval", GET_PATCH_UPDATE), STATUS]).lua(),
    // networking.k8s.io/v1
    stored("networking.k8s.io", "v1", "ingressclasses", "IngressClass", CLUSTER).lua(),
    stored("networking.k8s.io", "v1", "ingresses", "Ingress", NS).short(&["ing"]).subs(WITH_STATUS).lua(),
    stored("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", NS).short(&["netpol"]).lua(),
    // policy/v1
    stored("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", NS).short(&["pdb"]).subs(WITH_STATUS)
        .lua(),
    // rbac.authorization.k8s.io/v1
    stored("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", CLUSTER).lua(),
    stored("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", CLUSTER).lua(),
    stored("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", NS).lua(),
    stored("rbac.authorization.k8s.io", "v1", "roles", "Role", NS).lua(),
    // storage.k8s.io/v1
    stored("storage.k8s.io", "v1", "csidrivers", "CSIDriver", CLUSTER).lua(),
    stored("storage.k8s.io", "v1", "csinodes", "CSINode", CLUSTER).lua(),
    stored("storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", NS).lua(),
    stored("storage.k8s.io", "v1", "storageclasses", "StorageClass", CLUSTER).short(&["sc"]).lua(),
    stored("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", CLUSTER).subs(WITH_STATUS).lua(),
    // admissionregistration.k8s.io/v1
    stored("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
        CLUSTER).categories(API_EXTENSIONS).lua(),
    stored("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy",
        CLUSTER).categories(API_EXTENSIONS).subs(WITH_STATUS).lua(),
    stored("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding", CLUSTER).categories(API_EXTENSIONS).lua(),
    stored("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration", CLUSTER).categories(API_EXTENSIONS).lua(),
    // apiextensions.k8s.io/v1
    stored("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", CLUSTER)
        .short(&["crd", "crds"]).categories(API_EXTENSIONS).subs(WITH_STATUS).lua(),
    // scheduling.k8s.io/v1
    stored("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", CLUSTER).short(&["pc"]).lua(),
    // coordination.k8s.io/v1
    stored("coordination.k8s.io", "v1", "leases", "Lease", NS).lua(),
    // node.k8s.io/v1
    stored("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", CLUSTER).lua(),
    // discovery.k8s.io/v1
    stored("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", NS).lua(),
    // flowcontrol.apiserver.k8s.io/v1
    stored("flowcontrol.apiserver.k8s.io", "v1", "flowschemas", "FlowSchema", CLUSTER).subs(WITH_STATUS).lua(),
    stored("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations", "PriorityLevelConfiguration",
        CLUSTER).subs(WITH_STATUS).lua(),
];

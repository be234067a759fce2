//! The resources this server stores: group, version, plural, kind, scope.

pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub status: bool,
}

const fn r(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    status: bool,
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        plural,
        kind,
        namespaced,
        status,
    }
}

pub static RESOURCES: &[ResourceInfo] = &[
    r("", "v1", "nodes", "Node", false, true),
    r("", "v1", "namespaces", "Namespace", false, true),
    r("", "v1", "pods", "Pod", true, true),
    r("", "v1", "podtemplates", "PodTemplate", true, false),
    r("", "v1", "services", "Service", true, true),
    r("", "v1", "configmaps", "ConfigMap", true, false),
    r("", "v1", "secrets", "Secret", true, false),
    r("", "v1", "serviceaccounts", "ServiceAccount", true, false),
    r("", "v1", "endpoints", "Endpoints", true, false),
    r("", "v1", "limitranges", "LimitRange", true, false),
    r(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
        true,
    ),
    r(
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        false,
        true,
    ),
    r(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        true,
        true,
    ),
    r("", "v1", "resourcequotas", "ResourceQuota", true, true),
    r("", "v1", "events", "Event", true, false),
    r("apps", "v1", "deployments", "Deployment", true, true),
    r("apps", "v1", "statefulsets", "StatefulSet", true, true),
    r("apps", "v1", "daemonsets", "DaemonSet", true, true),
    r("apps", "v1", "replicasets", "ReplicaSet", true, true),
    r("batch", "v1", "jobs", "Job", true, true),
    r("batch", "v1", "cronjobs", "CronJob", true, true),
    r(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        true,
        true,
    ),
    r(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "IngressClass",
        false,
        false,
    ),
    r("coordination.k8s.io", "v1", "leases", "Lease", true, false),
];

impl ResourceInfo {
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
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

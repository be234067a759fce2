//! A compact description of each served kind for the OpenAPI documents:
//! its top-level fields, and for the workload kinds one level further
//! (workload specs, the pod template, PodSpec, Container, ServiceSpec) so
//! that a misspelt field there is caught as a real server would. Everything
//! below those levels (probes, volumes, affinity, status…) is a free-form
//! object. Field lists follow Kubernetes 1.32.

/// The type of a described field.
#[derive(Clone, Copy)]
pub enum Ty {
    Str,
    Bool,
    Int,
    /// An RFC 3339 timestamp.
    Time,
    /// An object whose content is not described (anything goes).
    Object,
    /// A map of string to string (labels, ConfigMap data…).
    StrMap,
    /// A list of free-form objects.
    Objects,
    Strs,
    /// Any JSON value (quantities: string or number).
    Any,
    /// A described object, a schema of its own.
    Struct(&'static Struct),
    /// A list of described objects.
    Structs(&'static Struct),
}
use Ty::*;

pub type Fields = &'static [(&'static str, Ty)];

/// A described object type with its real schema name.
pub struct Struct {
    pub name: &'static str,
    pub description: &'static str,
    pub fields: Fields,
}

pub const OBJECT_META: Struct = Struct {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    description: "ObjectMeta is metadata that all persisted resources must have.",
    fields: &[
        ("annotations", StrMap),
        ("creationTimestamp", Time),
        ("deletionGracePeriodSeconds", Int),
        ("deletionTimestamp", Time),
        ("finalizers", Strs),
        ("generateName", Str),
        ("generation", Int),
        ("labels", StrMap),
        ("managedFields", Objects),
        ("name", Str),
        ("namespace", Str),
        ("ownerReferences", Objects),
        ("resourceVersion", Str),
        ("selfLink", Str),
        ("uid", Str),
    ],
};

pub const LIST_META: Struct = Struct {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    description: "ListMeta describes metadata that synthetic resources must have.",
    fields: &[
        ("continue", Str),
        ("remainingItemCount", Int),
        ("resourceVersion", Str),
        ("selfLink", Str),
    ],
};

const CONTAINER: Struct = Struct {
    name: "io.k8s.api.core.v1.Container",
    description: "A single application container that you want to run within a pod.",
    fields: &[
        ("args", Strs),
        ("command", Strs),
        ("env", Objects),
        ("envFrom", Objects),
        ("image", Str),
        ("imagePullPolicy", Str),
        ("lifecycle", Object),
        ("livenessProbe", Object),
        ("name", Str),
        ("ports", Objects),
        ("readinessProbe", Object),
        ("resizePolicy", Objects),
        ("resources", Object),
        ("restartPolicy", Str),
        ("securityContext", Object),
        ("startupProbe", Object),
        ("stdin", Bool),
        ("stdinOnce", Bool),
        ("terminationMessagePath", Str),
        ("terminationMessagePolicy", Str),
        ("tty", Bool),
        ("volumeDevices", Objects),
        ("volumeMounts", Objects),
        ("workingDir", Str),
    ],
};

const POD_SPEC: Struct = Struct {
    name: "io.k8s.api.core.v1.PodSpec",
    description: "PodSpec is a description of a pod.",
    fields: &[
        ("activeDeadlineSeconds", Int),
        ("affinity", Object),
        ("automountServiceAccountToken", Bool),
        ("containers", Structs(&CONTAINER)),
        ("dnsConfig", Object),
        ("dnsPolicy", Str),
        ("enableServiceLinks", Bool),
        ("ephemeralContainers", Objects),
        ("hostAliases", Objects),
        ("hostIPC", Bool),
        ("hostNetwork", Bool),
        ("hostPID", Bool),
        ("hostUsers", Bool),
        ("hostname", Str),
        ("imagePullSecrets", Objects),
        ("initContainers", Structs(&CONTAINER)),
        ("nodeName", Str),
        ("nodeSelector", StrMap),
        ("os", Object),
        ("overhead", Object),
        ("preemptionPolicy", Str),
        ("priority", Int),
        ("priorityClassName", Str),
        ("readinessGates", Objects),
        ("resourceClaims", Objects),
        ("resources", Object),
        ("restartPolicy", Str),
        ("runtimeClassName", Str),
        ("schedulerName", Str),
        ("schedulingGates", Objects),
        ("securityContext", Object),
        ("serviceAccount", Str),
        ("serviceAccountName", Str),
        ("setHostnameAsFQDN", Bool),
        ("shareProcessNamespace", Bool),
        ("subdomain", Str),
        ("terminationGracePeriodSeconds", Int),
        ("tolerations", Objects),
        ("topologySpreadConstraints", Objects),
        ("volumes", Objects),
    ],
};

const POD_TEMPLATE_SPEC: Struct = Struct {
    name: "io.k8s.api.core.v1.PodTemplateSpec",
    description:
        "PodTemplateSpec describes the data a pod should have when created from a template.",
    fields: &[
        ("metadata", Struct(&OBJECT_META)),
        ("spec", Struct(&POD_SPEC)),
    ],
};

const SERVICE_SPEC: Struct = Struct {
    name: "io.k8s.api.core.v1.ServiceSpec",
    description: "ServiceSpec describes the attributes that a user creates on a service.",
    fields: &[
        ("allocateLoadBalancerNodePorts", Bool),
        ("clusterIP", Str),
        ("clusterIPs", Strs),
        ("externalIPs", Strs),
        ("externalName", Str),
        ("externalTrafficPolicy", Str),
        ("healthCheckNodePort", Int),
        ("internalTrafficPolicy", Str),
        ("ipFamilies", Strs),
        ("ipFamilyPolicy", Str),
        ("loadBalancerClass", Str),
        ("loadBalancerIP", Str),
        ("loadBalancerSourceRanges", Strs),
        ("ports", Objects),
        ("publishNotReadyAddresses", Bool),
        ("selector", StrMap),
        ("sessionAffinity", Str),
        ("sessionAffinityConfig", Object),
        ("trafficDistribution", Str),
        ("type", Str),
    ],
};

const REPLICATION_CONTROLLER_SPEC: Struct = Struct {
    name: "io.k8s.api.core.v1.ReplicationControllerSpec",
    description: "ReplicationControllerSpec is the specification of a replication controller.",
    fields: &[
        ("minReadySeconds", Int),
        ("replicas", Int),
        ("selector", StrMap),
        ("template", Struct(&POD_TEMPLATE_SPEC)),
    ],
};

const DEPLOYMENT_SPEC: Struct = Struct {
    name: "io.k8s.api.apps.v1.DeploymentSpec",
    description: "DeploymentSpec is the specification of the desired behavior of the Deployment.",
    fields: &[
        ("minReadySeconds", Int),
        ("paused", Bool),
        ("progressDeadlineSeconds", Int),
        ("replicas", Int),
        ("revisionHistoryLimit", Int),
        ("selector", Object),
        ("strategy", Object),
        ("template", Struct(&POD_TEMPLATE_SPEC)),
    ],
};

const STATEFUL_SET_SPEC: Struct = Struct {
    name: "io.k8s.api.apps.v1.StatefulSetSpec",
    description: "A StatefulSetSpec is the specification of a StatefulSet.",
    fields: &[
        ("minReadySeconds", Int),
        ("ordinals", Object),
        ("persistentVolumeClaimRetentionPolicy", Object),
        ("podManagementPolicy", Str),
        ("replicas", Int),
        ("revisionHistoryLimit", Int),
        ("selector", Object),
        ("serviceName", Str),
        ("template", Struct(&POD_TEMPLATE_SPEC)),
        ("updateStrategy", Object),
        ("volumeClaimTemplates", Objects),
    ],
};

const DAEMON_SET_SPEC: Struct = Struct {
    name: "io.k8s.api.apps.v1.DaemonSetSpec",
    description: "DaemonSetSpec is the specification of a daemon set.",
    fields: &[
        ("minReadySeconds", Int),
        ("revisionHistoryLimit", Int),
        ("selector", Object),
        ("template", Struct(&POD_TEMPLATE_SPEC)),
        ("updateStrategy", Object),
    ],
};

const REPLICA_SET_SPEC: Struct = Struct {
    name: "io.k8s.api.apps.v1.ReplicaSetSpec",
    description: "ReplicaSetSpec is the specification of a ReplicaSet.",
    fields: &[
        ("minReadySeconds", Int),
        ("replicas", Int),
        ("selector", Object),
        ("template", Struct(&POD_TEMPLATE_SPEC)),
    ],
};

const JOB_SPEC: Struct = Struct {
    name: "io.k8s.api.batch.v1.JobSpec",
    description: "JobSpec describes how the job execution will look like.",
    fields: &[
        ("activeDeadlineSeconds", Int),
        ("backoffLimit", Int),
        ("backoffLimitPerIndex", Int),
        ("completionMode", Str),
        ("completions", Int),
        ("managedBy", Str),
        ("manualSelector", Bool),
        ("maxFailedIndexes", Int),
        ("parallelism", Int),
        ("podFailurePolicy", Object),
        ("podReplacementPolicy", Str),
        ("selector", Object),
        ("successPolicy", Object),
        ("suspend", Bool),
        ("template", Struct(&POD_TEMPLATE_SPEC)),
        ("ttlSecondsAfterFinished", Int),
    ],
};

const JOB_TEMPLATE_SPEC: Struct = Struct {
    name: "io.k8s.api.batch.v1.JobTemplateSpec",
    description:
        "JobTemplateSpec describes the data a Job should have when created from a template.",
    fields: &[
        ("metadata", Struct(&OBJECT_META)),
        ("spec", Struct(&JOB_SPEC)),
    ],
};

const CRON_JOB_SPEC: Struct = Struct {
    name: "io.k8s.api.batch.v1.CronJobSpec",
    description:
        "CronJobSpec describes how the job execution will look like and when it will actually run.",
    fields: &[
        ("concurrencyPolicy", Str),
        ("failedJobsHistoryLimit", Int),
        ("jobTemplate", Struct(&JOB_TEMPLATE_SPEC)),
        ("schedule", Str),
        ("startingDeadlineSeconds", Int),
        ("successfulJobsHistoryLimit", Int),
        ("suspend", Bool),
        ("timeZone", Str),
    ],
};

const SPEC: (&str, Ty) = ("spec", Object);
const STATUS: (&str, Ty) = ("status", Object);

/// The top-level fields of a kind besides apiVersion, kind and metadata.
pub fn kind_fields(group: &str, kind: &str) -> Fields {
    match (group, kind) {
        ("", "Pod") => &[("spec", Struct(&POD_SPEC)), STATUS],
        ("", "Service") => &[("spec", Struct(&SERVICE_SPEC)), STATUS],
        ("", "ReplicationController") => &[("spec", Struct(&REPLICATION_CONTROLLER_SPEC)), STATUS],
        ("apps", "Deployment") => &[("spec", Struct(&DEPLOYMENT_SPEC)), STATUS],
        ("apps", "StatefulSet") => &[("spec", Struct(&STATEFUL_SET_SPEC)), STATUS],
        ("apps", "DaemonSet") => &[("spec", Struct(&DAEMON_SET_SPEC)), STATUS],
        ("apps", "ReplicaSet") => &[("spec", Struct(&REPLICA_SET_SPEC)), STATUS],
        ("batch", "Job") => &[("spec", Struct(&JOB_SPEC)), STATUS],
        ("batch", "CronJob") => &[("spec", Struct(&CRON_JOB_SPEC)), STATUS],
        ("", "PodTemplate") => &[("template", Struct(&POD_TEMPLATE_SPEC))],
        ("", "Binding") => &[("target", Object)],
        ("", "ComponentStatus") => &[("conditions", Objects)],
        ("", "ConfigMap") => &[
            ("data", StrMap),
            ("binaryData", StrMap),
            ("immutable", Bool),
        ],
        ("", "Secret") => &[
            ("data", StrMap),
            ("stringData", StrMap),
            ("type", Str),
            ("immutable", Bool),
        ],
        ("", "Endpoints") => &[("subsets", Objects)],
        ("", "Event") => &[
            ("involvedObject", Object),
            ("reason", Str),
            ("message", Str),
            ("source", Object),
            ("firstTimestamp", Time),
            ("lastTimestamp", Time),
            ("count", Int),
            ("type", Str),
            ("eventTime", Time),
            ("series", Object),
            ("action", Str),
            ("related", Object),
            ("reportingComponent", Str),
            ("reportingInstance", Str),
        ],
        ("events.k8s.io", "Event") => &[
            ("eventTime", Time),
            ("series", Object),
            ("reportingController", Str),
            ("reportingInstance", Str),
            ("action", Str),
            ("reason", Str),
            ("regarding", Object),
            ("related", Object),
            ("note", Str),
            ("type", Str),
            ("deprecatedSource", Object),
            ("deprecatedFirstTimestamp", Time),
            ("deprecatedLastTimestamp", Time),
            ("deprecatedCount", Int),
        ],
        ("", "ServiceAccount") => &[
            ("secrets", Objects),
            ("imagePullSecrets", Objects),
            ("automountServiceAccountToken", Bool),
        ],
        ("apps", "ControllerRevision") => &[("data", Any), ("revision", Int)],
        ("rbac.authorization.k8s.io", "Role") => &[("rules", Objects)],
        ("rbac.authorization.k8s.io", "ClusterRole") => {
            &[("rules", Objects), ("aggregationRule", Object)]
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            &[("subjects", Objects), ("roleRef", Object)]
        }
        ("storage.k8s.io", "StorageClass") => &[
            ("provisioner", Str),
            ("parameters", StrMap),
            ("reclaimPolicy", Str),
            ("mountOptions", Strs),
            ("allowVolumeExpansion", Bool),
            ("volumeBindingMode", Str),
            ("allowedTopologies", Objects),
        ],
        ("storage.k8s.io", "CSIStorageCapacity") => &[
            ("nodeTopology", Object),
            ("storageClassName", Str),
            ("capacity", Any),
            ("maximumVolumeSize", Any),
        ],
        ("discovery.k8s.io", "EndpointSlice") => &[
            ("addressType", Str),
            ("endpoints", Objects),
            ("ports", Objects),
        ],
        ("admissionregistration.k8s.io", k) if k.ends_with("WebhookConfiguration") => {
            &[("webhooks", Objects)]
        }
        ("scheduling.k8s.io", "PriorityClass") => &[
            ("value", Int),
            ("globalDefault", Bool),
            ("description", Str),
            ("preemptionPolicy", Str),
        ],
        ("node.k8s.io", "RuntimeClass") => &[
            ("handler", Str),
            ("overhead", Object),
            ("scheduling", Object),
        ],
        // Kinds with a spec but no status.
        ("", "LimitRange")
        | ("networking.k8s.io", "IngressClass" | "NetworkPolicy")
        | ("coordination.k8s.io", "Lease")
        | ("storage.k8s.io", "CSIDriver" | "CSINode")
        | ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => &[SPEC],
        _ => &[SPEC, STATUS],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fields: Fields) -> Vec<&'static str> {
        fields.iter().map(|(n, _)| *n).collect()
    }

    /// Sorted field lists are easy to compare with the API reference; a
    /// duplicate would hide a field from validation.
    #[test]
    fn described_structs_list_fields_once_in_order() {
        for s in [
            &OBJECT_META,
            &CONTAINER,
            &POD_SPEC,
            &SERVICE_SPEC,
            &DEPLOYMENT_SPEC,
            &STATEFUL_SET_SPEC,
            &DAEMON_SET_SPEC,
            &REPLICA_SET_SPEC,
            &JOB_SPEC,
            &CRON_JOB_SPEC,
        ] {
            let mut sorted = names(s.fields);
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(names(s.fields), sorted, "{}", s.name);
        }
    }

    #[test]
    fn workloads_describe_their_pod_template() {
        let spec = |g, k| match kind_fields(g, k)[0] {
            ("spec", Struct(s)) => s,
            _ => panic!("{k} has no described spec"),
        };
        for (g, k) in [
            ("apps", "Deployment"),
            ("apps", "StatefulSet"),
            ("apps", "DaemonSet"),
            ("apps", "ReplicaSet"),
            ("batch", "Job"),
            ("", "ReplicationController"),
        ] {
            let template = spec(g, k).fields.iter().find(|(n, _)| *n == "template");
            assert!(
                matches!(template, Some((_, Struct(t))) if t.name.ends_with("PodTemplateSpec")),
                "{k}"
            );
        }
        assert!(names(kind_fields("", "ConfigMap")).contains(&"data"));
        assert!(!names(kind_fields("", "ConfigMap")).contains(&"spec"));
    }
}

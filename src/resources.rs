//! The resource table: every API group, resource, alias and capability the
//! Lua API exposes. Clients are generated from it, not written per resource.

/// Where a resource lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
    /// persistentvolumes: luakube built namespaced URLs when given a namespace;
    /// without one they are (correctly) cluster-scoped.
    Either,
}

/// Methods beyond the common verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    Logs,
    EphemeralContainers,
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
pub struct Resource {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: &'static str,
    pub scope: Scope,
    pub status: bool,
    pub delete_collection: bool,
    pub extras: &'static [Extra],
}

#[derive(Debug)]
pub struct Group {
    /// The client method, e.g. `corev1`.
    pub method: &'static str,
    /// `apiVersion` of its objects, e.g. `apps/v1`.
    pub version: &'static str,
    /// `api` for the core group, `apis` for named groups.
    pub base: &'static str,
    pub resources: &'static [Resource],
}

impl Resource {
    pub fn has(&self, extra: Extra) -> bool {
        self.extras.contains(&extra)
    }
}

impl Group {
    pub fn resource(&self, name: &str) -> Option<&'static Resource> {
        self.resources
            .iter()
            .find(|r| r.name == name || r.aliases.contains(&name))
    }
}

const fn res(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: &'static str,
    scope: Scope,
    status: bool,
    delete_collection: bool,
    extras: &'static [Extra],
) -> Resource {
    Resource {
        name,
        aliases,
        kind,
        scope,
        status,
        delete_collection,
        extras,
    }
}

use Scope::*;

pub static GROUPS: &[Group] = &[
    Group {
        method: "corev1",
        version: "v1",
        base: "api",
        resources: &[
            res("nodes", &[], "Node", Cluster, true, true, &[]),
            res(
                "namespaces",
                &["ns"],
                "Namespace",
                Cluster,
                true,
                false,
                &[Extra::Finalize],
            ),
            res(
                "pods",
                &[],
                "Pod",
                Namespaced,
                true,
                true,
                &[
                    Extra::Logs,
                    Extra::EphemeralContainers,
                    Extra::Eviction,
                    Extra::Binding,
                ],
            ),
            res(
                "podtemplates",
                &[],
                "PodTemplate",
                Namespaced,
                false,
                true,
                &[],
            ),
            res(
                "services",
                &["svc"],
                "Service",
                Namespaced,
                true,
                false,
                &[],
            ),
            res(
                "configmaps",
                &["cm"],
                "ConfigMap",
                Namespaced,
                false,
                true,
                &[],
            ),
            res("secrets", &["sec"], "Secret", Namespaced, false, true, &[]),
            res(
                "serviceaccounts",
                &["sa"],
                "ServiceAccount",
                Namespaced,
                false,
                true,
                &[],
            ),
            res(
                "endpoints",
                &["ep"],
                "Endpoints",
                Namespaced,
                false,
                true,
                &[],
            ),
            res(
                "limitranges",
                &["limit"],
                "LimitRange",
                Namespaced,
                false,
                true,
                &[],
            ),
            res(
                "persistentvolumeclaims",
                &["pvc"],
                "PersistentVolumeClaim",
                Namespaced,
                true,
                true,
                &[],
            ),
            res(
                "persistentvolumes",
                &["pv"],
                "PersistentVolume",
                Either,
                true,
                true,
                &[],
            ),
            res(
                "replicationcontrollers",
                &["rc"],
                "ReplicationController",
                Namespaced,
                true,
                true,
                &[Extra::ScaleSubresource],
            ),
            res(
                "resourcequotas",
                &["quota"],
                "ResourceQuota",
                Namespaced,
                true,
                true,
                &[],
            ),
            res("events", &["ev"], "Event", Namespaced, false, true, &[]),
        ],
    },
    Group {
        method: "appsv1",
        version: "apps/v1",
        base: "apis",
        resources: &[
            res(
                "deployments",
                &["deploy"],
                "Deployment",
                Namespaced,
                true,
                true,
                &[Extra::Scale, Extra::ScaleSubresource],
            ),
            res(
                "statefulsets",
                &["sts"],
                "StatefulSet",
                Namespaced,
                true,
                true,
                &[Extra::Scale, Extra::ScaleSubresource],
            ),
            res(
                "daemonsets",
                &["ds"],
                "DaemonSet",
                Namespaced,
                true,
                true,
                &[Extra::Scale],
            ),
            res(
                "replicasets",
                &["rs"],
                "ReplicaSet",
                Namespaced,
                true,
                true,
                &[Extra::ScaleSubresource],
            ),
            res(
                "controllerrevisions",
                &[],
                "ControllerRevision",
                Namespaced,
                false,
                true,
                &[],
            ),
        ],
    },
    Group {
        method: "batchv1",
        version: "batch/v1",
        base: "apis",
        resources: &[
            res("jobs", &[], "Job", Namespaced, true, true, &[]),
            res("cronjobs", &["cj"], "CronJob", Namespaced, true, true, &[]),
        ],
    },
    Group {
        method: "networkingv1",
        version: "networking.k8s.io/v1",
        base: "apis",
        resources: &[
            res(
                "ingresses",
                &["ing"],
                "Ingress",
                Namespaced,
                true,
                true,
                &[],
            ),
            res(
                "ingressclasses",
                &[],
                "IngressClass",
                Cluster,
                false,
                true,
                &[],
            ),
            res(
                "networkpolicies",
                &["netpol"],
                "NetworkPolicy",
                Namespaced,
                false,
                true,
                &[],
            ),
        ],
    },
    Group {
        method: "rbacv1",
        version: "rbac.authorization.k8s.io/v1",
        base: "apis",
        resources: &[
            res("roles", &[], "Role", Namespaced, false, true, &[]),
            res(
                "rolebindings",
                &[],
                "RoleBinding",
                Namespaced,
                false,
                true,
                &[],
            ),
            res(
                "clusterroles",
                &[],
                "ClusterRole",
                Cluster,
                false,
                true,
                &[],
            ),
            res(
                "clusterrolebindings",
                &[],
                "ClusterRoleBinding",
                Cluster,
                false,
                true,
                &[],
            ),
        ],
    },
    Group {
        method: "policyv1",
        version: "policy/v1",
        base: "apis",
        resources: &[res(
            "poddisruptionbudgets",
            &["pdb"],
            "PodDisruptionBudget",
            Namespaced,
            true,
            true,
            &[],
        )],
    },
    Group {
        method: "autoscalingv1",
        version: "autoscaling/v1",
        base: "apis",
        resources: &[res(
            "horizontalpodautoscalers",
            &["hpa"],
            "HorizontalPodAutoscaler",
            Namespaced,
            true,
            true,
            &[],
        )],
    },
    Group {
        method: "autoscalingv2",
        version: "autoscaling/v2",
        base: "apis",
        resources: &[res(
            "horizontalpodautoscalers",
            &["hpa"],
            "HorizontalPodAutoscaler",
            Namespaced,
            true,
            true,
            &[],
        )],
    },
    Group {
        method: "coordinationv1",
        version: "coordination.k8s.io/v1",
        base: "apis",
        resources: &[res("leases", &[], "Lease", Namespaced, false, true, &[])],
    },
    Group {
        method: "storagev1",
        version: "storage.k8s.io/v1",
        base: "apis",
        resources: &[
            res(
                "storageclasses",
                &["sc"],
                "StorageClass",
                Cluster,
                false,
                true,
                &[],
            ),
            res(
                "volumeattachments",
                &[],
                "VolumeAttachment",
                Cluster,
                true,
                true,
                &[],
            ),
            res("csidrivers", &[], "CSIDriver", Cluster, false, true, &[]),
            res("csinodes", &[], "CSINode", Cluster, false, true, &[]),
            res(
                "csistoragecapacities",
                &[],
                "CSIStorageCapacity",
                Namespaced,
                false,
                true,
                &[],
            ),
        ],
    },
    Group {
        method: "eventsv1",
        version: "events.k8s.io/v1",
        base: "apis",
        resources: &[res(
            "events",
            &["ev"],
            "Event",
            Namespaced,
            false,
            true,
            &[],
        )],
    },
    Group {
        method: "discoveryv1",
        version: "discovery.k8s.io/v1",
        base: "apis",
        resources: &[res(
            "endpointslices",
            &[],
            "EndpointSlice",
            Namespaced,
            false,
            true,
            &[],
        )],
    },
    Group {
        method: "apiextensionsv1",
        version: "apiextensions.k8s.io/v1",
        base: "apis",
        resources: &[res(
            "customresourcedefinitions",
            &["crd", "crds"],
            "CustomResourceDefinition",
            Cluster,
            true,
            true,
            &[],
        )],
    },
    Group {
        method: "certificatesv1",
        version: "certificates.k8s.io/v1",
        base: "apis",
        resources: &[res(
            "certificatesigningrequests",
            &["csr"],
            "CertificateSigningRequest",
            Cluster,
            true,
            true,
            &[],
        )],
    },
    Group {
        method: "admissionregistrationv1",
        version: "admissionregistration.k8s.io/v1",
        base: "apis",
        resources: &[
            res(
                "mutatingwebhookconfigurations",
                &[],
                "MutatingWebhookConfiguration",
                Cluster,
                false,
                true,
                &[],
            ),
            res(
                "validatingwebhookconfigurations",
                &[],
                "ValidatingWebhookConfiguration",
                Cluster,
                false,
                true,
                &[],
            ),
            res(
                "validatingadmissionpolicies",
                &[],
                "ValidatingAdmissionPolicy",
                Cluster,
                true,
                true,
                &[],
            ),
            res(
                "validatingadmissionpolicybindings",
                &[],
                "ValidatingAdmissionPolicyBinding",
                Cluster,
                false,
                true,
                &[],
            ),
        ],
    },
    Group {
        method: "schedulingv1",
        version: "scheduling.k8s.io/v1",
        base: "apis",
        resources: &[res(
            "priorityclasses",
            &["pc"],
            "PriorityClass",
            Cluster,
            false,
            true,
            &[],
        )],
    },
    Group {
        method: "nodev1",
        version: "node.k8s.io/v1",
        base: "apis",
        resources: &[res(
            "runtimeclasses",
            &[],
            "RuntimeClass",
            Cluster,
            false,
            true,
            &[],
        )],
    },
    Group {
        method: "flowcontrolv1",
        version: "flowcontrol.apiserver.k8s.io/v1",
        base: "apis",
        resources: &[
            res("flowschemas", &[], "FlowSchema", Cluster, true, true, &[]),
            res(
                "prioritylevelconfigurations",
                &[],
                "PriorityLevelConfiguration",
                Cluster,
                true,
                true,
                &[],
            ),
        ],
    },
];

pub fn group(method: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.method == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_and_are_unique() {
        let core = group("corev1").unwrap();
        assert_eq!(core.resource("svc").unwrap().name, "services");
        assert_eq!(core.resource("pv").unwrap().scope, Scope::Either);
        for g in GROUPS {
            let mut seen = std::collections::HashSet::new();
            for r in g.resources {
                assert!(seen.insert(r.name), "{}", r.name);
                for a in r.aliases {
                    assert!(seen.insert(a), "{a}");
                }
            }
        }
    }

    #[test]
    fn annotations_cover_every_resource() {
        let meta = include_str!("../types/groups.lua");
        for g in GROUPS {
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

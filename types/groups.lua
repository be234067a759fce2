---@meta
-- Generated from model/src/table.rs by `cargo run --manifest-path model/Cargo.toml --bin gen-lua`: do not edit.
-- One class per group client of the Lua API and its resource clients.

--- The v1 group: `client:corev1()`.
---@class kube.Group.corev1: kube.GroupClient
---@field configmaps fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field cm fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field endpoints fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field ep fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field events fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field ev fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field limitranges fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field limit fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field namespaces fun(self: kube.Group.corev1, namespace: string?): kube.NamespaceClient
---@field ns fun(self: kube.Group.corev1, namespace: string?): kube.NamespaceClient
---@field nodes fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field persistentvolumeclaims fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field pvc fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field persistentvolumes fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field pv fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field pods fun(self: kube.Group.corev1, namespace: string?): kube.PodClient
---@field podtemplates fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field replicationcontrollers fun(self: kube.Group.corev1, namespace: string?): kube.ScaleSubresourceClient
---@field rc fun(self: kube.Group.corev1, namespace: string?): kube.ScaleSubresourceClient
---@field resourcequotas fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field quota fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field secrets fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field sec fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field serviceaccounts fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field sa fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field services fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient
---@field svc fun(self: kube.Group.corev1, namespace: string?): kube.ResourceClient

--- The apps/v1 group: `client:appsv1()`.
---@class kube.Group.appsv1: kube.GroupClient
---@field controllerrevisions fun(self: kube.Group.appsv1, namespace: string?): kube.ResourceClient
---@field daemonsets fun(self: kube.Group.appsv1, namespace: string?): kube.PatchScalableClient
---@field ds fun(self: kube.Group.appsv1, namespace: string?): kube.PatchScalableClient
---@field deployments fun(self: kube.Group.appsv1, namespace: string?): kube.ScalableClient
---@field deploy fun(self: kube.Group.appsv1, namespace: string?): kube.ScalableClient
---@field replicasets fun(self: kube.Group.appsv1, namespace: string?): kube.ScaleSubresourceClient
---@field rs fun(self: kube.Group.appsv1, namespace: string?): kube.ScaleSubresourceClient
---@field statefulsets fun(self: kube.Group.appsv1, namespace: string?): kube.ScalableClient
---@field sts fun(self: kube.Group.appsv1, namespace: string?): kube.ScalableClient

--- The events.k8s.io/v1 group: `client:eventsv1()`.
---@class kube.Group.eventsv1: kube.GroupClient
---@field events fun(self: kube.Group.eventsv1, namespace: string?): kube.ResourceClient
---@field ev fun(self: kube.Group.eventsv1, namespace: string?): kube.ResourceClient

--- The autoscaling/v2 group: `client:autoscalingv2()`.
---@class kube.Group.autoscalingv2: kube.GroupClient
---@field horizontalpodautoscalers fun(self: kube.Group.autoscalingv2, namespace: string?): kube.ResourceClient
---@field hpa fun(self: kube.Group.autoscalingv2, namespace: string?): kube.ResourceClient

--- The autoscaling/v1 group: `client:autoscalingv1()`.
---@class kube.Group.autoscalingv1: kube.GroupClient
---@field horizontalpodautoscalers fun(self: kube.Group.autoscalingv1, namespace: string?): kube.ResourceClient
---@field hpa fun(self: kube.Group.autoscalingv1, namespace: string?): kube.ResourceClient

--- The batch/v1 group: `client:batchv1()`.
---@class kube.Group.batchv1: kube.GroupClient
---@field cronjobs fun(self: kube.Group.batchv1, namespace: string?): kube.ResourceClient
---@field cj fun(self: kube.Group.batchv1, namespace: string?): kube.ResourceClient
---@field jobs fun(self: kube.Group.batchv1, namespace: string?): kube.ResourceClient

--- The certificates.k8s.io/v1 group: `client:certificatesv1()`.
---@class kube.Group.certificatesv1: kube.GroupClient
---@field certificatesigningrequests fun(self: kube.Group.certificatesv1, namespace: string?): kube.ResourceClient
---@field csr fun(self: kube.Group.certificatesv1, namespace: string?): kube.ResourceClient

--- The networking.k8s.io/v1 group: `client:networkingv1()`.
---@class kube.Group.networkingv1: kube.GroupClient
---@field ingressclasses fun(self: kube.Group.networkingv1, namespace: string?): kube.ResourceClient
---@field ingresses fun(self: kube.Group.networkingv1, namespace: string?): kube.ResourceClient
---@field ing fun(self: kube.Group.networkingv1, namespace: string?): kube.ResourceClient
---@field networkpolicies fun(self: kube.Group.networkingv1, namespace: string?): kube.ResourceClient
---@field netpol fun(self: kube.Group.networkingv1, namespace: string?): kube.ResourceClient

--- The policy/v1 group: `client:policyv1()`.
---@class kube.Group.policyv1: kube.GroupClient
---@field poddisruptionbudgets fun(self: kube.Group.policyv1, namespace: string?): kube.ResourceClient
---@field pdb fun(self: kube.Group.policyv1, namespace: string?): kube.ResourceClient

--- The rbac.authorization.k8s.io/v1 group: `client:rbacv1()`.
---@class kube.Group.rbacv1: kube.GroupClient
---@field clusterrolebindings fun(self: kube.Group.rbacv1, namespace: string?): kube.ResourceClient
---@field clusterroles fun(self: kube.Group.rbacv1, namespace: string?): kube.ResourceClient
---@field rolebindings fun(self: kube.Group.rbacv1, namespace: string?): kube.ResourceClient
---@field roles fun(self: kube.Group.rbacv1, namespace: string?): kube.ResourceClient

--- The storage.k8s.io/v1 group: `client:storagev1()`.
---@class kube.Group.storagev1: kube.GroupClient
---@field csidrivers fun(self: kube.Group.storagev1, namespace: string?): kube.ResourceClient
---@field csinodes fun(self: kube.Group.storagev1, namespace: string?): kube.ResourceClient
---@field csistoragecapacities fun(self: kube.Group.storagev1, namespace: string?): kube.ResourceClient
---@field storageclasses fun(self: kube.Group.storagev1, namespace: string?): kube.ResourceClient
---@field sc fun(self: kube.Group.storagev1, namespace: string?): kube.ResourceClient
---@field volumeattachments fun(self: kube.Group.storagev1, namespace: string?): kube.ResourceClient

--- The admissionregistration.k8s.io/v1 group: `client:admissionregistrationv1()`.
---@class kube.Group.admissionregistrationv1: kube.GroupClient
---@field mutatingwebhookconfigurations fun(self: kube.Group.admissionregistrationv1, namespace: string?): kube.ResourceClient
---@field validatingadmissionpolicies fun(self: kube.Group.admissionregistrationv1, namespace: string?): kube.ResourceClient
---@field validatingadmissionpolicybindings fun(self: kube.Group.admissionregistrationv1, namespace: string?): kube.ResourceClient
---@field validatingwebhookconfigurations fun(self: kube.Group.admissionregistrationv1, namespace: string?): kube.ResourceClient

--- The apiextensions.k8s.io/v1 group: `client:apiextensionsv1()`.
---@class kube.Group.apiextensionsv1: kube.GroupClient
---@field customresourcedefinitions fun(self: kube.Group.apiextensionsv1, namespace: string?): kube.ResourceClient
---@field crd fun(self: kube.Group.apiextensionsv1, namespace: string?): kube.ResourceClient
---@field crds fun(self: kube.Group.apiextensionsv1, namespace: string?): kube.ResourceClient

--- The scheduling.k8s.io/v1 group: `client:schedulingv1()`.
---@class kube.Group.schedulingv1: kube.GroupClient
---@field priorityclasses fun(self: kube.Group.schedulingv1, namespace: string?): kube.ResourceClient
---@field pc fun(self: kube.Group.schedulingv1, namespace: string?): kube.ResourceClient

--- The coordination.k8s.io/v1 group: `client:coordinationv1()`.
---@class kube.Group.coordinationv1: kube.GroupClient
---@field leases fun(self: kube.Group.coordinationv1, namespace: string?): kube.ResourceClient

--- The node.k8s.io/v1 group: `client:nodev1()`.
---@class kube.Group.nodev1: kube.GroupClient
---@field runtimeclasses fun(self: kube.Group.nodev1, namespace: string?): kube.ResourceClient

--- The discovery.k8s.io/v1 group: `client:discoveryv1()`.
---@class kube.Group.discoveryv1: kube.GroupClient
---@field endpointslices fun(self: kube.Group.discoveryv1, namespace: string?): kube.ResourceClient

--- The flowcontrol.apiserver.k8s.io/v1 group: `client:flowcontrolv1()`.
---@class kube.Group.flowcontrolv1: kube.GroupClient
---@field flowschemas fun(self: kube.Group.flowcontrolv1, namespace: string?): kube.ResourceClient
---@field prioritylevelconfigurations fun(self: kube.Group.flowcontrolv1, namespace: string?): kube.ResourceClient

---@class kube.Client
---@field corev1 fun(self: kube.Client): kube.Group.corev1
---@field appsv1 fun(self: kube.Client): kube.Group.appsv1
---@field eventsv1 fun(self: kube.Client): kube.Group.eventsv1
---@field autoscalingv2 fun(self: kube.Client): kube.Group.autoscalingv2
---@field autoscalingv1 fun(self: kube.Client): kube.Group.autoscalingv1
---@field batchv1 fun(self: kube.Client): kube.Group.batchv1
---@field certificatesv1 fun(self: kube.Client): kube.Group.certificatesv1
---@field networkingv1 fun(self: kube.Client): kube.Group.networkingv1
---@field policyv1 fun(self: kube.Client): kube.Group.policyv1
---@field rbacv1 fun(self: kube.Client): kube.Group.rbacv1
---@field storagev1 fun(self: kube.Client): kube.Group.storagev1
---@field admissionregistrationv1 fun(self: kube.Client): kube.Group.admissionregistrationv1
---@field apiextensionsv1 fun(self: kube.Client): kube.Group.apiextensionsv1
---@field schedulingv1 fun(self: kube.Client): kube.Group.schedulingv1
---@field coordinationv1 fun(self: kube.Client): kube.Group.coordinationv1
---@field nodev1 fun(self: kube.Client): kube.Group.nodev1
---@field discoveryv1 fun(self: kube.Client): kube.Group.discoveryv1
---@field flowcontrolv1 fun(self: kube.Client): kube.Group.flowcontrolv1

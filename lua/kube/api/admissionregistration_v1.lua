--- The admissionregistration.k8s.io/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("admissionregistration.k8s.io/v1", "admissionregistrationv1")

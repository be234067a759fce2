--- The certificates.k8s.io/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("certificates.k8s.io/v1", "certificatesv1")

--- The v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("v1", "corev1")

--- The apiextensions.k8s.io/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("apiextensions.k8s.io/v1", "apiextensionsv1")

--- The storage.k8s.io/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("storage.k8s.io/v1", "storagev1")

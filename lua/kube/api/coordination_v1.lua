--- The coordination.k8s.io/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("coordination.k8s.io/v1", "coordinationv1")

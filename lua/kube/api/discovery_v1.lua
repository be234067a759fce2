--- The discovery.k8s.io/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("discovery.k8s.io/v1", "discoveryv1")

--- The apps/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("apps/v1", "appsv1")

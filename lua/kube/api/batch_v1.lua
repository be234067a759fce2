--- The batch/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("batch/v1", "batchv1")

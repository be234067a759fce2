--- The autoscaling/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("autoscaling/v1", "autoscalingv1")

--- The autoscaling/v2 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("autoscaling/v2", "autoscalingv2")

--- The policy/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("policy/v1", "policyv1")

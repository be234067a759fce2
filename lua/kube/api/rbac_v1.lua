--- The rbac.authorization.k8s.io/v1 API group: resource clients come from the Rust resource table.
return require("kube.api.group")("rbac.authorization.k8s.io/v1", "rbacv1")

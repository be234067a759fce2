//! Knowledge of the built-in kinds' shapes: what kube-apiserver fills in on
//! create (`defaults`) and their protobuf wire form (`protobuf`).

pub(crate) mod defaults;
pub(crate) mod protobuf;

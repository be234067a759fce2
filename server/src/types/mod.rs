//! Knowledge of the built-in kinds' shapes: what kube-apiserver fills in on
//! create (`defaults`), what it refuses (`rules`), which fields they have
//! (`field_validation`) and their protobuf wire form (`protobuf`).

pub(crate) mod defaults;
pub(crate) mod field_validation;
pub(crate) mod protobuf;
pub(crate) mod rules;

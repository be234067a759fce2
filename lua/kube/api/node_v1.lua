--- The node.k8s.io/v1 API group: resource clients come from the Rust resource table.
-- Generated from model/src/table.rs by `cargo run --manifest-path model/Cargo.toml --bin gen-lua`: do not edit.
return require("kube.api.group")("node.k8s.io/v1", "nodev1")

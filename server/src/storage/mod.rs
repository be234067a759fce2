//! REST semantics and storage: the resource table and what is served now
//! (`resources`, `registry`), the object store (`store`), the verbs over it
//! (`rest`, `subresources`, `selectors`, `validation`), what happens around
//! writes (`lifecycle`, `pods`) and the objects a fresh server has (`builtins`).

pub(crate) mod builtins;
pub(crate) mod lifecycle;
pub(crate) mod pods;
pub(crate) mod registry;
pub(crate) mod resources;
pub(crate) mod rest;
pub(crate) mod selectors;
pub(crate) mod store;
pub(crate) mod subresources;
pub(crate) mod validation;

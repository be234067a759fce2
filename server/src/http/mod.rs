//! HTTP plumbing and replies: the router that turns a request into a verb on
//! a resource (`api`) and the response bodies on the wire (`body`).

pub(crate) mod api;
pub(crate) mod body;

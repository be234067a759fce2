//! HTTP plumbing and replies: the router that turns a request into a verb on
//! a resource (`api`), the request and reply types below it (`request`,
//! `reply`) and the response bodies on the wire (`body`).

pub(crate) mod api;
pub(crate) mod body;
pub(crate) mod reply;
pub(crate) mod request;

//! What a request gets back: a whole body (`Reply`) or one sent as it is
//! produced (`Streaming`), and the JSON and Status helpers that build them.
//! Below the router: every module that answers a request imports this, none
//! of them the router.

use crate::store::ApiError;
use bytes::Bytes;
use tokio::sync::mpsc;

pub struct Reply {
    pub code: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub fn json_reply(code: u16, v: &impl serde::Serialize) -> Reply {
    Reply {
        code,
        content_type: "application/json",
        body: serde_json::to_vec(v).unwrap_or_default(),
    }
}

/// A response body sent as it is produced (watch events, followed logs).
pub struct Streaming {
    pub code: u16,
    pub content_type: &'static str,
    pub chunks: mpsc::Receiver<Bytes>,
}

/// What a request gets: a whole body or a stream.
pub enum Answer {
    Full(Reply),
    Stream(Streaming),
}

impl From<Reply> for Answer {
    fn from(r: Reply) -> Self {
        Answer::Full(r)
    }
}

pub fn err_reply(e: ApiError) -> Reply {
    json_reply(e.code, &e.status())
}

//! Large list answers sent while they are encoded, as kube-apiserver does
//! since 1.33 (streaming collection encoding): the first items reach the
//! client while the last are still being written, instead of after the whole
//! body is built. Smaller lists are sent whole, with a Content-Length.
//!
//! The encoding runs on a blocking thread under the store lock, without ever
//! waiting on the client: chunks the channel cannot take yet wait in a
//! backlog that is sent after the lock is released, so a slow or stalled
//! client never holds up other requests.

use crate::reply::Streaming;
use crate::resources::ResourceInfo;
use crate::rest;
use crate::store::Store;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{self, error::TrySendError};

/// Lists of more items than this are streamed.
pub const STREAM_ABOVE_ITEMS: usize = 100;

/// Bytes per chunk: large enough that per-chunk costs vanish.
const CHUNK_BYTES: usize = 64 * 1024;

/// Starts encoding the list `query` selects; its answer streams from the
/// returned body. The caller has already checked the query (a list that
/// fails now, after a write in between, ends the stream early).
pub fn start(
    store: Arc<Mutex<Store>>,
    res: &'static ResourceInfo,
    ns: String,
    query: HashMap<String, String>,
) -> Streaming {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES),
            backlog: VecDeque::new(),
        };
        {
            let st = store.lock().unwrap_or_else(|p| p.into_inner());
            let Ok(page) = rest::list(&st, res, &ns, &query) else {
                return;
            };
            if serde_json::to_writer(&mut out, &page).is_err() {
                return;
            }
        }
        out.finish();
    });
    Streaming {
        code: 200,
        content_type: "application/json",
        chunks: rx,
    }
}

struct ChunkWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
    /// Chunks the channel had no room for yet.
    backlog: VecDeque<Bytes>,
}

impl ChunkWriter {
    fn pass_on(&mut self) -> io::Result<()> {
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        if !self.backlog.is_empty() {
            self.backlog.push_back(chunk);
            return Ok(());
        }
        match self.tx.try_send(chunk) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(chunk)) => {
                self.backlog.push_back(chunk);
                Ok(())
            }
            Err(TrySendError::Closed(_)) => Err(io::Error::other("the client went away")),
        }
    }

    /// Sends the rest, waiting on the client (the lock is no longer held).
    fn finish(mut self) {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.backlog.push_back(Bytes::from(rest));
        }
        for chunk in self.backlog {
            if self.tx.blocking_send(chunk).is_err() {
                return;
            }
        }
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.pass_on()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

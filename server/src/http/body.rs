//! Response bodies on the wire: whole, streamed (watch, followed logs), or
//! broken on purpose by an injected fault.

use crate::faults::{self, Fault, Mode};
use crate::reply::{json_reply, Answer};
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a stalled response keeps the client waiting at most.
const STALL: Duration = Duration::from_secs(3600);

pub enum ResponseBody {
    Whole(Option<Bytes>),
    /// Chunks as produced; `fail_after` chunks (if set), the connection breaks.
    Chunks {
        rx: mpsc::Receiver<Bytes>,
        fail_after: Option<usize>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
    /// One chunk, then the connection breaks.
    Broken {
        first: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
    Stalled(Pin<Box<tokio::time::Sleep>>),
}

/// Breaks the body after a pause, so that what was sent reaches the client
/// before the connection closes.
fn break_after_pause(
    pause: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
    let sleep = pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(BREAK_PAUSE)));
    sleep.as_mut().poll(cx).map(|_| {
        Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "injected fault: body cut",
        )))
    })
}

/// How long a broken body waits for what was sent to be flushed.
const BREAK_PAUSE: Duration = Duration::from_millis(50);

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ResponseBody::Whole(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ResponseBody::Chunks {
                rx,
                fail_after,
                pause,
            } => {
                if *fail_after == Some(0) {
                    return break_after_pause(pause, cx);
                }
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(b)) => {
                        if let Some(n) = fail_after.as_mut() {
                            *n -= 1;
                        }
                        Poll::Ready(Some(Ok(Frame::data(b))))
                    }
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
            ResponseBody::Broken { first, pause } => match first.take() {
                Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
                None => break_after_pause(pause, cx),
            },
            ResponseBody::Stalled(sleep) => sleep.as_mut().poll(cx).map(|_| None),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ResponseBody::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Whole(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ResponseBody::Whole(None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

pub type Response = hyper::Response<ResponseBody>;

/// Splits off a second handle on the socket (to reset it on a fault).
pub fn split_socket(
    tcp: tokio::net::TcpStream,
) -> Option<(tokio::net::TcpStream, std::net::TcpStream)> {
    let std_stream = tcp.into_std().ok()?;
    let second = std_stream.try_clone().ok()?;
    let tcp = tokio::net::TcpStream::from_std(std_stream).ok()?;
    Some((tcp, second))
}

/// Applies the parts of a fault that come before the request is handled:
/// latency, a reset, or an error status instead of the real answer.
pub async fn before_handling(
    fault: &Fault,
    socket: &std::net::TcpStream,
) -> Option<Result<Response, io::Error>> {
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    if fault.mode == Some(Mode::Reset) {
        // With a zero linger, closing the socket sends RST instead of FIN.
        let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
        return Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "injected fault: reset",
        )));
    }
    let code = fault.status?;
    let reply = json_reply(code, &faults::status_body(code, fault.retry_after));
    let mut resp = respond(Answer::Full(reply), fault.mode);
    if let (Ok(r), Some(after)) = (resp.as_mut(), fault.retry_after) {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&after.to_string()) {
            r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
    }
    Some(resp)
}

/// The HTTP response for an answer, broken as the fault mode says.
pub fn respond(answer: Answer, mode: Option<Mode>) -> Result<Response, io::Error> {
    let (code, content_type, body, length) = match answer {
        Answer::Full(reply) => {
            let full = Bytes::from(reply.body);
            let half = full.slice(..full.len() / 2);
            let len = full.len();
            let body = match mode {
                Some(Mode::DropMidBody) => (
                    ResponseBody::Broken {
                        first: Some(half),
                        pause: None,
                    },
                    Some(len),
                ),
                Some(Mode::TruncateJson) => {
                    (ResponseBody::Whole(Some(half.clone())), Some(half.len()))
                }
                Some(Mode::Stall) => (
                    ResponseBody::Stalled(Box::pin(tokio::time::sleep(STALL))),
                    Some(len),
                ),
                _ => (ResponseBody::Whole(Some(full)), None),
            };
            (reply.code, reply.content_type, body.0, body.1)
        }
        Answer::Stream(s) => {
            let body = match mode {
                Some(Mode::DropMidBody | Mode::TruncateJson) => ResponseBody::Chunks {
                    rx: s.chunks,
                    fail_after: Some(1),
                    pause: None,
                },
                Some(Mode::Stall) => ResponseBody::Stalled(Box::pin(tokio::time::sleep(STALL))),
                _ => ResponseBody::Chunks {
                    rx: s.chunks,
                    fail_after: None,
                    pause: None,
                },
            };
            (s.code, s.content_type, body, None)
        }
    };
    let mut b = hyper::Response::builder()
        .status(code)
        .header("Content-Type", content_type)
        .header("Cache-Control", "no-cache, private");
    if let Some(n) = length {
        b = b.header("Content-Length", n);
    }
    b.body(body)
        .map_err(|e| io::Error::other(format!("building the response: {e}")))
}

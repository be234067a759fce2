//! The channel protocol of exec and attach over WebSocket
//! (`v4.channel.k8s.io`, `v5.channel.k8s.io`): each binary message starts
//! with its channel — stdin 0, stdout 1, stderr 2, the closing Status 3,
//! terminal size 4, and (v5) 255 to close a channel, e.g. `[255, 0]` for
//! stdin.

use super::process::{Options, Out, Proc};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const STDIN: u8 = 0;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

fn framed(ch: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(ch);
    v.extend_from_slice(data);
    Message::Binary(Bytes::from(v))
}

/// The Status the runtime writes on channel 3 when the process ends.
fn status(out: &Out, command: &[String]) -> serde_json::Value {
    match out {
        Out::Exit(0) => json!({"metadata": {}, "status": "Success"}),
        Out::Exit(code) => json!({
            "metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command {command:?}, exit code {code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        }),
        Out::Failed(msg) => json!({
            "metadata": {}, "status": "Failure", "message": msg,
            "reason": "InternalError",
            "details": {"causes": [{"message": msg}]},
        }),
        Out::Data(..) => json!({"metadata": {}, "status": "Success"}),
    }
}

/// Serves one session until the process ends (its output drained, then the
/// Status, then a close) or the client goes away (the exec'd process is killed).
pub async fn run<S>(ws: WebSocketStream<S>, proc: Proc, opts: &Options, v5: bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    let Proc {
        mut out,
        stdin,
        resize,
        ..
    } = proc;
    let command = opts.command.clone();
    // Output and input run side by side: a process blocked writing its
    // output must not stop its input from being read, nor the reverse.
    let output = async {
        while let Some(o) = out.recv().await {
            match o {
                Out::Data(ch, data) => {
                    if sink.send(framed(ch, &data)).await.is_err() {
                        return;
                    }
                }
                end => {
                    let st = serde_json::to_vec(&status(&end, &command)).unwrap_or_default();
                    let _ = sink.send(framed(ERROR, &st)).await;
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: CloseCode::Normal,
                            reason: "".into(),
                        })))
                        .await;
                    let _ = sink.close().await;
                    return;
                }
            }
        }
    };
    let input = async {
        let mut stdin = stdin;
        while let Some(msg) = stream.next().await {
            let data = match msg {
                Ok(Message::Binary(b)) => b,
                // The Python client writes str data as text messages; the
                // real server reads both kinds the same way.
                Ok(Message::Text(t)) => Bytes::from(t),
                Ok(Message::Close(_)) | Err(_) => return,
                Ok(_) => continue,
            };
            match (data.first().copied(), &data[1.min(data.len())..]) {
                (Some(STDIN), rest) => {
                    if let Some(tx) = &stdin {
                        if !rest.is_empty() && tx.send(Bytes::copy_from_slice(rest)).await.is_err()
                        {
                            stdin = None;
                        }
                    }
                }
                (Some(RESIZE), rest) => {
                    if let (Some(f), Ok(v)) =
                        (&resize, serde_json::from_slice::<serde_json::Value>(rest))
                    {
                        let n = |k: &str| v[k].as_u64().unwrap_or(0).min(u16::MAX as u64) as u16;
                        f(n("Width"), n("Height"));
                    }
                }
                (Some(CLOSE), [STDIN, ..]) if v5 => stdin = None,
                _ => {}
            }
        }
    };
    tokio::select! {
        _ = output => {}
        _ = input => {}
    }
}

//! Connections upgraded to WebSocket (exec, attach, port-forward): the
//! upgrade request is prepared as every other call is (CA, client
//! certificate, proxy, credentials including an exec plugin's token,
//! impersonation), sent through the same reqwest client, and the upgraded
//! connection is handed to the WebSocket framing.

use super::{error_chain, OwnedRequest, Pool, Shared, Transport};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// An open WebSocket and the subprotocol the server chose.
pub(crate) type Socket = WebSocketStream<reqwest::Upgraded>;

/// Opens upgraded connections for one client (usable from background tasks).
#[derive(Clone)]
pub(crate) struct Upgrader {
    shared: Arc<Shared>,
}

impl Transport {
    pub(crate) fn upgrader(&self) -> Upgrader {
        Upgrader {
            shared: self.shared.clone(),
        }
    }
}

impl Upgrader {
    /// GET `url` with upgrade headers offering `protocols` (in order of
    /// preference); the socket and the chosen protocol, or the server's
    /// refusal as a message with its HTTP code.
    pub(crate) async fn open(
        &self,
        url: &str,
        protocols: &[&str],
    ) -> Result<(Socket, String), String> {
        let req = OwnedRequest {
            method: reqwest::Method::GET,
            url: url.to_string(),
            body: None,
            content_type: None,
            accept: "*/*".into(),
            retry: false,
        };
        let what = req.what();
        // One key for the request and, after a refused credential, its resend.
        let key = tokio_tungstenite::tungstenite::handshake::client::generate_key();
        let resp = self
            .shared
            .send_authorized(&req, Pool::Streams, |rb| {
                rb.header("Connection", "Upgrade")
                    .header("Upgrade", "websocket")
                    .header("Sec-WebSocket-Version", "13")
                    .header("Sec-WebSocket-Key", &key)
                    .header("Sec-WebSocket-Protocol", protocols.join(", "))
            })
            .await
            .map_err(|e| e.describe(&what))?;
        let code = resp.status().as_u16();
        if code != 101 {
            let body = resp.bytes().await.unwrap_or_default();
            let msg = super::status_message(&body);
            return Err(format!("{what}: HTTP {code}: {msg}"));
        }
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let want = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        if header("sec-websocket-accept") != want {
            return Err(format!(
                "{what}: the server's WebSocket accept key is wrong"
            ));
        }
        let protocol = header("sec-websocket-protocol");
        if !protocols.contains(&protocol.as_str()) {
            return Err(format!(
                "{what}: the server chose the protocol {protocol:?}, not one of {protocols:?}"
            ));
        }
        let upgraded = resp
            .upgrade()
            .await
            .map_err(|e| format!("{what}: upgrade: {}", error_chain(&e)))?;
        let ws = WebSocketStream::from_raw_socket(upgraded, Role::Client, None).await;
        Ok((ws, protocol))
    }
}

//! The local control API (`spec/30-reference-node.md` §9): `ControlFrame`s
//! of JSON on a Unix socket. [`serve`] answers requests through the driver;
//! [`call`] is the client the CLI subcommands use.

use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use crate::fapp::{AnnounceSpec, QuerySpec};
use crate::framing::{FrameReader, CONTROL_FRAME};
use crate::runtime::Input;

/// One request; the `op` field names the variant (`spec/30` §9, FAPP's
/// in §16.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// The node's state and links.
    Status,
    /// The node's address and public identity.
    Identity,
    /// The usable routes.
    Routes,
    /// Sends `content` (hex) to `to` (an address, hex).
    Send {
        /// The recipient's address.
        to: String,
        /// The content, hex.
        content: String,
    },
    /// One outgoing message's state.
    Message {
        /// The local message id.
        id: u64,
    },
    /// Delivered messages after arrival number `after`.
    Inbox {
        /// The last arrival number already seen.
        #[serde(default)]
        after: Option<u64>,
    },
    /// Announces the node now.
    Announce,
    /// FAPP: becomes a therapist or adds slots, and announces.
    FappAnnounce(Box<AnnounceSpec>),
    /// FAPP: starts a patient's search.
    FappQuery(Box<QuerySpec>),
    /// FAPP: reserves a slot the search collected.
    FappReserve {
        /// The therapist's address, hex.
        therapist: String,
        /// The slot id.
        slot: u32,
    },
    /// FAPP: confirms a held reservation (therapist).
    FappConfirm {
        /// The reservation's request id, hex.
        request_id: String,
    },
    /// FAPP: declines a held reservation (therapist).
    FappDecline {
        /// The reservation's request id, hex.
        request_id: String,
    },
    /// FAPP: the search, the inventory and the event log.
    FappResults {
        /// The last event-log row already seen.
        #[serde(default)]
        after: Option<u64>,
    },
    /// Commits, closes and exits.
    Shutdown,
}

/// Parses a request; `malformed` for anything that is not one.
pub fn parse_request(body: &[u8]) -> Result<Request> {
    serde_json::from_slice(body).map_err(|_| Error::Malformed {
        what: "control request",
        reason: "not a JSON object with a known `op` and its fields",
    })
}

/// Listens on `path` (replacing a stale socket file, mode 0600) and hands
/// every request to the driver.
pub fn bind(path: &Path) -> Result<UnixListener> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Accepts control connections for ever.
pub async fn serve(listener: UnixListener, inputs: mpsc::Sender<Input>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, inputs.clone()));
    }
}

async fn connection(mut stream: UnixStream, inputs: mpsc::Sender<Input>) {
    let mut reader = FrameReader::new(CONTROL_FRAME);
    let mut buf = vec![0; 64 * 1024];
    loop {
        let len = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(len) => len,
        };
        reader.push(&buf[..len]);
        loop {
            let answer = match reader.next_frame() {
                Ok(None) => break,
                Ok(Some(body)) => match parse_request(&body) {
                    Ok(request) => {
                        let (reply, answer) = oneshot::channel();
                        if inputs
                            .send(Input::Control { request, reply })
                            .await
                            .is_err()
                        {
                            return;
                        }
                        match answer.await {
                            Ok(answer) => answer,
                            Err(_) => return,
                        }
                    }
                    Err(e) => refusal(&e),
                },
                Err(e) => {
                    let _ = write(&mut stream, &refusal(&e)).await;
                    return;
                }
            };
            if write(&mut stream, &answer).await.is_err() {
                return;
            }
        }
    }
}

fn refusal(e: &Error) -> Value {
    json!({"ok": false, "error": {"class": e.class(), "message": e.to_string()}})
}

async fn write(stream: &mut UnixStream, value: &Value) -> Result<()> {
    let body = serde_json::to_vec(value).map_err(|e| Error::Io(e.into()))?;
    stream.write_all(&CONTROL_FRAME.encode(&body)?).await?;
    Ok(())
}

/// Sends `request` to the node at `socket` and returns its answer,
/// `{"ok": true, ...}` or `{"ok": false, "error": ...}`.
pub async fn call(socket: &Path, request: &Value) -> Result<Value> {
    let mut stream = UnixStream::connect(socket).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!(
                "cannot reach the node at {}: {e} (is it running?)",
                socket.display()
            ),
        ))
    })?;
    write(&mut stream, request).await?;
    let mut reader = FrameReader::new(CONTROL_FRAME);
    let mut buf = vec![0; 64 * 1024];
    loop {
        if let Some(body) = reader.next_frame()? {
            let answer: Value = serde_json::from_slice(&body).map_err(|_| Error::Malformed {
                what: "control response",
                reason: "not JSON",
            })?;
            return Ok(answer);
        }
        let len = stream.read(&mut buf).await?;
        if len == 0 {
            reader.finish()?;
            return Err(Error::Truncated("control response"));
        }
        reader.push(&buf[..len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_bad_ones_are_malformed() {
        assert_eq!(
            parse_request(br#"{"op":"status"}"#).unwrap(),
            Request::Status
        );
        assert_eq!(
            parse_request(br#"{"op":"inbox","after":3}"#).unwrap(),
            Request::Inbox { after: Some(3) }
        );
        let query = parse_request(br#"{"op":"fapp_query","plz_prefix":"10","kinds":["acute"]}"#);
        assert!(matches!(query, Ok(Request::FappQuery(q)) if q.plz_prefix == "10"));
        for bad in [
            &br#"{"op":"fly"}"#[..],
            br#"{"op":"fapp_query","colour":1}"#,
            br#"{"op":"fapp_announce","slots":[{"id":1}]}"#,
            br#"{"op":"fapp_reserve","therapist":"00"}"#,
            br#"{"op":"send","to":"00"}"#,
            b"[1]",
            b"\xff",
        ] {
            assert_eq!(parse_request(bad).unwrap_err().class(), "malformed");
        }
    }
}

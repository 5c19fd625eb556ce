//! Clients that speak bytes, not the driver: a raw handshake, a request head
//! sent a byte at a time, frames written by hand, and what a client saw before
//! the connection ended.

use crate::prelude::*;

pub(crate) fn request_head(path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// Connects and completes the handshake by hand; returns the stream and
/// what came after the response head.
pub(crate) async fn raw_handshake(port: u16, path: &str) -> Result<(TcpStream, Vec<u8>), String> {
    let op = Duration::from_secs(10);
    let mut stream = step(op, "connect", TcpStream::connect(("127.0.0.1", port))).await?;
    step(op, "request", stream.write_all(&request_head(path))).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..64 {
        let n = step(op, "response", stream.read(&mut buf)).await?;
        if n == 0 {
            return Err("the server closed during the handshake".into());
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            if !got.starts_with(b"HTTP/1.1 101") {
                return Err(format!(
                    "answered {:?}",
                    String::from_utf8_lossy(&got[..end])
                ));
            }
            return Ok((stream, got.split_off(end + 4)));
        }
    }
    Err("no end to the response head".into())
}

/// Reads until the end of the stream (a reset counts as the end too);
/// everything read is appended to `got`.
pub(crate) async fn read_to_end(
    stream: &mut TcpStream,
    got: &mut Vec<u8>,
    limit: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    for _ in 0..10_000 {
        let left = limit.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Ok(()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return Err(format!("the stream was still open after {limit:?}")),
        }
    }
    Err("more reads than the bound".into())
}

/// The frames in bytes a server sent (unmasked): (opcode, payload).
pub(crate) fn frames(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let (mut len, mut head) = (usize::from(bytes[at + 1] & 0x7f), 2);
        if len == 126 {
            if at + 4 > bytes.len() {
                break;
            }
            len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
            head = 4;
        } else if len == 127 {
            if at + 10 > bytes.len() {
                break;
            }
            let mut n = [0u8; 8];
            n.copy_from_slice(&bytes[at + 2..at + 10]);
            len = u64::from_be_bytes(n) as usize;
            head = 10;
        }
        if bytes[at + 1] & 0x80 != 0 {
            head += 4;
        }
        if at + head + len > bytes.len() {
            break;
        }
        out.push((opcode, bytes[at + head..at + head + len].to_vec()));
        at += head + len;
    }
    out
}

/// The first half of a masked binary frame that announces 1,000 bytes.
pub(crate) fn half_a_frame() -> Vec<u8> {
    let mut frame = vec![0x82, 0x80 | 126, 0x03, 0xe8, 0x11, 0x22, 0x33, 0x44];
    frame.extend(std::iter::repeat_n(0x5a, 100));
    frame
}

/// What a server connection saw before it ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    Text(usize),
    Binary(usize),
    Close(u16),
    Other(&'static str),
}

#[derive(Debug)]
pub(crate) struct Ending {
    pub(crate) seen: Vec<Seen>,
    /// How `recv` ended; `None` if it did not within the bound.
    pub(crate) end: Option<DriverError>,
    /// From the end of the handshake to the end.
    pub(crate) after: Duration,
}

/// Accepts, then receives until `recv` fails (each wait at most `limit`).
pub(crate) async fn until_the_end(
    socket: TcpStream,
    config: Config,
    limit: Duration,
) -> Result<Ending, String> {
    let mut ws = accept(socket, config).await?;
    let start = Instant::now();
    let mut seen = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(limit, ws.recv()).await {
            Err(_) => break,
            Ok(Ok(event)) => seen.push(match event {
                Event::Text(t) => Seen::Text(t.len()),
                Event::Binary(b) => Seen::Binary(b.len()),
                Event::Close(c) => Seen::Close(c.code.0),
                other => Seen::Other(other.name()),
            }),
            Ok(Err(e)) => {
                return Ok(Ending {
                    seen,
                    end: Some(e),
                    after: start.elapsed(),
                });
            }
        }
    }
    Ok(Ending {
        seen,
        end: None,
        after: start.elapsed(),
    })
}

pub(crate) fn vanished(served: Served<Result<Ending, String>>) -> Ending {
    assert_eq!(served.accepted, 1);
    let ending = served
        .results
        .into_iter()
        .next()
        .expect("the connection's outcome")
        .expect("the handshake");
    assert!(ending.end.is_some(), "recv did not end: {ending:?}");
    ending
}

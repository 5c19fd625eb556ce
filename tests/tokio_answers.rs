//! `hybi::tokio`'s accept callback, seen from the wire: a raw TCP client
//! sends a request with a path and query, an Origin, cookies, offered
//! subprotocols and extensions; the callback sees each of them, and what it
//! answers (a chosen protocol and a header, or a refusal with its status,
//! headers and body) is what the client reads. Every loop is bounded.
#![cfg(feature = "tokio")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hybi::driver::{Answer, DriverError};
use hybi::tokio::WebSocket;
use hybi::{Config, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::tokio::serve_one;

const REQUEST: &[u8] = b"GET /chat?room=a&x=1 HTTP/1.1\r\n\
    Host: 127.0.0.1\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\
    Origin: http://127.0.0.1\r\n\
    Cookie: theme=dark; session=s3cr3t\r\n\
    Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n\
    Sec-WebSocket-Extensions: x-unknown; level=2\r\n\
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
    \r\n";

/// What the callback saw of the request.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    path: String,
    query: Option<String>,
    origin: Option<String>,
    session: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<String>,
}

fn record(request: &Request<'_>) -> Seen {
    Seen {
        path: request.path().into(),
        query: request.query().map(Into::into),
        origin: request.origin().map(Into::into),
        session: request.cookie("session").map(Into::into),
        protocols: request.protocols().map(Into::into).collect(),
        extensions: request.extensions().map(Into::into).collect(),
    }
}

/// Serves one connection with `answer`, keeping what its callback saw;
/// sends `REQUEST` from a raw client and returns everything it read until
/// the server closed (or the response head, for an upgrade).
async fn exchange(
    answer: fn() -> Answer,
) -> (Seen, Result<WebSocket<TcpStream>, DriverError>, Vec<u8>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (port, server) = {
        let seen = Arc::clone(&seen);
        serve_one(move |socket| async move {
            WebSocket::accept(socket, Config::new(), move |request| {
                *seen.lock().unwrap() = record(request);
                answer()
            })
            .await
        })
        .await
    };
    let mut raw = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    raw.write_all(REQUEST).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..1000 {
        let n = tokio::time::timeout(Duration::from_secs(10), raw.read(&mut buf))
            .await
            .expect("the server answered within 10 s")
            .unwrap();
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        if response.starts_with(b"HTTP/1.1 101") && response.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    let served = server.await.unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (seen, served, response)
}

/// The response's head lines, lowercased, and its body.
fn split_response(response: &[u8]) -> (Vec<String>, Vec<u8>) {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole response head");
    let head = std::str::from_utf8(&response[..end]).unwrap();
    let lines = head.split("\r\n").map(str::to_ascii_lowercase).collect();
    (lines, response[end + 4..].to_vec())
}

fn expected_seen() -> Seen {
    Seen {
        path: "/chat".into(),
        query: Some("room=a&x=1".into()),
        origin: Some("http://127.0.0.1".into()),
        session: Some("s3cr3t".into()),
        protocols: vec!["chat.v2".into(), "chat.v1".into()],
        extensions: vec![
            "x-unknown; level=2".into(),
            "permessage-deflate; client_max_window_bits".into(),
        ],
    }
}

#[tokio::test]
async fn the_callback_sees_the_request_and_its_acceptance_reaches_the_wire() {
    let (seen, served, response) =
        exchange(|| Answer::accept().protocol("chat.v1").header("X-Room", "a")).await;
    assert_eq!(seen, expected_seen());
    let mut ws = served.unwrap();
    assert_eq!(ws.connection_mut().protocol(), Some("chat.v1"));
    let (lines, body) = split_response(&response);
    assert!(lines[0].starts_with("http/1.1 101"), "{lines:?}");
    assert!(
        lines.contains(&"sec-websocket-protocol: chat.v1".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"x-room: a".to_string()), "{lines:?}");
    assert!(body.is_empty(), "{body:?}");
}

#[tokio::test]
async fn a_refusal_reaches_the_wire_with_its_status_headers_and_body() {
    let (seen, served, response) = exchange(|| {
        Answer::reject(401)
            .header("WWW-Authenticate", "Cookie realm=\"chat\"")
            .body("log in first\n")
    })
    .await;
    assert_eq!(seen, expected_seen());
    assert!(
        matches!(served, Err(DriverError::Rejected { status: 401, .. })),
        "{:?}",
        served.map(|_| ())
    );
    let (lines, body) = split_response(&response);
    assert!(lines[0].starts_with("http/1.1 401"), "{lines:?}");
    assert!(
        lines.contains(&"www-authenticate: cookie realm=\"chat\"".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"content-length: 13".to_string()),
        "{lines:?}"
    );
    assert_eq!(body, b"log in first\n");
    assert!(
        !lines.iter().any(|l| l.starts_with("upgrade:")),
        "a refusal upgrades nothing: {lines:?}"
    );
}

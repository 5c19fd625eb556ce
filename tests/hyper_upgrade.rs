//! `examples/hyper_upgrade.rs` on loopback, with real clients: hyper's
//! HTTP/1.1 client on the ordinary routes; hybi's tokio client through
//! hyper's upgrade on `/ws` (subprotocol, text, multi-byte text, a 300 KiB
//! binary, Ping/Pong, the closing handshake with the server ending TCP);
//! raw requests that hybi's checks refuse with the status they name; and
//! over cleartext HTTP/2, an `h2` client opening the WebSocket with
//! extended CONNECT (RFC 8441) and exchanging messages through a hybi
//! connection on each end. Every wait is under a timeout; every loop is
//! bounded.

#[path = "../examples/hyper_upgrade.rs"]
mod hyper_upgrade;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hybi::driver::{ClientOptions, DriverError, OwnedMessage};
use hybi::tokio::WebSocket;
use hybi::{CloseCode, Config, Connection, State, check_connect_response, connect_request_headers};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(10);

/// `future`'s output, or a panic naming `what` after [`LIMIT`].
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(LIMIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: timed out"),
    }
}

/// The example's HTTP/1.1 server on an ephemeral loopback port.
async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(hyper_upgrade::serve(listener));
    addr
}

/// The example's HTTP/2 server on an ephemeral loopback port.
async fn start_h2() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(hyper_upgrade::serve_h2(listener));
    addr
}

#[tokio::test]
async fn ordinary_routes_over_http11() {
    let addr = start().await;
    let tcp = within("connect", TcpStream::connect(addr)).await.unwrap();
    let (mut sender, conn) = within(
        "client handshake",
        hyper::client::conn::http1::handshake(TokioIo::new(tcp)),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let cases = [
        ("/health", 200, "ok"),
        ("/", 200, "hybi behind hyper"),
        ("/nope", 404, "not found"),
    ];
    // One keep-alive connection for every request.
    for (path, status, body) in cases {
        within("ready", sender.ready()).await.unwrap();
        let request = hyper::Request::get(path)
            .header("host", addr.to_string())
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = within(path, sender.send_request(request)).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let got = within("body", response.into_body().collect())
            .await
            .unwrap()
            .to_bytes();
        let got = String::from_utf8(got.to_vec()).unwrap();
        assert!(got.starts_with(body), "{path}: {got:?}");
    }
}

#[tokio::test]
async fn websocket_through_hyper_upgrade() {
    let addr = start().await;
    let url = format!("ws://{addr}/ws");
    let options = ClientOptions {
        protocols: &["other", hyper_upgrade::PROTOCOL],
        ..ClientOptions::default()
    };
    let mut ws = within(
        "connect",
        WebSocket::connect_with(&url, &options, Config::new()),
    )
    .await
    .unwrap();
    assert_eq!(ws.connection_mut().protocol(), Some("chat.v1"));

    for text in ["hello", "héllo wörld ✓ 🦀 — ünïcödé"] {
        within("send", ws.send_text(text)).await.unwrap();
        let echo = within("echo", ws.recv_message()).await.unwrap();
        assert_eq!(echo, OwnedMessage::Text(text.to_string()));
    }

    let big: Vec<u8> = (0..300 << 10).map(|i: u32| (i % 251) as u8).collect();
    within("send binary", ws.send_binary(&big)).await.unwrap();
    let echo = within("binary echo", ws.recv_message()).await.unwrap();
    let OwnedMessage::Binary(data) = echo else {
        panic!("not a binary echo: {echo:?}");
    };
    assert_eq!(data.len(), big.len());
    assert!(data == big, "the 300 KiB echo differs");

    within("ping", ws.send_ping(b"are you there"))
        .await
        .unwrap();
    let pong = within("pong", ws.recv_message()).await.unwrap();
    assert_eq!(pong, OwnedMessage::Pong(b"are you there".to_vec()));

    within("close", ws.close(CloseCode::NORMAL, "bye"))
        .await
        .unwrap();
    assert_eq!(ws.connection().state(), State::Closed);
    // The server closes TCP first (RFC 6455 §7.1.1).
    let mut byte = [0u8; 1];
    let n = within("server's FIN", ws.get_ref().peek(&mut byte))
        .await
        .unwrap();
    assert_eq!(n, 0, "bytes after the closing handshake");
    assert!(matches!(
        within("recv after close", ws.recv()).await,
        Err(DriverError::Closed)
    ));
}

#[tokio::test]
async fn no_subprotocol_when_none_is_offered() {
    let addr = start().await;
    let url = format!("ws://{addr}/ws");
    let mut ws = within("connect", WebSocket::connect(&url, Config::new()))
        .await
        .unwrap();
    assert_eq!(ws.connection_mut().protocol(), None);
    within("send", ws.send_text("plain")).await.unwrap();
    let echo = within("echo", ws.recv_message()).await.unwrap();
    assert_eq!(echo, OwnedMessage::Text("plain".into()));
    within("close", ws.close(CloseCode::NORMAL, ""))
        .await
        .unwrap();
}

/// Sends `request` on a new connection and reads the whole response (the
/// requests ask for `Connection: close`).
async fn raw(addr: SocketAddr, request: &str) -> String {
    let mut tcp = within("connect", TcpStream::connect(addr)).await.unwrap();
    within("write", tcp.write_all(request.as_bytes()))
        .await
        .unwrap();
    let mut response = Vec::new();
    within("read", tcp.read_to_end(&mut response))
        .await
        .unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

fn status_of(response: &str) -> &str {
    response.split(' ').nth(1).unwrap_or("")
}

#[tokio::test]
async fn bad_requests_get_http_errors() {
    let addr = start().await;
    let no_key = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
                  Connection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let response = raw(addr, no_key).await;
    assert_eq!(status_of(&response), "400", "{response}");
    assert!(response.contains("Sec-WebSocket-Key"), "{response}");

    let old_version = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
                       Connection: Upgrade, close\r\nSec-WebSocket-Version: 8\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let response = raw(addr, old_version).await;
    assert_eq!(status_of(&response), "426", "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("\r\nsec-websocket-version: 13\r\n"),
        "{response}"
    );

    let not_an_upgrade = "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let response = raw(addr, not_an_upgrade).await;
    assert_eq!(status_of(&response), "400", "{response}");

    let post = "POST /ws HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\
                Connection: close\r\n\r\n";
    let response = raw(addr, post).await;
    assert_eq!(status_of(&response), "405", "{response}");
    assert!(
        response.to_ascii_lowercase().contains("\r\nallow: get\r\n"),
        "{response}"
    );

    let nope = "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let response = raw(addr, nope).await;
    assert_eq!(status_of(&response), "404", "{response}");
}

/// An HTTP/2 client connection to `addr` once the server's SETTINGS
/// enable extended CONNECT.
async fn h2_client(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = within("connect", TcpStream::connect(addr)).await.unwrap();
    let (client, connection) = within("h2 handshake", h2::client::handshake(tcp))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let client = within("h2 ready", client.ready()).await.unwrap();
    // The server's SETTINGS arrive after the handshake; wait for them.
    for _ in 0..200 {
        if client.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        client.is_extended_connect_protocol_enabled(),
        "SETTINGS_ENABLE_CONNECT_PROTOCOL"
    );
    client
}

/// An extended CONNECT for `:protocol websocket` on `/ws` with `headers`.
fn connect_request(addr: SocketAddr, headers: &[(String, String)]) -> http::Request<()> {
    let mut request = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("http://{addr}/ws"))
        .extension(h2::ext::Protocol::from_static("websocket"));
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    request.body(()).unwrap()
}

/// Sends what `conn` has queued as DATA on the stream.
fn send_queued(conn: &mut Connection, send: &mut h2::SendStream<Bytes>) {
    let out = Bytes::copy_from_slice(conn.transmit());
    conn.advance(out.len());
    if !out.is_empty() {
        send.send_data(out, false).unwrap();
    }
}

/// Feeds the stream's DATA to `conn` until an event other than a Pong
/// comes, releasing the stream's flow-control capacity as it goes.
async fn next_event(conn: &mut Connection, recv: &mut h2::RecvStream) -> String {
    for _ in 0..1000 {
        if let Some(event) = conn.next_event().unwrap() {
            return format!("{event:?}");
        }
        match within("DATA", recv.data()).await {
            Some(data) => {
                let data = data.unwrap();
                recv.flow_control().release_capacity(data.len()).unwrap();
                conn.receive(&data);
            }
            None => conn.receive_eof(),
        }
    }
    panic!("no event after 1000 reads");
}

#[tokio::test]
async fn websocket_over_http2_extended_connect() {
    let addr = start_h2().await;
    let mut client = h2_client(addr).await;
    let config = Config::new();
    let protocols = [hyper_upgrade::PROTOCOL];
    let request = connect_request(addr, &connect_request_headers(&config, &protocols));
    let (response, mut send) = client.send_request(request, false).unwrap();
    let response = within("CONNECT response", response).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers: Vec<(&str, &[u8])> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let negotiated =
        check_connect_response(response.status().as_u16(), &headers, &config, &protocols).unwrap();
    assert_eq!(negotiated.protocol.as_deref(), Some("chat.v1"));
    let mut conn = Connection::client_opened(config, negotiated).unwrap();
    let mut recv = response.into_body();

    for text in ["over HTTP/2", "über h2 ✓ 🦀"] {
        conn.send_text(text).unwrap();
        send_queued(&mut conn, &mut send);
        let event = next_event(&mut conn, &mut recv).await;
        assert_eq!(event, format!("Text({text:?})"));
    }
    conn.send_binary(&[0, 1, 2, 255]).unwrap();
    conn.send_ping(b"h2 ping").unwrap();
    send_queued(&mut conn, &mut send);
    assert_eq!(
        next_event(&mut conn, &mut recv).await,
        "Binary([0, 1, 2, 255])"
    );
    let pong = next_event(&mut conn, &mut recv).await;
    assert!(pong.starts_with("Pong("), "{pong}");

    conn.close(CloseCode::NORMAL, "done").unwrap();
    send_queued(&mut conn, &mut send);
    let close = next_event(&mut conn, &mut recv).await;
    assert!(close.contains("1000"), "{close}");
    assert_eq!(conn.state(), State::Closed);
    // The server ends its half of the stream (END_STREAM stands in for
    // TCP's FIN), an empty DATA frame at most; ours follows.
    for _ in 0..10 {
        match within("END_STREAM", recv.data()).await {
            None => break,
            Some(data) => assert_eq!(data.unwrap(), "", "DATA after the close"),
        }
    }
    assert!(recv.is_end_stream(), "END_STREAM");
    let _ = send.send_data(Bytes::new(), true);
}

#[tokio::test]
async fn bad_extended_connect_gets_the_named_status() {
    let addr = start_h2().await;
    let mut client = h2_client(addr).await;
    // No Sec-WebSocket-Version: 426, with the version the server speaks.
    let request = connect_request(addr, &[]);
    let (response, _send) = client.send_request(request, true).unwrap();
    let response = within("response", response).await.unwrap();
    assert_eq!(response.status(), 426);
    assert_eq!(
        response.headers().get("sec-websocket-version").unwrap(),
        "13"
    );
    // A key belongs to the HTTP/1.1 bootstrap only: 400.
    let mut client = within("ready", client.ready()).await.unwrap();
    let headers = [
        ("sec-websocket-version".to_string(), "13".to_string()),
        (
            "sec-websocket-key".to_string(),
            "dGhlIHNhbXBsZSBub25jZQ==".to_string(),
        ),
    ];
    let request = connect_request(addr, &headers);
    let (response, _send) = client.send_request(request, true).unwrap();
    let response = within("response", response).await.unwrap();
    assert_eq!(response.status(), 400);
}

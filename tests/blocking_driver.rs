//! `hybi::blocking` over loopback TCP: connect and accept with the
//! request's path, query, Origin, cookies and subprotocols; every message
//! kind, fragments and a message above the chunk threshold; ping/pong;
//! close from either side; refusals seen by a real client; the keep-alive
//! and handshake timers; a peer that vanishes; a stream that writes 0.
//! Every loop is bounded and every socket has a read timeout.
#![cfg(feature = "blocking")]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use hybi::blocking::{Untimed, WebSocket};
use hybi::driver::{Answer, ClientOptions, DriverError, OwnedMessage};
use hybi::{CloseCode, Config, Error, Event, HandshakeError, MessageKind};

const ORIGIN: &str = "http://127.0.0.1";

fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// The decision a chat-like server makes: Origin, cookie, subprotocol.
fn decide(request: &hybi::Request<'_>) -> Answer {
    if request.origin() != Some(ORIGIN) {
        return Answer::reject(403).body("origin not allowed\n");
    }
    if request.cookie("session") != Some("s3cret") {
        return Answer::reject(401).body("log in first\n");
    }
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), Some("room=lobby"));
    let mut answer = Answer::accept().header("X-Room", "lobby");
    if request.protocols().any(|p| p == "chat.v1") {
        answer = answer.protocol("chat.v1");
    }
    answer
}

/// Echoes until the peer closes; returns the close code it saw.
fn echo_server(listener: TcpListener, config: Config) -> thread::JoinHandle<Result<u16, String>> {
    thread::spawn(move || {
        let (socket, _) = listener.accept().map_err(|e| e.to_string())?;
        let mut ws = WebSocket::accept(socket, config, decide).map_err(|e| e.to_string())?;
        for _ in 0..10_000 {
            match ws.recv().map_err(|e| e.to_string())? {
                Event::Text(t) => {
                    let t = t.to_owned();
                    ws.send_text(&t)
                }
                Event::Binary(b) => {
                    let b = b.to_vec();
                    ws.send_binary(&b)
                }
                Event::TextChunk { data, last } => {
                    let d = data.as_bytes().to_vec();
                    ws.send_fragment(MessageKind::Text, &d, last)
                }
                Event::BinaryChunk { data, last } => {
                    let d = data.to_vec();
                    ws.send_fragment(MessageKind::Binary, &d, last)
                }
                Event::Close(c) => return Ok(c.code.0),
                _ => Ok(()),
            }
            .map_err(|e| e.to_string())?;
        }
        Err("too many events".into())
    })
}

fn options() -> ClientOptions<'static> {
    ClientOptions {
        protocols: &["chat.v1"],
        headers: &[("Cookie", "theme=dark; session=s3cret")],
        origin: Some(ORIGIN),
    }
}

#[test]
fn every_message_kind_round_trips() {
    let (l, port) = listener();
    let server = echo_server(l, Config::new().chunk_threshold(256 << 10));
    let url = format!("ws://127.0.0.1:{port}/chat?room=lobby");
    let mut ws = WebSocket::connect_with(&url, &options(), Config::new()).unwrap();
    assert_eq!(ws.connection_mut().protocol(), Some("chat.v1"));

    ws.send_text("hello").unwrap();
    assert_eq!(
        ws.recv_message().unwrap(),
        OwnedMessage::Text("hello".into())
    );
    let multi = "żółć ✓ 🎉 ".repeat(500);
    ws.send_text(&multi).unwrap();
    assert_eq!(ws.recv_message().unwrap(), OwnedMessage::Text(multi));
    ws.send_binary(&[0, 1, 2, 255]).unwrap();
    assert!(matches!(ws.recv().unwrap(), Event::Binary(&[0, 1, 2, 255])));
    // Above the server's chunk threshold: it echoes chunks as fragments,
    // and the client joins them.
    let big: Vec<u8> = (0..1_500_000u32).map(|i| (i % 251) as u8).collect();
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv_message().unwrap(), OwnedMessage::Binary(big));
    // A fragmented text message, split inside a character.
    let text = "fragments é".as_bytes();
    ws.send_fragment(MessageKind::Text, &text[..11], false)
        .unwrap();
    ws.send_fragment(MessageKind::Text, &text[11..], false)
        .unwrap();
    ws.send_fragment(MessageKind::Text, b"!", true).unwrap();
    assert_eq!(
        ws.recv_message().unwrap(),
        OwnedMessage::Text("fragments é!".into())
    );
    ws.send_ping(b"are you there").unwrap();
    assert_eq!(
        ws.recv_message().unwrap(),
        OwnedMessage::Pong(b"are you there".to_vec())
    );

    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(matches!(ws.recv(), Err(DriverError::Closed)));
    assert_eq!(server.join().unwrap(), Ok(1000));
}

#[test]
fn refusals_reach_the_client_with_status_and_body() {
    for (origin, cookie, status, body) in [
        (
            "http://evil.example",
            "session=s3cret",
            403,
            "origin not allowed\n",
        ),
        (ORIGIN, "session=wrong", 401, "log in first\n"),
    ] {
        let (l, port) = listener();
        let server = thread::spawn(move || {
            let (socket, _) = l.accept().unwrap();
            WebSocket::accept(socket, Config::new(), decide).map(|_| ())
        });
        let headers = [("Cookie", cookie)];
        let options = ClientOptions {
            headers: &headers,
            origin: Some(origin),
            ..ClientOptions::default()
        };
        let url = format!("ws://127.0.0.1:{port}/chat?room=lobby");
        match WebSocket::connect_with(&url, &options, Config::new()) {
            Err(DriverError::Rejected { status: s, body: b }) => {
                assert_eq!(s, status);
                assert_eq!(b, body.as_bytes());
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        match server.join().unwrap() {
            Err(DriverError::Rejected { status: s, .. }) => assert_eq!(s, status),
            other => panic!("the server reports its refusal: {other:?}"),
        }
    }
}

#[test]
fn the_server_closes_and_the_client_sees_its_code() {
    let (l, port) = listener();
    let server = thread::spawn(move || {
        let (socket, _) = l.accept().unwrap();
        let mut ws = WebSocket::accept(socket, Config::new(), |_| Answer::accept()).unwrap();
        ws.send_text("last words").unwrap();
        ws.close(CloseCode::GOING_AWAY, "shutting down")
    });
    let mut ws = WebSocket::connect(&format!("ws://127.0.0.1:{port}"), Config::new()).unwrap();
    assert!(matches!(ws.recv().unwrap(), Event::Text("last words")));
    match ws.recv().unwrap() {
        Event::Close(c) => assert_eq!((c.code, c.reason), (CloseCode::GOING_AWAY, "shutting down")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(ws.recv(), Err(DriverError::Closed)));
    server.join().unwrap().unwrap();
}

/// A raw client that completes the handshake and then only reads.
fn silent_client(port: u16) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
        assert!(head.len() < 4096);
    }
    (s, head)
}

#[test]
fn a_peer_that_never_answers_pings_is_dropped_by_keepalive() {
    let (l, port) = listener();
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_millis(100)))
        .pong_timeout(Some(Duration::from_millis(200)));
    let server = thread::spawn(move || {
        let (socket, _) = l.accept().unwrap();
        let mut ws = WebSocket::accept(socket, config, |_| Answer::accept()).unwrap();
        loop {
            match ws.recv() {
                Ok(_) => {}
                Err(e) => return e,
            }
        }
    });
    let (mut raw, head) = silent_client(port);
    assert!(head.starts_with(b"HTTP/1.1 101"));
    // The keep-alive Ping arrives, then the Close 1011 after the deadline,
    // then the end of the stream.
    let mut frames = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = raw.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        frames.extend_from_slice(&buf[..n]);
        assert!(frames.len() < 4096);
    }
    assert_eq!(frames[..2], [0x89, 0x00], "an empty Ping first: {frames:?}");
    assert_eq!(frames[2], 0x88, "then a Close: {frames:?}");
    assert_eq!(frames[4..6], [0x03, 0xf3], "with 1011: {frames:?}");
    match server.join().unwrap() {
        DriverError::Ws(Error::PongTimeout) => {}
        other => panic!("{other:?}"),
    }
}

/// A close after a pause longer than the close timeout still waits that
/// timeout for the peer's Close (the engine's deadline starts at the
/// driver's next look at the clock, not at the last one, before the pause).
#[test]
fn a_close_after_a_pause_waits_the_close_timeout() {
    let (l, port) = listener();
    let close_timeout = Duration::from_millis(300);
    let config = Config::new()
        .keepalive_interval(None)
        .close_timeout(Some(close_timeout));
    let server = thread::spawn(move || {
        let (socket, _) = l.accept().unwrap();
        let mut ws = WebSocket::accept(socket, config, |_| Answer::accept()).unwrap();
        // Busy elsewhere: the connection is not looked at.
        thread::sleep(Duration::from_millis(600));
        let start = Instant::now();
        let closed = ws.close(CloseCode::NORMAL, "");
        (closed, start.elapsed())
    });
    let (mut raw, head) = silent_client(port);
    assert!(head.starts_with(b"HTTP/1.1 101"));
    // The client reads the Close and never answers; it keeps TCP open
    // until the server's side ends.
    let mut frames = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = raw.read(&mut buf) {
        if n == 0 {
            break;
        }
        frames.extend_from_slice(&buf[..n]);
        assert!(frames.len() < 4096);
    }
    let (closed, took) = server.join().unwrap();
    closed.unwrap();
    assert_eq!(frames[..2], [0x88, 0x02], "our Close: {frames:?}");
    assert!(
        took >= close_timeout,
        "close ended after {took:?}, before the {close_timeout:?} close timeout"
    );
    assert!(took < Duration::from_secs(5), "close took {took:?}");
}

#[test]
fn a_slow_handshake_times_out() {
    let (l, port) = listener();
    let server = thread::spawn(move || {
        let (socket, _) = l.accept().unwrap();
        let config = Config::new().handshake_timeout(Some(Duration::from_millis(200)));
        WebSocket::accept(socket, config, |_| Answer::accept()).map(|_| ())
    });
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\nHost: 12").unwrap();
    match server.join().unwrap() {
        Err(DriverError::Ws(Error::Handshake(HandshakeError::Timeout))) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_peer_that_vanishes_mid_message_is_an_abnormal_close() {
    let (l, port) = listener();
    let server = thread::spawn(move || {
        let (socket, _) = l.accept().unwrap();
        let mut ws = WebSocket::accept(socket, Config::new(), |_| Answer::accept()).unwrap();
        let first = match ws.recv().unwrap() {
            Event::Close(c) => c.code,
            other => panic!("{other:?}"),
        };
        (first, matches!(ws.recv(), Err(DriverError::Closed)))
    });
    let (mut raw, _) = silent_client(port);
    // Half of a masked 100-byte text frame, then gone.
    raw.write_all(&[0x81, 0xe4, 1, 2, 3, 4, b'a', b'b'])
        .unwrap();
    drop(raw);
    assert_eq!(server.join().unwrap(), (CloseCode::ABNORMAL, true));
}

/// A stream whose writes return 0: the driver reports `WriteZero` instead
/// of looping.
#[test]
fn a_stream_that_writes_nothing_is_an_error_not_a_loop() {
    #[derive(Debug)]
    struct Stuck;
    impl Read for Stuck {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Ok(0)
        }
    }
    impl Write for Stuck {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Ok(0)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let request = hybi::ClientRequest::new("127.0.0.1", "/");
    match WebSocket::client(Untimed(Stuck), request, Config::new()) {
        Err(DriverError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::WriteZero),
        other => panic!("{other:?}"),
    }
}

/// A protocol error from the peer: the driver sends the Close frame (1002)
/// before returning the error.
#[test]
fn a_protocol_error_sends_its_close_first() {
    let (l, port) = listener();
    let server = thread::spawn(move || {
        let (socket, _) = l.accept().unwrap();
        let mut ws = WebSocket::accept(socket, Config::new(), |_| Answer::accept()).unwrap();
        ws.recv().map(|_| ()).unwrap_err()
    });
    let (mut raw, _) = silent_client(port);
    raw.write_all(&[0x81, 0x02, b'h', b'i']).unwrap(); // unmasked
    let mut got = [0u8; 4];
    raw.read_exact(&mut got).unwrap();
    assert_eq!(got, [0x88, 0x02, 0x03, 0xea]);
    assert!(matches!(
        server.join().unwrap(),
        DriverError::Ws(Error::Protocol(_))
    ));
}

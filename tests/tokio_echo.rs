//! `examples/tokio_echo.rs`, the sans-IO loop under tokio, served on
//! loopback and driven by a blocking hybi client: a text, a 2 MiB binary
//! (delivered in chunks and echoed as fragments), a Ping, and the closing
//! handshake. Also checks that docs/design.md shows the loop as it is.

mod common;

#[path = "../examples/tokio_echo.rs"]
#[allow(dead_code)]
mod tokio_echo;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use hybi::{ClientRequest, CloseCode, Config, Connection, Event};

#[test]
fn design_md_shows_the_example_loop() {
    let example = common::marked(include_str!("../examples/tokio_echo.rs"), "SERVE");
    let lines = example.lines().count();
    assert!(lines <= 35, "the loop is {lines} lines");
    let design = include_str!("../docs/design.md");
    assert!(
        design.contains(example),
        "docs/design.md must show examples/tokio_echo.rs's loop as it is"
    );
}

fn client_round_trip(port: u16) -> (String, Vec<u8>, Vec<u8>, Option<CloseCode>) {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut conn = Connection::client(ClientRequest::new("127.0.0.1", "/"), Config::new()).unwrap();
    let big: Vec<u8> = (0..2u32 << 20).map(|i| (i % 251) as u8).collect();
    let (mut text, mut binary, mut pong, mut code) = (String::new(), Vec::new(), Vec::new(), None);
    let mut sent = false;
    let mut buf = vec![0u8; 64 << 10];
    // Bounded: at most this many reads, far more than the exchange needs.
    for _ in 0..10_000 {
        conn.write_to(&mut socket).unwrap();
        if conn.close_expected() {
            break;
        }
        let n = socket.read(&mut buf).unwrap();
        if n == 0 {
            conn.receive_eof();
        } else {
            conn.receive(&buf[..n]);
        }
        let mut open = false;
        while let Some(event) = conn.next_event().unwrap() {
            match event {
                Event::HandshakeResponse(_) => open = true,
                Event::Text(t) => text.push_str(t),
                Event::Binary(b) => binary.extend_from_slice(b),
                Event::BinaryChunk { data, .. } => binary.extend_from_slice(data),
                Event::Pong(p) => pong.extend_from_slice(p),
                Event::Close(frame) => code = Some(frame.code),
                other => panic!("unexpected {other:?}"),
            }
        }
        if open && !sent {
            sent = true;
            conn.send_text("héllo").unwrap();
            conn.send_binary(&big).unwrap();
            conn.send_ping(b"are you there").unwrap();
        }
        if sent && binary.len() == big.len() && !pong.is_empty() && code.is_none() {
            let _ = conn.close(CloseCode::NORMAL, "bye");
        }
        if n == 0 {
            break;
        }
    }
    assert!(
        binary == big,
        "the 2 MiB echo differs ({} bytes)",
        binary.len()
    );
    socket.flush().unwrap();
    (text, binary, pong, code)
}

#[test]
fn the_tokio_loop_echoes_over_loopback() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = std::thread::spawn(move || client_round_trip(port));
    let served = runtime.block_on(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), tokio_echo::serve(socket)).await
    });
    let (text, _, pong, code) = client.join().unwrap();
    assert!(matches!(served, Ok(Ok(()))), "{served:?}");
    assert_eq!(text, "héllo");
    assert_eq!(pong, b"are you there");
    assert_eq!(code, Some(CloseCode::NORMAL));
}

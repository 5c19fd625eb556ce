//! The README's echo loop, run as written: this file holds the same code as
//! the README's block (a test checks the text is identical), driven over an
//! in-memory socket with a 2 MiB message, a plain GET, an unmasked frame and
//! invalid UTF-8. Each must leave the right bytes on the wire: the echo, the
//! HTTP 400, the Close 1002 and the Close 1007.

mod common;

#[rustfmt::skip]
#[allow(dead_code)]
mod readme {
// README-BEGIN
use hybi::{Accept, Config, Connection, Error, Event, MessageKind};
use std::io::{Read, Write};

/// Serves one connection: echoes every message until the peer closes.
pub fn serve(mut socket: impl Read + Write) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = Connection::server(Config::new());
    loop {
        let n = socket.read(conn.read_buf())?;
        if n == 0 { conn.receive_eof() } else { conn.commit(n) }
        let echoed = echo(&mut conn);
        conn.write_to(&mut socket)?; // replies, and an error's 400 or Close, go out first
        echoed?;
        if conn.close_expected() || n == 0 { return Ok(()) }
    }
}

/// Answers every event decoded so far.
fn echo(conn: &mut Connection) -> Result<(), Error> {
    let (mut inbound, mut outbound) = conn.split();
    while let Some(event) = inbound.next_event()? {
        match event {
            Event::HandshakeRequest(request) => outbound.accept(&request, Accept::new())?,
            Event::Text(text) => outbound.send_text(text)?,
            Event::Binary(data) => outbound.send_binary(data)?,
            // Messages above `chunk_threshold` (1 MiB) arrive in chunks.
            Event::TextChunk { data, last } => outbound.send_fragment(MessageKind::Text, data.as_bytes(), last)?,
            Event::BinaryChunk { data, last } => outbound.send_fragment(MessageKind::Binary, data, last)?,
            _ => {} // Ping, Pong, Close: the engine already queued the replies
        }
    }
    Ok(())
}
// README-END
}

use common::{REQUEST, client_frame, new_client, response_for};
use hybi::frame::Opcode;
use hybi::{CloseCode, Config, Event, HandshakeError, ProtocolError};
use std::io::{Cursor, Read, Write};

#[test]
fn the_readme_block_is_this_code() {
    let readme = include_str!("../README.md");
    let block = common::block_after(readme, "## The echo loop", "```rust");
    let this = include_str!("readme_loop.rs");
    assert_eq!(common::marked(this, "README"), block);
}

/// A socket over fixed input: reads come in pieces of at most 64 KiB, then
/// end of stream; writes are collected.
struct Socket {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(64 << 10);
        self.input.read(&mut buf[..n])
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Partial writes, as a socket makes them.
        let n = buf.len().min(10_000);
        self.output.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(input: Vec<u8>) -> (Result<(), String>, Vec<u8>) {
    let mut socket = Socket {
        input: Cursor::new(input),
        output: Vec::new(),
    };
    let result = readme::serve(&mut socket).map_err(|e| e.to_string());
    (result, socket.output)
}

/// The request a real client sends, and a client to decode the answer.
fn client_and_request() -> (hybi::Connection, Vec<u8>) {
    let mut client = new_client(Config::new(), 3);
    let request = client.transmit().to_vec();
    client.advance(request.len());
    (client, request)
}

#[test]
fn a_2_mib_message_comes_back_whole() {
    let (mut client, mut input) = client_and_request();
    let message: Vec<u8> = (0..2u32 << 20).map(|i| (i % 253) as u8).collect();
    // What the client would send once open, after the request.
    let mut peer = new_client(Config::new(), 4);
    let request = peer.transmit().to_vec();
    peer.advance(request.len());
    peer.receive(&response_for(&request));
    assert!(matches!(
        peer.next_event(),
        Ok(Some(Event::HandshakeResponse(_)))
    ));
    peer.send_binary(&message).unwrap();
    peer.close(CloseCode::NORMAL, "done").unwrap();
    input.extend_from_slice(peer.transmit());

    let (result, output) = run(input);
    assert_eq!(result, Ok(()));
    client.receive(&output);
    let mut echoed = Vec::new();
    let mut closed = None;
    while let Some(event) = client.next_event().unwrap() {
        match event {
            Event::HandshakeResponse(r) => assert_eq!(r.status(), 101),
            Event::Binary(data) => echoed.extend_from_slice(data),
            Event::BinaryChunk { data, .. } => echoed.extend_from_slice(data),
            Event::Close(frame) => closed = Some(frame.code),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(echoed.len(), message.len());
    assert!(echoed == message, "the echo differs");
    assert_eq!(closed, Some(CloseCode::NORMAL));
}

#[test]
fn a_plain_get_is_answered_400() {
    let (result, output) = run(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec());
    let expected = hybi::Error::Handshake(HandshakeError::MissingUpgrade).to_string();
    assert_eq!(result, Err(expected));
    assert!(
        output.starts_with(b"HTTP/1.1 400 Bad Request\r\n"),
        "{}",
        String::from_utf8_lossy(&output)
    );
}

/// Runs a valid request followed by `frames`; returns the result and what
/// came after the 101.
fn after_101(frames: &[u8]) -> (Result<(), String>, Vec<u8>) {
    let mut input = REQUEST.to_vec();
    input.extend_from_slice(frames);
    let (result, output) = run(input);
    assert!(output.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    let head = output.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (result, output[head..].to_vec())
}

#[test]
fn an_unmasked_frame_is_answered_with_close_1002() {
    let mut frame = vec![0x81, 0x02];
    frame.extend_from_slice(b"hi");
    let (result, wire) = after_101(&frame);
    let expected = hybi::Error::Protocol(ProtocolError::UnmaskedClientFrame).to_string();
    assert_eq!(result, Err(expected));
    assert_eq!(wire, [0x88, 0x02, 0x03, 0xea]);
}

#[test]
fn invalid_utf8_is_answered_with_close_1007() {
    let (result, wire) = after_101(&client_frame(true, Opcode::Text, &[b'o', b'k', 0xff]));
    let expected = hybi::Error::Protocol(ProtocolError::InvalidUtf8).to_string();
    assert_eq!(result, Err(expected));
    assert_eq!(wire, [0x88, 0x02, 0x03, 0xef]);
}

//! Checks a WebSocket echo server from hybi's client side: sends text,
//! multi-byte text, binary, 1 MiB messages and a fragmented message, and
//! checks every echo, then closes with 1000.
//!
//! ```sh
//! cargo run --release --features deflate --example echo_client -- ws://127.0.0.1:9001/
//! cargo run --release --features deflate --example echo_client -- ws://127.0.0.1:9001/ --no-deflate
//! ```
//!
//! With the `deflate` feature it offers permessage-deflate and prints the
//! server's answer. One line per check; exits non-zero on any failure.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use hybi::{ClientRequest, CloseCode, Config, Connection, Event, MessageKind, WsUrl};

/// A message as sent and as echoed.
#[derive(Debug, PartialEq, Eq)]
enum Message {
    Text(String),
    Binary(Vec<u8>),
}

/// Reads until `want` messages have been received, or the connection ends.
fn pump(
    conn: &mut Connection,
    stream: &mut TcpStream,
    got: &mut Vec<Message>,
    want: usize,
) -> io::Result<()> {
    let mut text = String::new();
    let mut binary = Vec::new();
    while got.len() < want {
        conn.write_to(stream)?;
        let n = stream.read(conn.read_buf())?;
        if n == 0 {
            conn.receive_eof();
        } else {
            conn.commit(n);
        }
        while let Some(event) = conn.next_event().map_err(io::Error::other)? {
            match event {
                Event::Text(t) => got.push(Message::Text(t.to_string())),
                Event::Binary(b) => got.push(Message::Binary(b.to_vec())),
                Event::TextChunk { data, last } => {
                    text.push_str(data);
                    if last {
                        got.push(Message::Text(std::mem::take(&mut text)));
                    }
                }
                Event::BinaryChunk { data, last } => {
                    binary.extend_from_slice(data);
                    if last {
                        got.push(Message::Binary(std::mem::take(&mut binary)));
                    }
                }
                Event::Close(frame) => {
                    println!("closed by the server: {}", frame.code);
                    return Ok(());
                }
                _ => {}
            }
        }
        if n == 0 {
            return Ok(());
        }
    }
    Ok(())
}

/// Deterministic bytes that do not compress (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    let deflate = !args.iter().any(|a| a == "--no-deflate");
    let url = WsUrl::parse(&base)?;
    let mut stream = TcpStream::connect((url.host(), url.port()))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    #[allow(unused_mut)]
    let mut config = Config::new();
    #[cfg(feature = "deflate")]
    if deflate {
        config = config.deflate(hybi::DeflateConfig::new());
    }
    #[cfg(not(feature = "deflate"))]
    let _ = deflate;
    let target = url.target();
    let mut conn = Connection::client(ClientRequest::new(url.host_header(), &target), config)?;
    let mut got = Vec::new();
    // The handshake: read until the connection is open.
    while conn.state() == hybi::State::AwaitingResponse {
        conn.write_to(&mut stream)?;
        let n = stream.read(conn.read_buf())?;
        if n == 0 {
            return Err("the server closed during the handshake".into());
        }
        conn.commit(n);
        while let Some(event) = conn.next_event()? {
            if let Event::HandshakeResponse(response) = event {
                let ext: Vec<&str> = response.extensions().collect();
                println!(
                    "negotiated: Sec-WebSocket-Extensions: {}",
                    if ext.is_empty() {
                        "(none)".into()
                    } else {
                        ext.join(", ")
                    }
                );
            }
        }
    }
    let json = "{\"type\":\"ticker\",\"price\":\"60001.25\",\"size\":\"0.5\"}".repeat(30);
    let cases: Vec<(&str, Message)> = vec![
        ("text", Message::Text("hello".into())),
        ("JSON text", Message::Text(json)),
        ("multi-byte text", Message::Text("κόσμε ✓ 😀 ".repeat(500))),
        ("binary", Message::Binary(noise(1000))),
        ("1 MiB text", Message::Text("€uro-".repeat(209_715))),
        (
            "1 MiB binary (incompressible)",
            Message::Binary(noise(1 << 20)),
        ),
    ];
    let mut failures = 0;
    for (name, message) in &cases {
        match message {
            Message::Text(t) => conn.send_text(t)?,
            Message::Binary(b) => conn.send_binary(b)?,
        }
        pump(&mut conn, &mut stream, &mut got, 1)?;
        let ok = got.pop().as_ref() == Some(message);
        println!("{} {name} echo", if ok { "ok  " } else { "FAIL" });
        failures += usize::from(!ok);
    }
    let fragmented = "fragmented ✓ ".repeat(3000);
    let pieces: Vec<&[u8]> = fragmented.as_bytes().chunks(10_000).collect();
    for (i, piece) in pieces.iter().enumerate() {
        conn.send_fragment(MessageKind::Text, piece, i + 1 == pieces.len())?;
    }
    pump(&mut conn, &mut stream, &mut got, 1)?;
    let ok = got.pop() == Some(Message::Text(fragmented));
    println!("{} fragmented text echo", if ok { "ok  " } else { "FAIL" });
    failures += usize::from(!ok);
    conn.close(CloseCode::NORMAL, "bye")?;
    conn.write_to(&mut stream)?;
    pump(&mut conn, &mut stream, &mut got, usize::MAX)?;
    let clean = conn.state() == hybi::State::Closed;
    println!("{} clean close", if clean { "ok  " } else { "FAIL" });
    failures += usize::from(!clean);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
    let total = cases.len() + 2;
    println!(
        "echo_client: {} passed, {failures} failed",
        total - failures
    );
    if failures > 0 {
        return Err(format!("{failures} checks failed").into());
    }
    Ok(())
}

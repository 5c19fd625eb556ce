//! Inputs and drivers shared by the benchmarks: open connections, encoded
//! message streams, and feeding through 64 KiB read copies as a socket would.
#![allow(dead_code)]

use hybi::frame::Opcode;
use hybi::frame::encode::encode_frame;
use hybi::{Config, Connection, Event};

/// Size of each simulated socket read.
pub const READ: usize = 64 << 10;

/// A typical browser upgrade request.
pub const BROWSER_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com:8000\r\n\
Connection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\nOrigin: http://example.com:8000\r\nSec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

/// A server past its handshake, opened the shared way (`hybi::testing`).
pub fn open_server(config: Config) -> Connection {
    hybi::testing::open_server(config)
}

/// A client past its handshake, masking with the production source (what
/// `Connection::client` uses), opened the shared way (`hybi::testing`).
pub fn open_client(config: Config) -> Connection {
    hybi::testing::open_client(
        config,
        Box::new(hybi::ChaChaRandom::from_os().expect("OS entropy")),
    )
}

/// ASCII text of `len` bytes.
pub fn ascii(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Multi-byte UTF-8 text (2-, 3- and 4-byte characters) of exactly `len` bytes.
pub fn multibyte(len: usize) -> Vec<u8> {
    let pattern = "héllo wörld κόσμε € 😀 ".as_bytes();
    let mut out: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
    // Trim to a character boundary, then pad with ASCII.
    while std::str::from_utf8(&out).is_err() {
        out.pop();
    }
    out.resize(len, b'.');
    out
}

/// `count` messages with `payload` as frames: masked (client → server) or
/// not, each split into `fragments` frames.
pub fn stream(
    payload: &[u8],
    opcode: Opcode,
    masked: bool,
    fragments: usize,
    count: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity((payload.len() + 14 * fragments) * count);
    let piece = payload.len().div_ceil(fragments.max(1)).max(1);
    for i in 0..count {
        let mask = masked.then_some([0x37, 0xfa, 0x21, i as u8]);
        let pieces: Vec<&[u8]> = if payload.is_empty() {
            vec![&[][..]]
        } else {
            payload.chunks(piece).collect()
        };
        for (j, p) in pieces.iter().enumerate() {
            let op = if j == 0 { opcode } else { Opcode::Continuation };
            encode_frame(&mut out, j + 1 == pieces.len(), op, mask, p);
        }
    }
    out
}

/// How many messages of `len` bytes make a stream of about 1 MiB (at least 1).
pub fn count_for(len: usize) -> usize {
    ((1 << 20) / len.max(1)).max(1)
}

/// Feeds `input` through `READ`-sized copies into `conn` (the read door a
/// socket would use), draining events; returns payload bytes seen.
pub fn feed(conn: &mut Connection, input: &[u8]) -> usize {
    let mut seen = 0;
    for piece in input.chunks(READ) {
        let mut rest = piece;
        while !rest.is_empty() {
            let buf = conn.read_buf();
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            conn.commit(n);
            rest = &rest[n..];
            while let Some(event) = conn.next_event().unwrap() {
                seen += match event {
                    Event::Text(t) => t.len(),
                    Event::Binary(b) => b.len(),
                    Event::TextChunk { data, .. } => data.len(),
                    Event::BinaryChunk { data, .. } => data.len(),
                    _ => 0,
                };
            }
        }
    }
    seen
}

/// The same copies into a plain buffer: the floor any receiver pays.
pub fn memcpy(dst: &mut [u8], input: &[u8]) -> usize {
    for piece in input.chunks(READ) {
        dst[..piece.len()].copy_from_slice(piece);
        std::hint::black_box(&dst[..piece.len()]);
    }
    input.len()
}

/// A ticker update like an exchange feed's, about 200 bytes.
pub fn ticker(i: usize) -> String {
    format!(
        "{{\"type\":\"ticker\",\"sequence\":{},\"product_id\":\"BTC-USD\",\"price\":\"{}.{:02}\",\
\"open_24h\":\"60112.01\",\"volume_24h\":\"{}.{:04}\",\"best_bid\":\"{}.00\",\"best_ask\":\"{}.01\",\
\"side\":\"{}\",\"time\":\"2026-12-01T12:{:02}:{:02}.{:06}Z\",\"trade_id\":{},\"last_size\":\"0.00{}\"}}",
        90_000_000 + i,
        60_000 + i % 97,
        i % 100,
        10_000 + i % 1000,
        i % 10_000,
        60_000 + i % 89,
        60_000 + i % 89,
        if i % 2 == 0 { "buy" } else { "sell" },
        (i / 60) % 60,
        i % 60,
        (i * 7919) % 1_000_000,
        500_000_000 + i,
        i % 1000
    )
}

/// An order-book snapshot of about 16 KiB.
pub fn snapshot(i: usize) -> String {
    let mut s =
        format!("{{\"type\":\"snapshot\",\"product_id\":\"BTC-USD\",\"sequence\":{i},\"bids\":[");
    let mut level = 0;
    while s.len() < 16 << 10 {
        if level > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "[\"{}.{:02}\",\"{}.{:08}\"]",
            60_000 - level,
            (i + level * 37) % 100,
            level % 7,
            (i * 31 + level * 104_729) % 100_000_000
        ));
        level += 1;
    }
    s.push_str("]}");
    s
}

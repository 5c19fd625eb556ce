//! `event_ready` stages an event without lending it: a receive loop that
//! asks it before `next_event` sees exactly the events a plain drain loop
//! sees, whatever the read sizes and whatever calls come in between
//! (more bytes, `shrink_buffers`, sends), so a driver can return the
//! borrowed event to its caller.

use hybi::frame::Opcode;
use hybi::frame::encode::encode_frame;
use hybi::{Config, Connection, Event};

const MASK: [u8; 4] = [0x9a, 0x01, 0x7e, 0x33];

/// A masked client stream: small and large messages, text (ASCII and
/// multi-byte) and binary, fragments with a Ping between them, a message
/// above the chunk threshold, and a Close.
fn wire() -> Vec<u8> {
    let mut w = Vec::new();
    let frame =
        |w: &mut Vec<u8>, fin, op, payload: &[u8]| encode_frame(w, fin, op, Some(MASK), payload);
    frame(&mut w, true, Opcode::Text, b"hello");
    frame(&mut w, true, Opcode::Binary, &[0, 1, 2, 255]);
    frame(
        &mut w,
        true,
        Opcode::Text,
        "déjà vu ✓ ".repeat(100).as_bytes(),
    );
    frame(&mut w, true, Opcode::Binary, &vec![7u8; 64 << 10]);
    frame(&mut w, false, Opcode::Text, "fragmented ".as_bytes());
    frame(&mut w, true, Opcode::Ping, b"are you there");
    frame(
        &mut w,
        false,
        Opcode::Continuation,
        "text with ü".as_bytes(),
    );
    frame(&mut w, true, Opcode::Continuation, b" ends here");
    // Above the threshold used below: arrives in chunks.
    let big: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    frame(&mut w, true, Opcode::Text, &big);
    frame(&mut w, true, Opcode::Pong, b"");
    frame(&mut w, true, Opcode::Text, b"");
    frame(&mut w, true, Opcode::Close, &[0x03, 0xe8, b'b', b'y', b'e']);
    w
}

fn config() -> Config {
    Config::new().chunk_threshold(100_000)
}

/// An event as text, payload included (chunks joined by the caller).
fn describe(event: &Event<'_>) -> String {
    match event {
        Event::Text(t) => format!("text {t:?}"),
        Event::Binary(b) => format!("binary {b:?}"),
        Event::TextChunk { data, last } => format!("text-chunk {last} {data:?}"),
        Event::BinaryChunk { data, last } => format!("binary-chunk {last} {data:?}"),
        Event::Ping(p) => format!("ping {p:?}"),
        Event::Pong(p) => format!("pong {p:?}"),
        Event::Close(c) => format!("close {} {:?}", c.code.0, c.reason),
        other => other.name().to_owned(),
    }
}

/// The reference: feed a piece, drain `next_event`.
fn drained(wire: &[u8], piece: usize) -> Vec<String> {
    let mut conn = hybi::testing::open_server(config());
    let mut seen = Vec::new();
    for chunk in wire.chunks(piece) {
        conn.receive(chunk);
        while let Some(event) = conn.next_event().unwrap() {
            seen.push(describe(&event));
        }
    }
    seen
}

/// The shape a driver's `recv` has: ask `event_ready`, read until it says
/// yes, return the borrowed event.
fn recv<'c>(conn: &'c mut Connection, wire: &mut &[u8], piece: usize) -> Option<Event<'c>> {
    while !conn.event_ready().unwrap() {
        if wire.is_empty() {
            return None;
        }
        let n = piece.min(wire.len());
        conn.receive(&wire[..n]);
        *wire = &wire[n..];
    }
    conn.next_event().unwrap()
}

#[test]
fn a_staging_loop_sees_what_a_drain_loop_sees() {
    let wire = wire();
    for piece in [1, 7, 125, 4096, 65_536, wire.len()] {
        let expected = drained(&wire, piece);
        assert!(expected.len() >= 12, "{piece}: {}", expected.len());
        let mut conn = hybi::testing::open_server(config());
        let mut rest = &wire[..];
        let mut seen = Vec::new();
        while let Some(event) = recv(&mut conn, &mut rest, piece) {
            seen.push(describe(&event));
        }
        assert_eq!(seen, expected, "piece {piece}");
    }
}

/// Between `event_ready` saying yes and `next_event`, the caller may feed
/// more bytes (the buffer may compact or grow), shrink buffers or send:
/// the staged event comes out intact, once.
#[test]
fn a_staged_event_survives_calls_in_between() {
    let wire = wire();
    for piece in [3, 500, 9000] {
        let expected = drained(&wire, piece);
        let mut conn = hybi::testing::open_server(config());
        let mut rest = &wire[..];
        let mut seen = Vec::new();
        let mut round = 0;
        loop {
            let mut ready = conn.event_ready().unwrap();
            while !ready && !rest.is_empty() {
                let n = piece.min(rest.len());
                conn.receive(&rest[..n]);
                rest = &rest[n..];
                ready = conn.event_ready().unwrap();
            }
            if !ready {
                break;
            }
            round += 1;
            // Calls a driver may make while the event is staged.
            assert!(conn.event_ready().unwrap(), "asking again changes nothing");
            match round % 3 {
                0 if !rest.is_empty() => {
                    let n = piece.min(rest.len());
                    conn.receive(&rest[..n]);
                    rest = &rest[n..];
                }
                1 => conn.shrink_buffers(),
                _ => {
                    let _ = conn.send_text("meanwhile");
                }
            }
            let event = conn.next_event().unwrap().expect("the staged event");
            seen.push(describe(&event));
        }
        assert_eq!(seen, expected, "piece {piece}");
    }
}

/// Reading into `read_buf` while an event is staged keeps it too (the
/// buffer may move its live bytes to make room).
#[test]
fn read_buf_and_commit_keep_a_staged_event() {
    let mut wire = Vec::new();
    for i in 0..200u32 {
        let text = format!("message {i} {}", "x".repeat((i as usize * 37) % 3000));
        encode_frame(&mut wire, true, Opcode::Text, Some(MASK), text.as_bytes());
    }
    let expected = drained(&wire, 1000);
    let mut conn = hybi::testing::open_server(config().read_buf_size(256));
    let mut rest = &wire[..];
    let mut seen = Vec::new();
    loop {
        let ready = conn.event_ready().unwrap();
        // Read whether or not an event is staged.
        if !rest.is_empty() {
            let buf = conn.read_buf();
            let n = buf.len().min(rest.len()).min(1000);
            buf[..n].copy_from_slice(&rest[..n]);
            conn.commit(n);
            rest = &rest[n..];
        }
        if ready {
            let event = conn.next_event().unwrap().expect("staged");
            seen.push(describe(&event));
        } else if rest.is_empty() && !conn.event_ready().unwrap() {
            break;
        }
    }
    assert_eq!(seen, expected);
}

/// With every byte decoded, `event_ready` says no until something comes:
/// more bytes, or the end of the stream, which it stages as a Close 1006
/// (between messages and after one, with the buffer empty).
#[test]
fn an_empty_buffer_waits_for_bytes_or_the_end() {
    let mut conn = hybi::testing::open_server(Config::new());
    assert!(!conn.event_ready().unwrap(), "nothing came");
    assert!(!conn.event_ready().unwrap(), "asked again");
    let mut wire = Vec::new();
    encode_frame(&mut wire, true, Opcode::Binary, Some(MASK), b"one");
    conn.receive(&wire);
    assert!(conn.event_ready().unwrap());
    assert_eq!(
        describe(&conn.next_event().unwrap().unwrap()),
        "binary [111, 110, 101]"
    );
    assert!(!conn.event_ready().unwrap(), "all of it was decoded");
    conn.receive_eof();
    assert!(
        conn.event_ready().unwrap(),
        "the end of the stream is an event"
    );
    assert_eq!(
        describe(&conn.next_event().unwrap().unwrap()),
        "close 1006 \"\""
    );
    assert!(conn.next_event().unwrap().is_none());
}

/// An error found while staging is returned by `event_ready` (and then by
/// every call), as `next_event` would.
#[test]
fn errors_come_from_event_ready() {
    let mut conn = hybi::testing::open_server(Config::new());
    let mut wire = Vec::new();
    encode_frame(&mut wire, true, Opcode::Text, None, b"unmasked");
    conn.receive(&wire);
    let error = conn.event_ready().unwrap_err();
    assert_eq!(error.close_code().map(|c| c.0), Some(1002));
    assert_eq!(conn.next_event().unwrap_err(), error);
}

/// Invalid UTF-8 in a small message (which the one-step path checks only
/// when the event is made) is found by `event_ready` itself, so
/// `next_event` on a staged event never fails.
#[test]
fn invalid_text_fails_at_event_ready() {
    for payload in [
        &[0xff, 0xfe][..],
        "é".repeat(40).as_bytes().split_last().unwrap().1,
    ] {
        let mut conn = hybi::testing::open_server(Config::new());
        let mut wire = Vec::new();
        encode_frame(&mut wire, true, Opcode::Text, Some(MASK), payload);
        conn.receive(&wire);
        let error = conn.event_ready().unwrap_err();
        assert_eq!(error.close_code().map(|c| c.0), Some(1007));
        assert_eq!(conn.next_event().unwrap_err(), error);
        assert!(
            conn.transmit().starts_with(&[0x88, 0x02, 0x03, 0xef]),
            "Close 1007 queued"
        );
    }
}

/// Compressed messages (permessage-deflate) are staged from the
/// inflater's buffer the same way.
#[test]
#[cfg(feature = "deflate")]
fn compressed_messages_stage_too() {
    // RFC 7692 §7.2.3.1: "Hello", compressed.
    const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let mut wire = Vec::new();
    for i in 0..50 {
        let start = wire.len();
        if i % 3 == 0 {
            // Fragmented: the compressed bytes split over two frames.
            encode_frame(&mut wire, false, Opcode::Text, Some(MASK), &HELLO[..3]);
            wire[start] |= 0x40;
            encode_frame(&mut wire, true, Opcode::Ping, Some(MASK), b"p");
            encode_frame(
                &mut wire,
                true,
                Opcode::Continuation,
                Some(MASK),
                &HELLO[3..],
            );
        } else {
            encode_frame(&mut wire, true, Opcode::Text, Some(MASK), &HELLO);
            wire[start] |= 0x40;
        }
    }
    let server =
        || hybi::testing::open_server_deflate(Config::new().deflate(hybi::DeflateConfig::new()));
    for piece in [1, 5, 64, wire.len()] {
        let mut plain = server();
        let mut expected = Vec::new();
        for chunk in wire.chunks(piece) {
            plain.receive(chunk);
            while let Some(event) = plain.next_event().unwrap() {
                expected.push(describe(&event));
            }
        }
        assert_eq!(
            expected.iter().filter(|e| *e == "text \"Hello\"").count(),
            50
        );
        let mut conn = server();
        assert!(conn.deflate().is_some());
        let mut rest = &wire[..];
        let mut seen = Vec::new();
        while let Some(event) = recv(&mut conn, &mut rest, piece) {
            seen.push(describe(&event));
        }
        assert_eq!(seen, expected, "piece {piece}");
    }
}

//! The RFC 6455 examples, decoded by the engine: §5.7 (frames) and §1.3 (the
//! accept key). Every vector is fed whole, byte by byte and at random splits
//! (`assert_split_invariant`), and the replies the engine owes (Pongs) are
//! checked byte for byte where the role makes them predictable.

mod common;

use common::*;
use hybi::{AcceptKey, Config, State};

/// §5.7: the masked "Hello" and masked Pong carry this key.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Unmasks a client's frame of at most 125 bytes: returns (first byte, payload).
fn unmask_small(frame: &[u8]) -> (u8, Vec<u8>) {
    assert!(frame.len() >= 6, "{frame:02x?}");
    assert_eq!(
        frame[1] & 0x80,
        0x80,
        "client frames are masked: {frame:02x?}"
    );
    let len = usize::from(frame[1] & 0x7f);
    assert!(len <= 125);
    assert_eq!(frame.len(), 6 + len, "{frame:02x?}");
    let key = &frame[2..6];
    let payload = frame[6..]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect();
    (frame[0], payload)
}

#[test]
fn single_frame_unmasked_text_to_client() {
    let input = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let t = assert_split_invariant(|| open_client(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Text("Hello".into())]);
    assert!(t.output.is_empty());
    assert_eq!(t.state, State::Open);
}

#[test]
fn single_frame_masked_text_to_server() {
    let input = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let t = assert_split_invariant(|| open_server(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Text("Hello".into())]);
    assert!(t.output.is_empty());
    assert_eq!(t.state, State::Open);
}

#[test]
fn fragmented_unmasked_text_to_client() {
    let input = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let t = assert_split_invariant(|| open_client(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Text("Hello".into())]);
    assert!(t.output.is_empty());
}

#[test]
fn unmasked_ping_to_client_is_answered_with_a_masked_pong() {
    let input = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let t = assert_split_invariant(|| open_client(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Ping(b"Hello".to_vec())]);
    // The client's Pong: 8a 85 <key> <masked "Hello">, the §5.7 shape.
    assert_eq!(t.output.len(), 11, "{:02x?}", t.output);
    assert_eq!(&t.output[..2], [0x8a, 0x85]);
    assert_eq!(unmask_small(&t.output), (0x8a, b"Hello".to_vec()));
    assert_eq!(t.state, State::Open);
}

#[test]
fn masked_ping_to_server_is_answered_with_an_unmasked_pong() {
    let input = [
        0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let t = assert_split_invariant(|| open_server(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Ping(b"Hello".to_vec())]);
    // §5.7's unmasked Pong.
    assert_eq!(t.output, [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
}

#[test]
fn masked_pong_to_server() {
    let input = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let t = assert_split_invariant(|| open_server(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Pong(b"Hello".to_vec())]);
    assert!(t.output.is_empty(), "a Pong is not answered");
}

#[test]
fn unmasked_pong_to_client() {
    let input = [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let t = assert_split_invariant(|| open_client(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Pong(b"Hello".to_vec())]);
    assert!(t.output.is_empty());
}

#[test]
fn binary_256_bytes_16_bit_length() {
    let payload: Vec<u8> = (0..=255).collect();
    // To a client, unmasked, as in §5.7.
    let input = [&[0x82, 0x7e, 0x01, 0x00][..], &payload].concat();
    let t = assert_split_invariant(|| open_client(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Binary(payload.clone())]);
    // To a server, the same frame masked.
    let masked: Vec<u8> = payload
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ MASK[i % 4])
        .collect();
    let input = [&[0x82, 0xfe, 0x01, 0x00][..], &MASK, &masked].concat();
    let t = assert_split_invariant(|| open_server(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Binary(payload)]);
}

#[test]
fn binary_64_kib_64_bit_length() {
    let payload: Vec<u8> = (0..65_536u32).map(|i| (i % 253) as u8).collect();
    let header = [0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
    let input = [&header[..], &payload].concat();
    let t = assert_split_invariant(|| open_client(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events.len(), 1);
    assert!(
        t.events[0] == Ev::Binary(payload.clone()),
        "payload differs"
    );
    // To a server, masked.
    let masked: Vec<u8> = payload
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ MASK[i % 4])
        .collect();
    let mut header = header;
    header[1] |= 0x80;
    let input = [&header[..], &MASK, &masked].concat();
    let t = assert_split_invariant(|| open_server(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events.len(), 1);
    assert!(t.events[0] == Ev::Binary(payload), "payload differs");
}

#[test]
fn all_section_5_7_examples_in_one_stream() {
    // The client-bound examples back to back in one read.
    let input = [
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f][..],
        &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
        &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        &[0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        &[0x82, 0x7e, 0x01, 0x00],
        &[0xab; 256],
    ]
    .concat();
    let t = assert_split_invariant(|| open_client(Config::new()), &input, false);
    assert_eq!(t.error, None);
    assert_eq!(
        t.events,
        [
            Ev::Text("Hello".into()),
            Ev::Text("Hello".into()),
            Ev::Ping(b"Hello".to_vec()),
            Ev::Pong(b"Hello".to_vec()),
            Ev::Binary(vec![0xab; 256]),
        ]
    );
    assert_eq!(unmask_small(&t.output), (0x8a, b"Hello".to_vec()));
}

#[test]
fn accept_key_section_1_3() {
    assert_eq!(
        AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(
        AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_bytes(),
        b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    // The §1.3 handshake, fed to a server at every split: the request is
    // reported, and the 101 carries the RFC's accept value.
    let t = assert_split_invariant(|| hybi::Connection::server(Config::new()), REQUEST, false);
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Request("/chat".into())]);
    let mut server = hybi::Connection::server(Config::new());
    server.receive(REQUEST);
    match server.next_event() {
        Ok(Some(hybi::Event::HandshakeRequest(r))) => {
            assert_eq!(r.key(), "dGhlIHNhbXBsZSBub25jZQ==");
            assert_eq!(r.host(), Some("server.example.com"));
            assert_eq!(r.origin(), Some("http://example.com"));
            assert!(r.protocols().eq(["chat", "superchat"]));
        }
        other => panic!("{other:?}"),
    }
    server.accept(hybi::Accept::new().protocol("chat")).unwrap();
    let out = String::from_utf8(server.transmit().to_vec()).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{out}"
    );
    let head: Vec<&str> = out.trim_end().split("\r\n").collect();
    for line in [
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "Sec-WebSocket-Protocol: chat",
    ] {
        assert!(head.contains(&line), "{out}");
    }
    assert!(
        head.iter()
            .any(|l| l.eq_ignore_ascii_case("upgrade: websocket"))
    );
    assert!(
        head.iter()
            .any(|l| l.eq_ignore_ascii_case("connection: upgrade"))
    );
}

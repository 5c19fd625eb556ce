//! One test per guarantee of design §4: framing (RFC 6455 §5), close (§5.5.1,
//! §7), handshake (§4), splitting and "nothing lost".
//!
//! Every protocol-error test and every message test goes through
//! `assert_split_invariant` (input fed whole, byte by byte and at seeded random
//! split points must give the same events, error, output and state); that is
//! how the "Splitting" guarantee is covered throughout, besides the dedicated
//! `split_invariance_*` tests. Protocol-error tests also check the exact Close
//! frame queued, `Error::close_code`, the variant, and that the error is
//! sticky; handshake-error tests check the HTTP status line and
//! `Error::status`.

mod common;

use common::*;
use hybi::frame::Opcode;
use hybi::{
    Accept, AcceptKey, ClientRequest, CloseCode, Config, Connection, Error, HandshakeError,
    MessageKind, ProtocolError, SeededRandom, State, UsageError,
};

// ----- helpers ---------------------------------------------------------------

/// Which end of the connection is under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

const BOTH: [Side; 2] = [Side::Server, Side::Client];

/// An open connection (handshake done) for `side`.
fn open(side: Side, config: Config) -> Connection {
    match side {
        Side::Server => open_server(config),
        Side::Client => open_client(config),
    }
}

/// A frame as the peer of `side` sends it: masked towards a server, unmasked
/// towards a client.
fn peer(side: Side, fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    match side {
        Side::Server => client_frame(fin, opcode, payload),
        Side::Client => server_frame(fin, opcode, payload),
    }
}

/// A raw frame (arbitrary first byte) as the peer of `side` would mask it.
fn peer_raw(side: Side, b0: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(b0, side == Side::Server, payload)
}

/// A frame header (no payload) as the peer of `side` sends it, declaring `len`.
fn peer_header(side: Side, b0: u8, len: u64) -> Vec<u8> {
    let mask_bit = if side == Side::Server { 0x80 } else { 0 };
    let mut out = vec![b0];
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if let Ok(len16) = u16::try_from(len) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&len16.to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if side == Side::Server {
        out.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    }
    out
}

/// One decoded frame of output: first byte, unmasked payload, masked or not.
#[derive(Debug, PartialEq, Eq)]
struct Sent {
    b0: u8,
    payload: Vec<u8>,
    masked: bool,
}

/// Splits bytes written by the engine into frames, unmasking client frames.
fn sent_frames(mut out: &[u8]) -> Vec<Sent> {
    let mut frames = Vec::new();
    while !out.is_empty() {
        assert!(out.len() >= 2, "truncated frame: {out:02x?}");
        let b0 = out[0];
        let masked = out[1] & 0x80 != 0;
        let (len, mut pos) = match out[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([out[2], out[3]])), 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&out[2..10]);
                (usize::try_from(u64::from_be_bytes(b)).unwrap(), 10)
            }
            n => (usize::from(n), 2),
        };
        let mask = masked.then(|| {
            let m = [out[pos], out[pos + 1], out[pos + 2], out[pos + 3]];
            pos += 4;
            m
        });
        assert!(out.len() >= pos + len, "truncated frame: {out:02x?}");
        let mut payload = out[pos..pos + len].to_vec();
        if let Some(m) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= m[i % 4];
            }
        }
        frames.push(Sent {
            b0,
            payload,
            masked,
        });
        out = &out[pos + len..];
    }
    frames
}

/// Asserts `out` is exactly one Close frame as `side` must send it (a client
/// masks, a server does not) and returns its unmasked payload.
fn sent_close(side: Side, out: &[u8]) -> Vec<u8> {
    match side {
        // A server's frames are unmasked: the bytes are fully predictable.
        Side::Server => {
            assert!(
                out.len() >= 2 && out[0] == 0x88 && out[1] & 0x80 == 0,
                "{out:02x?}"
            );
            assert_eq!(out.len(), 2 + usize::from(out[1]), "{out:02x?}");
            out[2..].to_vec()
        }
        Side::Client => {
            let frames = sent_frames(out);
            assert_eq!(frames.len(), 1, "expected one Close frame: {out:02x?}");
            assert_eq!(frames[0].b0, 0x88, "{out:02x?}");
            assert!(
                frames[0].masked,
                "a client's Close must be masked: {out:02x?}"
            );
            frames[0].payload.clone()
        }
    }
}

/// Feeds `input` to an open `side` (whole, byte by byte, random splits) and
/// asserts it fails with `expected` after delivering `before`, with exactly a
/// Close carrying `code` written, and that the error is sticky.
fn assert_protocol_error(
    side: Side,
    config: Config,
    input: &[u8],
    before: &[Ev],
    expected: ProtocolError,
    code: u16,
) {
    let t = assert_split_invariant(|| open(side, config), input, false);
    assert_eq!(t.events, before, "{side:?}: events before the error");
    assert_eq!(
        t.error,
        Some(Error::Protocol(expected)),
        "{side:?}: input {input:02x?}"
    );
    let error = t.error.unwrap();
    assert_eq!(error.close_code(), Some(CloseCode(code)));
    assert_eq!(expected.close_code(), CloseCode(code));
    assert_eq!(error.status(), None);
    assert!(error.is_fatal());
    assert_eq!(t.state, State::Failed);
    // Pongs owed for Pings delivered before the error, then the Close.
    let pings: Vec<&Vec<u8>> = before
        .iter()
        .filter_map(|e| match e {
            Ev::Ping(p) => Some(p),
            _ => None,
        })
        .collect();
    let sent = sent_frames(&t.output);
    assert_eq!(sent.len(), pings.len() + 1, "output {:02x?}", t.output);
    for (pong, ping) in sent.iter().zip(&pings) {
        assert_eq!((pong.b0, &pong.payload), (0x8a, *ping));
    }
    let close_at = t.output.len() - if side == Side::Server { 4 } else { 8 };
    if side == Side::Server {
        assert_eq!(
            t.output[close_at..],
            [0x88, 0x02, (code >> 8) as u8, code as u8],
            "server Close for {expected:?}"
        );
    }
    assert_eq!(sent_close(side, &t.output[close_at..]), code.to_be_bytes());
    assert_sticky(side, config, input, error);
}

/// After `input` made `side` fail with `error`, more valid input changes
/// nothing: the same error, nothing more written, nothing may be sent.
fn assert_sticky(side: Side, config: Config, input: &[u8], error: Error) {
    let mut conn = open(side, config);
    let t = feed_whole(&mut conn, input, false);
    assert_eq!(t.error, Some(error));
    assert!(conn.close_expected());
    conn.receive(&peer(side, true, Opcode::Text, b"more"));
    conn.receive(&peer(side, true, Opcode::Close, &[0x03, 0xe8]));
    for _ in 0..3 {
        assert_eq!(conn.next_event().err(), Some(error), "error is sticky");
    }
    assert!(conn.transmit().is_empty(), "only one Close is ever sent");
    assert_eq!(conn.send_text("x"), Err(UsageError::Closed));
    assert_eq!(conn.close(CloseCode::NORMAL, ""), Err(UsageError::Closed));
    assert!(conn.transmit().is_empty());
    assert_eq!(conn.state(), State::Failed);
    assert!(conn.close_expected());
}

/// `assert_protocol_error` with the default config and no events before.
fn assert_fails(side: Side, input: &[u8], expected: ProtocolError, code: u16) {
    assert_protocol_error(side, Config::new(), input, &[], expected, code);
}

/// Feeds `input` split-invariantly and asserts it is accepted with `events`.
fn assert_events(side: Side, config: Config, input: &[u8], events: &[Ev]) -> Transcript {
    let t = assert_split_invariant(|| open(side, config), input, false);
    assert_eq!(t.error, None, "{side:?}: unexpected error");
    assert_eq!(t.events, events, "{side:?}");
    t
}

/// `REQUEST` with the first occurrence of `from` replaced by `to`.
fn request_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(REQUEST).unwrap();
    assert!(text.contains(from), "REQUEST has no {from:?}");
    text.replacen(from, to, 1).into_bytes()
}

/// Asserts a server answers `request` with `expected`, an HTTP response
/// starting with `status_line`, and stays failed.
fn assert_request_rejected(
    config: Config,
    request: &[u8],
    expected: HandshakeError,
    status: u16,
    status_line: &str,
) -> Transcript {
    let t = assert_split_invariant(|| Connection::server(config), request, false);
    assert_eq!(t.events, [], "{}", String::from_utf8_lossy(request));
    assert_eq!(
        t.error,
        Some(Error::Handshake(expected)),
        "{}",
        String::from_utf8_lossy(request)
    );
    let error = t.error.unwrap();
    assert_eq!(error.status(), Some(status));
    assert_eq!(expected.status(), Some(status));
    assert_eq!(error.close_code(), None);
    assert!(error.is_fatal());
    assert_eq!(t.state, State::Failed);
    let output = String::from_utf8(t.output.clone()).unwrap();
    assert!(
        output.starts_with(status_line),
        "expected {status_line:?}, got {output:?}"
    );
    assert!(!output.contains("101"), "{output:?}");
    // Sticky: a valid request afterwards changes nothing.
    let mut conn = Connection::server(config);
    conn.receive(request);
    assert_eq!(conn.next_event().err(), Some(error));
    let n = conn.transmit().len();
    conn.advance(n);
    conn.receive(REQUEST);
    assert_eq!(conn.next_event().err(), Some(error));
    assert!(conn.transmit().is_empty());
    assert_eq!(
        conn.accept(Accept::new()),
        Err(Error::Usage(UsageError::NoPendingRequest))
    );
    assert!(conn.close_expected());
    t
}

/// Asserts a server reports `request` as a valid handshake request and, on
/// accept, answers 101 with the right accept key.
fn assert_request_accepted(config: Config, request: &[u8]) {
    let t = assert_split_invariant(|| Connection::server(config), request, false);
    assert_eq!(
        t.error,
        None,
        "{} was refused",
        String::from_utf8_lossy(request)
    );
    assert_eq!(t.events, [Ev::Request("/chat".into())]);
    assert_eq!(t.state, State::RequestReceived);
    assert!(t.output.is_empty());
    let mut conn = Connection::server(config);
    conn.receive(request);
    let key = match conn.next_event() {
        Ok(Some(hybi::Event::HandshakeRequest(r))) => r.key().to_string(),
        other => panic!("{other:?}"),
    };
    conn.accept(Accept::new()).unwrap();
    let out = String::from_utf8(conn.transmit().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 101 "), "{out}");
    let accept = AcceptKey::from_key(key.as_bytes());
    assert!(
        out.contains(&format!(
            "\r\nSec-WebSocket-Accept: {}\r\n",
            accept.as_str()
        )),
        "{out}"
    );
    assert_eq!(conn.state(), State::Open);
}

/// A client offering `protocols`, with its request written out (seeded, so
/// every call makes the same key and masks).
fn fresh_client(protocols: &'static [&'static str]) -> Connection {
    let mut conn = Connection::client_with_rng(
        ClientRequest::new("server.example.com", "/chat").protocols(protocols),
        Config::new(),
        Box::new(SeededRandom::new(7)),
    )
    .unwrap();
    let n = conn.transmit().len();
    conn.advance(n);
    conn
}

/// The valid 101 for `fresh_client(protocols)`.
fn good_response(protocols: &'static [&'static str]) -> String {
    let mut conn = Connection::client_with_rng(
        ClientRequest::new("server.example.com", "/chat").protocols(protocols),
        Config::new(),
        Box::new(SeededRandom::new(7)),
    )
    .unwrap();
    String::from_utf8(response_for(conn.transmit())).unwrap()
}

/// `text` with `from` (which must occur) replaced by `to`.
fn edit(text: &str, from: &str, to: &str) -> Vec<u8> {
    assert!(text.contains(from), "{text:?} has no {from:?}");
    text.replacen(from, to, 1).into_bytes()
}

/// Asserts a client offering `protocols` fails on `response` with `expected`,
/// sends nothing, and stays failed.
fn assert_response_refused(
    protocols: &'static [&'static str],
    response: &[u8],
    expected: HandshakeError,
) {
    let t = assert_split_invariant(|| fresh_client(protocols), response, false);
    assert_eq!(
        t.error,
        Some(Error::Handshake(expected)),
        "{}",
        String::from_utf8_lossy(response)
    );
    assert_eq!(t.events, []);
    let error = t.error.unwrap();
    assert_eq!(error.status(), None, "a client has no HTTP status to send");
    assert_eq!(error.close_code(), None);
    assert!(error.is_fatal());
    assert!(t.output.is_empty(), "a client sends nothing on a bad 101");
    assert_eq!(t.state, State::Failed);
    let mut conn = fresh_client(protocols);
    conn.receive(response);
    assert_eq!(conn.next_event().err(), Some(error));
    assert_eq!(conn.next_event().err(), Some(error), "sticky");
    assert!(conn.close_expected());
    assert_eq!(conn.send_text("x"), Err(UsageError::Closed));
    assert!(conn.transmit().is_empty());
}

/// Asserts a client offering `protocols` accepts `response`.
fn assert_response_accepted(protocols: &'static [&'static str], response: &[u8]) {
    let t = assert_split_invariant(|| fresh_client(protocols), response, false);
    assert_eq!(
        t.error,
        None,
        "{} was refused",
        String::from_utf8_lossy(response)
    );
    assert_eq!(t.events, [Ev::Response(101)]);
    assert_eq!(t.state, State::Open);
}

// ----- framing (§5) ------------------------------------------------------------

#[test]
fn server_rejects_unmasked_frames_1002() {
    for opcode in [
        Opcode::Text,
        Opcode::Binary,
        Opcode::Ping,
        Opcode::Pong,
        Opcode::Close,
    ] {
        assert_fails(
            Side::Server,
            &server_frame(true, opcode, b"hi"),
            ProtocolError::UnmaskedClientFrame,
            1002,
        );
    }
    // Detected from the second byte alone, and after earlier valid messages.
    assert_fails(
        Side::Server,
        &[0x81, 0x05],
        ProtocolError::UnmaskedClientFrame,
        1002,
    );
    let input = [
        client_frame(true, Opcode::Text, b"ok"),
        server_frame(true, Opcode::Text, b"bad"),
    ]
    .concat();
    assert_protocol_error(
        Side::Server,
        Config::new(),
        &input,
        &[Ev::Text("ok".into())],
        ProtocolError::UnmaskedClientFrame,
        1002,
    );
}

#[test]
fn client_rejects_masked_frames_1002() {
    for opcode in [
        Opcode::Text,
        Opcode::Binary,
        Opcode::Ping,
        Opcode::Pong,
        Opcode::Close,
    ] {
        assert_fails(
            Side::Client,
            &client_frame(true, opcode, b"hi"),
            ProtocolError::MaskedServerFrame,
            1002,
        );
    }
    assert_fails(
        Side::Client,
        &[0x82, 0x80],
        ProtocolError::MaskedServerFrame,
        1002,
    );
    let input = [
        server_frame(true, Opcode::Binary, &[1, 2, 3]),
        client_frame(true, Opcode::Text, b"bad"),
    ]
    .concat();
    assert_protocol_error(
        Side::Client,
        Config::new(),
        &input,
        &[Ev::Binary(vec![1, 2, 3])],
        ProtocolError::MaskedServerFrame,
        1002,
    );
}

#[test]
fn reserved_opcodes_1002() {
    for side in BOTH {
        for opcode in [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf] {
            assert_fails(
                side,
                &peer_raw(side, 0x80 | opcode, b"x"),
                ProtocolError::ReservedOpcode,
                1002,
            );
            // The first byte alone is enough.
            assert_fails(side, &[0x80 | opcode], ProtocolError::ReservedOpcode, 1002);
        }
        // Inside a fragmented message too.
        let input = [
            peer(side, false, Opcode::Text, b"a"),
            peer_raw(side, 0x83, b""),
        ]
        .concat();
        assert_fails(side, &input, ProtocolError::ReservedOpcode, 1002);
    }
}

#[test]
fn rsv_bits_not_negotiated_1002() {
    for side in BOTH {
        for rsv in [0x40, 0x20, 0x10, 0x70] {
            for opcode in [0x1, 0x2, 0x9] {
                assert_fails(
                    side,
                    &peer_raw(side, 0x80 | rsv | opcode, b"x"),
                    ProtocolError::ReservedBits,
                    1002,
                );
            }
            // A continuation with RSV set, after a valid first fragment.
            let input = [
                peer(side, false, Opcode::Binary, b"a"),
                peer_raw(side, 0x80 | rsv, b"b"),
            ]
            .concat();
            assert_fails(side, &input, ProtocolError::ReservedBits, 1002);
        }
    }
}

#[test]
fn control_frame_over_125_bytes_1002() {
    for side in BOTH {
        for opcode in [Opcode::Ping, Opcode::Pong, Opcode::Close] {
            let mut payload = vec![b'a'; 126];
            if opcode == Opcode::Close {
                payload[..2].copy_from_slice(&[0x03, 0xe8]);
            }
            assert_fails(
                side,
                &peer(side, true, opcode, &payload),
                ProtocolError::ControlFrameTooLong,
                1002,
            );
            // From the header alone, in the 16- and 64-bit length forms,
            // before any payload.
            let b0 = 0x80 | opcode as u8;
            for len in [126, 65_536] {
                assert_fails(
                    side,
                    &peer_header(side, b0, len),
                    ProtocolError::ControlFrameTooLong,
                    1002,
                );
            }
        }
        // 125 bytes is the maximum and is fine.
        let ping = vec![b'p'; 125];
        let t = assert_events(
            side,
            Config::new(),
            &peer(side, true, Opcode::Ping, &ping),
            &[Ev::Ping(ping.clone())],
        );
        let pong = sent_frames(&t.output);
        assert_eq!(pong.len(), 1);
        assert_eq!((pong[0].b0, &pong[0].payload), (0x8a, &ping));
    }
}

#[test]
fn fragmented_control_frame_1002() {
    for side in BOTH {
        for opcode in [Opcode::Ping, Opcode::Pong, Opcode::Close] {
            assert_fails(
                side,
                &peer(side, false, opcode, b""),
                ProtocolError::FragmentedControlFrame,
                1002,
            );
            // The first byte alone is enough.
            assert_fails(
                side,
                &[opcode as u8],
                ProtocolError::FragmentedControlFrame,
                1002,
            );
        }
    }
}

#[test]
fn continuation_without_message_1002() {
    for side in BOTH {
        for fin in [true, false] {
            assert_fails(
                side,
                &peer(side, fin, Opcode::Continuation, b"x"),
                ProtocolError::UnexpectedContinuation,
                1002,
            );
        }
        // After a finished message there is nothing to continue either.
        let input = [
            peer(side, false, Opcode::Text, b"a"),
            peer(side, true, Opcode::Continuation, b"b"),
            peer(side, true, Opcode::Continuation, b"c"),
        ]
        .concat();
        assert_protocol_error(
            side,
            Config::new(),
            &input,
            &[Ev::Text("ab".into())],
            ProtocolError::UnexpectedContinuation,
            1002,
        );
    }
}

#[test]
fn new_data_frame_inside_fragmented_message_1002() {
    for side in BOTH {
        for (first, second) in [
            (Opcode::Text, Opcode::Text),
            (Opcode::Text, Opcode::Binary),
            (Opcode::Binary, Opcode::Text),
            (Opcode::Binary, Opcode::Binary),
        ] {
            for fin in [true, false] {
                let input = [
                    peer(side, false, first, b"a"),
                    peer(side, fin, second, b"c"),
                ]
                .concat();
                assert_fails(side, &input, ProtocolError::ExpectedContinuation, 1002);
            }
        }
        // After a continuation that did not finish the message, too.
        let input = [
            peer(side, false, Opcode::Binary, b"a"),
            peer(side, false, Opcode::Continuation, b"b"),
            peer(side, true, Opcode::Binary, b"c"),
        ]
        .concat();
        assert_fails(side, &input, ProtocolError::ExpectedContinuation, 1002);
    }
}

#[test]
fn length_with_top_bit_set_1002() {
    for side in BOTH {
        let mask_bit = if side == Side::Server { 0x80 } else { 0 };
        for top in [0x80u8, 0xff] {
            // Detected on the first byte of the 64-bit length.
            assert_fails(
                side,
                &[0x82, mask_bit | 127, top],
                ProtocolError::InvalidLength,
                1002,
            );
            let mut header = vec![0x82, mask_bit | 127, top, 0, 0, 0, 0, 0, 0, 5];
            if side == Side::Server {
                header.extend_from_slice(&[1, 2, 3, 4]);
            }
            header.extend_from_slice(b"hello");
            assert_fails(side, &header, ProtocolError::InvalidLength, 1002);
        }
    }
}

#[test]
fn control_frames_interleave_fragments() {
    for side in BOTH {
        let input = [
            peer(side, false, Opcode::Text, "Hé".as_bytes()),
            peer(side, true, Opcode::Ping, b"ping"),
            peer(
                side,
                false,
                Opcode::Continuation,
                &"llo, wörld".as_bytes()[..7],
            ),
            peer(side, true, Opcode::Pong, b"pong"),
            peer(
                side,
                true,
                Opcode::Continuation,
                &"llo, wörld".as_bytes()[7..],
            ),
            peer(side, false, Opcode::Binary, &[1, 2]),
            peer(side, true, Opcode::Pong, b""),
            peer(side, true, Opcode::Continuation, &[3]),
        ]
        .concat();
        let t = assert_events(
            side,
            Config::new(),
            &input,
            &[
                Ev::Ping(b"ping".to_vec()),
                Ev::Pong(b"pong".to_vec()),
                Ev::Text("Héllo, wörld".into()),
                Ev::Pong(vec![]),
                Ev::Binary(vec![1, 2, 3]),
            ],
        );
        assert_eq!(t.state, State::Open);
        let sent = sent_frames(&t.output);
        assert_eq!(sent.len(), 1, "one Pong for the one Ping");
        assert_eq!(sent[0].b0, 0x8a);
        assert_eq!(sent[0].payload, b"ping");
        assert_eq!(sent[0].masked, side == Side::Client);

        // A Close may interleave as well: it is reported and echoed.
        let input = [
            peer(side, false, Opcode::Text, b"abc"),
            peer(side, true, Opcode::Close, &[0x03, 0xe8]),
        ]
        .concat();
        let t = assert_events(
            side,
            Config::new(),
            &input,
            &[Ev::Close(1000, String::new())],
        );
        assert_eq!(sent_close(side, &t.output), [0x03, 0xe8]);
        assert_eq!(t.state, State::Closed);
    }
}

#[test]
fn invalid_utf8_fails_fast_mid_message_1007() {
    let invalid: [&[u8]; 6] = [
        b"ok\xff",                           // never valid
        b"ok\xc0",                           // overlong lead byte
        b"\xce\xba\xe1\xbd\xb9\xed\xa0\x80", // UTF-16 surrogate U+D800
        b"\xf4\x90\x80\x80",                 // above U+10FFFF
        b"ab\xe2\x28",                       // lead byte followed by ASCII
        b"\x80",                             // lone continuation byte
    ];
    for side in BOTH {
        for bad in invalid {
            // The first fragment, without FIN: the rest never comes.
            assert_fails(
                side,
                &peer(side, false, Opcode::Text, bad),
                ProtocolError::InvalidUtf8,
                1007,
            );
            // One frame of which only part of the payload was received.
            let mut payload = bad.to_vec();
            payload.extend_from_slice(b"and much more text after it");
            let frame = peer(side, true, Opcode::Text, &payload);
            let cut = frame.len() - (payload.len() - bad.len());
            assert_fails(side, &frame[..cut], ProtocolError::InvalidUtf8, 1007);
            // A whole frame.
            assert_fails(
                side,
                &peer(side, true, Opcode::Text, bad),
                ProtocolError::InvalidUtf8,
                1007,
            );
        }

        // The error comes as soon as the bad byte arrives, not at the end.
        let mut conn = open(side, Config::new());
        let frame = peer(side, false, Opcode::Text, b"abc\xffdef");
        let bad_at = frame.len() - 4;
        conn.receive(&frame[..bad_at]);
        assert!(matches!(conn.next_event(), Ok(None)), "{side:?}");
        conn.receive(&frame[bad_at..=bad_at]);
        assert_eq!(
            conn.next_event().err(),
            Some(Error::Protocol(ProtocolError::InvalidUtf8))
        );
        assert_eq!(sent_close(side, conn.transmit()), [0x03, 0xef]);

        // A sequence split across fragments fails on the continuation's
        // first byte; an incomplete one is fine until the bad byte comes.
        let mut conn = open(side, Config::new());
        conn.receive(&peer(side, false, Opcode::Text, b"ab\xe2\x82"));
        assert!(matches!(conn.next_event(), Ok(None)));
        let cont = peer(side, false, Opcode::Continuation, b"\x28rest");
        let first_byte = cont.len() - 5;
        conn.receive(&cont[..=first_byte]);
        assert_eq!(
            conn.next_event().err(),
            Some(Error::Protocol(ProtocolError::InvalidUtf8))
        );
        let input = [
            peer(side, false, Opcode::Text, b"ab\xe2\x82"),
            peer(side, false, Opcode::Continuation, b"\x28rest"),
        ]
        .concat();
        assert_fails(side, &input, ProtocolError::InvalidUtf8, 1007);

        // A message that ends in the middle of a character.
        let input = [
            peer(side, false, Opcode::Text, b"ab"),
            peer(side, true, Opcode::Continuation, b"\xe2\x82"),
        ]
        .concat();
        assert_fails(side, &input, ProtocolError::InvalidUtf8, 1007);

        // Valid messages before are delivered first.
        let input = [
            peer(side, true, Opcode::Text, "κόσμε".as_bytes()),
            peer(side, false, Opcode::Text, b"\xed\xa0\x80"),
        ]
        .concat();
        assert_protocol_error(
            side,
            Config::new(),
            &input,
            &[Ev::Text("κόσμε".into())],
            ProtocolError::InvalidUtf8,
            1007,
        );

        // And a character split across fragments is valid.
        let euro = "€".as_bytes();
        let input = [
            peer(side, false, Opcode::Text, &euro[..1]),
            peer(side, false, Opcode::Continuation, &euro[1..2]),
            peer(side, true, Opcode::Continuation, &euro[2..]),
        ]
        .concat();
        assert_events(side, Config::new(), &input, &[Ev::Text("€".into())]);
    }
}

#[test]
fn frame_over_limit_1009_from_header() {
    let config = Config::new().max_frame_size(1000);
    for side in BOTH {
        for b0 in [0x82, 0x81, 0x02, 0x01] {
            // Only the header: the payload never arrives.
            assert_protocol_error(
                side,
                config,
                &peer_header(side, b0, 1001),
                &[],
                ProtocolError::FrameTooBig,
                1009,
            );
        }
        // A continuation frame over the limit.
        let input = [
            peer(side, false, Opcode::Binary, b"a"),
            peer_header(side, 0x80, 1001),
        ]
        .concat();
        assert_protocol_error(side, config, &input, &[], ProtocolError::FrameTooBig, 1009);
        // A 4 GiB header against the default 16 MiB limit.
        assert_fails(
            side,
            &peer_header(side, 0x82, 1 << 32),
            ProtocolError::FrameTooBig,
            1009,
        );
        // Exactly at the limit is fine.
        let payload = vec![7u8; 1000];
        assert_events(
            side,
            config,
            &peer(side, true, Opcode::Binary, &payload),
            &[Ev::Binary(payload.clone())],
        );
    }
}

#[test]
fn message_over_limit_1009_from_header() {
    let config = Config::new().max_message_size(1000);
    for side in BOTH {
        // One frame: only the header.
        assert_protocol_error(
            side,
            config,
            &peer_header(side, 0x81, 1001),
            &[],
            ProtocolError::MessageTooBig,
            1009,
        );
        // The second fragment's header pushes the message over the limit.
        let input = [
            peer(side, false, Opcode::Binary, &[1u8; 600]),
            peer_header(side, 0x80, 401),
        ]
        .concat();
        assert_protocol_error(
            side,
            config,
            &input,
            &[],
            ProtocolError::MessageTooBig,
            1009,
        );
        // Exactly at the limit, in two fragments, is fine.
        let input = [
            peer(side, false, Opcode::Binary, &[1u8; 600]),
            peer(side, true, Opcode::Continuation, &[2u8; 400]),
        ]
        .concat();
        let mut whole = vec![1u8; 600];
        whole.extend_from_slice(&[2u8; 400]);
        assert_events(side, config, &input, &[Ev::Binary(whole)]);
        // Too many fragments is 1009 as well.
        let config = Config::new().max_fragments(3);
        let input = [
            peer(side, false, Opcode::Text, b"a"),
            peer(side, false, Opcode::Continuation, b"b"),
            peer(side, false, Opcode::Continuation, b"c"),
            peer_header(side, 0x80, 1),
        ]
        .concat();
        assert_protocol_error(
            side,
            config,
            &input,
            &[],
            ProtocolError::TooManyFragments,
            1009,
        );
    }
}

// ----- close (§5.5.1, §7) ---------------------------------------------------------

#[test]
fn close_payload_of_one_byte_1002() {
    for side in BOTH {
        for byte in [0x03, 0x00, 0xe8] {
            assert_fails(
                side,
                &peer(side, true, Opcode::Close, &[byte]),
                ProtocolError::InvalidClosePayload,
                1002,
            );
        }
    }
}

#[test]
fn invalid_close_codes_1002() {
    let mut invalid: Vec<u16> = vec![
        0, 1, 500, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 5001, 9999, 65535,
    ];
    invalid.extend((1016..3000).step_by(47));
    for side in BOTH {
        for &code in &invalid {
            for reason in ["", "why"] {
                let payload = [&code.to_be_bytes()[..], reason.as_bytes()].concat();
                assert_fails(
                    side,
                    &peer(side, true, Opcode::Close, &payload),
                    ProtocolError::InvalidCloseCode,
                    1002,
                );
            }
        }
    }
    let valid: [u16; 16] = [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
        4999,
    ];
    for side in BOTH {
        for code in valid {
            let payload = [&code.to_be_bytes()[..], b"ok"].concat();
            let t = assert_events(
                side,
                Config::new(),
                &peer(side, true, Opcode::Close, &payload),
                &[Ev::Close(code, "ok".into())],
            );
            assert_eq!(t.state, State::Closed);
            assert_eq!(
                sent_close(side, &t.output),
                code.to_be_bytes(),
                "echo of {code}"
            );
        }
    }
}

#[test]
fn close_reason_not_utf8_1007() {
    let bad: [&[u8]; 4] = [b"\xff", b"caf\xc3", b"\xed\xa0\x80", b"ok\xc0\xaf"];
    for side in BOTH {
        for reason in bad {
            let payload = [&[0x03, 0xe8][..], reason].concat();
            assert_fails(
                side,
                &peer(side, true, Opcode::Close, &payload),
                ProtocolError::InvalidCloseReason,
                1007,
            );
        }
        let payload = [&[0x03, 0xe9][..], "au revoir, café ☕".as_bytes()].concat();
        assert_events(
            side,
            Config::new(),
            &peer(side, true, Opcode::Close, &payload),
            &[Ev::Close(1001, "au revoir, café ☕".into())],
        );
    }
}

#[test]
fn empty_close_reports_1005_and_is_echoed_empty() {
    for side in BOTH {
        let t = assert_events(
            side,
            Config::new(),
            &peer(side, true, Opcode::Close, b""),
            &[Ev::Close(1005, String::new())],
        );
        assert_eq!(sent_close(side, &t.output), b"", "echo is empty, not 1005");
        if side == Side::Server {
            assert_eq!(t.output, [0x88, 0x00]);
        } else {
            assert_eq!(t.output.len(), 6, "masked empty close: {:02x?}", t.output);
        }
        assert_eq!(t.state, State::Closed);
    }
}

#[test]
fn received_close_is_echoed_once() {
    for side in BOTH {
        let input = [
            peer(side, true, Opcode::Close, &[0x03, 0xe8, b'b', b'y', b'e']),
            peer(side, true, Opcode::Close, &[0x03, 0xe9]),
            peer(side, true, Opcode::Text, b"late"),
            peer(side, true, Opcode::Ping, b"late"),
        ]
        .concat();
        let t = assert_events(
            side,
            Config::new(),
            &input,
            &[Ev::Close(1000, "bye".into())],
        );
        assert_eq!(sent_close(side, &t.output), [0x03, 0xe8]);
        assert_eq!(t.state, State::Closed);

        // Asking again sends nothing more, and nothing may be sent.
        let mut conn = open(side, Config::new());
        conn.receive(&peer(side, true, Opcode::Close, &[0x03, 0xe8]));
        assert!(matches!(conn.next_event(), Ok(Some(hybi::Event::Close(_)))));
        // The echo is queued the moment the Close is decoded.
        assert_eq!(conn.state(), State::Closed);
        assert!(conn.wants_transmit());
        let echo = conn.transmit().to_vec();
        assert_eq!(sent_close(side, &echo), [0x03, 0xe8]);
        assert!(conn.transmit().is_empty() || conn.transmit() == echo.as_slice());
        conn.advance(echo.len());
        assert!(conn.transmit().is_empty(), "the echo is written once");
        assert!(!conn.wants_transmit());
        conn.receive(&peer(side, true, Opcode::Close, &[0x03, 0xe8]));
        assert!(matches!(conn.next_event(), Ok(None)));
        assert!(conn.transmit().is_empty());
        assert_eq!(conn.close(CloseCode::NORMAL, ""), Err(UsageError::Closed));
        assert_eq!(conn.state(), State::Closed);

        // The echo is already queued: our own Close is refused, so exactly
        // one Close goes out, carrying the peer's code.
        let mut conn = open(side, Config::new());
        conn.receive(&peer(side, true, Opcode::Close, &[0x03, 0xe8]));
        assert!(matches!(conn.next_event(), Ok(Some(hybi::Event::Close(_)))));
        assert_eq!(
            conn.close(CloseCode::GOING_AWAY, "shutting down"),
            Err(UsageError::Closed)
        );
        let out = conn.transmit().to_vec();
        assert_eq!(sent_close(side, &out), [0x03, 0xe8]);
        assert_eq!(conn.state(), State::Closed);
    }
}

#[test]
fn no_data_after_our_close() {
    for side in BOTH {
        let mut conn = open(side, Config::new());
        assert!(!conn.close_expected());
        conn.close(CloseCode::NORMAL, "bye").unwrap();
        assert_eq!(conn.state(), State::CloseSent);
        let closed = Err(UsageError::Closed);
        assert_eq!(conn.send_text("x"), closed);
        assert_eq!(conn.send_binary(b"x"), closed);
        assert_eq!(conn.send_fragment(MessageKind::Text, b"x", false), closed);
        assert_eq!(conn.send_ping(b"x"), closed);
        assert_eq!(conn.send_pong(b"x"), closed);
        assert_eq!(conn.close(CloseCode::NORMAL, ""), closed);
        let (_, mut outbound) = conn.split();
        assert_eq!(outbound.send_text("x"), closed);
        let out = conn.transmit().to_vec();
        assert_eq!(sent_close(side, &out), [&[0x03, 0xe8][..], b"bye"].concat());
        conn.advance(out.len());
        assert!(!conn.close_expected() || side == Side::Server);

        // The peer's data is still reported; its Ping is still answered
        // (RFC 6455 §5.5.2 exempts only an endpoint that received a Close;
        // §5.5.1 forbids only data frames after ours), and no second Close
        // is written.
        let make = || {
            let mut conn = open(side, Config::new());
            conn.close(CloseCode::NORMAL, "bye").unwrap();
            let n = conn.transmit().len();
            conn.advance(n);
            conn
        };
        let input = [
            peer(side, true, Opcode::Text, b"late"),
            peer(side, true, Opcode::Ping, b"p"),
            peer(side, true, Opcode::Close, &[0x03, 0xe8]),
        ]
        .concat();
        let t = assert_split_invariant(make, &input, false);
        assert_eq!(t.error, None);
        assert_eq!(
            t.events,
            [
                Ev::Text("late".into()),
                Ev::Ping(b"p".to_vec()),
                Ev::Close(1000, String::new())
            ]
        );
        let sent = sent_frames(&t.output);
        assert_eq!(sent.len(), 1, "{side:?} wrote {:02x?}", t.output);
        assert_eq!((sent[0].b0, sent[0].payload.as_slice()), (0x8a, &b"p"[..]));
        assert_eq!(t.state, State::Closed);

        // A Pong queued before we close goes out before our Close.
        let mut conn = open(side, Config::new());
        conn.receive(&peer(side, true, Opcode::Ping, b"owed"));
        assert!(matches!(conn.next_event(), Ok(Some(hybi::Event::Ping(_)))));
        conn.close(CloseCode::NORMAL, "").unwrap();
        let out = conn.transmit().to_vec();
        let sent = sent_frames(&out);
        assert_eq!(sent.last().map(|f| f.b0), Some(0x88), "{out:02x?}");
        assert_eq!(sent.iter().filter(|f| f.b0 == 0x88).count(), 1);
        conn.advance(out.len());
        assert!(matches!(conn.next_event(), Ok(None)));
        assert!(conn.transmit().is_empty());
    }
    // Sending before the handshake completes is a different usage error.
    let mut server = Connection::server(Config::new());
    assert_eq!(server.send_text("x"), Err(UsageError::NotOpen));
}

#[test]
fn server_closes_tcp_first() {
    // The client starts the closing handshake: the server echoes, then may
    // close TCP.
    let mut server = open_server(Config::new());
    assert!(!server.close_expected());
    server.receive(&client_frame(true, Opcode::Close, &[0x03, 0xe8]));
    assert!(matches!(
        server.next_event(),
        Ok(Some(hybi::Event::Close(_)))
    ));
    assert!(matches!(server.next_event(), Ok(None)));
    let echo = server.transmit().to_vec();
    assert_eq!(echo, [0x88, 0x02, 0x03, 0xe8]);
    server.advance(echo.len());
    assert_eq!(server.state(), State::Closed);
    assert!(server.close_expected(), "the server closes TCP first");

    // The server starts it: after the client's reply, it closes TCP.
    let mut server = open_server(Config::new());
    server.close(CloseCode::NORMAL, "").unwrap();
    let n = server.transmit().len();
    server.advance(n);
    assert_eq!(server.state(), State::CloseSent);
    assert!(!server.close_expected());
    server.receive(&client_frame(true, Opcode::Close, &[0x03, 0xe8]));
    assert!(matches!(
        server.next_event(),
        Ok(Some(hybi::Event::Close(_)))
    ));
    assert_eq!(server.state(), State::Closed);
    assert!(server.close_expected());
    assert!(server.transmit().is_empty());

    // The client starts it: after the server's reply it waits for the
    // server to close TCP.
    let mut client = open_client(Config::new());
    assert!(!client.close_expected());
    client.close(CloseCode::NORMAL, "").unwrap();
    let n = client.transmit().len();
    client.advance(n);
    assert!(!client.close_expected());
    client.receive(&server_frame(true, Opcode::Close, &[0x03, 0xe8]));
    assert!(matches!(
        client.next_event(),
        Ok(Some(hybi::Event::Close(_)))
    ));
    assert!(matches!(client.next_event(), Ok(None)));
    assert_eq!(client.state(), State::Closed);
    assert!(!client.close_expected(), "the client waits for the server");
    client.receive_eof();
    assert!(
        matches!(client.next_event(), Ok(None)),
        "no 1006 after a clean close"
    );
    assert!(client.close_expected());

    // The server starts it: the client echoes and still waits.
    let mut client = open_client(Config::new());
    client.receive(&server_frame(true, Opcode::Close, &[0x03, 0xe9]));
    assert!(matches!(
        client.next_event(),
        Ok(Some(hybi::Event::Close(_)))
    ));
    let echo = client.transmit().to_vec();
    assert_eq!(sent_close(Side::Client, &echo), [0x03, 0xe9]);
    client.advance(echo.len());
    assert_eq!(client.state(), State::Closed);
    assert!(!client.close_expected());
    client.receive_eof();
    assert!(matches!(client.next_event(), Ok(None)));
    assert!(client.close_expected());
}

#[test]
fn eof_without_close_reports_1006_never_sent() {
    for side in BOTH {
        let cases = [
            peer(side, true, Opcode::Text, b"hi"),
            // EOF inside a frame and inside a fragmented message.
            peer(side, true, Opcode::Text, b"hello")[..4].to_vec(),
            peer(side, false, Opcode::Binary, b"part"),
            Vec::new(),
        ];
        let expected: [&[Ev]; 4] = [
            &[Ev::Text("hi".into()), Ev::Close(1006, String::new())],
            &[Ev::Close(1006, String::new())],
            &[Ev::Close(1006, String::new())],
            &[Ev::Close(1006, String::new())],
        ];
        for (input, events) in cases.iter().zip(expected) {
            let t = assert_split_invariant(|| open(side, Config::new()), input, true);
            assert_eq!(t.error, None);
            assert_eq!(t.events, events, "{side:?}");
            assert!(t.output.is_empty(), "1006 is never sent: {:02x?}", t.output);
            assert_eq!(t.state, State::Closed);
        }
        // EOF while waiting for the peer's Close.
        let make = || {
            let mut conn = open(side, Config::new());
            conn.close(CloseCode::NORMAL, "").unwrap();
            let n = conn.transmit().len();
            conn.advance(n);
            conn
        };
        let t = assert_split_invariant(make, &peer(side, true, Opcode::Text, b"x"), true);
        assert_eq!(
            t.events,
            [Ev::Text("x".into()), Ev::Close(1006, String::new())]
        );
        assert!(t.output.is_empty());

        let mut conn = open(side, Config::new());
        for code in [1005, 1006, 1015] {
            assert_eq!(
                conn.close(CloseCode(code), ""),
                Err(UsageError::InvalidCloseCode),
                "{code} may not be sent"
            );
        }
        conn.receive_eof();
        match conn.next_event() {
            Ok(Some(hybi::Event::Close(frame))) => assert_eq!(frame.code, CloseCode::ABNORMAL),
            other => panic!("{other:?}"),
        }
        assert!(matches!(conn.next_event(), Ok(None)), "reported once");
        assert!(conn.transmit().is_empty());
        assert!(conn.close_expected());
        assert_eq!(conn.close(CloseCode::NORMAL, ""), Err(UsageError::Closed));
        assert!(conn.transmit().is_empty());
    }
    // During the handshake as well.
    let t = assert_split_invariant(|| Connection::server(Config::new()), &REQUEST[..40], true);
    assert_eq!(t.events, [Ev::Close(1006, String::new())]);
    assert!(t.output.is_empty());
}

// ----- handshake (§4) -------------------------------------------------------------

#[test]
fn server_checks_get() {
    for method in ["POST", "PUT", "HEAD", "get", "CONNECT"] {
        let request = request_with("GET /chat", &format!("{method} /chat"));
        let t = assert_request_rejected(
            Config::new(),
            &request,
            HandshakeError::MethodNotGet,
            405,
            "HTTP/1.1 405 Method Not Allowed\r\n",
        );
        let out = String::from_utf8(t.output).unwrap();
        assert!(out.contains("\r\nAllow: GET\r\n"), "{out}");
    }
    assert_request_accepted(Config::new(), REQUEST);
}

#[test]
fn server_checks_http_1_1() {
    assert_request_rejected(
        Config::new(),
        &request_with("HTTP/1.1\r\n", "HTTP/1.0\r\n"),
        HandshakeError::UnsupportedHttpVersion,
        400,
        "HTTP/1.1 400 Bad Request\r\n",
    );
}

#[test]
fn server_checks_host() {
    assert_request_rejected(
        Config::new(),
        &request_with("Host: server.example.com\r\n", ""),
        HandshakeError::MissingHost,
        400,
        "HTTP/1.1 400 Bad Request\r\n",
    );
    assert_request_rejected(
        Config::new(),
        &request_with(
            "Host: server.example.com\r\n",
            "Host: server.example.com\r\nHost: evil.example.com\r\n",
        ),
        HandshakeError::RepeatedHost,
        400,
        "HTTP/1.1 400 Bad Request\r\n",
    );
    assert_request_accepted(
        Config::new(),
        &request_with("Host: server.example.com", "host: server.example.com:8080"),
    );
}

/// RFC 7230 §3.3.3: an upgrade request that announces a body is refused, and
/// the body (a valid masked Text frame here) is never decoded as a frame.
#[test]
fn server_refuses_request_body_and_never_reads_it_as_frames() {
    let smuggled: &[u8] = &[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    for announce in [
        "Content-Length: 11\r\n",
        "content-length: 11\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
        "Content-Length: 11\r\nContent-Length: 11\r\n",
    ] {
        let mut request = request_with("\r\n\r\n", &format!("\r\n{announce}\r\n"));
        request.extend_from_slice(smuggled);
        let t = assert_request_rejected(
            Config::new(),
            &request,
            HandshakeError::RequestBody,
            400,
            "HTTP/1.1 400 Bad Request\r\n",
        );
        assert!(
            !t.output.windows(7).any(|w| w == b"\x81\x05Hello"),
            "{announce}: the smuggled frame was echoed"
        );
    }
    // No body announced: accepted (frames after it: handshake_server.vectors).
    assert_request_accepted(
        Config::new(),
        &request_with("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n"),
    );
}

#[test]
fn server_checks_upgrade_token_case_insensitive() {
    for value in [
        "WebSocket",
        "WEBSOCKET",
        "websocket",
        "h2c, websocket",
        " websocket ",
    ] {
        assert_request_accepted(
            Config::new(),
            &request_with("Upgrade: websocket", &format!("upgrade: {value}")),
        );
    }
    for bad in [
        "Upgrade: websockets",
        "Upgrade: h2c",
        "Upgrade: web socket",
        "X-Up: websocket",
    ] {
        assert_request_rejected(
            Config::new(),
            &request_with("Upgrade: websocket", bad),
            HandshakeError::MissingUpgrade,
            400,
            "HTTP/1.1 400 Bad Request\r\n",
        );
    }
}

#[test]
fn server_checks_connection_token_list() {
    for value in [
        "Connection: keep-alive, Upgrade",
        "connection: UPGRADE",
        "Connection: keep-alive,upgrade",
        "Connection: keep-alive\r\nConnection: Upgrade",
    ] {
        assert_request_accepted(Config::new(), &request_with("Connection: Upgrade", value));
    }
    for bad in [
        "Connection: keep-alive",
        "Connection: close",
        "Connection: Upgraded",
        "Connection: keep-alive upgrade",
        "X-Connection: Upgrade",
    ] {
        assert_request_rejected(
            Config::new(),
            &request_with("Connection: Upgrade", bad),
            HandshakeError::MissingConnectionUpgrade,
            400,
            "HTTP/1.1 400 Bad Request\r\n",
        );
    }
}

#[test]
fn server_checks_key_decodes_to_16_bytes() {
    let key_line = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for bad in [
        "Sec-WebSocket-Key: c2hvcnQ=\r\n",                     // 5 bytes
        "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n",     // 17 bytes
        "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA\r\n",     // 18 bytes
        "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n", // 21 bytes
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!\r\n",     // not base64
        "Sec-WebSocket-Key: \r\n",
        "",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n",
    ] {
        assert_request_rejected(
            Config::new(),
            &request_with(key_line, bad),
            HandshakeError::InvalidKey,
            400,
            "HTTP/1.1 400 Bad Request\r\n",
        );
    }
    for good in [
        "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n",
        "sec-websocket-key: /////////////////////w==\r\n",
        // Optional whitespace around a field value is not part of it.
        "Sec-WebSocket-Key:   dGhlIHNhbXBsZSBub25jZQ==  \r\n",
    ] {
        assert_request_accepted(Config::new(), &request_with(key_line, good));
    }
}

#[test]
fn server_requires_version_13_else_426_with_header() {
    let line = "Sec-WebSocket-Version: 13\r\n";
    for bad in [
        "Sec-WebSocket-Version: 8\r\n",
        "Sec-WebSocket-Version: 12\r\n",
        "Sec-WebSocket-Version: 14\r\n",
        "Sec-WebSocket-Version: 130\r\n",
        "Sec-WebSocket-Version: \r\n",
        "",
    ] {
        let t = assert_request_rejected(
            Config::new(),
            &request_with(line, bad),
            HandshakeError::UnsupportedVersion,
            426,
            "HTTP/1.1 426 Upgrade Required\r\n",
        );
        let out = String::from_utf8(t.output).unwrap();
        let head = out.split("\r\n\r\n").next().unwrap();
        assert!(
            head.lines()
                .any(|l| l.eq_ignore_ascii_case("Sec-WebSocket-Version: 13")),
            "{out}"
        );
    }
    assert_request_accepted(
        Config::new(),
        &request_with(line, "sec-websocket-version:13\r\n"),
    );
}

#[test]
fn server_bounds_header_size_431() {
    let config = Config::new().max_handshake_bytes(512);
    let pad = format!("X-Pad: {}\r\n", "a".repeat(600));
    let request = request_with("Origin:", &format!("{pad}Origin:"));
    assert_request_rejected(
        config,
        &request,
        HandshakeError::HeadersTooLarge,
        431,
        "HTTP/1.1 431 Request Header Fields Too Large\r\n",
    );
    // A head that never ends is refused once it passes the limit.
    let endless = [
        REQUEST.strip_suffix(b"\r\n").unwrap(),
        "X-Pad: aaaa\r\n".repeat(100).as_bytes(),
    ]
    .concat();
    assert_request_rejected(
        config,
        &endless,
        HandshakeError::HeadersTooLarge,
        431,
        "HTTP/1.1 431 Request Header Fields Too Large\r\n",
    );
    // Under the limit is fine.
    assert!(REQUEST.len() < 512);
    assert_request_accepted(config, REQUEST);
}

#[test]
fn server_bounds_header_count_431() {
    // REQUEST has 7 headers.
    let config = Config::new().max_headers(9);
    let extra = |n: usize| -> Vec<u8> {
        let headers: String = (0..n).map(|i| format!("X-Extra-{i}: {i}\r\n")).collect();
        request_with("Origin:", &format!("{headers}Origin:"))
    };
    assert_request_accepted(config, &extra(2));
    for n in [3, 10, 100] {
        assert_request_rejected(
            config,
            &extra(n),
            HandshakeError::TooManyHeaders,
            431,
            "HTTP/1.1 431 Request Header Fields Too Large\r\n",
        );
    }
}

#[test]
fn client_checks_101() {
    // Another status is reported as a rejection, and the connection is over.
    let t = assert_split_invariant(
        || fresh_client(&[]),
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope",
        false,
    );
    assert_eq!(t.error, None);
    assert_eq!(t.events, [Ev::Rejected(403, b"nope".to_vec())]);
    assert_eq!(t.state, State::Closed);
    assert!(t.output.is_empty());
    // Even one that otherwise looks like an acceptance.
    let good = good_response(&[]);
    let t = assert_split_invariant(
        || fresh_client(&[]),
        &edit(&good, "101 Switching Protocols", "200 OK"),
        true,
    );
    assert_eq!(t.events, [Ev::Rejected(200, Vec::new())]);
    assert_eq!(t.state, State::Closed);
    let mut conn = fresh_client(&[]);
    conn.receive(&edit(&good, "101 Switching Protocols", "200 OK"));
    conn.receive_eof();
    assert!(matches!(
        conn.next_event(),
        Ok(Some(hybi::Event::HandshakeRejected(_)))
    ));
    assert!(conn.close_expected());
    assert_eq!(conn.send_text("x"), Err(UsageError::Closed));
    // Not HTTP at all.
    assert_response_refused(
        &[],
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        HandshakeError::MalformedResponse,
    );
    assert_response_accepted(&[], good.as_bytes());
}

#[test]
fn client_checks_upgrade_and_connection() {
    let good = good_response(&[]);
    for (from, to) in [
        ("Upgrade: websocket\r\n", ""),
        ("Upgrade: websocket", "Upgrade: h2c"),
        ("Upgrade: websocket", "Upgrade: websockets"),
    ] {
        assert_response_refused(
            &[],
            &edit(&good, from, to),
            HandshakeError::ResponseMissingUpgrade,
        );
    }
    for (from, to) in [
        ("Connection: Upgrade\r\n", ""),
        ("Connection: Upgrade", "Connection: close"),
        ("Connection: Upgrade", "Connection: keep-alive"),
    ] {
        assert_response_refused(
            &[],
            &edit(&good, from, to),
            HandshakeError::ResponseMissingConnectionUpgrade,
        );
    }
    assert_response_accepted(
        &[],
        &edit(
            &String::from_utf8(edit(&good, "Upgrade: websocket", "upgrade: WebSocket")).unwrap(),
            "Connection: Upgrade",
            "connection: keep-alive, UPGRADE",
        ),
    );
}

#[test]
fn client_checks_accept() {
    let good = good_response(&[]);
    let start = good.find("Sec-WebSocket-Accept: ").unwrap();
    let line = &good[start..good[start..].find("\r\n").unwrap() + start + 2];
    for to in [
        String::new(),
        // The RFC's accept value belongs to another key.
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n".to_string(),
        line.to_lowercase(),
        "Sec-WebSocket-Accept: \r\n".to_string(),
    ] {
        assert_response_refused(&[], &edit(&good, line, &to), HandshakeError::InvalidAccept);
    }
}

#[test]
fn client_checks_subprotocol_was_offered() {
    const OFFERED: &[&str] = &["chat", "superchat"];
    let good = good_response(OFFERED);
    let with = |value: &str| {
        edit(
            &good,
            "\r\n\r\n",
            &format!("\r\nSec-WebSocket-Protocol: {value}\r\n\r\n"),
        )
    };
    for chosen in ["chat", "superchat"] {
        assert_response_accepted(OFFERED, &with(chosen));
        let mut conn = fresh_client(OFFERED);
        conn.receive(&with(chosen));
        match conn.next_event() {
            Ok(Some(hybi::Event::HandshakeResponse(r))) => assert_eq!(r.protocol(), Some(chosen)),
            other => panic!("{other:?}"),
        }
    }
    for bad in ["other", "chat, superchat", "cha"] {
        assert_response_refused(OFFERED, &with(bad), HandshakeError::UnexpectedProtocol);
    }
    // Nothing offered: nothing may be chosen.
    let none = good_response(&[]);
    assert_response_refused(
        &[],
        &edit(
            &none,
            "\r\n\r\n",
            "\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
        ),
        HandshakeError::UnexpectedProtocol,
    );
    // No subprotocol chosen is fine.
    assert_response_accepted(OFFERED, good.as_bytes());
}

#[test]
fn client_checks_extensions_were_offered() {
    let good = good_response(&[]);
    for ext in ["permessage-deflate", "x-webkit-deflate-frame", "foo; bar=1"] {
        assert_response_refused(
            &[],
            &edit(
                &good,
                "\r\n\r\n",
                &format!("\r\nSec-WebSocket-Extensions: {ext}\r\n\r\n"),
            ),
            HandshakeError::UnexpectedExtension,
        );
    }
}

#[test]
fn accept_key_rfc_vector() {
    assert_eq!(
        AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    // And the server puts it in its 101 for the RFC's request.
    let mut server = Connection::server(Config::new());
    server.receive(REQUEST);
    assert!(matches!(
        server.next_event(),
        Ok(Some(hybi::Event::HandshakeRequest(_)))
    ));
    server.accept(Accept::new()).unwrap();
    let out = String::from_utf8(server.transmit().to_vec()).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{out}"
    );
    assert!(
        out.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{out}"
    );
    assert!(out.ends_with("\r\n\r\n"));
}

// ----- splitting ----------------------------------------------------------------

/// A stream exercising every length form and fragment shape, as `side`'s peer
/// sends it, with the events it must produce.
fn mixed_stream(side: Side) -> (Vec<u8>, Vec<Ev>) {
    let text = "Grüße, κόσμε, 你好, 😀!";
    let bytes = text.as_bytes();
    let mut input = Vec::new();
    let mut events = Vec::new();
    for len in [0usize, 1, 125, 126, 127, 65_535, 65_536] {
        let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        input.extend(peer(side, true, Opcode::Binary, &payload));
        events.push(Ev::Binary(payload));
    }
    // Text split at every byte position, including inside characters.
    for cut in [1, 3, 4, 9, 20, 27, bytes.len() - 1] {
        input.extend(peer(side, false, Opcode::Text, &bytes[..cut]));
        input.extend(peer(side, false, Opcode::Continuation, &[]));
        input.extend(peer(side, true, Opcode::Continuation, &bytes[cut..]));
        events.push(Ev::Text(text.into()));
    }
    input.extend(peer(side, true, Opcode::Text, "x".repeat(300).as_bytes()));
    events.push(Ev::Text("x".repeat(300)));
    input.extend(peer(side, true, Opcode::Pong, b"heartbeat"));
    events.push(Ev::Pong(b"heartbeat".to_vec()));
    input.extend(peer(side, true, Opcode::Ping, b"are you there"));
    events.push(Ev::Ping(b"are you there".to_vec()));
    input.extend(peer(side, true, Opcode::Ping, b"again"));
    events.push(Ev::Ping(b"again".to_vec()));
    input.extend(peer(
        side,
        true,
        Opcode::Close,
        &[0x0f, 0xa0, b'b', b'y', b'e'],
    ));
    events.push(Ev::Close(4000, "bye".into()));
    (input, events)
}

#[test]
fn split_invariance_server_stream() {
    let (input, events) = mixed_stream(Side::Server);
    let t = assert_events(Side::Server, Config::new(), &input, &events);
    assert_eq!(
        t.output,
        [
            &[0x8a, 13][..],
            b"are you there",
            &[0x8a, 5],
            b"again",
            &[0x88, 0x02, 0x0f, 0xa0]
        ]
        .concat()
    );
    assert_eq!(t.state, State::Closed);
}

#[test]
fn split_invariance_client_stream() {
    let (input, events) = mixed_stream(Side::Client);
    let t = assert_events(Side::Client, Config::new(), &input, &events);
    let sent = sent_frames(&t.output);
    assert_eq!(sent.len(), 3);
    assert_eq!(
        (sent[0].b0, sent[0].payload.as_slice()),
        (0x8a, &b"are you there"[..])
    );
    assert_eq!(
        (sent[1].b0, sent[1].payload.as_slice()),
        (0x8a, &b"again"[..])
    );
    assert_eq!(
        (sent[2].b0, sent[2].payload.as_slice()),
        (0x88, &[0x0f, 0xa0][..])
    );
    assert!(sent.iter().all(|f| f.masked));
    assert_eq!(t.state, State::Closed);
}

#[test]
fn split_invariance_chunked_messages() {
    let threshold = 16;
    let config = Config::new().chunk_threshold(threshold);
    let text: String = "aé€😀".repeat(20);
    let binary: Vec<u8> = (0..100u8).collect();
    for side in BOTH {
        let bytes = text.as_bytes();
        let input = [
            peer(side, true, Opcode::Text, bytes),
            peer(side, false, Opcode::Binary, &binary[..30]),
            peer(side, true, Opcode::Ping, b"mid"),
            peer(side, true, Opcode::Continuation, &binary[30..]),
            peer(side, true, Opcode::Text, b"short"),
        ]
        .concat();
        let t = assert_split_invariant(|| open(side, config), &input, false);
        assert_eq!(t.error, None);
        let mut text_out = String::new();
        let mut binary_out = Vec::new();
        let mut lasts = Vec::new();
        for event in &t.events {
            match event {
                Ev::TextChunk(data, last) => {
                    assert!(data.len() <= threshold, "{data:?}");
                    text_out.push_str(data);
                    lasts.push(('t', *last));
                }
                Ev::BinaryChunk(data, last) => {
                    assert!(data.len() <= threshold);
                    binary_out.extend_from_slice(data);
                    lasts.push(('b', *last));
                }
                Ev::Ping(p) => assert_eq!(p, b"mid"),
                Ev::Text(t) => assert_eq!(t, "short"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(text_out, text);
        assert_eq!(binary_out, binary);
        assert_eq!(t.events.last(), Some(&Ev::Text("short".into())));
        // Exactly one `last` per message, at its end.
        let t_lasts: Vec<bool> = lasts
            .iter()
            .filter(|(k, _)| *k == 't')
            .map(|x| x.1)
            .collect();
        let b_lasts: Vec<bool> = lasts
            .iter()
            .filter(|(k, _)| *k == 'b')
            .map(|x| x.1)
            .collect();
        assert!(t_lasts.len() > 1 && b_lasts.len() > 1);
        assert_eq!(t_lasts.iter().filter(|l| **l).count(), 1);
        assert_eq!(t_lasts.last(), Some(&true));
        assert_eq!(b_lasts.iter().filter(|l| **l).count(), 1);
        assert_eq!(b_lasts.last(), Some(&true));
    }
}

// ----- nothing lost -----------------------------------------------------------------

#[test]
fn messages_queued_before_close_are_written_first() {
    for side in BOTH {
        let mut conn = open(side, Config::new());
        conn.send_text("one").unwrap();
        conn.send_binary(&[1, 2, 3]).unwrap();
        conn.send_fragment(MessageKind::Text, "tw".as_bytes(), false)
            .unwrap();
        conn.send_ping(b"p").unwrap();
        conn.send_fragment(MessageKind::Text, "o".as_bytes(), true)
            .unwrap();
        conn.close(CloseCode::NORMAL, "done").unwrap();
        let out = conn.transmit().to_vec();
        let sent: Vec<(u8, Vec<u8>)> = sent_frames(&out)
            .into_iter()
            .map(|f| {
                assert_eq!(f.masked, side == Side::Client);
                (f.b0, f.payload)
            })
            .collect();
        assert_eq!(
            sent,
            [
                (0x81, b"one".to_vec()),
                (0x82, vec![1, 2, 3]),
                (0x01, b"tw".to_vec()),
                (0x89, b"p".to_vec()),
                (0x80, b"o".to_vec()),
                (0x88, [&[0x03, 0xe8][..], b"done"].concat()),
            ]
        );
        if side == Side::Server {
            let expected = [
                server_frame(true, Opcode::Text, b"one"),
                server_frame(true, Opcode::Binary, &[1, 2, 3]),
                server_frame(false, Opcode::Text, b"tw"),
                server_frame(true, Opcode::Ping, b"p"),
                server_frame(true, Opcode::Continuation, b"o"),
                server_frame(true, Opcode::Close, &[0x03, 0xe8, b'd', b'o', b'n', b'e']),
            ]
            .concat();
            assert_eq!(out, expected);
        }

        // Partial writes keep the order too.
        let mut conn = open(side, Config::new());
        conn.send_text("first").unwrap();
        let head = conn.transmit()[..3].to_vec();
        conn.advance(3);
        conn.send_binary(b"second").unwrap();
        conn.close(CloseCode::NORMAL, "").unwrap();
        let out = [head, conn.transmit().to_vec()].concat();
        let kinds: Vec<u8> = sent_frames(&out).iter().map(|f| f.b0).collect();
        assert_eq!(kinds, [0x81, 0x82, 0x88]);

        // A message sent before the peer's Close is decoded goes out before
        // the echo; once the Close is decoded the echo is queued and nothing
        // more may be sent.
        let mut conn = open(side, Config::new());
        conn.receive(&peer(side, true, Opcode::Close, &[0x03, 0xe8]));
        conn.send_text("last words").unwrap();
        assert!(matches!(conn.next_event(), Ok(Some(hybi::Event::Close(_)))));
        assert_eq!(conn.send_text("too late"), Err(UsageError::Closed));
        let out = conn.transmit().to_vec();
        let sent = sent_frames(&out);
        assert_eq!(sent.len(), 2);
        assert_eq!(
            (sent[0].b0, sent[0].payload.as_slice()),
            (0x81, &b"last words"[..])
        );
        assert_eq!(
            (sent[1].b0, sent[1].payload.as_slice()),
            (0x88, &[0x03, 0xe8][..])
        );
    }
}

/// Feeds `input` to a fresh server at `cuts`, accepting the request as soon as
/// it is reported, draining after every piece.
fn feed_accepting(input: &[u8], cuts: &[usize]) -> Transcript {
    let mut conn = Connection::server(Config::new());
    let mut t = Transcript::new(&conn);
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(start, input.len());
        conn.receive(&input[start..cut]);
        start = cut;
        drain(&mut conn, &mut t);
        if conn.state() == State::RequestReceived {
            conn.accept(Accept::new()).unwrap();
            drain(&mut conn, &mut t);
        }
    }
    t
}

/// `feed_accepting` whole, byte by byte and at random splits; all the same.
fn assert_split_invariant_accepting(input: &[u8]) -> Transcript {
    let whole = feed_accepting(input, &[]);
    let bytewise: Vec<usize> = (1..input.len()).collect();
    assert_eq!(whole, feed_accepting(input, &bytewise), "byte by byte");
    for seed in 0..8 {
        let cuts = random_cuts(input.len(), seed, 60);
        assert_eq!(whole, feed_accepting(input, &cuts), "seed {seed}");
    }
    whole
}

#[test]
fn bytes_after_handshake_are_kept() {
    // Server: frames pipelined in the same read as the request.
    let input = [
        REQUEST.to_vec(),
        client_frame(true, Opcode::Text, b"Hello"),
        client_frame(true, Opcode::Binary, &[0; 200]),
        client_frame(true, Opcode::Ping, b"p"),
        client_frame(true, Opcode::Close, &[0x03, 0xe8]),
    ]
    .concat();
    let t = assert_split_invariant_accepting(&input);
    assert_eq!(t.error, None);
    assert_eq!(
        t.events,
        [
            Ev::Request("/chat".into()),
            Ev::Text("Hello".into()),
            Ev::Binary(vec![0; 200]),
            Ev::Ping(b"p".to_vec()),
            Ev::Close(1000, String::new()),
        ]
    );
    let out = t.output;
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(out.starts_with(b"HTTP/1.1 101 "));
    assert_eq!(&out[head_end..], [0x8a, 0x01, b'p', 0x88, 0x02, 0x03, 0xe8]);
    assert_eq!(t.state, State::Closed);

    // Frames that arrive before the caller accepts wait for the accept.
    let mut server = Connection::server(Config::new());
    server.receive(&input);
    assert!(matches!(
        server.next_event(),
        Ok(Some(hybi::Event::HandshakeRequest(_)))
    ));
    assert!(matches!(server.next_event(), Ok(None)));
    server.accept(Accept::new()).unwrap();
    match server.next_event() {
        Ok(Some(hybi::Event::Text(t))) => assert_eq!(t, "Hello"),
        other => panic!("{other:?}"),
    }

    // Client: frames in the same read as the 101.
    let make = || new_client(Config::new(), 3);
    let request = make().transmit().to_vec();
    let input = [
        response_for(&request),
        server_frame(true, Opcode::Text, b"welcome"),
        server_frame(false, Opcode::Binary, &[1]),
        server_frame(true, Opcode::Continuation, &[2]),
        server_frame(true, Opcode::Close, &[0x03, 0xe9]),
    ]
    .concat();
    let make = || {
        let mut conn = new_client(Config::new(), 3);
        let n = conn.transmit().len();
        conn.advance(n);
        conn
    };
    let t = assert_split_invariant(make, &input, false);
    assert_eq!(t.error, None);
    assert_eq!(
        t.events,
        [
            Ev::Response(101),
            Ev::Text("welcome".into()),
            Ev::Binary(vec![1, 2]),
            Ev::Close(1001, String::new()),
        ]
    );
    assert_eq!(sent_close(Side::Client, &t.output), [0x03, 0xe9]);
}

#[test]
fn error_never_drops_decoded_events() {
    for side in BOTH {
        let input = [
            peer(side, true, Opcode::Text, b"one"),
            peer(side, true, Opcode::Binary, &[2; 300]),
            peer(side, false, Opcode::Text, b"thr"),
            peer(side, true, Opcode::Pong, b"beat"),
            peer(side, true, Opcode::Continuation, b"ee"),
            peer(side, true, Opcode::Ping, b"ping 1"),
            peer(side, true, Opcode::Text, b""),
            peer(side, true, Opcode::Ping, b"ping 2"),
            // Broken: reserved opcode 0x3.
            peer_raw(side, 0x83, b"bad"),
            peer(side, true, Opcode::Text, b"never"),
        ]
        .concat();
        assert_protocol_error(
            side,
            Config::new(),
            &input,
            &[
                Ev::Text("one".into()),
                Ev::Binary(vec![2; 300]),
                Ev::Pong(b"beat".to_vec()),
                Ev::Text("three".into()),
                Ev::Ping(b"ping 1".to_vec()),
                Ev::Text(String::new()),
                Ev::Ping(b"ping 2".to_vec()),
            ],
            ProtocolError::ReservedOpcode,
            1002,
        );
        // Also when the error is found inside a later message's payload.
        let input = [
            peer(side, true, Opcode::Text, b"fine"),
            peer(side, true, Opcode::Binary, b"also fine"),
            peer(side, true, Opcode::Text, b"bro\xffken"),
        ]
        .concat();
        assert_protocol_error(
            side,
            Config::new(),
            &input,
            &[Ev::Text("fine".into()), Ev::Binary(b"also fine".to_vec())],
            ProtocolError::InvalidUtf8,
            1007,
        );
    }
}

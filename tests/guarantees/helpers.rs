//! Helpers shared by the guarantee tests: which end is under test, frames as
//! that end's peer sends them, decoding what the engine wrote, and the
//! assertions every protocol-error and handshake test makes.

pub(crate) use crate::common::*;
pub(crate) use hybi::frame::Opcode;
pub(crate) use hybi::{
    Accept, AcceptKey, ClientRequest, CloseCode, Config, Connection, Error, HandshakeError,
    MessageKind, ProtocolError, SeededRandom, State, UsageError,
};

/// Which end of the connection is under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    Client,
}

pub(crate) const BOTH: [Side; 2] = [Side::Server, Side::Client];

/// An open connection (handshake done) for `side`.
pub(crate) fn open(side: Side, config: Config) -> Connection {
    match side {
        Side::Server => open_server(config),
        Side::Client => open_client(config),
    }
}

/// A frame as the peer of `side` sends it: masked towards a server, unmasked
/// towards a client.
pub(crate) fn peer(side: Side, fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    match side {
        Side::Server => client_frame(fin, opcode, payload),
        Side::Client => server_frame(fin, opcode, payload),
    }
}

/// A raw frame (arbitrary first byte) as the peer of `side` would mask it.
pub(crate) fn peer_raw(side: Side, b0: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(b0, side == Side::Server, payload)
}

/// A frame header (no payload) as the peer of `side` sends it, declaring `len`.
pub(crate) fn peer_header(side: Side, b0: u8, len: u64) -> Vec<u8> {
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
pub(crate) struct Sent {
    pub(crate) b0: u8,
    pub(crate) payload: Vec<u8>,
    pub(crate) masked: bool,
}

/// Splits bytes written by the engine into frames, unmasking client frames.
pub(crate) fn sent_frames(mut out: &[u8]) -> Vec<Sent> {
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
pub(crate) fn sent_close(side: Side, out: &[u8]) -> Vec<u8> {
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
pub(crate) fn assert_protocol_error(
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
pub(crate) fn assert_sticky(side: Side, config: Config, input: &[u8], error: Error) {
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
pub(crate) fn assert_fails(side: Side, input: &[u8], expected: ProtocolError, code: u16) {
    assert_protocol_error(side, Config::new(), input, &[], expected, code);
}

/// Feeds `input` split-invariantly and asserts it is accepted with `events`.
pub(crate) fn assert_events(side: Side, config: Config, input: &[u8], events: &[Ev]) -> Transcript {
    let t = assert_split_invariant(|| open(side, config), input, false);
    assert_eq!(t.error, None, "{side:?}: unexpected error");
    assert_eq!(t.events, events, "{side:?}");
    t
}

/// `REQUEST` with the first occurrence of `from` replaced by `to`.
pub(crate) fn request_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(REQUEST).unwrap();
    assert!(text.contains(from), "REQUEST has no {from:?}");
    text.replacen(from, to, 1).into_bytes()
}

/// Asserts a server answers `request` with `expected`, an HTTP response
/// starting with `status_line`, and stays failed.
pub(crate) fn assert_request_rejected(
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
pub(crate) fn assert_request_accepted(config: Config, request: &[u8]) {
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
pub(crate) fn fresh_client(protocols: &'static [&'static str]) -> Connection {
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
pub(crate) fn good_response(protocols: &'static [&'static str]) -> String {
    let mut conn = Connection::client_with_rng(
        ClientRequest::new("server.example.com", "/chat").protocols(protocols),
        Config::new(),
        Box::new(SeededRandom::new(7)),
    )
    .unwrap();
    String::from_utf8(response_for(conn.transmit())).unwrap()
}

/// `text` with `from` (which must occur) replaced by `to`.
pub(crate) fn edit(text: &str, from: &str, to: &str) -> Vec<u8> {
    assert!(text.contains(from), "{text:?} has no {from:?}");
    text.replacen(from, to, 1).into_bytes()
}

/// Asserts a client offering `protocols` fails on `response` with `expected`,
/// sends nothing, and stays failed.
pub(crate) fn assert_response_refused(
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
pub(crate) fn assert_response_accepted(protocols: &'static [&'static str], response: &[u8]) {
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

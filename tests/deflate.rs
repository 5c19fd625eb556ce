//! permessage-deflate end to end (RFC 7692): negotiation in both roles,
//! compressed messages both ways with and without context takeover,
//! fragments, chunked delivery, RSV1 misuse, invalid DEFLATE data and the
//! RFC's own examples.
#![cfg(feature = "deflate")]

mod common;

use common::{Ev, Pair, client_frame, raw_frame};
use hybi::frame::Opcode;
use hybi::{
    Accept, CloseCode, Config, Connection, DeflateConfig, DeflateParams, Error, Event, MessageKind,
    ProtocolError, UsageError,
};

fn deflate_pair(client: DeflateConfig, server: DeflateConfig) -> Pair {
    Pair::connected(Config::new().deflate(client), Config::new().deflate(server))
}

/// A JSON message like an exchange's ticker update.
fn ticker(i: usize) -> String {
    format!(
        "{{\"type\":\"ticker\",\"product_id\":\"BTC-USD\",\"sequence\":{},\"price\":\"{}.{:02}\",\
\"best_bid\":\"{}.00\",\"best_ask\":\"{}.01\",\"side\":\"buy\",\"last_size\":\"0.0{}\"}}",
        1000 + i,
        60000 + i % 7,
        i % 100,
        60000 + i % 5,
        60000 + i % 5,
        i % 9
    )
}

#[test]
fn both_ends_agree_and_report_the_parameters() {
    let server_policy = DeflateConfig::new()
        .own_window_bits(12)
        .peer_window_bits(11);
    let pair = deflate_pair(DeflateConfig::new(), server_policy);
    let expected = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: Some(12),
        client_max_window_bits: Some(11),
    };
    assert_eq!(pair.server.deflate(), Some(expected));
    assert_eq!(pair.client.deflate(), Some(expected));
    assert_eq!(
        expected.to_string(),
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=11"
    );
}

#[test]
fn without_a_policy_every_offer_is_declined() {
    let pair = Pair::connected(Config::new().deflate(DeflateConfig::new()), Config::new());
    assert_eq!(pair.server.deflate(), None);
    assert_eq!(pair.client.deflate(), None);
}

/// Messages of every kind echo through compression intact, in both
/// directions, whatever the context-takeover settings.
#[test]
fn messages_round_trip_in_every_takeover_mode() {
    let modes = [
        (false, false, true),
        (true, false, true),
        (false, true, true),
        (true, true, true),
        (true, true, false),
    ];
    for (own, peer, release) in modes {
        let policy = DeflateConfig::new()
            .own_no_context_takeover(own)
            .peer_no_context_takeover(peer)
            .release_between_messages(release)
            .own_window_bits(10);
        let mut pair = deflate_pair(policy, DeflateConfig::new());
        let params = pair.server.deflate().unwrap();
        assert_eq!(params.client_no_context_takeover, own);
        assert_eq!(params.server_no_context_takeover, peer);
        let big: String = "ünïcödé text, ".repeat(50_000);
        let messages: Vec<Ev> = vec![
            Ev::Text(ticker(1)),
            Ev::Text(ticker(2)),
            Ev::Text("short".into()),
            Ev::Binary((0..=255u8).cycle().take(5000).collect()),
            Ev::Text(big.clone()),
            Ev::Text(String::new()),
            Ev::Text(ticker(3)),
        ];
        for m in &messages {
            match m {
                Ev::Text(t) => {
                    pair.client.send_text(t).unwrap();
                    pair.server.send_text(t).unwrap();
                }
                Ev::Binary(b) => {
                    pair.client.send_binary(b).unwrap();
                    pair.server.send_binary(b).unwrap();
                }
                _ => unreachable!(),
            }
        }
        pair.drive();
        assert_eq!(pair.server_error, None);
        assert_eq!(pair.client_error, None);
        assert_eq!(
            summary(&pair.server_events),
            summary(&messages),
            "own {own} peer {peer}"
        );
        assert_eq!(
            summary(&pair.client_events),
            summary(&messages),
            "own {own} peer {peer}"
        );
        assert!(pair.server_events == messages && pair.client_events == messages);
    }
}

/// Events as (kind, length, checksum), so a failure prints briefly.
fn summary(events: &[Ev]) -> Vec<(String, usize, u64)> {
    events
        .iter()
        .map(|e| {
            let (kind, bytes): (&str, &[u8]) = match e {
                Ev::Text(t) => ("text", t.as_bytes()),
                Ev::Binary(b) => ("binary", b),
                Ev::TextChunk(t, _) => ("text chunk", t.as_bytes()),
                Ev::BinaryChunk(b, _) => ("binary chunk", b),
                other => return (format!("{other:?}"), 0, 0),
            };
            let sum = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            (kind.to_string(), bytes.len(), sum)
        })
        .collect()
}

#[test]
fn rsv1_marks_compressed_messages_only() {
    let mut pair = deflate_pair(DeflateConfig::new(), DeflateConfig::new().threshold(100));
    pair.server.send_text(&ticker(1)).unwrap();
    let wire = pair.server.transmit().to_vec();
    assert_eq!(wire[0], 0xc1, "FIN, RSV1, text");
    assert!(wire.len() < ticker(1).len());
    pair.server.advance(wire.len());
    pair.server.send_text("under the threshold").unwrap();
    assert_eq!(
        pair.server.transmit()[0],
        0x81,
        "small messages go as they are"
    );
    let n = pair.server.transmit().len();
    pair.server.advance(n);
    // Already-compressed data: the opt-out for one message.
    pair.server.send_next_uncompressed();
    pair.server.send_text(&ticker(2)).unwrap();
    assert_eq!(pair.server.transmit()[0], 0x81);
    let n = pair.server.transmit().len();
    pair.server.advance(n);
    pair.server.send_text(&ticker(3)).unwrap();
    assert_eq!(
        pair.server.transmit()[0],
        0xc1,
        "the opt-out lasts one message"
    );
    // Control frames are never compressed.
    let n = pair.server.transmit().len();
    pair.server.advance(n);
    pair.server.send_ping(&[b'p'; 100]).unwrap();
    assert_eq!(pair.server.transmit()[0], 0x89);
}

#[test]
fn incompressible_messages_go_uncompressed_and_the_next_still_decodes() {
    let mut pair = deflate_pair(DeflateConfig::new(), DeflateConfig::new());
    let mut state = 0x1234_5678u32;
    let noise: Vec<u8> = (0..4000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    pair.server.send_text(&ticker(1)).unwrap();
    pair.server.send_binary(&noise).unwrap();
    let wire = pair.server.transmit().to_vec();
    let second = wire.iter().position(|&b| b == 0x82).unwrap();
    assert!(second > 2, "the noise frame is sent with RSV1 clear");
    pair.server.send_text(&ticker(2)).unwrap();
    pair.drive();
    assert_eq!(
        pair.client_events,
        [Ev::Text(ticker(1)), Ev::Binary(noise), Ev::Text(ticker(2))]
    );
}

#[test]
fn fragmented_compressed_messages_stream_with_control_frames_between() {
    let mut pair = deflate_pair(DeflateConfig::new(), DeflateConfig::new());
    let text = "fragmented and compressed ✓ ".repeat(2000);
    let bytes = text.as_bytes();
    let pieces: Vec<&[u8]> = bytes.chunks(7001).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        pair.client
            .send_fragment(MessageKind::Text, piece, last)
            .unwrap();
        if i == 1 {
            pair.client.send_ping(b"between").unwrap();
        }
    }
    let wire = pair.client.transmit().to_vec();
    assert_eq!(wire[0], 0x41, "first fragment: RSV1, text, no FIN");
    pair.drive();
    assert_eq!(pair.server_error, None);
    assert_eq!(
        pair.server_events,
        [Ev::Ping(b"between".to_vec()), Ev::Text(text)]
    );
}

#[test]
fn large_compressed_messages_arrive_in_chunks_of_about_the_threshold() {
    let threshold = 16 << 10;
    let mut pair = Pair::connected(
        Config::new().deflate(DeflateConfig::new()),
        Config::new()
            .deflate(DeflateConfig::new())
            .chunk_threshold(threshold),
    );
    let text = "ääääbbbb".repeat(100_000);
    pair.client.send_text(&text).unwrap();
    pair.drive();
    let mut whole = String::new();
    let mut last_seen = false;
    for ev in &pair.server_events {
        let Ev::TextChunk(data, last) = ev else {
            panic!("expected chunks, got {ev:?}");
        };
        assert!(!last_seen);
        assert!(data.len() <= threshold + 4, "{}", data.len());
        whole.push_str(data);
        last_seen = *last;
    }
    assert!(last_seen);
    assert_eq!(whole, text);
    assert!(pair.server.buffered_bytes() < 4 * threshold + (64 << 10));
}

/// RFC 7692 §7.2.3: "Hello" compressed, again with context takeover, as a
/// stored block, in two fragments, and with BFINAL set; each sent by a
/// client (masked).
#[test]
fn the_rfc_examples_decode() {
    let frames: [&[u8]; 6] = [
        &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        &[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00],
        &[
            0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ],
        &[
            0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
        ],
        &[
            0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07,
            0x00,
        ],
        &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
    ];
    let mut server =
        hybi::testing::open_server_deflate(Config::new().deflate(DeflateConfig::new()));
    let mut input = Vec::new();
    for frame in frames {
        input.extend(mask_frame(frame));
    }
    server.receive(&input);
    let mut got = Vec::new();
    while let Some(event) = server.next_event().unwrap() {
        got.push(Ev::from_event(&event));
    }
    assert_eq!(got, vec![Ev::Text("Hello".into()); 6]);
}

/// Re-encodes an unmasked frame (7-bit length, possibly two frames back to
/// back) as a client sends it.
fn mask_frame(frames: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < frames.len() {
        let b0 = frames[at];
        let len = usize::from(frames[at + 1]);
        let payload = &frames[at + 2..at + 2 + len];
        let mut f = client_frame(b0 & 0x80 != 0, Opcode::from_u8(b0 & 0x0f).unwrap(), payload);
        f[0] = b0;
        out.extend(f);
        at += 2 + len;
    }
    out
}

fn open_deflate_server() -> Connection {
    hybi::testing::open_server_deflate(Config::new().deflate(DeflateConfig::new()))
}

fn fails_with(input: &[u8], expected: ProtocolError) {
    let mut server = open_deflate_server();
    server.receive(input);
    let err = loop {
        match server.next_event() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error for {expected:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::Protocol(expected));
    let code = expected.close_code().0.to_be_bytes();
    let out = server.transmit();
    assert_eq!(&out[..4], &[0x88, 0x02, code[0], code[1]], "{expected:?}");
}

#[test]
fn rsv1_misuse_fails_with_1002() {
    // RSV1 on a continuation.
    let mut input = mask_frame(&[0x41, 0x03, 0xf2, 0x48, 0xcd]);
    input.extend(mask_frame(&[0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00]));
    fails_with(&input, ProtocolError::CompressedContinuation);
    // RSV1 on a control frame.
    fails_with(
        &raw_frame(0xc9, true, b"ping"),
        ProtocolError::CompressedControlFrame,
    );
    // RSV2 stays reserved.
    fails_with(&raw_frame(0xa1, true, b"x"), ProtocolError::ReservedBits);
    assert_eq!(
        ProtocolError::CompressedContinuation.close_code(),
        CloseCode::PROTOCOL_ERROR
    );
    // RSV1 without the extension agreed.
    let mut plain = hybi::testing::open_server(Config::new());
    plain.receive(&raw_frame(0xc1, true, b"x"));
    assert_eq!(
        plain.next_event().err(),
        Some(Error::Protocol(ProtocolError::ReservedBits))
    );
}

#[test]
fn invalid_deflate_data_fails_with_1007() {
    fails_with(
        &mask_frame(&[0xc1, 0x04, 0xff, 0xff, 0xff, 0xff]),
        ProtocolError::InvalidCompressedData,
    );
    assert_eq!(
        ProtocolError::InvalidCompressedData.close_code(),
        CloseCode::INVALID_PAYLOAD
    );
    // Valid DEFLATE whose inflated text is not UTF-8: 1007 as well.
    let mut pair = deflate_pair(DeflateConfig::new(), DeflateConfig::new().threshold(0));
    pair.client.send_binary(&[0xc3; 200]).unwrap();
    let mut wire = pair.client.transmit().to_vec();
    wire[0] = 0xc1; // say text
    let n = wire.len();
    pair.client.advance(n);
    pair.server.receive(&wire);
    assert_eq!(
        pair.server.next_event().err(),
        Some(Error::Protocol(ProtocolError::InvalidUtf8))
    );
}

#[test]
fn explicit_answers_must_fit_an_offer() {
    let mut server = Connection::server(Config::new());
    let mut client = common::new_client(
        Config::new().deflate(DeflateConfig::new().own_window_bits(10)),
        3,
    );
    let request = client.transmit().to_vec();
    server.receive(&request);
    let (mut inbound, mut outbound) = server.split();
    let Some(Event::HandshakeRequest(req)) = inbound.next_event().unwrap() else {
        panic!("no request");
    };
    let offers: Vec<_> = req.deflate_offers().collect();
    assert_eq!(offers.len(), 1);
    let too_wide = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: None,
        client_max_window_bits: Some(12),
    };
    assert_eq!(
        outbound.accept(&req, Accept::new().deflate(too_wide)),
        Err(UsageError::DeflateNotOffered)
    );
    let fits = DeflateParams {
        client_max_window_bits: Some(9),
        server_no_context_takeover: true,
        ..too_wide
    };
    outbound.accept(&req, Accept::new().deflate(fits)).unwrap();
    assert_eq!(server.deflate(), Some(fits));
    let response = server.transmit().to_vec();
    let text = String::from_utf8_lossy(&response);
    assert!(text.contains(
        "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=9\r\n"
    ));
}

#[test]
fn a_client_told_to_use_window_8_sends_uncompressed() {
    let mut client = common::new_client(Config::new().deflate(DeflateConfig::new()), 5);
    let request = client.transmit().to_vec();
    let n = request.len();
    client.advance(n);
    let mut response = hybi::testing::response_for(&request);
    let at = response.len() - 2;
    response.splice(
        at..at,
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n"
            .iter()
            .copied(),
    );
    client.receive(&response);
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::HandshakeResponse(_)))
    ));
    assert_eq!(client.deflate().unwrap().client_window_bits(), 8);
    client.send_text(&ticker(1)).unwrap();
    assert_eq!(
        client.transmit()[0],
        0x81,
        "zlib cannot compress with window 8"
    );
}

/// Compressed text that inflates to invalid UTF-8 and then hits invalid
/// DEFLATE: the text is judged first, however the input is split (found
/// by fuzzing: whole input used to report the DEFLATE fault, byte by byte
/// the UTF-8 one).
#[test]
fn errors_do_not_depend_on_where_the_input_is_split() {
    // A stored block holding `c3 28` (not UTF-8), then a block header with
    // the reserved type 11.
    let payload = [0x00, 0x02, 0x00, 0xfd, 0xff, 0xc3, 0x28, 0x07];
    let mut frame = client_frame(true, Opcode::Text, &payload);
    frame[0] |= 0x40;
    let t = common::assert_split_invariant(open_deflate_server, &frame, false);
    assert_eq!(t.error, Some(Error::Protocol(ProtocolError::InvalidUtf8)));
    // The same without the bad text is the DEFLATE fault.
    let payload = [0x00, 0x02, 0x00, 0xfd, 0xff, b'o', b'k', 0x07];
    let mut frame = client_frame(true, Opcode::Text, &payload);
    frame[0] |= 0x40;
    let t = common::assert_split_invariant(open_deflate_server, &frame, false);
    assert_eq!(
        t.error,
        Some(Error::Protocol(ProtocolError::InvalidCompressedData))
    );
}

/// Chunk boundaries of a compressed message depend only on the inflated
/// bytes, however the input is split (`chunk_threshold` bytes per chunk,
/// whole characters for text).
#[test]
fn compressed_chunks_do_not_depend_on_the_split() {
    let make = || {
        hybi::testing::open_server_deflate(
            Config::new()
                .deflate(DeflateConfig::new())
                .chunk_threshold(4),
        )
    };
    // Compress with a client that agreed to the extension.
    let mut pair = deflate_pair(DeflateConfig::new().threshold(0), DeflateConfig::new());
    pair.client
        .send_binary(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        .unwrap();
    pair.client.send_text("ééééé").unwrap();
    let wire = pair.client.transmit().to_vec();
    let t = common::assert_split_invariant(make, &wire, false);
    assert_eq!(t.error, None);
    assert_eq!(
        t.events,
        [
            Ev::BinaryChunk(vec![1, 2, 3, 4], false),
            Ev::BinaryChunk(vec![5, 6, 7, 8], false),
            Ev::BinaryChunk(vec![9, 10], true),
            Ev::TextChunk("éé".into(), false),
            Ev::TextChunk("éé".into(), false),
            Ev::TextChunk("é".into(), true),
        ]
    );
}

/// A client keeps to its own offer where the answer is silent (RFC 7692
/// §7.1.1.2, §7.1.2.2): offered `client_no_context_takeover`, it resets;
/// offered `client_max_window_bits=9`, it never refers further back.
#[test]
fn a_client_keeps_to_its_offer_when_the_answer_is_silent() {
    let policy = DeflateConfig::new()
        .own_no_context_takeover(true)
        .own_window_bits(9)
        .threshold(0);
    let mut client = common::new_client(Config::new().deflate(policy), 9);
    let request = client.transmit().to_vec();
    let n = request.len();
    client.advance(n);
    client.receive(&hybi::testing::response_with_extensions(
        &request,
        "permessage-deflate",
    ));
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::HandshakeResponse(_)))
    ));
    // A server that inflates with a 512-byte window and resets per message.
    let mut server = hybi::testing::open_server_deflate(
        Config::new().deflate(
            DeflateConfig::new()
                .peer_window_bits(9)
                .peer_no_context_takeover(true),
        ),
    );
    // A 600-byte block repeated: a 32 KiB window would refer 600 bytes
    // back, past the 512 the server keeps.
    let mut state = 7u32;
    let block: String = (0..600)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + (state >> 16) as u8 % 26)
        })
        .collect();
    let text = block.repeat(5);
    for _ in 0..2 {
        client.send_text(&text).unwrap();
    }
    let wire = client.transmit().to_vec();
    server.receive(&wire);
    for _ in 0..2 {
        match server.next_event() {
            Ok(Some(Event::Text(t))) => assert_eq!(t, text),
            other => panic!("{other:?}"),
        }
    }
}

/// A compressed message of exactly `chunk_threshold` bytes arrives whole,
/// and one of twice that in two chunks with no empty third, as the same
/// messages do uncompressed (found in review).
#[test]
fn compressed_messages_at_the_threshold_chunk_like_plain_ones() {
    let threshold = 1000;
    for plain in [false, true] {
        let client = if plain {
            Config::new()
        } else {
            Config::new().deflate(DeflateConfig::new())
        };
        let server = Config::new()
            .deflate(DeflateConfig::new())
            .chunk_threshold(threshold);
        let mut pair = Pair::connected(client, server);
        pair.client.send_binary(&vec![7u8; threshold]).unwrap();
        pair.client.send_binary(&vec![8u8; 2 * threshold]).unwrap();
        pair.drive();
        assert_eq!(
            summary(&pair.server_events),
            summary(&[
                Ev::Binary(vec![7u8; threshold]),
                Ev::BinaryChunk(vec![8u8; threshold], false),
                Ev::BinaryChunk(vec![8u8; threshold], true),
            ]),
            "plain {plain}"
        );
    }
}

/// An RSV1 message with no payload at all is not DEFLATE (the appended
/// tail alone leaves the stream inside a stored block's header, which
/// would break every later message): 1007 at once. An empty message is
/// sent as `00` (found in review).
#[test]
fn an_empty_compressed_payload_is_invalid_data() {
    fails_with(
        &mask_frame(&[0xc1, 0x00]),
        ProtocolError::InvalidCompressedData,
    );
    let mut pair = deflate_pair(DeflateConfig::new().threshold(0), DeflateConfig::new());
    pair.client.send_text("first").unwrap();
    pair.client
        .send_fragment(MessageKind::Text, b"", false)
        .unwrap();
    pair.client
        .send_fragment(MessageKind::Text, b"", true)
        .unwrap();
    pair.client.send_text("after").unwrap();
    pair.drive();
    assert_eq!(pair.server_error, None);
    assert_eq!(
        pair.server_events,
        [
            Ev::Text("first".into()),
            Ev::Text(String::new()),
            Ev::Text("after".into())
        ]
    );
}

/// Parameters built by hand for an opened connection cannot make the
/// decompressor panic: window bits above 15 are read as 15 (found in
/// review).
#[test]
fn hand_built_parameters_out_of_range_do_not_panic() {
    let params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: Some(40),
        client_max_window_bits: Some(16),
    };
    let negotiated = hybi::Negotiated {
        deflate: Some(params),
        ..hybi::Negotiated::none()
    };
    let mut server = Connection::server_opened(Config::new(), negotiated);
    server.receive(&mask_frame(&[
        0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00,
    ]));
    assert!(matches!(
        server.next_event(),
        Ok(Some(Event::Text("Hello")))
    ));
    server.send_text(&"hello ".repeat(50)).unwrap();
    assert_eq!(server.transmit()[0], 0xc1);
}

/// Small compressed messages that arrive whole take a shorter path than
/// those cut across reads; both must give the same events, the same errors
/// and the same state for the next message (context takeover), at any
/// split: text (ASCII and multi-byte), binary, one byte, an empty text,
/// Pings between them, a message just under the shorter path's size bound
/// and one over it, and then text that inflates to an incomplete character.
#[test]
fn whole_small_messages_decode_as_cut_ones_do() {
    let mut pair = deflate_pair(DeflateConfig::new(), DeflateConfig::new());
    let mut expected = Vec::new();
    let mut wire = Vec::new();
    let take = |pair: &mut Pair, wire: &mut Vec<u8>| {
        let out = pair.client.transmit().to_vec();
        pair.client.advance(out.len());
        wire.extend_from_slice(&out);
    };
    for i in 0..40 {
        let text = match i % 5 {
            0 => ticker(i),
            1 => "κόσμε € 😀 ".repeat(i % 7 + 1),
            2 => "x".into(),
            3 => String::new(),
            _ => format!("{}{}", ticker(i), "ab".repeat(i * 20)),
        };
        pair.client.send_text(&text).unwrap();
        expected.push(common::Ev::Text(text));
        if i % 3 == 0 {
            let data: Vec<u8> = (0..i * 9).map(|b| (b * 7) as u8).collect();
            pair.client.send_binary(&data).unwrap();
            expected.push(common::Ev::Binary(data));
        }
        if i % 4 == 0 {
            pair.client.send_ping(b"p").unwrap();
            expected.push(common::Ev::Ping(b"p".to_vec()));
        }
        take(&mut pair, &mut wire);
    }
    // Incompressible, so its payload is over the shorter path's bound.
    let noise: Vec<u8> = (0..2000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    pair.client.send_binary(&noise).unwrap();
    expected.push(common::Ev::Binary(noise));
    take(&mut pair, &mut wire);
    let t = common::assert_split_invariant(
        || hybi::testing::open_server_deflate(Config::new().deflate(DeflateConfig::new())),
        &wire,
        false,
    );
    assert_eq!(t.error, None);
    assert_eq!(t.events, expected);

    // Text ending inside a character, in a whole small message: 1007 on
    // both paths (the same message whole is fine).
    let text = format!("{}€", "ok ".repeat(30));
    let compressed = |bytes: &[u8]| {
        let mut pair = deflate_pair(DeflateConfig::new().threshold(0), DeflateConfig::new());
        pair.client.send_binary(bytes).unwrap();
        let mut wire = pair.client.transmit().to_vec();
        assert_eq!(wire[0], 0xc2, "compressed binary");
        wire[0] = 0xc1; // say text
        wire
    };
    let whole =
        common::assert_split_invariant(open_deflate_server, &compressed(text.as_bytes()), false);
    assert_eq!(whole.error, None);
    assert_eq!(whole.events, [common::Ev::Text(text.clone())]);
    let cut = &text.as_bytes()[..text.len() - 2];
    let t = common::assert_split_invariant(open_deflate_server, &compressed(cut), false);
    assert_eq!(t.error, Some(Error::Protocol(ProtocolError::InvalidUtf8)));
}

/// A compressed frame that announces an enormous payload is refused by
/// the size rules, not by arithmetic overflow on the way (found by
/// fuzzing the short path for whole small messages).
#[test]
fn a_huge_compressed_length_is_too_big_not_a_panic() {
    for len in [u64::MAX >> 1, 1 << 40, (16 << 20) + 1] {
        let mut frame = vec![0xc1, 0xff];
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&[1, 2, 3, 4, 0xaa, 0xbb]);
        let mut server = open_deflate_server();
        server.receive(&frame);
        assert_eq!(
            server.next_event().err(),
            Some(Error::Protocol(ProtocolError::FrameTooBig)),
            "{len}"
        );
    }
}

/// A chunk is due the moment the inflated output passes the chunk
/// threshold, whether or not more input follows: a compressed message cut
/// off anywhere (the rest of its frame not yet sent) gives the same chunks
/// fed whole as fed byte by byte or in random pieces. The frame here (found
/// by fuzzing) announces 117 bytes and stops after 65, whose last code is a
/// match that fills the room exactly as the input runs out: fed whole, the
/// chunk used to wait for bytes that had not come.
#[test]
fn an_inflated_chunk_is_handed_out_without_waiting_for_more_input() {
    let wire = hex(concat!(
        "c2f587812fc84df587812fc84d0021abc1fef4aa853004018989898989897f89",
        "7f4dcb130102c4de3d0a2133c1000b87854e4e4e4e4e4e4e4e4e4e1000000000",
        "67000000040058",
    ));
    one_chunk_then(&wire, None);
}

/// As above, with the input going bad in the same inflate step that
/// completes the chunk (also found by fuzzing): the chunk the bytes before
/// the fault complete goes out first, then the error, however the input is
/// split (fed whole, the error used to come alone).
#[test]
fn a_chunk_completed_before_a_fault_is_handed_out_before_the_error() {
    let wire = hex(concat!(
        "c2f587812fc84df587812fc84d0021abc1fef4aa853004018989898989897a89",
        "7f30cb1300000000670000004e4e4e4e4e4e4e4e4e1000000000b6b6b6b6b6b6",
        "b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6efeeeeeeb6b6b6b6b6b6",
        "b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b68201000000000000b6",
        "b6b5b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6",
        "b6b6b6b6b6b6b6b6cdb6b6b6b6b6b6b6b6b6b6b6b6b6b667000000040058",
    ));
    one_chunk_then(
        &wire,
        Some(hybi::Error::Protocol(
            hybi::ProtocolError::InvalidCompressedData,
        )),
    );
}

/// As above, with zlib holding input it read but could not yet inflate
/// when the room filled (also found by fuzzing): after the chunk, zlib goes
/// on with what it holds even if no new input comes, and finds the fault in
/// it (fed whole, the connection used to wait for input instead).
#[test]
fn zlib_goes_on_with_what_it_holds_after_a_full_room() {
    let wire = hex(concat!(
        "c2f587812fc84df587812fc84d0021abc1fef4aa853004018989898989897a89",
        "7f30cb1300000000670000004e4e4e4e4e4e4e4e4e1000000000b6b6b691b6b6",
        "3bb6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6cdb6b6b6b6b6b6b6b6b6",
        "b6b6b6040bb6b600006307e01e6700040025000058",
    ));
    one_chunk_then(
        &wire,
        Some(hybi::Error::Protocol(
            hybi::ProtocolError::InvalidCompressedData,
        )),
    );
}

/// Asserts that `wire` splits alike at every prefix and, whole, gives one
/// chunk of 1 KiB (the threshold) and then `error`.
fn one_chunk_then(wire: &[u8], error: Option<hybi::Error>) {
    let t = every_prefix_splits_alike(wire);
    assert_eq!(t.error, error);
    assert!(
        matches!(&t.events[..], [common::Ev::BinaryChunk(d, false)] if d.len() == 1024),
        "{:?}",
        t.events.len()
    );
}

/// Feeds every prefix of `wire` to a server that agreed permessage-deflate
/// (no context takeover, a chunk threshold of 1 KiB) whole, byte by byte and
/// at random splits, asserting the same transcript each way; returns the
/// whole wire's.
fn every_prefix_splits_alike(wire: &[u8]) -> common::Transcript {
    let config = Config::new()
        .max_frame_size(4096)
        .max_message_size(16 << 10)
        .chunk_threshold(1024)
        .deflate(
            DeflateConfig::new()
                .own_no_context_takeover(true)
                .peer_no_context_takeover(true),
        );
    let mut last = None;
    for cut in 1..=wire.len() {
        last = Some(common::assert_split_invariant(
            || hybi::testing::open_server_deflate(config),
            &wire[..cut],
            false,
        ));
    }
    last.expect("a wire of at least one byte")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

//! Known attack shapes against a WebSocket endpoint. Each test asserts the
//! typed error with its close code or HTTP status, and that the memory the
//! connection holds stays within the bound its configuration promises
//! (`Config::max_receive_buffer` for received bytes, plus the transmit buffer).

mod common;

use common::{REQUEST, client_frame, open_server};
use hybi::frame::Opcode;
use hybi::{Config, Connection, Error, Event, HandshakeError, ProtocolError, State};

/// Heap the connection may hold after the caller drained events: the receive
/// bound, one read piece, and the transmit buffer's retained capacity.
fn bound(config: &Config, piece: usize) -> usize {
    config.max_receive_buffer() + piece + config.get_buffer_high_water()
}

/// Drains events, returning the first error (events are dropped).
fn drain(conn: &mut Connection) -> Option<Error> {
    loop {
        match conn.next_event() {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

fn masked_header(opcode: u8, len: u64) -> Vec<u8> {
    let mut h = vec![opcode, 0xff];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[1, 2, 3, 4]);
    h
}

#[test]
fn length_near_2_pow_63_is_1009_from_the_header() {
    let config = Config::new();
    let mut conn = open_server(config);
    conn.receive(&masked_header(0x82, (1 << 63) - 1));
    let e = drain(&mut conn).expect("error");
    assert_eq!(e, Error::Protocol(ProtocolError::FrameTooBig));
    assert_eq!(e.close_code().map(|c| c.0), Some(1009));
    assert_eq!(conn.transmit(), [0x88, 0x02, 0x03, 0xf1]);
    assert!(conn.buffered_bytes() <= bound(&config, 14));

    let mut conn = open_server(config);
    conn.receive(&masked_header(0x82, 1 << 63));
    let e = drain(&mut conn).expect("error");
    assert_eq!(e, Error::Protocol(ProtocolError::InvalidLength));
    assert_eq!(e.close_code().map(|c| c.0), Some(1002));
}

#[test]
fn huge_declared_frame_that_never_arrives_holds_bounded_memory() {
    // Within the frame limit: payload streams as chunks of at most the
    // threshold, so memory stays bounded however much is declared.
    let config = Config::new()
        .max_frame_size(1 << 30)
        .max_message_size(1 << 30)
        .chunk_threshold(64 << 10);
    let mut conn = open_server(config);
    conn.receive(&masked_header(0x82, 1 << 30));
    let piece = vec![0x5au8; 16 << 10];
    let mut peak = 0;
    let mut chunks = 0;
    for _ in 0..(8 << 20) / piece.len() {
        let buf = conn.read_buf();
        let n = buf.len().min(piece.len());
        buf[..n].copy_from_slice(&piece[..n]);
        conn.commit(n);
        while let Some(event) = conn.next_event().unwrap() {
            assert!(matches!(event, Event::BinaryChunk { last: false, .. }));
            chunks += 1;
        }
        peak = peak.max(conn.buffered_bytes());
    }
    assert!(chunks >= 100, "{chunks} chunks");
    assert!(peak <= bound(&config, piece.len()), "peak {peak}");
    // The peer vanishes: 1006, and nothing is sent for it.
    conn.receive_eof();
    match conn.next_event() {
        Ok(Some(Event::Close(c))) => assert_eq!(c.code.0, 1006),
        other => panic!("expected close 1006, got {other:?}"),
    }
    assert!(conn.transmit().is_empty());
}

#[test]
fn millions_of_one_byte_fragments_hit_max_fragments_1009() {
    let config = Config::new();
    let limit = config.get_max_fragments();
    assert!(limit >= 1_000_000);
    let mut conn = open_server(config);
    let first = client_frame(false, Opcode::Binary, b"x");
    let next = client_frame(false, Opcode::Continuation, b"x");
    let batch: Vec<u8> = next
        .iter()
        .copied()
        .cycle()
        .take(next.len() * 10_000)
        .collect();
    conn.receive(&first);
    let mut sent = 1usize;
    let mut peak = 0;
    let error = loop {
        conn.receive(&batch);
        sent += 10_000;
        if let Some(e) = drain(&mut conn) {
            break e;
        }
        peak = peak.max(conn.buffered_bytes());
        assert!(sent <= limit + 10_000, "no error after {sent} fragments");
    };
    assert_eq!(error, Error::Protocol(ProtocolError::TooManyFragments));
    assert_eq!(error.close_code().map(|c| c.0), Some(1009));
    assert!(sent > limit);
    assert!(peak <= bound(&config, batch.len()), "peak {peak}");
}

#[test]
fn endless_continuation_without_fin_is_1009() {
    let config = Config::new()
        .max_message_size(1 << 20)
        .chunk_threshold(1 << 20);
    let mut conn = open_server(config);
    conn.receive(&client_frame(false, Opcode::Text, b"start"));
    let piece = client_frame(false, Opcode::Continuation, &[b'a'; 4096]);
    let mut frames = 0;
    let error = loop {
        conn.receive(&piece);
        frames += 1;
        if let Some(e) = drain(&mut conn) {
            break e;
        }
        assert!(conn.buffered_bytes() <= bound(&config, piece.len()));
        assert!(frames < 1000);
    };
    assert_eq!(error, Error::Protocol(ProtocolError::MessageTooBig));
    assert_eq!(conn.transmit(), [0x88, 0x02, 0x03, 0xf1]);
    // Exactly at the limit: (1 MiB - 5) / 4096 whole frames fit.
    assert_eq!(frames, ((1 << 20) - 5) / 4096 + 1);
}

#[test]
fn ping_flood_without_draining_output_keeps_pongs_bounded() {
    let config = Config::new();
    let mut conn = open_server(config);
    let ping = |i: u32| {
        client_frame(
            true,
            Opcode::Ping,
            &[&i.to_be_bytes()[..], &[0u8; 121]].concat(),
        )
    };
    for i in 0..20_000u32 {
        conn.receive(&ping(i));
        while let Some(event) = conn.next_event().unwrap() {
            assert!(matches!(event, Event::Ping(_)));
        }
        // The caller never writes: pending output must stay bounded.
        assert!(conn.buffered_bytes() <= bound(&config, 131) + (32 << 10));
    }
    // Once output drains, the latest Ping is answered.
    let out = conn.transmit().to_vec();
    assert!(out.len() <= (16 << 10) + 127, "{} bytes pending", out.len());
    conn.advance(out.len());
    let last = conn.transmit().to_vec();
    assert_eq!(&last[..2], [0x8a, 125]);
    assert_eq!(&last[2..6], 19_999u32.to_be_bytes());
}

#[test]
fn slow_handshake_trickled_byte_by_byte_is_linear() {
    let config = Config::new();
    let mut request = REQUEST[..REQUEST.len() - 2].to_vec();
    // Pad the head to the maximum the config allows.
    while request.len() + 20 < config.get_max_handshake_bytes() {
        request.extend_from_slice(b"X-Pad: 0123456789\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let config = config.max_headers(1000);
    let mut conn = Connection::server(config);
    for (i, &b) in request.iter().enumerate() {
        conn.receive(&[b]);
        let event = conn.next_event().unwrap();
        if i + 1 < request.len() {
            assert!(event.is_none(), "event before the head was complete");
        } else {
            assert!(matches!(event, Some(Event::HandshakeRequest(_))));
        }
        assert!(conn.buffered_bytes() <= bound(&config, 1));
    }
    let work = conn.handshake_work();
    assert_eq!(work.bytes_scanned, request.len(), "each byte scanned once");
    assert_eq!(work.parses, 1, "parsed once, when complete");
}

#[test]
fn never_ending_handshake_is_431() {
    let config = Config::new();
    let mut conn = Connection::server(config);
    conn.receive(b"GET / HTTP/1.1\r\n");
    let mut fed = 0;
    let error = loop {
        conn.receive(b"X: y\r\n");
        fed += 6;
        if let Err(e) = conn.next_event() {
            break e;
        }
        assert!(fed <= config.get_max_handshake_bytes());
    };
    assert_eq!(error, Error::Handshake(HandshakeError::HeadersTooLarge));
    assert_eq!(error.status(), Some(431));
    assert!(conn.transmit().starts_with(b"HTTP/1.1 431 "));
    assert_eq!(conn.state(), State::Failed);
}

#[test]
fn thousands_of_headers_is_431() {
    let config = Config::new().max_handshake_bytes(1 << 20);
    let mut request = REQUEST[..REQUEST.len() - 2].to_vec();
    for i in 0..5000 {
        request.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    let mut conn = Connection::server(config);
    conn.receive(&request);
    let error = conn.next_event().unwrap_err();
    assert_eq!(error, Error::Handshake(HandshakeError::TooManyHeaders));
    assert_eq!(error.status(), Some(431));
    assert!(conn.transmit().starts_with(b"HTTP/1.1 431 "));
}

#[test]
fn one_mebibyte_header_line_is_431_before_it_ends() {
    let config = Config::new();
    let mut conn = Connection::server(config);
    conn.receive(b"GET / HTTP/1.1\r\nCookie: ");
    let piece = [b'a'; 4096];
    let mut fed = 0;
    let error = loop {
        conn.receive(&piece);
        fed += piece.len();
        if let Err(e) = conn.next_event() {
            break e;
        }
        assert!(fed < 1 << 20);
    };
    assert_eq!(error, Error::Handshake(HandshakeError::HeadersTooLarge));
    assert!(fed <= config.get_max_handshake_bytes() + piece.len());
    assert!(conn.buffered_bytes() <= bound(&config, piece.len()));
}

#[test]
fn thousands_of_protocol_tokens_are_handled_linearly() {
    let config = Config::new().max_handshake_bytes(1 << 20);
    let tokens: Vec<String> = (0..20_000).map(|i| format!("p{i}")).collect();
    let mut request = REQUEST[..REQUEST.len() - 2].to_vec();
    request
        .extend_from_slice(format!("Sec-WebSocket-Protocol: {}\r\n", tokens.join(", ")).as_bytes());
    request.extend_from_slice(
        format!("Sec-WebSocket-Extensions: {}\r\n", tokens.join(", ")).as_bytes(),
    );
    request.extend_from_slice(b"\r\n");
    let mut conn = Connection::server(config);
    conn.receive(&request);
    match conn.next_event().unwrap() {
        Some(Event::HandshakeRequest(r)) => {
            // chat, superchat from REQUEST plus ours.
            assert_eq!(r.protocols().count(), tokens.len() + 2);
            assert_eq!(r.extensions().count(), tokens.len());
        }
        other => panic!("expected a request, got {other:?}"),
    }
    assert_eq!(conn.handshake_work().parses, 1);
    // Choosing the last one offered scans the list once.
    conn.accept(hybi::Accept::new().protocol("p19999")).unwrap();
    assert!(conn.transmit().starts_with(b"HTTP/1.1 101 "));
}

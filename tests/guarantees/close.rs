//! Guarantees of the closing handshake (RFC 6455 §5.5.1, §7): close codes and
//! reasons in and out, who answers what, and the states either side ends in.

use crate::helpers::*;

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

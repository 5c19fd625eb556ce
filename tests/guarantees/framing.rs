//! Guarantees of framing (RFC 6455 §5): every header rule, length form,
//! control-frame rule, fragmentation and UTF-8 check, each protocol error with
//! its exact close code, in both roles.

use crate::helpers::*;

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

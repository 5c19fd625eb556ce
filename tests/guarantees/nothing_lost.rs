//! The "nothing lost" guarantee: queued messages go out before a close,
//! decoded events come before an error, and no input or output is dropped on
//! the way.

use crate::helpers::*;

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

//! A client and a server wired together in memory (`common::Pair`): the
//! opening handshake with subprotocol selection and rejection, messages of
//! many sizes both ways (whole and chunked), fragments, ping/pong, and the
//! closing handshake from either side.

mod common;

use common::*;
use hybi::{
    Accept, ClientRequest, CloseCode, Config, Connection, Error, Event, MessageKind, Reject,
    SeededRandom, State, UsageError,
};

// ----- helpers ---------------------------------------------------------------

/// A `Pair` around two connections that finished their handshake by hand.
fn pair_from(client: Connection, server: Connection) -> Pair {
    Pair {
        client,
        server,
        client_events: Vec::new(),
        server_events: Vec::new(),
        client_error: None,
        server_error: None,
    }
}

/// Moves the client's pending bytes to the server.
fn client_to_server(client: &mut Connection, server: &mut Connection) {
    let bytes = client.transmit().to_vec();
    client.advance(bytes.len());
    server.receive(&bytes);
}

/// Moves the server's pending bytes to the client.
fn server_to_client(server: &mut Connection, client: &mut Connection) {
    let bytes = server.transmit().to_vec();
    server.advance(bytes.len());
    client.receive(&bytes);
}

/// A client sending `request`, masking with a seeded source.
fn client_for(request: ClientRequest<'_>, config: Config) -> Connection {
    Connection::client_with_rng(request, config, Box::new(SeededRandom::new(99))).unwrap()
}

/// `len` bytes of text mixing 1- to 4-byte characters.
fn text_of(len: usize) -> String {
    let mut s = String::with_capacity(len);
    let chars = ['a', 'é', '€', '😀', 'z', 'κ'];
    let mut i = 0;
    while s.len() < len {
        let c = chars[i % chars.len()];
        i += 1;
        if s.len() + c.len_utf8() <= len {
            s.push(c);
        } else {
            s.push('.');
        }
    }
    assert_eq!(s.len(), len);
    s
}

fn binary_of(len: usize, salt: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ salt).collect()
}

/// A short description of events, so a failing comparison of megabyte
/// payloads stays readable.
fn summary(events: &[Ev]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Ev::Text(t) => format!("Text({})", t.len()),
            Ev::Binary(b) => format!("Binary({})", b.len()),
            Ev::TextChunk(t, last) => format!("TextChunk({}, {last})", t.len()),
            Ev::BinaryChunk(b, last) => format!("BinaryChunk({}, {last})", b.len()),
            other => format!("{other:?}"),
        })
        .collect()
}

fn assert_events(actual: &[Ev], expected: &[Ev]) {
    assert!(
        actual == expected,
        "events {:?}, expected {:?}",
        summary(actual),
        summary(expected)
    );
}

/// Reassembles one chunked message from `events` (which must hold exactly
/// its chunks), checking chunk sizes and the `last` flags.
fn reassemble(events: &[Ev], threshold: usize) -> (Option<String>, Option<Vec<u8>>) {
    assert!(events.len() >= 2, "{:?}", summary(events));
    let (mut text, mut binary) = (None::<String>, None::<Vec<u8>>);
    for (i, event) in events.iter().enumerate() {
        let is_last = i + 1 == events.len();
        match event {
            Ev::TextChunk(data, last) => {
                assert_eq!(*last, is_last, "{:?}", summary(events));
                assert!(data.len() <= threshold, "chunk of {} bytes", data.len());
                text.get_or_insert_with(String::new).push_str(data);
            }
            Ev::BinaryChunk(data, last) => {
                assert_eq!(*last, is_last, "{:?}", summary(events));
                assert!(data.len() <= threshold, "chunk of {} bytes", data.len());
                binary.get_or_insert_with(Vec::new).extend_from_slice(data);
            }
            other => panic!("not a chunk: {other:?}"),
        }
    }
    assert!(text.is_none() || binary.is_none(), "mixed chunk kinds");
    (text, binary)
}

fn assert_no_errors(pair: &Pair) {
    assert_eq!(pair.client_error, None);
    assert_eq!(pair.server_error, None);
}

// ----- handshake --------------------------------------------------------------

#[test]
fn handshake_selects_a_subprotocol() {
    let config = Config::new();
    let mut client = client_for(
        ClientRequest::new("example.com:9001", "/chat?room=1")
            .origin("https://example.com")
            .protocols(&["superchat", "chat"]),
        config,
    );
    let mut server = Connection::server(config);
    assert_eq!(client.state(), State::AwaitingResponse);
    assert_eq!(server.state(), State::AwaitingRequest);
    client_to_server(&mut client, &mut server);
    match server.next_event() {
        Ok(Some(Event::HandshakeRequest(r))) => {
            assert_eq!(r.method(), "GET");
            assert_eq!(r.target(), "/chat?room=1");
            assert_eq!(r.path(), "/chat");
            assert_eq!(r.query(), Some("room=1"));
            assert_eq!(r.host(), Some("example.com:9001"));
            assert_eq!(r.origin(), Some("https://example.com"));
            assert!(r.protocols().eq(["superchat", "chat"]));
            assert_eq!(r.extensions().count(), 0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.state(), State::RequestReceived);
    assert!(matches!(server.next_event(), Ok(None)));

    // A subprotocol that was not offered is a usage error; nothing changes.
    assert_eq!(
        server.accept(Accept::new().protocol("chat.v2")),
        Err(Error::Usage(UsageError::ProtocolNotOffered))
    );
    assert_eq!(server.state(), State::RequestReceived);
    assert!(server.transmit().is_empty());
    assert!(server.request().is_some());

    server
        .accept(
            Accept::new()
                .protocol("chat")
                .headers(&[("X-Server", "hybi")]),
        )
        .unwrap();
    assert_eq!(server.state(), State::Open);
    assert_eq!(
        server.accept(Accept::new()),
        Err(Error::Usage(UsageError::NoPendingRequest))
    );
    server_to_client(&mut server, &mut client);
    match client.next_event() {
        Ok(Some(Event::HandshakeResponse(r))) => {
            assert_eq!(r.status(), 101);
            assert_eq!(r.protocol(), Some("chat"));
            assert_eq!(r.header("x-server"), Some(&b"hybi"[..]));
            assert_eq!(r.extensions().count(), 0);
            assert!(r.body().is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.state(), State::Open);

    // And the pair talks.
    let mut pair = pair_from(client, server);
    pair.client.send_text("hello").unwrap();
    pair.server.send_text("welcome").unwrap();
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(pair.server_events, [Ev::Text("hello".into())]);
    assert_eq!(pair.client_events, [Ev::Text("welcome".into())]);
}

#[test]
fn handshake_without_subprotocol() {
    let mut client = client_for(
        ClientRequest::new("example.com", "/").protocols(&["chat"]),
        Config::new(),
    );
    let mut server = Connection::server(Config::new());
    client_to_server(&mut client, &mut server);
    assert!(matches!(
        server.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    server.accept(Accept::new()).unwrap();
    server_to_client(&mut server, &mut client);
    match client.next_event() {
        Ok(Some(Event::HandshakeResponse(r))) => assert_eq!(r.protocol(), None),
        other => panic!("{other:?}"),
    }
    assert_eq!(client.state(), State::Open);
}

#[test]
fn rejected_handshake() {
    let mut client = client_for(ClientRequest::new("example.com", "/admin"), Config::new());
    let mut server = Connection::server(Config::new());
    client_to_server(&mut client, &mut server);
    match server.next_event() {
        Ok(Some(Event::HandshakeRequest(r))) => assert_eq!(r.path(), "/admin"),
        other => panic!("{other:?}"),
    }
    server
        .reject(
            Reject::new(403)
                .headers(&[("X-Reason", "origin")])
                .body(b"origin not allowed"),
        )
        .unwrap();
    assert_eq!(server.state(), State::Closed);
    assert!(server.close_expected());
    assert_eq!(server.send_text("x"), Err(UsageError::Closed));
    assert_eq!(
        server.accept(Accept::new()),
        Err(Error::Usage(UsageError::NoPendingRequest))
    );
    let out = String::from_utf8(server.transmit().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 403 "), "{out}");
    assert!(out.ends_with("\r\n\r\norigin not allowed"), "{out}");

    let mut pair = pair_from(client, server);
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(
        pair.client_events,
        [Ev::Rejected(403, b"origin not allowed".to_vec())]
    );
    assert_eq!(pair.client.state(), State::Closed);
    assert!(pair.client.close_expected());
    assert_eq!(pair.client.send_text("x"), Err(UsageError::Closed));
    assert!(pair.client.transmit().is_empty());
    assert!(pair.server_events.is_empty());

    // The headers reach the client too.
    let mut client = client_for(ClientRequest::new("example.com", "/"), Config::new());
    let mut server = Connection::server(Config::new());
    client_to_server(&mut client, &mut server);
    assert!(server.next_event().unwrap().is_some());
    server
        .reject(Reject::new(401).headers(&[("WWW-Authenticate", "Basic realm=\"ws\"")]))
        .unwrap();
    server_to_client(&mut server, &mut client);
    match client.next_event() {
        Ok(Some(Event::HandshakeRejected(r))) => {
            assert_eq!(r.status(), 401);
            assert_eq!(
                r.header("www-authenticate"),
                Some(&b"Basic realm=\"ws\""[..])
            );
            assert!(r.body().is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(client.close_expected());
}

// ----- messages ---------------------------------------------------------------

const WHOLE_SIZES: [usize; 9] = [0, 1, 125, 126, 127, 65_535, 65_536, 65_537, 1 << 20];

#[test]
fn messages_of_many_sizes_client_to_server() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    for (i, &len) in WHOLE_SIZES.iter().enumerate() {
        let binary = binary_of(len, i as u8);
        let text = text_of(len);
        pair.client.send_binary(&binary).unwrap();
        pair.client.send_text(&text).unwrap();
        pair.drive();
        assert_no_errors(&pair);
        assert_events(&pair.server_events, &[Ev::Binary(binary), Ev::Text(text)]);
        assert!(pair.client_events.is_empty());
        pair.server_events.clear();
    }
}

#[test]
fn messages_of_many_sizes_server_to_client() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    for (i, &len) in WHOLE_SIZES.iter().enumerate() {
        let binary = binary_of(len, i as u8);
        let text = text_of(len);
        pair.server.send_text(&text).unwrap();
        pair.server.send_binary(&binary).unwrap();
        pair.drive();
        assert_no_errors(&pair);
        assert_events(&pair.client_events, &[Ev::Text(text), Ev::Binary(binary)]);
        assert!(pair.server_events.is_empty());
        pair.client_events.clear();
    }
}

#[test]
fn messages_above_the_chunk_threshold_arrive_in_chunks() {
    let threshold = Config::new().get_chunk_threshold();
    let mut pair = Pair::connected(Config::new(), Config::new());
    for len in [threshold + 1, 3 * threshold + 5] {
        let binary = binary_of(len, 7);
        let text = text_of(len);

        pair.client.send_binary(&binary).unwrap();
        pair.drive();
        assert_no_errors(&pair);
        assert_eq!(
            reassemble(&pair.server_events, threshold),
            (None, Some(binary.clone()))
        );
        pair.server_events.clear();

        pair.client.send_text(&text).unwrap();
        pair.drive();
        assert_no_errors(&pair);
        assert_eq!(
            reassemble(&pair.server_events, threshold),
            (Some(text.clone()), None)
        );
        pair.server_events.clear();

        pair.server.send_binary(&binary).unwrap();
        pair.drive();
        assert_no_errors(&pair);
        assert_eq!(
            reassemble(&pair.client_events, threshold),
            (None, Some(binary))
        );
        pair.client_events.clear();

        pair.server.send_text(&text).unwrap();
        pair.drive();
        assert_no_errors(&pair);
        assert_eq!(
            reassemble(&pair.client_events, threshold),
            (Some(text), None)
        );
        pair.client_events.clear();
    }
    // At the threshold itself a message is still whole.
    let binary = binary_of(threshold, 1);
    pair.client.send_binary(&binary).unwrap();
    pair.drive();
    assert_events(&pair.server_events, &[Ev::Binary(binary)]);
}

#[test]
fn fragmented_messages_above_a_small_threshold_arrive_in_chunks() {
    let threshold = 1000;
    let config = Config::new().chunk_threshold(threshold);
    let mut pair = Pair::connected(config, config);
    let text = text_of(5000);
    let bytes = text.as_bytes();
    // Fragments cut at odd places, inside characters.
    let cuts = [0, 1, 333, 999, 1000, 1001, 2345, 4999, 5000];
    for w in cuts.windows(2) {
        let last = w[1] == bytes.len();
        pair.client
            .send_fragment(MessageKind::Text, &bytes[w[0]..w[1]], last)
            .unwrap();
        pair.server
            .send_fragment(MessageKind::Text, &bytes[w[0]..w[1]], last)
            .unwrap();
    }
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(
        reassemble(&pair.server_events, threshold),
        (Some(text.clone()), None)
    );
    assert_eq!(
        reassemble(&pair.client_events, threshold),
        (Some(text), None)
    );
}

#[test]
fn fragments_with_send_fragment() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    let text = "héllo 😀 wörld";
    let bytes = text.as_bytes();
    // "é" is bytes 1..3 and "😀" bytes 7..11: cut inside both.
    let pieces = [&bytes[..2], &bytes[2..8], &bytes[8..9], &bytes[9..], b""];
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        pair.client
            .send_fragment(MessageKind::Text, piece, last)
            .unwrap();
        if i == 1 {
            // Control frames and usage errors in the middle change nothing.
            pair.client.send_ping(b"mid").unwrap();
            assert_eq!(
                pair.client.send_text("no"),
                Err(UsageError::FragmentInProgress)
            );
            assert_eq!(
                pair.client.send_binary(b"no"),
                Err(UsageError::FragmentInProgress)
            );
            assert_eq!(
                pair.client.send_fragment(MessageKind::Binary, b"no", true),
                Err(UsageError::FragmentKindMismatch)
            );
        }
    }
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(
        pair.server_events,
        [Ev::Ping(b"mid".to_vec()), Ev::Text(text.into())]
    );
    assert_eq!(pair.client_events, [Ev::Pong(b"mid".to_vec())]);
    pair.client_events.clear();
    pair.server_events.clear();

    // A whole message may follow once the fragmented one is finished.
    pair.client.send_text("after").unwrap();
    // Binary fragments from the server, a one-fragment message too.
    pair.server
        .send_fragment(MessageKind::Binary, &[1, 2], false)
        .unwrap();
    pair.server
        .send_fragment(MessageKind::Binary, &[3], false)
        .unwrap();
    pair.server
        .send_fragment(MessageKind::Binary, &[4], true)
        .unwrap();
    pair.server
        .send_fragment(MessageKind::Text, b"solo", true)
        .unwrap();
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(pair.server_events, [Ev::Text("after".into())]);
    assert_eq!(
        pair.client_events,
        [Ev::Binary(vec![1, 2, 3, 4]), Ev::Text("solo".into())]
    );
}

// ----- ping / pong ---------------------------------------------------------------

#[test]
fn ping_and_pong_both_ways() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    pair.client.send_ping(b"from client").unwrap();
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(pair.server_events, [Ev::Ping(b"from client".to_vec())]);
    assert_eq!(pair.client_events, [Ev::Pong(b"from client".to_vec())]);
    pair.client_events.clear();
    pair.server_events.clear();

    pair.server.send_ping(b"from server").unwrap();
    pair.drive();
    assert_eq!(pair.client_events, [Ev::Ping(b"from server".to_vec())]);
    assert_eq!(pair.server_events, [Ev::Pong(b"from server".to_vec())]);
    pair.client_events.clear();
    pair.server_events.clear();

    // Several pings, each answered with its own payload.
    let big = vec![b'x'; 125];
    pair.client.send_ping(b"1").unwrap();
    pair.client.send_ping(b"").unwrap();
    pair.client.send_ping(&big).unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events,
        [
            Ev::Ping(b"1".to_vec()),
            Ev::Ping(vec![]),
            Ev::Ping(big.clone())
        ]
    );
    assert_eq!(
        pair.client_events,
        [Ev::Pong(b"1".to_vec()), Ev::Pong(vec![]), Ev::Pong(big)]
    );
    pair.client_events.clear();
    pair.server_events.clear();

    // An unsolicited Pong is reported and not answered.
    pair.server.send_pong(b"heartbeat").unwrap();
    let steps = pair.drive();
    assert!(steps <= 3, "{steps} steps for one pong");
    assert_eq!(pair.client_events, [Ev::Pong(b"heartbeat".to_vec())]);
    assert!(pair.server_events.is_empty());

    // Control payloads are at most 125 bytes.
    for conn in [&mut pair.client, &mut pair.server] {
        assert_eq!(
            conn.send_ping(&[0; 126]),
            Err(UsageError::ControlPayloadTooLong)
        );
        assert_eq!(
            conn.send_pong(&[0; 126]),
            Err(UsageError::ControlPayloadTooLong)
        );
        assert!(conn.transmit().is_empty());
    }
}

#[test]
fn auto_pong_off_reports_ping_and_sends_nothing() {
    let manual = Config::new().auto_pong(false);
    assert!(!manual.get_auto_pong());
    assert!(Config::new().get_auto_pong());

    // Server without automatic pongs.
    let mut pair = Pair::connected(Config::new(), manual);
    pair.client.send_ping(b"anyone?").unwrap();
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(pair.server_events, [Ev::Ping(b"anyone?".to_vec())]);
    assert!(pair.client_events.is_empty(), "no Pong was sent");
    assert!(!pair.server.wants_transmit());
    // The caller answers itself.
    pair.server.send_pong(b"anyone?").unwrap();
    pair.drive();
    assert_eq!(pair.client_events, [Ev::Pong(b"anyone?".to_vec())]);

    // Client without automatic pongs.
    let mut pair = Pair::connected(manual, Config::new());
    pair.server.send_ping(b"still there?").unwrap();
    pair.drive();
    assert_eq!(pair.client_events, [Ev::Ping(b"still there?".to_vec())]);
    assert!(pair.server_events.is_empty(), "no Pong was sent");
    assert!(pair.client.transmit().is_empty());
}

// ----- closing handshake -----------------------------------------------------------

#[test]
fn close_initiated_by_the_client() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    pair.client.send_text("last message").unwrap();
    pair.client.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(pair.client.state(), State::CloseSent);
    assert_eq!(pair.client.send_text("x"), Err(UsageError::Closed));
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(
        pair.server_events,
        [
            Ev::Text("last message".into()),
            Ev::Close(1000, "done".into())
        ]
    );
    assert_eq!(pair.client_events, [Ev::Close(1000, String::new())]);
    assert_eq!(pair.server.state(), State::Closed);
    assert_eq!(pair.client.state(), State::Closed);
    // The server closes TCP; the client waits for it.
    assert!(pair.server.close_expected());
    assert!(!pair.client.close_expected());
    pair.client.receive_eof();
    assert!(matches!(pair.client.next_event(), Ok(None)), "no 1006");
    assert!(pair.client.close_expected());
    for conn in [&mut pair.client, &mut pair.server] {
        assert_eq!(conn.send_text("x"), Err(UsageError::Closed));
        assert!(conn.transmit().is_empty());
    }
}

#[test]
fn close_initiated_by_the_server() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    pair.server
        .close(CloseCode::GOING_AWAY, "restarting")
        .unwrap();
    assert_eq!(pair.server.state(), State::CloseSent);
    assert!(!pair.server.close_expected());
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(pair.client_events, [Ev::Close(1001, "restarting".into())]);
    assert_eq!(pair.server_events, [Ev::Close(1001, String::new())]);
    assert_eq!(pair.server.state(), State::Closed);
    assert_eq!(pair.client.state(), State::Closed);
    assert!(pair.server.close_expected());
    assert!(!pair.client.close_expected());
    pair.client.receive_eof();
    assert!(pair.client.close_expected());
}

#[test]
fn close_initiated_by_both_at_once() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    pair.client.close(CloseCode(4000), "client").unwrap();
    pair.server.close(CloseCode(4001), "server").unwrap();
    pair.drive();
    assert_no_errors(&pair);
    assert_eq!(pair.server_events, [Ev::Close(4000, "client".into())]);
    assert_eq!(pair.client_events, [Ev::Close(4001, "server".into())]);
    assert_eq!(pair.server.state(), State::Closed);
    assert_eq!(pair.client.state(), State::Closed);
    assert!(pair.server.close_expected());
}

#[test]
fn peer_that_drops_the_connection_reports_1006() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    pair.client.send_text("bye?").unwrap();
    pair.drive();
    pair.server.receive_eof();
    match pair.server.next_event() {
        Ok(Some(Event::Close(frame))) => {
            assert_eq!(frame.code, CloseCode::ABNORMAL);
            assert_eq!(frame.reason, "");
        }
        other => panic!("{other:?}"),
    }
    assert!(pair.server.transmit().is_empty(), "1006 is never sent");
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.close_expected());
    assert_eq!(pair.server_events, [Ev::Text("bye?".into())]);
}

//! Handshakes done by another HTTP stack: requests given as method,
//! version and header pairs (HTTP/1.1 Upgrade and RFC 8441/9220 extended
//! CONNECT) get the built-in path's checks and errors, the answer's
//! headers are right, and connections opened on the result talk.

mod common;

use hybi::{
    Accept, Config, Connection, Event, HandshakeError, HttpRequest, HttpVersion, Negotiated,
    SeededRandom, State, UsageError, check_connect_response, connect_request_headers,
};

const KEY: &[u8] = b"dGhlIHNhbXBsZSBub25jZQ==";

/// Header pairs as another stack hands them over.
type Pairs = Vec<(&'static str, &'static [u8])>;

fn h1() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("Host", b"server.example.com"),
        ("Upgrade", b"websocket"),
        ("Connection", b"keep-alive, Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Origin", b"http://example.com"),
        ("Sec-WebSocket-Protocol", b"chat, superchat"),
        ("Sec-WebSocket-Version", b"13"),
    ]
}

fn h2() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("sec-websocket-version", b"13"),
        ("sec-websocket-protocol", b"chat"),
        ("origin", b"https://example.com"),
    ]
}

/// The same request as raw HTTP/1.1 bytes, for the built-in parser.
fn raw(method: &str, headers: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = format!("{method} /chat HTTP/1.1\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn builtin_error(method: &str, headers: &[(&str, &[u8])]) -> Option<HandshakeError> {
    let mut conn = Connection::server(Config::new());
    conn.receive(&raw(method, headers));
    match conn.next_event() {
        Err(hybi::Error::Handshake(e)) => Some(e),
        _ => None,
    }
}

#[test]
fn http11_requests_get_the_built_in_checks() {
    let drop = |name: &str| -> Vec<(&'static str, &'static [u8])> {
        h1().into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
            .collect()
    };
    let with = |extra: (&'static str, &'static [u8])| {
        let mut h = h1();
        h.push(extra);
        h
    };
    let replace = |name: &str, value: &'static [u8]| {
        let mut h = drop(name);
        let name: &'static str = h1().into_iter().find(|(n, _)| *n == name).unwrap().0;
        h.push((name, value));
        h
    };
    let cases: Vec<(&str, Pairs, HandshakeError)> = vec![
        ("POST", h1(), HandshakeError::MethodNotGet),
        ("GET", drop("Host"), HandshakeError::MissingHost),
        (
            "GET",
            with(("Host", b"again")),
            HandshakeError::RepeatedHost,
        ),
        (
            "GET",
            with(("Content-Length", b"5")),
            HandshakeError::RequestBody,
        ),
        (
            "GET",
            with(("Transfer-Encoding", b"chunked")),
            HandshakeError::RequestBody,
        ),
        (
            "GET",
            replace("Upgrade", b"h2c"),
            HandshakeError::MissingUpgrade,
        ),
        (
            "GET",
            replace("Connection", b"close"),
            HandshakeError::MissingConnectionUpgrade,
        ),
        (
            "GET",
            replace("Sec-WebSocket-Version", b"8"),
            HandshakeError::UnsupportedVersion,
        ),
        (
            "GET",
            with(("Sec-WebSocket-Version", b"13")),
            HandshakeError::UnsupportedVersion,
        ),
        (
            "GET",
            replace("Sec-WebSocket-Key", b"c2hvcnQ="),
            HandshakeError::InvalidKey,
        ),
        ("GET", drop("Sec-WebSocket-Key"), HandshakeError::InvalidKey),
    ];
    for (method, headers, expected) in cases {
        let request = HttpRequest {
            method,
            version: HttpVersion::Http11,
            protocol: None,
            headers: &headers,
        };
        assert_eq!(
            request.check().err(),
            Some(expected),
            "{method} {headers:?}"
        );
        assert_eq!(
            builtin_error(method, &headers),
            Some(expected),
            "the built-in path agrees"
        );
        assert!(expected.status().is_some());
    }
    let old = HttpRequest {
        method: "GET",
        version: HttpVersion::Http10,
        protocol: None,
        headers: &h1(),
    };
    assert_eq!(
        old.check().err(),
        Some(HandshakeError::UnsupportedHttpVersion)
    );
}

#[test]
fn an_http11_answer_carries_the_accept_key_and_the_choice() {
    let headers = h1();
    let request = HttpRequest {
        method: "GET",
        version: HttpVersion::Http11,
        protocol: None,
        headers: &headers,
    };
    let offer = request.check().unwrap();
    assert_eq!(offer.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    let answer = offer
        .answer(
            &Accept::new()
                .protocol("chat")
                .headers(&[("X-Server", "hybi")]),
            &Config::new(),
        )
        .unwrap();
    assert_eq!(answer.status, 101);
    assert_eq!(answer.negotiated.protocol.as_deref(), Some("chat"));
    let get = |name: &str| {
        answer
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        get("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(get("upgrade"), Some("websocket"));
    assert_eq!(get("connection"), Some("Upgrade"));
    assert_eq!(get("sec-websocket-protocol"), Some("chat"));
    assert_eq!(get("X-Server"), Some("hybi"));
    assert_eq!(
        offer.answer(&Accept::new().protocol("other"), &Config::new()),
        Err(UsageError::ProtocolNotOffered)
    );
    assert_eq!(
        offer.answer(&Accept::new().headers(&[("Bad Name", "x")]), &Config::new()),
        Err(UsageError::InvalidHeader)
    );
}

#[test]
fn extended_connect_follows_rfc_8441() {
    for version in [HttpVersion::Http2, HttpVersion::Http3] {
        let headers = h2();
        let ok = HttpRequest {
            method: "CONNECT",
            version,
            protocol: Some("websocket"),
            headers: &headers,
        };
        let answer = ok
            .check()
            .unwrap()
            .answer(&Accept::new().protocol("chat"), &Config::new())
            .unwrap();
        assert_eq!(answer.status, 200);
        assert!(
            answer
                .headers
                .iter()
                .all(|(n, _)| n != "sec-websocket-accept"),
            "no accept key"
        );
        assert_eq!(
            answer.headers,
            [("sec-websocket-protocol".to_string(), "chat".to_string())]
        );
        let check = |method, protocol, headers: &[(&str, &[u8])]| {
            HttpRequest {
                method,
                version,
                protocol,
                headers,
            }
            .check()
            .err()
        };
        assert_eq!(
            check("GET", Some("websocket"), &headers),
            Some(HandshakeError::MethodNotConnect)
        );
        assert_eq!(
            check("CONNECT", None, &headers),
            Some(HandshakeError::MissingConnectProtocol)
        );
        assert_eq!(
            check("CONNECT", Some("webtransport"), &headers),
            Some(HandshakeError::MissingConnectProtocol)
        );
        let mut keyed = h2();
        keyed.push(("sec-websocket-key", KEY));
        assert_eq!(
            check("CONNECT", Some("websocket"), &keyed),
            Some(HandshakeError::KeyOverConnect)
        );
        let unversioned: Vec<_> = h2()
            .into_iter()
            .filter(|(n, _)| *n != "sec-websocket-version")
            .collect();
        assert_eq!(
            check("CONNECT", Some("websocket"), &unversioned),
            Some(HandshakeError::UnsupportedVersion)
        );
        assert_eq!(HandshakeError::MethodNotConnect.status(), Some(405));
        assert_eq!(HandshakeError::KeyOverConnect.status(), Some(400));
    }
}

#[test]
fn an_extended_connect_client_checks_the_response() {
    let config = Config::new();
    let headers = connect_request_headers(&config, &["chat", "superchat"]);
    assert_eq!(
        headers,
        [
            ("sec-websocket-version".to_string(), "13".to_string()),
            (
                "sec-websocket-protocol".to_string(),
                "chat, superchat".to_string()
            ),
        ]
    );
    let offered = ["chat", "superchat"];
    assert_eq!(
        check_connect_response(
            200,
            &[("sec-websocket-protocol", b"chat")],
            &config,
            &offered
        )
        .map(|n| n.protocol),
        Ok(Some("chat".to_string()))
    );
    assert_eq!(
        check_connect_response(200, &[], &config, &offered),
        Ok(Negotiated::none())
    );
    assert_eq!(
        check_connect_response(403, &[], &config, &offered),
        Err(HandshakeError::ConnectRefused)
    );
    assert_eq!(
        check_connect_response(
            200,
            &[("sec-websocket-protocol", b"other")],
            &config,
            &offered
        ),
        Err(HandshakeError::UnexpectedProtocol)
    );
    assert_eq!(
        check_connect_response(
            200,
            &[("sec-websocket-extensions", b"x-foo")],
            &config,
            &offered
        ),
        Err(HandshakeError::UnexpectedExtension)
    );
}

/// Connections opened on another stack's handshake talk like any other:
/// messages both ways, a Ping answered, a clean close.
#[test]
fn opened_connections_talk() {
    let mut chat = Negotiated::none();
    chat.protocol = Some("chat".into());
    let mut server = Connection::server_opened(Config::new(), chat);
    assert_eq!(server.protocol(), Some("chat"));
    let mut client = Connection::client_opened_with_rng(
        Config::new(),
        Negotiated::none(),
        Box::new(SeededRandom::new(3)),
    );
    assert_eq!(server.state(), State::Open);
    assert_eq!(client.state(), State::Open);
    client.send_text("hello").unwrap();
    client.send_ping(b"p").unwrap();
    let wire = client.transmit().to_vec();
    client.advance(wire.len());
    server.receive(&wire);
    assert!(matches!(
        server.next_event(),
        Ok(Some(Event::Text("hello")))
    ));
    assert!(matches!(server.next_event(), Ok(Some(Event::Ping(b"p")))));
    server.close(hybi::CloseCode::NORMAL, "").unwrap();
    let wire = server.transmit().to_vec();
    server.advance(wire.len());
    client.receive(&wire);
    let mut saw = Vec::new();
    while let Some(e) = client.next_event().unwrap() {
        saw.push(format!("{e:?}"));
    }
    assert_eq!(saw.len(), 2, "{saw:?}"); // the Pong, then the Close
    assert_eq!(client.state(), State::Closed);
}

#[cfg(feature = "deflate")]
#[test]
fn permessage_deflate_through_the_helpers() {
    let config = Config::new().deflate(hybi::DeflateConfig::new());
    // Client side of an extended CONNECT offers it...
    let request = connect_request_headers(&config, &[]);
    let pairs: Vec<(&str, &[u8])> = request
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    // ...the server's stack hands the request to the helper...
    let offer = HttpRequest {
        method: "CONNECT",
        version: HttpVersion::Http2,
        protocol: Some("websocket"),
        headers: &pairs,
    }
    .check()
    .unwrap();
    assert_eq!(offer.deflate_offers().count(), 1);
    let answer = offer.answer(&Accept::new(), &config).unwrap();
    let ext = answer
        .headers
        .iter()
        .find(|(n, _)| n == "sec-websocket-extensions")
        .unwrap();
    assert_eq!(ext.1, "permessage-deflate; client_max_window_bits=15");
    // ...and the client checks the answer.
    let response: Vec<(&str, &[u8])> = answer
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let client_side = check_connect_response(200, &response, &config, &[]).unwrap();
    assert_eq!(client_side.deflate, answer.negotiated.deflate);
    let mut server = Connection::server_opened(config, answer.negotiated);
    let mut client =
        Connection::client_opened_with_rng(config, client_side, Box::new(SeededRandom::new(4)));
    let text = "{\"type\":\"ticker\",\"price\":\"60001.25\"} ".repeat(20);
    client.send_text(&text).unwrap();
    let wire = client.transmit().to_vec();
    assert_eq!(wire[0], 0xc1, "compressed");
    server.receive(&wire);
    match server.next_event() {
        Ok(Some(Event::Text(t))) => assert_eq!(t, text),
        other => panic!("{other:?}"),
    }
}

/// The agreed subprotocol is reported by every connection: a server that
/// accepted it, a client that saw it in the 101, and none without one.
#[test]
fn connections_report_the_agreed_subprotocol() {
    let mut server = Connection::server(Config::new());
    let mut client = Connection::client_with_rng(
        hybi::ClientRequest::new("example.com", "/chat").protocols(&["chat.v2", "chat.v1"]),
        Config::new(),
        Box::new(SeededRandom::new(8)),
    )
    .unwrap();
    let request = client.transmit().to_vec();
    client.advance(request.len());
    server.receive(&request);
    assert!(matches!(
        server.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    assert_eq!(server.protocol(), None);
    server.accept(Accept::new().protocol("chat.v1")).unwrap();
    assert_eq!(server.protocol(), Some("chat.v1"));
    let response = server.transmit().to_vec();
    client.receive(&response);
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::HandshakeResponse(_)))
    ));
    assert_eq!(client.protocol(), Some("chat.v1"));
    let mut plain = common::open_server(Config::new());
    assert_eq!(plain.protocol(), None);
}

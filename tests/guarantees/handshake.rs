//! Guarantees of the opening handshake (RFC 6455 §4): every request and
//! response rule, with the HTTP status or `HandshakeError` each violation
//! gets, in both roles.

use crate::helpers::*;

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

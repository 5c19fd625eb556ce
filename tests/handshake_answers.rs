//! Answering a handshake request where it is: `Outbound::accept` and
//! `Outbound::reject` while the `HandshakeRequest` event is borrowed, with
//! the same rules as `Connection::accept`/`reject`, and the request's header
//! views (repeated headers, cookies).

mod common;

use common::{REQUEST, client_frame};
use hybi::frame::Opcode;
use hybi::{Accept, Config, Connection, Event, Reject, State, UsageError};

/// A request with extra header lines before the blank line.
fn request_with(extra: &str) -> Vec<u8> {
    let text = std::str::from_utf8(REQUEST).unwrap();
    text.replacen("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n"), 1)
        .into_bytes()
}

#[test]
fn accept_in_the_event_arm_keeps_pipelined_frames() {
    let mut conn = Connection::server(Config::new());
    let mut input = REQUEST.to_vec();
    input.extend(client_frame(true, Opcode::Text, b"first"));
    conn.receive(&input);
    let mut texts = Vec::new();
    {
        let (mut inbound, mut outbound) = conn.split();
        while let Some(event) = inbound.next_event().unwrap() {
            match event {
                Event::HandshakeRequest(request) => {
                    assert_eq!(
                        outbound.accept(&request, Accept::new().protocol("nope")),
                        Err(UsageError::ProtocolNotOffered)
                    );
                    outbound
                        .accept(&request, Accept::new().protocol("superchat"))
                        .unwrap();
                    assert_eq!(
                        outbound.accept(&request, Accept::new()),
                        Err(UsageError::NoPendingRequest),
                        "answered once"
                    );
                }
                Event::Text(t) => texts.push(t.to_string()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(texts, ["first"]);
    assert_eq!(conn.state(), State::Open);
    assert!(conn.request().is_none());
    let out = String::from_utf8(conn.transmit().to_vec()).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{out}"
    );
    assert!(
        out.contains("Sec-WebSocket-Protocol: superchat\r\n"),
        "{out}"
    );
    assert!(out.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

#[test]
fn reject_in_the_event_arm_drops_pipelined_frames() {
    let mut conn = Connection::server(Config::new());
    let mut input = REQUEST.to_vec();
    input.extend(client_frame(true, Opcode::Text, b"smuggled"));
    conn.receive(&input);
    let mut events = 0;
    {
        let (mut inbound, mut outbound) = conn.split();
        while let Some(event) = inbound.next_event().unwrap() {
            events += 1;
            if let Event::HandshakeRequest(_) = event {
                for status in [101, 200, 399, 600, 999] {
                    assert_eq!(
                        outbound.reject(Reject::new(status)),
                        Err(UsageError::InvalidStatus),
                        "{status}"
                    );
                }
                outbound
                    .reject(Reject::new(403).body(b"origin not allowed"))
                    .unwrap();
            }
        }
    }
    assert_eq!(events, 1, "nothing after the rejected request is decoded");
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.close_expected());
    let out = conn.transmit().to_vec();
    assert!(out.starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
    assert!(out.ends_with(b"\r\n\r\norigin not allowed"));
}

#[test]
fn connection_reject_checks_the_status_too() {
    let mut conn = Connection::server(Config::new());
    conn.receive(REQUEST);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    assert_eq!(
        conn.reject(Reject::new(101)),
        Err(UsageError::InvalidStatus.into())
    );
    assert_eq!(conn.state(), State::RequestReceived, "nothing changed");
    assert!(conn.transmit().is_empty());
    conn.reject(Reject::new(401)).unwrap();
    assert!(
        conn.transmit()
            .starts_with(b"HTTP/1.1 401 Unauthorized\r\n")
    );
}

#[test]
fn repeated_headers_and_cookies_are_all_visible() {
    let input = request_with(
        "Cookie: theme=dark; session=abc123\r\nX-Trace: one\r\ncookie: lang=en\r\nX-Trace: two",
    );
    let mut conn = Connection::server(Config::new());
    conn.receive(&input);
    let Ok(Some(Event::HandshakeRequest(request))) = conn.next_event() else {
        panic!("expected a request");
    };
    assert_eq!(request.header("x-trace"), Some(&b"one"[..]));
    assert_eq!(request.header_str("X-Trace"), Some("one"));
    assert!(request.header_values("x-trace").eq([&b"one"[..], b"two"]));
    assert!(
        request
            .cookies()
            .eq([("theme", "dark"), ("session", "abc123"), ("lang", "en")])
    );
    assert_eq!(request.cookie("session"), Some("abc123"));
    assert_eq!(request.cookie("lang"), Some("en"));
    assert_eq!(request.cookie("missing"), None);
}

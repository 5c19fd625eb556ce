//! The one-step path for small whole messages, between two of them: after
//! a small message the next call skips the checks nothing in between could
//! change, so each test puts something in between that does change them
//! (a timer failing the connection, our Close, a fragment begun, the buffer
//! compacted, a staged event) and asserts the next event is still what the
//! general rules say. Both roles, every length the path takes.

mod common;

use core::time::Duration;

use common::{client_frame, open_client, server_frame};
use hybi::frame::Opcode;
use hybi::{CloseCode, Config, Connection, Error, Event, ProtocolError, State, Time};

fn text(conn: &mut Connection) -> Result<Option<String>, Error> {
    Ok(match conn.next_event()? {
        Some(Event::Text(t)) => Some(t.to_owned()),
        Some(other) => panic!("unexpected event {other:?}"),
        None => None,
    })
}

fn frames(parts: &[&str]) -> Vec<u8> {
    parts
        .iter()
        .flat_map(|p| client_frame(true, Opcode::Text, p.as_bytes()))
        .collect()
}

#[test]
fn a_timeout_between_two_small_messages_stops_the_second() {
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_secs(20)))
        .pong_timeout(Some(Duration::from_secs(5)));
    let mut conn = common::open_server(config);
    conn.receive(&frames(&["one", "two", "three"]));
    assert_eq!(text(&mut conn), Ok(Some("one".into())));
    conn.handle_timeout(Time::from_millis(0)); // heard at 0
    conn.handle_timeout(Time::from_millis(20_000)); // the Ping
    conn.handle_timeout(Time::from_millis(25_000)); // no Pong came
    assert_eq!(conn.state(), State::Failed);
    assert_eq!(text(&mut conn), Err(Error::PongTimeout));
    assert_eq!(text(&mut conn), Err(Error::PongTimeout), "sticky");
}

#[test]
fn our_close_between_small_messages_still_delivers_the_rest() {
    let mut conn = common::open_server(Config::new());
    conn.receive(&frames(&["one", "two"]));
    assert_eq!(text(&mut conn), Ok(Some("one".into())));
    conn.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(conn.state(), State::CloseSent);
    assert_eq!(text(&mut conn), Ok(Some("two".into())));
    assert_eq!(text(&mut conn), Ok(None));
}

#[test]
fn a_small_message_inside_a_fragmented_one_is_refused() {
    let mut conn = common::open_server(Config::new());
    let mut input = frames(&["one"]);
    input.extend(client_frame(false, Opcode::Text, b"fir"));
    input.extend(frames(&["two"]));
    conn.receive(&input);
    assert_eq!(text(&mut conn), Ok(Some("one".into())));
    assert_eq!(
        text(&mut conn),
        Err(Error::Protocol(ProtocolError::ExpectedContinuation))
    );
    assert_eq!(conn.state(), State::Failed);
}

#[test]
fn bad_text_after_a_small_message_fails_with_1007() {
    for bad in [&b"\xff"[..], b"ab\xc3", b"\xed\xa0\x80 surrogate"] {
        let mut conn = common::open_server(Config::new());
        let mut input = frames(&["ok"]);
        input.extend(client_frame(true, Opcode::Text, bad));
        conn.receive(&input);
        assert_eq!(text(&mut conn), Ok(Some("ok".into())));
        let err = text(&mut conn).unwrap_err();
        assert_eq!(err, Error::Protocol(ProtocolError::InvalidUtf8));
        assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
    }
}

/// A stream of small messages of every length the path takes, read through
/// `read_buf` in pieces that cut headers and payloads anywhere, with the
/// buffer compacting in between: every message arrives whole and in order.
#[test]
fn small_messages_of_every_length_survive_reads_cut_anywhere() {
    for (role, open) in [
        ("server", common::open_server as fn(Config) -> Connection),
        ("client", open_client),
    ] {
        let messages: Vec<String> = (0..=125)
            .map(|n| {
                (0..n)
                    .map(|i| if (i + n) % 7 == 0 { 'é' } else { 'a' })
                    .collect::<String>()
            })
            .filter(|s: &String| s.len() <= 125)
            .collect();
        let input: Vec<u8> = messages
            .iter()
            .flat_map(|m| {
                if role == "server" {
                    client_frame(true, Opcode::Text, m.as_bytes())
                } else {
                    server_frame(true, Opcode::Text, m.as_bytes())
                }
            })
            .collect();
        for piece in [1, 3, 7, 64, 1000] {
            let mut conn = open(Config::new().read_buf_size(1024));
            let mut got = Vec::new();
            for chunk in input.chunks(piece) {
                let buf = conn.read_buf();
                buf[..chunk.len()].copy_from_slice(chunk);
                conn.commit(chunk.len());
                while let Some(t) = text(&mut conn).unwrap() {
                    got.push(t);
                }
            }
            assert_eq!(got, messages, "{role}, pieces of {piece}");
        }
    }
}

/// `event_ready` stages a small message; bytes read before `next_event`
/// hands it out move the buffer, and the staged message moves with it.
#[test]
fn a_staged_small_message_survives_reads_before_it_is_taken() {
    let mut conn = common::open_server(Config::new().read_buf_size(1024));
    let first = frames(&["one", "two"]);
    let buf = conn.read_buf();
    buf[..first.len()].copy_from_slice(&first);
    conn.commit(first.len());
    assert_eq!(text(&mut conn), Ok(Some("one".into())));
    assert_eq!(conn.event_ready(), Ok(true));
    let more = frames(&["three"; 300]);
    for chunk in more.chunks(500) {
        let buf = conn.read_buf();
        buf[..chunk.len()].copy_from_slice(chunk);
        conn.commit(chunk.len());
    }
    assert_eq!(text(&mut conn), Ok(Some("two".into())));
    for _ in 0..300 {
        assert_eq!(text(&mut conn), Ok(Some("three".into())));
    }
    assert_eq!(text(&mut conn), Ok(None));
}

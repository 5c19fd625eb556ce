//! Time as input: every timer path on a simulated clock (no test sleeps).
//! Handshake, keep-alive Ping and its Pong deadline, close timeout, timers
//! cancelled by the close, traffic postponing the Ping, and a clock that
//! goes back or stands still.

mod common;

use core::time::Duration;

use common::{client_frame, new_client, open_client, response_for};
use hybi::frame::Opcode;
use hybi::{CloseCode, Config, Connection, Error, Event, HandshakeError, State, Time};

fn secs(s: u64) -> Time {
    Time::from_millis(s * 1000)
}

fn drain_events(conn: &mut Connection) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    while let Some(event) = conn.next_event()? {
        out.push(format!("{event:?}"));
    }
    Ok(out)
}

fn take_output(conn: &mut Connection) -> Vec<u8> {
    let out = conn.transmit().to_vec();
    conn.advance(out.len());
    out
}

#[test]
fn without_handle_timeout_no_timer_runs() {
    let mut conn = common::open_server(Config::new());
    assert_eq!(conn.poll_timeout(), None);
    let mut off = Connection::server(
        Config::new()
            .handshake_timeout(None)
            .keepalive_interval(None)
            .pong_timeout(None)
            .close_timeout(None),
    );
    off.handle_timeout(secs(1));
    assert_eq!(off.poll_timeout(), None);
    off.handle_timeout(secs(1_000_000));
    assert_eq!(off.state(), State::AwaitingRequest);
}

#[test]
fn a_server_handshake_times_out_and_reads_nothing_more() {
    let mut conn = Connection::server(Config::new());
    conn.handle_timeout(secs(100));
    assert_eq!(conn.poll_timeout(), Some(secs(110)), "default 10 s");
    conn.receive(b"GET /chat HTTP/1.1\r\nHost: a\r\n"); // a slow client
    conn.handle_timeout(Time::from_millis(109_999));
    assert_eq!(drain_events(&mut conn), Ok(vec![]));
    conn.handle_timeout(secs(110));
    assert_eq!(
        drain_events(&mut conn),
        Err(Error::Handshake(HandshakeError::Timeout))
    );
    assert_eq!(conn.state(), State::Failed);
    assert!(conn.close_expected());
    assert!(conn.transmit().is_empty(), "nothing is sent");
    conn.receive(common::REQUEST);
    assert_eq!(
        conn.next_event().err(),
        Some(Error::Handshake(HandshakeError::Timeout))
    );
    assert_eq!(conn.poll_timeout(), None);
}

#[test]
fn a_request_left_unanswered_times_out_too() {
    let mut conn =
        Connection::server(Config::new().handshake_timeout(Some(Duration::from_secs(2))));
    conn.handle_timeout(secs(0));
    conn.receive(common::REQUEST);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    conn.handle_timeout(secs(2));
    assert_eq!(
        conn.next_event().err(),
        Some(Error::Handshake(HandshakeError::Timeout))
    );
    assert_eq!(conn.state(), State::Failed);
}

#[test]
fn a_client_handshake_times_out_with_a_handshake_error() {
    let mut conn = new_client(Config::new(), 1);
    let request = take_output(&mut conn);
    conn.handle_timeout(secs(0));
    conn.handle_timeout(secs(10));
    assert_eq!(
        conn.next_event().err(),
        Some(Error::Handshake(HandshakeError::Timeout))
    );
    // The response arriving late changes nothing.
    conn.receive(&response_for(&request));
    assert_eq!(
        conn.next_event().err(),
        Some(Error::Handshake(HandshakeError::Timeout))
    );
}

#[test]
fn a_finished_handshake_moves_on_to_keep_alive() {
    let mut conn = Connection::server(Config::new());
    conn.handle_timeout(secs(0));
    conn.receive(common::REQUEST);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    conn.accept(hybi::Accept::new()).unwrap();
    take_output(&mut conn);
    conn.handle_timeout(secs(3));
    // The handshake deadline (10 s) is gone; the request's bytes count
    // as heard at the call after them (3 s): keep-alive is due at 23 s.
    assert_eq!(conn.poll_timeout(), Some(secs(23)));
}

#[test]
fn a_ping_goes_out_after_the_interval_and_a_pong_clears_its_deadline() {
    let mut conn = common::open_server(Config::new());
    conn.handle_timeout(secs(0));
    assert_eq!(conn.poll_timeout(), Some(secs(20)));
    conn.handle_timeout(secs(19));
    assert!(conn.transmit().is_empty());
    conn.handle_timeout(secs(20));
    assert_eq!(take_output(&mut conn), [0x89, 0x00], "an empty Ping");
    // The Pong deadline (20 s) and the next interval coincide.
    assert_eq!(conn.poll_timeout(), Some(secs(40)));
    conn.receive(&client_frame(true, Opcode::Pong, b""));
    assert_eq!(drain_events(&mut conn).unwrap().len(), 1);
    conn.handle_timeout(secs(25));
    // The Pong was heard at 25 s: the next Ping is due 20 s after that.
    assert_eq!(conn.poll_timeout(), Some(secs(45)));
    conn.handle_timeout(secs(45));
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
    assert_eq!(conn.state(), State::Open);
}

#[test]
fn traffic_postpones_the_ping() {
    let mut conn =
        common::open_server(Config::new().keepalive_interval(Some(Duration::from_secs(5))));
    conn.handle_timeout(secs(0));
    for t in 1..=20 {
        conn.receive(&client_frame(true, Opcode::Text, b"tick"));
        drain_events(&mut conn).unwrap();
        conn.handle_timeout(secs(t));
        assert!(
            conn.transmit().is_empty(),
            "no ping while the peer talks ({t} s)"
        );
        // Heard at the call after the bytes: 5 s from then.
        assert_eq!(conn.poll_timeout(), Some(secs(t + 5)));
    }
    // What we send does not count: the peer may be gone.
    conn.send_text("hello?").unwrap();
    take_output(&mut conn);
    conn.handle_timeout(secs(25));
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
}

#[test]
fn a_missing_pong_fails_with_1011() {
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_secs(20)))
        .pong_timeout(Some(Duration::from_secs(5)));
    let mut conn = common::open_server(config);
    conn.handle_timeout(secs(0));
    conn.handle_timeout(secs(20));
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
    assert_eq!(conn.poll_timeout(), Some(secs(25)));
    conn.handle_timeout(secs(25));
    assert_eq!(conn.next_event().err(), Some(Error::PongTimeout));
    assert_eq!(
        Error::PongTimeout.close_code(),
        Some(CloseCode::INTERNAL_ERROR)
    );
    let close = take_output(&mut conn);
    assert_eq!(&close[..4], &[0x88, 0x18, 0x03, 0xf3]);
    assert_eq!(&close[4..], b"keepalive ping timeout");
    assert_eq!(conn.state(), State::Failed);
    assert!(conn.close_expected());
    assert_eq!(conn.poll_timeout(), None);
}

#[test]
fn a_client_pings_masked() {
    let mut conn = open_client(Config::new());
    conn.handle_timeout(secs(0));
    conn.handle_timeout(secs(20));
    let ping = take_output(&mut conn);
    assert_eq!(&ping[..2], &[0x89, 0x80], "masked, empty");
    assert_eq!(ping.len(), 6);
}

#[test]
fn a_missing_close_reply_ends_the_connection_as_abnormal() {
    let mut conn = common::open_server(Config::new());
    conn.handle_timeout(secs(0));
    conn.handle_timeout(secs(3));
    conn.close(CloseCode::NORMAL, "bye").unwrap();
    take_output(&mut conn);
    // Keep-alive stops with our Close; the close deadline counts from the
    // next time the connection is told, which it asks for at once (the
    // latest time given: 3 s).
    assert_eq!(conn.poll_timeout(), Some(secs(3)));
    conn.handle_timeout(secs(3));
    assert_eq!(conn.poll_timeout(), Some(secs(13)));
    conn.handle_timeout(secs(12));
    assert_eq!(drain_events(&mut conn), Ok(vec![]));
    conn.handle_timeout(secs(13));
    let events = drain_events(&mut conn).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].contains("1006"), "{events:?}");
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.close_expected());
    assert!(conn.transmit().is_empty(), "no ping after our close");
    assert_eq!(conn.poll_timeout(), None);
}

#[test]
fn the_peers_close_in_time_cancels_the_close_timer() {
    let mut conn = common::open_server(Config::new());
    conn.handle_timeout(secs(0));
    conn.close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    conn.handle_timeout(secs(0));
    assert_eq!(conn.poll_timeout(), Some(secs(10)));
    conn.receive(&client_frame(true, Opcode::Close, &1000u16.to_be_bytes()));
    let events = drain_events(&mut conn).unwrap();
    assert!(events[0].contains("1000"), "{events:?}");
    assert_eq!(conn.poll_timeout(), None);
    conn.handle_timeout(secs(100));
    assert_eq!(drain_events(&mut conn), Ok(vec![]));
}

#[test]
fn a_clock_that_goes_back_or_stands_still_is_harmless() {
    let mut conn = common::open_server(Config::new());
    conn.handle_timeout(secs(100));
    assert_eq!(conn.poll_timeout(), Some(secs(120)));
    conn.handle_timeout(secs(50)); // back: taken as 100 s
    assert_eq!(conn.poll_timeout(), Some(secs(120)));
    for _ in 0..1000 {
        conn.handle_timeout(secs(100));
    }
    assert!(conn.transmit().is_empty());
    conn.handle_timeout(Time::from_duration(Duration::MAX)); // the far future
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
    conn.handle_timeout(Time::from_duration(Duration::MAX));
    assert_eq!(conn.next_event().err(), Some(Error::PongTimeout));
}

#[test]
fn several_deadlines_are_one_answer() {
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_secs(30)))
        .pong_timeout(Some(Duration::from_secs(2)));
    let mut conn = common::open_server(config);
    conn.handle_timeout(secs(0));
    conn.handle_timeout(secs(30));
    take_output(&mut conn);
    // Pong due at 32 s, next interval at 60 s: the earlier one.
    assert_eq!(conn.poll_timeout(), Some(secs(32)));
}

/// A Pong deadline longer than the interval stands: no second Ping
/// replaces it, and a silent peer is still found out (found by the
/// language-neutral vectors).
#[test]
fn a_pong_deadline_longer_than_the_interval_is_kept() {
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_secs(5)))
        .pong_timeout(Some(Duration::from_secs(8)));
    let mut conn = common::open_server(config);
    conn.handle_timeout(secs(0));
    conn.handle_timeout(secs(5));
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
    conn.handle_timeout(secs(10));
    assert!(conn.transmit().is_empty(), "one Ping at a time");
    assert_eq!(conn.poll_timeout(), Some(secs(13)));
    conn.handle_timeout(secs(13));
    assert_eq!(conn.next_event().err(), Some(Error::PongTimeout));
}

/// Polling or not in between changes nothing: a change counts from the
/// first time given after it.
#[test]
fn polling_does_not_change_the_outcome() {
    for poll in [false, true] {
        let mut conn = common::open_server(Config::new());
        conn.handle_timeout(secs(3));
        conn.close(CloseCode::NORMAL, "").unwrap();
        take_output(&mut conn);
        if poll {
            assert_eq!(conn.poll_timeout(), Some(secs(3)), "tell me the time");
        }
        conn.handle_timeout(secs(5));
        conn.handle_timeout(secs(14));
        assert_eq!(drain_events(&mut conn), Ok(vec![]), "poll {poll}");
        conn.handle_timeout(secs(15));
        let events = drain_events(&mut conn).unwrap();
        assert_eq!(events.len(), 1, "poll {poll}: {events:?}");
        assert!(events[0].contains("1006"));
    }
}

/// A close after a long silence still waits the whole close timeout for
/// the peer's Close: the deadline starts when the connection is next told
/// the time, not from a time given long before the close.
#[test]
fn a_close_after_a_long_idle_waits_the_whole_close_timeout() {
    let config = Config::new().keepalive_interval(None);
    let mut conn = common::open_server(config);
    conn.handle_timeout(secs(0));
    assert_eq!(
        conn.poll_timeout(),
        None,
        "no timer while open without keep-alive"
    );
    // An hour later, nothing told in between (there was nothing to wake for).
    conn.close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    assert_eq!(conn.poll_timeout(), Some(secs(0)), "asks for the time");
    conn.handle_timeout(secs(3600));
    assert_eq!(drain_events(&mut conn), Ok(vec![]), "not ended at once");
    assert_eq!(conn.poll_timeout(), Some(secs(3610)));
    conn.handle_timeout(secs(3609));
    assert_eq!(drain_events(&mut conn), Ok(vec![]));
    conn.handle_timeout(secs(3610));
    let events = drain_events(&mut conn).unwrap();
    assert!(events[0].contains("1006"), "{events:?}");
}

/// The same for keep-alive after a handshake that waited a long time for
/// the caller's answer with no handshake timeout: the first Ping comes an
/// interval after the next time given, not at once.
#[test]
fn keep_alive_starts_from_the_time_after_the_handshake() {
    let mut conn = Connection::server(Config::new().handshake_timeout(None));
    conn.handle_timeout(secs(0));
    assert_eq!(conn.poll_timeout(), None);
    conn.receive(common::REQUEST);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    // The request is heard at 1 s; the caller answers long after.
    conn.handle_timeout(secs(1));
    conn.accept(hybi::Accept::new()).unwrap();
    take_output(&mut conn);
    assert_eq!(conn.poll_timeout(), Some(secs(1)), "asks for the time");
    conn.handle_timeout(secs(500));
    assert!(conn.transmit().is_empty(), "no Ping at once");
    assert_eq!(conn.poll_timeout(), Some(secs(520)));
}

/// Traffic keeps the Ping away even for a caller that only wakes at the
/// deadlines `poll_timeout` gives and polls after every read: the wake-up
/// finds the bytes and moves the deadline on instead of pinging.
#[test]
fn a_caller_that_only_wakes_at_deadlines_sees_no_ping_while_traffic_flows() {
    let mut conn =
        common::open_server(Config::new().keepalive_interval(Some(Duration::from_secs(5))));
    conn.handle_timeout(secs(0));
    let mut wake = conn.poll_timeout().unwrap();
    for t in 1..=30 {
        conn.receive(&client_frame(true, Opcode::Text, b"tick"));
        drain_events(&mut conn).unwrap();
        let next = conn.poll_timeout().unwrap();
        assert!(next >= wake, "deadlines never move earlier");
        wake = next;
        if wake <= secs(t) {
            conn.handle_timeout(secs(t));
            assert!(
                conn.transmit().is_empty(),
                "no ping at {t} s: the peer talks"
            );
            wake = conn.poll_timeout().unwrap();
        }
    }
}

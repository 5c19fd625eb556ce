//! A client and a server wired together, driven by an arbitrary list of
//! operations: send text/binary/ping/close on either side, deliver part of
//! the bytes in flight, end a stream, let time pass on either side's
//! clock. Nothing panics, every outcome is an event or a typed error, each
//! side receives exactly the messages the other sent, in order, up to
//! where a close, error or timeout ended the exchange, and after
//! `handle_timeout(now)` no deadline is left at or before `now`.
#![no_main]

use arbitrary::Arbitrary;
use hybi::{Accept, CloseCode, Connection, Error, Event};
use hybi_fuzz::small_config;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Send { client: bool, text: bool, payload: Vec<u8> },
    Ping { client: bool, payload: Vec<u8> },
    Close { client: bool, code: u16, reason: String },
    Deliver { to_server: bool, max: u16 },
    Eof { to_server: bool },
    /// Time passes by `ms` (possibly 0; a huge step crosses every
    /// deadline) and one side is told.
    Tick { client: bool, ms: u32 },
}

#[derive(Default)]
struct Side {
    received: Vec<Vec<u8>>,
    partial: Vec<u8>,
    sent: Vec<Vec<u8>>,
    error: Option<Error>,
    eof: bool,
}

fn pump(conn: &mut Connection, side: &mut Side, server: bool) {
    while side.error.is_none() {
        match conn.next_event() {
            Ok(Some(Event::HandshakeRequest(_))) if server => {
                conn.accept(Accept::new()).unwrap();
            }
            Ok(Some(Event::Text(t))) => side.received.push(t.as_bytes().to_vec()),
            Ok(Some(Event::Binary(b))) => side.received.push(b.to_vec()),
            Ok(Some(Event::TextChunk { data, last })) => {
                side.partial.extend_from_slice(data.as_bytes());
                if last {
                    side.received.push(std::mem::take(&mut side.partial));
                }
            }
            Ok(Some(Event::BinaryChunk { data, last })) => {
                side.partial.extend_from_slice(data);
                if last {
                    side.received.push(std::mem::take(&mut side.partial));
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(e) => side.error = Some(e),
        }
    }
}

fn deliver(from: &mut Connection, to: &mut Connection, max: usize) {
    let out = from.transmit();
    let n = out.len().min(max);
    to.receive(&out[..n]);
    from.advance(n);
}

/// The receive buffer stays within the configured bound plus what one
/// delivery added (events are drained after every delivery), and the
/// transmit side within what the caller queued plus its retained capacity.
fn check_memory(conn: &Connection, config: &hybi::Config, delivered: usize, queued: usize) {
    let bound = config.max_receive_buffer()
        + delivered
        + queued
        + config.get_buffer_high_water()
        + 4096;
    assert!(
        conn.buffered_bytes() <= bound,
        "holds {} bytes, bound {bound}",
        conn.buffered_bytes()
    );
}

fuzz_target!(|ops: Vec<Op>| {
    let config = small_config();
    let mut client = Connection::client_with_rng(
        hybi::ClientRequest::new("example.com", "/chat"),
        config,
        Box::new(hybi::SeededRandom::new(1)),
    )
    .unwrap();
    let mut server = Connection::server(config);
    let (mut cs, mut ss) = (Side::default(), Side::default());
    let mut now = hybi::Time::ZERO;
    for op in ops.iter().take(64) {
        match op {
            Op::Send { client: c, text, payload } => {
                let (conn, side) = if *c { (&mut client, &mut cs) } else { (&mut server, &mut ss) };
                // Stay within the receiver's limits (small_config: 4 KiB frames).
                let payload = &payload[..payload.len().min(1024)];
                let payload = if *text {
                    String::from_utf8_lossy(payload).into_owned().into_bytes()
                } else {
                    payload.to_vec()
                };
                let result = if *text {
                    conn.send_text(std::str::from_utf8(&payload).unwrap())
                } else {
                    conn.send_binary(&payload)
                };
                match result {
                    Ok(()) => side.sent.push(payload),
                    // Only a usage error is possible (`send_*` return `UsageError`).
                    Err(_) => {}
                }
            }
            Op::Ping { client: c, payload } => {
                let conn = if *c { &mut client } else { &mut server };
                // A refused Ping is a usage error, by type; nothing to check.
                let _ = conn.send_ping(payload);
            }
            Op::Close { client: c, code, reason } => {
                let conn = if *c { &mut client } else { &mut server };
                let _ = conn.close(CloseCode(*code), reason);
            }
            Op::Deliver { to_server, max } => {
                let max = usize::from(*max);
                if *to_server {
                    if !ss.eof {
                        deliver(&mut client, &mut server, max);
                    }
                    pump(&mut server, &mut ss, true);
                    let queued = server.transmit().len();
                    check_memory(&server, &config, max, queued);
                } else {
                    if !cs.eof {
                        deliver(&mut server, &mut client, max);
                    }
                    pump(&mut client, &mut cs, false);
                    let queued = client.transmit().len();
                    check_memory(&client, &config, max, queued);
                }
            }
            Op::Tick { client: c, ms } => {
                now = now + core::time::Duration::from_millis(u64::from(*ms));
                let (conn, side) = if *c { (&mut client, &mut cs) } else { (&mut server, &mut ss) };
                conn.handle_timeout(now);
                if let Some(next) = conn.poll_timeout() {
                    assert!(next > now, "a deadline at {next:?} left after handle_timeout({now:?})");
                }
                pump(conn, side, !*c);
            }
            Op::Eof { to_server } => {
                if *to_server {
                    ss.eof = true;
                    server.receive_eof();
                    pump(&mut server, &mut ss, true);
                } else {
                    cs.eof = true;
                    client.receive_eof();
                    pump(&mut client, &mut cs, false);
                }
            }
        }
    }
    // Settle: deliver everything both ways until quiet (bounded).
    for _ in 0..16 {
        if !ss.eof {
            deliver(&mut client, &mut server, usize::MAX);
        }
        pump(&mut server, &mut ss, true);
        if !cs.eof {
            deliver(&mut server, &mut client, usize::MAX);
        }
        pump(&mut client, &mut cs, false);
    }
    // Both sides are well-behaved peers: no protocol errors between them.
    for side in [&cs, &ss] {
        if let Some(e) = side.error {
            assert!(!matches!(e, Error::Protocol(_)), "{e:?} between two hybi peers");
        }
    }
    // What arrived is what was sent, in order (a prefix when a close or
    // EOF cut the exchange short).
    assert!(cs.received.len() <= ss.sent.len());
    assert_eq!(cs.received[..], ss.sent[..cs.received.len()]);
    assert!(ss.received.len() <= cs.sent.len());
    assert_eq!(ss.received[..], cs.sent[..ss.received.len()]);
});

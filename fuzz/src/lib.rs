//! Shared harness for the fuzz targets: feed bytes to a connection in the
//! pieces the fuzzer chose, record everything it produced, and check the
//! invariants every target relies on:
//! - no panic (libFuzzer reports it);
//! - every outcome is an event or a typed, sticky error;
//! - the same input fed whole, in the chosen pieces or byte by byte gives the
//!   same events, error and output;
//! - the receive buffer never exceeds the bound its configuration promises;
//! - after an error, further input produces no events, and the close frame
//!   owed for a protocol error is handed out.

use hybi::{Config, Connection, Error, Event, SeededRandom};

/// Everything a connection produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Each event's Debug rendering, in order.
    pub events: Vec<String>,
    /// The error that ended decoding, if any.
    pub error: Option<Error>,
    /// Every byte handed out by `transmit`.
    pub output: Vec<u8>,
}

/// A config with small limits so the fuzzer reaches them.
pub fn small_config() -> Config {
    Config::new()
        .max_frame_size(4096)
        .max_message_size(16 << 10)
        .max_fragments(64)
        .chunk_threshold(1024)
        .max_handshake_bytes(2048)
        .max_headers(16)
        .read_buf_size(512)
        .buffer_high_water(8 << 10)
}

/// The shared way to open a connection without a peer (`hybi::testing`).
pub use hybi::testing::{REQUEST, response_for};

/// A server that accepted a handshake; with permessage-deflate agreed when
/// `config` has a policy (the request offers it as browsers do).
pub fn open_server(config: Config) -> Connection {
    if config.get_deflate().is_some() {
        hybi::testing::open_server_deflate(config)
    } else {
        hybi::testing::open_server(config)
    }
}

/// A client with its request drained, before any response.
pub fn new_client(config: Config) -> (Connection, Vec<u8>) {
    hybi::testing::new_client(config, Box::new(SeededRandom::new(7)))
}

/// A client that received a valid 101 (agreeing to permessage-deflate,
/// as the policy asks, when `config` has one).
pub fn open_client(config: Config) -> Connection {
    let (mut conn, request) = new_client(config);
    let response = match config.get_deflate() {
        None => response_for(&request),
        Some(policy) if policy.get_peer_no_context_takeover() => hybi::testing::response_with_extensions(
            &request,
            "permessage-deflate; server_no_context_takeover",
        ),
        Some(_) => hybi::testing::response_with_extensions(&request, "permessage-deflate"),
    };
    conn.receive(&response);
    assert!(matches!(conn.next_event(), Ok(Some(Event::HandshakeResponse(_)))));
    conn
}

/// Drains events and output into `t`, checking error stickiness.
pub fn drain(conn: &mut Connection, t: &mut Transcript) {
    if t.error.is_none() {
        loop {
            match conn.next_event() {
                Ok(Some(event)) => t.events.push(format!("{event:?}")),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(conn.next_event().err(), Some(e), "errors are sticky");
                    t.error = Some(e);
                    break;
                }
            }
        }
    }
    let out = conn.transmit().to_vec();
    conn.advance(out.len());
    t.output.extend_from_slice(&out);
}

/// Feeds `input` in pieces ending at `cuts`, draining after each, checking
/// the memory bound, then optionally EOF.
pub fn feed(conn: &mut Connection, config: &Config, input: &[u8], cuts: &[usize], eof: bool) -> Transcript {
    let mut t = Transcript::default();
    let mut start = 0;
    let mut largest_piece = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(start, input.len());
        if cut > start {
            conn.receive(&input[start..cut]);
            largest_piece = largest_piece.max(cut - start);
        }
        start = cut;
        drain(conn, &mut t);
        // With permessage-deflate, the inflated message (at most a chunk)
        // is held apart from the receive buffer.
        let inflated = if config.get_deflate().is_some() {
            config.get_chunk_threshold().min(config.get_max_message_size()) + 8
        } else {
            0
        };
        let bound = config.max_receive_buffer() + largest_piece + inflated;
        assert!(
            conn.buffered_bytes() <= bound + transmit_allowance(config),
            "holds {} bytes, bound {bound}",
            conn.buffered_bytes()
        );
    }
    if eof {
        conn.receive_eof();
        drain(conn, &mut t);
    }
    t
}

/// Transmit capacity kept between drains (released above the high-water mark)
/// plus the handshake's bookkeeping.
fn transmit_allowance(config: &Config) -> usize {
    config.get_buffer_high_water() + 4096
}

/// Turns fuzzer bytes into sorted cut positions within `len`.
pub fn cuts_from(seed: &[u8], len: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut pos = 0usize;
    for &b in seed {
        pos += 1 + usize::from(b);
        if pos >= len {
            break;
        }
        cuts.push(pos);
    }
    cuts
}

/// Runs the full set of stream invariants for a connection made by `make`.
pub fn check_stream(make: impl Fn() -> Connection, config: &Config, input: &[u8], seed: &[u8], eof: bool) {
    let whole = feed(&mut make(), config, input, &[], eof);
    let cuts = cuts_from(seed, input.len());
    let split = feed(&mut make(), config, input, &cuts, eof);
    assert_eq!(whole, split, "split feeding changed the outcome");
    if input.len() <= 4096 {
        let every: Vec<usize> = (1..input.len()).collect();
        let bytewise = feed(&mut make(), config, input, &every, eof);
        assert_eq!(whole, bytewise, "byte-by-byte feeding changed the outcome");
    }
    check_after_error(make, config, input, &whole);
}

/// After an error: the close owed for a protocol error was handed out, and
/// more input yields nothing new.
pub fn check_after_error(make: impl Fn() -> Connection, config: &Config, input: &[u8], whole: &Transcript) {
    let Some(error) = whole.error else { return };
    assert!(error.is_fatal());
    if let Error::Protocol(e) = error {
        let code = e.close_code().0.to_be_bytes();
        // The last frame out is a Close carrying the error's code, unless a
        // Close had already been sent before the error.
        let sent_close_before = whole.events.iter().any(|e| e.starts_with("Close("));
        if !sent_close_before {
            assert!(
                ends_with_close(&whole.output, code),
                "protocol error {e:?} without its close frame"
            );
        }
    }
    let mut conn = make();
    let mut t = feed(&mut conn, config, input, &[], false);
    let events = t.events.len();
    conn.receive(b"\x81\x05hello\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    drain(&mut conn, &mut t);
    assert_eq!(t.events.len(), events, "events after an error");
}

/// Whether `output` ends with a Close frame carrying `code` (masked or not).
fn ends_with_close(output: &[u8], code: [u8; 2]) -> bool {
    // Unmasked: 88 02 c c; masked: 88 82 m m m m c^m c^m.
    let n = output.len();
    if n >= 4 && output[n - 4..n - 2] == [0x88, 0x02] && output[n - 2..] == code {
        return true;
    }
    if n >= 8 && output[n - 8..n - 6] == [0x88, 0x82] {
        let mask = &output[n - 6..n - 2];
        return [output[n - 2] ^ mask[0], output[n - 1] ^ mask[1]] == code;
    }
    false
}

/// The shared body of `server_stream` and `client_stream`: the first byte
/// picks the config (bit 0), EOF (bit 1), permessage-deflate agreed (bit 2)
/// and, with it, no context takeover both ways (bit 3); the bytes up to the
/// first 0xff (at most 32) seed the split points, the rest is the stream.
pub fn stream_target(data: &[u8], open: fn(Config) -> Connection) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let split = rest.iter().position(|&b| b == 0xff).unwrap_or(0).min(32);
    let (seed, input) = rest.split_at(split);
    // The 0xff ends the seed; it is not part of the stream.
    let input = input.strip_prefix(&[0xff]).unwrap_or(input);
    let mut config = if flags & 1 == 0 { small_config() } else { Config::new() };
    if flags & 4 != 0 {
        let nct = flags & 8 != 0;
        config = config.deflate(
            hybi::DeflateConfig::new().own_no_context_takeover(nct).peer_no_context_takeover(nct),
        );
    }
    check_stream(|| open(config), &config, input, seed, flags & 2 != 0);
}

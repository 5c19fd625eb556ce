//! Seeded random byte streams after a valid handshake, for both roles: mostly
//! well-formed frames with random opcodes, flags, lengths and payloads, mixed
//! with corrupt bytes. Each stream is fed whole, byte by byte and at random
//! splits; the transcripts must be identical, nothing may panic, and every
//! outcome is events followed by at most one typed error.

mod common;

use common::{Transcript, assert_split_invariant, open_client, open_server};
use hybi::frame::Opcode;
use hybi::frame::encode::encode_frame;
use hybi::{Config, Error, SeededRandom};

fn random_stream(rng: &mut SeededRandom, masked: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let frames = 1 + rng.next_u64() % 12;
    for _ in 0..frames {
        let r = rng.next_u64();
        let opcode = match r % 10 {
            0 | 1 => Opcode::Text,
            2 | 3 => Opcode::Binary,
            4 | 5 => Opcode::Continuation,
            6 => Opcode::Ping,
            7 => Opcode::Pong,
            8 => Opcode::Close,
            _ => Opcode::Text,
        };
        let fin = (r >> 8) % 3 != 0;
        let len = match (r >> 16) % 8 {
            0 => 0,
            1..=4 => (r >> 24) as usize % 20,
            5 => 125 + (r >> 24) as usize % 4,
            6 => 300,
            _ => 70_000,
        };
        let mut payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        if (r >> 40) % 5 == 0 && !payload.is_empty() {
            let at = (r >> 44) as usize % payload.len();
            payload[at] = (r >> 52) as u8; // maybe invalid UTF-8
        }
        if opcode == Opcode::Close && (r >> 56) % 2 == 0 && len >= 2 {
            payload[0] = 0x03;
            payload[1] = 0xe8;
        }
        let mask = (masked ^ ((r >> 60) % 16 == 0)).then_some([r as u8, 7, 0x55, 0xaa]);
        let start = out.len();
        encode_frame(&mut out, fin, opcode, mask, &payload);
        if (r >> 58) % 16 == 0 {
            out[start] ^= 1 << ((r >> 33) % 8); // corrupt the first header byte
        }
    }
    out
}

/// Iterations per test: the default, or `HYBI_RANDOM_ITERATIONS` for long runs.
fn iterations(default: usize) -> usize {
    std::env::var("HYBI_RANDOM_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn check(t: &Transcript) {
    if let Some(Error::Protocol(e)) = t.error {
        // A protocol error queues exactly one close frame with its code, unless
        // a close was already exchanged.
        assert!(matches!(e.close_code().0, 1002 | 1007 | 1009));
    }
    assert!(t.error.is_none() || t.error.unwrap().is_fatal());
}

#[test]
fn random_client_streams_into_a_server() {
    let config = Config::new().chunk_threshold(1000);
    let mut rng = SeededRandom::new(0x5eed);
    for _ in 0..iterations(150) {
        let input = random_stream(&mut rng, true);
        let eof = rng.next_u64() % 2 == 0;
        let t = assert_split_invariant(|| open_server(config), &input, eof);
        check(&t);
    }
}

#[test]
fn random_server_streams_into_a_client() {
    let config = Config::new().chunk_threshold(1000);
    let mut rng = SeededRandom::new(0xc0ffee);
    for _ in 0..iterations(150) {
        let input = random_stream(&mut rng, false);
        let eof = rng.next_u64() % 2 == 0;
        let t = assert_split_invariant(|| open_client(config), &input, eof);
        check(&t);
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = SeededRandom::new(99);
    for _ in 0..iterations(300) {
        let len = (rng.next_u64() % 200) as usize;
        let input: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let t = assert_split_invariant(|| open_server(Config::new()), &input, true);
        check(&t);
        let t = assert_split_invariant(|| open_client(Config::new()), &input, true);
        check(&t);
    }
}

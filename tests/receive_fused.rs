//! `receive` unmasks whole masked frames while it copies them, and marks
//! them so the decoder does not unmask them again. Whatever the piece sizes,
//! however many pieces arrive before the events are drained, and whichever
//! door each piece takes, the events, the output and the error must be those
//! of feeding the same bytes one at a time.

mod common;

use common::{Ev, Transcript, client_frame, drain, open_server};
use hybi::frame::Opcode;
use hybi::frame::encode::encode_frame;
use hybi::{Config, Connection, SeededRandom};

/// A mixed stream: text (ASCII and multi-byte), binary of several sizes,
/// control frames between fragments, masked with varying keys.
fn stream() -> Vec<u8> {
    let mut out = Vec::new();
    let mut key = 0u32;
    let mut frame = |fin: bool, op: Opcode, payload: &[u8], out: &mut Vec<u8>| {
        key = key.wrapping_mul(2_654_435_761).wrapping_add(0x9e37);
        encode_frame(out, fin, op, Some(key.to_le_bytes()), payload);
    };
    for i in 0..40usize {
        let size = [0, 1, 5, 16, 125, 126, 300, 1000, 5000, 70_000][i % 10];
        let text: String = "aé€😀".chars().cycle().take(size / 3 + 1).collect();
        frame(true, Opcode::Text, text.as_bytes(), &mut out);
        let data: Vec<u8> = (0..size).map(|b| (b * 7 + i) as u8).collect();
        frame(true, Opcode::Binary, &data, &mut out);
        frame(false, Opcode::Text, "héllo ".as_bytes(), &mut out);
        frame(true, Opcode::Ping, &[i as u8; 3], &mut out);
        frame(false, Opcode::Continuation, text.as_bytes(), &mut out);
        frame(true, Opcode::Continuation, b"", &mut out);
    }
    out
}

/// Feeds `input` in seeded random pieces, each through `receive` or
/// `read_buf`/`commit`, draining only after some pieces.
fn feed_lazily(input: &[u8], seed: u64) -> Transcript {
    let mut conn = open_server(Config::new());
    let mut t = Transcript::new(&conn);
    let mut rng = SeededRandom::new(seed);
    let mut at = 0;
    while at < input.len() {
        let step = 1 + (rng.next_u64() % 90_000) as usize;
        let end = (at + step).min(input.len());
        if rng.next_u64() % 4 == 0 {
            let mut fed = at;
            while fed < end {
                let buf = conn.read_buf();
                let n = buf.len().min(end - fed);
                buf[..n].copy_from_slice(&input[fed..end][..n]);
                conn.commit(n);
                fed += n;
            }
        } else {
            conn.receive(&input[at..end]);
        }
        at = end;
        match rng.next_u64() % 3 {
            0 => drain(&mut conn, &mut t),
            // Take a few events only, leaving decoded and undecoded bytes
            // behind for the next piece.
            1 => {
                for _ in 0..rng.next_u64() % 4 {
                    match conn.next_event() {
                        Ok(Some(event)) => t.events.push(Ev::from_event(&event)),
                        _ => break,
                    }
                }
            }
            _ => {}
        }
    }
    drain(&mut conn, &mut t);
    t
}

fn bytewise(input: &[u8]) -> Transcript {
    let mut conn: Connection = open_server(Config::new());
    let mut t = Transcript::new(&conn);
    for b in input {
        conn.receive(std::slice::from_ref(b));
        drain(&mut conn, &mut t);
    }
    t
}

#[test]
fn pre_unmasked_frames_decode_as_if_fed_byte_by_byte() {
    let input = stream();
    let expected = bytewise(&input);
    assert_eq!(expected.error, None);
    assert!(expected.events.len() > 150, "{}", expected.events.len());
    for seed in 0..200 {
        assert_eq!(feed_lazily(&input, seed), expected, "seed {seed}");
    }
}

#[test]
fn a_bad_frame_after_whole_frames_is_still_refused() {
    let mut input = client_frame(true, Opcode::Text, b"one");
    input.extend(client_frame(true, Opcode::Binary, &[7; 300]));
    // Invalid UTF-8 in a whole frame, then an unmasked frame.
    input.extend(client_frame(true, Opcode::Text, &[b'x', 0xff]));
    input.extend([0x81, 0x01, b'z']);
    let mut conn = open_server(Config::new());
    conn.receive(&input);
    let mut t = Transcript::new(&conn);
    drain(&mut conn, &mut t);
    assert_eq!(t.events, [Ev::Text("one".into()), Ev::Binary(vec![7; 300])]);
    assert_eq!(
        t.error,
        Some(hybi::Error::Protocol(hybi::ProtocolError::InvalidUtf8))
    );
    assert!(t.output.ends_with(&[0x88, 0x02, 0x03, 0xef]));
}

/// Large frames take the fused path: an invalid one is still refused (the
/// ASCII result of the copy cannot vouch for it), a valid multi-byte one
/// still arrives.
#[test]
fn large_text_frames_copied_fused_are_still_validated() {
    let mut bad = "é".repeat(400).into_bytes();
    bad[500] = 0xff;
    let good = "ü€".repeat(300);
    let mut input = client_frame(true, Opcode::Text, good.as_bytes());
    input.extend(client_frame(true, Opcode::Text, &bad));
    let mut conn = open_server(Config::new());
    conn.receive(&input);
    let mut t = Transcript::new(&conn);
    drain(&mut conn, &mut t);
    assert_eq!(t.events, [Ev::Text(good)]);
    assert_eq!(
        t.error,
        Some(hybi::Error::Protocol(hybi::ProtocolError::InvalidUtf8))
    );
}

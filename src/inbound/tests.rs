//! Unit tests of the receive side: the fused unmask-and-check paths and the
//! one-step path for small messages.

use super::*;
use crate::Connection;
use crate::event::Event;
use crate::frame::Opcode;
use crate::frame::encode::encode_frame;
use alloc::vec::Vec;

fn open() -> Connection {
    crate::testing::open_server(Config::new())
}

fn masked(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(
        &mut out,
        true,
        opcode,
        Some([0x37, 0xfa, 0x21, 0x3d]),
        payload,
    );
    out
}

/// Feeds `frame` in two `receive` calls split at `cut` (after its
/// header), draining events after the first. Returns how many payload
/// bytes were validated right after the second `receive`, before any
/// `next_event` (all of them when the fused path took them), and the
/// event or error that follows.
fn two_pieces(frame: &[u8], cut: usize) -> (usize, Result<Option<Vec<u8>>, Error>) {
    let mut conn = open();
    conn.receive(&frame[..cut]);
    assert!(matches!(conn.next_event(), Ok(None)));
    conn.receive(&frame[cut..]);
    let covered = conn.rx.valid - conn.rx.msg_start;
    let event = conn.next_event().map(|e| {
        e.map(|e| match e {
            Event::Text(t) => t.as_bytes().to_vec(),
            Event::Binary(b) => b.to_vec(),
            other => panic!("unexpected {other:?}"),
        })
    });
    (covered, event)
}

#[test]
fn ascii_payload_is_unmasked_and_checked_while_copied() {
    let text: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let frame = masked(Opcode::Text, &text);
    for cut in [8, 9, 8 + 64, 8 + 333, frame.len() - 1] {
        let (covered, event) = two_pieces(&frame, cut);
        assert_eq!(
            covered,
            text.len(),
            "cut {cut}: all of it validated on receive"
        );
        assert_eq!(event.unwrap().unwrap(), text, "cut {cut}");
    }
}

#[test]
fn multibyte_payload_is_unmasked_on_receive_and_validated_once() {
    let text = "aé€😀κόσμε".repeat(40).into_bytes();
    let frame = masked(Opcode::Text, &text);
    for cut in 5..frame.len() {
        let (_, event) = two_pieces(&frame, cut);
        assert_eq!(event.unwrap().unwrap(), text, "cut {cut}");
    }
}

/// A byte that can never be valid, and a message that ends inside a
/// character, fail with `InvalidUtf8` (1007) wherever the reads split.
#[test]
fn invalid_text_fails_whichever_path_checks_it() {
    let mut bad_byte = b"x".repeat(300);
    bad_byte[250] = 0xff;
    let mut cut_char = b"y".repeat(200);
    cut_char.extend_from_slice(&"€".as_bytes()[..2]);
    for (text, cuts) in [(bad_byte, [8, 100, 8 + 250]), (cut_char, [8, 150, 209])] {
        let frame = masked(Opcode::Text, &text);
        for cut in cuts {
            let (_, event) = two_pieces(&frame, cut);
            assert_eq!(
                event,
                Err(Error::Protocol(ProtocolError::InvalidUtf8)),
                "cut {cut}"
            );
        }
    }
}

#[test]
fn binary_payload_is_unmasked_on_receive() {
    let data: Vec<u8> = (0..700u32).map(|i| (i * 7) as u8).collect();
    let frame = masked(Opcode::Binary, &data);
    for cut in [8, 9, 300, frame.len() - 1] {
        let (covered, event) = two_pieces(&frame, cut);
        assert_eq!(covered, data.len());
        assert_eq!(event.unwrap().unwrap(), data);
    }
}

/// Every two-byte header start the fast path takes, in both roles and
/// with a limit below 125, is one the general decoder accepts as a whole
/// text or binary frame of that length within the limits; and it takes
/// every such frame it can.
#[test]
fn small_message_takes_exactly_the_frames_the_decoder_allows() {
    use crate::frame::decode::{HeaderRules, decode_header};
    for (role, limit) in [(Role::Server, 125), (Role::Client, 125), (Role::Server, 40)] {
        let config = Config::new().max_message_size(limit);
        let rules = HeaderRules {
            expect_masked: role == Role::Server,
            allowed_rsv: 0,
        };
        for b0 in 0..=255u8 {
            for b1 in 0..=255u8 {
                let mut input = alloc::vec![b0, b1, 1, 2, 3, 4];
                input.resize(6 + 127, b'a');
                let mut rx = RxCore::new(role, config);
                rx.handshake = None;
                rx.buf.data = input.clone();
                rx.buf.end = input.len();
                let fast = rx.small_header();
                let general = decode_header(&input, rules);
                let allowed = match general {
                    Ok(Some((h, n))) => {
                        h.fin
                            && matches!(h.opcode, Opcode::Text | Opcode::Binary)
                            && h.len <= limit as u64
                            && h.len < 126
                            && Some((n, h.len as usize))
                                == fast.map(|small| (small.head, small.len))
                    }
                    _ => false,
                };
                let eligible = matches!(general, Ok(Some((h, _)))
                    if h.fin
                        && matches!(h.opcode, Opcode::Text | Opcode::Binary)
                        && h.len <= limit as u64 && h.len < 126);
                assert_eq!(fast.is_some(), eligible, "{role:?} {b0:#04x} {b1:#04x}");
                if fast.is_some() {
                    assert!(allowed, "{role:?} {b0:#04x} {b1:#04x}");
                }
            }
        }
    }
}

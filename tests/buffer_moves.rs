//! The receive buffer's policy, counted: after the socket read, a payload
//! byte is not moved again (no compaction that carries a whole message), and
//! growth does not zero-fill room a read is about to overwrite.
//!
//! Continuous streams of back-to-back messages on a fresh connection, fed
//! through 64 KiB socket-sized reads, so read boundaries fall anywhere in a
//! message. The counters (`hybi::counters`, `fuzzing` feature) are
//! process-wide, so this file holds a single test.

mod common;

use common::{client_frame, open_client, open_server, server_frame};
use hybi::frame::Opcode;
use hybi::{Config, Connection, Event, counters};

const READ: usize = 64 << 10;

/// Reads `input` the way a socket loop does: `read_buf`, copy at most one
/// read's worth, `commit`, drain. Returns payload bytes delivered and the
/// number of reads.
fn feed_reads(conn: &mut Connection, input: &[u8]) -> (usize, usize) {
    let (mut at, mut delivered, mut reads) = (0, 0, 0);
    while at < input.len() {
        reads += 1;
        let room = conn.read_buf();
        let n = room.len().min(READ).min(input.len() - at);
        room[..n].copy_from_slice(&input[at..at + n]);
        conn.commit(n);
        at += n;
        while let Some(event) = conn.next_event().unwrap() {
            delivered += match event {
                Event::Text(t) => t.len(),
                Event::Binary(b) => b.len(),
                Event::TextChunk { data, .. } => data.len(),
                Event::BinaryChunk { data, .. } => data.len(),
                _ => 0,
            };
        }
    }
    (delivered, reads)
}

/// The same through `receive`, one 64 KiB piece at a time.
fn feed_receive(conn: &mut Connection, input: &[u8]) -> (usize, usize) {
    let mut delivered = 0;
    for piece in input.chunks(READ) {
        conn.receive(piece);
        while let Some(event) = conn.next_event().unwrap() {
            if let Event::Text(t) = &event {
                delivered += t.len();
            } else if let Event::Binary(b) = &event {
                delivered += b.len();
            }
        }
    }
    (delivered, input.len().div_ceil(READ))
}

fn payload(size: usize, text: bool) -> Vec<u8> {
    if text {
        // Whole characters of 1-4 bytes, padded with ASCII to `size`.
        let mut text = String::new();
        for c in "aé€😀".chars().cycle() {
            if text.len() + c.len_utf8() > size {
                break;
            }
            text.push(c);
        }
        while text.len() < size {
            text.push('a');
        }
        text.into_bytes()
    } else {
        (0..size).map(|i| (i * 31 + 7) as u8).collect()
    }
}

/// About 8 MiB of messages of `size` (at least 4), starting at `skew`
/// bytes of small messages so read boundaries fall at other offsets.
fn stream(size: usize, text: bool, server: bool, skew: usize) -> (Vec<u8>, usize) {
    let frame = |p: &[u8]| {
        let opcode = if text { Opcode::Text } else { Opcode::Binary };
        if server {
            client_frame(true, opcode, p)
        } else {
            server_frame(true, opcode, p)
        }
    };
    let mut input = Vec::new();
    let mut total = 0;
    for _ in 0..skew {
        input.extend(frame(b"x"));
        total += 1;
    }
    let one = frame(&payload(size, text));
    let count = ((8 << 20) / size).clamp(4, 100_000);
    for _ in 0..count {
        input.extend_from_slice(&one);
    }
    (input, total + count * size)
}

#[test]
fn continuous_streams_move_no_payload_byte_twice() {
    let config = Config::new();
    for &size in &[16, 125, 1024, 16 << 10, 1 << 20] {
        for text in [false, true] {
            for server in [true, false] {
                for skew in [0, 1, 7] {
                    for via_receive in [false, true] {
                        let (input, expected) = stream(size, text, server, skew);
                        let mut conn = if server {
                            open_server(config)
                        } else {
                            open_client(config)
                        };
                        counters::take();
                        let (delivered, reads) = if via_receive {
                            feed_receive(&mut conn, &input)
                        } else {
                            feed_reads(&mut conn, &input)
                        };
                        let counts = counters::take();
                        assert_eq!(delivered, expected);
                        let messages = input.len().div_ceil(size + 14);
                        let what = format!(
                            "size {size}, text {text}, server {server}, skew {skew}, \
                             receive {via_receive}: {counts:?} for {} bytes",
                            input.len()
                        );
                        // At most one read's worth per message (the part of
                        // the next message a read carried), and never more
                        // than one message per read: never the message.
                        let per_read = READ.min(size + 14);
                        let bound = (messages * READ).min(reads * per_read) + READ;
                        assert!(counts.moved <= bound, "{what}");
                        // `receive` copies bytes in over room it never
                        // clears: growth writes no zeros.
                        if via_receive {
                            assert_eq!(counts.zero_filled, 0, "{what}");
                        }
                        // `read_buf` zeroes room it lends that was never
                        // written, no more than the buffer's bound once,
                        // however many bytes pass through it.
                        assert!(
                            counts.zero_filled <= 2 * config.max_receive_buffer(),
                            "{what}"
                        );
                        // Through `read_buf` the buffer stays a few reads'
                        // room (a read plus the message a header announced)
                        // large: growth doubles, so it ends below twice four
                        // such rooms, and all growth together below twice
                        // that. A larger buffer is fresh memory on every new
                        // connection, faulted in page by page.
                        if !via_receive {
                            let room = config.get_read_buf_size() + size + 2 * 14;
                            assert!(counts.zero_filled <= 2 * 2 * 4 * room, "{what}");
                        }
                        println!("{what}");
                    }
                }
            }
        }
    }
}

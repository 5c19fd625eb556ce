//! A fixed workload for instruction counting under callgrind, where time is
//! too noisy to compare. Run it twice with different message counts and
//! divide the difference by the difference in messages:
//!
//! ```sh
//! cargo bench --no-run
//! B=$(ls target/release/deps/instructions-* | grep -v '\.d$')
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B receive_text_16 100000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B receive_text_16 200000
//! ```
//!
//! Scenarios: `receive_text_16` (masked 16-byte text, server side, fed in
//! 64 KiB read copies), `read_copy_16` (the same input through the same
//! copies into a plain buffer, no engine: subtract it to get the engine's
//! share), `send_text_16` (client side, masked), `send_text_16_server`
//! (server side, unmasked: the difference is the cost of a masking key),
//! `receive_fragmented_64k` (a masked 64 KiB multi-byte text message in 16
//! fragments of 4 KiB, server side; count = messages).

#[path = "support/mod.rs"]
mod support;

use hybi::Config;
use hybi::frame::Opcode;
use support::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_else(|| "receive_text_16".into());
    if scenario == "--bench" {
        // `cargo bench` runs every bench target; this one is for callgrind.
        return;
    }
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    match scenario.as_str() {
        "receive_text_16" => {
            let input = stream(&ascii(16), Opcode::Text, true, 1, count);
            let mut conn = open_server(Config::new());
            let got = feed(&mut conn, &input);
            assert_eq!(got, 16 * count);
        }
        "read_copy_16" => {
            let input = stream(&ascii(16), Opcode::Text, true, 1, count);
            let mut dst = vec![0u8; 64 << 10];
            let copied = memcpy(&mut dst, std::hint::black_box(&input));
            assert_eq!(copied, input.len());
        }
        "send_text_16" => {
            let text = String::from_utf8(ascii(16)).unwrap();
            let mut conn = open_client(Config::new());
            for _ in 0..count {
                conn.send_text(&text).unwrap();
                let n = conn.transmit().len();
                conn.advance(n);
            }
        }
        "receive_fragmented_64k" => {
            let input = stream(&multibyte(64 << 10), Opcode::Text, true, 16, count);
            let mut conn = open_server(Config::new());
            let got = feed(&mut conn, &input);
            assert_eq!(got, (64 << 10) * count);
        }
        "send_text_16_server" => {
            let text = String::from_utf8(ascii(16)).unwrap();
            let mut conn = open_server(Config::new());
            for _ in 0..count {
                conn.send_text(&text).unwrap();
                let n = conn.transmit().len();
                conn.advance(n);
            }
        }
        other => panic!("unknown scenario {other}"),
    }
}

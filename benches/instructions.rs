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
//! share), `receive_multibyte_16` (as `receive_text_16`, with 2- to
//! 4-byte characters: the same read copies), `send_text_16` (client side, masked), `send_text_16_server`
//! (server side, unmasked: the difference is the cost of a masking key),
//! `receive_fragmented_64k` (a masked 64 KiB multi-byte text message in 16
//! fragments of 4 KiB, server side; count = messages). With
//! `--features deflate`: `send_deflate_200` (a server sending 200-byte
//! JSON updates compressed, context takeover), `send_deflate_200_floor`
//! (zlib-rs compressing the same messages alone), and the same without
//! context takeover: `send_deflate_200_nct` (hybi's default, zlib's state
//! freed per message), `send_deflate_200_kept` (kept and reset) and
//! `send_deflate_200_nct_floor` (zlib-rs reset per message); and
//! receiving them (masked, compressed by zlib-rs, 2,000 per fresh
//! connection, so count in multiples of 2,000): `receive_deflate_200`,
//! `receive_deflate_200_nct`, `receive_deflate_200_kept`, and the floors
//! `receive_deflate_200_floor` and `receive_deflate_200_nct_floor`
//! (zlib-rs inflating the same payloads alone, then the UTF-8 check any
//! text receiver makes). Every deflate scenario also comes with `16k` for
//! `200` (`send_deflate_16k`, `receive_deflate_16k_nct_floor`, …): 16 KiB
//! order-book snapshots instead of tickers, 32 per pass and per fresh
//! connection (count in multiples of 32).

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
        "receive_multibyte_16" => {
            let input = stream(&multibyte(16), Opcode::Text, true, 1, count);
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
        #[cfg(feature = "deflate")]
        s if s.starts_with("send_deflate_") => send_deflate(s, count),
        #[cfg(feature = "deflate")]
        s if s.starts_with("receive_deflate_") => receive_deflate(s, count),
        other => panic!("unknown scenario {other}"),
    }
}

/// The messages of a deflate scenario, one pass of them: 2,000 tickers
/// of about 200 bytes, or (`16k` in the name) 32 snapshots of 16 KiB.
#[cfg(feature = "deflate")]
fn deflate_messages(scenario: &str) -> Vec<String> {
    if scenario.contains("_16k") {
        (0..32).map(snapshot).collect()
    } else {
        (0..2000).map(ticker).collect()
    }
}

/// Room for any one message of a scenario, plain or compressed.
#[cfg(feature = "deflate")]
const DEFLATE_ROOM: usize = 64 << 10;

#[cfg(feature = "deflate")]
fn send_deflate(scenario: &str, count: usize) {
    let messages = deflate_messages(scenario);
    let per_pass = messages.len();
    let (nct, policy) = deflate_policy(scenario);
    if scenario.ends_with("floor") {
        let mut d = zlib_rs::Deflate::new_with_config(zlib_rs::DeflateConfig {
            level: 6,
            window_bits: -15,
            mem_level: 8,
            ..zlib_rs::DeflateConfig::default()
        });
        let mut out = vec![0u8; DEFLATE_ROOM];
        let mut total = 0u64;
        for i in 0..count {
            if nct {
                d.reset();
            }
            let before = d.total_out();
            d.compress(
                messages[i % per_pass].as_bytes(),
                &mut out,
                zlib_rs::DeflateFlush::SyncFlush,
            )
            .unwrap();
            total += d.total_out() - before;
        }
        assert!(total > 0);
        return;
    }
    let mut conn = hybi::testing::open_server_deflate(Config::new().deflate(policy));
    for i in 0..count {
        conn.send_text(&messages[i % per_pass]).unwrap();
        let out = conn.transmit();
        assert_eq!(out[0], 0xc1);
        let n = out.len();
        conn.advance(n);
    }
}

/// The policy a scenario name asks for: context takeover unless `nct` or
/// `kept` (no takeover, zlib's state kept and reset) is in it.
#[cfg(feature = "deflate")]
fn deflate_policy(scenario: &str) -> (bool, hybi::DeflateConfig) {
    let nct = scenario.contains("nct") || scenario.contains("kept");
    let policy = hybi::DeflateConfig::new()
        .own_no_context_takeover(nct)
        .peer_no_context_takeover(nct)
        .release_between_messages(!scenario.ends_with("kept"));
    (nct, policy)
}

#[cfg(feature = "deflate")]
fn receive_deflate(scenario: &str, count: usize) {
    let messages = deflate_messages(scenario);
    let per_pass = messages.len();
    let (nct, policy) = deflate_policy(scenario);
    // A client's frames: compressed (one stream, or reset per message),
    // masked, RSV1 set; the payloads with their tail for the floor.
    let mut d = zlib_rs::Deflate::new_with_config(zlib_rs::DeflateConfig {
        level: 6,
        window_bits: -15,
        mem_level: 8,
        ..zlib_rs::DeflateConfig::default()
    });
    let mut wire = Vec::new();
    let mut payloads = Vec::new();
    let mut out = vec![0u8; DEFLATE_ROOM];
    for m in &messages {
        if nct {
            d.reset();
        }
        let before = d.total_out();
        d.compress(m.as_bytes(), &mut out, zlib_rs::DeflateFlush::SyncFlush)
            .unwrap();
        let n = (d.total_out() - before) as usize;
        let start = wire.len();
        hybi::frame::encode::encode_frame(
            &mut wire,
            true,
            Opcode::Text,
            Some([0x37, 0xfa, 0x21, 0x3d]),
            &out[..n - 4],
        );
        wire[start] |= 0x40;
        payloads.push(out[..n].to_vec());
    }
    let plain: usize = messages.iter().map(String::len).sum();
    let passes = count / per_pass;
    if scenario.ends_with("floor") {
        let mut text = vec![0u8; DEFLATE_ROOM];
        for _ in 0..passes {
            let mut inf = zlib_rs::Inflate::new(false, 15);
            let mut got = 0;
            for p in &payloads {
                if nct {
                    inf.reset(false);
                }
                let before = inf.total_out();
                inf.decompress(p, &mut text, zlib_rs::InflateFlush::SyncFlush)
                    .unwrap();
                let n = (inf.total_out() - before) as usize;
                assert!(simdutf8::basic::from_utf8(&text[..n]).is_ok());
                got += n;
            }
            assert_eq!(got, plain);
        }
        return;
    }
    for _ in 0..passes {
        let mut conn = hybi::testing::open_server_deflate(Config::new().deflate(policy));
        assert_eq!(feed(&mut conn, &wire), plain);
    }
}

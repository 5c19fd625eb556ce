//! A million idle connections: creates N server engines (default 1,000,000),
//! completes each handshake in memory, exchanges one small message on each,
//! releases their empty buffers (`shrink_buffers`, what an event loop does
//! when a connection goes idle), and reports resident memory per connection
//! from the process's own RSS.
//!
//! ```sh
//! cargo bench --bench scale                 # 1,000,000 connections
//! cargo bench --bench scale -- 100000 keep  # fewer, without shrink_buffers
//! cargo bench --features deflate --bench scale -- 100000 shrink deflate
//! cargo bench --features deflate --bench scale -- 100000 shrink deflate-nct
//! ```
//!
//! `deflate` negotiates permessage-deflate (the browser request offers it)
//! with context takeover, `deflate-nct` without it both ways, and the one
//! message is then a compressed 200-byte JSON update echoed compressed.

#[path = "support/mod.rs"]
mod support;

use hybi::frame::Opcode;
use hybi::{Accept, Config, Connection, Event};
use support::{BROWSER_REQUEST, stream};

/// Resident set size in bytes, from /proc/self/statm (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// A masked, compressed 200-byte JSON update (RSV1 set), fresh stream.
#[cfg(feature = "deflate")]
fn compressed_update() -> Vec<u8> {
    let json = "{\"type\":\"ticker\",\"sequence\":90000001,\"product_id\":\"BTC-USD\",\
\"price\":\"60001.25\",\"best_bid\":\"60001.00\",\"best_ask\":\"60001.01\",\"side\":\"buy\",\
\"time\":\"2026-12-01T12:00:00.000000Z\",\"last_size\":\"0.005\"}";
    let mut d = zlib_rs::Deflate::new_with_config(zlib_rs::DeflateConfig {
        level: 6,
        window_bits: -15,
        mem_level: 8,
        ..zlib_rs::DeflateConfig::default()
    });
    let mut out = vec![0u8; 512];
    d.compress(json.as_bytes(), &mut out, zlib_rs::DeflateFlush::SyncFlush)
        .unwrap();
    out.truncate(d.total_out() as usize - 4);
    let mut frame = stream(&out, Opcode::Text, true, 1, 1);
    frame[0] |= 0x40;
    frame
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n: usize = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let shrink = args.get(1).is_none_or(|m| m != "keep");
    let mode = args.get(2).map_or("plain", String::as_str);
    #[allow(unused_mut)]
    let mut config = Config::new();
    #[allow(unused_mut)]
    let mut message = stream(b"hello", Opcode::Text, true, 1, 1);
    #[cfg(feature = "deflate")]
    if mode.starts_with("deflate") {
        let nct = mode == "deflate-nct";
        config = config.deflate(
            hybi::DeflateConfig::new()
                .own_no_context_takeover(nct)
                .peer_no_context_takeover(nct),
        );
        message = compressed_update();
    }
    #[cfg(not(feature = "deflate"))]
    assert_eq!(mode, "plain", "build with --features deflate for {mode}");

    let mut conns: Vec<Connection> = Vec::with_capacity(n);
    let before = rss();
    let start = std::time::Instant::now();
    let mut heap = 0usize;
    for _ in 0..n {
        let mut conn = Connection::server(config);
        conn.receive(BROWSER_REQUEST);
        assert!(matches!(
            conn.next_event(),
            Ok(Some(Event::HandshakeRequest(_)))
        ));
        conn.accept(Accept::new()).unwrap();
        let out = conn.transmit().len();
        conn.advance(out);
        conn.receive(&message);
        {
            let (mut inbound, mut outbound) = conn.split();
            match inbound.next_event() {
                Ok(Some(Event::Text(t))) => outbound.send_text(t).unwrap(),
                other => panic!("expected a text message, got {other:?}"),
            }
        }
        let out = conn.transmit().len();
        assert!(out == 7 || mode != "plain", "{out}");
        conn.advance(out);
        if shrink {
            conn.shrink_buffers();
        }
        heap += conn.buffered_bytes();
        conns.push(conn);
    }
    let elapsed = start.elapsed();
    let after = rss();
    let per = (after - before) as f64 / n as f64;
    println!("connections:              {n}");
    println!("permessage-deflate:       {mode}");
    println!("buffers released (shrink): {shrink}");
    println!(
        "size_of::<Connection>():  {} bytes (held inline in a Vec)",
        std::mem::size_of::<Connection>()
    );
    println!(
        "engine heap per conn:     {:.1} bytes (buffered_bytes)",
        heap as f64 / n as f64
    );
    println!("RSS per connection:       {per:.1} bytes (inline + heap + allocator overhead)");
    println!(
        "handshake + one echo:     {:.0} ns per connection",
        elapsed.as_nanos() as f64 / n as f64
    );
    assert_eq!(conns.len(), n);
}

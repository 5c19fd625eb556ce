//! A million idle connections: creates N server engines (default 1,000,000),
//! completes each handshake in memory, exchanges one small message on each,
//! releases their empty buffers (`shrink_buffers`, what an event loop does
//! when a connection goes idle), and reports resident memory per connection
//! from the process's own RSS.
//!
//! ```sh
//! cargo bench --bench scale                 # 1,000,000 connections
//! cargo bench --bench scale -- 100000 keep  # fewer, without shrink_buffers
//! ```

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
    let config = Config::new();
    let message = stream(b"hello", Opcode::Text, true, 1, 1);

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
        assert_eq!(out, 7);
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

//! Fan-out: one 1 KiB JSON message to 10,000 in-memory server connections,
//! queued as a `PreparedMessage` (encoded once; with `--features deflate`
//! and no server context takeover, compressed once) against `send_text` on
//! each connection (which, with permessage-deflate, compresses per
//! connection). Every connection's queued frame is taken after each send,
//! as a socket write would.
//!
//! `cargo bench --bench broadcast` (and `--features deflate`); the goals:
//! prepared at most a third of `send_text`'s cost uncompressed, at least 10×
//! cheaper with compression.

use criterion::{Criterion, criterion_group, criterion_main};
use hybi::{Config, Connection, PreparedMessage};

const RECIPIENTS: usize = 10_000;

fn message() -> String {
    let mut s =
        String::from("{\"type\":\"message\",\"from\":\"ada\",\"room\":\"lobby\",\"text\":\"");
    let mut i = 0u32;
    while s.len() < 1000 {
        s.push_str(&format!("word{} ", i % 97));
        i += 1;
    }
    s.push_str("\"}");
    s
}

fn drain(conn: &mut Connection) -> usize {
    let n = conn.transmit().len();
    conn.advance(n);
    n
}

fn run(
    c: &mut Criterion,
    name: &str,
    mut conns: Vec<Connection>,
    prepared: &PreparedMessage,
    text: &str,
) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.bench_function("send_text_each", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for conn in &mut conns {
                conn.send_text(text).unwrap();
                bytes += drain(conn);
            }
            bytes
        });
    });
    g.bench_function("prepared", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for conn in &mut conns {
                conn.send_prepared(prepared).unwrap();
                bytes += drain(conn);
            }
            bytes
        });
    });
    g.finish();
}

fn broadcast(c: &mut Criterion) {
    let text = message();
    assert!(text.len() >= 1000 && text.len() < 1100);
    let conns = (0..RECIPIENTS)
        .map(|_| hybi::testing::open_server(Config::new()))
        .collect();
    run(
        c,
        "broadcast_1KiB_plain",
        conns,
        &PreparedMessage::text(&text),
        &text,
    );
    #[cfg(feature = "deflate")]
    {
        let policy = hybi::DeflateConfig::new().own_no_context_takeover(true);
        let conns: Vec<Connection> = (0..RECIPIENTS)
            .map(|_| hybi::testing::open_server_deflate(Config::new().deflate(policy)))
            .collect();
        assert!(conns[0].deflate().is_some());
        let prepared = PreparedMessage::text(&text).compressed(15, 6);
        run(c, "broadcast_1KiB_deflate", conns, &prepared, &text);
    }
}

criterion_group!(benches, broadcast);
criterion_main!(benches);

//! Send throughput: messages encoded into the transmit buffer (masked on a
//! client), then drained as a socket write would.
//!
//! `cargo bench --bench encode`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi::Config;

#[path = "support/mod.rs"]
mod support;
use support::*;

fn send(c: &mut Criterion) {
    for (name, client) in [("send/client_binary", true), ("send/server_binary", false)] {
        let mut g = c.benchmark_group(name);
        for size in [16usize, 125, 1024, 16 << 10, 1 << 20] {
            let payload = ascii(size);
            let count = count_for(size);
            let mut conn = if client {
                open_client(Config::new())
            } else {
                open_server(Config::new())
            };
            g.throughput(Throughput::Bytes((size * count) as u64));
            g.bench_function(BenchmarkId::new("hybi", size), |b| {
                b.iter(|| {
                    for _ in 0..count {
                        conn.send_binary(&payload).unwrap();
                        let n = conn.transmit().len();
                        std::hint::black_box(conn.transmit());
                        conn.advance(n);
                    }
                });
            });
            let mut dst = Vec::with_capacity(size + 14);
            g.bench_function(BenchmarkId::new("memcpy", size), |b| {
                b.iter(|| {
                    for _ in 0..count {
                        dst.clear();
                        dst.extend_from_slice(&payload);
                        std::hint::black_box(&dst);
                    }
                });
            });
        }
        g.finish();
    }
}

criterion_group!(benches, send);
criterion_main!(benches);

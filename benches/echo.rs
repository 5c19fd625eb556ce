//! An in-memory echo pair: the client sends, the server echoes through the
//! split halves, the client receives; per round trip.
//!
//! `cargo bench --bench echo`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi::{Config, Connection, Event};

#[path = "support/mod.rs"]
mod support;
use support::*;

fn pipe(from: &mut Connection, to: &mut Connection) {
    loop {
        let out = from.transmit();
        if out.is_empty() {
            return;
        }
        let buf = to.read_buf();
        let n = buf.len().min(out.len());
        buf[..n].copy_from_slice(&out[..n]);
        to.commit(n);
        from.advance(n);
    }
}

fn echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("echo");
    for size in [16usize, 1024, 64 << 10] {
        let text = String::from_utf8(ascii(size)).unwrap();
        let mut client = open_client(Config::new());
        let mut server = open_server(Config::new());
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("text_round_trip", size), |b| {
            b.iter(|| {
                client.send_text(&text).unwrap();
                pipe(&mut client, &mut server);
                {
                    let (mut inbound, mut outbound) = server.split();
                    while let Some(event) = inbound.next_event().unwrap() {
                        if let Event::Text(t) = event {
                            outbound.send_text(t).unwrap();
                        }
                    }
                }
                pipe(&mut server, &mut client);
                let mut got = 0;
                while let Some(event) = client.next_event().unwrap() {
                    if let Event::Text(t) = event {
                        got += t.len();
                    }
                }
                assert_eq!(got, size);
            });
        });
    }
    g.finish();
}

criterion_group!(benches, echo);
criterion_main!(benches);

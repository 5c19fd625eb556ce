//! hybi vs tungstenite vs fastwebsockets on identical inputs, in one run.
//!
//! Receive (scenarios 1–4): a server reads masked text frames through the
//! same 64 KiB read copies. Send (scenario 5): a client masks and writes a
//! 1 MiB binary message into an in-memory sink. Each group ends with
//! `memcpy`: the same bytes in the same 64 KiB pieces (scenario 6, the floor);
//! `memcpy-msg`: those pieces placed one after another in a message-sized buffer.
//! Throughput is payload bytes; every iteration asserts the bytes and
//! messages delivered. All setup (connections, runtimes, inputs, a one-off
//! content check) happens before timing.
//!
//! `cargo bench --bench compare -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi_compare::{SEND, Totals, receive_scenarios, receivers, send_payload, senders};

fn receive(c: &mut Criterion) {
    for s in receive_scenarios() {
        let expected = s.expected();
        let mut g = c.benchmark_group(s.name);
        g.throughput(Throughput::Bytes(s.payload() as u64));
        for (name, mut driver) in receivers(&s) {
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| assert_eq!(driver.run(), expected));
            });
        }
        g.finish();
    }
}

fn send(c: &mut Criterion) {
    let payload = send_payload();
    let expected = Totals {
        bytes: payload.len(),
        messages: 1,
    };
    let mut g = c.benchmark_group(SEND);
    g.throughput(Throughput::Bytes(payload.len() as u64));
    for (name, mut driver) in senders(&payload) {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| assert_eq!(driver.run(), expected));
        });
    }
    g.finish();
}

criterion_group!(benches, receive, send);
criterion_main!(benches);

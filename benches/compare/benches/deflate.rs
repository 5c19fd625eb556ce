//! permessage-deflate: hybi (`deflate` feature) vs yawc on the same bytes,
//! beside the floor (zlib-rs alone), with and without context takeover.
//!
//! Groups `deflate_server_rx_{takeover,no_takeover}` (a server receives the
//! client's masked compressed frames, made once up front with zlib-rs,
//! through 64 KiB read copies) and `deflate_server_tx_{takeover,no_takeover}`
//! (a server compresses and frames each message into a sink); columns are
//! the workloads (2000 ticker updates of about 200 B, 32 order-book
//! snapshots of about 16 KiB), throughput is uncompressed bytes. Every pass
//! is a new connection (made outside timing; its zlib state is allocated
//! on first use, inside it, as the floor's is). Every driver is checked
//! once before timing: a receiver's messages against the originals, a
//! sender's frames parsed and inflated back to them.
//!
//! `cargo bench --features deflate --bench deflate -- --warm-up-time 0.5 --measurement-time 2 --sample-size 10`

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi_compare::deflate::{RxInput, Workload, receivers, senders};

fn mode(takeover: bool) -> &'static str {
    if takeover { "takeover" } else { "no_takeover" }
}

fn time(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    driver: &mut Box<dyn hybi_compare::Driver>,
    expected: hybi_compare::Totals,
) {
    g.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                driver.prepare();
                let start = Instant::now();
                let got = driver.run();
                timed += start.elapsed();
                assert_eq!(got, expected);
            }
            timed
        });
    });
}

fn deflate(c: &mut Criterion) {
    let work = Workload::all();
    for takeover in [true, false] {
        let mut g = c.benchmark_group(format!("deflate_server_rx_{}", mode(takeover)));
        for w in &work {
            let input = RxInput::new(w, takeover);
            eprintln!(
                "{} {}: {} messages, {} B plain, {} B on the wire",
                w.label,
                mode(takeover),
                w.messages.len(),
                w.plain(),
                input.wire.len()
            );
            g.throughput(Throughput::Bytes(w.plain() as u64));
            for (name, mut driver) in receivers(&input) {
                time(
                    &mut g,
                    BenchmarkId::new(name, w.label),
                    &mut driver,
                    w.expected(),
                );
            }
        }
        g.finish();
    }
    for takeover in [true, false] {
        let mut g = c.benchmark_group(format!("deflate_server_tx_{}", mode(takeover)));
        for w in &work {
            g.throughput(Throughput::Bytes(w.plain() as u64));
            for ((name, mut driver), compressed) in senders(w, takeover) {
                eprintln!(
                    "{} {} {name}: {compressed} B compressed of {} B",
                    w.label,
                    mode(takeover),
                    w.plain()
                );
                time(
                    &mut g,
                    BenchmarkId::new(name, w.label),
                    &mut driver,
                    w.expected(),
                );
            }
        }
        g.finish();
    }
}

criterion_group!(benches, deflate);
criterion_main!(benches);

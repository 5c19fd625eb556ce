//! hybi vs tungstenite, fastwebsockets (frames and `FragmentCollector`) and
//! tokio-websockets on identical inputs, in one run.
//!
//! Scenarios 1–5: one connection per driver, its wire rewound each pass
//! (receive: masked text through the same 64 KiB read copies; send: a client
//! writes one 1 MiB binary message). s1–s8: continuous streams of about
//! 8 MiB of messages per pass (16 B to 1 MiB), each pass on a new connection,
//! built outside timing. Each group ends with the references `memcpy` and
//! `memcpy-msg`. Throughput is payload bytes; every pass asserts the bytes
//! and messages delivered. All setup (connections, runtimes, inputs, a
//! one-off content check) happens outside timing.
//!
//! `cargo bench --bench compare -- --warm-up-time 1 --measurement-time 2 --sample-size 10`

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi_compare::{cases, drivers};

fn compare(c: &mut Criterion) {
    let all = cases();
    for family in all.chunk_by(|a, b| a.group == b.group) {
        let mut g = c.benchmark_group(family[0].group);
        for case in family {
            let built = case.build();
            let expected = built.expected();
            g.throughput(Throughput::Bytes(expected.bytes as u64));
            for (name, mut driver) in drivers(&built) {
                let id = match case.size {
                    Some(size) => BenchmarkId::new(name, size),
                    None => BenchmarkId::from_parameter(name),
                };
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
        }
        g.finish();
    }
}

criterion_group!(benches, compare);
criterion_main!(benches);

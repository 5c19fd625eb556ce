//! Masking throughput (RFC 6455 §5.3) against a byte-at-a-time loop.
//!
//! `cargo bench --bench mask`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi::frame::mask::apply_mask;

fn bytewise(buf: &mut [u8], mask: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

fn mask(c: &mut Criterion) {
    let mut g = c.benchmark_group("mask");
    for size in [16usize, 125, 1024, 16 << 10, 1 << 20] {
        let mut buf = vec![0x5au8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("apply_mask", size), |b| {
            b.iter(|| apply_mask(std::hint::black_box(&mut buf), [1, 2, 3, 4], 0));
        });
        g.bench_function(BenchmarkId::new("bytewise", size), |b| {
            b.iter(|| bytewise(std::hint::black_box(&mut buf), [1, 2, 3, 4]));
        });
    }
    g.finish();
}

criterion_group!(benches, mask);
criterion_main!(benches);

//! Masking throughput (RFC 6455 §5.3): in place against a byte-at-a-time
//! loop, and masking while copying (`mask_copy`) against a plain copy of the
//! same bytes. The `mask_at14` group repeats the two at a destination 14 bytes
//! past a 64-byte boundary, where a large frame's payload starts after its
//! header in a receive buffer.
//!
//! `cargo bench --bench mask`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi::frame::mask::{apply_mask, mask_copy};

fn bytewise(buf: &mut [u8], mask: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

fn mask(c: &mut Criterion) {
    let mut g = c.benchmark_group("mask");
    for size in [16usize, 125, 1024, 16 << 10, 1 << 20] {
        let mut buf = vec![0x5au8; size];
        let src = vec![0x21u8; size];
        let mut dst = vec![0u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("apply_mask", size), |b| {
            b.iter(|| apply_mask(std::hint::black_box(&mut buf), [1, 2, 3, 4], 0));
        });
        g.bench_function(BenchmarkId::new("bytewise", size), |b| {
            b.iter(|| bytewise(std::hint::black_box(&mut buf), [1, 2, 3, 4]));
        });
        g.bench_function(BenchmarkId::new("mask_copy", size), |b| {
            b.iter(|| mask_copy(std::hint::black_box(&mut dst), &src, [1, 2, 3, 4], 0));
        });
        g.bench_function(BenchmarkId::new("memcpy", size), |b| {
            b.iter(|| std::hint::black_box(&mut dst).copy_from_slice(&src));
        });
    }
    g.finish();
}

fn mask_at14(c: &mut Criterion) {
    let mut g = c.benchmark_group("mask_at14");
    for size in [1024usize, 16 << 10, 1 << 20] {
        let src = vec![0x21u8; size];
        let mut store = vec![0u8; size + 128];
        let at = store.as_ptr().align_offset(64) + 14;
        let dst = &mut store[at..at + size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("apply_mask", size), |b| {
            b.iter(|| apply_mask(std::hint::black_box(&mut *dst), [1, 2, 3, 4], 0));
        });
        g.bench_function(BenchmarkId::new("mask_copy", size), |b| {
            b.iter(|| mask_copy(std::hint::black_box(&mut *dst), &src, [1, 2, 3, 4], 0));
        });
        g.bench_function(BenchmarkId::new("memcpy", size), |b| {
            b.iter(|| std::hint::black_box(&mut *dst).copy_from_slice(&src));
        });
    }
    g.finish();
}

criterion_group!(benches, mask, mask_at14);
criterion_main!(benches);

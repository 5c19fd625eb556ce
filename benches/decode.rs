//! Receive throughput: frames fed through 64 KiB read copies, decoded,
//! unmasked, validated and handed out as events. Each group includes a
//! `memcpy` of the same bytes in the same 64 KiB pieces as the floor.
//!
//! `cargo bench --bench decode`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi::Config;
use hybi::frame::Opcode;

#[path = "support/mod.rs"]
mod support;
use support::*;

const SIZES: &[usize] = &[16, 125, 1024, 16 << 10, 1 << 20];

fn group(c: &mut Criterion, name: &str, cases: &[(String, Vec<u8>, bool)]) {
    let mut g = c.benchmark_group(name);
    for (label, input, server) in cases {
        let payload = {
            let mut conn = if *server {
                open_server(Config::new())
            } else {
                open_client(Config::new())
            };
            feed(&mut conn, input)
        };
        g.throughput(Throughput::Bytes(payload as u64));
        let mut conn = if *server {
            open_server(Config::new())
        } else {
            open_client(Config::new())
        };
        g.bench_function(BenchmarkId::new("hybi", label), |b| {
            b.iter(|| assert_eq!(feed(&mut conn, input), payload));
        });
        let mut dst = vec![0u8; READ];
        g.bench_function(BenchmarkId::new("memcpy", label), |b| {
            b.iter(|| memcpy(&mut dst, input));
        });
    }
    g.finish();
}

fn receive(c: &mut Criterion) {
    let sized =
        |opcode, masked, server, make: fn(usize) -> Vec<u8>| -> Vec<(String, Vec<u8>, bool)> {
            SIZES
                .iter()
                .map(|&n| {
                    (
                        format!("{n}"),
                        stream(&make(n), opcode, masked, 1, count_for(n)),
                        server,
                    )
                })
                .collect()
        };
    group(
        c,
        "receive/masked_text_ascii",
        &sized(Opcode::Text, true, true, ascii),
    );
    group(
        c,
        "receive/masked_binary",
        &sized(Opcode::Binary, true, true, ascii),
    );
    group(
        c,
        "receive/unmasked_binary",
        &sized(Opcode::Binary, false, false, ascii),
    );
    group(
        c,
        "receive/masked_text_multibyte",
        &[(
            "1048576".into(),
            stream(&multibyte(1 << 20), Opcode::Text, true, 1, 1),
            true,
        )],
    );
    group(
        c,
        "receive/fragmented_64",
        &[
            (
                "ascii_1048576".into(),
                stream(&ascii(1 << 20), Opcode::Text, true, 64, 1),
                true,
            ),
            (
                "multibyte_1048576".into(),
                stream(&multibyte(1 << 20), Opcode::Text, true, 64, 1),
                true,
            ),
        ],
    );
}

fn utf8(c: &mut Criterion) {
    let mut g = c.benchmark_group("utf8");
    for (label, text) in [("ascii", ascii(1 << 20)), ("multibyte", multibyte(1 << 20))] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(BenchmarkId::new("validate_prefix", label), |b| {
            b.iter(|| hybi::utf8::validate_prefix(std::hint::black_box(&text)).unwrap());
        });
        // The validator underneath, in its two forms: `compat` reports where
        // an error or an unfinished character starts, `basic` only yes or no.
        g.bench_function(BenchmarkId::new("simdutf8_basic", label), |b| {
            b.iter(|| simdutf8::basic::from_utf8(std::hint::black_box(&text)).is_ok());
        });
        g.bench_function(BenchmarkId::new("simdutf8_compat", label), |b| {
            b.iter(|| simdutf8::compat::from_utf8(std::hint::black_box(&text)).is_ok());
        });
        g.bench_function(BenchmarkId::new("std_from_utf8", label), |b| {
            b.iter(|| {
                std::str::from_utf8(std::hint::black_box(&text))
                    .unwrap()
                    .len()
            });
        });
        // The floor the receive goals are measured against: no validator
        // slower than this copy lets a validating receive reach it.
        let mut dst = vec![0u8; 64 << 10];
        g.bench_function(BenchmarkId::new("memcpy", label), |b| {
            b.iter(|| memcpy(&mut dst, &text));
        });
    }
    g.finish();
}

criterion_group!(benches, receive, utf8);
criterion_main!(benches);

//! permessage-deflate: compressed receive and send of realistic JSON
//! (about 200 B ticker updates and 16 KiB order-book snapshots), with and
//! without context takeover, each beside the floor: zlib-rs inflating or
//! deflating the same bytes alone (sync flush, the tail handled by hand,
//! no framing; receiving, the UTF-8 check every text message needs).
//! hybi's overhead is its time over the floor's.
//!
//! `cargo bench --features deflate --bench deflate`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hybi::frame::Opcode;
use hybi::frame::encode::encode_frame;
use hybi::{Config, Connection, DeflateConfig, Event};
use zlib_rs::{DeflateConfig as ZConfig, DeflateFlush, InflateFlush};

#[path = "support/mod.rs"]
mod support;
use support::{READ, snapshot, ticker};

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// Context takeover both ways, or none: zlib's state freed after every
/// message (the default) or kept and reset.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Takeover,
    NoTakeover,
    NoTakeoverKept,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Takeover, Mode::NoTakeover, Mode::NoTakeoverKept];

    fn name(self) -> &'static str {
        match self {
            Mode::Takeover => "takeover",
            Mode::NoTakeover => "no_takeover",
            Mode::NoTakeoverKept => "no_takeover_kept",
        }
    }

    fn takeover(self) -> bool {
        self == Mode::Takeover
    }
}

fn policy(mode: Mode) -> DeflateConfig {
    DeflateConfig::new()
        .own_no_context_takeover(!mode.takeover())
        .peer_no_context_takeover(!mode.takeover())
        .release_between_messages(mode != Mode::NoTakeoverKept)
}

fn zconfig() -> ZConfig {
    ZConfig {
        level: 6,
        window_bits: -15,
        mem_level: 8,
        ..ZConfig::default()
    }
}

/// Compresses `msg` with a sync flush and strips the tail (what a sender
/// puts in the frame).
fn compress(d: &mut zlib_rs::Deflate, msg: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.resize(msg.len() + msg.len() / 100 + 64, 0);
    let before = d.total_out();
    d.compress(msg, out, DeflateFlush::SyncFlush).unwrap();
    let n = (d.total_out() - before) as usize;
    out.truncate(n - TAIL.len());
}

struct Workload {
    name: &'static str,
    messages: Vec<String>,
    plain_bytes: u64,
}

fn workloads() -> Vec<Workload> {
    let tickers: Vec<String> = (0..2000).map(ticker).collect();
    let snapshots: Vec<String> = (0..32).map(snapshot).collect();
    [("ticker_200B", tickers), ("snapshot_16KiB", snapshots)]
        .into_iter()
        .map(|(name, messages)| Workload {
            name,
            plain_bytes: messages.iter().map(|m| m.len() as u64).sum(),
            messages,
        })
        .collect()
}

fn server(mode: Mode) -> Connection {
    let config = Config::new().deflate(policy(mode));
    let conn = hybi::testing::open_server_deflate(config);
    assert!(conn.deflate().is_some());
    conn
}

fn receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("deflate_receive");
    for w in workloads() {
        for m in Mode::ALL {
            let takeover = m.takeover();
            // The client's wire bytes: each message compressed (one stream
            // with takeover, reset per message without), masked.
            let mut d = zlib_rs::Deflate::new_with_config(zconfig());
            let mut payloads = Vec::new();
            let mut wire = Vec::new();
            for m in &w.messages {
                if !takeover {
                    d.reset();
                }
                let mut p = Vec::new();
                compress(&mut d, m.as_bytes(), &mut p);
                let mut f = Vec::new();
                encode_frame(
                    &mut f,
                    true,
                    Opcode::Text,
                    Some([0x37, 0xfa, 0x21, 0x3d]),
                    &p,
                );
                f[0] |= 0x40;
                wire.extend_from_slice(&f);
                p.extend_from_slice(&TAIL);
                payloads.push(p);
            }
            let mode = m.name();
            g.throughput(Throughput::Bytes(w.plain_bytes));
            // Each row starts with no zlib state parked by the rows before
            // it (the thread keeps a few for reuse), so rows do not share
            // one another's allocations.
            hybi::clear_spare_deflate_state();
            g.bench_function(BenchmarkId::new(format!("hybi_{mode}"), w.name), |b| {
                b.iter(|| {
                    let mut conn = server(m);
                    let mut got = 0u64;
                    for read in wire.chunks(READ) {
                        conn.receive(read);
                        while let Some(event) = conn.next_event().unwrap() {
                            if let Event::Text(t) = event {
                                got += t.len() as u64;
                            }
                        }
                    }
                    assert_eq!(got, w.plain_bytes);
                });
            });
            if m == Mode::NoTakeoverKept {
                continue; // same floor as NoTakeover
            }
            let largest = w.messages.iter().map(String::len).max().unwrap();
            g.bench_function(
                BenchmarkId::new(format!("zlib_rs_floor_{mode}"), w.name),
                |b| {
                    let mut out = vec![0u8; largest + 64];
                    b.iter(|| {
                        let mut inf = zlib_rs::Inflate::new(false, 15);
                        let mut got = 0u64;
                        for p in &payloads {
                            if !takeover {
                                inf.reset(false);
                            }
                            let before = inf.total_out();
                            inf.decompress(p, &mut out, InflateFlush::SyncFlush)
                                .unwrap();
                            let n = (inf.total_out() - before) as usize;
                            // Text must be UTF-8 (RFC 6455 §8.1): the
                            // fastest possible receiver checks it too.
                            assert!(simdutf8::basic::from_utf8(&out[..n]).is_ok());
                            got += n as u64;
                        }
                        assert_eq!(got, w.plain_bytes);
                    });
                },
            );
        }
    }
    g.finish();
}

fn send(c: &mut Criterion) {
    let mut g = c.benchmark_group("deflate_send");
    for w in workloads() {
        for m in Mode::ALL {
            let takeover = m.takeover();
            let mode = m.name();
            g.throughput(Throughput::Bytes(w.plain_bytes));
            // Each row starts with no zlib state parked by the rows before
            // it (the thread keeps a few for reuse), so rows do not share
            // one another's allocations.
            hybi::clear_spare_deflate_state();
            g.bench_function(BenchmarkId::new(format!("hybi_{mode}"), w.name), |b| {
                b.iter(|| {
                    let mut conn = server(m);
                    let mut sent = 0usize;
                    for m in &w.messages {
                        conn.send_text(m).unwrap();
                        let out = conn.transmit();
                        assert_eq!(out[0], 0xc1);
                        sent += out.len();
                        let n = out.len();
                        conn.advance(n);
                    }
                    sent
                });
            });
            if m == Mode::NoTakeoverKept {
                continue; // same floor as NoTakeover
            }
            g.bench_function(
                BenchmarkId::new(format!("zlib_rs_floor_{mode}"), w.name),
                |b| {
                    let mut out = Vec::new();
                    b.iter(|| {
                        let mut d = zlib_rs::Deflate::new_with_config(zconfig());
                        let mut sent = 0usize;
                        for m in &w.messages {
                            if !takeover {
                                d.reset();
                            }
                            compress(&mut d, m.as_bytes(), &mut out);
                            sent += out.len();
                        }
                        sent
                    });
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, receive, send);
criterion_main!(benches);

//! permessage-deflate (RFC 7692): hybi (its `deflate` feature) against yawc
//! on the same bytes, beside the floor, zlib-rs alone (the library both use
//! here: hybi directly, yawc through flate2's `zlib-rs` backend).
//!
//! Two workloads of exchange-feed JSON text, every message different
//! ([`ticker`], [`snapshot`]), each run with context takeover kept both ways
//! and without it both ways. A server receives the client's masked,
//! compressed frames, made once up front by [`compress_all`] (zlib-rs,
//! level 6, window 15, memLevel 8, sync flush, tail removed; one stream
//! with takeover, a reset per message without), through the same 64 KiB
//! read copies as the other scenarios ([`Wire`](crate::Wire)); a server
//! sends: it compresses and frames each message into a [`Sink`](crate::Sink).
//! Every pass is a new connection, so every pass starts from an empty
//! window, as the input was made.
//!
//! | module | what |
//! |---|---|
//! | [`hybi_driver`] | `Connection::server` with `Config::deflate`, opened by a handshake offering permessage-deflate |
//! | [`yawc_driver`] | `WebSocket::from_stream_with_extensions` with the answer hybi's server gave |
//! | [`zlib_floor`] | zlib-rs inflating (deflating) the same payloads alone (`zlib-rs`), and with a new stream per message (`zlib-rs-new`, no takeover only) |

pub mod hybi_driver;
pub mod yawc_driver;
pub mod zlib_floor;

use std::rc::Rc;

use zlib_rs::{DeflateConfig, DeflateFlush, InflateFlush};

use crate::inputs::{TEXT, encode_frame};
use crate::{Check, Driver, KEY, Receiver, Totals};

/// The four bytes a sync flush ends with: removed from a message's payload
/// on the wire, added back before inflating (RFC 7692 §7.2.1).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Messages of the ticker workload per pass.
pub const TICKERS: usize = 2000;
/// Messages of the snapshot workload per pass.
pub const SNAPSHOTS: usize = 32;
/// Size the snapshots are grown to (each a little over it).
pub const SNAPSHOT_LEN: usize = 16 << 10;

// ----- messages --------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so the inputs are the same
/// in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PRODUCTS: [&str; 4] = ["BTC-USD", "ETH-USD", "SOL-USD", "BTC-EUR"];

/// `count` ticker updates of about 200 bytes: sequence numbers, trade ids,
/// prices, sizes and timestamps move from message to message.
#[must_use]
pub fn ticker(count: usize) -> Vec<String> {
    let mut rng = Rng(0x7469_636b_6572_0001);
    let mut price: u64 = 6_012_345; // cents
    let mut micros: u64 = 45_296_000_000; // 12:34:56 in µs
    (0..count)
        .map(|i| {
            price = (price + rng.below(41)).saturating_sub(20);
            micros += 1 + rng.below(40_000);
            let spread = 1 + rng.below(5);
            let (h, m, s, us) = (
                micros / 3_600_000_000,
                micros / 60_000_000 % 60,
                micros / 1_000_000 % 60,
                micros % 1_000_000,
            );
            format!(
                "{{\"type\":\"ticker\",\"sequence\":{},\"product_id\":\"{}\",\"price\":\"{}.{:02}\",\
\"best_bid\":\"{}.{:02}\",\"side\":\"{}\",\
\"time\":\"2026-12-01T{h:02}:{m:02}:{s:02}.{us:06}Z\",\"trade_id\":{},\"last_size\":\"{}.{:08}\"}}",
                81_234_567_890_u64 + i as u64 * 3 + rng.below(3),
                PRODUCTS[rng.below(4) as usize],
                price / 100,
                price % 100,
                (price - spread) / 100,
                (price - spread) % 100,
                if rng.below(2) == 0 { "buy" } else { "sell" },
                712_345_678 + i as u64,
                rng.below(3),
                rng.below(100_000_000),
            )
        })
        .collect()
}

/// `count` order-book snapshots of a little over 16 KiB: price levels
/// (bids down, asks up) with random sizes, each snapshot its own.
#[must_use]
pub fn snapshot(count: usize) -> Vec<String> {
    let mut rng = Rng(0x736e_6170_7368_6f74);
    (0..count)
        .map(|i| {
            let mid: u64 = 6_012_345 + rng.below(20_000);
            let mut s = format!(
                "{{\"type\":\"snapshot\",\"product_id\":\"BTC-USD\",\"sequence\":{},\
\"time\":\"2026-12-01T12:{:02}:{:02}.{:06}Z\",\"bids\":[",
                81_234_567_890_u64 + i as u64 * 1009,
                i / 60 % 60,
                i % 60,
                rng.below(1_000_000)
            );
            let half = SNAPSHOT_LEN / 2;
            let mut level = mid;
            let mut first = true;
            while s.len() < half {
                level -= 1 + rng.below(3);
                if !first {
                    s.push(',');
                }
                first = false;
                let size = rng.below(1_000_000_000);
                s.push_str(&format!(
                    "[\"{}.{:02}\",\"{}.{:08}\"]",
                    level / 100,
                    level % 100,
                    size / 100_000_000,
                    size % 100_000_000
                ));
            }
            s.push_str("],\"asks\":[");
            let mut level = mid;
            let mut first = true;
            while s.len() < SNAPSHOT_LEN - 2 {
                level += 1 + rng.below(3);
                if !first {
                    s.push(',');
                }
                first = false;
                let size = rng.below(1_000_000_000);
                s.push_str(&format!(
                    "[\"{}.{:02}\",\"{}.{:08}\"]",
                    level / 100,
                    level % 100,
                    size / 100_000_000,
                    size % 100_000_000
                ));
            }
            s.push_str("]}");
            s
        })
        .collect()
}

// ----- zlib-rs ---------------------------------------------------------------------

/// The compressor settings hybi uses by default (and asked of yawc): level
/// 6, raw DEFLATE with a 32 KiB window (15 bits), memLevel 8.
#[must_use]
pub fn zconfig() -> DeflateConfig {
    DeflateConfig {
        level: 6,
        window_bits: -15,
        mem_level: 8,
        ..DeflateConfig::default()
    }
}

/// Room for `len` bytes compressed and sync-flushed (zlib's bound, rounded up).
#[must_use]
pub fn bound(len: usize) -> usize {
    len + len / 1000 + 64
}

/// Compresses `msg` with a sync flush into `out[at..]` (which has room for
/// [`bound`]) and returns the bytes written without the tail: a message's
/// payload as it goes in a frame.
///
/// # Panics
/// If zlib-rs fails or the output does not end with the tail.
pub fn compress_into(d: &mut zlib_rs::Deflate, msg: &[u8], out: &mut [u8]) -> usize {
    let before = d.total_out();
    d.compress(msg, out, DeflateFlush::SyncFlush)
        .expect("zlib-rs deflate");
    let n = (d.total_out() - before) as usize;
    debug_assert_eq!(out[n - 4..n], TAIL);
    n - TAIL.len()
}

/// Each message compressed as a client would (one stream if `takeover`,
/// else a reset before each), tail removed.
#[must_use]
pub fn compress_all(messages: &[String], takeover: bool) -> Vec<Vec<u8>> {
    let mut d = zlib_rs::Deflate::new_with_config(zconfig());
    messages
        .iter()
        .map(|m| {
            if !takeover {
                d.reset();
            }
            let mut out = vec![0; bound(m.len())];
            let n = compress_into(&mut d, m.as_bytes(), &mut out);
            out.truncate(n);
            out
        })
        .collect()
}

/// Inflates `payloads` (each a message's compressed payload without the
/// tail) as a receiver would, one stream if `takeover`, a fresh one per
/// message otherwise, and checks that they give `messages`.
///
/// # Panics
/// If a payload does not inflate, or to something else.
pub fn check_payloads<'a>(
    who: &str,
    payloads: impl ExactSizeIterator<Item = &'a [u8]>,
    messages: &[String],
    takeover: bool,
) {
    assert_eq!(payloads.len(), messages.len(), "{who}: messages");
    let mut inf = zlib_rs::Inflate::new(false, 15);
    let mut out = vec![0u8; SNAPSHOT_LEN * 2];
    let mut input = Vec::new();
    for (i, (p, m)) in payloads.zip(messages).enumerate() {
        if !takeover {
            inf.reset(false);
        }
        input.clear();
        input.extend_from_slice(p);
        input.extend_from_slice(&TAIL);
        let (in0, out0) = (inf.total_in(), inf.total_out());
        inf.decompress(&input, &mut out, InflateFlush::SyncFlush)
            .unwrap_or_else(|e| panic!("{who}: message {i} does not inflate: {e:?}"));
        let made = (inf.total_out() - out0) as usize;
        assert_eq!(
            (inf.total_in() - in0) as usize,
            input.len(),
            "{who}: message {i}: input left"
        );
        assert!(
            out[..made] == *m.as_bytes(),
            "{who}: message {i} inflates to something else"
        );
    }
}

/// The payloads of the frames in `wire`, asserting that each is one final,
/// compressed (RSV1), unmasked text frame.
///
/// # Panics
/// If a frame is anything else.
#[must_use]
pub fn frame_payloads<'a>(who: &str, wire: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut w = wire;
    while !w.is_empty() {
        assert_eq!(w[0], 0x80 | 0x40 | TEXT, "{who}: FIN + RSV1 + text");
        assert_eq!(w[1] & 0x80, 0, "{who}: a server does not mask");
        let (len, head) = match w[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([w[2], w[3]])), 4),
            127 => (
                u64::from_be_bytes(w[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (usize::from(n), 2),
        };
        out.push(&w[head..head + len]);
        w = &w[head + len..];
    }
    out
}

// ----- cases -----------------------------------------------------------------------

/// One workload: the messages of a pass.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Column label, e.g. `ticker_200B_x2000`.
    pub label: &'static str,
    /// The messages, in order.
    pub messages: Rc<[String]>,
}

impl Workload {
    /// The ticker and snapshot workloads.
    #[must_use]
    pub fn all() -> Vec<Self> {
        vec![
            Self {
                label: "ticker_200B_x2000",
                messages: ticker(TICKERS).into(),
            },
            Self {
                label: "snapshot_16KiB_x32",
                messages: snapshot(SNAPSHOTS).into(),
            },
        ]
    }

    /// Uncompressed bytes of a pass.
    #[must_use]
    pub fn plain(&self) -> usize {
        self.messages.iter().map(String::len).sum()
    }

    /// What every pass must report.
    #[must_use]
    pub fn expected(&self) -> Totals {
        Totals {
            bytes: self.plain(),
            messages: self.messages.len(),
        }
    }
}

/// A receive case: what the client sent.
#[derive(Clone, Debug)]
pub struct RxInput {
    /// The workload.
    pub work: Workload,
    /// Context takeover kept both ways (else none either way).
    pub takeover: bool,
    /// Each message's compressed payload without the tail, unmasked.
    pub payloads: Rc<[Vec<u8>]>,
    /// The masked frames (RSV1, text), message `i` masked with
    /// `[0x37, 0xfa, 0x21, i as u8]`.
    pub wire: Rc<[u8]>,
}

impl RxInput {
    /// Compresses and frames `work` as a client with `takeover` would.
    #[must_use]
    pub fn new(work: &Workload, takeover: bool) -> Self {
        let payloads = compress_all(&work.messages, takeover);
        let mut wire = Vec::new();
        for (i, p) in payloads.iter().enumerate() {
            let mut key = KEY;
            key[3] = i as u8;
            let at = wire.len();
            encode_frame(&mut wire, true, TEXT, Some(key), p);
            wire[at] |= 0x40;
        }
        Self {
            work: work.clone(),
            takeover,
            payloads: payloads.into(),
            wire: wire.into(),
        }
    }
}

/// A labelled driver.
pub type Entry = (&'static str, Box<dyn Driver>);

/// The receive drivers for `s`, each checked once: every message delivered
/// as text, equal to the original, in order.
///
/// # Panics
/// If one is not.
#[must_use]
pub fn receivers(s: &RxInput) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut add = |name: &'static str, mut r: Box<dyn RxDriver>| {
        let mut i = 0usize;
        let messages = &s.work.messages;
        let mut check = |text: bool, m: &[u8]| {
            assert!(text, "{name}: message {i} not text");
            assert!(
                messages.get(i).is_some_and(|x| x.as_bytes() == m),
                "{name}: message {i} differs"
            );
            i += 1;
        };
        let t = r.verify(&mut check as Check<'_>);
        assert_eq!(t, s.work.expected(), "{name} on {}", s.work.label);
        assert_eq!(i, messages.len(), "{name}: messages checked");
        out.push((name, r.into_driver()));
    };
    add("hybi", Box::new(hybi_driver::HybiRx::new(s, false)));
    add("hybi-receive", Box::new(hybi_driver::HybiRx::new(s, true)));
    add("yawc", Box::new(yawc_driver::YawcRx::new(s)));
    add("zlib-rs", Box::new(zlib_floor::FloorRx::new(s, false)));
    if !s.takeover {
        add(
            "hybi-kept",
            Box::new(hybi_driver::HybiRx::new(s, false).kept()),
        );
        add("zlib-rs-new", Box::new(zlib_floor::FloorRx::new(s, true)));
    }
    out
}

/// A sending driver whose output can be checked.
pub trait Sent: Driver {
    /// The compressed payloads the last pass produced, in order.
    fn payloads(&self) -> Vec<Vec<u8>>;
}

/// The send drivers for `work`, each checked once: its output parsed (one
/// final compressed unmasked text frame per message, for the framing
/// drivers) and inflated back to the messages, with one inflate stream if
/// `takeover`, a fresh one per message otherwise (so a sender that kept
/// its window when it should not fails). Returns each driver with its
/// compressed bytes per pass.
///
/// # Panics
/// If an output does not decode to the messages.
#[must_use]
pub fn senders(work: &Workload, takeover: bool) -> Vec<(Entry, usize)> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, mut d: Box<dyn TxDriver>| {
        d.prepare();
        assert_eq!(d.run(), work.expected(), "{name} on {}", work.label);
        let payloads = d.payloads();
        let compressed = payloads.iter().map(Vec::len).sum::<usize>();
        check_payloads(
            name,
            payloads.iter().map(Vec::as_slice),
            &work.messages,
            takeover,
        );
        out.push(((name, d.into_driver()), compressed));
    };
    add("hybi", Box::new(hybi_driver::HybiTx::new(work, takeover)));
    add("yawc", Box::new(yawc_driver::YawcTx::new(work, takeover)));
    add(
        "zlib-rs",
        Box::new(zlib_floor::FloorTx::new(work, takeover, false)),
    );
    if !takeover {
        add(
            "hybi-kept",
            Box::new(hybi_driver::HybiTx::new(work, takeover).kept()),
        );
        add(
            "zlib-rs-new",
            Box::new(zlib_floor::FloorTx::new(work, takeover, true)),
        );
    }
    out
}

trait RxDriver: Receiver {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver>;
}

impl<T: Receiver + 'static> RxDriver for T {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver> {
        self
    }
}

trait TxDriver: Sent {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver>;
}

impl<T: Sent + 'static> TxDriver for T {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_sizes_asked_for_and_all_different() {
        let t = ticker(TICKERS);
        let avg = t.iter().map(String::len).sum::<usize>() / t.len();
        assert!((185..=215).contains(&avg), "ticker average {avg}");
        let s = snapshot(SNAPSHOTS);
        assert!(
            s.iter()
                .all(|m| (SNAPSHOT_LEN..SNAPSHOT_LEN + 64).contains(&m.len()))
        );
        for set in [&t, &s] {
            let mut v: Vec<&String> = set.iter().collect();
            v.sort();
            v.dedup();
            assert_eq!(v.len(), set.len(), "repeated messages");
        }
    }

    #[test]
    fn the_input_round_trips() {
        for w in Workload::all() {
            for takeover in [true, false] {
                let p = compress_all(&w.messages, takeover);
                check_payloads(
                    "zlib-rs",
                    p.iter().map(Vec::as_slice),
                    &w.messages,
                    takeover,
                );
            }
        }
    }
}

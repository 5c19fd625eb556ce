//! What permessage-deflate costs in memory, measured with a counting global
//! allocator (peak and live heap bytes):
//! - decompression bombs (RFC 7692 §8.1): inflated output counts against
//!   `max_message_size` before it is produced, in bounded steps, so a
//!   message that would inflate to 1 GiB fails with 1009 having allocated
//!   about the limit (and about one chunk in chunked mode);
//! - the per-connection cost by window bits and memLevel, busy and idle,
//!   with and without context takeover (the table in `docs/limits.md`,
//!   printed by `cargo test --release --features deflate --test
//!   deflate_memory -- --nocapture memory_table`).
#![cfg(feature = "deflate")]
// A global allocator cannot be written without `unsafe`; this test-only
// shim forwards every call to the system allocator.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::client_frame;
use hybi::frame::Opcode;
use hybi::{Config, Connection, DeflateConfig, Error, Event, ProtocolError};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add_live(bytes: isize) {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add_live(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add_live(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-(layout.size() as isize));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add_live(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live heap bytes now, and a fresh peak from here.
fn mark() -> isize {
    let now = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(now));
    now
}

fn peak_since(base: isize) -> usize {
    (PEAK.with(Cell::get) - base).max(0) as usize
}

/// DEFLATE bits, least significant first; Huffman codes MSB first.
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.put((code >> i) & 1, 1);
        }
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A compressed message that inflates to `1 + 258 * matches` zero bytes:
/// one fixed-Huffman block (a literal 0, then maximal matches at distance
/// 1), then the empty stored block's header a sync flush leaves before the
/// stripped `00 00 ff ff`.
fn bomb(matches: usize) -> Vec<u8> {
    let mut b = Bits::new();
    b.put(0, 1); // BFINAL = 0
    b.put(1, 2); // BTYPE = 01, fixed Huffman
    b.code(0x30, 8); // literal 0
    for _ in 0..matches {
        b.code(0xc5, 8); // length 258 (code 285)
        b.code(0, 5); // distance 1
    }
    b.code(0, 7); // end of block
    b.put(0, 3); // stored block header; the receiver appends its LEN/NLEN
    b.finish()
}

fn server(config: Config) -> Connection {
    hybi::testing::open_server_deflate(config.deflate(DeflateConfig::new()))
}

/// Frames of a compressed binary message, each at most `piece` bytes.
fn frames(payload: &[u8], piece: usize) -> Vec<u8> {
    let pieces: Vec<&[u8]> = payload.chunks(piece).collect();
    let mut out = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        let opcode = if i == 0 {
            Opcode::Binary
        } else {
            Opcode::Continuation
        };
        let mut f = client_frame(i + 1 == pieces.len(), opcode, p);
        if i == 0 {
            f[0] |= 0x40;
        }
        out.extend(f);
    }
    out
}

/// Feeds `input` in 16 KiB reads, draining events; returns the bytes of
/// message data delivered and the error.
fn feed(conn: &mut Connection, input: &[u8]) -> (usize, Option<Error>) {
    let mut delivered = 0;
    for read in input.chunks(16 << 10) {
        conn.receive(read);
        loop {
            match conn.next_event() {
                Ok(Some(Event::Binary(b) | Event::BinaryChunk { data: b, .. })) => {
                    delivered += b.len();
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return (delivered, Some(e)),
            }
        }
    }
    (delivered, None)
}

const LIMIT: usize = 1 << 20;
/// What reading costs besides the message: zlib's inflate state and
/// window (about 40 KiB), the receive buffer for 16 KiB reads, and the
/// close frame queued.
const OVERHEAD: usize = 192 << 10;

const ONE_GIB_MATCHES: usize = (1 << 30) / 258;

#[test]
fn a_single_frame_bomb_fails_with_1009_within_the_limit() {
    let payload = bomb(ONE_GIB_MATCHES);
    assert!(payload.len() < 8 << 20, "{}", payload.len());
    let input = frames(&payload, usize::MAX);
    let mut conn = server(Config::new().max_message_size(LIMIT));
    let base = mark();
    let (delivered, error) = feed(&mut conn, &input);
    let peak = peak_since(base);
    assert_eq!(error, Some(Error::Protocol(ProtocolError::MessageTooBig)));
    assert_eq!(delivered, 0);
    assert_eq!(
        &conn.transmit()[..4],
        &[0x88, 0x02, 0x03, 0xf1],
        "close 1009"
    );
    assert!(peak <= LIMIT + OVERHEAD, "peak {peak} bytes");
}

#[test]
fn a_fragmented_bomb_fails_with_1009_within_the_limit() {
    let payload = bomb(ONE_GIB_MATCHES);
    let input = frames(&payload, 4096);
    let mut conn = server(Config::new().max_message_size(LIMIT));
    let base = mark();
    let (_, error) = feed(&mut conn, &input);
    let peak = peak_since(base);
    assert_eq!(error, Some(Error::Protocol(ProtocolError::MessageTooBig)));
    assert!(peak <= LIMIT + OVERHEAD, "peak {peak} bytes");
}

#[test]
fn in_chunked_mode_a_bomb_holds_about_one_chunk() {
    let chunk = 64 << 10;
    let limit = 16 << 20;
    let payload = bomb(ONE_GIB_MATCHES);
    let input = frames(&payload, 1 << 20);
    let mut conn = server(Config::new().max_message_size(limit).chunk_threshold(chunk));
    let base = mark();
    let (delivered, error) = feed(&mut conn, &input);
    let peak = peak_since(base);
    assert_eq!(error, Some(Error::Protocol(ProtocolError::MessageTooBig)));
    // Everything up to the limit was delivered, a chunk at a time.
    assert!(
        delivered <= limit && delivered > limit - 2 * chunk,
        "{delivered}"
    );
    assert!(peak <= chunk + OVERHEAD, "peak {peak} bytes");
}

#[test]
fn many_messages_under_the_limit_never_accumulate() {
    let matches = (LIMIT - 4096) / 258;
    let one = frames(&bomb(matches), usize::MAX);
    let mut conn = server(Config::new().max_message_size(LIMIT));
    let base = mark();
    let mut total = 0;
    for _ in 0..50 {
        let (delivered, error) = feed(&mut conn, &one);
        assert_eq!(error, None);
        assert_eq!(delivered, 1 + 258 * matches);
        total += delivered;
    }
    let peak = peak_since(base);
    assert_eq!(total, 50 * (1 + 258 * matches));
    assert!(peak <= LIMIT + OVERHEAD, "peak {peak} bytes");
}

/// A client and server pair agreed on `policy` (both ends), after one
/// message each way; returns the live heap bytes of one connection, busy
/// (the states this thread keeps for reuse counted) and idle after
/// `shrink_buffers` (the thread's spare states freed, so what is left is the
/// connections' own).
fn pair_cost(policy: DeflateConfig) -> (usize, usize) {
    hybi::clear_spare_deflate_state();
    let base = mark();
    let mut pair =
        common::Pair::connected(Config::new().deflate(policy), Config::new().deflate(policy));
    let text = "{\"type\":\"ticker\",\"price\":\"60001.25\",\"size\":\"0.5\"} ".repeat(40);
    pair.client.send_text(&text).unwrap();
    pair.server.send_text(&text).unwrap();
    pair.drive();
    assert_eq!(pair.server_events.len(), 1);
    assert_eq!(pair.client_events.len(), 1);
    pair.server_events.clear();
    pair.client_events.clear();
    let busy = (LIVE.with(Cell::get) - base).max(0) as usize;
    pair.server.shrink_buffers();
    pair.client.shrink_buffers();
    hybi::clear_spare_deflate_state();
    let idle = (LIVE.with(Cell::get) - base).max(0) as usize;
    drop(pair);
    hybi::clear_spare_deflate_state();
    (busy / 2, idle / 2)
}

/// zlib's own formula for one direction: deflate `2^(w+2) + 2^(m+9)`,
/// inflate `2^w` plus about 7 KiB of state.
fn zlib_formula(w: u8, m: u8) -> usize {
    (1 << (w + 2)) + (1 << (m + 9)) + (1 << w) + (7 << 10)
}

#[test]
fn memory_table() {
    println!("window  memLevel  takeover  busy/conn  idle/conn  zlib formula");
    let mut previous = usize::MAX;
    for (w, m) in [(15, 8), (15, 9), (12, 5), (10, 4), (9, 1)] {
        for takeover in [true, false] {
            let policy = DeflateConfig::new()
                .own_window_bits(w)
                .peer_window_bits(w)
                .mem_level(m)
                .own_no_context_takeover(!takeover)
                .peer_no_context_takeover(!takeover);
            let (busy, idle) = pair_cost(policy);
            println!(
                "{w:>6}  {m:>8}  {takeover:>8}  {busy:>9}  {idle:>9}  {:>12}",
                zlib_formula(w, m)
            );
            // Busy: zlib's state both ways, the buffers and the boxes stay
            // within zlib's formula plus 192 KiB: zlib-rs's compressor
            // keeps a fixed 2^16-entry hash table (128 KiB) whatever the
            // memLevel, and the message buffers hold about 50 KiB.
            assert!(busy <= zlib_formula(w, m) + (192 << 10), "{w}/{m}: {busy}");
            if takeover {
                // Idle with takeover keeps both windows; smaller settings
                // cost less (the rows go from the largest down).
                assert!(idle >= 1 << w, "{w}/{m}: {idle}");
                if m < 9 {
                    assert!(busy < previous, "{w}/{m}: {busy} >= {previous}");
                }
                previous = busy;
            } else {
                // Without takeover nothing of zlib's is kept between
                // messages: an idle connection holds only its boxes.
                assert!(idle <= 2 << 10, "{w}/{m}: idle {idle}");
            }
        }
    }
}

/// Kept between messages (`release_between_messages(false)`), zlib's state
/// without context takeover is still freed by `shrink_buffers`.
#[test]
fn kept_state_is_freed_by_shrink_buffers() {
    let policy = DeflateConfig::new()
        .own_no_context_takeover(true)
        .peer_no_context_takeover(true)
        .release_between_messages(false);
    let (busy, idle) = pair_cost(policy);
    assert!(busy > 64 << 10, "the state is kept while busy: {busy}");
    assert!(idle <= 2 << 10, "and freed by shrink_buffers: {idle}");
}

/// Without context takeover the states a connection gives up after each
/// message are kept by the thread for the next one, at most two of each
/// kind, however many connections take turns: the thread's cost is bounded
/// and `clear_spare_deflate_state` returns it.
#[test]
fn a_thread_keeps_a_bounded_number_of_spare_states() {
    hybi::clear_spare_deflate_state();
    let policy = DeflateConfig::new()
        .own_no_context_takeover(true)
        .peer_no_context_takeover(true);
    let text = "{\"type\":\"ticker\",\"price\":\"60001.25\",\"size\":\"0.5\"} ".repeat(40);
    let base = mark();
    let mut pairs: Vec<common::Pair> = (0..8)
        .map(|_| {
            common::Pair::connected(Config::new().deflate(policy), Config::new().deflate(policy))
        })
        .collect();
    let before = (LIVE.with(Cell::get) - base).max(0) as usize;
    for _round in 0..3 {
        for pair in &mut pairs {
            pair.client.send_text(&text).unwrap();
            pair.server.send_text(&text).unwrap();
            pair.drive();
            assert_eq!(pair.server_events.len(), 1);
            pair.server_events.clear();
            pair.client_events.clear();
            pair.server.shrink_buffers();
            pair.client.shrink_buffers();
        }
    }
    let spares = (LIVE.with(Cell::get) - base).max(0) as usize - before;
    // Two compressors and two decompressors at window 15, memLevel 8.
    let bound = 2 * zlib_formula(15, 8) + (256 << 10);
    assert!(spares > 64 << 10, "states are kept for reuse: {spares}");
    assert!(
        spares <= bound,
        "at most two of each kind: {spares} > {bound}"
    );
    hybi::clear_spare_deflate_state();
    let after = (LIVE.with(Cell::get) - base).max(0) as usize;
    assert!(after <= before, "cleared: {after} > {before}");
    drop(pairs);
}

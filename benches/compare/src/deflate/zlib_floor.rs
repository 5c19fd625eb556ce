//! The floor: zlib-rs alone doing a pass's compression work, no framing,
//! masking, reads or UTF-8 check. A new stream per pass (as every
//! connection starts one), reset between messages without takeover
//! (`reset`, the cheapest way to forget the window), or, for the
//! diagnostic rows `zlib-rs-new` (no takeover only), a new stream per
//! message: what hybi does when a message ends without takeover (it drops
//! its zlib state, `src/extension/codec.rs`), so the two floors show what
//! that choice costs.
//!
//! - receive: `Inflate::new(false, 15)`, then each message's payload (the
//!   tail already appended, unmasked, made up front) through one
//!   `decompress(.., InflateFlush::SyncFlush)` into one reused 64 KiB
//!   buffer (room enough for zlib-rs's fast loop, which wants 258 bytes of
//!   output room; hybi's and yawc's buffers start at 4 KiB and 1 KiB).
//! - send: `Deflate::new_with_config(level 6, window -15, memLevel 8)`,
//!   each message through one `compress(.., DeflateFlush::SyncFlush)`
//!   written after the last in one buffer (sized once, outside timing),
//!   the tail dropped.

use std::rc::Rc;

use zlib_rs::InflateFlush;

use super::{RxInput, Sent, TAIL, Workload, bound, compress_into, zconfig};
use crate::{Check, Driver, Receiver, Totals};

/// zlib-rs inflating the client's payloads.
pub struct FloorRx {
    payloads: Vec<Vec<u8>>,
    takeover: bool,
    renew: bool,
    out: Vec<u8>,
}

impl FloorRx {
    /// The floor for `s`; without takeover, `renew` makes a new stream per
    /// message instead of resetting one.
    #[must_use]
    pub fn new(s: &RxInput, renew: bool) -> Self {
        let largest = s.work.messages.iter().map(String::len).max().unwrap_or(0);
        Self {
            payloads: s
                .payloads
                .iter()
                .map(|p| [p.as_slice(), &TAIL].concat())
                .collect(),
            takeover: s.takeover,
            renew,
            out: vec![0; largest.max(64 << 10)],
        }
    }

    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        let mut inf = zlib_rs::Inflate::new(false, 15);
        let mut t = Totals::default();
        for (i, p) in self.payloads.iter().enumerate() {
            if !self.takeover && i > 0 {
                if self.renew {
                    inf = zlib_rs::Inflate::new(false, 15);
                } else {
                    inf.reset(false);
                }
            }
            let before = inf.total_out();
            inf.decompress(p, &mut self.out, InflateFlush::SyncFlush)
                .expect("zlib-rs inflate");
            let made = (inf.total_out() - before) as usize;
            t.bytes += made;
            t.messages += 1;
            if let Some(check) = check.as_mut() {
                check(true, &self.out[..made]);
            }
        }
        t
    }
}

impl Driver for FloorRx {
    fn prepare(&mut self) {}
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

impl Receiver for FloorRx {
    fn verify(&mut self, check: Check<'_>) -> Totals {
        self.pass(Some(check))
    }
}

/// zlib-rs deflating the messages.
pub struct FloorTx {
    messages: Rc<[String]>,
    takeover: bool,
    renew: bool,
    out: Vec<u8>,
    /// Where each message's output starts and its length (last pass).
    spans: Vec<(usize, usize)>,
}

impl FloorTx {
    /// The floor for sending `work`; without takeover, `renew` makes a new
    /// stream per message instead of resetting one.
    #[must_use]
    pub fn new(work: &Workload, takeover: bool, renew: bool) -> Self {
        let room = work.messages.iter().map(|m| bound(m.len())).sum();
        Self {
            messages: Rc::clone(&work.messages),
            takeover,
            renew,
            out: vec![0; room],
            spans: Vec::with_capacity(work.messages.len()),
        }
    }
}

impl Driver for FloorTx {
    fn prepare(&mut self) {
        self.spans.clear();
    }
    fn run(&mut self) -> Totals {
        let mut d = zlib_rs::Deflate::new_with_config(zconfig());
        let mut t = Totals::default();
        let mut at = 0;
        for (i, m) in self.messages.iter().enumerate() {
            if !self.takeover && i > 0 {
                if self.renew {
                    d = zlib_rs::Deflate::new_with_config(zconfig());
                } else {
                    d.reset();
                }
            }
            let room = &mut self.out[at..at + bound(m.len())];
            let n = compress_into(&mut d, m.as_bytes(), room);
            self.spans.push((at, n));
            at += n;
            t.bytes += m.len();
            t.messages += 1;
        }
        t
    }
}

impl Sent for FloorTx {
    fn payloads(&self) -> Vec<Vec<u8>> {
        self.spans
            .iter()
            .map(|&(at, n)| self.out[at..at + n].to_vec())
            .collect()
    }
}

//! The references: the same bytes through the same copies, and nothing else.

use std::io::Write;
use std::rc::Rc;

use crate::inputs::{RxScenario, TxScenario};
use crate::wire::{Sink, Wire};
use crate::{Driver, READ, Totals};

/// The floor: the same reads (same [`Wire`], same pieces) into a 64 KiB buffer.
pub struct MemcpyRx {
    wire: Wire,
    dst: Vec<u8>,
    expected: Totals,
}

impl MemcpyRx {
    /// Copies of `s`'s input.
    #[must_use]
    pub fn new(s: &RxScenario) -> Self {
        Self {
            wire: Wire::new(Rc::clone(&s.input)),
            dst: vec![0; READ],
            expected: s.expected(),
        }
    }
}

impl Driver for MemcpyRx {
    fn prepare(&mut self) {
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        let mut copied = 0;
        while self.wire.remaining() > 0 {
            let n = self.wire.fill(&mut self.dst);
            std::hint::black_box(&self.dst[..n]);
            copied += n;
        }
        assert_eq!(copied, self.wire.len());
        // Same answer as a receiver, so the caller's assert is uniform.
        self.expected
    }
}

/// The same 64 KiB reads, each copied on from where the last one ended into
/// a buffer as large as one message's frames (at least one read): the least
/// that any receiver handing out a whole message as one slice must write.
/// Where a message is larger than a read, this destination no longer stays
/// in the nearest caches, unlike [`MemcpyRx`]'s.
pub struct MemcpyMessageRx {
    wire: Wire,
    dst: Vec<u8>,
    expected: Totals,
}

impl MemcpyMessageRx {
    /// Copies of `s`'s input into a message-sized buffer.
    #[must_use]
    pub fn new(s: &RxScenario) -> Self {
        let per_message = s.input.len().div_ceil(s.messages);
        Self {
            wire: Wire::new(Rc::clone(&s.input)),
            dst: vec![0; per_message.max(READ)],
            expected: s.expected(),
        }
    }
}

impl Driver for MemcpyMessageRx {
    fn prepare(&mut self) {
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        let mut copied = 0;
        let mut at = 0;
        while self.wire.remaining() > 0 {
            if self.dst.len() - at < READ.min(self.wire.remaining()) {
                at = 0;
            }
            let n = self.wire.fill(&mut self.dst[at..]);
            std::hint::black_box(&self.dst[at..at + n]);
            at += n;
            copied += n;
        }
        assert_eq!(copied, self.wire.len());
        self.expected
    }
}

/// The send floors. `per_message: false` (`memcpy`): all the pass's payload
/// bytes (every message's, laid end to end) copied into the sink in 64 KiB
/// pieces. `per_message: true` (`memcpy-msg`): one write of each message's
/// payload, as many writes as a sender makes.
pub struct MemcpyTx {
    sink: Sink,
    payload: Vec<u8>,
    all: Vec<u8>,
    messages: usize,
    per_message: bool,
}

impl MemcpyTx {
    /// Copies of `s`'s payloads.
    #[must_use]
    pub fn new(s: &TxScenario, per_message: bool) -> Self {
        let all = if per_message {
            Vec::new()
        } else {
            s.payload.repeat(s.messages)
        };
        Self {
            sink: Sink::new(s.payload.len() * s.messages),
            payload: s.payload.to_vec(),
            all,
            messages: s.messages,
            per_message,
        }
    }
}

impl Driver for MemcpyTx {
    fn prepare(&mut self) {
        self.sink.reset();
    }
    fn run(&mut self) -> Totals {
        if self.per_message {
            for _ in 0..self.messages {
                self.sink.write_all(&self.payload).unwrap();
            }
        } else {
            for piece in self.all.chunks(READ) {
                self.sink.write_all(piece).unwrap();
            }
        }
        std::hint::black_box(&self.sink);
        let bytes = self.payload.len() * self.messages;
        assert_eq!(self.sink.len(), bytes);
        Totals {
            bytes,
            messages: self.messages,
        }
    }
}

/// The least a correct receiver of single-frame messages must do, with the
/// fastest parts known: the same 64 KiB reads copied into a buffer of one
/// frame plus one read; each complete frame's payload unmasked in place (a
/// server's input) a word at a time, and for text checked by simdutf8; the
/// partial frame a read left moved to the front. The frame layout is the
/// scenario's (every frame alike), so no header is decoded: `floor` in
/// s1–s4, where text against binary shows what UTF-8 validation alone
/// costs.
pub struct FloorRx {
    wire: Wire,
    buf: Vec<u8>,
    head: usize,
    frame: usize,
    masked: bool,
    text: bool,
}

impl FloorRx {
    /// The floor for `s`, if its messages are one frame each.
    #[must_use]
    pub fn new(s: &RxScenario) -> Option<Self> {
        if s.frames != s.messages {
            return None;
        }
        let masked = s.side == crate::inputs::Side::Server;
        let frame = crate::inputs::frame_len(s.message.len(), masked);
        Some(Self {
            wire: Wire::new(Rc::clone(&s.input)),
            buf: vec![0; frame + READ],
            head: frame - s.message.len(),
            frame,
            masked,
            text: s.text,
        })
    }
}

/// Unmasks `payload` with `key` from the start of its cycle, eight bytes at
/// a time (the loop the compiler widens), then the rest. Not hybi's
/// `frame::mask::apply_mask`: that module is public only with hybi's
/// `fuzzing` feature, which would add its buffer counters to the engine
/// this bench measures. Being slower than hybi's AVX2 unmasking, it makes
/// the floor's binary time larger and its text ÷ binary ratio smaller.
fn unmask(payload: &mut [u8], key: [u8; 4]) {
    let k = u32::from_ne_bytes(key) as u64;
    let k64 = k | (k << 32);
    let done = payload.len() / 8 * 8;
    for w in payload[..done].chunks_exact_mut(8) {
        let v = u64::from_ne_bytes(w.try_into().unwrap()) ^ k64;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in payload[done..].iter_mut().enumerate() {
        *b ^= key[(done + i) % 4];
    }
}

impl Driver for FloorRx {
    fn prepare(&mut self) {
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        let (mut filled, mut message) = (0usize, 0usize);
        let mut got = Totals::default();
        while self.wire.remaining() > 0 {
            filled += self.wire.fill(&mut self.buf[filled..]);
            let mut at = 0;
            while filled - at >= self.frame {
                let payload = &mut self.buf[at + self.head..at + self.frame];
                if self.masked {
                    let mut key = crate::KEY;
                    key[3] = message as u8;
                    unmask(payload, key);
                }
                if self.text {
                    assert!(simdutf8::basic::from_utf8(payload).is_ok());
                }
                std::hint::black_box(&*payload);
                got.bytes += payload.len();
                got.messages += 1;
                message += 1;
                at += self.frame;
            }
            self.buf.copy_within(at..filled, 0);
            filled -= at;
        }
        got
    }
}

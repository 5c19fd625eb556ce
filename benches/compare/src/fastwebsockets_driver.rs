//! fastwebsockets' drivers: `WebSocket::after_handshake` over the [`Wire`] or
//! the [`Sink`], on a current-thread tokio runtime made once per driver.
//! Receive reads frames (`WebSocket::read_frame`) or whole messages
//! (`FragmentCollector`); send writes one frame per message (`write_frame`).

use std::rc::Rc;

use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, WebSocket};

use crate::inputs::{RxScenario, Side, TxScenario};
use crate::wire::{Sink, Wire};
use crate::{Check, Driver, KEY, Receiver, Sender, Totals, runtime};

fn role(side: Side) -> fastwebsockets::Role {
    match side {
        Side::Server => fastwebsockets::Role::Server,
        Side::Client => fastwebsockets::Role::Client,
    }
}

enum Reader {
    Collector(FragmentCollector<Wire>),
    Frames(WebSocket<Wire>),
}

/// A fastwebsockets receiver (auto-close and auto-pong at their defaults,
/// on) reading exactly the scenario's message count per pass, through
/// `FragmentCollector` (whole messages, UTF-8 checked across fragments) or,
/// with `frames`, `WebSocket::read_frame` (frames: unfragmented input only;
/// a final text frame's UTF-8 is checked).
pub struct FastwebsocketsRx {
    rt: tokio::runtime::Runtime,
    ws: Reader,
    wire: Wire,
    side: Side,
    fresh: bool,
    frames: bool,
    reads: usize,
}

impl FastwebsocketsRx {
    /// Through `FragmentCollector`.
    #[must_use]
    pub fn collector(s: &RxScenario) -> Self {
        Self::with(s, false)
    }

    /// Through `WebSocket::read_frame` (unfragmented input only).
    #[must_use]
    pub fn frames(s: &RxScenario) -> Self {
        assert_eq!(s.frames, s.messages, "frame reads need unfragmented input");
        Self::with(s, true)
    }

    fn with(s: &RxScenario, frames: bool) -> Self {
        let wire = Wire::new(Rc::clone(&s.input));
        Self {
            rt: runtime(),
            ws: Self::open(&wire, s.side, frames),
            wire,
            side: s.side,
            fresh: s.fresh,
            frames,
            reads: s.messages,
        }
    }

    fn open(wire: &Wire, side: Side, frames: bool) -> Reader {
        let ws = WebSocket::after_handshake(wire.clone(), role(side));
        if frames {
            Reader::Frames(ws)
        } else {
            Reader::Collector(FragmentCollector::new(ws))
        }
    }

    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        let reads = self.reads;
        let ws = &mut self.ws;
        let t = self.rt.block_on(async {
            let mut t = Totals::default();
            for _ in 0..reads {
                let frame = match ws {
                    Reader::Collector(ws) => ws.read_frame().await,
                    Reader::Frames(ws) => ws.read_frame().await,
                }
                .unwrap_or_else(|e| panic!("fastwebsockets: {e}"));
                assert!(frame.fin);
                let text = match frame.opcode {
                    OpCode::Text => true,
                    OpCode::Binary => false,
                    other => panic!("fastwebsockets: unexpected {other:?}"),
                };
                t.bytes += frame.payload.len();
                t.messages += 1;
                if let Some(check) = check.as_mut() {
                    check(text, &frame.payload);
                }
            }
            t
        });
        assert_eq!(self.wire.remaining(), 0);
        assert_eq!(self.wire.written(), 0, "fastwebsockets wrote a reply");
        t
    }
}

impl Driver for FastwebsocketsRx {
    fn prepare(&mut self) {
        if self.fresh {
            self.ws = Self::open(&self.wire, self.side, self.frames);
        }
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

impl Receiver for FastwebsocketsRx {
    fn verify(&mut self, check: Check<'_>) -> Totals {
        self.prepare();
        self.pass(Some(check))
    }
}

/// A fastwebsockets sender: `write_frame` per message, vectored writes at
/// their default (on above 1 KiB: header and payload in one
/// `write_vectored`; smaller frames are copied into its write buffer and
/// written whole). `Borrowed` payload: a client copies it into a new `Vec`
/// to mask it; a server writes it uncopied. `in_place`: a `BorrowedMut`
/// payload, each message's own buffer (refilled by `prepare`), which a
/// client masks in place. A client masks with [`KEY`] in scenario 5, else
/// with its own `rand` keys.
pub struct FastwebsocketsTx {
    rt: tokio::runtime::Runtime,
    ws: WebSocket<Sink>,
    sink: Sink,
    payload: Vec<u8>,
    messages: usize,
    side: Side,
    fresh: bool,
    fixed: bool,
    in_place: bool,
    bufs: Vec<u8>,
    wire_len: usize,
}

impl FastwebsocketsTx {
    /// A sender for `s` from a shared borrow (or, `in_place`, a mutable one).
    #[must_use]
    pub fn new(s: &TxScenario, in_place: bool) -> Self {
        let sink = Sink::new(s.wire_len());
        Self {
            rt: runtime(),
            ws: WebSocket::after_handshake(sink.clone(), role(s.side)),
            sink,
            payload: s.payload.to_vec(),
            messages: s.messages,
            side: s.side,
            fresh: s.fresh,
            fixed: s.fixed_mask,
            in_place,
            bufs: Vec::new(),
            wire_len: s.wire_len(),
        }
    }
}

impl Driver for FastwebsocketsTx {
    fn prepare(&mut self) {
        if self.fresh {
            self.ws = WebSocket::after_handshake(self.sink.clone(), role(self.side));
        }
        self.sink.reset();
        if self.in_place {
            let len = self.payload.len();
            self.bufs.resize(len * self.messages, 0);
            for b in self.bufs.chunks_exact_mut(len.max(1)) {
                b.copy_from_slice(&self.payload);
            }
        }
    }
    fn run(&mut self) -> Totals {
        let len = self.payload.len();
        let mask = (self.fixed && self.side == Side::Client).then_some(KEY);
        let (ws, payload, bufs, messages) =
            (&mut self.ws, &self.payload, &mut self.bufs, self.messages);
        let in_place = self.in_place;
        self.rt.block_on(async {
            if in_place {
                for buf in bufs.chunks_exact_mut(len.max(1)) {
                    let frame = Frame::new(true, OpCode::Binary, mask, Payload::BorrowedMut(buf));
                    ws.write_frame(frame).await.unwrap();
                }
            } else {
                for _ in 0..messages {
                    let frame = Frame::new(true, OpCode::Binary, mask, Payload::Borrowed(payload));
                    ws.write_frame(frame).await.unwrap();
                }
            }
        });
        assert_eq!(self.sink.len(), self.wire_len);
        Totals {
            bytes: len * self.messages,
            messages: self.messages,
        }
    }
}

impl Sender for FastwebsocketsTx {
    fn sink(&self) -> &Sink {
        &self.sink
    }
}

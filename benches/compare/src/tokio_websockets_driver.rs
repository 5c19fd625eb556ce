//! tokio-websockets' drivers: a `WebSocketStream` over the [`Wire`] or the
//! [`Sink`], made by `ServerBuilder::new().serve(stream)` or
//! `ClientBuilder::new().take_over(stream)` (no handshake), polled through
//! its `Stream` and `Sink` implementations on a current-thread tokio
//! runtime made once per driver.

use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_sink::Sink as _;
use tokio_websockets::{ClientBuilder, Message, ServerBuilder, WebSocketStream};

use crate::inputs::{RxScenario, Side, TxScenario};
use crate::wire::{Sink, Wire};
use crate::{Check, Driver, Receiver, Sender, Totals, runtime};

/// A stream over `io` in `side`'s role, default `Config` (4 MiB outgoing
/// frames, 8 KiB flush threshold) and `Limits` (64 MiB messages).
fn open<T>(io: T, side: Side) -> WebSocketStream<T>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match side {
        Side::Server => ServerBuilder::new().serve(io),
        Side::Client => ClientBuilder::new().take_over(io),
    }
}

/// A tokio-websockets receiver: `poll_next` (whole messages: it reassembles
/// fragments and checks UTF-8 itself) exactly the scenario's message count
/// per pass.
pub struct TokioWebsocketsRx {
    rt: tokio::runtime::Runtime,
    ws: WebSocketStream<Wire>,
    wire: Wire,
    side: Side,
    fresh: bool,
    reads: usize,
}

impl TokioWebsocketsRx {
    /// A receiver over `s`'s input.
    #[must_use]
    pub fn new(s: &RxScenario) -> Self {
        let wire = Wire::new(Rc::clone(&s.input));
        Self {
            rt: runtime(),
            ws: open(wire.clone(), s.side),
            wire,
            side: s.side,
            fresh: s.fresh,
            reads: s.messages,
        }
    }

    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        let reads = self.reads;
        let ws = &mut self.ws;
        let t = self.rt.block_on(async {
            let mut t = Totals::default();
            for _ in 0..reads {
                let message = poll_fn(|cx| Pin::new(&mut *ws).poll_next(cx))
                    .await
                    .expect("tokio-websockets: end of stream")
                    .unwrap_or_else(|e| panic!("tokio-websockets: {e}"));
                let text = if message.is_text() {
                    true
                } else {
                    assert!(message.is_binary(), "tokio-websockets: {message:?}");
                    false
                };
                let payload = message.as_payload();
                t.bytes += payload.len();
                t.messages += 1;
                if let Some(check) = check.as_mut() {
                    check(text, payload);
                }
            }
            t
        });
        assert_eq!(self.wire.remaining(), 0);
        assert_eq!(self.wire.written(), 0, "tokio-websockets wrote a reply");
        t
    }
}

impl Driver for TokioWebsocketsRx {
    fn prepare(&mut self) {
        if self.fresh {
            self.ws = open(self.wire.clone(), self.side);
        }
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

impl Receiver for TokioWebsocketsRx {
    fn verify(&mut self, check: Check<'_>) -> Totals {
        self.prepare();
        self.pass(Some(check))
    }
}

/// A tokio-websockets sender: per message `poll_ready`, `start_send`,
/// `poll_flush` (what `SinkExt::send` does), so each message goes out in
/// one vectored write of its queued frames (header and payload). The
/// payload is a `Bytes` made once and cloned per message (a reference
/// count): a server writes it uncopied, a client copies it into a new
/// buffer to mask it (the `Bytes` is shared). `owned`: each message is its
/// own unique `BytesMut` (made by `prepare`), which a client masks in place.
/// A client's masks come from its `fastrand` feature.
pub struct TokioWebsocketsTx {
    rt: tokio::runtime::Runtime,
    ws: WebSocketStream<Sink>,
    sink: Sink,
    payload: Bytes,
    messages: usize,
    side: Side,
    fresh: bool,
    owned: bool,
    bufs: Vec<BytesMut>,
    wire_len: usize,
}

impl TokioWebsocketsTx {
    /// A sender for `s`, from a shared `Bytes` (or, `owned`, a unique buffer
    /// per message).
    #[must_use]
    pub fn new(s: &TxScenario, owned: bool) -> Self {
        let sink = Sink::new(s.wire_len());
        Self {
            rt: runtime(),
            ws: open(sink.clone(), s.side),
            sink,
            payload: Bytes::copy_from_slice(&s.payload),
            messages: s.messages,
            side: s.side,
            fresh: s.fresh,
            owned,
            bufs: Vec::new(),
            wire_len: s.wire_len(),
        }
    }
}

impl Driver for TokioWebsocketsTx {
    fn prepare(&mut self) {
        if self.fresh {
            self.ws = open(self.sink.clone(), self.side);
        }
        self.sink.reset();
        if self.owned {
            self.bufs.clear();
            self.bufs
                .extend((0..self.messages).map(|_| BytesMut::from(&self.payload[..])));
        }
    }
    fn run(&mut self) -> Totals {
        let (ws, payload, bufs, messages, owned) = (
            &mut self.ws,
            &self.payload,
            &mut self.bufs,
            self.messages,
            self.owned,
        );
        self.rt.block_on(async {
            for _ in 0..messages {
                let message = if owned {
                    Message::binary(bufs.pop().expect("prepared buffers"))
                } else {
                    Message::binary(payload.clone())
                };
                poll_fn(|cx| Pin::new(&mut *ws).poll_ready(cx))
                    .await
                    .unwrap();
                Pin::new(&mut *ws).start_send(message).unwrap();
                poll_fn(|cx| Pin::new(&mut *ws).poll_flush(cx))
                    .await
                    .unwrap();
            }
        });
        assert_eq!(self.sink.len(), self.wire_len);
        Totals {
            bytes: self.payload.len() * self.messages,
            messages: self.messages,
        }
    }
}

impl Sender for TokioWebsocketsTx {
    fn sink(&self) -> &Sink {
        &self.sink
    }
}

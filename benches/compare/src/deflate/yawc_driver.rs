//! yawc's drivers: a `WebSocket` over the [`Wire`] or the [`Sink`] made by
//! `WebSocket::from_stream_with_extensions(io, Role::Server, Some(answer),
//! options)`, yawc's constructor for a stream whose handshake is already
//! done (no HTTP is run). `answer` is the `Sec-WebSocket-Extensions` value
//! hybi's server wrote in its 101 for the same offer, so both run with the
//! same agreement (`client_max_window_bits=15`, plus both
//! `*_no_context_takeover` without takeover). `options`: compression level 6
//! (its default, `flate2::Compression::default()`), threshold 64 bytes like
//! hybi's (no message here is that small), UTF-8 checked (`with_utf8`; yawc
//! checks nothing by default, hybi always does), the rest at yawc's defaults
//! (1 MiB frames, 8 KiB read and write buffers). yawc is built with its
//! `zlib` feature, so flate2 runs on zlib-rs, and its deflate state is
//! zlib-rs's defaults for level 6: window 15, memLevel 8. Polled on a
//! current-thread tokio runtime like the other async peers.

use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;
use futures_sink::Sink as _;
use yawc::{CompressionLevel, OpCode, Options, Role, WebSocket};

use super::hybi_driver::server;
use super::{RxInput, Sent, Workload, frame_payloads};
use crate::wire::{Sink, Wire};
use crate::{Check, Driver, Receiver, Totals, runtime};

/// yawc's options (see the module).
#[must_use]
pub fn options() -> Options {
    Options::default()
        .with_compression_level(CompressionLevel::new(6))
        .with_compression_threshold(64)
        .with_utf8()
}

/// A server over `io` with permessage-deflate as `answer` agreed it.
///
/// # Panics
/// If yawc refuses the agreement.
fn open<T>(io: T, answer: &str) -> WebSocket<T>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    WebSocket::from_stream_with_extensions(io, Role::Server, Some(answer), options())
        .expect("yawc: from_stream_with_extensions")
}

/// A yawc receiver: `poll_next_frame` (whole messages, inflated and
/// UTF-8-checked) exactly the workload's message count per pass.
pub struct YawcRx {
    rt: tokio::runtime::Runtime,
    ws: WebSocket<Wire>,
    wire: Wire,
    answer: String,
    reads: usize,
}

impl YawcRx {
    /// A receiver of `s`'s frames.
    #[must_use]
    pub fn new(s: &RxInput) -> Self {
        let answer = server(s.takeover).1;
        let wire = Wire::new(Rc::clone(&s.wire));
        Self {
            rt: runtime(),
            ws: open(wire.clone(), &answer),
            wire,
            answer,
            reads: s.work.messages.len(),
        }
    }

    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        let reads = self.reads;
        let ws = &mut self.ws;
        let t = self.rt.block_on(async {
            let mut t = Totals::default();
            for _ in 0..reads {
                let frame = poll_fn(|cx| ws.poll_next_frame(cx))
                    .await
                    .unwrap_or_else(|e| panic!("yawc: {e}"));
                assert!(frame.opcode() == OpCode::Text, "yawc: not text");
                let payload = frame.payload();
                t.bytes += payload.len();
                t.messages += 1;
                if let Some(check) = check.as_mut() {
                    check(true, payload);
                }
            }
            t
        });
        assert_eq!(self.wire.remaining(), 0);
        assert_eq!(self.wire.written(), 0, "yawc wrote a reply");
        t
    }
}

impl Driver for YawcRx {
    fn prepare(&mut self) {
        self.ws = open(self.wire.clone(), &self.answer);
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

impl Receiver for YawcRx {
    fn verify(&mut self, check: Check<'_>) -> Totals {
        self.prepare();
        self.pass(Some(check))
    }
}

/// A yawc sender: per message `poll_ready`, `start_send(Frame::text(bytes))`,
/// `poll_flush` (what `SinkExt::send` does), so each message is compressed,
/// framed and written in one flush. Each message's `Bytes` is made once;
/// a send clones it (a reference count).
pub struct YawcTx {
    rt: tokio::runtime::Runtime,
    ws: WebSocket<Sink>,
    sink: Sink,
    answer: String,
    messages: Vec<Bytes>,
}

impl YawcTx {
    /// A sender of `work`'s messages.
    #[must_use]
    pub fn new(work: &Workload, takeover: bool) -> Self {
        let answer = server(takeover).1;
        let sink = Sink::new(work.plain() + 16 * work.messages.len());
        Self {
            rt: runtime(),
            ws: open(sink.clone(), &answer),
            sink,
            answer,
            messages: work
                .messages
                .iter()
                .map(|m| Bytes::copy_from_slice(m.as_bytes()))
                .collect(),
        }
    }
}

impl Driver for YawcTx {
    fn prepare(&mut self) {
        self.ws = open(self.sink.clone(), &self.answer);
        self.sink.reset();
    }
    fn run(&mut self) -> Totals {
        let (ws, messages) = (&mut self.ws, &self.messages);
        self.rt.block_on(async {
            let mut t = Totals::default();
            for m in messages {
                poll_fn(|cx| Pin::new(&mut *ws).poll_ready(cx))
                    .await
                    .unwrap();
                Pin::new(&mut *ws)
                    .start_send(yawc::Frame::text(m.clone()))
                    .unwrap();
                poll_fn(|cx| Pin::new(&mut *ws).poll_flush(cx))
                    .await
                    .unwrap();
                t.bytes += m.len();
                t.messages += 1;
            }
            t
        })
    }
}

impl Sent for YawcTx {
    fn payloads(&self) -> Vec<Vec<u8>> {
        frame_payloads("yawc", &self.sink.contents())
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    }
}

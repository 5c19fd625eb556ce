//! hybi's drivers: a `Connection` opened by a completed handshake (the logic
//! of hybi's `benches/support/mod.rs`), fed from the [`Wire`] and drained
//! into the [`Sink`].

use std::io::{IoSlice, Write};
use std::rc::Rc;

use crate::inputs::{RxScenario, Side, TxScenario};
use crate::wire::{Sink, Wire};
use crate::{Check, Driver, KEY, Receiver, Sender, Totals};

/// The upgrade request every hybi server is opened with.
const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com:8000\r\n\
Upgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A server connection past the handshake (as hybi's `benches/support`).
#[must_use]
pub fn hybi_server(config: hybi::Config) -> hybi::Connection {
    let mut conn = hybi::Connection::server(config);
    conn.receive(REQUEST);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(hybi::Event::HandshakeRequest(_)))
    ));
    conn.accept(hybi::Accept::new()).unwrap();
    let n = conn.transmit().len();
    conn.advance(n);
    assert!(matches!(conn.next_event(), Ok(None)));
    conn
}

/// Masks from a fixed key, so hybi masks with the same key as fastwebsockets
/// in scenario 5 (tungstenite and tokio-websockets draw their own).
struct FixedMask;

impl hybi::MaskSource for FixedMask {
    fn fill(&mut self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = KEY[i % 4];
        }
    }
}

/// A client connection past the handshake: masking with [`KEY`] if `fixed`,
/// else with the production source (`Connection::client`: ChaCha12 seeded
/// from the OS).
#[must_use]
pub fn hybi_client(config: hybi::Config, fixed: bool) -> hybi::Connection {
    let request = hybi::ClientRequest::new("example.com", "/");
    let mut conn = if fixed {
        hybi::Connection::client_with_rng(request, config, Box::new(FixedMask))
    } else {
        hybi::Connection::client(request, config)
    }
    .unwrap();
    let request = conn.transmit().to_vec();
    conn.advance(request.len());
    let text = String::from_utf8(request).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        hybi::AcceptKey::from_key(key.as_bytes()).as_str()
    );
    conn.receive(response.as_bytes());
    assert!(matches!(
        conn.next_event(),
        Ok(Some(hybi::Event::HandshakeResponse(_)))
    ));
    assert!(matches!(conn.next_event(), Ok(None)));
    conn
}

fn connect(side: Side, config: hybi::Config, fixed: bool) -> hybi::Connection {
    match side {
        Side::Server => hybi_server(config),
        Side::Client => hybi_client(config, fixed),
    }
}

/// hybi's default `Config` with `buffer_high_water` raised to 4 MiB (as hybi's
/// own `tests/alloc_free.rs` does for large messages).
#[must_use]
pub fn keep_buffers() -> hybi::Config {
    hybi::Config::new().buffer_high_water(4 << 20)
}

/// A hybi receiver: `wire.fill(conn.read_buf())` + `commit(n)` per read, or
/// (`fused`) `conn.receive(&piece)`, then `next_event()` until `None`.
pub struct HybiRx {
    conn: hybi::Connection,
    config: hybi::Config,
    side: Side,
    fresh: bool,
    wire: Wire,
    fused: bool,
}

impl HybiRx {
    /// A receiver for `s` with `config`, fed by `read_buf`/`commit` or, if
    /// `fused`, by `receive`.
    #[must_use]
    pub fn new(s: &RxScenario, config: hybi::Config, fused: bool) -> Self {
        Self {
            conn: connect(s.side, config, true),
            config,
            side: s.side,
            fresh: s.fresh,
            wire: Wire::new(Rc::clone(&s.input)),
            fused,
        }
    }

    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        let mut t = Totals::default();
        let mut partial: Vec<u8> = Vec::new();
        while self.wire.remaining() > 0 {
            if self.fused {
                self.conn.receive(self.wire.piece());
            } else {
                let n = self.wire.fill(self.conn.read_buf());
                self.conn.commit(n);
            }
            while let Some(event) = self.conn.next_event().unwrap() {
                let (text, data, last) = match event {
                    hybi::Event::Text(t) => (true, t.as_bytes(), true),
                    hybi::Event::Binary(b) => (false, b, true),
                    hybi::Event::TextChunk { data, last } => (true, data.as_bytes(), last),
                    hybi::Event::BinaryChunk { data, last } => (false, data, last),
                    other => panic!("hybi: unexpected event {other:?}"),
                };
                t.bytes += data.len();
                t.messages += usize::from(last);
                if let Some(check) = check.as_mut() {
                    partial.extend_from_slice(data);
                    if last {
                        check(text, &partial);
                        partial.clear();
                    }
                }
            }
        }
        assert_eq!(self.conn.transmit().len(), 0, "hybi owed a reply");
        t
    }
}

impl Driver for HybiRx {
    fn prepare(&mut self) {
        if self.fresh {
            self.conn = connect(self.side, self.config, true);
        }
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

impl Receiver for HybiRx {
    fn verify(&mut self, check: Check<'_>) -> Totals {
        self.prepare();
        self.pass(Some(check))
    }
}

/// How a hybi sender hands each message over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HybiSend {
    /// `send_binary(&payload)`, then `transmit()` written, `advance(n)`.
    Copy,
    /// `send_binary_vectored(&payload)`: the parts in one vectored write,
    /// then `finish(n)` (a client's parts are a queued masked copy).
    Vectored,
    /// `send_binary_in_place(&mut payload)`: a client masks the caller's
    /// buffer in place; then as `Vectored`.
    InPlace,
}

/// A hybi sender: one socket write (or vectored write) per message.
pub struct HybiTx {
    conn: hybi::Connection,
    config: hybi::Config,
    side: Side,
    fresh: bool,
    fixed: bool,
    mode: HybiSend,
    sink: Sink,
    payload: Rc<[u8]>,
    messages: usize,
    wire_len: usize,
    /// `InPlace`: every message's own buffer, refilled by `prepare`.
    bufs: Vec<u8>,
}

impl HybiTx {
    /// A sender for `s` with `config`, handing messages over by `mode`.
    #[must_use]
    pub fn new(s: &TxScenario, config: hybi::Config, mode: HybiSend) -> Self {
        let fixed = s.fixed_mask;
        Self {
            conn: connect(s.side, config, fixed),
            config,
            side: s.side,
            fresh: s.fresh,
            fixed,
            mode,
            sink: Sink::new(s.wire_len()),
            payload: Rc::clone(&s.payload),
            messages: s.messages,
            wire_len: s.wire_len(),
            bufs: Vec::new(),
        }
    }

    fn write_parts(sink: &mut Sink, send: hybi::VectoredSend<'_, '_>) {
        let mut send = send;
        let n = {
            let [queued, header, body] = send.parts();
            sink.write_vectored(&[
                IoSlice::new(queued),
                IoSlice::new(header),
                IoSlice::new(body),
            ])
            .unwrap()
        };
        send.finish(n);
    }
}

impl Driver for HybiTx {
    fn prepare(&mut self) {
        if self.fresh {
            self.conn = connect(self.side, self.config, self.fixed);
        }
        self.sink.reset();
        if self.mode == HybiSend::InPlace {
            let len = self.payload.len();
            self.bufs.resize(len * self.messages, 0);
            for b in self.bufs.chunks_exact_mut(len.max(1)) {
                b.copy_from_slice(&self.payload);
            }
        }
    }
    fn run(&mut self) -> Totals {
        let len = self.payload.len();
        match self.mode {
            HybiSend::Copy => {
                for _ in 0..self.messages {
                    self.conn.send_binary(&self.payload).unwrap();
                    let out = self.conn.transmit();
                    let n = self.sink.write(out).unwrap();
                    self.conn.advance(n);
                }
            }
            HybiSend::Vectored => {
                for _ in 0..self.messages {
                    let send = self.conn.send_binary_vectored(&self.payload).unwrap();
                    Self::write_parts(&mut self.sink, send);
                }
            }
            HybiSend::InPlace => {
                for buf in self.bufs.chunks_exact_mut(len.max(1)) {
                    let send = self.conn.send_binary_in_place(buf).unwrap();
                    Self::write_parts(&mut self.sink, send);
                }
            }
        }
        assert!(self.conn.transmit().is_empty(), "hybi kept bytes queued");
        assert_eq!(self.sink.len(), self.wire_len);
        Totals {
            bytes: len * self.messages,
            messages: self.messages,
        }
    }
}

impl Sender for HybiTx {
    fn sink(&self) -> &Sink {
        &self.sink
    }
}

//! tungstenite's drivers: `WebSocket::from_raw_socket` over the [`Wire`]
//! (read until `WouldBlock`) or the [`Sink`] (`send` per message).

use std::io;
use std::rc::Rc;

use tungstenite::protocol::{Role, WebSocketConfig};

use crate::inputs::{RxScenario, Side, TxScenario};
use crate::wire::{Sink, Wire};
use crate::{Check, Driver, Receiver, Sender, Totals};

/// tungstenite's configuration: its defaults, with the size limits spelled
/// out (64 MiB messages, 16 MiB frames; both well above 1 MiB).
#[must_use]
pub fn tungstenite_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20))
}

fn role(side: Side) -> Role {
    match side {
        Side::Server => Role::Server,
        Side::Client => Role::Client,
    }
}

/// A tungstenite receiver, read with `read()` until the wire says `WouldBlock`.
pub struct TungsteniteRx {
    ws: tungstenite::WebSocket<Wire>,
    input: Rc<[u8]>,
    side: Side,
    fresh: bool,
}

impl TungsteniteRx {
    /// A receiver over `s`'s input.
    #[must_use]
    pub fn new(s: &RxScenario) -> Self {
        Self {
            ws: Self::open(&s.input, s.side),
            input: Rc::clone(&s.input),
            side: s.side,
            fresh: s.fresh,
        }
    }

    fn open(input: &Rc<[u8]>, side: Side) -> tungstenite::WebSocket<Wire> {
        tungstenite::WebSocket::from_raw_socket(
            Wire::new(Rc::clone(input)),
            role(side),
            Some(tungstenite_config()),
        )
    }

    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        let mut t = Totals::default();
        loop {
            match self.ws.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    t.bytes += text.len();
                    t.messages += 1;
                    if let Some(check) = check.as_mut() {
                        check(true, text.as_bytes());
                    }
                }
                Ok(tungstenite::Message::Binary(data)) => {
                    t.bytes += data.len();
                    t.messages += 1;
                    if let Some(check) = check.as_mut() {
                        check(false, &data);
                    }
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Ok(other) => panic!("tungstenite: unexpected message {other:?}"),
                Err(e) => panic!("tungstenite: {e}"),
            }
        }
        assert_eq!(self.ws.get_ref().remaining(), 0);
        assert_eq!(self.ws.get_ref().written(), 0, "tungstenite wrote a reply");
        t
    }
}

impl Driver for TungsteniteRx {
    fn prepare(&mut self) {
        if self.fresh {
            self.ws = Self::open(&self.input, self.side);
        } else {
            self.ws.get_mut().reset();
        }
    }
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

impl Receiver for TungsteniteRx {
    fn verify(&mut self, check: Check<'_>) -> Totals {
        self.prepare();
        self.pass(Some(check))
    }
}

/// A tungstenite sender: `send()` (write + flush) per message. The payload
/// is a `Bytes` made once; each send clones it (a reference count, no copy).
/// A client's masks are drawn by tungstenite (`rand`); it has no hook.
pub struct TungsteniteTx {
    ws: tungstenite::WebSocket<Sink>,
    sink: Sink,
    payload: tungstenite::Bytes,
    messages: usize,
    side: Side,
    fresh: bool,
    wire_len: usize,
}

impl TungsteniteTx {
    /// A sender for `s`.
    #[must_use]
    pub fn new(s: &TxScenario) -> Self {
        let sink = Sink::new(s.wire_len());
        Self {
            ws: Self::open(&sink, s.side),
            sink,
            payload: tungstenite::Bytes::copy_from_slice(&s.payload),
            messages: s.messages,
            side: s.side,
            fresh: s.fresh,
            wire_len: s.wire_len(),
        }
    }

    fn open(sink: &Sink, side: Side) -> tungstenite::WebSocket<Sink> {
        tungstenite::WebSocket::from_raw_socket(
            sink.clone(),
            role(side),
            Some(tungstenite_config()),
        )
    }
}

impl Driver for TungsteniteTx {
    fn prepare(&mut self) {
        if self.fresh {
            self.ws = Self::open(&self.sink, self.side);
        }
        self.sink.reset();
    }
    fn run(&mut self) -> Totals {
        for _ in 0..self.messages {
            self.ws
                .send(tungstenite::Message::Binary(self.payload.clone()))
                .unwrap();
        }
        assert_eq!(self.sink.len(), self.wire_len);
        Totals {
            bytes: self.payload.len() * self.messages,
            messages: self.messages,
        }
    }
}

impl Sender for TungsteniteTx {
    fn sink(&self) -> &Sink {
        &self.sink
    }
}

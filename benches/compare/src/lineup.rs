//! Which drivers run on which case, each checked once (outside timing)
//! before it is handed out.

use crate::fastwebsockets_driver::{FastwebsocketsRx, FastwebsocketsTx};
use crate::hybi_driver::{HybiRx, HybiSend, HybiTx, keep_buffers};
use crate::inputs::{Built, RxScenario, Side, TxScenario, check_frames};
use crate::memcpy::{FloorRx, MemcpyMessageRx, MemcpyRx, MemcpyTx};
use crate::tokio_websockets_driver::{TokioWebsocketsRx, TokioWebsocketsTx};
use crate::tungstenite_driver::{TungsteniteRx, TungsteniteTx};
use crate::{Driver, Receiver, Sender};

/// A labelled driver.
pub type Entry = (&'static str, Box<dyn Driver>);

/// Every driver for `case`, labelled, each checked once.
///
/// # Panics
/// If an implementation rejects the input or delivers (or writes) something
/// else than it should.
#[must_use]
pub fn drivers(case: &Built) -> Vec<Entry> {
    match case {
        Built::Rx(s) => receivers(s),
        Built::Tx(s) => senders(s),
    }
}

/// Every receive driver for `s`, after checking that each delivers exactly
/// the scenario's messages, byte for byte and of the right type.
///
/// # Panics
/// As [`drivers`].
#[must_use]
pub fn receivers(s: &RxScenario) -> Vec<Entry> {
    let legacy = !s.fresh;
    let mut out: Vec<Entry> = Vec::new();
    let mut add = |name: &'static str, mut r: Box<dyn ReceiverDriver>| {
        let mut seen = 0usize;
        let mut check = |text: bool, m: &[u8]| {
            assert_eq!(text, s.text, "{name} on {}: message type", s.group);
            assert!(*m == *s.message, "{name} on {}: content differs", s.group);
            seen += 1;
        };
        let t = r.verify(&mut check);
        assert_eq!(t, s.expected(), "{name} on {} {:?}", s.group, s.size);
        assert_eq!(seen, s.messages, "{name} on {}: messages checked", s.group);
        out.push((name, r.into_driver()));
    };
    add("hybi", Box::new(HybiRx::new(s, hybi::Config::new(), false)));
    if legacy {
        add(
            "hybi-hw4MiB",
            Box::new(HybiRx::new(s, keep_buffers(), false)),
        );
    }
    add(
        "hybi-receive",
        Box::new(HybiRx::new(s, hybi::Config::new(), true)),
    );
    add("tungstenite", Box::new(TungsteniteRx::new(s)));
    if s.frames == s.messages {
        add("fastwebsockets", Box::new(FastwebsocketsRx::frames(s)));
    }
    add(
        "FragmentCollector",
        Box::new(FastwebsocketsRx::collector(s)),
    );
    add("tokio-websockets", Box::new(TokioWebsocketsRx::new(s)));
    out.push(("memcpy", Box::new(MemcpyRx::new(s))));
    out.push(("memcpy-msg", Box::new(MemcpyMessageRx::new(s))));
    if let Some(mut floor) = FloorRx::new(s) {
        floor.prepare();
        assert_eq!(floor.run(), s.expected(), "floor on {}", s.group);
        out.push(("memcpy-floor", Box::new(floor)));
    }
    out
}

/// Every send driver for `s`, after checking that each writes exactly the
/// pass's frames, which decode (unmasked) to the payload.
///
/// # Panics
/// As [`drivers`].
#[must_use]
pub fn senders(s: &TxScenario) -> Vec<Entry> {
    let legacy = !s.fresh;
    let client = s.side == Side::Client;
    let mut out: Vec<Entry> = Vec::new();
    let mut add = |name: &'static str, mut d: Box<dyn SenderDriver>| {
        d.prepare();
        assert_eq!(d.run(), s.expected(), "{name} on {} {:?}", s.group, s.size);
        check_frames(&d.sink().contents(), &s.payload, s.messages, client);
        out.push((name, d.into_driver()));
    };
    let config = hybi::Config::new();
    add("hybi", Box::new(HybiTx::new(s, config, HybiSend::Copy)));
    if legacy {
        add(
            "hybi-hw4MiB",
            Box::new(HybiTx::new(s, keep_buffers(), HybiSend::Copy)),
        );
    }
    add(
        "hybi-vectored",
        Box::new(HybiTx::new(s, config, HybiSend::Vectored)),
    );
    if client {
        add(
            "hybi-in-place",
            Box::new(HybiTx::new(s, config, HybiSend::InPlace)),
        );
    }
    add("tungstenite", Box::new(TungsteniteTx::new(s)));
    add("fastwebsockets", Box::new(FastwebsocketsTx::new(s, false)));
    if client {
        add(
            "fastwebsockets-in-place",
            Box::new(FastwebsocketsTx::new(s, true)),
        );
    }
    add(
        "tokio-websockets",
        Box::new(TokioWebsocketsTx::new(s, false)),
    );
    if client {
        add(
            "tokio-websockets-owned",
            Box::new(TokioWebsocketsTx::new(s, true)),
        );
    }
    out.push(("memcpy", Box::new(MemcpyTx::new(s, false))));
    if !legacy {
        out.push(("memcpy-msg", Box::new(MemcpyTx::new(s, true))));
    }
    out
}

/// A receiver that can also be handed out as a plain driver.
trait ReceiverDriver: Receiver {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver>;
}

impl<T: Receiver + 'static> ReceiverDriver for T {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver> {
        self
    }
}

/// A sender that can also be handed out as a plain driver.
trait SenderDriver: Sender {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver>;
}

impl<T: Sender + 'static> SenderDriver for T {
    fn into_driver(self: Box<Self>) -> Box<dyn Driver> {
        self
    }
}

//! Shared inputs and drivers for the comparison benchmark (`benches/compare.rs`)
//! and the allocation counter (`src/main.rs`).
//!
//! Every implementation is fed the same encoded bytes through the same
//! [`Wire`], which hands them out in [`READ`]-sized pieces (a copy per read, as
//! a socket read would make), and every send goes into the same kind of
//! [`Sink`]. A driver's [`Driver::prepare`] readies a pass outside timing (a
//! new connection for the continuous streams); [`Driver::run`] is one timed
//! pass and returns the payload bytes and messages it saw, which the caller
//! asserts.
//!
//! | module | what |
//! |---|---|
//! | [`inputs`] | payloads, frame encoding, the cases, the sender-output check |
//! | [`wire`] | the simulated socket: [`Wire`] (reads) and [`Sink`] (writes) |
//! | [`hybi_driver`], [`tungstenite_driver`], [`fastwebsockets_driver`], [`tokio_websockets_driver`] | one module per implementation |
//! | [`memcpy`] | the references |
//! | [`lineup`] | which drivers run on which case, each checked once first |
//! | `deflate` (feature `deflate`) | permessage-deflate: hybi, yawc and the zlib-rs floor (`benches/deflate.rs`) |

#[cfg(feature = "deflate")]
pub mod deflate;
pub mod fastwebsockets_driver;
pub mod hybi_driver;
pub mod inputs;
pub mod lineup;
pub mod memcpy;
pub mod tokio_websockets_driver;
pub mod tungstenite_driver;
pub mod wire;

pub use inputs::{Built, Case, RxScenario, SEND, Side, TxScenario, cases};
pub use lineup::drivers;
pub use wire::{Sink, Wire};

/// Size of each simulated socket read (as in hybi's own `benches/decode.rs`).
pub const READ: usize = 64 << 10;
/// One mebibyte.
pub const MIB: usize = 1 << 20;
/// The masking key of every client frame in the inputs: message `i` uses
/// `[0x37, 0xfa, 0x21, i as u8]` (the same keys as hybi's own benches).
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x00];

/// What one pass delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Totals {
    /// Payload bytes received (or sent).
    pub bytes: usize,
    /// Complete messages received (or sent).
    pub messages: usize,
}

/// One implementation on one case.
pub trait Driver {
    /// Readies the next pass, outside timing: a new connection (continuous
    /// streams) or the same one with its wire rewound (scenarios 1–5); an
    /// empty sink; payload buffers that a pass masks in place refilled.
    fn prepare(&mut self);
    /// One pass over the case's input (or its sends). Call `prepare` first.
    fn run(&mut self) -> Totals;
}

/// A receiving driver.
pub trait Receiver: Driver {
    /// `prepare`, then one pass handing each complete message (whether it
    /// is text, and its bytes) to `check`.
    fn verify(&mut self, check: Check<'_>) -> Totals;
}

/// A sending driver.
pub trait Sender: Driver {
    /// Where it writes (what the last pass wrote).
    fn sink(&self) -> &Sink;
}

/// A message as delivered (text?, bytes), for the one-off content check.
pub type Check<'a> = &'a mut dyn FnMut(bool, &[u8]);

/// A current-thread tokio runtime (made once per driver, outside timing).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

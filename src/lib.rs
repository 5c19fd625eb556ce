#![doc = include_str!("../README.md")]
//!
//! # Driving a connection
//!
//! The engine never blocks, reads a clock or touches a socket. One loop drives
//! it, in this order:
//!
//! 1. **Read** socket bytes into [`Connection::read_buf`] and
//!    [`Connection::commit`] the count (or pass them to
//!    [`Connection::receive`]). When a read returns 0, call
//!    [`Connection::receive_eof`].
//! 2. **Drain events**: call [`Inbound::next_event`] (from
//!    [`Connection::split`]) or [`Connection::next_event`] until it returns
//!    `Ok(None)` or an error. Each event borrows the receive buffer until the
//!    next call. Handle every data event: messages above
//!    `Config::chunk_threshold` arrive as [`Event::TextChunk`] /
//!    [`Event::BinaryChunk`].
//! 3. **Act** while the event is in hand, on the [`Outbound`] half: answer a
//!    [`Event::HandshakeRequest`] with [`Outbound::accept`] or
//!    [`Outbound::reject`]; send messages, pings and close with the `send_*`
//!    and `close` methods.
//! 4. **Write** [`Connection::transmit`] to the socket and
//!    [`Connection::advance`] by the count the socket accepted (writes may be
//!    partial), or call [`Connection::write_to`] for a blocking `Write`.
//!    Replies the engine owes (Pong, Close echo, an error's Close or HTTP
//!    response) are already in it. **Write it on every path, including after
//!    an error from step 2**: the error's reply is what the peer needs to see.
//!    Large payloads can skip the copy into the transmit buffer:
//!    [`Connection::send_binary_vectored`] returns a [`VectoredSend`] whose
//!    parts go to one vectored write.
//! 5. **Close TCP** when [`Connection::close_expected`] is true and
//!    `transmit` is empty, or after a fatal error once its reply is written.
//!
//! The README's echo loop is this contract in thirty lines.
//! "Need more bytes" is `Ok(None)`, never an error. Input never panics.
//!
//! # Errors and what to do next
//!
//! - [`Error::Protocol`]: the peer broke RFC 6455. The Close frame with the
//!   right code (1002, 1007, 1009) is queued: write `transmit`, close TCP.
//! - [`Error::Handshake`]: the opening handshake failed. A server has the HTTP
//!   error (400, 405, 426, 431) queued: write it, close TCP. A client closes TCP.
//! - [`UsageError`]: the call was wrong for the state; nothing changed. The
//!   `send_*`, `accept` and `reject` calls can fail only this way, so their
//!   type says so.
//! - [`Error::Random`]: no client was made (the OS random source failed).
//! - [`Error::PongTimeout`]: the keep-alive Ping went unanswered; a Close
//!   1011 is queued: write `transmit`, close TCP.
//!
//! Protocol and handshake errors are sticky. Events decoded before an error
//! were delivered before it.
//!
//! # What the caller owns
//!
//! - **The clock.** The engine reads none: time is an input. Call
//!   [`Connection::handle_timeout`] with [`Time`] once at the start and
//!   whenever [`Connection::poll_timeout`]'s time comes (a time already
//!   past means at once: a deadline is about to start); the engine then
//!   runs the timers `Config` sets (handshake 10 s, keep-alive Ping after
//!   20 s of silence, Pong within 20 s, the peer's Close within 10 s):
//!   it queues the Ping, fails the connection (`HandshakeError::Timeout`,
//!   [`Error::PongTimeout`] with a Close 1011), or ends it as abnormal
//!   (`Event::Close` with 1006). A caller that never calls
//!   `handle_timeout` runs no timer and must watch the connection itself.
//! - **Closing TCP.** See [`Connection::close_expected`]: a server closes
//!   first (RFC 6455 §7.1.1); a client waits for the server, with a timeout.
//! - **Partial writes.** `advance` by what was written; the rest stays queued.
//! - **Randomness.** A client needs a [`MaskSource`]; with `std` the default is
//!   a ChaCha12 generator seeded from the OS ([`ChaChaRandom`]). If the OS
//!   source fails, [`Connection::client`] fails with [`Error::Random`].
//!
//! # Features
//!
//! - `std` (default): [`Connection::client`], seeding [`ChaChaRandom`] from
//!   the OS through the `getrandom` crate. Without it the crate is `no_std` +
//!   `alloc`; use [`Connection::client_with_rng`] with
//!   [`ChaChaRandom::from_entropy`] over the target's entropy source.
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
// The library names `core` and `alloc` items explicitly so `no_std` builds
// stay honest; examples and tests use `std` freely.
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod accel;
mod assemble;
mod buffer;
mod close;
mod config;
mod connection;
#[cfg(any(feature = "blocking", feature = "tokio"))]
pub mod driver;
mod error;
mod event;
mod extension;
mod halves;
mod handshake;
mod inbound;
mod opened;
mod outbound;
mod prepared;
mod rng;
mod send;
mod state;
mod timers;
mod vectored;

// Internals for fuzz targets, benchmarks and tests: the frame codec, the
// UTF-8 validator, the buffer counters and the shared way to open a
// connection without a peer. Public (and hidden) only with the
// `fuzzing` feature; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod counters;
#[cfg(not(feature = "fuzzing"))]
mod counters;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod frame;
#[cfg(not(feature = "fuzzing"))]
#[allow(unreachable_pub, dead_code)]
mod frame;
#[cfg(any(feature = "fuzzing", test))]
#[doc(hidden)]
pub mod testing;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod utf8;
#[cfg(not(feature = "fuzzing"))]
#[allow(unreachable_pub, dead_code)]
mod utf8;

pub use assemble::MessageKind;
pub use close::{CloseCode, CloseFrame, MAX_REASON_LEN};
pub use config::Config;
pub use connection::{Connection, Role};
#[cfg(feature = "blocking")]
pub use driver::blocking;
#[cfg(feature = "tokio")]
pub use driver::tokio;
pub use error::{Error, HandshakeError, ProtocolError, UsageError};
pub use event::Event;
#[cfg(feature = "deflate")]
pub use extension::negotiate::{DeflateConfig, DeflateOffer, DeflateParams, WindowBitsOffer};
#[cfg(feature = "deflate")]
pub use extension::spare::clear_spare_deflate_state;
pub use halves::{Inbound, Outbound};
pub use handshake::driver::HandshakeWork;
pub use handshake::{
    Accept, AcceptKey, ClientRequest, HttpRequest, HttpVersion, Reject, Request, Response,
    UpgradeAnswer, UpgradeOffer, UrlError, WsUrl, check_connect_response, connect_request_headers,
};
pub use opened::Negotiated;
pub use prepared::PreparedMessage;
pub use rng::{ChaChaRandom, MaskSource, RandomUnavailable, SeededRandom};
pub use state::State;
pub use timers::Time;
pub use vectored::VectoredSend;

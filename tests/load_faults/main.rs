//! Load and faults for `hybi::tokio` over loopback TCP (127.0.0.1 only):
//! many concurrent echo connections with every message checked and the
//! resident memory per connection reported; slowloris handshakes closed at
//! the handshake timeout while normal clients are served; a reader that
//! never reads, held within the backpressure bound while others are
//! served; peers that vanish (a reset mid-message, a half-close, silent
//! death caught by keep-alive).
//!
//! The scale is `HYBI_LOAD_CONNECTIONS` (default 500, so `cargo test`
//! stays quick) and `HYBI_LOAD_MESSAGES` (messages per connection,
//! default 8); `scripts/load.sh` runs these in release mode with 10,000
//! connections and prints the figures (the lines with `load:`).
//!
//! Each test runs its server on a thread of its own (a current-thread
//! runtime) and its clients on the test's thread (another), so the two
//! sides use two cores; the tests take turns (one lock) so the figures one
//! prints are its own. Every loop is bounded in count and every await in
//! time; an environment that allows too few open files shrinks the scale
//! (with a message) rather than failing. Where one process cannot hold
//! both ends of every connection, the many-connections test runs its
//! server in a child process (this binary's ignored `load_server_child`).
//!
//! The shared pieces are in `shared.rs`, `messages.rs` and
//! `raw_clients.rs`; each scenario has a file of its own.
#![cfg(feature = "tokio")]

/// What every file here uses: the imports, and the items of the files
/// others use.
mod prelude {
    pub(crate) use crate::{many_connections::*, messages::*, raw_clients::*, shared::*};
    pub(crate) use hybi::driver::{Answer, DriverError};
    pub(crate) use hybi::tokio::{SendError, WebSocket};
    pub(crate) use hybi::{CloseCode, Config, Error, Event, HandshakeError, MessageKind};
    pub(crate) use std::fmt::Display;
    pub(crate) use std::future::Future;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    pub(crate) use std::time::{Duration, Instant};
    pub(crate) use tokio::io::{AsyncReadExt, AsyncWriteExt};
    pub(crate) use tokio::net::{TcpSocket, TcpStream};
    pub(crate) use tokio::sync::{Semaphore, watch};
    pub(crate) use tokio::task::JoinSet;
}

mod many_connections;
mod messages;
mod raw_clients;
mod shared;
mod silent_reader;
mod slowloris;
mod vanishing_peers;

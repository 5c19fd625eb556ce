//! What the receive side shares with the rest of the connection: the
//! connection's life and the send side, where replies (Pong, Close echo, the
//! Close for a protocol error, an HTTP error) are queued the moment they are
//! owed; only a Pong held back under output backlog waits in [`Owed`].

use core::cell::{Cell, RefCell};

use crate::close::CloseCode;
use crate::frame::{MAX_CONTROL_PAYLOAD, Opcode};
use crate::outbound::TxCore;
use crate::state::{Input, Life};

/// A Pong held back while too much output is waiting (RFC 6455 §5.5.3 lets
/// an endpoint answer only the most recent Ping); written once output drains.
#[derive(Debug)]
pub(crate) struct Owed {
    /// Payload of the latest unanswered Ping.
    pub(crate) pong: [u8; MAX_CONTROL_PAYLOAD],
    /// Length of `pong`, if a Pong is owed.
    pub(crate) pong_len: Option<u8>,
}

impl Owed {
    pub(crate) const fn new() -> Self {
        Self {
            pong: [0; MAX_CONTROL_PAYLOAD],
            pong_len: None,
        }
    }
}

/// Output above which a Pong waits instead of being queued at once.
pub(crate) const PONG_BACKLOG: usize = 16 << 10;

/// What the receive side shares with the rest of the connection: the state
/// and the send side, where replies (Pong, Close echo, the Close for a
/// protocol error, an HTTP error) are queued the moment they are owed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link<'a> {
    pub(crate) life: &'a Cell<Life>,
    pub(crate) tx: &'a RefCell<TxCore>,
}

impl Link<'_> {
    pub(crate) fn set(self, input: Input) {
        self.life.set(self.life.get().on(input));
    }

    /// Queues a Close (empty for `None`) unless ours was already sent.
    pub(crate) fn close(self, code: Option<CloseCode>) {
        if !self.life.get().close_sent {
            self.tx.borrow_mut().write_close(self.life, code, "");
        }
    }

    /// Answers a Ping, or holds the Pong back under output backlog. Also
    /// after our own Close: RFC 6455 §5.5.2 exempts only an endpoint that
    /// already received a Close, and §5.5.1 forbids only data frames.
    pub(crate) fn pong(self, owed: &mut Owed, payload: &[u8]) {
        let mut tx = self.tx.borrow_mut();
        if tx.buf.pending().len() >= PONG_BACKLOG {
            owed.pong[..payload.len()].copy_from_slice(payload);
            owed.pong_len = Some(payload.len() as u8);
        } else {
            owed.pong_len = None;
            tx.frame(true, Opcode::Pong, &[payload]);
        }
    }
}

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
    /// Length of `pong` plus one, if a Pong is owed (one byte, not two:
    /// the connection struct's budget).
    pong_len: Option<core::num::NonZeroU8>,
}

impl Owed {
    pub(crate) const fn new() -> Self {
        Self {
            pong: [0; MAX_CONTROL_PAYLOAD],
            pong_len: None,
        }
    }

    /// Whether a Pong is owed.
    #[inline(always)]
    pub(crate) fn pong_owed(&self) -> bool {
        self.pong_len.is_some()
    }

    /// The length of the owed Pong's payload, if one is owed.
    pub(crate) fn pong_len(&self) -> Option<usize> {
        self.pong_len.map(|n| usize::from(n.get() - 1))
    }

    /// Owes a Pong of `len` bytes (at most 125, already in `pong`), or
    /// nothing (`None`).
    pub(crate) fn set_pong_len(&mut self, len: Option<usize>) {
        // A control payload is at most 125 bytes, so `len + 1` fits.
        self.pong_len = len
            .and_then(|n| u8::try_from(n + 1).ok())
            .and_then(core::num::NonZeroU8::new);
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
            owed.set_pong_len(Some(payload.len()));
        } else {
            owed.set_pong_len(None);
            tx.frame(true, Opcode::Pong, &[payload]);
        }
    }
}

//! The other tasks' side of a tokio [`WebSocket`](super::WebSocket):
//! [`Sender`] handles queue owned messages (and prepared ones) under a byte
//! budget, which the owner moves into the engine while it polls.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use ::tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};

use crate::CloseCode;

/// What a [`Sender`] queued for the owner to send.
#[derive(Debug)]
pub(super) enum Command {
    Text(String),
    Prepared(Arc<crate::PreparedMessage>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Close(CloseCode, String),
}

/// The queue [`Sender`]s feed and its budget.
#[derive(Debug)]
pub(super) struct Senders {
    pub(super) commands: mpsc::UnboundedReceiver<(Command, OwnedSemaphorePermit)>,
    pub(super) tx: mpsc::UnboundedSender<(Command, OwnedSemaphorePermit)>,
    pub(super) budget: Arc<Semaphore>,
    /// Set by the first [`Sender::close`]: one Close is queued, whatever
    /// the number of calls.
    pub(super) close_asked: Arc<AtomicBool>,
}

/// A cloneable handle that queues messages for a [`WebSocket`](super::WebSocket) from other
/// tasks. Its messages go out, in order, while the owner polls the
/// `WebSocket`; together they may hold at most the connection's
/// `max_queued` bytes, so a slow peer makes [`send_text`](Self::send_text)
/// wait and [`try_send_text`](Self::try_send_text) fail.
#[derive(Clone, Debug)]
pub struct Sender {
    pub(super) tx: mpsc::UnboundedSender<(Command, OwnedSemaphorePermit)>,
    pub(super) budget: Arc<Semaphore>,
    pub(super) max: usize,
    pub(super) close_asked: Arc<AtomicBool>,
}

/// Why a [`Sender`] could not queue a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The queue holds its budget of bytes (the peer reads too slowly).
    Full,
    /// The connection is gone.
    Closed,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Full => "the connection's send queue is full",
            Self::Closed => "the connection is closed",
        })
    }
}

impl core::error::Error for SendError {}

impl Sender {
    fn cost(&self, len: usize) -> u32 {
        // A message larger than the whole budget takes all of it.
        u32::try_from(len.clamp(1, self.max)).unwrap_or(u32::MAX)
    }

    async fn queue(&self, command: Command, len: usize) -> Result<(), SendError> {
        let permit = Arc::clone(&self.budget)
            .acquire_many_owned(self.cost(len))
            .await
            .map_err(|_| SendError::Closed)?;
        self.tx
            .send((command, permit))
            .map_err(|_| SendError::Closed)
    }

    fn try_queue(&self, command: Command, len: usize) -> Result<(), SendError> {
        let permit = Arc::clone(&self.budget)
            .try_acquire_many_owned(self.cost(len))
            .map_err(|e| match e {
                TryAcquireError::NoPermits => SendError::Full,
                TryAcquireError::Closed => SendError::Closed,
            })?;
        self.tx
            .send((command, permit))
            .map_err(|_| SendError::Closed)
    }

    /// Queues a text message, waiting while the queue is full.
    ///
    /// # Errors
    /// [`SendError::Closed`] once the `WebSocket` is dropped.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), SendError> {
        let text = text.into();
        let len = text.len();
        self.queue(Command::Text(text), len).await
    }

    /// Queues a binary message, waiting while the queue is full.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_binary(&self, data: impl Into<Vec<u8>>) -> Result<(), SendError> {
        let data = data.into();
        let len = data.len();
        self.queue(Command::Binary(data), len).await
    }

    /// Queues a text message now, or fails if the queue is full (for a
    /// broadcaster that must not wait for one slow peer).
    ///
    /// # Errors
    /// [`SendError::Full`], [`SendError::Closed`].
    pub fn try_send_text(&self, text: impl Into<String>) -> Result<(), SendError> {
        let text = text.into();
        let len = text.len();
        self.try_queue(Command::Text(text), len)
    }

    /// Queues a binary message now, or fails if the queue is full.
    ///
    /// # Errors
    /// As [`try_send_text`](Self::try_send_text).
    pub fn try_send_binary(&self, data: impl Into<Vec<u8>>) -> Result<(), SendError> {
        let data = data.into();
        let len = data.len();
        self.try_queue(Command::Binary(data), len)
    }

    /// Queues a [`PreparedMessage`](crate::PreparedMessage) (a broadcast:
    /// the same `Arc` for every recipient, no copy per recipient until the
    /// owner queues its frame), or fails if the queue is full.
    ///
    /// # Errors
    /// As [`try_send_text`](Self::try_send_text).
    pub fn try_send_prepared(&self, message: Arc<crate::PreparedMessage>) -> Result<(), SendError> {
        let len = message.payload().len();
        self.try_queue(Command::Prepared(message), len)
    }

    /// Queues a [`PreparedMessage`](crate::PreparedMessage), waiting while
    /// the queue is full.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_prepared(
        &self,
        message: Arc<crate::PreparedMessage>,
    ) -> Result<(), SendError> {
        let len = message.payload().len();
        self.queue(Command::Prepared(message), len).await
    }

    /// Queues a Ping (at most 125 bytes; a longer one is dropped by the
    /// owner with the engine's usage error).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_ping(&self, data: impl Into<Vec<u8>>) -> Result<(), SendError> {
        let data = data.into();
        let len = data.len();
        self.queue(Command::Ping(data), len).await
    }

    /// Asks the owner to start the closing handshake with `code` and
    /// `reason` (it never waits for the queue: a close goes ahead of
    /// nothing already queued, and after everything that is). Only the
    /// first call, from any of the connection's `Sender`s, queues a Close:
    /// later ones return `Ok` and queue nothing, so calling it in a loop
    /// cannot grow the queue.
    ///
    /// # Errors
    /// [`SendError::Closed`].
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if self.tx.is_closed() {
            return Err(SendError::Closed);
        }
        if self.close_asked.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let permit = Arc::clone(&self.budget)
            .try_acquire_many_owned(0)
            .map_err(|_| SendError::Closed)?;
        self.tx
            .send((Command::Close(code, reason.into()), permit))
            .map_err(|_| SendError::Closed)
    }
}

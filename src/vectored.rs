//! Sends whose payload is not copied into the transmit buffer.
//!
//! [`Connection::send_binary_vectored`], [`Connection::send_text_vectored`]
//! and [`Connection::send_binary_in_place`] encode a frame's header and hand
//! back a [`VectoredSend`]: three pieces to write to the socket in order (the
//! bytes already queued, the header, the caller's payload), for one vectored
//! write. [`VectoredSend::finish`] takes the count the socket accepted; what
//! it did not take is copied into the transmit buffer then, so a partial
//! write loses nothing, and while the send is in hand nothing else can be
//! queued (it borrows the connection), so ordering with queued Pongs and
//! Close frames and the close rules hold as for [`Connection::send_binary`].
//!
//! A client must mask its payload (RFC 6455 §5.3). Given a `&[u8]` it cannot
//! mask it where it lies, so the vectored calls fall back to queueing a
//! masked copy (one fused pass); [`Connection::send_binary_in_place`] takes
//! `&mut [u8]` and masks it in place, so a client send is one pass too.

use crate::connection::Connection;
use crate::error::UsageError;
use crate::frame::encode::encode_header;
use crate::frame::mask::apply_mask;
use crate::frame::{MAX_HEADER_LEN, Opcode};

/// A frame queued by one of the vectored sends, waiting to be written.
///
/// Write [`parts`](Self::parts) in order (e.g. with `write_vectored`), then
/// call [`finish`](Self::finish) with the number of bytes the socket took.
/// Dropping it unfinished is `finish(0)`: the header and payload are copied
/// into the transmit buffer and go out with the next `transmit`.
///
/// ```
/// # use hybi::Connection;
/// # fn demo(conn: &mut Connection, socket: &mut impl std::io::Write) -> std::io::Result<()> {
/// use std::io::IoSlice;
/// let big = vec![7u8; 1 << 20];
/// let mut send = conn.send_binary_vectored(&big).expect("open");
/// let [queued, header, payload] = send.parts();
/// let n = socket.write_vectored(&[
///     IoSlice::new(queued),
///     IoSlice::new(header),
///     IoSlice::new(payload),
/// ])?;
/// send.finish(n); // the rest, if any, now waits in `transmit`
/// # Ok(()) }
/// ```
#[must_use = "write the parts, then call finish (dropping it queues a copy)"]
#[derive(Debug)]
pub struct VectoredSend<'c, 'p> {
    conn: &'c mut Connection,
    head: [u8; MAX_HEADER_LEN],
    head_len: usize,
    payload: &'p [u8],
    finished: bool,
}

impl<'c, 'p> VectoredSend<'c, 'p> {
    /// A send of one whole frame: the header for `payload` (already masked
    /// with `mask` if it is `Some`).
    fn new(
        conn: &'c mut Connection,
        opcode: Opcode,
        mask: Option<[u8; 4]>,
        payload: &'p [u8],
    ) -> Self {
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = encode_header(&mut head, true, opcode, mask, payload.len() as u64);
        Self {
            conn,
            head,
            head_len,
            payload,
            finished: false,
        }
    }

    /// No header or payload of its own: the frame is already queued.
    fn queued_only(conn: &'c mut Connection) -> Self {
        Self {
            conn,
            head: [0; MAX_HEADER_LEN],
            head_len: 0,
            payload: &[],
            finished: false,
        }
    }

    /// The bytes to write, in order: what was already queued (owed replies
    /// included), the frame header, the payload. Either of the last two may
    /// be empty (a client's borrowed payload was queued as a masked copy).
    pub fn parts(&mut self) -> [&[u8]; 3] {
        let queued = self.conn.tx.get_mut().buf.pending();
        [queued, &self.head[..self.head_len], self.payload]
    }

    /// Total length of [`parts`](Self::parts).
    #[must_use]
    pub fn len(&self) -> usize {
        self.conn.tx.borrow().buf.pending().len() + self.head_len + self.payload.len()
    }

    /// Whether there is nothing to write.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records that the socket took `written` bytes of the parts (clamped
    /// to their length). Whatever it did not take stays queued, in order:
    /// the rest of the queued bytes, then a copy of the rest of the header
    /// and payload.
    ///
    /// Call next: if `transmit` is not empty, write it when the socket is
    /// writable again, as after any partial write.
    pub fn finish(mut self, written: usize) {
        self.settle(written);
    }

    fn settle(&mut self, written: usize) {
        if self.finished {
            return;
        }
        self.finished = true;
        let tx = self.conn.tx.get_mut();
        let queued = tx.buf.pending().len();
        let from_queue = written.min(queued);
        let high_water = tx.high_water();
        let rest = written - from_queue;
        let head = &self.head[rest.min(self.head_len)..self.head_len];
        let payload = &self.payload[rest.saturating_sub(self.head_len).min(self.payload.len())..];
        if from_queue < queued || !head.is_empty() || !payload.is_empty() {
            // Keep the buffer (and what is left in it) when more follows.
            tx.buf.advance_keeping(from_queue);
            tx.append_raw(&[head, payload]);
        } else {
            tx.buf.advance(from_queue, high_water);
        }
    }
}

impl Drop for VectoredSend<'_, '_> {
    fn drop(&mut self) {
        self.settle(0);
    }
}

impl Connection {
    /// Queues the header of a binary message whose payload the caller
    /// writes from its own buffer, uncopied (a server's frames are not
    /// masked). On a client the payload must be masked, so it is queued as a
    /// masked copy instead; use [`send_binary_in_place`](Self::send_binary_in_place)
    /// to avoid the copy there.
    ///
    /// # Errors
    /// As for [`send_binary`](Self::send_binary); nothing is queued.
    ///
    /// Call next: write [`VectoredSend::parts`], then [`VectoredSend::finish`].
    pub fn send_binary_vectored<'p>(
        &mut self,
        payload: &'p [u8],
    ) -> Result<VectoredSend<'_, 'p>, UsageError> {
        self.vectored(Opcode::Binary, payload)
    }

    /// [`send_binary_vectored`](Self::send_binary_vectored) for a text message.
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text); nothing is queued.
    pub fn send_text_vectored<'p>(
        &mut self,
        text: &'p str,
    ) -> Result<VectoredSend<'_, 'p>, UsageError> {
        self.vectored(Opcode::Text, text.as_bytes())
    }

    /// Queues the header of a binary message whose payload the caller
    /// writes from `payload`, masking it in place on a client (so `payload`
    /// holds the masked bytes afterwards and the send is one pass) and
    /// leaving it as it is on a server.
    ///
    /// # Errors
    /// As for [`send_binary`](Self::send_binary); nothing is queued and
    /// `payload` is unchanged.
    ///
    /// Call next: write [`VectoredSend::parts`], then [`VectoredSend::finish`].
    pub fn send_binary_in_place<'p>(
        &mut self,
        payload: &'p mut [u8],
    ) -> Result<VectoredSend<'_, 'p>, UsageError> {
        self.flush_owed();
        let tx = self.tx.get_mut();
        tx.check_message(&self.life)?;
        let mask = tx.mask();
        if let Some(key) = mask {
            apply_mask(payload, key, 0);
        }
        Ok(VectoredSend::new(self, Opcode::Binary, mask, payload))
    }

    fn vectored<'p>(
        &mut self,
        opcode: Opcode,
        payload: &'p [u8],
    ) -> Result<VectoredSend<'_, 'p>, UsageError> {
        self.flush_owed();
        let tx = self.tx.get_mut();
        tx.check_message(&self.life)?;
        if tx.masks() {
            // Masking needs a copy: queue the frame whole, nothing borrowed.
            tx.frame(true, opcode, &[payload]);
            return Ok(VectoredSend::queued_only(self));
        }
        Ok(VectoredSend::new(self, opcode, None, payload))
    }
}

//! [`SendBuf`]: encoded frames waiting for the caller to write them, and
//! [`SharedFrame`], a frame several connections queue by reference.

use alloc::sync::Arc;
use alloc::vec::Vec;

/// Encoded bytes waiting to be written to the socket.
///
/// The storage stays initialised past the pending bytes (zeroed once per
/// growth), so a frame is encoded straight into it (the payload masked while it is
/// copied, one pass) without zeroing the room first.
///
/// A shared frame ([`share`](Self::share)) is pending by reference, and only
/// alone: while it is held `data` holds nothing pending and `sent` counts
/// the shared frame's bytes already written. Anything queued behind it
/// first copies its unwritten rest into `data` ([`room`](Self::room),
/// [`append`](Self::append)), so the pending bytes are always one slice in
/// the order they were queued.
#[derive(Debug, Default)]
pub(crate) struct SendBuf {
    /// Initialised storage; `data[sent..end]` is pending.
    data: Vec<u8>,
    /// Bytes already written by the caller (of the shared frame while one
    /// is held).
    sent: usize,
    /// End of the encoded bytes.
    end: usize,
    /// A frame shared with other connections, pending alone.
    shared: Option<SharedFrame>,
}

/// A frame several connections queue by reference. `Arc<Vec<u8>>` rather
/// than `Arc<[u8]>`: a thin pointer, so holding one costs every connection
/// 8 bytes, not 16.
pub(crate) type SharedFrame = Arc<Vec<u8>>;

impl SendBuf {
    pub(crate) fn pending(&self) -> &[u8] {
        match &self.shared {
            Some(frame) => &frame[self.sent..],
            None => &self.data[self.sent..self.end],
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.shared.is_none() && self.sent == self.end
    }

    /// Queues a frame shared with other connections: by reference when
    /// nothing else is pending (no copy), else copied behind what is.
    pub(crate) fn share(&mut self, frame: &SharedFrame, high_water: usize) {
        if self.is_empty() && !frame.is_empty() {
            self.sent = 0;
            self.end = 0;
            self.shared = Some(Arc::clone(frame));
        } else {
            self.push(frame, high_water);
        }
    }

    /// Copies `bytes` behind what is pending.
    fn push(&mut self, bytes: &[u8], high_water: usize) {
        self.room(bytes.len(), high_water).copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// Copies the rest of a held shared frame into `data`, so more can be
    /// queued behind it.
    #[cold]
    #[inline(never)]
    fn unshare(&mut self, high_water: usize) {
        if let Some(frame) = self.shared.take() {
            let sent = core::mem::take(&mut self.sent);
            self.end = 0;
            self.push(&frame[sent..], high_water);
        }
    }

    /// Heap bytes held.
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// `n` bytes of room after the pending bytes, to be filled and then
    /// marked with [`filled`](Self::filled). Growth doubles, but not past
    /// `high_water` unless the bytes themselves need more, so a buffer that
    /// stays at or below the mark is never released by `advance` and steady
    /// traffic does not allocate.
    #[inline]
    pub(crate) fn room(&mut self, n: usize, high_water: usize) -> &mut [u8] {
        if self.shared.is_some() {
            self.unshare(high_water);
        }
        let needed = self.end + n;
        if self.data.len() < needed {
            if self.data.capacity() < needed {
                let target = needed.max(self.data.capacity().saturating_mul(2).min(high_water));
                self.data.reserve_exact(target - self.data.len());
            }
            // Zeroed once per growth; afterwards the room is reused as is.
            self.data.resize(self.data.capacity(), 0);
        }
        &mut self.data[self.end..needed]
    }

    /// Marks `n` bytes of the room as encoded.
    #[inline]
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }

    /// Appends through a writer that extends a `Vec` (the handshake heads).
    pub(crate) fn append(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.shared.is_some() {
            self.unshare(0);
        }
        self.data.truncate(self.end);
        write(&mut self.data);
        self.end = self.data.len();
    }

    /// Marks `n` bytes as written without clearing or releasing the buffer
    /// (more is about to be appended).
    pub(crate) fn advance_keeping(&mut self, n: usize) {
        if let Some(frame) = &self.shared {
            self.sent = (self.sent + n).min(frame.len());
            if self.sent == frame.len() {
                self.shared = None;
                self.sent = 0;
            }
            return;
        }
        self.sent = (self.sent + n).min(self.end);
    }

    /// Marks `n` bytes as written; clears the buffer once all are, releasing
    /// an allocation above `high_water`.
    pub(crate) fn advance(&mut self, n: usize, high_water: usize) {
        if self.shared.is_some() {
            self.advance_keeping(n);
            return;
        }
        self.sent = (self.sent + n).min(self.end);
        if self.sent == self.end {
            self.sent = 0;
            self.end = 0;
            if self.data.capacity() > high_water {
                self.data = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_buffer_growth_stops_at_the_high_water_mark() {
        let mut tx = SendBuf::default();
        assert_eq!(tx.room(100, 1000).len(), 100);
        assert_eq!(tx.capacity(), 100);
        tx.filled(100);
        tx.room(500, 1000);
        assert_eq!(tx.capacity(), 600);
        tx.filled(500);
        tx.room(10, 1000);
        assert_eq!(tx.capacity(), 1000, "doubling capped at the mark");
        tx.advance(600, 1000);
        assert_eq!(tx.capacity(), 1000, "kept: not above the mark");
    }

    #[test]
    fn send_buffer_clears_when_written() {
        let mut tx = SendBuf::default();
        tx.append(|v| v.extend_from_slice(b"hello"));
        tx.advance(2, 1 << 20);
        assert_eq!(tx.pending(), b"llo");
        tx.room(3, 1 << 20).copy_from_slice(b"abc");
        tx.filled(3);
        assert_eq!(tx.pending(), b"lloabc");
        tx.advance(10, 1 << 20);
        assert!(tx.is_empty());
        assert_eq!(tx.pending(), b"");
    }

    #[test]
    fn send_buffer_room_is_reused_without_growth() {
        let mut tx = SendBuf::default();
        tx.room(64, 1 << 20).fill(1);
        tx.filled(64);
        tx.advance(64, 1 << 20);
        let cap = tx.capacity();
        for _ in 0..10 {
            tx.room(64, 1 << 20).fill(2);
            tx.filled(64);
            assert_eq!(tx.pending(), &[2u8; 64][..]);
            tx.advance(64, 1 << 20);
        }
        assert_eq!(tx.capacity(), cap);
    }

    #[test]
    fn a_shared_frame_alone_is_pending_by_reference() {
        let frame: SharedFrame = Arc::new(b"\x81\x05hello".to_vec());
        let mut tx = SendBuf::default();
        tx.share(&frame, 1 << 20);
        assert_eq!(Arc::strong_count(&frame), 2);
        assert_eq!(tx.capacity(), 0, "nothing copied");
        assert_eq!(tx.pending().as_ptr(), frame.as_ptr());
        tx.advance(3, 1 << 20);
        assert_eq!(tx.pending(), b"ello");
        assert!(!tx.is_empty());
        tx.advance(4, 1 << 20);
        assert!(tx.is_empty());
        assert_eq!(Arc::strong_count(&frame), 1, "released once written");
    }

    #[test]
    fn what_follows_a_shared_frame_copies_its_rest_first() {
        let frame: SharedFrame = Arc::new(b"\x81\x05hello".to_vec());
        let mut tx = SendBuf::default();
        tx.share(&frame, 1 << 20);
        tx.advance_keeping(2);
        tx.room(2, 1 << 20).copy_from_slice(b"\x8a\x00");
        tx.filled(2);
        assert_eq!(Arc::strong_count(&frame), 1);
        assert_eq!(tx.pending(), b"hello\x8a\x00");
        // Behind queued bytes a shared frame is copied, in order.
        tx.share(&frame, 1 << 20);
        assert_eq!(Arc::strong_count(&frame), 1);
        assert_eq!(tx.pending(), b"hello\x8a\x00\x81\x05hello");
        // Two shared frames in a row: the second copies the first's rest.
        let mut tx = SendBuf::default();
        tx.share(&frame, 1 << 20);
        tx.share(&frame, 1 << 20);
        assert_eq!(tx.pending(), b"\x81\x05hello\x81\x05hello");
        tx.append(|out| out.extend_from_slice(b"!"));
        assert_eq!(tx.pending(), b"\x81\x05hello\x81\x05hello!");
        let mut tx = SendBuf::default();
        tx.share(&frame, 1 << 20);
        tx.advance_keeping(1);
        tx.append(|out| out.extend_from_slice(b"!"));
        assert_eq!(tx.pending(), b"\x05hello!");
    }
}

//! The receive and transmit buffers.
//!
//! [`RecvBuf`] holds bytes from the socket. Live bytes are `data[start..end]`;
//! `data[end..]` is spare room the caller may read into (`read_buf`, then
//! `commit`). Room is made by moving live bytes to the front (compaction)
//! before growing, and the allocation is released when the buffer is empty
//! and larger than the high-water mark, so memory follows what a message
//! needs. [`SendBuf`] holds encoded frames until the caller has written them
//! (`transmit`, then `advance` by what the socket accepted).

use alloc::vec::Vec;

/// Received bytes and spare room to read into.
#[derive(Debug, Default)]
pub(crate) struct RecvBuf {
    /// Initialised storage; its whole length is usable.
    pub(crate) data: Vec<u8>,
    /// First byte still needed.
    pub(crate) start: usize,
    /// End of received bytes.
    pub(crate) end: usize,
}

impl RecvBuf {
    /// Makes at least `room` bytes of spare room after `end`, moving live bytes
    /// to the front first. Returns the distance they moved (to be subtracted
    /// from every index into the buffer).
    ///
    /// Growth doubles (so a message arriving in many reads is not copied over
    /// and over) but never past `limit` unless `end + room` itself is larger.
    pub(crate) fn reserve(&mut self, room: usize, limit: usize) -> usize {
        if self.data.len() - self.end >= room {
            return 0;
        }
        let shift = self.start;
        if shift > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= shift;
            self.start = 0;
        }
        if self.data.len() - self.end < room {
            let needed = self.end + room;
            let target = needed.max(self.data.len().saturating_mul(2).min(limit));
            self.data.reserve_exact(target - self.data.len());
            self.data.resize(target, 0);
        }
        shift
    }

    /// When nothing is live, rewinds to the front and releases an allocation
    /// above `high_water`. Returns the distance indices moved.
    pub(crate) fn rewind_if_empty(&mut self, high_water: usize) -> usize {
        if self.start != self.end {
            return 0;
        }
        let shift = self.start;
        self.start = 0;
        self.end = 0;
        if self.data.len() > high_water {
            self.data = Vec::new();
        }
        shift
    }

    /// Heap bytes held.
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }
}

/// Encoded bytes waiting to be written to the socket.
#[derive(Debug, Default)]
pub(crate) struct SendBuf {
    pub(crate) data: Vec<u8>,
    /// Bytes already written by the caller.
    pub(crate) sent: usize,
}

impl SendBuf {
    pub(crate) fn pending(&self) -> &[u8] {
        &self.data[self.sent..]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sent == self.data.len()
    }

    /// Makes room for `additional` more bytes. Growth doubles, but not past
    /// `high_water` unless the bytes themselves need more, so a buffer that
    /// stays at or below the mark is never released by `advance` and steady
    /// traffic does not allocate.
    pub(crate) fn reserve(&mut self, additional: usize, high_water: usize) {
        let len = self.data.len();
        if self.data.capacity() - len >= additional {
            return;
        }
        let needed = len + additional;
        let target = needed.max(self.data.capacity().saturating_mul(2).min(high_water));
        self.data.reserve_exact(target - len);
    }

    /// Marks `n` bytes as written; clears the buffer once all are.
    pub(crate) fn advance(&mut self, n: usize, high_water: usize) {
        self.sent = (self.sent + n).min(self.data.len());
        if self.sent == self.data.len() {
            self.sent = 0;
            self.data.clear();
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
    fn reserve_compacts_before_growing() {
        let mut buf = RecvBuf::default();
        assert_eq!(buf.reserve(16, 64), 0);
        assert!(buf.data.len() >= 16);
        let len = buf.data.len();
        buf.data[..len].fill(7);
        buf.end = len;
        buf.start = len - 2;
        assert_eq!(buf.reserve(len - 2, 64), len - 2);
        assert_eq!((buf.start, buf.end), (0, 2));
        assert_eq!(buf.data.len(), len, "compaction alone made room");
    }

    #[test]
    fn growth_doubles_up_to_the_limit() {
        let mut buf = RecvBuf::default();
        buf.reserve(100, 1000);
        assert_eq!(buf.data.len(), 100);
        buf.end = 100;
        buf.reserve(10, 1000);
        assert_eq!(buf.data.len(), 200, "doubled");
        buf.end = 200;
        buf.reserve(10, 300);
        assert_eq!(buf.data.len(), 300, "capped by the limit");
        buf.end = 300;
        buf.reserve(50, 300);
        assert_eq!(buf.data.len(), 350, "a larger need wins over the limit");
    }

    #[test]
    fn empty_buffer_is_released_above_high_water() {
        let mut buf = RecvBuf::default();
        buf.reserve(1000, 1000);
        buf.start = 10;
        buf.end = 10;
        assert_eq!(buf.rewind_if_empty(100), 10);
        assert_eq!(buf.capacity(), 0);
    }

    #[test]
    fn send_buffer_growth_stops_at_the_high_water_mark() {
        let mut tx = SendBuf::default();
        tx.reserve(100, 1000);
        assert_eq!(tx.data.capacity(), 100);
        tx.data.resize(100, 0);
        tx.reserve(500, 1000);
        assert_eq!(tx.data.capacity(), 600);
        tx.data.resize(600, 0);
        tx.reserve(10, 1000);
        assert_eq!(tx.data.capacity(), 1000, "doubling capped at the mark");
        tx.advance(600, 1000);
        assert_eq!(tx.data.capacity(), 1000, "kept: not above the mark");
    }

    #[test]
    fn send_buffer_clears_when_written() {
        let mut tx = SendBuf::default();
        tx.data.extend_from_slice(b"hello");
        tx.advance(2, 1 << 20);
        assert_eq!(tx.pending(), b"llo");
        tx.advance(10, 1 << 20);
        assert!(tx.is_empty());
        assert_eq!(tx.pending(), b"");
    }
}

//! The receive and transmit buffers.
//!
//! [`RecvBuf`] holds bytes from the socket. Live bytes are `data[start..end]`;
//! `data[end..]` is spare room the caller may read into (`read_buf`, then
//! `commit`). Room is made by moving live bytes to the front (compaction)
//! before growing, and the allocation is released when the buffer is empty
//! and larger than the high-water mark, so memory follows what a message
//! needs. [`SendBuf`] holds encoded frames until the caller has written them
//! (`transmit`, then `advance` by what the socket accepted); a frame shared
//! by many connections (a prepared broadcast) is held by reference while
//! nothing else is queued, and copied in only when something follows it.

use alloc::sync::Arc;
use alloc::vec::Vec;

/// A buffer that must grow grows to hold at least this many reads of the
/// room asked for (within the limit), so compaction, which moves the part of
/// a message a read left behind, happens once every few reads, not every one.
const ROOMY_READS: usize = 4;

/// Live bytes are moved to the front only while they are at most this
/// fraction (1/n) of the buffer, unless the buffer is at its limit. A move
/// then carries at most a third of what was read since the last one, and a
/// stream of 16 KiB messages lives in a 64 KiB buffer: 1/16 kept moves to
/// a thirtieth but made that buffer 256 KiB, fresh memory faulted in page
/// by page on every new connection (88 page faults per 8 MiB pass against
/// none, and a third slower).
const MOVE_FRACTION: usize = 4;

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
    /// Makes at least `room` bytes of spare room after `end`. Returns the
    /// distance live bytes moved to the front (to be subtracted from every
    /// index into the buffer).
    ///
    /// Live bytes are moved to the front when that makes the room and they
    /// are a small part of a buffer that holds several reads, or when
    /// growing would pass `limit`. Otherwise the
    /// buffer grows into a fresh allocation holding only the live bytes
    /// (never a copy of the dead bytes before them, as `realloc` would make),
    /// from the allocator's zeroed pages, so growth writes no zeros of its
    /// own over room a read is about to fill. Growth doubles (so a message
    /// arriving in many reads is not copied over and over) but never past
    /// `limit` unless `end + room` itself is larger. Callers that know how
    /// much is coming (a frame header announced its payload) ask for all of
    /// it at once, so the buffer grows once per message, before the payload.
    pub(crate) fn reserve(&mut self, room: usize, limit: usize) -> usize {
        if self.data.len() - self.end >= room {
            return 0;
        }
        let live = self.end - self.start;
        let shift = self.start;
        // Moving live bytes to the front pays when it moves a small part of
        // a buffer that then holds several reads: in a buffer barely larger
        // than one read or one message, every read would move the part of a
        // message it left behind. Until then the buffer grows (doubling,
        // within `limit`); at the limit, moving is the only way.
        let len = self.data.len();
        let small_move =
            live.saturating_mul(MOVE_FRACTION) <= len && len >= room.saturating_mul(ROOMY_READS);
        let at_limit = len.saturating_mul(2) > limit || self.end.saturating_add(room) > limit;
        let fits_after_move = len - live >= room;
        if self.start > 0 && fits_after_move && (small_move || at_limit) {
            crate::counters::moved(live);
            self.data.copy_within(self.start..self.end, 0);
            self.end -= shift;
            self.start = 0;
            return shift;
        }
        let needed = live.saturating_add(room);
        let target = needed
            .max(self.data.len().saturating_mul(2).min(limit))
            .max(room.saturating_mul(ROOMY_READS).min(limit));
        // Counted as the most the allocator may clear; fresh pages need none.
        crate::counters::zero_filled(target);
        let mut grown = alloc::vec![0u8; target];
        crate::counters::moved(live);
        grown[..live].copy_from_slice(&self.data[self.start..self.end]);
        self.data = grown;
        self.start = 0;
        self.end = live;
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
///
/// Like [`RecvBuf`], the storage stays initialised past the pending bytes,
/// so a frame is encoded straight into it (the payload masked while it is
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

    /// Fills `buf.data` with a pattern: byte `i` is `i as u8`.
    fn pattern(buf: &mut RecvBuf) {
        for (i, b) in buf.data.iter_mut().enumerate() {
            *b = i as u8;
        }
    }

    fn holds(buf: &RecvBuf, from: usize, len: usize) -> bool {
        buf.data[..len]
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i + from) as u8)
    }

    #[test]
    fn a_large_live_region_grows_into_a_fresh_buffer_holding_only_it() {
        let mut buf = RecvBuf::default();
        buf.reserve(4000, 100_000);
        assert_eq!(buf.data.len(), 16_000, "room for four reads");
        buf.data.truncate(4000);
        pattern(&mut buf);
        buf.start = 10;
        buf.end = 4000;
        // 3990 live bytes are most of the buffer: grow (doubling), carrying
        // only the live bytes, not the 10 dead ones.
        assert_eq!(buf.reserve(100, 100_000), 10);
        assert_eq!((buf.start, buf.end), (0, 3990));
        assert_eq!(buf.data.len(), 8000);
        assert!(holds(&buf, 10, 3990));
    }

    #[test]
    fn a_small_live_region_moves_to_the_front() {
        let mut buf = RecvBuf::default();
        buf.reserve(8000, 100_000);
        buf.data.truncate(8000);
        pattern(&mut buf);
        buf.start = 7900;
        buf.end = 8000;
        // 100 live bytes in a buffer that holds four reads of 1000: move.
        assert_eq!(buf.reserve(1000, 100_000), 7900);
        assert_eq!((buf.start, buf.end, buf.data.len()), (0, 100, 8000));
        assert!(holds(&buf, 7900, 100));
    }

    #[test]
    fn at_the_limit_live_bytes_move_whatever_their_size() {
        let mut buf = RecvBuf::default();
        buf.reserve(8000, 8000);
        pattern(&mut buf);
        buf.start = 100;
        buf.end = 8000;
        assert_eq!(buf.reserve(50, 8000), 100);
        assert_eq!((buf.start, buf.end, buf.data.len()), (0, 7900, 8000));
        assert!(holds(&buf, 100, 7900));
    }

    #[test]
    fn growth_doubles_up_to_the_limit() {
        let mut buf = RecvBuf::default();
        buf.reserve(100, 1000);
        assert_eq!(buf.data.len(), 400, "four reads of room");
        buf.end = 400;
        buf.reserve(10, 1000);
        assert_eq!(buf.data.len(), 800, "doubled");
        buf.end = 800;
        buf.reserve(10, 900);
        assert_eq!(buf.data.len(), 900, "capped by the limit");
        buf.end = 900;
        buf.reserve(50, 900);
        assert_eq!(buf.data.len(), 950, "a larger need wins over the limit");
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

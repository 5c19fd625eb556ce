//! [`RecvBuf`]: bytes from the socket. Live bytes are `data[start..end]`;
//! the room after `end`, up to the allocation's capacity, is spare: bytes
//! `receive` copies in are appended there, and `read_buf` lends it to be
//! read into (then `commit`). Room is made by moving live bytes to the front
//! (compaction) before growing, growth never writes zeros (spare room is
//! zeroed only where `read_buf` lends it, a step at a time, and where the
//! inflater's four-byte tail is placed after a compressed payload; `receive`
//! itself writes none), and the allocation is released when the buffer is empty
//! and larger than the high-water mark, so memory follows what a message
//! needs.

use alloc::vec::Vec;

use crate::frame::mask::{apply_mask_ascii, mask_copy};

/// `read_buf` zeroes spare room that was never written just before the
/// read that fills it, in steps that double what was written (at least the
/// read's room) up to this: a buffer grown for a large announced payload is
/// not cleared all at once, out of the cache, before the reads arrive, and
/// a connection that reads little touches little of its buffer.
const LEND_STEP: usize = 64 << 10;

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
    /// The storage: its capacity is the buffer's size, its length how far
    /// it has been written (received bytes, or zeros lent or placed past
    /// them), never below `end`. Room past the length is spare but
    /// unwritten.
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
    /// growing would pass `limit`. Otherwise the buffer grows into a fresh
    /// allocation holding only the live bytes (never a copy of the dead
    /// bytes before them, as `realloc` would make) and nothing else: no
    /// zeros over room a read is about to fill. Growth doubles (so a message
    /// arriving in many reads is not copied over and over) but never past
    /// `limit` unless `end + room` itself is larger. Callers that know how
    /// much is coming (a frame header announced its payload) ask for all of
    /// it at once, so the buffer grows once per message, before the payload.
    pub(crate) fn reserve(&mut self, room: usize, limit: usize) -> usize {
        if self.data.capacity() - self.end >= room {
            return 0;
        }
        let live = self.end - self.start;
        let shift = self.start;
        // Moving live bytes to the front pays when it moves a small part of
        // a buffer that then holds several reads: in a buffer barely larger
        // than one read or one message, every read would move the part of a
        // message it left behind. Until then the buffer grows (doubling,
        // within `limit`); at the limit, moving is the only way.
        let len = self.data.capacity();
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
            .max(len.saturating_mul(2).min(limit))
            .max(room.saturating_mul(ROOMY_READS).min(limit));
        let mut grown = Vec::with_capacity(target);
        crate::counters::moved(live);
        grown.extend_from_slice(&self.data[self.start..self.end]);
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
        if self.data.capacity() > high_water {
            self.data = Vec::new();
        }
        shift
    }

    /// The spare room to read into, as far as it was ever written; where
    /// less than `at_least` of it was, the next step of it is zeroed first.
    /// Make room with [`reserve`](Self::reserve) first.
    pub(crate) fn lend(&mut self, at_least: usize) -> &mut [u8] {
        let written = self.data.len();
        if written - self.end < at_least {
            // Doubling what was written, up to a step: a connection that
            // reads little touches (and makes resident) little of a buffer
            // made with room for several reads.
            let step = at_least.max(written.min(LEND_STEP));
            // At least `written`: `end + at_least` is past it, and the
            // capacity is never below the written length.
            self.zero_to(self.end.saturating_add(step).min(self.data.capacity()));
        }
        let end = self.end;
        &mut self.data[end..]
    }

    /// Whether `data[..at]` is written storage, zeroing up to `at` within
    /// the capacity if not (a few bytes placed past the received ones).
    #[cfg(feature = "deflate")]
    pub(crate) fn written_to(&mut self, at: usize) -> bool {
        if at <= self.data.len() {
            return true;
        }
        if at > self.data.capacity() {
            return false;
        }
        self.zero_to(at);
        true
    }

    /// Writes zeros from the written length up to `to` (within the
    /// capacity, not below the length), counted.
    fn zero_to(&mut self, to: usize) {
        crate::counters::zero_filled(to - self.data.len());
        self.data.resize(to, 0);
    }

    /// How much of `n` bytes appended after `end` lands on room written
    /// before; the rest extends the written length.
    #[inline]
    fn over_written(&self, n: usize) -> usize {
        (self.data.len() - self.end).min(n)
    }

    /// Copies `bytes` in after the received ones: over room written before,
    /// appended past it (no zeros first). Make room first: the capacity
    /// stays the buffer's size only if `bytes` fit.
    pub(crate) fn append(&mut self, bytes: &[u8]) {
        let end = self.end;
        let over = self.over_written(bytes.len());
        let (now, rest) = bytes.split_at(over);
        self.data[end..end + over].copy_from_slice(now);
        // Where `rest` is not empty, the written storage ends at `end + over`.
        self.data.extend_from_slice(rest);
        self.end += bytes.len();
    }

    /// [`append`](Self::append) of a masked payload, unmasked (from
    /// `offset` of the mask's cycle) in the same pass where it lands on
    /// room written before; past that, copied then unmasked while it is in
    /// cache. Returns whether every unmasked byte is ASCII.
    pub(crate) fn append_unmasked(&mut self, bytes: &[u8], mask: [u8; 4], offset: usize) -> bool {
        let end = self.end;
        let over = self.over_written(bytes.len());
        let (now, rest) = bytes.split_at(over);
        let mut ascii = mask_copy(&mut self.data[end..end + over], now, mask, offset);
        if !rest.is_empty() {
            self.data.extend_from_slice(rest);
            let at = end + over;
            ascii &= apply_mask_ascii(&mut self.data[at..], mask, offset + over);
        }
        self.end += bytes.len();
        ascii
    }

    /// Heap bytes held.
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_compacts_before_growing() {
        let mut buf = RecvBuf::default();
        assert_eq!(buf.reserve(16, 64), 0);
        assert!(buf.data.capacity() >= 16);
        let len = buf.data.capacity();
        buf.data.resize(len, 7);
        buf.end = len;
        buf.start = len - 2;
        assert_eq!(buf.reserve(len - 2, 64), len - 2);
        assert_eq!((buf.start, buf.end), (0, 2));
        assert_eq!(buf.data.capacity(), len, "compaction alone made room");
    }

    /// Writes `buf.data` to `len` bytes with a pattern: byte `i` is `i as u8`.
    fn pattern(buf: &mut RecvBuf, len: usize) {
        buf.data.clear();
        buf.data.extend((0..len).map(|i| i as u8));
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
        buf.reserve(1000, 100_000);
        assert_eq!(buf.data.capacity(), 4000, "room for four reads");
        assert!(buf.data.is_empty(), "growth writes nothing");
        pattern(&mut buf, 4000);
        buf.start = 10;
        buf.end = 4000;
        // 3990 live bytes are most of the buffer: grow (doubling), carrying
        // only the live bytes, not the 10 dead ones.
        assert_eq!(buf.reserve(100, 100_000), 10);
        assert_eq!((buf.start, buf.end), (0, 3990));
        assert_eq!(buf.data.capacity(), 8000, "doubled");
        assert_eq!(buf.data.len(), 3990, "only the live bytes written");
        assert!(holds(&buf, 10, 3990));
    }

    #[test]
    fn a_small_live_region_moves_to_the_front() {
        let mut buf = RecvBuf::default();
        buf.reserve(2000, 100_000);
        pattern(&mut buf, 8000);
        buf.start = 7900;
        buf.end = 8000;
        // 100 live bytes in a buffer that holds four reads of 1000: move.
        assert_eq!(buf.reserve(1000, 100_000), 7900);
        assert_eq!((buf.start, buf.end, buf.data.capacity()), (0, 100, 8000));
        assert!(holds(&buf, 7900, 100));
    }

    #[test]
    fn at_the_limit_live_bytes_move_whatever_their_size() {
        let mut buf = RecvBuf::default();
        buf.reserve(8000, 8000);
        pattern(&mut buf, 8000);
        buf.start = 100;
        buf.end = 8000;
        assert_eq!(buf.reserve(50, 8000), 100);
        assert_eq!((buf.start, buf.end, buf.data.capacity()), (0, 7900, 8000));
        assert!(holds(&buf, 100, 7900));
    }

    #[test]
    fn growth_doubles_up_to_the_limit() {
        let mut buf = RecvBuf::default();
        buf.reserve(100, 1000);
        assert_eq!(buf.data.capacity(), 400, "four reads of room");
        buf.append(&[1; 400]);
        buf.reserve(10, 1000);
        assert_eq!(buf.data.capacity(), 800, "doubled");
        buf.append(&[2; 400]);
        buf.reserve(10, 900);
        assert_eq!(buf.data.capacity(), 900, "capped by the limit");
        buf.append(&[3; 100]);
        buf.reserve(50, 900);
        assert_eq!(
            buf.data.capacity(),
            950,
            "a larger need wins over the limit"
        );
        assert_eq!(buf.data.len(), 900, "nothing but received bytes written");
    }

    #[test]
    fn lending_zeroes_unwritten_room_a_step_at_a_time() {
        let mut buf = RecvBuf::default();
        buf.reserve(1 << 20, 4 << 20);
        assert!(buf.data.is_empty());
        assert_eq!(
            buf.lend(4096).len(),
            4096,
            "a read's room, not the capacity"
        );
        buf.lend(4096)[..10].copy_from_slice(b"0123456789");
        buf.end = 10;
        assert_eq!(buf.lend(100).len(), 4096 - 10, "written room lent as is");
        buf.end = 4096;
        assert_eq!(buf.lend(4096).len(), 4096, "the written part doubles");
        buf.end = 8192 - 50;
        assert_eq!(buf.lend(100).len(), 8192, "a step of what was written");
        assert_eq!(&buf.data[..10], b"0123456789", "received bytes kept");
        while buf.data.len() < 4 * LEND_STEP {
            buf.end = buf.data.len();
            buf.lend(100);
        }
        buf.end = buf.data.len();
        assert_eq!(buf.lend(100).len(), LEND_STEP, "steps stop growing");
        // At the end of the capacity the room lent stops there.
        let cap = buf.data.capacity();
        while buf.data.len() < cap {
            buf.end = buf.data.len();
            buf.lend(1);
        }
        buf.end = cap - 5;
        assert_eq!(buf.lend(100).len(), 5);
    }

    #[test]
    fn appended_bytes_overwrite_written_room_then_extend_it() {
        let mut buf = RecvBuf::default();
        buf.reserve(100, 1000);
        buf.lend(64)[..4].copy_from_slice(b"abcd");
        let written = buf.data.len();
        buf.end = 4;
        // Over the zeros lent before: no growth of the written part.
        buf.append(b"efgh");
        assert_eq!(buf.data.len(), written);
        buf.end = written - 2;
        buf.append(b"wxyz");
        assert_eq!(buf.data.len(), written + 2);
        assert_eq!(&buf.data[..8], b"abcdefgh");
        assert_eq!(&buf.data[written - 2..], b"wxyz");
    }

    #[test]
    fn appending_a_masked_payload_unmasks_it_across_the_written_edge() {
        let mask = [0x11, 0x22, 0x33, 0x44];
        let plain: Vec<u8> = (0..200u8).map(|i| i % 100).collect();
        let masked = |p: &[u8], offset: usize| -> Vec<u8> {
            p.iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[(i + offset) % 4])
                .collect()
        };
        // A buffer whose first `written` bytes were written before.
        let fresh = |written: usize| {
            let mut buf = RecvBuf::default();
            buf.reserve(400, 1000);
            buf.data.resize(written, 0xee);
            buf
        };
        for written in [0usize, 1, 3, 64, 150, 200, 300] {
            for offset in 0..4 {
                let mut buf = fresh(written);
                assert!(buf.append_unmasked(&masked(&plain, offset), mask, offset));
                assert_eq!(&buf.data[..200], &plain[..], "written {written}");
                assert_eq!(buf.end, 200);
                // A high byte is seen on either side of the written edge.
                for at in [0, 199] {
                    let mut high = plain.clone();
                    high[at] |= 0x80;
                    let mut buf = fresh(written);
                    assert!(
                        !buf.append_unmasked(&masked(&high, offset), mask, offset),
                        "written {written}, high byte at {at}"
                    );
                    assert_eq!(&buf.data[..200], &high[..]);
                }
            }
        }
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
}

//! Bytes in: `read_buf`/`commit` and `receive`, and the receive buffer's
//! policy. Room is made once per message (what a decoded header announced,
//! plus one read), giving back what the last event lent first, so a payload
//! byte is not moved again after the read that brought it.

use crate::frame::decode::{HeaderRules, decode_header};

use super::{MessageKind, Phase, Release, Role, RxCore};

/// Payloads from this size on are unmasked while `receive` copies them.
const FUSED_MIN: usize = 512;

impl RxCore {
    /// Gives back what the last event lent and recomputes the live start.
    pub(crate) fn release_pending(&mut self) {
        if self.staged != super::staged::NONE {
            // What is pending is the staged event's own, not yet lent.
            return;
        }
        self.release_unstaged();
    }

    /// [`release_pending`](Self::release_pending) once no event is staged.
    #[inline(always)]
    pub(crate) fn release_unstaged(&mut self) {
        let release = core::mem::replace(&mut self.release, Release::Nothing);
        #[cfg(feature = "deflate")]
        self.release_inflated(release);
        // The commonest first, as a branch rather than a jump table.
        if matches!(
            release,
            Release::Message | Release::Small | Release::Inflated
        ) {
            self.msg_start = self.pos;
            self.msg_end = self.pos;
            self.valid = self.pos;
        } else {
            self.release_other(release);
        }
        if self.handshake.is_none() {
            self.buf.start = if self.asm.kind.is_some() {
                self.msg_start
            } else {
                self.pos
            };
        }
    }

    /// [`release_unstaged`](Self::release_unstaged) of anything but a
    /// whole message.
    #[inline]
    fn release_other(&mut self, release: Release) {
        match release {
            Release::Nothing | Release::Message | Release::Small | Release::Inflated => {}
            Release::Chunk => self.msg_start = self.valid,
            Release::Head(len) => {
                self.buf.start += len as usize;
                self.pos = self.buf.start;
                self.msg_start = self.pos;
                self.msg_end = self.pos;
                self.valid = self.pos;
                self.handshake = None;
            }
        }
    }

    /// Moves every index down by `by` after live bytes moved to the front.
    /// Between messages the message indices follow `pos`; they may point
    /// before the live start (at a consumed control frame) and are not kept.
    pub(crate) fn shift(&mut self, by: usize) {
        if super::staged::in_buffer(self.staged) {
            let by = u32::try_from(by).unwrap_or(u32::MAX);
            self.staged_at = self.staged_at.map(|at| at - by);
        }
        self.pos -= by;
        self.unmasked_to = self
            .unmasked_to
            .saturating_sub(u32::try_from(by).unwrap_or(u32::MAX));
        if self.asm.kind.is_some() {
            self.msg_start -= by;
            self.msg_end -= by;
            self.valid -= by;
        } else {
            self.msg_start = self.pos;
            self.msg_end = self.pos;
            self.valid = self.pos;
        }
    }

    #[inline]
    fn prepare_input(&mut self, room: usize) {
        // An empty buffer with nothing to give back and its room (as a read
        // that found no bytes leaves it) needs nothing.
        if self.release != Release::Nothing
            || self.buf.end != 0
            || self.buf.data.capacity() < room.saturating_add(self.announced())
        {
            self.make_room(room);
        }
    }

    /// [`prepare_input`](Self::prepare_input)'s work: give back what the
    /// last event lent, close gaps, rewind or grow the buffer.
    #[inline(never)]
    fn make_room(&mut self, room: usize) {
        self.release_pending();
        if self.asm.kind.is_some() && self.msg_end < self.pos {
            // Close the gap of consumed headers (and control frames) between
            // the message so far and the undecoded bytes, so a message of
            // many small fragments holds only its payload.
            crate::counters::moved(self.buf.end - self.pos);
            self.buf
                .data
                .copy_within(self.pos..self.buf.end, self.msg_end);
            // Pre-unmasked frames above `pos` moved down with the rest.
            let gap = self.pos - self.msg_end;
            self.unmasked_to = match usize::try_from(self.unmasked_to) {
                Ok(to) if to > self.pos => (to - gap) as u32,
                _ => 0,
            };
            self.buf.end -= self.pos - self.msg_end;
            self.pos = self.msg_end;
        }
        let moved = self
            .buf
            .rewind_if_empty(self.config.get_buffer_high_water());
        if moved != 0 {
            self.shift(moved);
        }
        // A read that ends the announced payload has its usual room too.
        let room = room.saturating_add(self.announced());
        let moved = self.buf.reserve(room, self.config.max_receive_buffer());
        if moved != 0 {
            self.shift(moved);
        }
    }

    /// Bytes a decoded header announced that have not arrived yet, when they
    /// will be held whole (a control frame, or a data frame of a message
    /// below the chunk threshold): reserving them before the payload comes
    /// means the buffer grows at most once for it, moving only what arrived
    /// with the header, instead of growing (and moving the message so far)
    /// read after read. The announced size is within the limits the header
    /// was checked against, so the buffer stays within
    /// `Config::max_receive_buffer`.
    fn announced(&self) -> usize {
        let waiting = match self.phase {
            Phase::Header => return 0,
            // Inflated as it arrives: nothing is held whole.
            #[cfg(feature = "deflate")]
            Phase::Inflate(_) => return 0,
            Phase::Control { len, .. } => len,
            Phase::Payload { remaining, .. } => {
                if self.asm.chunked {
                    return 0;
                }
                usize::try_from(remaining).unwrap_or(usize::MAX)
            }
        };
        // Room for the next frame's header too, so a read that ends the
        // payload can carry it.
        waiting
            .saturating_sub(self.buf.end - self.pos)
            .saturating_add(crate::frame::MAX_HEADER_LEN)
    }

    /// Spare room to read into (at least `Config::read_buf_size` bytes).
    #[inline]
    pub(crate) fn read_buf(&mut self) -> &mut [u8] {
        let size = self.config.get_read_buf_size();
        self.prepare_input(size);
        self.buf.lend(size)
    }

    /// Marks `n` bytes of the spare room as received. After a fatal error
    /// input is dropped: nothing more will be decoded.
    #[inline]
    pub(crate) fn commit(&mut self, n: usize) {
        if self.error.is_none() {
            self.buf.end = (self.buf.end + n).min(self.buf.data.len());
        }
    }

    /// Copies `bytes` in as received (dropped after a fatal error).
    ///
    /// When the bytes continue the masked payload of a data frame whose
    /// header was decoded, they are unmasked while they are copied and, for
    /// text, checked for ASCII in the same pass (copied, then unmasked in
    /// cache, where the room was never written: see
    /// `RecvBuf::append_unmasked`); the payload phase then has nothing left
    /// to do for them but hand them out.
    pub(crate) fn receive(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || self.error.is_some() {
            return;
        }
        self.prepare_input(bytes.len());
        let rest = self.receive_payload(bytes);
        let rest = self.receive_frames(rest);
        self.buf.append(rest);
    }

    /// The fused copy of `receive`, for whole frames: while the decoder
    /// stands at a frame boundary with nothing undecoded, every masked frame
    /// that lies whole in `bytes` is copied with its payload unmasked in the
    /// same pass (the header as it is), and `unmasked_to` marks them so the
    /// decoder does not unmask them again. Stops at the first frame that is
    /// not whole, not masked, or whose header the decoder would refuse (the
    /// decoder then reports it); returns the bytes left to copy as they are.
    fn receive_frames<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        let at_boundary = match self.phase {
            Phase::Header => true,
            Phase::Payload { remaining, .. } => remaining == 0,
            Phase::Control { .. } => false,
            #[cfg(feature = "deflate")]
            Phase::Inflate(_) => false,
        };
        let fits = u32::try_from(self.buf.end.saturating_add(bytes.len())).is_ok();
        if self.role != Role::Server
            || !at_boundary
            || !fits
            || self.handshake.is_some()
            || self.pos != self.buf.end
        {
            return bytes;
        }
        let rules = HeaderRules {
            expect_masked: true,
            allowed_rsv: 0,
        };
        let mut done = 0;
        // A new region: ASCII until a payload says otherwise.
        let mut ascii = true;
        while let Ok(Some((header, head))) = decode_header(&bytes[done..], rules) {
            let Some(mask) = header.mask else { break };
            let Ok(len) = usize::try_from(header.len) else {
                break;
            };
            let frame = head.saturating_add(len);
            // Small frames are cheaper through the decoder's one-step path
            // (one unmasking pass over bytes still in cache) than decoded
            // twice; a frame must also lie whole in `bytes`.
            if len < FUSED_MIN || frame > bytes.len() - done {
                break;
            }
            let (src_head, src_payload) = bytes[done..done + frame].split_at(head);
            self.buf.append(src_head);
            ascii &= self.buf.append_unmasked(src_payload, mask, 0);
            self.unmasked_ascii = ascii;
            // Fits: checked above for the whole of `bytes`.
            self.unmasked_to = self.buf.end as u32;
            done += frame;
        }
        &bytes[done..]
    }

    /// The fused copy of `receive`: takes what belongs to the current masked
    /// payload (all of it decoded up to here, not delivered in chunks) and
    /// returns the bytes left to copy as they are.
    fn receive_payload<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        let Phase::Payload {
            kind,
            remaining,
            mask: Some(mask),
            offset,
            fin,
        } = self.phase
        else {
            return bytes;
        };
        if self.pos != self.buf.end || self.msg_end != self.pos || self.asm.chunked {
            return bytes;
        }
        let n = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let (now, rest) = bytes.split_at(n);
        let ascii = self.buf.append_unmasked(now, mask, offset);
        self.pos += n;
        let before = self.msg_end;
        self.msg_end += n;
        if kind == MessageKind::Binary || (ascii && self.valid == before) {
            self.valid = self.msg_end;
        }
        self.phase = Phase::Payload {
            kind,
            remaining: remaining - n as u64,
            mask: Some(mask),
            offset: offset + n,
            fin,
        };
        rest
    }
}

//! The one-step path for compressed messages: a whole message in one small
//! frame (what most compressed messages a browser or a feed sends are) is
//! unmasked where it lies, joined with the `00 00 ff ff` tail in place,
//! inflated in one zlib call, checked and handed out, without the general
//! decoder or the inflate phase of `inflate.rs`. It is taken only where no
//! limit or chunk can fall due (DEFLATE's largest expansion stays within
//! them), so it gives the same events and errors as the general path, at
//! any split of the input.

use crate::extension::codec::TAIL;
use crate::frame::mask::apply_mask_inline;
use crate::utf8::validate_prefix;

use super::inflate::InflateProgress;
use super::{Error, Link, MessageKind, ProtocolError, Release, RxCore};

/// Writes the tail over the four bytes at `at` (after a payload, so that
/// payload and tail go to zlib as one slice) and returns what was there,
/// for [`restore_tail`].
pub(super) fn place_tail(data: &mut [u8], at: usize) -> [u8; TAIL.len()] {
    let spot = &mut data[at..at + TAIL.len()];
    let mut was = [0u8; TAIL.len()];
    was.copy_from_slice(spot);
    spot.copy_from_slice(&TAIL);
    was
}

/// Puts back what [`place_tail`] wrote over.
pub(super) fn restore_tail(data: &mut [u8], at: usize, was: [u8; TAIL.len()]) {
    data[at..at + TAIL.len()].copy_from_slice(&was);
}

/// The largest payload [`RxCore::whole_compressed`] takes under `config`:
/// DEFLATE's largest expansion of it and the tail stays within
/// `chunk_threshold` and `max_message_size`, and it is within
/// `max_frame_size` and [`JOIN_TAIL`]. (`max_fragments` needs no check:
/// it is at least 1, and a whole message is one frame.)
pub(super) fn whole_max(config: &crate::Config) -> usize {
    let output = config
        .get_chunk_threshold()
        .min(config.get_max_message_size());
    (output / MAX_EXPANSION)
        .saturating_sub(TAIL.len())
        .min(JOIN_TAIL)
        .min(config.get_max_frame_size())
}

/// The largest last-frame payload copied to join the tail in one call.
pub(super) const JOIN_TAIL: usize = 512;

/// The most DEFLATE can expand: a length/distance pair makes at most 258
/// bytes and takes at least two bits (1032:1), rounded up.
const MAX_EXPANSION: usize = 1040;

impl RxCore {
    /// A whole compressed message in one small frame that has arrived: its
    /// payload unmasked and joined with the tail where it lies, inflated
    /// in one call, its text checked, handed out. Only where nothing it
    /// can inflate to reaches `chunk_threshold` or `max_message_size`
    /// (DEFLATE expands at most 1032:1), so no limit or chunk can be due;
    /// anything else is left to the general path, with nothing changed.
    /// Most compressed messages a browser or a feed sends take this path.
    ///
    /// The caller has checked that the frame is a data frame with FIN and
    /// RSV1 set, `len` bytes long, whose payload starts at `pos`.
    pub(crate) fn whole_compressed(
        &mut self,
        kind: MessageKind,
        len: u64,
        mask: Option<[u8; 4]>,
        link: Link<'_>,
    ) -> Option<Result<(MessageKind, usize), Error>> {
        let (inflater, progress) = self.inflate.as_deref_mut()?;
        let len = usize::try_from(len).ok()?;
        // `whole_max` is where the largest expansion stays within the
        // limits (checked first: it keeps `pos + len` small).
        if self.asm.kind.is_some() || !(1..=inflater.whole_max).contains(&len) {
            return None;
        }
        let (start, end) = (self.pos, self.pos + len);
        if end > self.buf.end || !self.buf.written_to(end + TAIL.len()) {
            return None;
        }
        let bound = (len + TAIL.len()) * MAX_EXPANSION;
        // No compressed message is in progress (none is fragmented), so
        // its progress is as the last one's release left it, and stays so
        // unless this one fails.
        debug_assert!(!progress.active);
        if let Some(mask) = mask.filter(|_| end > self.unmasked_to as usize) {
            apply_mask_inline(&mut self.buf.data[start..end], mask, 0);
        }
        let after = place_tail(&mut self.buf.data, end);
        let result = inflater.inflate_inline(&self.buf.data[start..end + TAIL.len()], bound);
        restore_tail(&mut self.buf.data, end, after);
        self.pos = end;
        self.msg_start = end;
        self.msg_end = end;
        self.valid = end;
        let filled = inflater.filled;
        let text = kind == MessageKind::Text;
        // The same errors, in the same order, as the general path's.
        let error = match result {
            // Text inflated before a fault is judged first.
            Err(_) if text && validate_prefix(&inflater.out[..filled]).is_err() => {
                Some(ProtocolError::InvalidUtf8)
            }
            // (`full` cannot be: the room is past the largest expansion.)
            Err(_) => Some(ProtocolError::InvalidCompressedData),
            Ok(step) if step.full || step.consumed < len + TAIL.len() => {
                Some(ProtocolError::InvalidCompressedData)
            }
            // A complete message may not end inside a character.
            // (`to_str`: the ASCII check first, in line, and the full
            // validation only after it fails, without checking again.)
            Ok(_) if text && crate::utf8::to_str(&inflater.out[..filled]).is_err() => {
                Some(ProtocolError::InvalidUtf8)
            }
            Ok(_) => None,
        };
        if let Some(e) = error {
            // As the general path leaves a message that failed.
            *progress = InflateProgress::fed_whole(len);
            return Some(Err(self.fail(e.into(), link)));
        }
        self.release = Release::Inflated;
        Some(Ok((kind, filled)))
    }
}

impl RxCore {
    /// The compressed twin of the one-step path for small messages: a
    /// frame that is a whole compressed message (FIN and RSV1 set, text or
    /// binary, a 7-bit length, masked as the role requires) while
    /// permessage-deflate is agreed goes to
    /// [`whole_compressed`](Self::whole_compressed) without the general
    /// decoder. Returns the
    /// message's kind and the end of its inflated bytes, or `None` with
    /// nothing changed (then the general path decides).
    #[inline]
    pub(crate) fn small_compressed<const MASKED: bool>(
        &mut self,
        link: Link<'_>,
    ) -> Result<Option<(MessageKind, usize)>, Error> {
        if self.inflate.is_none() {
            return Ok(None);
        }
        let avail = &self.buf.data[self.pos..self.buf.end];
        let [b0, b1, ..] = *avail else {
            return Ok(None);
        };
        let kind = match b0 {
            0xc1 => MessageKind::Text,
            0xc2 => MessageKind::Binary,
            _ => return Ok(None),
        };
        // A wrong mask bit leaves 0x80 set, as in `small_header_as`.
        let len = if MASKED { b1 ^ 0x80 } else { b1 };
        let head = if MASKED { 6 } else { 2 };
        if len > 125 || avail.len() < head {
            return Ok(None);
        }
        let mask = MASKED.then(|| [avail[2], avail[3], avail[4], avail[5]]);
        self.pos += head;
        match self.whole_compressed(kind, u64::from(len), mask, link) {
            Some(done) => done.map(Some),
            None => {
                self.pos -= head;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `whole_max` admits exactly the payloads whose largest expansion
    /// fits every limit (the check it replaced, made per frame).
    #[test]
    fn whole_max_is_the_per_frame_check_made_once() {
        for threshold in [0, 1, 1040 * 5 - 1, 1040 * 5, 64 << 10, 16 << 20] {
            for max_message in [1040 * 4, 1040 * 6 + 7, 1 << 20, 64 << 20] {
                for max_frame in [0, 1, 44, 125, 4096] {
                    for fragments in [1, 1000] {
                        let config = crate::Config::new()
                            .chunk_threshold(threshold)
                            .max_message_size(max_message)
                            .max_frame_size(max_frame)
                            .max_fragments(fragments);
                        let max = whole_max(&config);
                        for len in 1..=JOIN_TAIL + 1 {
                            let bound = (len + TAIL.len()) * MAX_EXPANSION;
                            let fits = len <= JOIN_TAIL
                                && len <= config.get_max_frame_size()
                                && bound <= config.get_chunk_threshold()
                                && bound <= config.get_max_message_size();
                            assert_eq!(len <= max, fits, "{config:?} len {len}");
                        }
                    }
                }
            }
        }
    }
}

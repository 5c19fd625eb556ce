//! The receive side of permessage-deflate (RFC 7692 §6.2, §7.2.2): a
//! compressed message's payload is unmasked where it lies, as for any
//! message, then inflated as it arrives into the [`Inflater`]'s buffer, and
//! the event borrows that buffer instead of the receive buffer.
//!
//! Every step of output is bounded before it is produced: by what is left
//! of `Config::max_message_size` (a bomb fails with 1009 having allocated at
//! most the limit, the last byte checked through a one-byte probe on the
//! stack), and by `Config::chunk_threshold`, above which the message is
//! delivered as chunks of about that size, so the inflated bytes held are
//! at most one chunk. Text is checked as it is inflated (fail fast) and
//! each byte once. A whole message in one small frame skips this phase:
//! see `inflate_whole.rs`.

use alloc::boxed::Box;

use crate::extension::codec::{Inflater, TAIL};
use crate::frame::mask::apply_mask;
use crate::utf8::validate_prefix;

use super::inflate_whole::{JOIN_TAIL, place_tail, restore_tail, whole_max};
use super::{ABNORMAL, Error, Event, Link, MessageKind, ProtocolError, Ready, Release, RxCore};

/// Where a compressed message stands, kept beside its inflater.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InflateProgress {
    /// A compressed message is being received.
    pub(crate) active: bool,
    /// Bytes of the message's tail (`00 00 ff ff`) fed so far.
    tail: u8,
    /// Validated prefix of the inflater's output (text).
    pub(crate) valid: usize,
    /// Output already delivered as chunks.
    delivered: u64,
    /// The message is being delivered as chunks.
    chunking: bool,
    /// End of the chunk handed out last (given back at the next call).
    chunk_end: usize,
    /// Compressed payload bytes fed so far (an empty one is not DEFLATE).
    fed: u64,
    /// The input is not DEFLATE, found in the step that also completed the
    /// chunk handed out last: the next step fails.
    fault: bool,
    /// The last step filled its room: the next one runs even without new
    /// input.
    room_full: bool,
}

impl InflateProgress {
    /// A message whose `len` payload bytes and tail went to zlib at once.
    pub(crate) fn fed_whole(len: usize) -> Self {
        Self {
            active: true,
            tail: TAIL.len() as u8,
            fed: len as u64,
            ..Self::default()
        }
    }
}

/// What the inflate phase did with the input it had.
pub(crate) enum Flow {
    Ready(Ready),
    /// The frame's payload is consumed; decode the next header.
    NextHeader,
    NeedMore,
}

/// The payload phase of a compressed message's frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InflateFrame {
    pub(crate) kind: MessageKind,
    pub(crate) remaining: u64,
    pub(crate) mask: Option<[u8; 4]>,
    pub(crate) offset: usize,
    pub(crate) fin: bool,
    /// Unmasked bytes at `pos` the inflater has not taken yet.
    pub(crate) pending: usize,
}

impl RxCore {
    /// Sets up the decompressor once permessage-deflate is agreed.
    pub(crate) fn start_inflate(&mut self, params: Option<crate::DeflateParams>) {
        let server = self.role == crate::Role::Server;
        let keep_state = self
            .config
            .get_deflate()
            .is_some_and(|c| !c.get_release_between_messages());
        let whole_max = whole_max(&self.config);
        self.inflate = params.map(|p| {
            let mut inflater = Inflater::new(p.inflate_bits(server), p.peer_resets(server));
            inflater.keep_state = keep_state;
            inflater.whole_max = whole_max;
            Box::new((inflater, InflateProgress::default()))
        });
    }

    /// RSV bits a frame may carry: RSV1 once permessage-deflate is agreed.
    pub(crate) fn allowed_rsv(&self) -> u8 {
        if self.inflate.is_some() { 0x40 } else { 0 }
    }

    /// Whether the message in progress is compressed.
    pub(crate) fn compressed_in_progress(&self) -> bool {
        self.inflate.as_ref().is_some_and(|b| b.1.active)
    }

    /// Marks the start of a compressed message.
    pub(crate) fn begin_compressed(&mut self) {
        if let Some(b) = self.inflate.as_deref_mut() {
            b.1 = InflateProgress {
                active: true,
                ..InflateProgress::default()
            };
        }
    }

    /// Gives back what a compressed message's event lent.
    pub(crate) fn release_inflated(&mut self, release: Release) {
        let Some((inflater, progress)) = self.inflate.as_deref_mut() else {
            return;
        };
        match release {
            Release::Chunk if progress.active => {
                let end = progress.chunk_end;
                progress.delivered += end as u64;
                inflater.consume(end);
                progress.valid -= end;
                progress.chunk_end = 0;
            }
            Release::Inflated => {
                // A whole message taken in one step: its progress was never
                // set (see `whole_compressed`).
                inflater.filled = 0;
                inflater.end_message();
                inflater.shrink(self.config.get_buffer_high_water());
            }
            Release::Message => {
                inflater.filled = 0;
                if progress.active {
                    inflater.end_message();
                }
                *progress = InflateProgress::default();
                inflater.shrink(self.config.get_buffer_high_water());
            }
            _ => {}
        }
    }

    /// Whether the inflate phase has work without new input: more than a
    /// chunk's worth of inflated output waits, with some of it validated (a
    /// chunk is due: the last input may have filled the room exactly), or
    /// the last step stopped because its room was full (zlib may hold
    /// input it has read but not yet inflated, and a fault in it).
    fn inflate_has_work(&self) -> bool {
        self.inflate.as_deref().is_some_and(|(inflater, progress)| {
            progress.room_full
                || (inflater.filled > self.config.get_chunk_threshold() && progress.valid > 0)
        })
    }

    /// One step of a compressed frame's payload.
    pub(crate) fn inflate_frame(
        &mut self,
        mut frame: InflateFrame,
        link: Link<'_>,
    ) -> Result<Flow, Error> {
        if self
            .inflate
            .as_deref()
            .is_some_and(|(_, progress)| progress.fault)
        {
            // Found while the chunk before it was handed out.
            return Err(self.fail(ProtocolError::InvalidCompressedData.into(), link));
        }
        loop {
            // Take what has arrived of the frame's payload, unmasked.
            let avail = self.buf.end - self.pos;
            if frame.pending == 0 && frame.remaining > 0 {
                let n = usize::try_from(frame.remaining)
                    .unwrap_or(usize::MAX)
                    .min(avail);
                if n == 0 && !self.inflate_has_work() {
                    self.phase = super::Phase::Inflate(frame);
                    return Ok(self.need_more(link).map_or(Flow::NeedMore, Flow::Ready));
                }
                // (With nothing new, a chunk that is due goes out below, or
                // zlib goes on with what it holds.)
                let (start, end) = (self.pos, self.pos + n);
                if let Some(mask) = frame.mask.filter(|_| end > self.unmasked_to as usize) {
                    apply_mask(&mut self.buf.data[start..end], mask, frame.offset);
                }
                frame.pending = n;
                frame.remaining -= n as u64;
                frame.offset += n;
            }
            let payload_done = frame.remaining == 0 && frame.pending == 0;
            let max = self.config.get_max_message_size() as u64;
            let threshold = self.config.get_chunk_threshold();
            let Some((inflater, progress)) = self.inflate.as_deref_mut() else {
                // Cannot happen (the inflater lives as long as the
                // agreement); fail rather than spin.
                return Err(self.fail(ProtocolError::InvalidCompressedData.into(), link));
            };
            let produced = progress.delivered + inflater.filled as u64;
            let limit_left = usize::try_from(max.saturating_sub(produced)).unwrap_or(usize::MAX);
            // A chunk is due once more than `chunk_threshold` bytes wait,
            // as for an uncompressed message (one of exactly the threshold
            // arrives whole): it is the first `chunk_threshold` of them,
            // cut back to a character boundary for text, and boundaries
            // depend only on the inflated bytes, not on how the input was
            // split. Only an incomplete character may wait past it.
            let over = threshold.saturating_add(1);
            let mut chunk_room = over.saturating_sub(inflater.filled);
            if chunk_room == 0 {
                let text = frame.kind == MessageKind::Text;
                let end = chunk_end(&inflater.out[..progress.valid], threshold, text);
                if end > 0 {
                    return Ok(chunk_out(
                        progress,
                        &mut self.phase,
                        &mut self.release,
                        frame,
                        end,
                    ));
                }
                chunk_room = 4usize
                    .saturating_sub(inflater.filled - progress.valid)
                    .max(1);
            }
            let room = limit_left.min(chunk_room);
            let feeding_tail = payload_done && frame.fin;
            if feeding_tail && progress.fed == 0 {
                // No compressed byte at all: the appended tail alone is no
                // DEFLATE stream (an empty message is at least `00`).
                return Err(self.fail(ProtocolError::InvalidCompressedData.into(), link));
            }
            // The last frame's payload, when small, goes in with the tail in
            // one call (zlib's per-call cost is most of a small message's).
            let join = !feeding_tail
                && frame.fin
                && frame.remaining == 0
                && progress.tail == 0
                && frame.pending <= JOIN_TAIL;
            // Joined with the tail where the payload lies, when the buffer
            // has four bytes after it (they are put back below); else in a
            // copy.
            let payload_end = self.pos + frame.pending;
            let in_place = join && self.buf.written_to(payload_end + TAIL.len());
            let copied = join && !in_place;
            let after = in_place.then(|| place_tail(&mut self.buf.data, payload_end));
            let input: &[u8] = if feeding_tail {
                &TAIL[usize::from(progress.tail)..]
            } else if in_place {
                &self.buf.data[self.pos..payload_end + TAIL.len()]
            } else {
                &self.buf.data[self.pos..payload_end]
            };
            let result = if copied {
                inflater.inflate_with_tail(input, room)
            } else {
                inflater.inflate(input, room)
            };
            // What the call consumed counts in `input` and then the tail.
            let input_len = input.len() + if copied { TAIL.len() } else { 0 };
            // At the limit: one more byte means the message is too big.
            let probed = match result {
                Ok(step) if step.full && room == limit_left => Some(if copied {
                    inflater.probe_joined(step.consumed)
                } else {
                    inflater.probe(&input[step.consumed..])
                }),
                _ => None,
            };
            if let Some(after) = after {
                restore_tail(&mut self.buf.data, payload_end, after);
            }
            let Ok(step) = result else {
                // Text inflated before the fault is judged first, so the
                // error does not depend on where the input was split.
                let text = frame.kind == MessageKind::Text;
                let made = &inflater.out[progress.valid..inflater.filled];
                let valid = if text {
                    validate_prefix(made)
                } else {
                    Ok(made.len())
                };
                let Ok(k) = valid else {
                    return Err(self.fail(ProtocolError::InvalidUtf8.into(), link));
                };
                // A chunk the bytes before the fault complete goes out
                // first, as it would have had the input stopped there; the
                // fault is reported at the next call.
                if inflater.filled > threshold {
                    progress.valid += k;
                    let end = chunk_end(&inflater.out[..progress.valid], threshold, text);
                    if end > 0 {
                        progress.fault = true;
                        return Ok(chunk_out(
                            progress,
                            &mut self.phase,
                            &mut self.release,
                            frame,
                            end,
                        ));
                    }
                }
                return Err(self.fail(ProtocolError::InvalidCompressedData.into(), link));
            };
            let mut consumed = step.consumed;
            let mut full = step.full;
            if let Some(probed) = probed {
                match probed {
                    Ok((_, true)) => {
                        return Err(self.fail(ProtocolError::MessageTooBig.into(), link));
                    }
                    Ok((used, false)) => {
                        consumed += used;
                        full = false;
                    }
                    Err(_) => {
                        return Err(self.fail(ProtocolError::InvalidCompressedData.into(), link));
                    }
                }
            }
            if !full && consumed < input_len {
                // Room to write and input left, yet no progress: not DEFLATE.
                return Err(self.fail(ProtocolError::InvalidCompressedData.into(), link));
            }
            progress.room_full = full;
            let from_payload = if feeding_tail {
                0
            } else {
                consumed.min(frame.pending)
            };
            self.pos += from_payload;
            frame.pending -= from_payload;
            progress.fed += from_payload as u64;
            // (At most the four bytes of the tail.)
            progress.tail += (consumed - from_payload) as u8;
            self.msg_start = self.pos;
            self.msg_end = self.pos;
            self.valid = self.pos;
            // Text is checked as it is produced; a complete message may not
            // end inside a character.
            let complete = usize::from(progress.tail) == TAIL.len() && !full;
            if frame.kind == MessageKind::Text {
                let new = &inflater.out[progress.valid..inflater.filled];
                match validate_prefix(new) {
                    Ok(k) if !complete || k == new.len() => progress.valid += k,
                    _ => return Err(self.fail(ProtocolError::InvalidUtf8.into(), link)),
                }
            } else {
                progress.valid = inflater.filled;
            }
            // More than a chunk's worth left at the end goes out as a chunk
            // first (the next turn), as for an uncompressed message.
            if complete && inflater.filled <= threshold {
                self.phase = super::Phase::Header;
                self.asm.finish();
                self.release = Release::Message;
                return Ok(Flow::Ready(Ready::Inflated {
                    kind: frame.kind,
                    end: progress.valid,
                    chunk: progress.chunking.then_some(true),
                }));
            }
            // A full room means a chunk is due: the next turn hands it out.
            if payload_done && !frame.fin && !full && inflater.filled <= threshold {
                self.phase = super::Phase::Header;
                return Ok(Flow::NextHeader);
            }
        }
    }
}

/// Hands out the first `end` inflated bytes as a chunk (not the last): the
/// frame waits in the inflate phase until the chunk is given back.
fn chunk_out(
    progress: &mut InflateProgress,
    phase: &mut super::Phase,
    release: &mut Release,
    frame: InflateFrame,
    end: usize,
) -> Flow {
    progress.chunking = true;
    progress.chunk_end = end;
    *phase = super::Phase::Inflate(frame);
    *release = Release::Chunk;
    Flow::Ready(Ready::Inflated {
        kind: frame.kind,
        end,
        chunk: Some(false),
    })
}

impl RxCore {
    /// The event of a compressed message (or chunk): `inflater.out[..end]`.
    pub(crate) fn inflated_event(
        &self,
        kind: MessageKind,
        end: usize,
        chunk: Option<bool>,
    ) -> Event<'_> {
        let Some((inflater, _)) = self.inflate.as_deref() else {
            return Event::Close(ABNORMAL);
        };
        let bytes = &inflater.out[..end];
        match (kind, chunk) {
            (MessageKind::Binary, None) => Event::Binary(bytes),
            (MessageKind::Binary, Some(last)) => Event::BinaryChunk { data: bytes, last },
            (MessageKind::Text, chunk) => {
                #[allow(unsafe_code)]
                // SAFETY: `inflate_frame` and `whole_compressed` report `end`
                // only as the end of the prefix of the inflater's output
                // that passed `validate_prefix` (whole characters; a
                // complete message that ends inside one fails instead) or,
                // in `whole_compressed`, `accel::is_ascii` (ASCII is
                // UTF-8). The
                // inflater writes only at `filled`, which is at or after
                // `end`, and moves its output (`consume`) only when this
                // event is given back.
                let text = unsafe { crate::accel::assume_utf8(bytes) };
                match chunk {
                    None => Event::Text(text),
                    Some(last) => Event::TextChunk { data: text, last },
                }
            }
        }
    }
}

/// Where a chunk of at most `threshold` bytes of `valid` (validated) output
/// ends: at `threshold`, for text moved back to a character boundary
/// (UTF-8 continuation bytes are `10xxxxxx`) or, when that leaves nothing,
/// after the first character.
fn chunk_end(valid: &[u8], threshold: usize, text: bool) -> usize {
    if valid.len() <= threshold {
        return valid.len();
    }
    if !text {
        return threshold;
    }
    let mut end = threshold;
    while end > 0 && valid[end] & 0xc0 == 0x80 {
        end -= 1;
    }
    if end == 0 {
        end = 1;
        while end < valid.len() && valid[end] & 0xc0 == 0x80 {
            end += 1;
        }
    }
    end
}

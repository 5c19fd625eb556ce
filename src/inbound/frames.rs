//! The frame phases after the handshake (RFC 6455 §5): a header, a control
//! frame's payload buffered whole, a data frame's payload processed as it
//! arrives (unmasked in place, moved down over the headers between
//! fragments, UTF-8 checked as it comes), and the one-step paths for a whole
//! message that is already buffered.

use crate::close::parse_close_payload;
use crate::frame::decode::{HeaderRules, decode_header};
use crate::frame::mask::{apply_mask, apply_mask_ascii, mask_move_down};
use crate::frame::{FrameHeader, Opcode};
use crate::utf8::validate_prefix;

use super::{Error, Input, Link, MessageKind, ProtocolError, Ready, Release, Role, RxCore, State};

/// What the decoder is in the middle of.
/// A whole small message at the decoder's position, found by
/// [`RxCore::small_header`]: its kind, header and payload lengths.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Small {
    pub(crate) kind: MessageKind,
    pub(crate) head: usize,
    pub(crate) len: usize,
}

impl Small {
    /// The payload's range in the buffer, for a frame starting at `pos`.
    pub(crate) fn payload(self, pos: usize) -> core::ops::Range<usize> {
        pos + self.head..pos + self.head + self.len
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    /// Expecting a frame header at `pos`.
    Header,
    /// A control frame whose payload is buffered whole before it is handled.
    Control {
        opcode: Opcode,
        len: usize,
        mask: Option<[u8; 4]>,
    },
    /// Payload of a data frame, processed as it arrives.
    Payload {
        kind: MessageKind,
        remaining: u64,
        mask: Option<[u8; 4]>,
        offset: usize,
        fin: bool,
    },
    /// Payload of a compressed message's frame, inflated as it arrives.
    #[cfg(feature = "deflate")]
    Inflate(super::inflate::InflateFrame),
}

impl RxCore {
    pub(crate) fn frames(&mut self, link: Link<'_>) -> Result<Option<Ready>, Error> {
        let rules = HeaderRules {
            expect_masked: self.role == Role::Server,
            #[cfg(feature = "deflate")]
            allowed_rsv: self.allowed_rsv(),
            #[cfg(not(feature = "deflate"))]
            allowed_rsv: 0,
        };
        loop {
            match self.phase {
                Phase::Header => {
                    let header = decode_header(&self.buf.data[self.pos..self.buf.end], rules);
                    let (header, n) = match header {
                        Ok(Some(found)) => found,
                        Ok(None) => return Ok(self.need_more(link)),
                        Err(e) => return Err(self.fail(e.into(), link)),
                    };
                    self.pos += n;
                    #[cfg(feature = "deflate")]
                    if let Some(e) = self.compression_rules(&header) {
                        return Err(self.fail(e.into(), link));
                    }
                    if header.opcode.is_control() {
                        self.phase = Phase::Control {
                            opcode: header.opcode,
                            // Control lengths are at most 125 (checked by the decoder).
                            len: header.len as usize,
                            mask: header.mask,
                        };
                        continue;
                    }
                    #[cfg(feature = "deflate")]
                    if header.rsv != 0 && header.fin {
                        let done = data_kind(header.opcode).and_then(|kind| {
                            self.whole_compressed(kind, header.len, header.mask, link)
                        });
                        if let Some(done) = done {
                            return done.map(|(kind, end)| {
                                Some(Ready::Inflated {
                                    kind,
                                    end,
                                    chunk: None,
                                })
                            });
                        }
                    }
                    if let Some(ready) = self.whole_message(&header) {
                        return Ok(Some(ready));
                    }
                    let starting = self.asm.kind.is_none();
                    let kind = match self.asm.begin_frame(&header, &self.config) {
                        Ok(kind) => kind,
                        Err(e) => return Err(self.fail(e.into(), link)),
                    };
                    if starting {
                        self.msg_start = self.pos;
                        self.msg_end = self.pos;
                        self.valid = self.pos;
                    }
                    #[cfg(feature = "deflate")]
                    if header.rsv != 0 || (!starting && self.compressed_in_progress()) {
                        if starting {
                            self.begin_compressed();
                        }
                        let frame = super::inflate::InflateFrame {
                            kind,
                            remaining: header.len,
                            mask: header.mask,
                            offset: 0,
                            fin: header.fin,
                            pending: 0,
                        };
                        self.phase = Phase::Inflate(frame);
                        continue;
                    }
                    self.phase = Phase::Payload {
                        kind,
                        remaining: header.len,
                        mask: header.mask,
                        offset: 0,
                        fin: header.fin,
                    };
                }
                Phase::Control { opcode, len, mask } => {
                    if self.buf.end - self.pos < len {
                        return Ok(self.need_more(link));
                    }
                    let (start, end) = (self.pos, self.pos + len);
                    // (Unless `receive` unmasked it while copying it.)
                    if let Some(mask) = mask.filter(|_| end > self.unmasked_to as usize) {
                        apply_mask(&mut self.buf.data[start..end], mask, 0);
                    }
                    self.pos = end;
                    self.phase = Phase::Header;
                    return match opcode {
                        Opcode::Ping => {
                            let answer =
                                matches!(link.life.get().state, State::Open | State::CloseSent);
                            if self.config.get_auto_pong() && answer {
                                link.pong(&mut self.owed, &self.buf.data[start..end]);
                            }
                            Ok(Some(Ready::Ping(start, end)))
                        }
                        Opcode::Pong => {
                            let mut life = link.life.get();
                            life.ponged = true;
                            link.life.set(life);
                            Ok(Some(Ready::Pong(start, end)))
                        }
                        _ => match parse_close_payload(&self.buf.data[start..end]) {
                            Err(e) => Err(self.fail(e.into(), link)),
                            Ok(frame) => {
                                link.set(Input::CloseReceived);
                                // Echo once, with the peer's code (empty for
                                // an empty Close), unless ours was sent.
                                link.close((len > 0).then_some(frame.code));
                                Ok(Some(Ready::Close(start, end)))
                            }
                        },
                    };
                }
                #[cfg(feature = "deflate")]
                Phase::Inflate(frame) => match self.inflate_frame(frame, link)? {
                    super::inflate::Flow::Ready(ready) => return Ok(Some(ready)),
                    super::inflate::Flow::NeedMore => return Ok(None),
                    super::inflate::Flow::NextHeader => {}
                },
                Phase::Payload {
                    kind,
                    remaining,
                    mask,
                    offset,
                    fin,
                } => {
                    let threshold = self.config.get_chunk_threshold();
                    let chunked = self.asm.chunked;
                    let undelivered = self.msg_end - self.msg_start;
                    if chunked && undelivered >= threshold && self.valid > self.msg_start {
                        self.release = Release::Chunk;
                        return Ok(Some(Ready::Message {
                            kind,
                            start: self.msg_start,
                            end: self.valid,
                            chunk: Some(false),
                            validated: true,
                        }));
                    }
                    let avail = self.buf.end - self.pos;
                    let mut n = usize::try_from(remaining).unwrap_or(usize::MAX).min(avail);
                    if chunked {
                        n = n.min(threshold.saturating_sub(undelivered).max(1));
                    }
                    if n > 0 {
                        let (start, end) = (self.pos, self.pos + n);
                        let mut ascii = false;
                        let mask = mask.filter(|_| end > self.unmasked_to as usize);
                        match (mask, self.msg_end != start) {
                            // A later fragment, masked: unmask it while moving
                            // it down over the header before it (one pass,
                            // the ASCII check in it).
                            (Some(mask), true) => {
                                ascii = mask_move_down(
                                    &mut self.buf.data,
                                    start..end,
                                    self.msg_end,
                                    mask,
                                    offset,
                                ) && kind == MessageKind::Text;
                            }
                            (Some(mask), false) => {
                                let bytes = &mut self.buf.data[start..end];
                                if kind == MessageKind::Text {
                                    // Unmask and check ASCII in one pass.
                                    ascii = apply_mask_ascii(bytes, mask, offset);
                                } else {
                                    apply_mask(bytes, mask, offset);
                                }
                            }
                            (None, true) => {
                                crate::counters::moved(n);
                                self.buf.data.copy_within(start..end, self.msg_end);
                            }
                            (None, false) => {}
                        }
                        if ascii && self.valid == self.msg_end {
                            self.valid += n;
                        }
                        self.msg_end += n;
                        self.pos = end;
                    }
                    let remaining = remaining - n as u64;
                    let complete = remaining == 0 && fin;
                    if kind == MessageKind::Binary {
                        self.valid = self.msg_end;
                    } else if self.valid < self.msg_end {
                        // Fail fast: check text as it arrives, not at the end;
                        // each byte is checked once (the event trusts it).
                        match validate_prefix(&self.buf.data[self.valid..self.msg_end]) {
                            Ok(k) if !complete || k == self.msg_end - self.valid => {
                                self.valid += k;
                            }
                            // A complete message may not end inside a character.
                            _ => return Err(self.fail(ProtocolError::InvalidUtf8.into(), link)),
                        }
                    }
                    if remaining == 0 {
                        self.phase = Phase::Header;
                        if !fin {
                            continue;
                        }
                        self.asm.finish();
                        self.release = Release::Message;
                        return Ok(Some(Ready::Message {
                            kind,
                            start: self.msg_start,
                            end: self.msg_end,
                            chunk: chunked.then_some(true),
                            validated: true,
                        }));
                    }
                    self.phase = Phase::Payload {
                        kind,
                        remaining,
                        mask,
                        offset: offset + n,
                        fin,
                    };
                    // Out of input, unless a full chunk waits to be handed out
                    // (an incomplete character alone never makes one).
                    let chunk_ready = chunked
                        && self.msg_end - self.msg_start >= threshold
                        && self.valid > self.msg_start;
                    if n == avail && !chunk_ready {
                        return Ok(self.need_more(link));
                    }
                }
            }
        }
    }

    /// The commonest frame, before the general decoder: a whole text or
    /// binary message (FIN set, no RSV bits) with a 7-bit length within
    /// every limit, masked as the role requires, header and payload
    /// buffered. Such a header breaks no rule of RFC 6455 §5.2 as long as
    /// no fragmented message is in progress (the caller checks that);
    /// anything else returns `None` and takes the general path. Reads only:
    /// [`unmask_small`](Self::unmask_small) takes the message.
    #[cfg(test)]
    pub(crate) fn small_header(&self) -> Option<Small> {
        match self.role {
            Role::Server => self.small_header_as::<true>(),
            Role::Client => self.small_header_as::<false>(),
        }
    }

    /// [`small_header`](Self::small_header) for frames that must be masked
    /// (`MASKED`: the server's) or must not be: the mask bit and the
    /// header's length are constants.
    #[inline(always)]
    pub(crate) fn small_header_as<const MASKED: bool>(&self) -> Option<Small> {
        let avail = &self.buf.data[self.pos..self.buf.end];
        let [b0, b1, ..] = *avail else {
            return None;
        };
        let kind = match b0 {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        // The mask bit as the role requires and the length within every
        // limit, in one comparison: a wrong mask bit leaves 0x80 set.
        let len = if MASKED { b1 ^ 0x80 } else { b1 };
        if len > self.small_limit {
            return None;
        }
        let head = if MASKED { 6 } else { 2 };
        let len = usize::from(len);
        if avail.len() < head + len {
            return None;
        }
        Some(Small { kind, head, len })
    }

    /// Takes the message [`small_header`](Self::small_header) found:
    /// unmasks it (unless `receive` already did) and consumes it. Returns
    /// its payload, whether every payload byte is ASCII (then text needs no
    /// further check), and the error slot (for text that is not UTF-8).
    ///
    /// Everything is sliced from one view of the live bytes, the view
    /// `small_header` checked, so the compiler can drop the bounds checks
    /// it already made.
    #[inline(always)]
    pub(crate) fn take_small<const MASKED: bool>(
        &mut self,
        small: Small,
    ) -> (&[u8], bool, &mut Option<Error>) {
        let Self {
            buf,
            pos,
            release,
            error,
            unmasked_to,
            unmasked_ascii,
            ..
        } = self;
        let Small { head, len, .. } = small;
        let end = *pos + head + len;
        let avail = &mut buf.data[*pos..buf.end];
        let (header, payload) = avail[..head + len].split_at_mut(head);
        let mut ascii = false;
        if MASKED {
            ascii = if end <= *unmasked_to as usize {
                // `receive` unmasked it while copying, and saw only ASCII
                // in every payload up to `unmasked_to` if this is set.
                *unmasked_ascii
            } else {
                let mut mask = [0u8; 4];
                mask.copy_from_slice(&header[2..6]);
                apply_mask_ascii(payload, mask, 0)
            };
        }
        *pos = end;
        *release = Release::Small;
        (payload, ascii, error)
    }

    /// The common case in one step: an unfragmented message whose payload is
    /// already buffered and within every limit is unmasked and handed out
    /// without going through the payload phase. Anything else returns `None`
    /// and takes the general path, which applies the same rules.
    #[inline]
    fn whole_message(&mut self, header: &FrameHeader) -> Option<Ready> {
        let kind = data_kind(header.opcode)?;
        let len = usize::try_from(header.len).ok()?;
        let fits = header.fin
            && header.rsv == 0
            && self.asm.kind.is_none()
            && len <= self.buf.end - self.pos
            && len <= self.config.get_chunk_threshold()
            && len <= self.config.get_max_frame_size()
            && len <= self.config.get_max_message_size();
        if !fits {
            return None;
        }
        let (start, end) = (self.pos, self.pos + len);
        // Text unmasked as all ASCII needs no further check.
        let pre_unmasked = end <= self.unmasked_to as usize;
        let validated = match header.mask {
            // `receive` unmasked it while copying and saw only ASCII in every
            // payload up to `unmasked_to`, this one included.
            Some(_) if pre_unmasked => self.unmasked_ascii,
            Some(mask) => apply_mask_ascii(&mut self.buf.data[start..end], mask, 0),
            None => false,
        };
        self.pos = end;
        self.release = Release::Message;
        Some(Ready::Message {
            kind,
            start,
            end,
            chunk: None,
            validated,
        })
    }
}

#[cfg(feature = "deflate")]
impl RxCore {
    /// RFC 7692 §6.1: RSV1 marks a compressed message on its first frame
    /// only; never on a control frame or a continuation.
    fn compression_rules(&self, header: &FrameHeader) -> Option<ProtocolError> {
        if header.rsv & 0x40 == 0 {
            None
        } else if header.opcode.is_control() {
            Some(ProtocolError::CompressedControlFrame)
        } else if header.opcode == Opcode::Continuation {
            Some(ProtocolError::CompressedContinuation)
        } else {
            None
        }
    }
}

/// The kind of message a first data frame starts (`None` for a
/// continuation or a control frame).
#[inline(always)]
fn data_kind(opcode: Opcode) -> Option<MessageKind> {
    match opcode {
        Opcode::Text => Some(MessageKind::Text),
        Opcode::Binary => Some(MessageKind::Binary),
        _ => None,
    }
}

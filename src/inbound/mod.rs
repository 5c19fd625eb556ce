//! The receive side: bytes in, events out (RFC 6455 §4, §5, §7).
//!
//! [`RxCore`] owns the receive buffer and turns it into events one at a time,
//! one concern per file:
//! - `input.rs`: bytes in (`read_buf`/`commit`, `receive`), the buffer policy
//!   (reserve what a header announced, compact, release), and giving back
//!   what the last event lent;
//! - `frames.rs`: the frame phases (header, control payload, data payload),
//!   unmasking in place, fragments moved together, UTF-8 checked as it
//!   arrives, and the one-step paths for whole messages;
//! - `link.rs`: what the receive side shares with the send side, where
//!   replies the peer is owed (Pong, Close echo, an error's Close) are queued
//!   the moment they are owed;
//! - this file: the core's fields and the event dispatch by state.
//!
//! The HTTP/1.1 opening handshake, one way into an open connection, is
//! driven from `src/handshake/driver.rs`.

mod frames;
#[cfg(feature = "deflate")]
mod inflate;
#[cfg(feature = "deflate")]
mod inflate_whole;
mod input;
mod link;
mod staged;
#[cfg(test)]
mod tests;

pub(crate) use frames::Phase;
use frames::Small;
pub(crate) use link::{Link, Owed, PONG_BACKLOG};

use alloc::boxed::Box;

use crate::assemble::{Assembler, MessageKind};
use crate::buffer::RecvBuf;
use crate::close::{CloseCode, CloseFrame, parse_close_payload};
use crate::config::Config;
use crate::connection::Role;
use crate::error::{Error, ProtocolError};
use crate::event::Event;
use crate::handshake::driver::Handshake;
use crate::handshake::driver::WorkCount;
use crate::handshake::{HeadScanner, Request, Response};
use crate::state::{Input, State};

/// What the previous event lent out, given back at the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Release {
    Nothing,
    /// A whole message or its last chunk: the message region is free.
    Message,
    /// As `Message`, for a small message taken by the one-step path
    /// (`small_header`), which also promises what held when it was taken
    /// and nothing between two calls can change: no handshake, no error, no
    /// fragmented message, the header phase. The next `next_event` may then
    /// skip those checks.
    Small,
    /// As `Small`, for a whole compressed message taken in one step
    /// (`whole_compressed`), which promises the same; giving it back also
    /// resets the inflater's output. (Made only with the `deflate`
    /// feature.)
    #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
    Inflated,
    /// A chunk: its bytes are free, an incomplete character stays.
    Chunk,
    /// A handshake head (and body) of this many bytes.
    /// (32 bits: a head is at most `Config::max_handshake_bytes`.)
    Head(u32),
}

/// An event located by indices; turned into a borrowed [`Event`] last.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ready {
    Request,
    Response(usize),
    Rejected {
        head: usize,
        end: usize,
    },
    Message {
        kind: MessageKind,
        start: usize,
        end: usize,
        chunk: Option<bool>,
        /// Text whose every byte was validated as it arrived.
        validated: bool,
    },
    /// A compressed message (or chunk): `inflater.out[..end]`, validated.
    #[cfg(feature = "deflate")]
    Inflated {
        kind: MessageKind,
        end: usize,
        chunk: Option<bool>,
    },
    Ping(usize, usize),
    Pong(usize, usize),
    Close(usize, usize),
    Abnormal,
}

/// The receive side of a connection.
#[derive(Debug)]
pub(crate) struct RxCore {
    pub(crate) role: Role,
    pub(crate) config: Config,
    pub(crate) buf: RecvBuf,
    pub(crate) phase: Phase,
    pub(crate) asm: Assembler,
    /// Start of the current message's undelivered payload.
    pub(crate) msg_start: usize,
    /// End of the current message's payload moved into place.
    pub(crate) msg_end: usize,
    /// End of the longest validated prefix of whole characters (text).
    pub(crate) valid: usize,
    /// Next byte to decode.
    pub(crate) pos: usize,
    pub(crate) release: Release,
    pub(crate) owed: Owed,
    pub(crate) handshake: Option<Box<Handshake>>,
    pub(crate) error: Option<Error>,
    /// Work done on the handshake so far, for work-bound tests.
    pub(crate) work: WorkCount,
    /// The largest payload [`small_header_as`](Self::small_header_as) takes:
    /// 125 (the 7-bit length form) or less if a limit is lower.
    pub(crate) small_limit: u8,
    /// End of a region of whole frames `receive` already unmasked while it
    /// copied them (their payloads are plain text in the buffer, their
    /// headers as sent): unmasking skips any payload range ending at or
    /// before it. Meaningful only above `pos`. A `u32` (it shares padding
    /// with `small_limit`, keeping `RxCore` at 360 bytes): `receive` only
    /// marks frames while the buffer's indices fit.
    pub(crate) unmasked_to: u32,
    /// Every payload byte `receive` unmasked up to `unmasked_to` is ASCII
    /// (found by the same pass), so text there needs no further check.
    pub(crate) unmasked_ascii: bool,
    /// An event [`event_ready`](Self::event_ready) decoded and
    /// `next_event` has not yet handed out, packed (`staged.rs`;
    /// `staged::NONE`: nothing). While it is held, nothing it covers is
    /// released (`release_pending` waits) and any move of live bytes moves
    /// its offsets too (`shift`).
    pub(crate) staged: u8,
    pub(crate) staged_at: [u32; 2],
    /// permessage-deflate's decompressor, once agreed.
    #[cfg(feature = "deflate")]
    pub(crate) inflate: Option<Box<(crate::extension::codec::Inflater, inflate::InflateProgress)>>,
}

impl RxCore {
    pub(crate) fn new(role: Role, config: Config) -> Self {
        Self {
            role,
            config,
            buf: RecvBuf::default(),
            phase: Phase::Header,
            asm: Assembler::default(),
            msg_start: 0,
            msg_end: 0,
            valid: 0,
            pos: 0,
            release: Release::Nothing,
            owed: Owed::new(),
            handshake: match role {
                Role::Server => Some(Box::new(Handshake::ServerAwaiting(HeadScanner::default()))),
                Role::Client => None,
            },
            error: None,
            work: WorkCount::default(),
            unmasked_to: 0,
            unmasked_ascii: false,
            staged: staged::NONE,
            staged_at: [0, 0],
            #[cfg(feature = "deflate")]
            inflate: None,
            small_limit: config
                .get_chunk_threshold()
                .min(config.get_max_frame_size())
                .min(config.get_max_message_size())
                .min(125) as u8,
        }
    }

    // ----- buffer management -------------------------------------------------

    /// Heap bytes held by the receive side.
    pub(crate) fn heap_bytes(&self) -> usize {
        #[cfg(feature = "deflate")]
        let inflated = self.inflate.as_ref().map_or(0, |b| b.0.heap_bytes());
        #[cfg(not(feature = "deflate"))]
        let inflated = 0;
        inflated
            + self.buf.capacity()
            + if self.handshake.is_some() {
                core::mem::size_of::<Handshake>()
            } else {
                0
            }
    }

    /// Releases the receive buffer if it holds nothing.
    pub(crate) fn shrink(&mut self) {
        self.release_pending();
        #[cfg(feature = "deflate")]
        if let Some((inflater, progress)) = self.inflate.as_deref_mut() {
            inflater.shrink(0);
            if !progress.active {
                inflater.release_state();
            }
        }
        let moved = self.buf.rewind_if_empty(0);
        self.shift(moved);
    }

    // ----- errors --------------------------------------------------------------

    pub(crate) fn fail(&mut self, error: Error, link: Link<'_>) -> Error {
        fail_into(&mut self.error, link, error)
    }

    // ----- events ----------------------------------------------------------------

    /// The next event, `Ok(None)` when more bytes are needed.
    #[inline(always)]
    pub(crate) fn next_event<'s>(&'s mut self, link: Link<'_>) -> Result<Option<Event<'s>>, Error> {
        if self.staged != staged::NONE {
            return self.take_staged(link).map(Some);
        }
        if self.release == Release::Small
            && matches!(link.life.get().state, State::Open | State::CloseSent)
        {
            // The last event was a small message: what `Release::Small`
            // promises still holds, and the state was just checked. Giving
            // it back waits: the next small message's release covers it,
            // and anything that needs it done (`release_pending`, the
            // general path) does it first.
            return self.small_or_general(link);
        }
        #[cfg(feature = "deflate")]
        if self.release == Release::Inflated
            && matches!(link.life.get().state, State::Open | State::CloseSent)
        {
            // The same promise, for a compressed message; its output is
            // given back now (the next message inflates over it). With no
            // handshake and no fragmented message, the buffer's live
            // bytes start at `pos`, as `release_unstaged` would find.
            self.release = Release::Nothing;
            self.release_inflated(Release::Inflated);
            self.buf.start = self.pos;
            return self.small_or_general(link);
        }
        let state = self.begin(link)?;
        if matches!(self.phase, Phase::Header)
            && self.asm.kind.is_none()
            && matches!(state, State::Open | State::CloseSent)
        {
            return self.small_or_general(link);
        }
        self.next_event_general(link)
    }

    /// A small message if one is next, else the general path; by role, so
    /// that the mask bit and header length are constants and the checks
    /// `small_header_as` makes are in view where the message is taken.
    #[inline(always)]
    fn small_or_general<'s>(&'s mut self, link: Link<'_>) -> Result<Option<Event<'s>>, Error> {
        match self.role {
            Role::Server => self.small_or_general_as::<true>(link),
            Role::Client => self.small_or_general_as::<false>(link),
        }
    }

    /// [`small_or_general`](Self::small_or_general) for one role; a whole
    /// compressed message in one small frame is also taken here.
    #[inline(always)]
    fn small_or_general_as<'s, const MASKED: bool>(
        &'s mut self,
        link: Link<'_>,
    ) -> Result<Option<Event<'s>>, Error> {
        if let Some(small) = self.small_header_as::<MASKED>() {
            return self.small_event::<MASKED>(small, link).map(Some);
        }
        #[cfg(feature = "deflate")]
        if let Some((kind, end)) = self.small_compressed::<MASKED>(link)? {
            return Ok(Some(self.inflated_event(kind, end, None)));
        }
        self.next_event_general(link)
    }

    /// Takes a small message and hands it out.
    #[inline(always)]
    fn small_event<'s, const MASKED: bool>(
        &'s mut self,
        small: Small,
        link: Link<'_>,
    ) -> Result<Event<'s>, Error> {
        let (bytes, ascii, error) = self.take_small::<MASKED>(small);
        match small.kind {
            MessageKind::Binary => Ok(Event::Binary(bytes)),
            MessageKind::Text if ascii => {
                #[allow(unsafe_code)]
                // SAFETY: `take_small` reports `ascii` only when its
                // unmasking pass saw every byte of `bytes` below 0x80 (or
                // `receive`'s did, see `unmasked_ascii`), and ASCII is UTF-8.
                let text = unsafe { crate::accel::assume_utf8(bytes) };
                Ok(Event::Text(text))
            }
            MessageKind::Text => {
                // Masked text the unmasking pass saw a high bit in (or that
                // `receive` unmasked) needs no ASCII shortcut first.
                let text = if MASKED {
                    crate::utf8::to_str_unscanned(bytes)
                } else {
                    crate::utf8::to_str(bytes)
                };
                match text {
                    Ok(text) => Ok(Event::Text(text)),
                    Err(_) => Err(fail_into(error, link, ProtocolError::InvalidUtf8.into())),
                }
            }
        }
    }

    /// Hands out the event [`event_ready`](Self::event_ready) staged (the
    /// drivers' path: they look whether an event is ready before taking it).
    fn take_staged<'s>(&'s mut self, link: Link<'_>) -> Result<Event<'s>, Error> {
        let ready = staged::unpack(self.staged, self.staged_at);
        self.staged = staged::NONE;
        self.event(ready, link)
    }

    /// What every decode starts with: give back what the last event lent,
    /// settle an answered handshake, report a sticky error; the state.
    #[inline(always)]
    fn begin(&mut self, link: Link<'_>) -> Result<State, Error> {
        // (Both callers checked that nothing is staged.)
        self.release_unstaged();
        if self.handshake.is_some() {
            self.settle_answered(link.life.get().state, link.tx);
        }
        if let Some(error) = self.error {
            return Err(error);
        }
        Ok(link.life.get().state)
    }

    /// Decodes the next event without handing it out, and reports whether
    /// there is one (then the next [`next_event`](Self::next_event) returns
    /// it, and cannot fail: every check was made here).
    pub(crate) fn event_ready(&mut self, link: Link<'_>) -> Result<bool, Error> {
        if self.staged != staged::NONE {
            return Ok(true);
        }
        let state = self.begin(link)?;
        let mut ready = None;
        if matches!(self.phase, Phase::Header)
            && self.asm.kind.is_none()
            && matches!(state, State::Open | State::CloseSent)
        {
            if self.pos == self.buf.end && !link.life.get().eof {
                // Between messages with no bytes: what `frames` would find
                // (a driver looks once more before it waits for a read).
                return Ok(false);
            }
            let masked = self.role == Role::Server;
            let small = if masked {
                self.small_header_as::<true>()
            } else {
                self.small_header_as::<false>()
            };
            ready = small.map(|small| {
                let payload = small.payload(self.pos);
                let validated = if masked {
                    self.take_small::<true>(small).1
                } else {
                    self.take_small::<false>(small).1
                };
                Ready::Message {
                    kind: small.kind,
                    start: payload.start,
                    end: payload.end,
                    chunk: None,
                    validated,
                }
            });
        }
        if ready.is_none() {
            ready = self.decode(link)?;
        }
        // Check text the decoder left unchecked now, so that `next_event`
        // on a staged event cannot fail.
        if let Some(Ready::Message {
            kind: MessageKind::Text,
            start,
            end,
            validated: validated @ false,
            ..
        }) = ready.as_mut()
        {
            if crate::utf8::to_str(&self.buf.data[*start..*end]).is_err() {
                return Err(self.fail(ProtocolError::InvalidUtf8.into(), link));
            }
            *validated = true;
        }
        if let Some(ready) = ready {
            (self.staged, self.staged_at) = staged::pack(ready);
        }
        Ok(ready.is_some())
    }

    /// Everything but the one-step path of [`next_event`](Self::next_event),
    /// kept out of line so the common case inlines into the caller.
    #[inline(never)]
    fn next_event_general<'s>(&'s mut self, link: Link<'_>) -> Result<Option<Event<'s>>, Error> {
        // What the fast lane of `next_event` left to give back, if it was
        // taken (otherwise `begin` gave everything back).
        if self.release == Release::Small {
            self.release_unstaged();
        }
        match self.decode(link)? {
            Some(ready) => self.event(ready, link).map(Some),
            None => Ok(None),
        }
    }

    /// Decodes as far as the bytes allow, by state.
    fn decode(&mut self, link: Link<'_>) -> Result<Option<Ready>, Error> {
        Ok(match link.life.get().state {
            State::AwaitingRequest => self.server_handshake(link)?,
            State::AwaitingResponse => self.client_handshake(link)?,
            State::Open | State::CloseSent => self.frames(link)?,
            State::RequestReceived => None,
            State::Closed | State::Failed => {
                // Nothing may follow the peer's Close; discard the rest.
                self.pos = self.buf.end;
                self.release = Release::Message;
                None
            }
        })
    }

    fn event<'s>(&'s mut self, ready: Ready, link: Link<'_>) -> Result<Event<'s>, Error> {
        let data = &self.buf.data;
        Ok(match ready {
            Ready::Request => match self.handshake.as_deref() {
                Some(Handshake::ServerPending { parsed, .. }) => Event::HandshakeRequest(
                    Request::new(&data[self.buf.start..self.buf.start + parsed.len], parsed),
                ),
                _ => return Ok(Event::Close(ABNORMAL)),
            },
            Ready::Response(len) => match self.handshake.as_deref() {
                Some(Handshake::Reported(parsed)) => Event::HandshakeResponse(Response::new(
                    &data[self.buf.start..self.buf.start + len],
                    &[],
                    parsed,
                )),
                _ => return Ok(Event::Close(ABNORMAL)),
            },
            Ready::Rejected { head, end } => match self.handshake.as_deref() {
                Some(Handshake::Reported(parsed)) => {
                    let base = self.buf.start;
                    Event::HandshakeRejected(Response::new(
                        &data[base..base + head],
                        &data[base + head..base + end],
                        parsed,
                    ))
                }
                _ => return Ok(Event::Close(ABNORMAL)),
            },
            Ready::Message {
                kind,
                start,
                end,
                chunk,
                validated,
            } => {
                let bytes = &data[start..end];
                match kind {
                    MessageKind::Binary => match chunk {
                        None => Event::Binary(bytes),
                        Some(last) => Event::BinaryChunk { data: bytes, last },
                    },
                    MessageKind::Text => {
                        let text = if validated {
                            #[allow(unsafe_code)]
                            // SAFETY: `validated` is set by `whole_message` when
                            // the unmasking pass found every byte ASCII (its own,
                            // or `receive`'s while copying, which clears
                            // `unmasked_ascii` for any non-ASCII payload), and by
                            // the payload phase for a region that ends at
                            // `self.valid`: every byte of `start..end` passed
                            // `validate_prefix` or a fused ASCII check after it
                            // was unmasked, and the payload phase fails a
                            // complete message that ends inside a character.
                            // Validated bytes are never written again: later
                            // payload is written at `msg_end` or beyond, and
                            // compaction moves whole regions with `copy_within`,
                            // which keeps their contents.
                            Ok(unsafe { crate::accel::assume_utf8(bytes) })
                        } else {
                            crate::utf8::to_str(bytes)
                        };
                        match text {
                            Ok(text) => match chunk {
                                None => Event::Text(text),
                                Some(last) => Event::TextChunk { data: text, last },
                            },
                            Err(_) => {
                                return Err(fail_into(
                                    &mut self.error,
                                    link,
                                    ProtocolError::InvalidUtf8.into(),
                                ));
                            }
                        }
                    }
                }
            }
            #[cfg(feature = "deflate")]
            Ready::Inflated { kind, end, chunk } => self.inflated_event(kind, end, chunk),
            Ready::Ping(s, e) => Event::Ping(&data[s..e]),
            Ready::Pong(s, e) => Event::Pong(&data[s..e]),
            Ready::Close(s, e) => match parse_close_payload(&data[s..e]) {
                Ok(frame) => Event::Close(frame),
                Err(_) => Event::Close(ABNORMAL),
            },
            Ready::Abnormal => Event::Close(ABNORMAL),
        })
    }

    /// Nothing more can be decoded now: report the end of the stream if it
    /// came, else ask for more bytes.
    pub(crate) fn need_more(&mut self, link: Link<'_>) -> Option<Ready> {
        let life = link.life.get();
        if life.eof && !life.state.is_terminal() {
            link.set(Input::Eof);
            self.pos = self.buf.end;
            self.release = Release::Message;
            self.asm.finish();
            Some(Ready::Abnormal)
        } else {
            None
        }
    }
}

pub(crate) const ABNORMAL: CloseFrame<'static> = CloseFrame {
    code: CloseCode::ABNORMAL,
    reason: "",
};

/// Records a fatal error: sticky, Close queued (unless ours was sent), Failed.
pub(crate) fn fail_into(slot: &mut Option<Error>, link: Link<'_>, error: Error) -> Error {
    if let Error::Protocol(e) = error {
        if link.life.get().state == State::Open {
            link.close(Some(e.close_code()));
        }
    }
    *slot = Some(error);
    link.set(Input::Error);
    error
}

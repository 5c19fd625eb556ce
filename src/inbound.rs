//! The receive side: bytes in, events out (RFC 6455 §4, §5, §7).
//!
//! [`RxCore`] owns the receive buffer and turns it into events one at a time.
//! During the handshake it finds the end of the HTTP head and parses it once;
//! afterwards it decodes frame headers, unmasks payload in place, and keeps a
//! message's payload contiguous by moving later fragments down over the
//! headers between them, so whole messages are handed out as one borrowed
//! slice. Replies the peer is owed (Pong, Close echo, the Close for a protocol
//! error, an HTTP error) are queued at once through [`Link`], which shares the
//! send side with the outbound half; only a Pong held back under output
//! backlog waits in [`Owed`].

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use crate::assemble::{Assembler, MessageKind};
use crate::buffer::RecvBuf;
use crate::close::{CloseCode, CloseFrame, parse_close_payload};
use crate::config::Config;
use crate::connection::Role;
use crate::error::{Error, HandshakeError, ProtocolError};
use crate::event::Event;
use crate::frame::decode::{HeaderRules, decode_header};
use crate::frame::mask::{apply_mask, apply_mask_ascii, mask_copy};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, Opcode};
use crate::handshake::{AcceptKey, HeadScanner, ParsedHead, Request, Response, client, server};
use crate::outbound::TxCore;
use crate::state::{Input, Life, State};
use crate::utf8::validate_prefix;

/// A Pong held back while too much output is waiting (RFC 6455 §5.5.3 lets
/// an endpoint answer only the most recent Ping); written once output drains.
#[derive(Debug)]
pub(crate) struct Owed {
    /// Payload of the latest unanswered Ping.
    pub(crate) pong: [u8; MAX_CONTROL_PAYLOAD],
    /// Length of `pong`, if a Pong is owed.
    pub(crate) pong_len: Option<u8>,
}

impl Owed {
    const fn new() -> Self {
        Self {
            pong: [0; MAX_CONTROL_PAYLOAD],
            pong_len: None,
        }
    }
}

/// Output above which a Pong waits instead of being queued at once.
pub(crate) const PONG_BACKLOG: usize = 16 << 10;

/// What the receive side shares with the rest of the connection: the state
/// and the send side, where replies (Pong, Close echo, the Close for a
/// protocol error, an HTTP error) are queued the moment they are owed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link<'a> {
    pub(crate) life: &'a Cell<Life>,
    pub(crate) tx: &'a RefCell<TxCore>,
}

impl Link<'_> {
    pub(crate) fn set(self, input: Input) {
        self.life.set(self.life.get().on(input));
    }

    /// Queues a Close (empty for `None`) unless ours was already sent.
    fn close(self, code: Option<CloseCode>) {
        if !self.life.get().close_sent {
            self.tx.borrow_mut().write_close(self.life, code, "");
        }
    }

    /// Answers a Ping, or holds the Pong back under output backlog. Also
    /// after our own Close: RFC 6455 §5.5.2 exempts only an endpoint that
    /// already received a Close, and §5.5.1 forbids only data frames.
    fn pong(self, owed: &mut Owed, payload: &[u8]) {
        let mut tx = self.tx.borrow_mut();
        if tx.buf.pending().len() >= PONG_BACKLOG {
            owed.pong[..payload.len()].copy_from_slice(payload);
            owed.pong_len = Some(payload.len() as u8);
        } else {
            owed.pong_len = None;
            tx.frame(true, Opcode::Pong, &[payload]);
        }
    }
}

/// Handshake progress, boxed so an open connection does not carry it.
#[derive(Debug)]
enum Handshake {
    /// Server: reading the request head.
    ServerAwaiting(HeadScanner),
    /// Server: request reported; waiting for accept or reject.
    ServerPending { parsed: ParsedHead },
    /// Client: reading the response head (and a rejection's body).
    ClientAwaiting {
        scanner: HeadScanner,
        accept: AcceptKey,
        offered: Vec<u8>,
        rejected: Option<ParsedHead>,
    },
    /// Client: the response was reported; kept until the next call.
    Reported(ParsedHead),
}

/// What the decoder is in the middle of.
#[derive(Clone, Copy, Debug)]
enum Phase {
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
}

/// What the previous event lent out, given back at the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Release {
    Nothing,
    /// A whole message or its last chunk: the message region is free.
    Message,
    /// A chunk: its bytes are free, an incomplete character stays.
    Chunk,
    /// A handshake head (and body) of this many bytes.
    Head(usize),
}

/// An event located by indices; turned into a borrowed [`Event`] last.
#[derive(Clone, Copy, Debug)]
enum Ready {
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
    Ping(usize, usize),
    Pong(usize, usize),
    Close(usize, usize),
    Abnormal,
}

/// The receive side of a connection.
#[derive(Debug)]
pub(crate) struct RxCore {
    role: Role,
    pub(crate) config: Config,
    pub(crate) buf: RecvBuf,
    phase: Phase,
    asm: Assembler,
    /// Start of the current message's undelivered payload.
    msg_start: usize,
    /// End of the current message's payload moved into place.
    msg_end: usize,
    /// End of the longest validated prefix of whole characters (text).
    valid: usize,
    /// Next byte to decode.
    pos: usize,
    release: Release,
    pub(crate) owed: Owed,
    handshake: Option<Box<Handshake>>,
    error: Option<Error>,
    /// Work done on the handshake so far, for work-bound tests.
    work: HandshakeWork,
    /// The largest payload [`small_message`](Self::small_message) takes:
    /// 125 (the 7-bit length form) or less if a limit is lower.
    small_limit: u8,
}

/// Work done parsing a handshake: bytes scanned for the end of the head, and
/// full parses (httparse runs once, on a complete head).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandshakeWork {
    /// Bytes examined while looking for the blank line that ends the head.
    pub bytes_scanned: usize,
    /// Calls to the HTTP parser.
    pub parses: usize,
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
            work: HandshakeWork::default(),
            small_limit: config
                .get_chunk_threshold()
                .min(config.get_max_frame_size())
                .min(config.get_max_message_size())
                .min(125) as u8,
        }
    }

    /// Client: remember what the response must match.
    pub(crate) fn expect_response(&mut self, accept: AcceptKey, offered: Vec<u8>) {
        self.handshake = Some(Box::new(Handshake::ClientAwaiting {
            scanner: HeadScanner::default(),
            accept,
            offered,
            rejected: None,
        }));
    }

    // ----- buffer management -------------------------------------------------

    /// Gives back what the last event lent and recomputes the live start.
    fn release_pending(&mut self) {
        match core::mem::replace(&mut self.release, Release::Nothing) {
            Release::Nothing => {}
            Release::Message => {
                self.msg_start = self.pos;
                self.msg_end = self.pos;
                self.valid = self.pos;
            }
            Release::Chunk => self.msg_start = self.valid,
            Release::Head(len) => {
                self.buf.start += len;
                self.pos = self.buf.start;
                self.msg_start = self.pos;
                self.msg_end = self.pos;
                self.valid = self.pos;
                self.handshake = None;
            }
        }
        if self.handshake.is_none() {
            self.buf.start = if self.asm.kind.is_some() {
                self.msg_start
            } else {
                self.pos
            };
        }
    }

    /// Moves every index down by `by` after live bytes moved to the front.
    /// Between messages the message indices follow `pos`; they may point
    /// before the live start (at a consumed control frame) and are not kept.
    fn shift(&mut self, by: usize) {
        self.pos -= by;
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

    fn prepare_input(&mut self, room: usize) {
        self.release_pending();
        if self.asm.kind.is_some() && self.msg_end < self.pos {
            // Close the gap of consumed headers (and control frames) between
            // the message so far and the undecoded bytes, so a message of
            // many small fragments holds only its payload.
            crate::counters::moved(self.buf.end - self.pos);
            self.buf
                .data
                .copy_within(self.pos..self.buf.end, self.msg_end);
            self.buf.end -= self.pos - self.msg_end;
            self.pos = self.msg_end;
        }
        let moved = self
            .buf
            .rewind_if_empty(self.config.get_buffer_high_water());
        self.shift(moved);
        // A read that ends the announced payload has its usual room too.
        let room = room.saturating_add(self.announced());
        let moved = self.buf.reserve(room, self.config.max_receive_buffer());
        self.shift(moved);
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
    pub(crate) fn read_buf(&mut self) -> &mut [u8] {
        self.prepare_input(self.config.get_read_buf_size());
        let end = self.buf.end;
        &mut self.buf.data[end..]
    }

    /// Marks `n` bytes of the spare room as received. After a fatal error
    /// input is dropped: nothing more will be decoded.
    pub(crate) fn commit(&mut self, n: usize) {
        if self.error.is_none() {
            self.buf.end = (self.buf.end + n).min(self.buf.data.len());
        }
    }

    /// Copies `bytes` in as received (dropped after a fatal error).
    ///
    /// When the bytes continue the masked payload of a data frame whose
    /// header was decoded, they are unmasked while they are copied and, for
    /// text, checked for ASCII in the same pass (the payload phase then has
    /// nothing left to do for them but hand them out).
    pub(crate) fn receive(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || self.error.is_some() {
            return;
        }
        self.prepare_input(bytes.len());
        let rest = self.receive_payload(bytes);
        let end = self.buf.end;
        self.buf.data[end..end + rest.len()].copy_from_slice(rest);
        self.buf.end += rest.len();
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
        let start = self.buf.end;
        let ascii = mask_copy(&mut self.buf.data[start..start + n], now, mask, offset);
        self.buf.end += n;
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

    /// Heap bytes held by the receive side.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.capacity()
            + if self.handshake.is_some() {
                core::mem::size_of::<Handshake>()
            } else {
                0
            }
    }

    /// Releases the receive buffer if it holds nothing.
    pub(crate) fn shrink(&mut self) {
        self.release_pending();
        let moved = self.buf.rewind_if_empty(0);
        self.shift(moved);
    }

    // ----- errors --------------------------------------------------------------

    fn fail(&mut self, error: Error, link: Link<'_>) -> Error {
        fail_into(&mut self.error, link, error)
    }

    // ----- events ----------------------------------------------------------------

    /// The next event, `Ok(None)` when more bytes are needed.
    #[inline(always)]
    pub(crate) fn next_event<'s>(&'s mut self, link: Link<'_>) -> Result<Option<Event<'s>>, Error> {
        self.release_pending();
        if self.handshake.is_some() {
            self.settle_answered(link.life.get().state);
        }
        if let Some(error) = self.error {
            return Err(error);
        }
        let state = link.life.get().state;
        if matches!(self.phase, Phase::Header) && matches!(state, State::Open | State::CloseSent) {
            if let Some((kind, start, end)) = self.small_message() {
                let bytes = &self.buf.data[start..end];
                return match kind {
                    MessageKind::Binary => Ok(Some(Event::Binary(bytes))),
                    MessageKind::Text => match crate::utf8::to_str(bytes) {
                        Ok(text) => Ok(Some(Event::Text(text))),
                        Err(_) => Err(fail_into(
                            &mut self.error,
                            link,
                            ProtocolError::InvalidUtf8.into(),
                        )),
                    },
                };
            }
        }
        self.next_event_general(link)
    }

    /// Everything but the one-step path of [`next_event`](Self::next_event),
    /// kept out of line so the common case inlines into the caller.
    #[inline(never)]
    fn next_event_general<'s>(&'s mut self, link: Link<'_>) -> Result<Option<Event<'s>>, Error> {
        let ready = match link.life.get().state {
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
        };
        match ready {
            Some(ready) => self.event(ready, link).map(Some),
            None => Ok(None),
        }
    }

    /// The pending handshake request (server, between the event and accept/reject).
    pub(crate) fn request(&self) -> Option<Request<'_>> {
        match self.handshake.as_deref() {
            Some(Handshake::ServerPending { parsed, .. }) => Some(Request::new(
                &self.buf.data[self.buf.start..self.buf.start + parsed.len],
                parsed,
            )),
            _ => None,
        }
    }

    /// Server: a request answered through the outbound half (while its event
    /// was borrowed) is finished here, at the next call: its bytes are
    /// consumed, and what was pipelined after it is kept after an accept and
    /// dropped after a reject.
    fn settle_answered(&mut self, state: State) {
        let answered = matches!(
            self.handshake.as_deref(),
            Some(Handshake::ServerPending { .. })
        ) && state != State::RequestReceived;
        if answered {
            self.finish_request(!matches!(state, State::Open | State::CloseSent));
        }
    }

    /// Server: the request was answered; its bytes are consumed and anything
    /// pipelined after it stays for the frame decoder.
    pub(crate) fn finish_request(&mut self, discard_rest: bool) {
        if let Some(Handshake::ServerPending { parsed, .. }) = self.handshake.as_deref() {
            self.release = Release::Head(parsed.len);
            self.release_pending();
        }
        if discard_rest {
            self.pos = self.buf.end;
            self.buf.start = self.buf.end;
        }
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
                            // the unmasking pass found every byte ASCII, and by
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
    fn need_more(&mut self, link: Link<'_>) -> Option<Ready> {
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

    fn server_handshake(&mut self, link: Link<'_>) -> Result<Option<Ready>, Error> {
        let max = self.config.get_max_handshake_bytes();
        let head = &self.buf.data[self.buf.start..self.buf.end];
        let Some(Handshake::ServerAwaiting(scanner)) = self.handshake.as_deref_mut() else {
            return Ok(None);
        };
        let before = scanner.scanned();
        let end = scanner.find_end(head);
        self.work.bytes_scanned += scanner.scanned() - before;
        let result = match end {
            None if head.len() > max => Err(HandshakeError::HeadersTooLarge),
            None => return Ok(self.need_more(link)),
            Some(len) if len > max => Err(HandshakeError::HeadersTooLarge),
            Some(len) => {
                self.work.parses += 1;
                server::parse_request(&head[..len], self.config.get_max_headers())
            }
        };
        match result {
            Ok(parsed) => {
                self.handshake = Some(Box::new(Handshake::ServerPending { parsed }));
                link.set(Input::RequestValid);
                Ok(Some(Ready::Request))
            }
            Err(e) => {
                link.tx
                    .borrow_mut()
                    .buf
                    .append(|out| server::write_error(out, e));
                Err(self.fail(e.into(), link))
            }
        }
    }

    fn client_handshake(&mut self, link: Link<'_>) -> Result<Option<Ready>, Error> {
        let max = self.config.get_max_handshake_bytes();
        let max_headers = self.config.get_max_headers();
        let received = &self.buf.data[self.buf.start..self.buf.end];
        let Some(Handshake::ClientAwaiting {
            scanner,
            accept,
            offered,
            rejected,
        }) = self.handshake.as_deref_mut()
        else {
            return Ok(None);
        };
        if let Some(parsed) = rejected {
            // A rejection: wait for its body as far as Content-Length says.
            let want = parsed.body_len.unwrap_or(usize::MAX).min(max);
            let have = received.len() - parsed.len;
            if have < want && !link.life.get().eof {
                return Ok(None);
            }
            let head = parsed.len;
            let end = head + have.min(want);
            let parsed = core::mem::take(parsed);
            self.handshake = Some(Box::new(Handshake::Reported(parsed)));
            self.release = Release::Head(received.len());
            link.set(Input::Rejected);
            return Ok(Some(Ready::Rejected { head, end }));
        }
        let before = scanner.scanned();
        let end = scanner.find_end(received);
        self.work.bytes_scanned += scanner.scanned() - before;
        let len = match end {
            Some(len) if len <= max => len,
            None if received.len() <= max => return Ok(self.need_more(link)),
            _ => return Err(self.fail(HandshakeError::ResponseTooLarge.into(), link)),
        };
        self.work.parses += 1;
        let parsed = match client::parse_response(&received[..len], max_headers) {
            Ok(parsed) => parsed,
            Err(e) => return Err(self.fail(e.into(), link)),
        };
        if parsed.status() != 101 {
            *rejected = Some(parsed);
            return self.client_handshake(link);
        }
        if let Err(e) = client::check_101(&received[..len], &parsed, accept, offered) {
            return Err(self.fail(e.into(), link));
        }
        self.handshake = Some(Box::new(Handshake::Reported(parsed)));
        self.release = Release::Head(len);
        link.set(Input::ResponseValid);
        Ok(Some(Ready::Response(len)))
    }

    fn frames(&mut self, link: Link<'_>) -> Result<Option<Ready>, Error> {
        let rules = HeaderRules {
            expect_masked: self.role == Role::Server,
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
                    if header.opcode.is_control() {
                        self.phase = Phase::Control {
                            opcode: header.opcode,
                            // Control lengths are at most 125 (checked by the decoder).
                            len: header.len as usize,
                            mask: header.mask,
                        };
                        continue;
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
                    if let Some(mask) = mask {
                        apply_mask(&mut self.buf.data[start..end], mask, 0);
                    }
                    self.pos = end;
                    self.phase = Phase::Header;
                    return match opcode {
                        Opcode::Ping => {
                            let answer = matches!(link.life.get().state, State::Open | State::CloseSent);
                            if self.config.get_auto_pong() && answer {
                                link.pong(&mut self.owed, &self.buf.data[start..end]);
                            }
                            Ok(Some(Ready::Ping(start, end)))
                        }
                        Opcode::Pong => Ok(Some(Ready::Pong(start, end))),
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
                        if let Some(mask) = mask {
                            let bytes = &mut self.buf.data[start..end];
                            if kind == MessageKind::Text {
                                // Unmask and check ASCII in one pass.
                                ascii = apply_mask_ascii(bytes, mask, offset);
                            } else {
                                apply_mask(bytes, mask, offset);
                            }
                        }
                        if self.msg_end != start {
                            crate::counters::moved(n);
                            self.buf.data.copy_within(start..end, self.msg_end);
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
    /// buffered, and no fragmented message in progress. Such a header
    /// breaks no rule of RFC 6455 §5.2; anything else returns `None` and
    /// takes the general path.
    #[inline(always)]
    fn small_message(&mut self) -> Option<(MessageKind, usize, usize)> {
        let avail = &self.buf.data[self.pos..self.buf.end];
        let [b0, b1, ..] = *avail else {
            return None;
        };
        let kind = match b0 {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let masked = b1 & 0x80 != 0;
        let len = b1 & 0x7f;
        let head = if masked { 6 } else { 2 };
        if masked != (self.role == Role::Server)
            || len > self.small_limit
            || avail.len() < head + usize::from(len)
            || self.asm.kind.is_some()
        {
            return None;
        }
        let start = self.pos + head;
        let end = start + usize::from(len);
        if masked {
            let mut key = [0u8; 4];
            key.copy_from_slice(&avail[2..6]);
            apply_mask(&mut self.buf.data[start..end], key, 0);
        }
        self.pos = end;
        self.release = Release::Message;
        Some((kind, start, end))
    }

    /// The common case in one step: an unfragmented message whose payload is
    /// already buffered and within every limit is unmasked and handed out
    /// without going through the payload phase. Anything else returns `None`
    /// and takes the general path, which applies the same rules.
    #[inline]
    fn whole_message(&mut self, header: &FrameHeader) -> Option<Ready> {
        let kind = match header.opcode {
            Opcode::Text => MessageKind::Text,
            Opcode::Binary => MessageKind::Binary,
            _ => return None,
        };
        let len = usize::try_from(header.len).ok()?;
        let fits = header.fin
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
        let validated = match header.mask {
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

    /// Work done on the handshake so far.
    pub(crate) fn handshake_work(&self) -> HandshakeWork {
        self.work
    }
}

const ABNORMAL: CloseFrame<'static> = CloseFrame {
    code: CloseCode::ABNORMAL,
    reason: "",
};

/// Records a fatal error: sticky, Close queued (unless ours was sent), Failed.
fn fail_into(slot: &mut Option<Error>, link: Link<'_>, error: Error) -> Error {
    if let Error::Protocol(e) = error {
        if link.life.get().state == State::Open {
            link.close(Some(e.close_code()));
        }
    }
    *slot = Some(error);
    link.set(Input::Error);
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::frame::encode::encode_frame;
    use crate::handshake::Accept;
    use crate::{Connection, Error, ProtocolError};
    use alloc::vec::Vec;

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

    fn open() -> Connection {
        let mut conn = Connection::server(Config::new());
        conn.receive(REQUEST);
        assert!(matches!(
            conn.next_event(),
            Ok(Some(Event::HandshakeRequest(_)))
        ));
        conn.accept(Accept::new()).unwrap();
        let n = conn.transmit().len();
        conn.advance(n);
        conn
    }

    fn masked(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(
            &mut out,
            true,
            opcode,
            Some([0x37, 0xfa, 0x21, 0x3d]),
            payload,
        );
        out
    }

    /// Feeds `frame` in two `receive` calls split at `cut` (after its
    /// header), draining events after the first. Returns how many payload
    /// bytes were validated right after the second `receive`, before any
    /// `next_event` (all of them when the fused path took them), and the
    /// event or error that follows.
    fn two_pieces(frame: &[u8], cut: usize) -> (usize, Result<Option<Vec<u8>>, Error>) {
        let mut conn = open();
        conn.receive(&frame[..cut]);
        assert!(matches!(conn.next_event(), Ok(None)));
        conn.receive(&frame[cut..]);
        let covered = conn.rx.valid - conn.rx.msg_start;
        let event = conn.next_event().map(|e| {
            e.map(|e| match e {
                Event::Text(t) => t.as_bytes().to_vec(),
                Event::Binary(b) => b.to_vec(),
                other => panic!("unexpected {other:?}"),
            })
        });
        (covered, event)
    }

    #[test]
    fn ascii_payload_is_unmasked_and_checked_while_copied() {
        let text: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let frame = masked(Opcode::Text, &text);
        for cut in [8, 9, 8 + 64, 8 + 333, frame.len() - 1] {
            let (covered, event) = two_pieces(&frame, cut);
            assert_eq!(
                covered,
                text.len(),
                "cut {cut}: all of it validated on receive"
            );
            assert_eq!(event.unwrap().unwrap(), text, "cut {cut}");
        }
    }

    #[test]
    fn multibyte_payload_is_unmasked_on_receive_and_validated_once() {
        let text = "aé€😀κόσμε".repeat(40).into_bytes();
        let frame = masked(Opcode::Text, &text);
        for cut in 5..frame.len() {
            let (_, event) = two_pieces(&frame, cut);
            assert_eq!(event.unwrap().unwrap(), text, "cut {cut}");
        }
    }

    /// A byte that can never be valid, and a message that ends inside a
    /// character, fail with `InvalidUtf8` (1007) wherever the reads split.
    #[test]
    fn invalid_text_fails_whichever_path_checks_it() {
        let mut bad_byte = b"x".repeat(300);
        bad_byte[250] = 0xff;
        let mut cut_char = b"y".repeat(200);
        cut_char.extend_from_slice(&"€".as_bytes()[..2]);
        for (text, cuts) in [(bad_byte, [8, 100, 8 + 250]), (cut_char, [8, 150, 209])] {
            let frame = masked(Opcode::Text, &text);
            for cut in cuts {
                let (_, event) = two_pieces(&frame, cut);
                assert_eq!(
                    event,
                    Err(Error::Protocol(ProtocolError::InvalidUtf8)),
                    "cut {cut}"
                );
            }
        }
    }

    #[test]
    fn binary_payload_is_unmasked_on_receive() {
        let data: Vec<u8> = (0..700u32).map(|i| (i * 7) as u8).collect();
        let frame = masked(Opcode::Binary, &data);
        for cut in [8, 9, 300, frame.len() - 1] {
            let (covered, event) = two_pieces(&frame, cut);
            assert_eq!(covered, data.len());
            assert_eq!(event.unwrap().unwrap(), data);
        }
    }

    /// Every two-byte header start the fast path takes, in both roles and
    /// with a limit below 125, is one the general decoder accepts as a whole
    /// text or binary frame of that length within the limits; and it takes
    /// every such frame it can.
    #[test]
    fn small_message_takes_exactly_the_frames_the_decoder_allows() {
        use crate::frame::decode::{HeaderRules, decode_header};
        for (role, limit) in [(Role::Server, 125), (Role::Client, 125), (Role::Server, 40)] {
            let config = Config::new().max_message_size(limit);
            let rules = HeaderRules {
                expect_masked: role == Role::Server,
                allowed_rsv: 0,
            };
            for b0 in 0..=255u8 {
                for b1 in 0..=255u8 {
                    let mut input = alloc::vec![b0, b1, 1, 2, 3, 4];
                    input.resize(6 + 127, b'a');
                    let mut rx = RxCore::new(role, config);
                    rx.handshake = None;
                    rx.buf.data = input.clone();
                    rx.buf.end = input.len();
                    let fast = rx.small_message();
                    let general = decode_header(&input, rules);
                    let allowed = match general {
                        Ok(Some((h, n))) => {
                            h.fin
                                && matches!(h.opcode, Opcode::Text | Opcode::Binary)
                                && h.len <= limit as u64
                                && h.len < 126
                                && Some((n, h.len as usize))
                                    == fast.map(|(_, start, end)| (start, end - start))
                        }
                        _ => false,
                    };
                    let eligible = matches!(general, Ok(Some((h, _)))
                        if h.fin
                            && matches!(h.opcode, Opcode::Text | Opcode::Binary)
                            && h.len <= limit as u64 && h.len < 126);
                    assert_eq!(fast.is_some(), eligible, "{role:?} {b0:#04x} {b1:#04x}");
                    if fast.is_some() {
                        assert!(allowed, "{role:?} {b0:#04x} {b1:#04x}");
                    }
                }
            }
        }
    }
}

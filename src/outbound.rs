//! The send side: API calls in, frames out (RFC 6455 §5, §7).
//!
//! [`TxCore`] encodes messages, fragments and control frames into the one
//! transmit buffer, masking them on a client with keys from its
//! [`MaskSource`]. It enforces the sending rules: nothing before the handshake
//! completes, nothing after our Close, no whole message in the middle of a
//! fragmented one, control payloads of at most 125 bytes, and only close codes
//! that may be sent.

use alloc::boxed::Box;
use core::cell::Cell;

use crate::assemble::MessageKind;
use crate::buffer::SendBuf;
use crate::close::{CloseCode, MAX_REASON_LEN};
use crate::connection::Role;
use crate::error::UsageError;
use crate::frame::encode::write_frame;
use crate::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode};
use crate::rng::MaskSource;
use crate::state::{Input, Life};

/// The send side of a connection.
pub(crate) struct TxCore {
    role: Role,
    pub(crate) buf: SendBuf,
    rng: Option<Box<dyn MaskSource>>,
    fragment: Option<MessageKind>,
    /// `Config::buffer_high_water`, kept in 32 bits (saturating).
    high_water: u32,
    /// The subprotocol the handshake agreed on, if any. Boxed so the
    /// field is one pointer (a `String` would add 16 bytes to every
    /// connection for what most never use).
    #[allow(clippy::box_collection)]
    pub(crate) protocol: Option<Box<alloc::string::String>>,
    /// permessage-deflate: the policy (before the handshake) and, once
    /// agreed, the compressor.
    #[cfg(feature = "deflate")]
    pub(crate) deflate: crate::extension::Compression,
}

impl core::fmt::Debug for TxCore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TxCore")
            .field("role", &self.role)
            .field("pending", &self.buf.pending().len())
            .field("fragment", &self.fragment)
            .finish_non_exhaustive()
    }
}

impl TxCore {
    pub(crate) fn new(
        role: Role,
        rng: Option<Box<dyn MaskSource>>,
        config: &crate::Config,
    ) -> Self {
        Self {
            role,
            buf: SendBuf::default(),
            rng,
            fragment: None,
            high_water: u32::try_from(config.get_buffer_high_water()).unwrap_or(u32::MAX),
            protocol: None,
            #[cfg(feature = "deflate")]
            deflate: crate::extension::Compression::with_policy(config.get_deflate()),
        }
    }

    /// `Config::buffer_high_water`.
    pub(crate) fn high_water(&self) -> usize {
        self.high_water as usize
    }

    /// Records the agreed subprotocol.
    pub(crate) fn agree_protocol(&mut self, protocol: Option<&str>) {
        self.protocol = protocol.map(|p| Box::new(alloc::string::String::from(p)));
    }

    /// Random bytes from the mask source (client only has one).
    pub(crate) fn random(&mut self, out: &mut [u8]) {
        if let Some(rng) = self.rng.as_mut() {
            rng.fill(out);
        }
    }

    /// A fresh masking key on a client, `None` on a server.
    pub(crate) fn mask(&mut self) -> Option<[u8; 4]> {
        match self.role {
            Role::Server => None,
            Role::Client => self.rng.as_mut().map(|rng| rng.mask()),
        }
    }

    /// Appends a frame with the role's masking.
    #[inline]
    pub(crate) fn frame(&mut self, fin: bool, opcode: Opcode, parts: &[&[u8]]) {
        self.frame_rsv(fin, opcode, parts, 0);
    }

    /// Appends a frame with RSV bits `rsv` (`0x40`: RSV1, compressed).
    #[inline]
    pub(crate) fn frame_rsv(&mut self, fin: bool, opcode: Opcode, parts: &[&[u8]], rsv: u8) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mask = self.mask();
        let room = self.buf.room(len + MAX_HEADER_LEN, self.high_water());
        let n = write_frame(room, fin, opcode, mask, parts);
        room[0] |= rsv;
        self.buf.filled(n);
    }

    #[inline]
    fn check_open(&self, life: &Cell<Life>) -> Result<(), UsageError> {
        let life = life.get();
        if life.can_send() {
            Ok(())
        } else {
            Err(Self::not_open(life))
        }
    }

    /// Why nothing may be sent now (kept off the hot path).
    #[cold]
    #[inline(never)]
    fn not_open(life: Life) -> UsageError {
        if life.state.is_handshaking() {
            UsageError::NotOpen
        } else {
            UsageError::Closed
        }
    }

    /// Whether a whole message may be queued now.
    #[inline]
    pub(crate) fn check_message(&self, life: &Cell<Life>) -> Result<(), UsageError> {
        let now = life.get();
        if now.can_send() && self.fragment.is_none() {
            Ok(())
        } else {
            Err(self.refusal(now))
        }
    }

    /// Why a whole message may not be queued now (kept off the hot path).
    #[cold]
    #[inline(never)]
    fn refusal(&self, life: Life) -> UsageError {
        if !life.can_send() {
            Self::not_open(life)
        } else {
            UsageError::FragmentInProgress
        }
    }

    /// Whether frames from this side are masked (a client's).
    pub(crate) fn masks(&self) -> bool {
        self.role == Role::Client
    }

    /// Appends bytes that are already a frame's wire form (header and
    /// payload encoded, masked if need be) behind what is queued.
    pub(crate) fn append_raw(&mut self, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let room = self.buf.room(len, self.high_water());
        let mut at = 0;
        for part in parts {
            room[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        self.buf.filled(len);
    }

    #[inline]
    pub(crate) fn send_message(
        &mut self,
        life: &Cell<Life>,
        kind: MessageKind,
        payload: &[u8],
    ) -> Result<(), UsageError> {
        self.check_message(life)?;
        #[cfg(feature = "deflate")]
        if self.deflate.agreed() {
            self.send_compressed(kind.opcode(), payload, true, true);
            return Ok(());
        }
        self.frame(true, kind.opcode(), &[payload]);
        Ok(())
    }

    /// Queues a prepared message's frame where it fits, else its payload.
    pub(crate) fn send_prepared(
        &mut self,
        life: &Cell<Life>,
        message: &crate::PreparedMessage,
    ) -> Result<(), UsageError> {
        self.check_message(life)?;
        if self.masks() {
            // A client masks every frame with its own keys.
            return self.send_message(life, message.kind(), message.payload());
        }
        #[cfg(feature = "deflate")]
        if self.deflate.agreed() {
            let compressed = message.compressed_frame();
            match self
                .deflate
                .prepared_fit(compressed.map(|(bits, _)| bits), message.payload().len())
            {
                crate::extension::PreparedFit::Compressed => match compressed {
                    Some((_, Some(frame))) => self.share(frame),
                    // Compressing did not make it smaller: as it is.
                    _ => self.share(message.frame()),
                },
                crate::extension::PreparedFit::Plain => self.share(message.frame()),
                crate::extension::PreparedFit::Neither => {
                    return self.send_message(life, message.kind(), message.payload());
                }
            }
            return Ok(());
        }
        self.share(message.frame());
        Ok(())
    }

    /// Queues a frame shared with other connections (by reference while
    /// nothing else is queued).
    fn share(&mut self, frame: &crate::buffer::SharedFrame) {
        let high_water = self.high_water();
        self.buf.share(frame, high_water);
    }

    pub(crate) fn send_fragment(
        &mut self,
        life: &Cell<Life>,
        kind: MessageKind,
        payload: &[u8],
        last: bool,
    ) -> Result<(), UsageError> {
        self.check_open(life)?;
        let opcode = match self.fragment {
            None => kind.opcode(),
            Some(current) if current == kind => Opcode::Continuation,
            Some(_) => return Err(UsageError::FragmentKindMismatch),
        };
        #[cfg(feature = "deflate")]
        if self.deflate.agreed() {
            self.send_compressed(opcode, payload, last, false);
            self.fragment = if last { None } else { Some(kind) };
            return Ok(());
        }
        self.frame(last, opcode, &[payload]);
        self.fragment = if last { None } else { Some(kind) };
        Ok(())
    }

    pub(crate) fn send_control(
        &mut self,
        life: &Cell<Life>,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<(), UsageError> {
        self.check_open(life)?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(UsageError::ControlPayloadTooLong);
        }
        self.frame(true, opcode, &[payload]);
        Ok(())
    }

    pub(crate) fn close(
        &mut self,
        life: &Cell<Life>,
        code: CloseCode,
        reason: &str,
    ) -> Result<(), UsageError> {
        self.check_open(life)?;
        if !code.is_valid_on_wire() {
            return Err(UsageError::InvalidCloseCode);
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(UsageError::CloseReasonTooLong);
        }
        self.write_close(life, Some(code), reason);
        Ok(())
    }

    /// Appends a Close frame (empty when `code` is `None`) and records it.
    pub(crate) fn write_close(&mut self, life: &Cell<Life>, code: Option<CloseCode>, reason: &str) {
        match code {
            Some(code) => self.frame(
                true,
                Opcode::Close,
                &[&code.0.to_be_bytes(), reason.as_bytes()],
            ),
            None => self.frame(true, Opcode::Close, &[]),
        }
        life.set(life.get().on(Input::CloseQueued));
    }
}

#[cfg(feature = "deflate")]
impl TxCore {
    /// Sends a message or fragment compressed when the agreement, the
    /// threshold and the caller allow it (RFC 7692 §6: RSV1 on the first
    /// frame only). A whole message that would not shrink goes as it is.
    fn send_compressed(&mut self, opcode: Opcode, payload: &[u8], last: bool, whole: bool) {
        let Some(mut deflater) = self.deflate.take_deflater() else {
            return self.frame(last, opcode, &[payload]);
        };
        let first = opcode != Opcode::Continuation;
        let compress = if first {
            let wanted = self.deflate.take_compress_next()
                && (!whole || payload.len() >= self.deflate.threshold());
            deflater.in_message = wanted;
            wanted
        } else {
            deflater.in_message
        };
        if !compress {
            self.frame(last, opcode, &[payload]);
        } else {
            deflater.compress(payload, last);
            if whole && deflater.compressed().len() >= payload.len() {
                // Not worth it: send as it is, and start the next message
                // afresh (the peer's window lacks what we just compressed).
                deflater.forget();
                self.frame(last, opcode, &[payload]);
            } else {
                let rsv = if first { 0x40 } else { 0 };
                self.frame_rsv(last, opcode, &[deflater.compressed()], rsv);
            }
            if whole || last {
                deflater.in_message = false;
            }
        }
        deflater.shrink(self.high_water());
        self.deflate.put_deflater(deflater);
    }
}

//! Message assembly rules (RFC 6455 §5.4): fragments, continuation, limits.
//!
//! `Assembler::begin_frame` is called with each data frame's header before
//! any of its payload is read, so every rule and limit is enforced from the
//! header alone: a continuation needs a message to continue, a new message
//! may not start inside one, and the frame size, message size and fragment
//! count are checked against [`Config`] (close 1009 when exceeded). It also
//! decides whether the message is delivered whole or in chunks. Control frames
//! never reach the assembler, so they interleave freely with fragments.

use crate::config::Config;
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, Opcode};

/// Text or binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Binary data (opcode 0x2).
    Binary,
}

impl MessageKind {
    /// The opcode that starts a message of this kind.
    #[must_use]
    pub const fn opcode(self) -> Opcode {
        match self {
            Self::Text => Opcode::Text,
            Self::Binary => Opcode::Binary,
        }
    }
}

/// The message being received.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Assembler {
    /// Kind of the unfinished message, if one is in progress.
    pub(crate) kind: Option<MessageKind>,
    /// Payload bytes declared by this message's frame headers so far.
    declared: u64,
    /// Frames in this message so far.
    fragments: usize,
    /// Whether the message is delivered in chunks.
    pub(crate) chunked: bool,
}

impl Assembler {
    /// Applies the §5.4 rules and the limits to a data frame's header.
    ///
    /// # Errors
    /// `UnexpectedContinuation`, `ExpectedContinuation`, `FrameTooBig`,
    /// `MessageTooBig` or `TooManyFragments`.
    pub(crate) fn begin_frame(
        &mut self,
        header: &FrameHeader,
        config: &Config,
    ) -> Result<MessageKind, ProtocolError> {
        let kind = match (header.opcode, self.kind) {
            (Opcode::Continuation, Some(kind)) => kind,
            (Opcode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (Opcode::Text, None) => MessageKind::Text,
            (_, None) => MessageKind::Binary,
        };
        if header.len > config.get_max_frame_size() as u64 {
            return Err(ProtocolError::FrameTooBig);
        }
        let declared = self.declared.saturating_add(header.len);
        if declared > config.get_max_message_size() as u64 {
            return Err(ProtocolError::MessageTooBig);
        }
        if self.fragments >= config.get_max_fragments() {
            return Err(ProtocolError::TooManyFragments);
        }
        if self.kind.is_none() {
            self.chunked = false;
        }
        self.kind = Some(kind);
        self.declared = declared;
        self.fragments += 1;
        if declared > config.get_chunk_threshold() as u64 {
            self.chunked = true;
        }
        Ok(kind)
    }

    /// Ends the message after its final frame.
    pub(crate) fn finish(&mut self) {
        self.kind = None;
        self.declared = 0;
        self.fragments = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(fin: bool, opcode: Opcode, len: u64) -> FrameHeader {
        FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask: None,
            len,
        }
    }

    #[test]
    fn continuation_rules() {
        let config = Config::new();
        let mut a = Assembler::default();
        assert_eq!(
            a.begin_frame(&header(true, Opcode::Continuation, 1), &config),
            Err(ProtocolError::UnexpectedContinuation)
        );
        assert_eq!(
            a.begin_frame(&header(false, Opcode::Text, 1), &config),
            Ok(MessageKind::Text)
        );
        assert_eq!(
            a.begin_frame(&header(true, Opcode::Binary, 1), &config),
            Err(ProtocolError::ExpectedContinuation)
        );
        assert_eq!(
            a.begin_frame(&header(true, Opcode::Continuation, 1), &config),
            Ok(MessageKind::Text)
        );
        a.finish();
        assert_eq!(a.kind, None);
    }

    #[test]
    fn limits_are_checked_from_the_header() {
        let config = Config::new()
            .max_frame_size(200)
            .max_message_size(300)
            .max_fragments(3);
        let mut a = Assembler::default();
        assert_eq!(
            a.begin_frame(&header(true, Opcode::Binary, 201), &config),
            Err(ProtocolError::FrameTooBig)
        );
        a.begin_frame(&header(false, Opcode::Binary, 200), &config)
            .unwrap();
        assert_eq!(
            a.begin_frame(&header(false, Opcode::Continuation, 101), &config),
            Err(ProtocolError::MessageTooBig)
        );
        a.begin_frame(&header(false, Opcode::Continuation, 0), &config)
            .unwrap();
        a.begin_frame(&header(false, Opcode::Continuation, 0), &config)
            .unwrap();
        assert_eq!(
            a.begin_frame(&header(false, Opcode::Continuation, 0), &config),
            Err(ProtocolError::TooManyFragments)
        );
    }

    #[test]
    fn messages_above_the_threshold_are_chunked() {
        let config = Config::new().chunk_threshold(10);
        let mut a = Assembler::default();
        a.begin_frame(&header(false, Opcode::Text, 6), &config)
            .unwrap();
        assert!(!a.chunked);
        a.begin_frame(&header(true, Opcode::Continuation, 6), &config)
            .unwrap();
        assert!(a.chunked);
        a.finish();
        a.begin_frame(&header(true, Opcode::Text, 10), &config)
            .unwrap();
        assert!(!a.chunked);
    }
}

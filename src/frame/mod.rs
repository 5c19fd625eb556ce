//! Frames (RFC 6455 §5.2): opcodes, the header type and its size limits.
//!
//! The codec is split by direction: [`decode`] reads a header from received
//! bytes and checks every header rule as soon as the byte carrying it arrives;
//! [`encode`] writes headers and whole frames for sending. Payload masking
//! lives in [`mask`].

pub mod decode;
pub mod encode;
pub mod mask;

/// Largest frame header: 2 bytes, 8 of extended length, 4 of mask key.
pub const MAX_HEADER_LEN: usize = 14;
/// Largest control-frame payload (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame opcode (§5.2). Reserved opcodes are rejected by the decoder and
/// cannot be represented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: first frame of a text message.
    Text = 0x1,
    /// 0x2: first frame of a binary message.
    Binary = 0x2,
    /// 0x8: connection close.
    Close = 0x8,
    /// 0x9: ping.
    Ping = 0x9,
    /// 0xA: pong.
    Pong = 0xA,
}

impl Opcode {
    /// Decodes the low 4 bits of a frame's first byte; `None` for reserved values.
    #[must_use]
    pub const fn from_u8(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// Whether this is a control opcode (Close, Ping, Pong).
    #[must_use]
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the last frame of its message.
    pub fin: bool,
    /// RSV1–RSV3 as the high bits of a byte (`0x70` mask); zero unless an
    /// extension is negotiated.
    pub rsv: u8,
    /// The opcode.
    pub opcode: Opcode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub len: u64,
}

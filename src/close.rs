//! Close codes and close-frame payloads (RFC 6455 §5.5.1, §7.4).
//!
//! A Close frame's payload is empty, or a 2-byte big-endian status code
//! followed by a UTF-8 reason. This module owns the rules for which codes may
//! appear on the wire ([`CloseCode::is_valid_on_wire`]), which codes are only
//! reported locally (1005, 1006, 1015), and the parsing and encoding of the
//! payload, so every close-code rule in the crate lives in one place.

use core::fmt;

use crate::error::ProtocolError;

/// Maximum bytes of a close reason: a control payload is at most 125 bytes,
/// two of which hold the code (§5.5).
pub const MAX_REASON_LEN: usize = 123;

/// A WebSocket close status code (RFC 6455 §7.4).
///
/// A `u16` newtype with named constants for the registered codes. Any value can
/// be held; [`is_valid_on_wire`](Self::is_valid_on_wire) says whether it may be
/// sent or accepted in a Close frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure; the purpose of the connection was fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: the endpoint received a data type it cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: reported locally when a Close frame carried no code. Never sent.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: reported locally when the connection ended without a Close frame.
    /// Never sent.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a text message or close reason was not valid UTF-8.
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: the message violates the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a frame or message is too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client needed an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway received an invalid response (IANA registry).
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: reported locally when the TLS handshake failed. Never sent.
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Whether this code may appear in a Close frame on the wire (§7.4.1, §7.4.2).
    ///
    /// Valid: 1000–1003, 1007–1014 (the registered codes, including the IANA
    /// additions 1012–1014), and 3000–4999 (libraries, frameworks and
    /// applications). Invalid: below 1000, 1004 (reserved), 1005, 1006 and
    /// 1015 (local-only), 1016–2999 (reserved for future RFCs), 5000 and up.
    #[must_use]
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A received or sent Close: its code and reason.
///
/// An empty Close payload is reported as [`CloseCode::NO_STATUS`] (1005) with
/// an empty reason; a connection that ended without a Close frame as
/// [`CloseCode::ABNORMAL`] (1006).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most [`MAX_REASON_LEN`] bytes of UTF-8.
    pub reason: &'a str,
}

/// Parses a received Close payload (§5.5.1).
///
/// # Errors
/// [`ProtocolError::InvalidClosePayload`] for a 1-byte payload,
/// [`ProtocolError::InvalidCloseCode`] for a code outside the valid set, and
/// [`ProtocolError::InvalidCloseReason`] for a reason that is not UTF-8.
pub(crate) fn parse_close_payload(payload: &[u8]) -> Result<CloseFrame<'_>, ProtocolError> {
    match payload {
        [] => Ok(CloseFrame {
            code: CloseCode::NO_STATUS,
            reason: "",
        }),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid_on_wire() {
                return Err(ProtocolError::InvalidCloseCode);
            }
            let reason =
                core::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(CloseFrame { code, reason })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_follows_section_7_4() {
        for code in 0..=999 {
            assert!(!CloseCode(code).is_valid_on_wire(), "{code}");
        }
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ] {
            assert!(CloseCode(code).is_valid_on_wire(), "{code}");
        }
        for code in [1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            assert!(!CloseCode(code).is_valid_on_wire(), "{code}");
        }
        assert!(CloseCode(3000).is_valid_on_wire());
        assert!(CloseCode(4999).is_valid_on_wire());
    }

    #[test]
    fn empty_payload_reports_1005() {
        let frame = parse_close_payload(&[]).unwrap();
        assert_eq!(frame.code, CloseCode::NO_STATUS);
        assert_eq!(frame.reason, "");
    }

    #[test]
    fn one_byte_payload_is_rejected() {
        assert_eq!(
            parse_close_payload(&[3]),
            Err(ProtocolError::InvalidClosePayload)
        );
    }

    #[test]
    fn code_and_reason_are_parsed() {
        let frame = parse_close_payload(b"\x03\xe8bye").unwrap();
        assert_eq!(frame.code, CloseCode::NORMAL);
        assert_eq!(frame.reason, "bye");
        assert_eq!(
            parse_close_payload(b"\x03\xedx"),
            Err(ProtocolError::InvalidCloseCode)
        );
        assert_eq!(
            parse_close_payload(b"\x03\xe8\xff"),
            Err(ProtocolError::InvalidCloseReason)
        );
    }
}

//! Frame header decoding (RFC 6455 §5.2) with every header rule checked.
//!
//! A header is at most 14 bytes, so decoding is a pure function of the bytes
//! received so far: `Ok(None)` means "need more bytes", and a rule broken by a
//! byte that has arrived is reported at once, before the rest of the header
//! or any payload (fail fast).

use super::{FrameHeader, MAX_CONTROL_PAYLOAD, Opcode};
use crate::error::ProtocolError;

/// What the receiving side expects of a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderRules {
    /// `true` on a server (client frames MUST be masked), `false` on a client
    /// (server frames MUST NOT be masked) (§5.1).
    pub expect_masked: bool,
    /// RSV bits a negotiated extension allows (`0x70` mask); zero today.
    pub allowed_rsv: u8,
}

/// Decodes one header from the start of `buf`.
///
/// Returns the header and its length in bytes, or `Ok(None)` if `buf` does not
/// yet hold the whole header.
///
/// # Errors
/// A [`ProtocolError`] as soon as a received byte breaks a rule: reserved
/// opcode or RSV bits, fragmented or oversized control frame, wrong masking
/// for the role, or a 64-bit length with its top bit set.
pub fn decode_header(
    buf: &[u8],
    rules: HeaderRules,
) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
    let Some(&b0) = buf.first() else {
        return Ok(None);
    };
    let fin = b0 & 0x80 != 0;
    let rsv = b0 & 0x70;
    if rsv & !rules.allowed_rsv != 0 {
        return Err(ProtocolError::ReservedBits);
    }
    let opcode = Opcode::from_u8(b0 & 0x0f).ok_or(ProtocolError::ReservedOpcode)?;
    if opcode.is_control() && !fin {
        return Err(ProtocolError::FragmentedControlFrame);
    }
    let Some(&b1) = buf.get(1) else {
        return Ok(None);
    };
    let masked = b1 & 0x80 != 0;
    if masked != rules.expect_masked {
        return Err(if rules.expect_masked {
            ProtocolError::UnmaskedClientFrame
        } else {
            ProtocolError::MaskedServerFrame
        });
    }
    let len7 = b1 & 0x7f;
    if opcode.is_control() && usize::from(len7) > MAX_CONTROL_PAYLOAD {
        return Err(ProtocolError::ControlFrameTooLong);
    }
    let (len, mut pos) = match len7 {
        126 => {
            let Some(ext) = buf.get(2..4) else {
                return Ok(None);
            };
            (u64::from(u16::from_be_bytes([ext[0], ext[1]])), 4)
        }
        127 => {
            let Some(&first) = buf.get(2) else {
                return Ok(None);
            };
            if first & 0x80 != 0 {
                return Err(ProtocolError::InvalidLength);
            }
            let Some(ext) = buf.get(2..10) else {
                return Ok(None);
            };
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(ext);
            (u64::from_be_bytes(bytes), 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        let Some(key) = buf.get(pos..pos + 4) else {
            return Ok(None);
        };
        pos += 4;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    Ok(Some((
        FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            len,
        },
        pos,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: HeaderRules = HeaderRules {
        expect_masked: true,
        allowed_rsv: 0,
    };
    const CLIENT: HeaderRules = HeaderRules {
        expect_masked: false,
        allowed_rsv: 0,
    };

    #[test]
    fn rfc_unmasked_hello_header() {
        let (h, n) = decode_header(&[0x81, 0x05, 0x48], CLIENT).unwrap().unwrap();
        assert_eq!(n, 2);
        assert!(h.fin);
        assert_eq!(h.opcode, Opcode::Text);
        assert_eq!(h.len, 5);
        assert_eq!(h.mask, None);
    }

    #[test]
    fn rfc_masked_hello_header() {
        let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f];
        let (h, n) = decode_header(&bytes, SERVER).unwrap().unwrap();
        assert_eq!(n, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(h.len, 5);
    }

    #[test]
    fn rfc_length_encodings() {
        let (h, n) = decode_header(&[0x82, 0x7e, 0x01, 0x00], CLIENT)
            .unwrap()
            .unwrap();
        assert_eq!((h.len, n), (256, 4));
        let bytes = [0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00];
        let (h, n) = decode_header(&bytes, CLIENT).unwrap().unwrap();
        assert_eq!((h.len, n), (65536, 10));
    }

    #[test]
    fn incomplete_headers_need_more_bytes() {
        let bytes = [0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 1, 2, 3, 4];
        for end in 0..bytes.len() {
            assert_eq!(decode_header(&bytes[..end], SERVER), Ok(None), "{end}");
        }
        assert!(decode_header(&bytes, SERVER).unwrap().is_some());
    }

    #[test]
    fn rules_fail_on_the_first_byte_that_breaks_them() {
        assert_eq!(
            decode_header(&[0xc1], SERVER),
            Err(ProtocolError::ReservedBits)
        );
        assert_eq!(
            decode_header(&[0x83], SERVER),
            Err(ProtocolError::ReservedOpcode)
        );
        assert_eq!(
            decode_header(&[0x0b], SERVER),
            Err(ProtocolError::ReservedOpcode)
        );
        assert_eq!(
            decode_header(&[0x09], SERVER),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            decode_header(&[0x89, 0xfe], SERVER),
            Err(ProtocolError::ControlFrameTooLong)
        );
        assert_eq!(
            decode_header(&[0x81, 0x05], SERVER),
            Err(ProtocolError::UnmaskedClientFrame)
        );
        assert_eq!(
            decode_header(&[0x81, 0x85], CLIENT),
            Err(ProtocolError::MaskedServerFrame)
        );
        assert_eq!(
            decode_header(&[0x82, 0x7f, 0x80], CLIENT),
            Err(ProtocolError::InvalidLength)
        );
    }
}

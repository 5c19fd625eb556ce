//! Frame encoding (RFC 6455 §5.2): headers with the minimal length encoding,
//! and whole frames appended to a transmit buffer with the payload masked.
//!
//! [`encode_header`] alone serves vectored writes: the caller sends the header
//! from a small array and the payload from its own buffer, uncopied (server
//! side, where no mask is applied).

use alloc::vec::Vec;

use super::MAX_HEADER_LEN;
use super::Opcode;
use super::mask::{apply_mask, mask_copy_inline};

/// Writes a frame header into `out` and returns its length.
///
/// `len` is the payload length; the shortest length form is used (§5.2).
/// `mask` is `Some` for client frames (§5.3).
#[must_use]
pub fn encode_header(
    out: &mut [u8; MAX_HEADER_LEN],
    fin: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    len: u64,
) -> usize {
    put_header(out, fin, opcode, mask, len)
}

/// [`encode_header`] into the start of any slice long enough (at least
/// [`MAX_HEADER_LEN`] bytes, or the header's own length).
#[inline]
fn put_header(out: &mut [u8], fin: bool, opcode: Opcode, mask: Option<[u8; 4]>, len: u64) -> usize {
    out[0] = (u8::from(fin) << 7) | opcode as u8;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut pos = if len < 126 {
        out[1] = mask_bit | len as u8;
        2
    } else if let Ok(len16) = u16::try_from(len) {
        out[1] = mask_bit | 126;
        out[2..4].copy_from_slice(&len16.to_be_bytes());
        4
    } else {
        out[1] = mask_bit | 127;
        out[2..10].copy_from_slice(&len.to_be_bytes());
        10
    };
    if let Some(key) = mask {
        out[pos..pos + 4].copy_from_slice(&key);
        pos += 4;
    }
    pos
}

/// Appends a whole frame (header and payload, masked if `mask` is `Some`) to `out`.
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    let mut header = [0u8; MAX_HEADER_LEN];
    let n = encode_header(&mut header, fin, opcode, mask, payload.len() as u64);
    out.reserve(n + payload.len());
    out.extend_from_slice(&header[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
}

/// Writes a frame whose payload is the concatenation of `parts` (a close
/// code and its reason need no temporary buffer) into the start of `out`,
/// masking while copying. `out` must hold at least [`MAX_HEADER_LEN`] bytes
/// more than the payload. Returns the frame's length.
///
/// # Panics
/// If `out` is too short.
pub(crate) fn write_frame(
    out: &mut [u8],
    fin: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    parts: &[&[u8]],
) -> usize {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let n = put_header(out, fin, opcode, mask, len as u64);
    let mut at = n;
    for part in parts {
        let dst = &mut out[at..at + part.len()];
        match mask {
            Some(key) => {
                mask_copy_inline(dst, part, key, at - n);
            }
            None => dst.copy_from_slice(part),
        }
        at += part.len();
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn rfc_single_frame_unmasked_text() {
        let mut out = Vec::new();
        encode_frame(&mut out, true, Opcode::Text, None, b"Hello");
        assert_eq!(out, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    }

    #[test]
    fn rfc_single_frame_masked_text() {
        let mut out = Vec::new();
        encode_frame(
            &mut out,
            true,
            Opcode::Text,
            Some([0x37, 0xfa, 0x21, 0x3d]),
            b"Hello",
        );
        assert_eq!(
            out,
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
    }

    #[test]
    fn rfc_fragmented_text() {
        let mut out = Vec::new();
        encode_frame(&mut out, false, Opcode::Text, None, b"Hel");
        encode_frame(&mut out, true, Opcode::Continuation, None, b"lo");
        assert_eq!(out, [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
    }

    #[test]
    fn rfc_ping_and_pong() {
        let mut out = Vec::new();
        encode_frame(&mut out, true, Opcode::Ping, None, b"Hello");
        assert_eq!(out, [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        out.clear();
        encode_frame(
            &mut out,
            true,
            Opcode::Pong,
            Some([0x37, 0xfa, 0x21, 0x3d]),
            b"Hello",
        );
        assert_eq!(
            out,
            [
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
    }

    #[test]
    fn rfc_256_byte_and_64k_binary_lengths() {
        let mut out = Vec::new();
        encode_frame(&mut out, true, Opcode::Binary, None, &vec![0u8; 256]);
        assert_eq!(&out[..4], [0x82, 0x7e, 0x01, 0x00]);
        assert_eq!(out.len(), 4 + 256);
        out.clear();
        encode_frame(&mut out, true, Opcode::Binary, None, &vec![0u8; 65536]);
        assert_eq!(&out[..10], [0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        assert_eq!(out.len(), 10 + 65536);
    }

    #[test]
    fn shortest_length_form_at_boundaries() {
        let mut h = [0u8; MAX_HEADER_LEN];
        assert_eq!(encode_header(&mut h, true, Opcode::Binary, None, 125), 2);
        assert_eq!(encode_header(&mut h, true, Opcode::Binary, None, 126), 4);
        assert_eq!(encode_header(&mut h, true, Opcode::Binary, None, 65535), 4);
        assert_eq!(encode_header(&mut h, true, Opcode::Binary, None, 65536), 10);
        assert_eq!(
            encode_header(&mut h, true, Opcode::Binary, Some([0; 4]), 65536),
            14
        );
    }
}

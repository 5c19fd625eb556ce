//! Incremental UTF-8 validation for text messages (RFC 6455 §5.6, §8.1).
//!
//! Text arrives in pieces: frames, fragments and partial reads. The engine
//! keeps a message's bytes contiguous, so validation only needs to know where
//! the last complete character ends. [`validate_prefix`] checks new bytes and
//! fails on the first byte that can no longer start or continue a valid
//! sequence (fail fast), while an incomplete character at the end of the bytes
//! received so far is allowed until more bytes arrive. [`to_str`] turns a
//! whole text into `&str`.
//!
//! Validation uses the `simdutf8` crate (SIMD, chosen at run time with `std`),
//! about ten times faster than `core::str::from_utf8` on multi-byte text. An
//! all-ASCII text becomes `&str` after one `is_ascii` pass (`crate::accel`):
//! for a 16-byte message a full validation cost about 110 of the 460
//! instructions spent per message (`benches/instructions.rs` under callgrind;
//! numbers in `docs/performance.md`).

/// The bytes are not, and cannot become, valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

/// Validates `bytes` as the beginning of a UTF-8 text.
///
/// Returns the length of the longest prefix made of complete characters; the
/// bytes after it (at most 3) are a valid but incomplete character.
///
/// # Errors
/// [`InvalidUtf8`] if some byte can never be part of valid UTF-8 in this
/// position, however the text continues.
#[inline]
pub fn validate_prefix(bytes: &[u8]) -> Result<usize, InvalidUtf8> {
    if crate::accel::is_ascii(bytes) {
        return Ok(bytes.len());
    }
    if bytes.len() < SHORT {
        if crate::accel::utf8_short(bytes) == Some(true) {
            return Ok(bytes.len());
        }
        // Without SSSE3, or to tell an incomplete last character from an
        // error: byte by byte.
        return validate_short(bytes);
    }
    match simdutf8::compat::from_utf8(bytes) {
        Ok(_) => Ok(bytes.len()),
        Err(e) if e.error_len().is_none() => Ok(e.valid_up_to()),
        Err(_) => Err(InvalidUtf8),
    }
}

/// Below this length non-ASCII text is validated by
/// [`crate::accel::utf8_short`] (SSSE3, 16 bytes at a time, no setup for
/// long texts), or [`validate_short`] where the CPU lacks SSSE3: for 16
/// bytes of multi-byte text `simdutf8` and `core::str::from_utf8` both cost
/// about 200 instructions, `validate_short` 123 and `utf8_short` 43
/// (`receive_multibyte_16` in `benches/instructions.rs`: 699 instructions
/// per message with `simdutf8`, 619 with `validate_short`, 543 with
/// `utf8_short`'s first form, 455 with its one-block path and the rest of
/// round two's fourth pass).
const SHORT: usize = 64;

/// Validates `bytes` one character at a time by RFC 3629's table of
/// well-formed sequences (no overlong forms, no surrogates, nothing above
/// U+10FFFF), for short texts where a SIMD validator's setup costs more
/// than the bytes. Returns what [`validate_prefix`] does: the length of
/// the whole characters, an incomplete last one allowed.
fn validate_short(bytes: &[u8]) -> Result<usize, InvalidUtf8> {
    // A continuation byte, 0x80..=0xbf, is below -64 as an `i8`.
    let cont = |c: u8| (c as i8) < -64;
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        if b < 0xe0 {
            // Two bytes: C2..DF, then a continuation.
            if b < 0xc2 {
                return Err(InvalidUtf8);
            }
            match bytes.get(i + 1) {
                None => return Ok(i),
                Some(&c) if cont(c) => i += 2,
                Some(_) => return Err(InvalidUtf8),
            }
            continue;
        }
        // Three or four bytes: the range of the second byte depends on
        // the first (no overlong forms, no surrogates, nothing above
        // U+10FFFF).
        let (width, low, high) = match b {
            0xe0 => (3, 0xa0, 0xbf),
            0xe1..=0xec | 0xee..=0xef => (3, 0x80, 0xbf),
            0xed => (3, 0x80, 0x9f),
            0xf0 => (4, 0x90, 0xbf),
            0xf1..=0xf3 => (4, 0x80, 0xbf),
            0xf4 => (4, 0x80, 0x8f),
            _ => return Err(InvalidUtf8),
        };
        let Some(&second) = bytes.get(i + 1) else {
            return Ok(i);
        };
        if second < low || second > high {
            return Err(InvalidUtf8);
        }
        for k in 2..width {
            match bytes.get(i + k) {
                None => return Ok(i),
                Some(&c) if cont(c) => {}
                Some(_) => return Err(InvalidUtf8),
            }
        }
        i += width;
    }
    Ok(n)
}

/// Validates a complete text: every character must be whole.
///
/// # Errors
/// [`InvalidUtf8`] if `bytes` is not valid UTF-8.
#[inline]
pub fn to_str(bytes: &[u8]) -> Result<&str, InvalidUtf8> {
    if let Some(text) = crate::accel::ascii_str(bytes) {
        return Ok(text);
    }
    to_str_unscanned(bytes)
}

/// [`to_str`] without its ASCII shortcut, for text a pass over it already
/// found not all ASCII (the unmasking pass of a small message), where the
/// shortcut would only fail.
#[inline]
pub(crate) fn to_str_unscanned(bytes: &[u8]) -> Result<&str, InvalidUtf8> {
    if bytes.len() < SHORT {
        if let Some(valid) = crate::accel::utf8_short(bytes) {
            return if valid {
                #[allow(unsafe_code)]
                // SAFETY: `utf8_short` found `bytes` whole, valid UTF-8.
                Ok(unsafe { crate::accel::assume_utf8(bytes) })
            } else {
                Err(InvalidUtf8)
            };
        }
        return match validate_short(bytes) {
            #[allow(unsafe_code)]
            // SAFETY: `validate_short` returned the whole length: every
            // character of `bytes` is whole and valid (RFC 3629's table).
            Ok(n) if n == bytes.len() => Ok(unsafe { crate::accel::assume_utf8(bytes) }),
            _ => Err(InvalidUtf8),
        };
    }
    simdutf8::basic::from_utf8(bytes).map_err(|_| InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// `validate_short` against `simdutf8`'s prefix answer and core's
    /// whole-text answer for every sequence of one and two bytes, every
    /// three-byte sequence that starts above 0x7f, and the four-byte ones
    /// around every boundary of the table.
    #[test]
    fn validate_short_agrees_with_simdutf8_and_core() {
        let check = |bytes: &[u8]| {
            let reference = match simdutf8::compat::from_utf8(bytes) {
                Ok(_) => Ok(bytes.len()),
                Err(e) if e.error_len().is_none() => Ok(e.valid_up_to()),
                Err(_) => Err(InvalidUtf8),
            };
            assert_eq!(validate_short(bytes), reference, "{bytes:02x?}");
            assert_eq!(
                to_str(bytes).is_ok(),
                core::str::from_utf8(bytes).is_ok(),
                "{bytes:02x?}"
            );
        };
        for a in 0..=255u8 {
            check(&[a]);
            check(&[b'x', a]);
            for b in 0..=255u8 {
                check(&[a, b]);
                if a >= 0x80 {
                    for c in [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff] {
                        check(&[a, b, c]);
                        check(&[b'a', a, b, c, b'z']);
                    }
                }
            }
        }
        let edges = [0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0];
        for a in [0xf0u8, 0xf1, 0xf3, 0xf4, 0xf5] {
            for &b in &edges {
                for &c in &edges {
                    for &d in &edges {
                        check(&[a, b, c, d]);
                    }
                }
            }
        }
        check("héllo wörld κόσμε € 😀 ".as_bytes());
    }

    #[test]
    fn incomplete_tail_is_allowed() {
        let euro = "€".as_bytes(); // e2 82 ac
        assert_eq!(validate_prefix(&euro[..1]), Ok(0));
        assert_eq!(validate_prefix(&euro[..2]), Ok(0));
        assert_eq!(validate_prefix(euro), Ok(3));
        assert_eq!(validate_prefix(b"ab\xe2\x82"), Ok(2));
    }

    #[test]
    fn fails_fast_on_impossible_bytes() {
        assert_eq!(validate_prefix(b"\xff"), Err(InvalidUtf8));
        assert_eq!(validate_prefix(b"a\xc0"), Err(InvalidUtf8));
        // U+110000 and above can be rejected from the second byte.
        assert_eq!(validate_prefix(b"\xf4\x90"), Err(InvalidUtf8));
        // Surrogates are rejected from the second byte.
        assert_eq!(validate_prefix(b"\xed\xa0"), Err(InvalidUtf8));
        // A lead byte followed by a non-continuation.
        assert_eq!(validate_prefix(b"\xe2a"), Err(InvalidUtf8));
    }

    #[test]
    fn complete_requires_whole_characters() {
        assert!(to_str("κόσμε".as_bytes()).is_ok());
        assert_eq!(to_str(b"\xe2\x82"), Err(InvalidUtf8));
    }

    /// The unchecked ASCII path agrees with the standard library at every
    /// length and alignment, with and without a non-ASCII byte at each
    /// position (valid or not).
    #[test]
    fn to_str_matches_std_at_every_length_and_position() {
        let base: Vec<u8> = (0..200u32).map(|i| b' ' + (i % 90) as u8).collect();
        for start in 0..8 {
            for len in 0..100 {
                let slice = &base[start..start + len];
                assert_eq!(to_str(slice).ok(), core::str::from_utf8(slice).ok());
                for at in 0..len {
                    for byte in [0x80u8, 0xc3, 0xff] {
                        let mut v = slice.to_vec();
                        v[at] = byte;
                        assert_eq!(to_str(&v).ok(), core::str::from_utf8(&v).ok());
                        assert_eq!(
                            validate_prefix(&v).is_ok(),
                            match core::str::from_utf8(&v) {
                                Ok(_) => true,
                                Err(e) => e.error_len().is_none(),
                            }
                        );
                    }
                }
            }
        }
        let text = "aé€😀".repeat(50);
        assert_eq!(to_str(text.as_bytes()), Ok(text.as_str()));
    }
}

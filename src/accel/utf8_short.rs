//! UTF-8 validation of short texts with SSSE3: the table-lookup method
//! (three `pshufb` lookups per 16 bytes) without the setup a validator for
//! long texts pays, for the texts under 64 bytes that most messages are.
//! Part of [`crate::accel`], the crate's only `unsafe` code.

/// Whether `bytes` is whole, valid UTF-8, checked 16 bytes at a time with
/// SSSE3 table lookups (the method of Keiser and
/// Lemire, "Validating UTF-8 in less than one instruction per byte", as
/// `simdutf8` implements it for long texts, without its setup for them: for
/// short texts, which [`crate::utf8`] sends here).
/// `None` where the CPU lacks SSSE3 or `std` cannot tell; the caller then
/// checks byte by byte.
#[inline]
pub(crate) fn utf8_short(bytes: &[u8]) -> Option<bool> {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if has_ssse3() {
        // SAFETY: the function only needs SSSE3, which the CPU was just found
        // to support.
        return Some(unsafe { utf8_short_ssse3(bytes) });
    }
    let _ = bytes;
    None
}

/// Whether the CPU has SSSE3: `is_x86_feature_detected!`, asked once and
/// kept in one byte, so the path every short text takes reads one byte
/// instead of std's cache word and its initialisation check.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn has_ssse3() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering};
    /// 0: not asked yet; 1: absent; 2: present.
    static SSSE3: AtomicU8 = AtomicU8::new(0);
    if SSSE3.load(Ordering::Relaxed) == 2 {
        return true;
    }
    ask(&SSSE3)
}

/// [`has_ssse3`] when the answer is not "present": asks, or reads "absent".
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[cold]
fn ask(kept: &core::sync::atomic::AtomicU8) -> bool {
    use core::sync::atomic::Ordering;
    if kept.load(Ordering::Relaxed) == 1 {
        return false;
    }
    let present = std::is_x86_feature_detected!("ssse3");
    kept.store(if present { 2 } else { 1 }, Ordering::Relaxed);
    present
}

/// [`utf8_short`]'s check.
///
/// # Safety
/// The CPU must support SSSE3.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "ssse3")]
unsafe fn utf8_short_ssse3(bytes: &[u8]) -> bool {
    use core::arch::x86_64::{
        __m128i, _mm_alignr_epi8, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_setr_epi8, _mm_setzero_si128,
        _mm_shuffle_epi8, _mm_srli_epi16, _mm_subs_epu8, _mm_xor_si128,
    };
    // What a byte's neighbours rule out, as error bits (simdutf8's names).
    const TOO_SHORT: i8 = 1 << 0;
    const TOO_LONG: i8 = 1 << 1;
    const OVERLONG_3: i8 = 1 << 2;
    const TOO_LARGE: i8 = 1 << 3;
    const SURROGATE: i8 = 1 << 4;
    const OVERLONG_2: i8 = 1 << 5;
    const TOO_LARGE_1000: i8 = 1 << 6;
    const OVERLONG_4: i8 = 1 << 6;
    const TWO_CONTS: i8 = 1 << 7;
    const CARRY: i8 = TOO_SHORT | TOO_LONG | TWO_CONTS;
    let len = bytes.len();
    // SAFETY: SSSE3 is present (the caller's promise);
    // every load reads 16 bytes inside `bytes` (at 0 with `len == 16`, at
    // `16 * block` with `16 * block + 16 <= len`, or at `len - 16` with
    // `len > 16`), inside `padded` (16 bytes) or inside `TAIL_SHIFT` (at
    // `16 - rest` with `1 <= rest <= 15`, within its 32 bytes) or
    // `LONGEST_AT_END` (its 16 bytes); nothing else is touched.
    unsafe {
        let low_nibble = _mm_set1_epi8(0x0f);
        let byte_1_high = _mm_setr_epi8(
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TWO_CONTS,
            TWO_CONTS,
            TWO_CONTS,
            TWO_CONTS,
            TOO_SHORT | OVERLONG_2,
            TOO_SHORT,
            TOO_SHORT | OVERLONG_3 | SURROGATE,
            TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
        );
        let byte_1_low = _mm_setr_epi8(
            CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
            CARRY | OVERLONG_2,
            CARRY,
            CARRY,
            CARRY | TOO_LARGE,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
        );
        let byte_2_high = _mm_setr_epi8(
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
            TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
            TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
            TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
        );
        let high = |v: __m128i| _mm_and_si128(_mm_srli_epi16(v, 4), low_nibble);
        let mut prev = _mm_setzero_si128();
        let mut error = _mm_setzero_si128();
        let mut step = |input: __m128i| {
            let prev1 = _mm_alignr_epi8(input, prev, 15);
            let special = _mm_and_si128(
                _mm_and_si128(
                    _mm_shuffle_epi8(byte_1_high, high(prev1)),
                    _mm_shuffle_epi8(byte_1_low, _mm_and_si128(prev1, low_nibble)),
                ),
                _mm_shuffle_epi8(byte_2_high, high(input)),
            );
            // Third and fourth bytes of 3- and 4-byte characters must be
            // continuations; the lookups above saw only pairs.
            let third = _mm_subs_epu8(
                _mm_alignr_epi8(input, prev, 14),
                _mm_set1_epi8(0xdf_u8 as i8),
            );
            let fourth = _mm_subs_epu8(
                _mm_alignr_epi8(input, prev, 13),
                _mm_set1_epi8(0xef_u8 as i8),
            );
            let must_continue = _mm_and_si128(
                _mm_cmpgt_epi8(_mm_or_si128(third, fourth), _mm_setzero_si128()),
                _mm_set1_epi8(0x80_u8 as i8),
            );
            error = _mm_or_si128(error, _mm_xor_si128(must_continue, special));
            prev = input;
        };
        let longest = || _mm_loadu_si128(LONGEST_AT_END.as_ptr().cast::<__m128i>());
        // One block, no loop (most short texts).
        if len == 16 {
            let block = _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>());
            step(block);
            // Its last three bytes must not begin a character longer than
            // what follows them.
            error = _mm_or_si128(error, _mm_subs_epu8(block, longest()));
        } else if len < 16 {
            // Zeros after the text: a character cut short at the end meets
            // a zero (ASCII) and fails as TOO_SHORT.
            let padded = pad16(bytes);
            step(_mm_loadu_si128(padded.as_ptr().cast::<__m128i>()));
        } else {
            let (full, rest) = (len / 16, len % 16);
            for block in 0..full {
                step(_mm_loadu_si128(
                    bytes.as_ptr().add(16 * block).cast::<__m128i>(),
                ));
            }
            if rest != 0 {
                // The last bytes, first in a block with zeros after them,
                // as above (`len > 16`: the 16 bytes before the end exist).
                let last = _mm_loadu_si128(bytes.as_ptr().add(len - 16).cast::<__m128i>());
                let shift = _mm_loadu_si128(TAIL_SHIFT.as_ptr().add(16 - rest).cast::<__m128i>());
                step(_mm_shuffle_epi8(last, shift));
            } else {
                // A whole last block, as for 16 bytes above.
                error = _mm_or_si128(error, _mm_subs_epu8(prev, longest()));
            }
        }
        _mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) == 0xffff
    }
}

/// `bytes` (at most 16 of them) followed by zeros, built from overlapping
/// word loads instead of a copy of variable length.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn pad16(bytes: &[u8]) -> [u8; 16] {
    let len = bytes.len();
    let mut out = [0u8; 16];
    if len >= 8 {
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(w)
        };
        // The last word holds bytes `len - 8..len`; shifted down, its
        // first `len - 8` bytes are `8..len`, then zeros.
        let high = word(len - 8)
            .checked_shr(8 * (16 - len) as u32)
            .unwrap_or(0);
        out[..8].copy_from_slice(&word(0).to_le_bytes());
        out[8..].copy_from_slice(&high.to_le_bytes());
    } else if len >= 4 {
        let word = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(w)
        };
        let high = word(len - 4).checked_shr(8 * (8 - len) as u32).unwrap_or(0);
        out[..4].copy_from_slice(&word(0).to_le_bytes());
        out[4..8].copy_from_slice(&high.to_le_bytes());
    } else {
        out[..len].copy_from_slice(bytes);
    }
    out
}

/// The largest byte each position of a text's last 16 bytes may hold
/// without beginning a character longer than the bytes after it.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
static LONGEST_AT_END: [u8; 16] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xdf, 0xbf,
];

/// `pshufb` indices moving the last `r` bytes of a 16-byte load to its front
/// with zeros after them: the 16 bytes at `16 - r` (0x80 makes a zero).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
static TAIL_SHIFT: [u8; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
];

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// `pad16` is the bytes, then zeros, at every length it takes.
    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn pad16_is_the_bytes_then_zeros() {
        let source: Vec<u8> = (1..=16u8).map(|b| b.wrapping_mul(37) | 1).collect();
        for len in 0..=16 {
            let mut want = [0u8; 16];
            want[..len].copy_from_slice(&source[..len]);
            assert_eq!(pad16(&source[..len]), want, "length {len}");
        }
    }

    /// Every string of one to three bytes, and every four-byte string over
    /// the bytes where the rules change, against `core::str::from_utf8`,
    /// alone and after ASCII (so characters cross the 16-byte blocks).
    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn utf8_short_agrees_with_core_on_every_short_string() {
        if !std::is_x86_feature_detected!("ssse3") {
            return;
        }
        let check = |text: &[u8]| {
            let want = core::str::from_utf8(text).is_ok();
            assert_eq!(utf8_short(text), Some(want), "{text:02x?}");
        };
        let edges: Vec<u8> = (0..=255u8)
            .filter(|b| {
                matches!(
                    b,
                    0x00 | 0x41
                        | 0x7f
                        | 0x80
                        | 0x8f
                        | 0x90
                        | 0x9f
                        | 0xa0
                        | 0xbf
                        | 0xc0
                        | 0xc1
                        | 0xc2
                        | 0xdf
                        | 0xe0
                        | 0xe1
                        | 0xec
                        | 0xed
                        | 0xee
                        | 0xef
                        | 0xf0
                        | 0xf1
                        | 0xf3
                        | 0xf4
                        | 0xf5
                        | 0xff
                )
            })
            .collect();
        let mut text = Vec::new();
        for lead in [0usize, 3, 7, 8, 10, 12, 13, 14, 15, 16, 28, 29, 45, 59, 60] {
            let pad = alloc::vec![b'a'; lead];
            for a in 0..=255u8 {
                text.clear();
                text.extend_from_slice(&pad);
                text.push(a);
                check(&text);
                for b in 0..=255u8 {
                    text.truncate(lead + 1);
                    text.push(b);
                    check(&text);
                    if lead == 14 {
                        for c in 0..=255u8 {
                            text.truncate(lead + 2);
                            text.push(c);
                            check(&text);
                        }
                    }
                }
            }
            for &a in &edges {
                for &b in &edges {
                    for &c in &edges {
                        for &d in &edges {
                            text.clear();
                            text.extend_from_slice(&pad);
                            text.extend_from_slice(&[a, b, c, d]);
                            if text.len() < 64 {
                                check(&text);
                            }
                        }
                    }
                }
            }
        }
        for len in 0..64 {
            let valid: Vec<u8> = "héllo wörld κόσμε € 😀 "
                .bytes()
                .cycle()
                .take(len)
                .collect();
            check(&valid);
        }
    }
}

//! The crate's only `unsafe` code, kept small and in one place.
//!
//! Three things here pay for themselves in measurements
//! (`docs/performance.md`):
//!
//! - **AVX2 masking.** The crate is built for the baseline x86-64 target
//!   (SSE2), where the masking loops below run 16 bytes at a time; with AVX2,
//!   chosen at run time when `std` can detect it, the fused copy-and-mask runs
//!   at about the speed of `memcpy` instead of about half of it. Calling a
//!   `#[target_feature]` function is `unsafe` because the CPU must have the
//!   feature; each call is guarded by `is_x86_feature_detected!`.
//! - **ASCII to `&str`.** An all-ASCII byte string is valid UTF-8; checking
//!   that takes one `is_ascii` pass instead of a full validation.
//! - **Text validated as it arrived.** The receive side validates a text
//!   message piece by piece as it arrives (to fail fast, RFC 6455 §8.1); once
//!   the whole message is covered, [`assume_utf8`] makes the `&str` without a
//!   second pass.
//!
//! Every function here has a safe, portable twin used for tests: the results
//! must be identical at every length, alignment and mask offset.
#![allow(unsafe_code)]

/// Blocks of this many bytes run through the wide loop; the rest word by word.
const BLOCK: usize = 64;

/// Below this length the run-time feature check is not worth it.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const WIDE_MIN: usize = 256;

/// XOR of `src` with the repeated 8-byte `key` into `dst`, whole blocks only;
/// returns the OR of every output word (for an ASCII check) and the bytes done.
#[inline(always)]
fn xor_copy_blocks(dst: &mut [u8], src: &[u8], key: u64) -> (u64, usize) {
    // One accumulator per word of a block, folded once at the end, so the
    // loop stays vertical (no reduction per block).
    let mut acc = [0u64; BLOCK / 8];
    let mut d = dst.chunks_exact_mut(BLOCK);
    let mut s = src.chunks_exact(BLOCK);
    let mut done = 0;
    for (db, sb) in (&mut d).zip(&mut s) {
        for ((dw, sw), a) in db.chunks_exact_mut(8).zip(sb.chunks_exact(8)).zip(&mut acc) {
            let mut word = [0u8; 8];
            word.copy_from_slice(sw);
            let w = u64::from_ne_bytes(word) ^ key;
            *a |= w;
            dw.copy_from_slice(&w.to_ne_bytes());
        }
        done += BLOCK;
    }
    (acc.iter().fold(0, |x, y| x | y), done)
}

/// XOR of `buf` with the repeated 8-byte `key` in place, whole blocks only;
/// returns the OR of every output word and the bytes done.
#[inline(always)]
fn xor_in_place_blocks(buf: &mut [u8], key: u64) -> (u64, usize) {
    let mut acc = [0u64; BLOCK / 8];
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    let mut done = 0;
    for block in &mut blocks {
        for (w, a) in block.chunks_exact_mut(8).zip(&mut acc) {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            let x = u64::from_ne_bytes(word) ^ key;
            *a |= x;
            w.copy_from_slice(&x.to_ne_bytes());
        }
        done += BLOCK;
    }
    (acc.iter().fold(0, |x, y| x | y), done)
}

/// The block loop compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2. (An `unsafe fn`, not a safe `#[target_feature]`
/// one, so that the crate builds on Rust 1.85.)
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2")]
unsafe fn xor_copy_blocks_avx2(dst: &mut [u8], src: &[u8], key: u64) -> (u64, usize) {
    xor_copy_blocks(dst, src, key)
}

/// The block loop compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2. (An `unsafe fn`, not a safe `#[target_feature]`
/// one, so that the crate builds on Rust 1.85.)
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2")]
unsafe fn xor_in_place_blocks_avx2(buf: &mut [u8], key: u64) -> (u64, usize) {
    xor_in_place_blocks(buf, key)
}

/// Whether the wide loops may run (AVX2 detected, cached by `std`).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

/// Copies `src` into `dst` XORed with the repeated `key` (the 4-byte mask in
/// memory order, twice, already rotated to `dst[0]`'s place in the mask
/// cycle), a whole number of 64-byte blocks at a time. Returns the OR of the
/// output words and the number of bytes done; the caller finishes the rest.
#[inline]
pub(crate) fn xor_copy(dst: &mut [u8], src: &[u8], key: u64) -> (u64, usize) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if dst.len() >= WIDE_MIN && has_avx2() {
        // SAFETY: the function only needs AVX2, which the CPU was just found
        // to support; its body is safe code (slice iterators, bounds-checked).
        return unsafe { xor_copy_blocks_avx2(dst, src, key) };
    }
    xor_copy_blocks(dst, src, key)
}

/// XORs `buf` in place with the repeated `key` (as for [`xor_copy`]), a whole
/// number of 64-byte blocks at a time. Returns the OR of the output words
/// and the bytes done.
#[inline]
pub(crate) fn xor_in_place(buf: &mut [u8], key: u64) -> (u64, usize) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if buf.len() >= WIDE_MIN && has_avx2() {
        // SAFETY: as in `xor_copy`: AVX2 was just detected and the body is
        // safe code.
        return unsafe { xor_in_place_blocks_avx2(buf, key) };
    }
    xor_in_place_blocks(buf, key)
}

/// `bytes` as `&str` if every byte is ASCII.
#[inline]
pub(crate) fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: every byte is below 0x80, checked on the line above, and a
        // sequence of ASCII bytes is valid UTF-8 (each byte is one character).
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

/// `bytes` as `&str`, without validating them again.
///
/// Debug builds (tests, fuzzing) validate anyway and panic if the caller's
/// promise is broken.
///
/// # Safety
/// `bytes` must be valid UTF-8: the receive side calls this only for a text
/// message (or chunk) whose every byte was covered by a successful validation
/// after unmasking, and which has not been written to since (the receive
/// buffer only moves whole regions, which `copy_within` preserves).
#[inline]
pub(crate) unsafe fn assume_utf8(bytes: &[u8]) -> &str {
    debug_assert!(
        core::str::from_utf8(bytes).is_ok(),
        "text handed out unvalidated"
    );
    // SAFETY: the caller guarantees `bytes` is valid UTF-8 (see `# Safety`).
    unsafe { core::str::from_utf8_unchecked(bytes) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const KEY: u64 = u64::from_ne_bytes([0x37, 0xfa, 0x21, 0x3d, 0x37, 0xfa, 0x21, 0x3d]);

    fn reference(src: &[u8], key: u64) -> Vec<u8> {
        let k = key.to_ne_bytes();
        src.iter().enumerate().map(|(i, b)| b ^ k[i & 7]).collect()
    }

    /// Lengths around every block boundary and past the wide threshold, at
    /// every alignment of source and destination: the dispatched loop (AVX2
    /// when this CPU has it) and the portable loop agree with a byte loop,
    /// and neither touches a byte past what it reports done.
    #[test]
    fn xor_copy_matches_bytewise_at_every_length_and_alignment() {
        let source: Vec<u8> = (0..1200u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in (0..=600).chain([1023, 1024, 1025, 1100]) {
            for sa in 0..8 {
                for da in 0..8 {
                    let src = &source[sa..sa + len];
                    let want = reference(src, KEY);
                    for wide in [true, false] {
                        let mut out = alloc::vec![0xeeu8; len + 16];
                        let dst = &mut out[da..da + len];
                        let (acc, done) = if wide {
                            xor_copy(dst, src, KEY)
                        } else {
                            xor_copy_blocks(dst, src, KEY)
                        };
                        assert_eq!(done, len / BLOCK * BLOCK, "len {len}");
                        assert_eq!(
                            &out[da..da + done],
                            &want[..done],
                            "len {len} sa {sa} da {da}"
                        );
                        assert!(out[..da].iter().all(|&b| b == 0xee));
                        assert!(out[da + done..].iter().all(|&b| b == 0xee));
                        let or = want[..done].iter().fold(0u8, |a, b| a | b);
                        assert_eq!(acc.to_ne_bytes().iter().fold(0u8, |a, b| a | b), or);
                    }
                }
            }
        }
    }

    #[test]
    fn xor_in_place_matches_bytewise_at_every_length_and_alignment() {
        let source: Vec<u8> = (0..1200u32).map(|i| (i * 13 + 5) as u8).collect();
        for len in (0..=600).chain([1023, 1024, 1025, 1100]) {
            for a in 0..8 {
                let want = reference(&source[a..a + len], KEY);
                let mut buf = source.clone();
                let (acc, done) = xor_in_place(&mut buf[a..a + len], KEY);
                assert_eq!(done, len / BLOCK * BLOCK);
                let or = want[..done].iter().fold(0u8, |x, y| x | y);
                assert_eq!(acc.to_ne_bytes().iter().fold(0u8, |x, y| x | y), or);
                assert_eq!(&buf[a..a + done], &want[..done], "len {len} align {a}");
                assert_eq!(&buf[..a], &source[..a]);
                assert_eq!(&buf[a + done..], &source[a + done..]);
            }
        }
    }

    /// The ASCII shortcut agrees with the standard library at every length
    /// and alignment, with a non-ASCII byte (valid or not) at each position.
    #[test]
    fn ascii_str_matches_std_at_every_length_and_position() {
        let base: Vec<u8> = (0..200u32).map(|i| b' ' + (i % 90) as u8).collect();
        for start in 0..8 {
            for len in 0..100 {
                let slice = &base[start..start + len];
                assert_eq!(ascii_str(slice), core::str::from_utf8(slice).ok());
                for at in 0..len {
                    for byte in [0x80u8, 0xc3, 0xff] {
                        let mut v = slice.to_vec();
                        v[at] = byte;
                        assert_eq!(ascii_str(&v), None);
                    }
                }
            }
        }
    }

    #[test]
    fn assume_utf8_returns_the_same_text() {
        let text = "aé€😀".repeat(20);
        for end in (0..=text.len()).filter(|&e| text.is_char_boundary(e)) {
            // SAFETY: a prefix of a `&str` ending on a character boundary is
            // valid UTF-8.
            let s = unsafe { assume_utf8(&text.as_bytes()[..end]) };
            assert_eq!(s, &text[..end]);
        }
    }

    #[test]
    #[should_panic(expected = "text handed out unvalidated")]
    #[cfg(debug_assertions)]
    fn assume_utf8_checks_its_promise_in_debug_builds() {
        // SAFETY: deliberately broken to show the debug check; the assertion
        // fires before the conversion.
        let _ = unsafe { assume_utf8(b"\xff") };
    }
}

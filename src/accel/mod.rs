//! The crate's only `unsafe` code, kept small and in one place.
//!
//! Each thing here pays for itself in measurements
//! (`docs/performance.md`):
//!
//! - **AVX2 masking.** The crate is built for the baseline x86-64 target
//!   (SSE2), where the masking loops below run 16 bytes at a time; with AVX2,
//!   chosen at run time when `std` can detect it, the fused copy-and-mask runs
//!   at about the speed of `memcpy` instead of about half of it. Calling a
//!   `#[target_feature]` function is `unsafe` because the CPU must have the
//!   feature; each call is guarded by `is_x86_feature_detected!`.
//! - **Short texts validated with SSSE3.** Below 64 bytes a text that is not
//!   all ASCII is checked 16 bytes at a time by table lookups
//!   ([`utf8_short`]); `simdutf8`'s setup for long texts costs more than such
//!   a text's bytes, and a byte-by-byte check about twice as much
//!   (`docs/performance.md`). Chosen at run time like AVX2.
//! - **ASCII to `&str`.** An all-ASCII byte string is valid UTF-8; checking
//!   that takes one `is_ascii` pass instead of a full validation, 64 bytes
//!   per step with SSE2 (the x86-64 baseline) from 64 bytes on
//!   (`receive_deflate_200`, whose inflated texts it checks: 3,489 → 3,450
//!   instructions per message).
//! - **Text validated as it arrived.** The receive side validates a text
//!   message piece by piece as it arrives (to fail fast, RFC 6455 §8.1); once
//!   the whole message is covered, [`assume_utf8`] makes the `&str` without a
//!   second pass.
//!
//! - **Unmasking a fragment while moving it down.** A later fragment's
//!   payload is unmasked and moved down over the frame header before it, so
//!   the message stays one slice. Source and destination overlap (the gap is
//!   only the 2–14 header bytes), which safe Rust cannot express as two
//!   slices; [`xor_move_down`] does both in one forward pass instead of an
//!   unmasking pass and a `copy_within` pass.
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

/// Writes `buf[src..src + len]` XORed with the repeated `key` (rotated to
/// `buf[src]`'s place in the mask cycle, as for [`xor_copy`]) to
/// `buf[dst..dst + len]`, for `dst <= src`: the ranges may overlap. Returns
/// the OR of the output bytes (for an ASCII check). Bytes in
/// `dst + len..src + len` are left unspecified (they are the gap's old
/// bytes or the source's, masked or not).
///
/// # Panics
/// If `dst > src` or `src + len` is past the end of `buf`.
#[inline]
pub(crate) fn xor_move_down(buf: &mut [u8], src: usize, dst: usize, len: usize, key: u64) -> u64 {
    assert!(
        dst <= src && src.checked_add(len).is_some_and(|end| end <= buf.len()),
        "xor_move_down: bad ranges"
    );
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if len >= WIDE_MIN && has_avx2() {
        // SAFETY: AVX2 was just detected; the ranges were checked above,
        // which is what `xor_move_down_avx2` requires.
        return unsafe { xor_move_down_avx2(buf, src, dst, len, key) };
    }
    xor_move_down_words(buf, src, dst, len, key, 0)
}

/// [`xor_move_down`] from byte `from` on, a word at a time, then bytes.
/// Requires the checks `xor_move_down` makes.
#[inline(always)]
fn xor_move_down_words(
    buf: &mut [u8],
    src: usize,
    dst: usize,
    len: usize,
    key: u64,
    from: usize,
) -> u64 {
    debug_assert!(dst <= src && src + len <= buf.len() && from <= len);
    let base = buf.as_mut_ptr();
    let mut acc = 0u64;
    let mut i = from;
    while i + 8 <= len {
        // SAFETY: `src + i + 8 <= src + len <= buf.len()` and
        // `dst + i + 8 <= src + i + 8`, so both words are inside `buf`
        // (unaligned accesses are allowed by `read/write_unaligned`). The
        // pass runs forward and reads each word before writing one: the
        // write covers bytes below `src + i + 8` (as `dst <= src`), all of
        // which were read already, so no source byte is overwritten before
        // it is read.
        unsafe {
            let w = core::ptr::read_unaligned(base.add(src + i).cast::<u64>()) ^ key;
            core::ptr::write_unaligned(base.add(dst + i).cast::<u64>(), w);
            acc |= w;
        }
        i += 8;
    }
    let k = key.to_ne_bytes();
    while i < len {
        // Earlier writes ended below `dst + i <= src + i`: this byte is
        // still the source's.
        let b = buf[src + i] ^ k[i & 7];
        buf[dst + i] = b;
        acc |= u64::from(b);
        i += 1;
    }
    acc
}

/// [`xor_move_down`]'s loop, 32 bytes at a time with AVX2, then words.
///
/// # Safety
/// The CPU must support AVX2, `dst <= src`, and `src + len <= buf.len()`.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2")]
unsafe fn xor_move_down_avx2(buf: &mut [u8], src: usize, dst: usize, len: usize, key: u64) -> u64 {
    use core::arch::x86_64::{
        __m256i, _mm256_loadu_si256, _mm256_or_si256, _mm256_set1_epi64x, _mm256_setzero_si256,
        _mm256_storeu_si256, _mm256_xor_si256,
    };
    let base = buf.as_mut_ptr();
    let k = _mm256_set1_epi64x(key as i64);
    let mut acc = _mm256_setzero_si256();
    let mut i = 0;
    while i + 32 <= len {
        // SAFETY: as in `xor_move_down_words`, for 32-byte blocks: both are
        // inside `buf` (`dst + i + 32 <= src + i + 32 <= src + len`), each
        // block is loaded before its store, and the store ends at
        // `dst + i + 32 <= src + i + 32`, below every byte not read yet.
        // AVX2 is available (the caller's promise); loadu/storeu take
        // unaligned addresses.
        unsafe {
            let v = _mm256_xor_si256(_mm256_loadu_si256(base.add(src + i).cast::<__m256i>()), k);
            _mm256_storeu_si256(base.add(dst + i).cast::<__m256i>(), v);
            acc = _mm256_or_si256(acc, v);
        }
        i += 32;
    }
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` is 32 bytes, the size of one `__m256i`.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), acc) };
    let wide = lanes.iter().fold(0, |x, y| x | y);
    // `i` is a multiple of 32, so of 8: the key lines up for the rest.
    wide | xor_move_down_words(buf, src, dst, len, key, i)
}

/// Whether every byte of `bytes` is below 0x80: from 64 bytes on, 64
/// bytes per step with AVX2 where `std` detects it, else 64 with SSE2 (the
/// x86-64 baseline, so no feature check), where `<[u8]>::is_ascii` takes 8
/// at a time; `is_ascii` below that and elsewhere.
#[inline]
pub(crate) fn is_ascii(bytes: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 64 {
        #[cfg(feature = "std")]
        if has_avx2() {
            // SAFETY: AVX2 was detected on the line above, and
            // `bytes.len() >= 64` on the one before.
            return unsafe { is_ascii_blocks_avx2(bytes) };
        }
        return is_ascii_sse2(bytes);
    }
    bytes.is_ascii()
}

/// [`is_ascii`] from 64 bytes on without AVX2: the OR of every 16-byte
/// load, whole 64-byte blocks, then the last 64 bytes (overlapping the
/// blocks before).
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn is_ascii_sse2(bytes: &[u8]) -> bool {
    let len = bytes.len();
    assert!(len >= 64);
    // SAFETY: SSE2 is part of the x86-64 baseline (the target always has
    // it), and `len >= 64` (asserted above) with `i + 64 <= len` for every
    // block keeps each block's four 16-byte loads inside `bytes`.
    unsafe { is_ascii_blocks(bytes) }
}

/// [`is_ascii`] from 64 bytes on with AVX2: 64-byte blocks, then the last
/// 64 bytes (overlapping the blocks before). The loads fold into the ORs,
/// one instruction per 32 bytes.
///
/// # Safety
/// `bytes.len() >= 64`, and the CPU has AVX2.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2")]
unsafe fn is_ascii_blocks_avx2(bytes: &[u8]) -> bool {
    use core::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256};
    let len = bytes.len();
    let p = bytes.as_ptr();
    // SAFETY: every load reads the 32 bytes at `k` with `k + 32 <= len`:
    // the last two at `len - 64` and `len - 32` (`len >= 64`), and those
    // of a block at `i` and `i + 32` with `i + 64 < len`.
    unsafe {
        let at = |k: usize| _mm256_loadu_si256(p.add(k).cast::<__m256i>());
        let mut acc = _mm256_or_si256(at(len - 64), at(len - 32));
        let mut i = 0;
        while i + 64 < len {
            acc = _mm256_or_si256(acc, _mm256_or_si256(at(i), at(i + 32)));
            i += 64;
        }
        _mm256_movemask_epi8(acc) == 0
    }
}

/// [`is_ascii_sse2`]'s loop.
///
/// # Safety
/// `bytes.len() >= 64`, and the CPU has SSE2 (every x86-64 CPU does).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
unsafe fn is_ascii_blocks(bytes: &[u8]) -> bool {
    use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128};
    let len = bytes.len();
    let p = bytes.as_ptr();
    // SAFETY: each block reads the 64 bytes at `i` with `i + 64 <= len`.
    unsafe {
        let block = |i: usize| {
            let at = |k: usize| _mm_loadu_si128(p.add(i + k).cast::<__m128i>());
            _mm_or_si128(_mm_or_si128(at(0), at(16)), _mm_or_si128(at(32), at(48)))
        };
        let mut acc = block(len - 64);
        let mut i = 0;
        while i + 64 <= len {
            acc = _mm_or_si128(acc, block(i));
            i += 64;
        }
        _mm_movemask_epi8(acc) == 0
    }
}

mod utf8_short;
pub(crate) use utf8_short::utf8_short;

/// `bytes` as `&str` if every byte is ASCII.
#[inline]
pub(crate) fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if is_ascii(bytes) {
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

    #[test]
    fn is_ascii_matches_std_at_every_length_and_position() {
        for len in 0..300 {
            let mut bytes = alloc::vec![b'z'; len];
            assert!(is_ascii(&bytes), "len {len}");
            for at in 0..len {
                bytes[at] = 0x80 | (at as u8);
                assert!(!is_ascii(&bytes), "len {len} at {at}");
                bytes[at] = b'z';
            }
        }
    }

    /// Both loops, whichever the CPU would be given: every length from 64
    /// (where the blocks start) past two 128-byte blocks, a high byte at
    /// every position.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn both_ascii_loops_see_every_high_byte() {
        for len in 64..400 {
            let mut bytes = alloc::vec![b'z'; len];
            // SAFETY: `len >= 64`; SSE2 is baseline.
            assert!(unsafe { is_ascii_blocks(&bytes) }, "len {len}");
            #[cfg(feature = "std")]
            let avx2 = has_avx2();
            #[cfg(feature = "std")]
            if avx2 {
                // SAFETY: `len >= 64`; AVX2 detected.
                assert!(unsafe { is_ascii_blocks_avx2(&bytes) }, "len {len}");
            }
            for at in 0..len {
                bytes[at] = 0x80 | (at as u8);
                // SAFETY: as above.
                assert!(!unsafe { is_ascii_blocks(&bytes) }, "len {len} at {at}");
                #[cfg(feature = "std")]
                if avx2 {
                    // SAFETY: as above.
                    let ascii = unsafe { is_ascii_blocks_avx2(&bytes) };
                    assert!(!ascii, "len {len} at {at}");
                }
                bytes[at] = b'z';
            }
        }
    }

    use alloc::vec::Vec;

    const KEY: u64 = u64::from_ne_bytes([0x37, 0xfa, 0x21, 0x3d, 0x37, 0xfa, 0x21, 0x3d]);

    /// Every gap a frame header leaves (2-14 bytes) and more, lengths around
    /// the word, block and wide-loop sizes, at 8 source alignments: the
    /// dispatched (AVX2 when present) and portable passes write what an
    /// unmasking pass and a `copy_within` would, and touch nothing before
    /// the destination or past the source.
    #[test]
    fn xor_move_down_matches_unmask_then_move() {
        for gap in [0, 1, 2, 4, 6, 8, 10, 14, 31, 64, 300] {
            for len in (0..=80).chain([255, 256, 257, 300, 511, 512, 600, 1025]) {
                for align in 0..8 {
                    let dst = align;
                    let src = dst + gap;
                    let total = src + len + 9;
                    let original: Vec<u8> = (0..total).map(|i| (i * 37 + 11) as u8).collect();
                    let mut want = original.clone();
                    let masked = reference(&original[src..src + len], KEY);
                    want[dst..dst + len].copy_from_slice(&masked);
                    for wide in [true, false] {
                        let mut buf = original.clone();
                        let acc = if wide {
                            xor_move_down(&mut buf, src, dst, len, KEY)
                        } else {
                            xor_move_down_words(&mut buf, src, dst, len, KEY, 0)
                        };
                        let what = alloc::format!("gap {gap} len {len} align {align} wide {wide}");
                        assert_eq!(&buf[dst..dst + len], &want[dst..dst + len], "{what}");
                        assert_eq!(&buf[..dst], &original[..dst], "{what}");
                        assert_eq!(&buf[src + len..], &original[src + len..], "{what}");
                        let or = masked.iter().fold(0u64, |a, &b| a | u64::from(b));
                        assert_eq!(acc & 0x8080_8080_8080_8080 != 0, or & 0x80 != 0, "{what}");
                    }
                }
            }
        }
    }

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

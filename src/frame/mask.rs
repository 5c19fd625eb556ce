//! Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, in place.
//!
//! Masking is the one per-byte operation on every client frame and every frame
//! a server receives, so it runs a word at a time. The code is safe Rust the
//! compiler vectorises; the bulk loops go through `crate::accel`, which picks
//! AVX2 at run time where the CPU has it.

/// The mask rotated to start at `offset` of its cycle, and as a repeated
/// 8-byte word (both halves in memory order).
#[inline]
fn rotated(mask: [u8; 4], offset: usize) -> ([u8; 4], u64) {
    // Rotating the word by whole bytes, toward lower addresses, is the
    // rotated array (a register rotate, not four byte loads).
    let shift = ((offset & 3) * 8) as u32;
    let word = u32::from_ne_bytes(mask);
    let m32 = if cfg!(target_endian = "little") {
        word.rotate_right(shift)
    } else {
        word.rotate_left(shift)
    };
    (m32.to_ne_bytes(), u64::from(m32) | (u64::from(m32) << 32))
}

/// XORs `buf` in place with `mask`, starting at byte `offset` of the mask
/// cycle (the count of payload bytes already processed in this frame).
///
/// Applying the same mask and offset twice restores the input.
#[inline]
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    apply_mask_inline(buf, mask, offset);
}

/// [`apply_mask`], always inlined: for one-step paths, where a call and the
/// registers it makes the caller save cost about as much as masking a
/// short payload.
#[inline(always)]
pub(crate) fn apply_mask_inline(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    if buf.len() >= 64 {
        apply_mask_long(buf, mask, offset);
        return;
    }
    let (m, m64) = rotated(mask, offset);
    mask_short(buf, m, m64);
}

/// From this length on, the bulk loops start at a 32-byte aligned
/// destination: a 32-byte store that straddles two cache lines costs about
/// half again as much, and payloads sit wherever the frame header left them.
/// (256 for the wide loop's own threshold, plus the longest head.)
const ALIGN_MIN: usize = 256 + 31;

/// How many leading bytes of `dst` to do one by one so that the rest starts
/// 32-byte aligned (0 for short slices).
#[inline(always)]
fn head_len(dst: &[u8]) -> usize {
    if dst.len() < ALIGN_MIN {
        return 0;
    }
    dst.as_ptr().align_offset(32).min(dst.len())
}

/// The tail loops: whole words, then bytes. Every word starts at a multiple
/// of 4 bytes into `buf`, so it lines up with the mask cycle. Returns the OR
/// of the output bytes' high bits (0 when all are ASCII).
#[inline(always)]
fn mask_words(buf: &mut [u8], m: [u8; 4], m64: u64) -> u64 {
    let mut acc = 0u64;
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_ne_bytes(bytes) ^ m64;
        acc |= w;
        word.copy_from_slice(&w.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= m[i & 3];
        acc |= u64::from(*b);
    }
    acc & 0x8080_8080_8080_8080
}

/// `m64` moved `by` bytes along the mask cycle: the mask for a word that
/// starts `by` bytes after one masked with `m64`.
#[inline(always)]
fn advance_cycle(m64: u64, by: usize) -> u64 {
    let shift = ((by & 3) * 8) as u32;
    if cfg!(target_endian = "little") {
        m64.rotate_right(shift)
    } else {
        m64.rotate_left(shift)
    }
}

/// [`mask_words`] for payloads below 64 bytes (most messages), without a
/// loop: up to 16 bytes, a word from the front and one ending at the end of
/// `buf`, overlapping it; up to 63, 16-byte blocks from the front and one
/// ending at the end. What ends at the end is read before any write, so
/// the bytes it shares with the others are unmasked once; below 8 bytes,
/// two overlapping 4-byte words the same way, and bytes below 4. Returns
/// the OR of the output bytes' high bits.
#[inline(always)]
fn mask_short(buf: &mut [u8], m: [u8; 4], m64: u64) -> u64 {
    let len = buf.len();
    debug_assert!(len < 64, "longer payloads take apply_mask_long");
    if len >= 8 {
        if len <= 16 {
            let at = len - 8;
            let last = u64::from_ne_bytes(word8(&buf[at..])) ^ advance_cycle(m64, at);
            let first = u64::from_ne_bytes(word8(buf)) ^ m64;
            // Two words cover it (the commonest case, without a loop).
            buf[..8].copy_from_slice(&first.to_ne_bytes());
            buf[at..].copy_from_slice(&last.to_ne_bytes());
            return (first | last) & 0x8080_8080_8080_8080;
        }
        // 17 to 63 bytes: 16-byte blocks from the front, and one more
        // ending at the end of `buf` (read before any write, as above),
        // without a loop.
        let t = len - 16;
        let tm = advance_cycle(m64, t);
        let tail = [
            u64::from_ne_bytes(word8(&buf[t..])) ^ tm,
            u64::from_ne_bytes(word8(&buf[t + 8..])) ^ tm,
        ];
        let mut acc = tail[0] | tail[1];
        acc |= mask_block(buf, 0, m64);
        if t > 16 {
            acc |= mask_block(buf, 16, m64);
        }
        if t > 32 {
            acc |= mask_block(buf, 32, m64);
        }
        buf[t..t + 8].copy_from_slice(&tail[0].to_ne_bytes());
        buf[t + 8..].copy_from_slice(&tail[1].to_ne_bytes());
        return acc & 0x8080_8080_8080_8080;
    }
    if len >= 4 {
        let at = len - 4;
        let m32 = m64 as u32;
        let first = u32::from_ne_bytes(word4(buf)) ^ m32;
        let last = u32::from_ne_bytes(word4(&buf[at..])) ^ (advance_cycle(m64, at) as u32);
        buf[..4].copy_from_slice(&first.to_ne_bytes());
        buf[at..].copy_from_slice(&last.to_ne_bytes());
        return u64::from(first | last) & 0x8080_8080;
    }
    let mut acc = 0u8;
    for (b, k) in buf.iter_mut().zip(m) {
        *b ^= k;
        acc |= *b;
    }
    u64::from(acc & 0x80)
}

/// XORs the 16 bytes of `buf` at `at` (a multiple of 4) with `m64`;
/// returns the OR of the two output words.
#[inline(always)]
fn mask_block(buf: &mut [u8], at: usize, m64: u64) -> u64 {
    let block = &mut buf[at..at + 16];
    let a = u64::from_ne_bytes(word8(block)) ^ m64;
    let b = u64::from_ne_bytes(word8(&block[8..])) ^ m64;
    block[..8].copy_from_slice(&a.to_ne_bytes());
    block[8..].copy_from_slice(&b.to_ne_bytes());
    a | b
}

/// The first 8 bytes of `bytes` (which has at least 8).
#[inline(always)]
fn word8(bytes: &[u8]) -> [u8; 8] {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    word
}

/// The first 4 bytes of `bytes` (which has at least 4).
#[inline(always)]
fn word4(bytes: &[u8]) -> [u8; 4] {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    word
}

/// Payloads of 64 bytes and more: an aligning head, whole blocks through
/// `crate::accel`, then the tail.
#[inline(never)]
fn apply_mask_long(buf: &mut [u8], mask: [u8; 4], offset: usize) -> u64 {
    let (head, rest) = buf.split_at_mut(head_len(buf));
    let (m, m64) = rotated(mask, offset);
    let acc = mask_words(head, m, m64);
    let (m, m64) = rotated(mask, offset + head.len());
    let (wide, done) = crate::accel::xor_in_place(rest, m64);
    acc | (wide & 0x8080_8080_8080_8080) | mask_words(&mut rest[done..], m, m64)
}

/// [`apply_mask`] that also reports whether every unmasked byte is ASCII,
/// from the same pass. (Inlined everywhere: below 64 bytes it is a few
/// instructions, fewer than a call's.)
#[inline(always)]
pub(crate) fn apply_mask_ascii(buf: &mut [u8], mask: [u8; 4], offset: usize) -> bool {
    if buf.len() >= 64 {
        return apply_mask_long(buf, mask, offset) == 0;
    }
    let (m, m64) = rotated(mask, offset);
    mask_short(buf, m, m64) == 0
}

/// Unmasks `buf[src]` (masked from `offset` of the mask cycle) while moving
/// it down to start at `dst <= src.start`, in one pass; the ranges may
/// overlap. Returns whether every output byte is ASCII. What was between
/// the new end and `src.end` is left unspecified.
///
/// # Panics
/// If `dst > src.start` or `src` is not inside `buf`.
#[inline]
pub(crate) fn mask_move_down(
    buf: &mut [u8],
    src: core::ops::Range<usize>,
    dst: usize,
    mask: [u8; 4],
    offset: usize,
) -> bool {
    let (_, m64) = rotated(mask, offset);
    let len = src.end.saturating_sub(src.start);
    crate::accel::xor_move_down(buf, src.start, dst, len, m64) & 0x8080_8080_8080_8080 == 0
}

/// Copies `src` into `dst` (of the same length) masked with `mask` from
/// `offset` of its cycle, in one pass: the fused form of a copy followed by
/// [`apply_mask`]. Returns whether every output byte is ASCII.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn mask_copy(dst: &mut [u8], src: &[u8], mask: [u8; 4], offset: usize) -> bool {
    assert_eq!(dst.len(), src.len(), "mask_copy: lengths differ");
    mask_copy_inline(dst, src, mask, offset)
}

/// [`mask_copy`] for callers that made `dst` as long as `src` themselves
/// (the frame writer): short payloads, most sends, inline with no call
/// (no aligning head, no wide loop), longer ones out of line.
#[inline(always)]
pub(crate) fn mask_copy_inline(dst: &mut [u8], src: &[u8], mask: [u8; 4], offset: usize) -> bool {
    if dst.len() < 64 {
        let (m, m64) = rotated(mask, offset);
        return copy_short(dst, src, m, m64) == 0;
    }
    mask_copy_long(dst, src, mask, offset)
}

/// [`mask_copy`] from 64 bytes on: an aligning head, whole blocks through
/// `crate::accel`, then the tail. Out of line so the short path stays small.
#[inline(never)]
fn mask_copy_long(dst: &mut [u8], src: &[u8], mask: [u8; 4], offset: usize) -> bool {
    let head = head_len(dst);
    let (dh, dst) = dst.split_at_mut(head);
    let (sh, src) = src.split_at(head);
    let (m, m64) = rotated(mask, offset);
    let mut high = copy_words(dh, sh, m, m64);
    let (m, m64) = rotated(mask, offset + head);
    let (wide, done) = crate::accel::xor_copy(dst, src, m64);
    high |= wide & 0x8080_8080_8080_8080;
    high |= copy_words(&mut dst[done..], &src[done..], m, m64);
    high == 0
}

/// The copying twin of [`mask_short`], below 64 bytes: whole words, and the
/// bytes after the last of them as one word ending at the end (it overlaps
/// the word before it in `dst` with the same values); two overlapping
/// 4-byte words below 8 bytes, and bytes below 4. Returns the OR of the
/// output bytes' high bits.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8], m: [u8; 4], m64: u64) -> u64 {
    let len = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..len], &src[..len]);
    if len >= 8 {
        let mut acc = 0u64;
        let mut i = 0;
        while i + 8 < len {
            let w = u64::from_ne_bytes(word8(&src[i..])) ^ m64;
            acc |= w;
            dst[i..i + 8].copy_from_slice(&w.to_ne_bytes());
            i += 8;
        }
        let at = len - 8;
        let last = u64::from_ne_bytes(word8(&src[at..])) ^ advance_cycle(m64, at);
        dst[at..].copy_from_slice(&last.to_ne_bytes());
        return (acc | last) & 0x8080_8080_8080_8080;
    }
    if len >= 4 {
        let at = len - 4;
        let first = u32::from_ne_bytes(word4(src)) ^ (m64 as u32);
        let last = u32::from_ne_bytes(word4(&src[at..])) ^ (advance_cycle(m64, at) as u32);
        dst[..4].copy_from_slice(&first.to_ne_bytes());
        dst[at..].copy_from_slice(&last.to_ne_bytes());
        return u64::from(first | last) & 0x8080_8080;
    }
    let mut acc = 0u8;
    for ((d, s), k) in dst.iter_mut().zip(src).zip(m) {
        *d = s ^ k;
        acc |= *d;
    }
    u64::from(acc & 0x80)
}

/// The copying twin of [`mask_words`]: whole words, then bytes, from `src`
/// into `dst` (same length). Returns the OR of the output bytes' high bits.
#[inline(always)]
fn copy_words(dst: &mut [u8], src: &[u8], m: [u8; 4], m64: u64) -> u64 {
    let len = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..len], &src[..len]);
    let mut acc = 0u64;
    let mut i = 0;
    while i + 8 <= len {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&src[i..i + 8]);
        let w = u64::from_ne_bytes(bytes) ^ m64;
        acc |= w;
        dst[i..i + 8].copy_from_slice(&w.to_ne_bytes());
        i += 8;
    }
    if i + 4 <= len {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(&src[i..i + 4]);
        // The low half of `m64` is the mask in memory order, like `m`.
        let w = u32::from_ne_bytes(bytes) ^ (m64 as u32);
        acc |= u64::from(w);
        dst[i..i + 4].copy_from_slice(&w.to_ne_bytes());
        i += 4;
    }
    let mut k = 0;
    while i < len {
        dst[i] = src[i] ^ m[k];
        acc |= u64::from(dst[i]);
        i += 1;
        k += 1;
    }
    acc & 0x8080_8080_8080_8080
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;

    fn naive(buf: &mut [u8], mask: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= mask[(i + offset) & 3];
        }
    }

    #[test]
    fn matches_bytewise_at_every_length_offset_and_alignment() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        // Starts 0..=32 give every 32-byte alignment, so every length of the
        // aligning head (from `ALIGN_MIN` on).
        for start in 0..=32 {
            for len in (0..300).chain([511, 512, 513, 600]) {
                for offset in 0..4 {
                    let mut fast = source.clone();
                    let mut slow = source.clone();
                    apply_mask(&mut fast[start..start + len], mask, offset);
                    naive(&mut slow[start..start + len], mask, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn mask_copy_matches_copy_then_mask_at_every_length_offset_and_alignment() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        for sa in 0..8 {
            for len in (0..300).chain([511, 512, 513, 600]) {
                for offset in 0..4 {
                    let src = &source[sa..sa + len];
                    let mut want = src.to_vec();
                    naive(&mut want, mask, offset);
                    // Every destination alignment, so every aligning head.
                    for da in 0..=32 {
                        let mut out = alloc::vec![0u8; len + da];
                        let ascii = mask_copy(&mut out[da..], src, mask, offset);
                        let at = format!("sa {sa} da {da} len {len} offset {offset}");
                        assert_eq!(&out[da..], &want[..], "{at}");
                        assert_eq!(ascii, want.is_ascii(), "{at}");
                    }
                }
            }
        }
    }

    #[test]
    fn mask_copy_reports_ascii_exactly() {
        let mask = [0x11, 0x22, 0x33, 0x44];
        let mut store = alloc::vec![0u8; 1000 + 64];
        let base = store.as_ptr().align_offset(32);
        for len in [1usize, 7, 8, 9, 63, 64, 65, 300, 1000] {
            let plain = alloc::vec![b'a'; len];
            // Destinations that leave aligning heads of 0, 31, 25, 15 and 1
            // bytes, so the non-ASCII byte also falls in the head.
            for skew in [0, 1, 7, 17, 31] {
                let out = &mut store[base + skew..base + skew + len];
                for at in 0..len {
                    let mut text = plain.clone();
                    text[at] = 0xc3;
                    let mut masked = text.clone();
                    naive(&mut masked, mask, 0);
                    let ascii = mask_copy(out, &masked, mask, 0);
                    assert!(!ascii, "len {len} skew {skew} at {at}");
                    assert_eq!(out, &text[..]);
                }
                let mut masked = plain.clone();
                naive(&mut masked, mask, 0);
                assert!(mask_copy(out, &masked, mask, 0), "len {len} skew {skew}");
            }
        }
    }

    #[test]
    fn apply_mask_ascii_agrees_with_apply_mask_and_is_ascii() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        for len in (0usize..200).chain([255, 256, 257, 286, 287, 288, 600]) {
            for offset in 0..4 {
                for at in [None, Some(0), Some(len / 2), Some(len.saturating_sub(1))] {
                    let mut text = alloc::vec![b'q'; len];
                    if let (Some(i), true) = (at, len > 0) {
                        text[i] = 0xe9;
                    }
                    for skew in [0, 1, 5, 16, 31] {
                        // `skew` past a 32-byte boundary: heads of 0, 31,
                        // 27, 16 and 1 bytes, so `at` 0 also falls in one.
                        let mut store = alloc::vec![0u8; 32 + skew + len];
                        let start = store.as_ptr().align_offset(32) + skew;
                        let buf = &mut store[start..start + len];
                        buf.copy_from_slice(&text);
                        naive(buf, mask, offset);
                        let ascii = apply_mask_ascii(buf, mask, offset);
                        let at = format!("skew {skew} len {len} offset {offset} at {at:?}");
                        assert_eq!(buf, &text[..], "{at}");
                        assert_eq!(ascii, text.is_ascii(), "{at}");
                    }
                }
            }
        }
    }

    /// The short path's overlapping words: every length below 64, every
    /// offset, a high bit at every position, so a byte the two last words
    /// share is unmasked once and seen by the ASCII check.
    #[test]
    fn short_payloads_unmask_once_and_see_every_high_bit() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0usize..64 {
            for offset in 0..4 {
                for at in (0..len).map(Some).chain([None]) {
                    let mut text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    if let Some(i) = at {
                        text[i] = 0x80 | (i as u8);
                    }
                    let mut buf = text.clone();
                    naive(&mut buf, mask, offset);
                    let ascii = apply_mask_ascii(&mut buf, mask, offset);
                    assert_eq!(buf, text, "len {len} offset {offset} at {at:?}");
                    assert_eq!(ascii, at.is_none(), "len {len} offset {offset} at {at:?}");
                }
            }
        }
    }

    #[test]
    fn rfc_example_unmasks_hello() {
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    #[test]
    fn split_application_equals_whole() {
        let mask = [1, 2, 3, 4];
        let mut whole: Vec<u8> = (0..100).collect();
        let mut split = whole.clone();
        apply_mask(&mut whole, mask, 0);
        let (a, b) = split.split_at_mut(13);
        apply_mask(a, mask, 0);
        apply_mask(b, mask, 13);
        assert_eq!(whole, split);
    }
}

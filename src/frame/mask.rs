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
    let k = offset & 3;
    let m = [
        mask[k],
        mask[(k + 1) & 3],
        mask[(k + 2) & 3],
        mask[(k + 3) & 3],
    ];
    let m32 = u32::from_ne_bytes(m);
    (m, u64::from(m32) | (u64::from(m32) << 32))
}

/// XORs `buf` in place with `mask`, starting at byte `offset` of the mask
/// cycle (the count of payload bytes already processed in this frame).
///
/// Applying the same mask and offset twice restores the input.
#[inline]
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    let (m, m64) = rotated(mask, offset);
    if buf.len() >= 64 {
        apply_mask_long(buf, m, m64);
        return;
    }
    mask_words(buf, m, m64);
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

/// Payloads of 64 bytes and more: whole blocks through `crate::accel`.
#[inline(never)]
fn apply_mask_long(buf: &mut [u8], m: [u8; 4], m64: u64) -> u64 {
    let (acc, done) = crate::accel::xor_in_place(buf, m64);
    (acc & 0x8080_8080_8080_8080) | mask_words(&mut buf[done..], m, m64)
}

/// [`apply_mask`] that also reports whether every unmasked byte is ASCII,
/// from the same pass.
#[inline]
pub(crate) fn apply_mask_ascii(buf: &mut [u8], mask: [u8; 4], offset: usize) -> bool {
    let (m, m64) = rotated(mask, offset);
    if buf.len() >= 64 {
        return apply_mask_long(buf, m, m64) == 0;
    }
    mask_words(buf, m, m64) == 0
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
    let (m, m64) = rotated(mask, offset);
    let (mut acc, done) = if dst.len() >= 64 {
        crate::accel::xor_copy(dst, src, m64)
    } else {
        (0, 0)
    };
    let mut d = dst[done..].chunks_exact_mut(8);
    let mut s = src[done..].chunks_exact(8);
    for (dw, sw) in (&mut d).zip(&mut s) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(sw);
        let w = u64::from_ne_bytes(bytes) ^ m64;
        acc |= w;
        dw.copy_from_slice(&w.to_ne_bytes());
    }
    let mut tail = 0u8;
    for (i, (db, sb)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *db = sb ^ m[i & 3];
        tail |= *db;
    }
    (acc & 0x8080_8080_8080_8080) == 0 && tail < 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn naive(buf: &mut [u8], mask: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= mask[(i + offset) & 3];
        }
    }

    #[test]
    fn matches_bytewise_at_every_length_offset_and_alignment() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..8 {
            for len in 0..(source.len() - start) {
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
                    for da in [0, 3] {
                        let mut out = alloc::vec![0u8; len + da];
                        let ascii = mask_copy(&mut out[da..], src, mask, offset);
                        assert_eq!(&out[da..], &want[..], "sa {sa} len {len} offset {offset}");
                        assert_eq!(ascii, want.is_ascii(), "sa {sa} len {len} offset {offset}");
                    }
                }
            }
        }
    }

    #[test]
    fn mask_copy_reports_ascii_exactly() {
        let mask = [0x11, 0x22, 0x33, 0x44];
        for len in [1usize, 7, 8, 9, 63, 64, 65, 300, 1000] {
            let plain = alloc::vec![b'a'; len];
            for at in 0..len {
                let mut text = plain.clone();
                text[at] = 0xc3;
                let mut masked = text.clone();
                naive(&mut masked, mask, 0);
                let mut out = alloc::vec![0u8; len];
                assert!(!mask_copy(&mut out, &masked, mask, 0), "len {len} at {at}");
                assert_eq!(out, text);
            }
            let mut masked = plain.clone();
            naive(&mut masked, mask, 0);
            let mut out = alloc::vec![0u8; len];
            assert!(mask_copy(&mut out, &masked, mask, 0));
        }
    }

    #[test]
    fn apply_mask_ascii_agrees_with_apply_mask_and_is_ascii() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        for len in (0usize..200).chain([255, 256, 257, 600]) {
            for offset in 0..4 {
                for at in [None, Some(0), Some(len / 2), Some(len.saturating_sub(1))] {
                    let mut text = alloc::vec![b'q'; len];
                    if let (Some(i), true) = (at, len > 0) {
                        text[i] = 0xe9;
                    }
                    let mut buf = text.clone();
                    naive(&mut buf, mask, offset);
                    let ascii = apply_mask_ascii(&mut buf, mask, offset);
                    assert_eq!(buf, text, "len {len} offset {offset}");
                    assert_eq!(
                        ascii,
                        text.is_ascii(),
                        "len {len} offset {offset} at {at:?}"
                    );
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

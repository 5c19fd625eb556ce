//! Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, in place.
//!
//! Masking is the one per-byte operation on every client frame and every frame
//! a server receives, so it runs a word at a time. The code is safe Rust the
//! compiler vectorises; this file is the only place `unsafe` would ever be
//! allowed, and only if a benchmark proved it pays.

/// XORs `buf` in place with `mask`, starting at byte `offset` of the mask
/// cycle (the count of payload bytes already processed in this frame).
///
/// Applying the same mask and offset twice restores the input.
#[inline]
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    let k = offset & 3;
    let m = [
        mask[k],
        mask[(k + 1) & 3],
        mask[(k + 2) & 3],
        mask[(k + 3) & 3],
    ];
    if buf.len() < 8 {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= m[i & 3];
        }
        return;
    }
    let m32 = u32::from_ne_bytes(m);
    let m64 = u64::from(m32) | (u64::from(m32) << 32);
    // Both halves of m64 hold the mask in memory order, so every 8-byte chunk,
    // which starts at a multiple of 4, lines up with the mask cycle.
    let mut chunks = buf.chunks_exact_mut(32);
    for chunk in &mut chunks {
        for word in chunk.chunks_exact_mut(8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ m64).to_ne_bytes());
        }
    }
    let rest = chunks.into_remainder();
    let mut words = rest.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ m64).to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= m[i & 3];
    }
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

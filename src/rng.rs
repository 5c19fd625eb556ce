//! Randomness for client masks and handshake keys (RFC 6455 §5.3, §10.3).
//!
//! The engine takes randomness as an input through [`MaskSource`]. With the
//! `std` feature the default is [`OsRandom`], which draws from the operating
//! system's CSPRNG in batches so that sending a frame costs no system call.
//! [`SeededRandom`] is a small deterministic generator for tests, fuzzing and
//! `no_std` targets without a better source; it is not unpredictable.

/// A source of random bytes for masking keys and `Sec-WebSocket-Key` nonces.
///
/// RFC 6455 §10.3 requires masks an attacker cannot predict: use a
/// cryptographically strong source in production.
pub trait MaskSource: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<T: MaskSource + ?Sized> MaskSource for alloc::boxed::Box<T> {
    fn fill(&mut self, buf: &mut [u8]) {
        (**self).fill(buf);
    }
}

/// The operating system's CSPRNG, fetched 64 bytes (16 masks) at a time.
#[cfg(feature = "std")]
#[derive(Debug, Clone)]
pub struct OsRandom {
    pool: [u8; 64],
    used: usize,
}

#[cfg(feature = "std")]
impl OsRandom {
    /// A source with an empty pool; the first use fills it.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            pool: [0; 64],
            used: 64,
        }
    }

    fn refill(&mut self) {
        if getrandom::fill(&mut self.pool).is_err() {
            // The OS source failed (it practically never does): stretch the
            // previous pool with SHA-1 so masks still vary.
            let mut sha = sha1_smol::Sha1::new();
            sha.update(&self.pool);
            let digest = sha.digest().bytes();
            for (i, b) in self.pool.iter_mut().enumerate() {
                *b ^= digest[i % digest.len()].wrapping_add(i as u8);
            }
        }
        self.used = 0;
    }
}

#[cfg(feature = "std")]
impl Default for OsRandom {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl MaskSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(self.pool.len()) {
            if self.used + chunk.len() > self.pool.len() {
                self.refill();
            }
            chunk.copy_from_slice(&self.pool[self.used..self.used + chunk.len()]);
            self.used += chunk.len();
        }
    }
}

/// A deterministic generator (SplitMix64) for tests and fuzzing.
///
/// Not cryptographically strong: do not use it for connections that cross a
/// network you do not control.
#[derive(Debug, Clone)]
pub struct SeededRandom(u64);

impl SeededRandom {
    /// A generator that yields the same bytes for the same seed.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl MaskSource for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_deterministic() {
        let (mut a, mut b) = (SeededRandom::new(7), SeededRandom::new(7));
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        assert_ne!(x, [0; 13]);
    }

    #[cfg(feature = "std")]
    #[test]
    fn os_random_varies_across_refills() {
        let mut r = OsRandom::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            let mut m = [0u8; 4];
            r.fill(&mut m);
            seen.insert(m);
        }
        assert!(seen.len() > 90, "{} distinct masks of 100", seen.len());
    }
}

//! Randomness for client masks and handshake keys (RFC 6455 §5.3, §10.3).
//!
//! The engine takes randomness as an input through [`MaskSource`]. The
//! production source is [`ChaChaRandom`]: ChaCha with 12 rounds (the
//! `chacha20` crate's `ChaCha12Rng`, RustCrypto's; the generator `rand`'s
//! `StdRng` is) seeded once with 32 bytes from the operating system when a
//! client connection is made, so a mask costs a few instructions and no
//! system call. Twelve rounds, not twenty: the best published attacks on
//! ChaCha reach seven rounds, twelve keeps a wide margin, and the block
//! function is most of what a client's mask costs (about 14 instructions
//! per key with twenty rounds, about 8 with twelve).
//! If the OS source fails there is no fallback: the connection is not made
//! ([`RandomUnavailable`]), because masks an attacker can predict are what
//! §10.3 forbids. [`SeededRandom`] is a small deterministic generator for
//! tests and fuzzing; it is not unpredictable.
//!
//! Why one generator per connection rather than per thread or per process:
//! a connection then shares no state with any other (no lock, no
//! thread-local that a `fork` copies into two processes), and a seed costs
//! one `getrandom` call per connection, next to the TCP and HTTP round trips
//! a connection costs anyway. The keystream is 2^70 bytes per seed, so
//! no connection needs reseeding. A process that forks while a client
//! connection exists must not use that connection in both processes (their
//! masks would repeat); connections made after the fork are seeded afresh.

/// A source of random bytes for masking keys and `Sec-WebSocket-Key` nonces.
///
/// RFC 6455 §10.3 requires masks an attacker cannot predict: use a
/// cryptographically strong source in production.
///
/// `fill` cannot fail: a source that can (an OS call, a hardware generator)
/// draws what may fail when it is made, as [`ChaChaRandom::from_entropy`]
/// does, and refuses to be made rather than hand out guessable bytes.
pub trait MaskSource: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);

    /// One masking key. The default takes 4 bytes from [`fill`](Self::fill);
    /// sources that make words override it.
    fn mask(&mut self) -> [u8; 4] {
        let mut key = [0u8; 4];
        self.fill(&mut key);
        key
    }
}

impl<T: MaskSource + ?Sized> MaskSource for alloc::boxed::Box<T> {
    fn fill(&mut self, buf: &mut [u8]) {
        (**self).fill(buf);
    }

    fn mask(&mut self) -> [u8; 4] {
        (**self).mask()
    }
}

/// The entropy source failed, so no unpredictable masks can be made
/// (RFC 6455 §10.3). Nothing was created; try again later or fail the
/// request that needed the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RandomUnavailable;

impl core::fmt::Display for RandomUnavailable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(
            "the entropy source failed, so client masks would be predictable (RFC 6455 §10.3)",
        )
    }
}

impl core::error::Error for RandomUnavailable {}

/// A ChaCha12 CSPRNG seeded once from an entropy source: the default
/// [`MaskSource`] of [`Connection::client`](crate::Connection::client).
///
/// ```
/// # #[cfg(feature = "std")] {
/// use hybi::{ChaChaRandom, MaskSource};
/// let mut rng = ChaChaRandom::from_os().expect("the OS has entropy");
/// let mut key = [0u8; 16];
/// rng.fill(&mut key);
/// # }
/// ```
pub struct ChaChaRandom(chacha20::ChaCha12Rng);

impl core::fmt::Debug for ChaChaRandom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChaChaRandom { .. }")
    }
}

impl ChaChaRandom {
    /// A generator seeded with 32 bytes from the operating system.
    ///
    /// # Errors
    /// [`RandomUnavailable`] if the OS source fails; there is no fallback.
    #[cfg(feature = "std")]
    pub fn from_os() -> Result<Self, RandomUnavailable> {
        Self::from_entropy(|seed| getrandom::fill(seed))
    }

    /// A generator seeded by `entropy` (a hardware generator on a `no_std`
    /// target, say), which fills all 32 bytes or fails.
    ///
    /// # Errors
    /// [`RandomUnavailable`] if `entropy` fails.
    pub fn from_entropy<E>(
        entropy: impl FnOnce(&mut [u8; 32]) -> Result<(), E>,
    ) -> Result<Self, RandomUnavailable> {
        let mut seed = [0u8; 32];
        entropy(&mut seed).map_err(|_| RandomUnavailable)?;
        Ok(Self::from_seed(seed))
    }

    /// A generator from a seed the caller already holds. The seed MUST be
    /// secret and unpredictable for masks to be (§10.3).
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        use chacha20::rand_core::SeedableRng as _;
        Self(chacha20::ChaCha12Rng::from_seed(seed))
    }
}

impl MaskSource for ChaChaRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        use chacha20::rand_core::Rng as _;
        self.0.fill_bytes(buf);
    }

    #[inline]
    fn mask(&mut self) -> [u8; 4] {
        use chacha20::rand_core::Rng as _;
        self.0.next_u32().to_le_bytes()
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
    fn os_seeded_masks_vary_and_differ_between_generators() {
        let mut a = ChaChaRandom::from_os().unwrap();
        let mut b = ChaChaRandom::from_os().unwrap();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            seen.insert(a.mask());
        }
        assert!(seen.len() > 990, "{} distinct masks of 1000", seen.len());
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_ne!(x, y, "two OS seeds gave the same stream");
    }

    #[test]
    fn a_failing_entropy_source_makes_no_generator() {
        let made = ChaChaRandom::from_entropy(|_seed| Err("no entropy"));
        assert_eq!(made.err(), Some(RandomUnavailable));
    }

    /// The ChaCha block function of RFC 7539 §2.3 with `rounds` rounds, a
    /// zero nonce and block counter 0: an independent reference.
    fn reference_block(key: [u8; 32], rounds: usize) -> [u8; 64] {
        fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
            s[a] = s[a].wrapping_add(s[b]);
            s[d] = (s[d] ^ s[a]).rotate_left(16);
            s[c] = s[c].wrapping_add(s[d]);
            s[b] = (s[b] ^ s[c]).rotate_left(12);
            s[a] = s[a].wrapping_add(s[b]);
            s[d] = (s[d] ^ s[a]).rotate_left(8);
            s[c] = s[c].wrapping_add(s[d]);
            s[b] = (s[b] ^ s[c]).rotate_left(7);
        }
        let mut init = [0u32; 16];
        init[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
        for (i, word) in key.chunks_exact(4).enumerate() {
            init[4 + i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        }
        let mut s = init;
        for _ in 0..rounds / 2 {
            quarter(&mut s, 0, 4, 8, 12);
            quarter(&mut s, 1, 5, 9, 13);
            quarter(&mut s, 2, 6, 10, 14);
            quarter(&mut s, 3, 7, 11, 15);
            quarter(&mut s, 0, 5, 10, 15);
            quarter(&mut s, 1, 6, 11, 12);
            quarter(&mut s, 2, 7, 8, 13);
            quarter(&mut s, 3, 4, 9, 14);
        }
        let mut out = [0u8; 64];
        for i in 0..16 {
            out[4 * i..4 * i + 4].copy_from_slice(&s[i].wrapping_add(init[i]).to_le_bytes());
        }
        out
    }

    #[test]
    fn chacha_is_the_chacha12_keystream_of_its_seed() {
        // The reference is right: 20 rounds of the all-zero key give RFC
        // 7539 appendix A.1's test vector 1.
        assert_eq!(
            reference_block([0; 32], 20)[..16],
            [
                0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86,
                0xbd, 0x28
            ]
        );
        for seed in [[0u8; 32], core::array::from_fn(|i| (i * 37 + 1) as u8)] {
            let mut rng = ChaChaRandom::from_seed(seed);
            let mut block = [0u8; 64];
            rng.fill(&mut block);
            assert_eq!(block, reference_block(seed, 12));
            // `mask` takes the same keystream.
            assert_eq!(ChaChaRandom::from_seed(seed).mask(), block[..4]);
        }
    }
}

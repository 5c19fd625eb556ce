//! Counts of the bytes the receive buffer moves and zero-fills, so tests can
//! assert the buffer policy ("no payload byte moved twice after the socket
//! read") as counts rather than times.
//!
//! The counters exist only with the `fuzzing` feature; without it every
//! call here compiles to nothing. They are process-wide, so a test that
//! reads them runs alone in its binary (`tests/buffer_moves.rs`).

#[cfg(feature = "fuzzing")]
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[cfg(feature = "fuzzing")]
static MOVED: AtomicUsize = AtomicUsize::new(0);
#[cfg(feature = "fuzzing")]
static ZERO_FILLED: AtomicUsize = AtomicUsize::new(0);

/// Records `n` received bytes copied from one place in the buffer to another.
#[inline(always)]
pub(crate) fn moved(n: usize) {
    #[cfg(feature = "fuzzing")]
    MOVED.fetch_add(n, Relaxed);
    #[cfg(not(feature = "fuzzing"))]
    let _ = n;
}

/// Records `n` bytes of spare room written with zeros before a read fills
/// them.
#[inline(always)]
pub(crate) fn zero_filled(n: usize) {
    #[cfg(feature = "fuzzing")]
    ZERO_FILLED.fetch_add(n, Relaxed);
    #[cfg(not(feature = "fuzzing"))]
    let _ = n;
}

/// What the receive buffers of this process did since the last
/// [`take`]: bytes moved within a buffer and bytes of spare room zeroed.
#[cfg(feature = "fuzzing")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferCounts {
    /// Received bytes copied from one place in a buffer to another
    /// (compaction, squeezing out fragment headers).
    pub moved: usize,
    /// Bytes of spare room written with zeros before a read filled them:
    /// what `read_buf` lends that was never written, and the four bytes
    /// past a compressed payload where the inflater's tail goes when they
    /// were never written (`receive` itself writes none).
    pub zero_filled: usize,
}

/// The counts since the last call, resetting them.
#[cfg(feature = "fuzzing")]
pub fn take() -> BufferCounts {
    BufferCounts {
        moved: MOVED.swap(0, Relaxed),
        zero_filled: ZERO_FILLED.swap(0, Relaxed),
    }
}

//! The send direction's compressor: a message or a fragment into a reused
//! buffer, the `00 00 ff ff` every sync flush ends with stripped.

use alloc::vec::Vec;

use zlib_rs::{DeflateConfig as ZDeflateConfig, DeflateFlush};

use super::TAIL;
use crate::extension::spare;

/// The send direction's compressor.
pub(crate) struct Deflater {
    stream: Option<zlib_rs::Deflate>,
    config: ZDeflateConfig,
    /// We reset our compressor after every message.
    reset_each: bool,
    /// Then keep zlib's state, reset, instead of dropping it (dropped by
    /// [`release_state`](Self::release_state) instead).
    pub(crate) keep_state: bool,
    /// A fragmented message is being compressed.
    pub(crate) in_message: bool,
    /// Output buffer: the last call's bytes are `buf[..len]`.
    buf: Vec<u8>,
    len: usize,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater")
            .field("window_bits", &self.config.window_bits)
            .field("allocated", &self.stream.is_some())
            .finish_non_exhaustive()
    }
}

impl Deflater {
    pub(crate) fn new(window_bits: u8, level: u8, mem_level: u8, reset_each: bool) -> Self {
        Self {
            stream: None,
            config: ZDeflateConfig {
                level: i32::from(level),
                window_bits: -i32::from(window_bits),
                mem_level: i32::from(mem_level),
                ..ZDeflateConfig::default()
            },
            reset_each,
            keep_state: false,
            in_message: false,
            buf: Vec::new(),
            len: 0,
        }
    }

    /// Compresses `input` (a whole message, or the next fragment of one)
    /// into [`compressed`](Self::compressed), ending with a sync flush; on the message's `last`
    /// piece the flush's `00 00 ff ff` is removed (§7.2.1).
    pub(crate) fn compress(&mut self, input: &[u8], last: bool) {
        let config = self.config;
        let stream = self
            .stream
            .get_or_insert_with(|| spare::take_deflate(config));
        // `buf` keeps its length (zeroed once, when it grows); `len` bytes
        // of it are this call's output.
        self.len = 0;
        let mut consumed = 0;
        loop {
            // Room for the input's worst case and the flush markers.
            let want = input.len() - consumed + input.len() / 1000 + 64;
            if self.buf.len() < self.len + want {
                self.buf.resize(self.len + want, 0);
            }
            let room = self.buf.len() - self.len;
            let before_in = stream.total_in();
            let before_out = stream.total_out();
            // A stream error cannot happen on a stream we initialised with
            // checked parameters and an output buffer with room.
            let _ = stream.compress(
                &input[consumed..],
                &mut self.buf[self.len..],
                DeflateFlush::SyncFlush,
            );
            consumed += (stream.total_in() - before_in) as usize;
            let made = (stream.total_out() - before_out) as usize;
            self.len += made;
            // Done when all input is in and the flush fitted with room to spare.
            if consumed == input.len() && made < room {
                break;
            }
        }
        if last {
            if self.compressed().ends_with(&TAIL) {
                self.len -= TAIL.len();
            } else if self.len == 0 {
                // No new input after a flush: zlib writes nothing, yet the
                // receiver appends `00 00 ff ff` as the tail of an empty
                // stored block. Its header (3 zero bits, padded) is the
                // one byte the message must carry (§7.2.1).
                if self.buf.is_empty() {
                    self.buf.push(0);
                }
                self.buf[0] = 0x00;
                self.len = 1;
            }
            self.in_message = false;
            if self.reset_each {
                match self.stream.as_mut() {
                    Some(stream) if self.keep_state => stream.reset(),
                    _ => self.park(),
                }
            }
        } else {
            self.in_message = true;
        }
    }

    /// Forgets the history (after a message was sent uncompressed, so the
    /// peer's window lacks it): the next message starts a fresh stream,
    /// which any peer decoder reads.
    pub(crate) fn forget(&mut self) {
        if let Some(stream) = self.stream.as_mut() {
            stream.reset();
        }
    }

    /// Drops zlib's state between messages when no window must be kept.
    pub(crate) fn release_state(&mut self) {
        if self.reset_each && !self.in_message {
            self.park();
        }
    }

    /// Gives zlib's state to this thread's spares (reset there).
    fn park(&mut self) {
        if let Some(stream) = self.stream.take() {
            spare::park_deflate(&self.config, stream);
        }
    }

    /// Whether the compressor starts afresh for every message.
    pub(crate) fn resets_each(&self) -> bool {
        self.reset_each
    }

    /// The window this compressor uses (what the peer agreed to inflate).
    pub(crate) fn window_bits(&self) -> u8 {
        self.config.window_bits.unsigned_abs() as u8
    }

    /// The compressed bytes of the last call.
    pub(crate) fn compressed(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Frees the output buffer if larger than `keep`.
    pub(crate) fn shrink(&mut self, keep: usize) {
        if self.buf.capacity() > keep {
            self.buf = Vec::new();
            self.len = 0;
        }
    }

    /// Heap bytes held (the output buffer; zlib's state is not counted).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }
}

impl Drop for Deflater {
    /// A closed connection's state serves the next one on this thread.
    fn drop(&mut self) {
        self.park();
    }
}

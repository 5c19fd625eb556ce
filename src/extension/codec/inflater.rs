//! The receive direction's decompressor: a message's payload in, its plain
//! bytes out into a buffer it owns, never more than the room the caller
//! allows (what is left of `max_message_size` or of a chunk), so a bomb's
//! output is refused before it exists.

use alloc::vec::Vec;

use zlib_rs::{InflateFlush, Status};

use super::TAIL;
use crate::extension::spare;

/// How much inflated output a step adds to the buffer at most before the
/// caller may look at it (the buffer grows by doubling up to this).
const STEP: usize = 64 << 10;

/// The decompressor's input was not a valid DEFLATE stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidData;

/// What one [`Inflater::inflate`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Inflated {
    /// Input bytes consumed.
    pub(crate) consumed: usize,
    /// The room was used up: more output may be waiting.
    pub(crate) full: bool,
}

/// The receive direction's decompressor and the message it is producing.
pub(crate) struct Inflater {
    stream: Option<zlib_rs::Inflate>,
    window_bits: u8,
    /// The peer resets its compressor after every message: so does ours.
    reset_each: bool,
    /// Then keep zlib's state, reset, instead of dropping it (dropped by
    /// [`release_state`](Self::release_state) instead).
    pub(crate) keep_state: bool,
    /// The stream hit a final block (BFINAL); the rest of the message is
    /// ignored and the stream starts afresh with the next one.
    ended: bool,
    /// Output buffer, zero-filled once when it grows; `filled` bytes used.
    pub(crate) out: Vec<u8>,
    pub(crate) filled: usize,
    /// A small last payload and the tail, joined for one zlib call.
    joined: Vec<u8>,
    /// The largest payload of a whole message in one frame that the
    /// receive side inflates in one step (set there, from its limits).
    pub(crate) whole_max: usize,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("allocated", &self.stream.is_some())
            .field("filled", &self.filled)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    pub(crate) fn new(window_bits: u8, reset_each: bool) -> Self {
        Self {
            stream: None,
            window_bits,
            reset_each,
            keep_state: false,
            ended: false,
            out: Vec::new(),
            filled: 0,
            joined: Vec::new(),
            whole_max: 0,
        }
    }

    /// [`inflate`](Self::inflate) of `payload` followed by the tail, in one
    /// zlib call (what a small message's last frame costs most is the call).
    ///
    /// # Errors
    /// As [`inflate`](Self::inflate).
    pub(crate) fn inflate_with_tail(
        &mut self,
        payload: &[u8],
        room: usize,
    ) -> Result<Inflated, InvalidData> {
        let mut joined = core::mem::take(&mut self.joined);
        joined.clear();
        joined.extend_from_slice(payload);
        joined.extend_from_slice(&TAIL);
        let result = self.inflate(&joined, room);
        self.joined = joined;
        result
    }

    /// [`probe`](Self::probe) of what the last
    /// [`inflate_with_tail`](Self::inflate_with_tail) left from `from`.
    ///
    /// # Errors
    /// As [`probe`](Self::probe).
    pub(crate) fn probe_joined(&mut self, from: usize) -> Result<(usize, bool), InvalidData> {
        let joined = core::mem::take(&mut self.joined);
        let result = self.probe(joined.get(from..).unwrap_or_default());
        self.joined = joined;
        result
    }

    /// Inflates from `input`, appending at most `room` bytes to `out`.
    ///
    /// # Errors
    /// [`InvalidData`] if the input is not DEFLATE; what was inflated
    /// before the fault is in `out` all the same.
    #[inline(never)]
    pub(crate) fn inflate(&mut self, input: &[u8], room: usize) -> Result<Inflated, InvalidData> {
        self.inflate_inline(input, room)
    }

    /// [`inflate`](Self::inflate), inlined where a message takes one step
    /// (a whole message in one small frame: the call's own cost counts).
    ///
    /// # Errors
    /// As [`inflate`](Self::inflate).
    #[inline(always)]
    pub(crate) fn inflate_inline(
        &mut self,
        input: &[u8],
        room: usize,
    ) -> Result<Inflated, InvalidData> {
        if self.ended {
            // Whatever follows a final block is not part of the stream.
            return Ok(Inflated {
                consumed: input.len(),
                full: false,
            });
        }
        let bits = self.window_bits;
        let stream = self.stream.get_or_insert_with(|| spare::take_inflate(bits));
        let limit = self.filled.saturating_add(room);
        let mut consumed = 0;
        loop {
            if self.filled == limit {
                return Ok(Inflated {
                    consumed,
                    full: true,
                });
            }
            if self.filled == self.out.len() {
                // Grow by doubling, in steps of at most STEP, never past
                // the room: a bomb's output is refused before it exists.
                let grow = self.out.len().clamp(4 << 10, STEP).min(limit - self.filled);
                self.out.resize(self.out.len() + grow, 0);
            }
            let end = self.out.len().min(limit);
            let before_in = stream.total_in();
            let before_out = stream.total_out();
            let result = stream.decompress(
                &input[consumed..],
                &mut self.out[self.filled..end],
                InflateFlush::SyncFlush,
            );
            let used = (stream.total_in() - before_in) as usize;
            let made = (stream.total_out() - before_out) as usize;
            consumed += used;
            // Bytes made before an error are kept, so the caller checks
            // them (invalid text there is reported first, wherever the
            // input was split).
            self.filled += made;
            let status = result.map_err(|_| InvalidData)?;
            if status == Status::StreamEnd {
                self.ended = true;
                return Ok(Inflated {
                    consumed: input.len(),
                    full: false,
                });
            }
            let out_full = self.filled == end;
            if !out_full && (consumed == input.len() || (used == 0 && made == 0)) {
                return Ok(Inflated {
                    consumed,
                    full: false,
                });
            }
        }
    }

    /// At the room's end: feeds `input` through a one-byte buffer on the
    /// stack and reports the input consumed and whether any byte came out
    /// (then the message is over its limit).
    pub(crate) fn probe(&mut self, input: &[u8]) -> Result<(usize, bool), InvalidData> {
        if self.ended {
            return Ok((input.len(), false));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok((0, false));
        };
        let mut probe = [0u8; 1];
        let (in0, out0) = (stream.total_in(), stream.total_out());
        let status = stream
            .decompress(input, &mut probe, InflateFlush::SyncFlush)
            .map_err(|_| InvalidData)?;
        if status == Status::StreamEnd {
            self.ended = true;
        }
        let used = (stream.total_in() - in0) as usize;
        Ok((
            if self.ended { input.len() } else { used },
            stream.total_out() > out0,
        ))
    }

    /// The message is complete: drop or keep the window as negotiated.
    pub(crate) fn end_message(&mut self) {
        if self.reset_each || self.ended {
            match self.stream.as_mut() {
                Some(stream) if self.keep_state => stream.reset(false),
                _ => self.park(),
            }
        }
        self.ended = false;
    }

    /// Drops zlib's state between messages when no window must be kept.
    pub(crate) fn release_state(&mut self) {
        if self.reset_each {
            self.park();
        }
    }

    /// Gives zlib's state to this thread's spares (reset there).
    fn park(&mut self) {
        if let Some(stream) = self.stream.take() {
            spare::park_inflate(stream);
        }
    }

    /// Gives back the delivered output; keeps `out[from..filled]`.
    pub(crate) fn consume(&mut self, from: usize) {
        self.out.copy_within(from..self.filled, 0);
        self.filled -= from;
    }

    /// Frees the output buffer if it is empty and larger than `keep`.
    pub(crate) fn shrink(&mut self, keep: usize) {
        if self.filled == 0 && self.out.len() > keep {
            self.out = Vec::new();
        }
        if keep == 0 {
            self.joined = Vec::new();
        }
    }

    /// Heap bytes held (the buffers; zlib's state is not counted).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.out.capacity() + self.joined.capacity()
    }
}

impl Drop for Inflater {
    /// A closed connection's state serves the next one on this thread.
    fn drop(&mut self) {
        self.park();
    }
}

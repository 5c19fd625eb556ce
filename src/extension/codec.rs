//! permessage-deflate's compressor and decompressor (RFC 7692 §7.2), over
//! zlib-rs's raw DEFLATE streams.
//!
//! [`Inflater`] turns a message's payload (fed as its frames arrive) into
//! its plain bytes, appending to a buffer it owns, and never produces more
//! than the room the caller allows: the caller passes what is left of
//! `max_message_size` (or of a chunk), so a decompression bomb is refused
//! before its output exists. [`Deflater`] compresses a message or a fragment
//! into a reused buffer and strips the `00 00 ff ff` that every sync flush
//! ends with. Both allocate their zlib state on first use and can drop it
//! after a message when context takeover is off, so an idle connection
//! holds no window.

use alloc::vec::Vec;

use zlib_rs::{DeflateConfig as ZDeflateConfig, DeflateFlush, InflateFlush, Status};

use super::spare;

/// The four bytes a sync flush ends with; removed on send, added back on
/// receive (§7.2.1, §7.2.2).
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

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

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate_all(inf: &mut Inflater, data: &[u8]) -> Vec<u8> {
        let mut input = Vec::from(data);
        input.extend_from_slice(&TAIL);
        let r = inf.inflate(&input, usize::MAX).unwrap();
        assert_eq!(r.consumed, input.len());
        let out = inf.out[..inf.filled].to_vec();
        inf.filled = 0;
        inf.end_message();
        out
    }

    #[test]
    fn rfc7692_hello_examples() {
        // §7.2.3.1: one compressed message.
        let mut inf = Inflater::new(15, false);
        assert_eq!(
            inflate_all(&mut inf, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            b"Hello"
        );
        // §7.2.3.2: the same again with context takeover is 5 bytes.
        assert_eq!(
            inflate_all(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
            b"Hello"
        );
        // §7.2.3.3: a stored (uncompressed) block.
        let mut inf = Inflater::new(15, false);
        assert_eq!(
            inflate_all(
                &mut inf,
                &[
                    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00
                ]
            ),
            b"Hello"
        );
        // §7.2.3.5: a final block (BFINAL set); what follows is ignored.
        assert_eq!(
            inflate_all(&mut inf, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]),
            b"Hello"
        );
    }

    #[test]
    fn the_room_bounds_the_output() {
        let mut def = Deflater::new(15, 6, 8, false);
        let plain = alloc::vec![b'a'; 100_000];
        def.compress(&plain, true);
        assert!(def.compressed().len() < 200);
        let mut input = def.compressed().to_vec();
        input.extend_from_slice(&TAIL);
        let mut inf = Inflater::new(15, false);
        let step = inf.inflate(&input, 1000).unwrap();
        assert!(step.full);
        assert_eq!(inf.filled, 1000);
        assert_eq!(inf.out.len(), 1000, "never allocated past the room");
        assert!(inf.probe(&input[step.consumed..]).unwrap().1);
    }

    #[test]
    fn compressed_output_round_trips_with_and_without_takeover() {
        for reset in [false, true] {
            let mut def = Deflater::new(12, 6, 5, reset);
            let mut inf = Inflater::new(12, reset);
            let msg = b"{\"type\":\"ticker\",\"price\":\"101.25\",\"size\":\"3\"}".repeat(4);
            let mut sizes = Vec::new();
            for _ in 0..3 {
                def.compress(&msg, true);
                sizes.push(def.compressed().len());
                assert_eq!(inflate_all(&mut inf, def.compressed()), msg);
            }
            // With takeover, the second message refers back to the first.
            assert_eq!(sizes[1] < sizes[0], !reset, "{sizes:?}");
        }
    }

    /// An empty last fragment after a flushed one is the stored block's
    /// header alone, and the stream goes on decoding (found by the
    /// allocation test's chunked echo).
    #[test]
    fn an_empty_last_fragment_keeps_the_stream_in_step() {
        let mut def = Deflater::new(15, 6, 8, false);
        let mut inf = Inflater::new(15, false);
        def.compress(b"first fragment ", false);
        let mut message = def.compressed().to_vec();
        def.compress(b"", true);
        assert_eq!(def.compressed(), [0x00]);
        message.extend_from_slice(def.compressed());
        assert_eq!(inflate_all(&mut inf, &message), b"first fragment ");
        def.compress(b"the next message", true);
        let next = def.compressed().to_vec();
        assert_eq!(inflate_all(&mut inf, &next), b"the next message");
    }

    #[test]
    fn invalid_data_is_an_error() {
        let mut inf = Inflater::new(15, false);
        assert_eq!(
            inf.inflate(&[0xff, 0xff, 0xff, 0xff], 100),
            Err(InvalidData)
        );
    }

    #[test]
    fn a_reused_decompressor_cannot_reach_the_previous_window() {
        const SECRET: &[u8] = b"the previous connection's secret session token";
        // A compressor with context takeover: its second message refers
        // back to the first.
        let mut sender = Deflater::new(15, 6, 8, false);
        sender.compress(SECRET, true);
        let first = sender.compressed().to_vec();
        sender.compress(SECRET, true);
        let second = sender.compressed().to_vec();
        assert!(second.len() < 10, "the second copy is a back reference");

        let mut victim = Inflater::new(15, false);
        assert_eq!(inflate_all(&mut victim, &first), SECRET);
        drop(victim);
        let parked = spare::parked().0;
        assert!(parked >= 1, "the dropped decompressor is parked");

        // The next connection on this thread takes the parked state.
        let mut attacker = Inflater::new(15, true);
        let mut input = second;
        input.extend_from_slice(&TAIL);
        let result = attacker.inflate(&input, 1 << 20);
        assert_eq!(spare::parked().0, parked - 1, "the parked state was reused");
        assert_eq!(result, Err(InvalidData));
        assert!(
            !attacker.out[..attacker.filled]
                .windows(6)
                .any(|w| w == b"secret")
        );
    }

    #[test]
    fn a_reused_compressor_starts_with_no_history() {
        let message = b"{\"type\":\"ticker\",\"price\":\"101.25\"}";
        let mut first = Deflater::new(15, 6, 8, true);
        first.compress(message, true);
        let fresh = first.compressed().to_vec();
        assert!(spare::parked().1 >= 1, "released after the message");
        // Without context takeover the same message compresses to the same
        // bytes on a reused state, and a fresh decompressor reads them.
        first.compress(message, true);
        assert_eq!(first.compressed(), &fresh[..]);
        let mut other = Deflater::new(15, 6, 8, true);
        other.compress(message, true);
        assert_eq!(other.compressed(), &fresh[..]);
        let mut reader = Inflater::new(15, true);
        assert_eq!(inflate_all(&mut reader, other.compressed()), message);
    }

    #[test]
    fn a_thread_parks_at_most_a_few_states_and_clears_them() {
        let states: Vec<Deflater> = (0..5)
            .map(|_| {
                let mut d = Deflater::new(15, 6, 8, false);
                d.compress(b"hello hello hello", true);
                d
            })
            .collect();
        drop(states);
        assert_eq!(spare::parked().1, spare::SPARE_PER_KIND);
        spare::clear_spare_deflate_state();
        assert_eq!(spare::parked(), (0, 0));
    }
}

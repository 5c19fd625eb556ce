//! Connection limits and switches.
//!
//! Every bound on memory and work per connection is a field of [`Config`]:
//! frame and message size, fragments per message, the threshold above which
//! messages are delivered in chunks, and the handshake's header bytes and
//! count. Setters clamp values to a safe minimum, so a `Config` is always
//! usable; `docs/limits.md` explains each default.

/// Limits and switches for one connection.
///
/// ```
/// let config = hybi::Config::new()
///     .max_message_size(16 << 20)
///     .chunk_threshold(256 << 10);
/// assert_eq!(config.get_max_message_size(), 16 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    max_frame_size: usize,
    max_message_size: usize,
    // Counts and sizes that fit 32 bits are kept so (clamped by their
    // setters): the struct is copied into every connection.
    max_fragments: u32,
    chunk_threshold: usize,
    max_handshake_bytes: u32,
    max_headers: u32,
    read_buf_size: u32,
    buffer_high_water: usize,
    auto_pong: bool,
    /// Timers, in milliseconds (0: off); see `src/timers.rs`.
    keepalive_ms: u32,
    pong_timeout_ms: u32,
    close_timeout_ms: u32,
    handshake_timeout_ms: u32,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::DeflateConfig>,
}

/// The largest `chunk_threshold`: with the caps below, the receive buffer
/// (`max_receive_buffer`) stays under 2 GiB, so its offsets fit in 32 bits
/// (a staged event holds two of them).
const MAX_CHUNK_THRESHOLD: usize = 1 << 30;
/// The largest `read_buf_size` and `max_handshake_bytes`.
const MAX_BUFFER_PART: usize = 256 << 20;

const fn min(a: usize, b: usize) -> usize {
    if a < b { a } else { b }
}

/// A setter's `usize` as the `u32` it is kept in (saturating).
const fn to_u32(v: usize) -> u32 {
    if v > u32::MAX as usize {
        u32::MAX
    } else {
        v as u32
    }
}

/// A timer's `Duration` in whole milliseconds (at least 1 if non-zero,
/// saturating); 0 is off.
const fn to_ms(d: Option<core::time::Duration>) -> u32 {
    match d {
        None => 0,
        Some(d) => {
            let ms = d.as_millis();
            if ms > u32::MAX as u128 {
                u32::MAX
            } else if ms == 0 && !d.is_zero() {
                1
            } else {
                ms as u32
            }
        }
    }
}

const fn from_ms(ms: u32) -> Option<core::time::Duration> {
    if ms == 0 {
        None
    } else {
        Some(core::time::Duration::from_millis(ms as u64))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// Smallest handshake head we accept as a limit: a minimal valid request fits.
const MIN_HANDSHAKE_BYTES: usize = 256;
/// Smallest header-count limit: the mandatory handshake headers fit.
const MIN_HEADERS: usize = 8;
/// Smallest read window: one maximal control frame and a header fit.
const MIN_READ_BUF: usize = 256;

impl Config {
    /// The defaults: 16 MiB frames, 64 MiB messages, 1 Mi fragments per
    /// message, chunked delivery above 1 MiB, 16 KiB and 64 headers for the
    /// handshake, 8 KiB reads, empty buffers above 2 MiB released,
    /// automatic pongs.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 20,
            chunk_threshold: 1 << 20,
            max_handshake_bytes: 16 << 10,
            max_headers: 64,
            read_buf_size: 8 << 10,
            buffer_high_water: 2 << 20,
            auto_pong: true,
            keepalive_ms: 20_000,
            pong_timeout_ms: 20_000,
            close_timeout_ms: 10_000,
            handshake_timeout_ms: 10_000,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// Largest frame payload accepted; larger headers fail with close 1009
    /// before any payload is read. At least 125.
    #[must_use]
    pub const fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = if bytes < 125 { 125 } else { bytes };
        self
    }

    /// Largest message accepted (sum of its fragments); checked from each
    /// frame header, close 1009. At least 1.
    #[must_use]
    pub const fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// Most frames in one message; more fail with close 1009. At least 1.
    #[must_use]
    pub const fn max_fragments(mut self, count: usize) -> Self {
        self.max_fragments = if count == 0 { 1 } else { to_u32(count) };
        self
    }

    /// Messages longer than this are delivered as chunks of about this size
    /// (`TextChunk`/`BinaryChunk` events with a `last` flag) instead of whole,
    /// so the receive buffer never holds more than this much message data.
    /// At least 1 and at most 1 GiB (`usize::MAX` gives whole messages up
    /// to 1 GiB, larger ones in chunks): the receive buffer's offsets stay
    /// 32-bit.
    #[must_use]
    pub const fn chunk_threshold(mut self, bytes: usize) -> Self {
        self.chunk_threshold = if bytes == 0 {
            1
        } else if bytes > MAX_CHUNK_THRESHOLD {
            MAX_CHUNK_THRESHOLD
        } else {
            bytes
        };
        self
    }

    /// Largest handshake head (request line or status line plus headers);
    /// a longer request is answered with HTTP 431. At least 256, at most
    /// 256 MiB.
    #[must_use]
    pub const fn max_handshake_bytes(mut self, bytes: usize) -> Self {
        self.max_handshake_bytes = if bytes < MIN_HANDSHAKE_BYTES {
            MIN_HANDSHAKE_BYTES as u32
        } else {
            to_u32(min(bytes, MAX_BUFFER_PART))
        };
        self
    }

    /// Most headers in a handshake; more are answered with HTTP 431. At least 8.
    #[must_use]
    pub const fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = if count < MIN_HEADERS {
            MIN_HEADERS as u32
        } else {
            to_u32(count)
        };
        self
    }

    /// Spare room `read_buf` offers at least (when the memory bound allows).
    /// At least 256, at most 256 MiB.
    #[must_use]
    pub const fn read_buf_size(mut self, bytes: usize) -> Self {
        self.read_buf_size = if bytes < MIN_READ_BUF {
            MIN_READ_BUF as u32
        } else {
            to_u32(min(bytes, MAX_BUFFER_PART))
        };
        self
    }

    /// When a buffer is empty and its capacity exceeds this, it is released,
    /// so a connection that saw one unusually big message does not keep its
    /// memory. Buffers at or below it are kept, so steady traffic allocates
    /// nothing; the default (2 MiB) keeps a receive buffer of the default
    /// `chunk_threshold` and sends of up to 2 MiB. Call
    /// `Connection::shrink_buffers` to release empty buffers of any size when
    /// a connection goes idle.
    #[must_use]
    pub const fn buffer_high_water(mut self, bytes: usize) -> Self {
        self.buffer_high_water = bytes;
        self
    }

    /// Whether a received Ping is answered with a Pong automatically (the
    /// Ping is reported either way). Default `true`.
    #[must_use]
    pub const fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Negotiate permessage-deflate (RFC 7692) with this policy: a server
    /// answers the first offer it can serve, a client offers it. Off by
    /// default (a connection then declines every offer).
    #[cfg(feature = "deflate")]
    #[must_use]
    pub const fn deflate(mut self, deflate: crate::DeflateConfig) -> Self {
        self.deflate = Some(deflate);
        self
    }

    /// See [`deflate`](Self::deflate).
    #[cfg(feature = "deflate")]
    #[must_use]
    pub const fn get_deflate(&self) -> Option<crate::DeflateConfig> {
        self.deflate
    }

    /// Send a Ping when nothing has been received for this long (any
    /// frame from the peer counts: it shows the peer is alive; what we
    /// send does not). `None` turns keep-alive off. Default 20 s: under the
    /// 30–120 s after which proxies and NATs drop idle connections.
    /// Timers run only for callers that drive them with
    /// `Connection::handle_timeout` (see `poll_timeout`). Kept in whole
    /// milliseconds.
    #[must_use]
    pub const fn keepalive_interval(mut self, interval: Option<core::time::Duration>) -> Self {
        self.keepalive_ms = to_ms(interval);
        self
    }

    /// After a keep-alive Ping, how long to wait for a Pong (any Pong)
    /// before the connection fails with `Error::PongTimeout` and a Close 1011
    /// "keepalive ping timeout". `None` waits forever. Default 20 s.
    #[must_use]
    pub const fn pong_timeout(mut self, timeout: Option<core::time::Duration>) -> Self {
        self.pong_timeout_ms = to_ms(timeout);
        self
    }

    /// After our Close, how long to wait for the peer's before the
    /// connection ends as abnormal (`Event::Close` with 1006,
    /// `close_expected` true). `None` waits forever. Default 10 s.
    #[must_use]
    pub const fn close_timeout(mut self, timeout: Option<core::time::Duration>) -> Self {
        self.close_timeout_ms = to_ms(timeout);
        self
    }

    /// How long the opening handshake may take, from the first
    /// `handle_timeout` (a server: until it accepts or rejects; a client:
    /// until the response). Past it the connection fails with
    /// `HandshakeError::Timeout` and nothing more is read (slow-header
    /// attacks are bounded in time, not only in memory). `None` waits
    /// forever. Default 10 s.
    #[must_use]
    pub const fn handshake_timeout(mut self, timeout: Option<core::time::Duration>) -> Self {
        self.handshake_timeout_ms = to_ms(timeout);
        self
    }

    /// See [`keepalive_interval`](Self::keepalive_interval).
    #[must_use]
    pub const fn get_keepalive_interval(&self) -> Option<core::time::Duration> {
        from_ms(self.keepalive_ms)
    }
    /// See [`pong_timeout`](Self::pong_timeout).
    #[must_use]
    pub const fn get_pong_timeout(&self) -> Option<core::time::Duration> {
        from_ms(self.pong_timeout_ms)
    }
    /// See [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub const fn get_close_timeout(&self) -> Option<core::time::Duration> {
        from_ms(self.close_timeout_ms)
    }
    /// See [`handshake_timeout`](Self::handshake_timeout).
    #[must_use]
    pub const fn get_handshake_timeout(&self) -> Option<core::time::Duration> {
        from_ms(self.handshake_timeout_ms)
    }

    /// See [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub const fn get_max_frame_size(&self) -> usize {
        self.max_frame_size
    }
    /// See [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub const fn get_max_message_size(&self) -> usize {
        self.max_message_size
    }
    /// See [`max_fragments`](Self::max_fragments).
    #[must_use]
    pub const fn get_max_fragments(&self) -> usize {
        self.max_fragments as usize
    }
    /// See [`chunk_threshold`](Self::chunk_threshold).
    #[must_use]
    pub const fn get_chunk_threshold(&self) -> usize {
        self.chunk_threshold
    }
    /// See [`max_handshake_bytes`](Self::max_handshake_bytes).
    #[must_use]
    pub const fn get_max_handshake_bytes(&self) -> usize {
        self.max_handshake_bytes as usize
    }
    /// See [`max_headers`](Self::max_headers).
    #[must_use]
    pub const fn get_max_headers(&self) -> usize {
        self.max_headers as usize
    }
    /// See [`read_buf_size`](Self::read_buf_size).
    #[must_use]
    pub const fn get_read_buf_size(&self) -> usize {
        self.read_buf_size as usize
    }
    /// See [`buffer_high_water`](Self::buffer_high_water).
    #[must_use]
    pub const fn get_buffer_high_water(&self) -> usize {
        self.buffer_high_water
    }
    /// See [`auto_pong`](Self::auto_pong).
    #[must_use]
    pub const fn get_auto_pong(&self) -> bool {
        self.auto_pong
    }

    /// Upper bound of the receive buffer's size while the caller drains
    /// events before reading more: the larger of the handshake limit and the
    /// assembled message (`chunk_threshold`, capped by `max_message_size`)
    /// plus an incomplete character, header and control frame, plus one read.
    #[must_use]
    pub const fn max_receive_buffer(&self) -> usize {
        let message = if self.chunk_threshold < self.max_message_size {
            self.chunk_threshold
        } else {
            self.max_message_size
        };
        let frames = message
            .saturating_add(3)
            .saturating_add(crate::frame::MAX_HEADER_LEN + crate::frame::MAX_CONTROL_PAYLOAD);
        let handshake = self.max_handshake_bytes as usize;
        let live = if frames > handshake {
            frames
        } else {
            handshake
        };
        live.saturating_add(self.read_buf_size as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_clamp_to_minimums() {
        let c = Config::new()
            .max_frame_size(0)
            .max_message_size(0)
            .max_fragments(0)
            .chunk_threshold(0)
            .max_handshake_bytes(1)
            .max_headers(0)
            .read_buf_size(0);
        assert_eq!(c.get_max_frame_size(), 125);
        assert_eq!(c.get_max_message_size(), 1);
        assert_eq!(c.get_max_fragments(), 1);
        assert_eq!(c.get_chunk_threshold(), 1);
        assert_eq!(c.get_max_handshake_bytes(), 256);
        assert_eq!(c.get_max_headers(), 8);
        assert_eq!(c.get_read_buf_size(), 256);
    }

    #[test]
    fn setters_clamp_to_maximums_that_keep_offsets_32_bit() {
        let c = Config::new()
            .max_message_size(usize::MAX)
            .chunk_threshold(usize::MAX)
            .max_handshake_bytes(usize::MAX)
            .read_buf_size(usize::MAX);
        assert_eq!(c.get_chunk_threshold(), 1 << 30);
        assert_eq!(c.get_max_handshake_bytes(), 256 << 20);
        assert_eq!(c.get_read_buf_size(), 256 << 20);
        assert!(
            c.max_receive_buffer() < 1 << 31,
            "{}",
            c.max_receive_buffer()
        );
    }

    #[test]
    fn receive_bound_is_the_larger_of_handshake_and_message() {
        let c = Config::new();
        assert_eq!(c.max_receive_buffer(), (1 << 20) + 3 + 14 + 125 + (8 << 10));
        let small = Config::new().chunk_threshold(100).max_handshake_bytes(4096);
        assert_eq!(small.max_receive_buffer(), 4096 + (8 << 10));
    }
}

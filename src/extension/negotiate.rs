//! permessage-deflate negotiation (RFC 7692 §5, §7.1): the policy
//! ([`DeflateConfig`]), a client's offers as a server reads them
//! ([`DeflateOffer`]), and the parameters both ends agreed on
//! ([`DeflateParams`]).
//!
//! The server answers the first offer its policy can serve, in the
//! client's order (`deflate_header.rs` reads them, declining those with an
//! unknown, repeated or invalid parameter as §5 requires). The client writes its offer
//! from the same policy and checks the server's answer against it; any
//! parameter it did not allow fails the handshake with a specific
//! [`HandshakeError`]. One check, [`DeflateParams::answers`], decides
//! whether an answer fits an offer on both sides.
//!
//! zlib cannot compress with a 256-byte window (window bits 8): a server
//! declines an offer that limits its own window to 8, never asks a client
//! for less than 9, and a client told to use 8 sends its messages
//! uncompressed (§6 allows that). Inflating always uses at least 9, which
//! reads a window-8 stream too.

use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use crate::error::HandshakeError;

/// Smallest window zlib compresses with.
const MIN_DEFLATE_BITS: u8 = 9;

/// permessage-deflate policy for one connection, in the terms of this end
/// (`own_*` is the direction we compress, `peer_*` the one we inflate), so
/// one value serves a server and a client.
///
/// ```
/// let deflate = hybi::DeflateConfig::new()
///     .own_window_bits(12)
///     .peer_window_bits(12)
///     .mem_level(5);
/// let config = hybi::Config::new().deflate(deflate);
/// # let _ = config;
/// ```
///
/// Defaults, and why: window bits 15 each way (what browsers and every peer
/// expect; smaller windows save memory, see `docs/limits.md`), memLevel 8
/// and level 6 (zlib's defaults), context takeover kept both ways (the best
/// ratio for streams of similar messages), and messages under 64 bytes sent
/// uncompressed (DEFLATE rarely shrinks them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    own_window_bits: u8,
    peer_window_bits: u8,
    own_no_context_takeover: bool,
    peer_no_context_takeover: bool,
    level: u8,
    mem_level: u8,
    threshold: u32,
    release_between_messages: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DeflateConfig {
    /// The defaults described on the type.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            own_window_bits: 15,
            peer_window_bits: 15,
            own_no_context_takeover: false,
            peer_no_context_takeover: false,
            level: 6,
            mem_level: 8,
            threshold: 64,
            release_between_messages: true,
        }
    }

    /// The largest LZ77 window we compress with, as a power of two: 9–15
    /// (8 is taken as 9: zlib cannot compress with a 256-byte window).
    /// A server states it in its answer; a client offers it as
    /// `client_max_window_bits`.
    #[must_use]
    pub const fn own_window_bits(mut self, bits: u8) -> Self {
        self.own_window_bits = clamp(bits, MIN_DEFLATE_BITS, 15);
        self
    }

    /// The largest window we ask the peer to compress with: 9–15 (8 is
    /// taken as 9, since zlib-based peers would answer 9 anyway). It bounds
    /// our inflate window. A server can ask only a client that offered
    /// `client_max_window_bits` (browsers do); a client asks with
    /// `server_max_window_bits`.
    #[must_use]
    pub const fn peer_window_bits(mut self, bits: u8) -> Self {
        self.peer_window_bits = clamp(bits, MIN_DEFLATE_BITS, 15);
        self
    }

    /// Whether we reset our compressor after every message (no context
    /// takeover in our direction): less memory between messages, a worse
    /// ratio for similar messages.
    #[must_use]
    pub const fn own_no_context_takeover(mut self, on: bool) -> Self {
        self.own_no_context_takeover = on;
        self
    }

    /// Whether we ask the peer to reset its compressor after every message,
    /// so our decompressor holds no window between messages.
    #[must_use]
    pub const fn peer_no_context_takeover(mut self, on: bool) -> Self {
        self.peer_no_context_takeover = on;
        self
    }

    /// Compression level 0–9 (0 stores, 1 is fastest, 9 smallest).
    #[must_use]
    pub const fn level(mut self, level: u8) -> Self {
        self.level = clamp(level, 0, 9);
        self
    }

    /// zlib's memLevel 1–9: memory for the compressor's match state
    /// (`2^(memLevel + 9)` bytes) against speed and ratio.
    #[must_use]
    pub const fn mem_level(mut self, level: u8) -> Self {
        self.mem_level = clamp(level, 1, 9);
        self
    }

    /// Messages shorter than this are sent uncompressed (RSV1 clear, which
    /// §6 allows on any message). 0 compresses everything.
    #[must_use]
    pub const fn threshold(mut self, bytes: u32) -> Self {
        self.threshold = bytes;
        self
    }

    /// Without context takeover in a direction, whether zlib's state for
    /// it is given up after every message (the default: an idle connection
    /// then holds none) or kept by the connection and reset, until
    /// `Connection::shrink_buffers` frees it.
    ///
    /// A state given up is reset and parked by the thread, which keeps at
    /// most two compressors and two decompressors for the next message on
    /// any connection ([`clear_spare_deflate_state`](crate::clear_spare_deflate_state)
    /// frees them): so the default costs no allocation per message either,
    /// and busy connections on a thread share a few states instead of each
    /// holding its own.
    #[must_use]
    pub const fn release_between_messages(mut self, on: bool) -> Self {
        self.release_between_messages = on;
        self
    }

    /// See [`release_between_messages`](Self::release_between_messages).
    #[must_use]
    pub const fn get_release_between_messages(&self) -> bool {
        self.release_between_messages
    }

    /// See [`own_window_bits`](Self::own_window_bits).
    #[must_use]
    pub const fn get_own_window_bits(&self) -> u8 {
        self.own_window_bits
    }
    /// See [`peer_window_bits`](Self::peer_window_bits).
    #[must_use]
    pub const fn get_peer_window_bits(&self) -> u8 {
        self.peer_window_bits
    }
    /// See [`own_no_context_takeover`](Self::own_no_context_takeover).
    #[must_use]
    pub const fn get_own_no_context_takeover(&self) -> bool {
        self.own_no_context_takeover
    }
    /// See [`peer_no_context_takeover`](Self::peer_no_context_takeover).
    #[must_use]
    pub const fn get_peer_no_context_takeover(&self) -> bool {
        self.peer_no_context_takeover
    }
    /// See [`level`](Self::level).
    #[must_use]
    pub const fn get_level(&self) -> u8 {
        self.level
    }
    /// See [`mem_level`](Self::mem_level).
    #[must_use]
    pub const fn get_mem_level(&self) -> u8 {
        self.mem_level
    }
    /// See [`threshold`](Self::threshold).
    #[must_use]
    pub const fn get_threshold(&self) -> u32 {
        self.threshold
    }

    /// Server: the answer this policy gives to the first offer it can
    /// serve, in the client's order of preference; `None` declines them all.
    pub fn negotiate(
        &self,
        offers: impl IntoIterator<Item = DeflateOffer>,
    ) -> Option<DeflateParams> {
        offers.into_iter().find_map(|offer| self.answer(&offer))
    }

    /// Server: this policy's answer to one offer, or `None` if it must be
    /// declined (the offer limits our window to 8, which zlib cannot do).
    #[must_use]
    pub fn answer(&self, offer: &DeflateOffer) -> Option<DeflateParams> {
        let server_max_window_bits = match offer.server_max_window_bits {
            Some(bits) if bits < MIN_DEFLATE_BITS => return None,
            Some(bits) => Some(bits.min(self.own_window_bits)),
            None => (self.own_window_bits < 15).then_some(self.own_window_bits),
        };
        let client_max_window_bits = match offer.client_max_window_bits {
            WindowBitsOffer::NotOffered => None,
            WindowBitsOffer::Any => Some(self.peer_window_bits),
            WindowBitsOffer::AtMost(bits) => Some(bits.min(self.peer_window_bits)),
        };
        Some(DeflateParams {
            server_no_context_takeover: offer.server_no_context_takeover
                || self.own_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover
                || self.peer_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        })
    }

    /// Client: the offer this policy makes, as the header value.
    pub(crate) fn write_offer(&self, out: &mut Vec<u8>) {
        let mut text = alloc::string::String::from("permessage-deflate");
        if self.own_no_context_takeover {
            text.push_str("; client_no_context_takeover");
        }
        if self.peer_no_context_takeover {
            text.push_str("; server_no_context_takeover");
        }
        if self.peer_window_bits < 15 {
            let _ = write!(text, "; server_max_window_bits={}", self.peer_window_bits);
        }
        if self.own_window_bits < 15 {
            let _ = write!(text, "; client_max_window_bits={}", self.own_window_bits);
        } else {
            text.push_str("; client_max_window_bits");
        }
        out.extend_from_slice(text.as_bytes());
    }

    /// Client: what this policy offers, as a server would parse it.
    pub(crate) fn offer(&self) -> DeflateOffer {
        DeflateOffer {
            server_no_context_takeover: self.peer_no_context_takeover,
            client_no_context_takeover: self.own_no_context_takeover,
            server_max_window_bits: (self.peer_window_bits < 15).then_some(self.peer_window_bits),
            client_max_window_bits: if self.own_window_bits < 15 {
                WindowBitsOffer::AtMost(self.own_window_bits)
            } else {
                WindowBitsOffer::Any
            },
        }
    }
}

const fn clamp(v: u8, lo: u8, hi: u8) -> u8 {
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// What a client offers for `client_max_window_bits` (§7.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowBitsOffer {
    /// Not in the offer: the server may not limit the client's window.
    NotOffered,
    /// Present without a value: the client accepts any limit 8–15.
    Any,
    /// Present with a value: the client accepts a limit up to this.
    AtMost(u8),
}

/// One permessage-deflate offer from a client's `Sec-WebSocket-Extensions`
/// (RFC 7692 §7), as [`Request::deflate_offers`](crate::Request::deflate_offers)
/// reports it. Offers with an unknown, repeated or invalid parameter are
/// declined (§5) and never appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeflateOffer {
    /// The client asks the server to reset its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client will reset its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The largest window the server may compress with (8–15), if limited.
    pub server_max_window_bits: Option<u8>,
    /// What the client accepts as a limit on its own window.
    pub client_max_window_bits: WindowBitsOffer,
}

/// The permessage-deflate parameters of a connection: what a server
/// answers (written in the 101) and what both ends then use (RFC 7692 §7.1).
/// From [`Connection::deflate`](crate::Connection::deflate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The server's window limit as stated in the answer (8–15); `None`
    /// means 15.
    pub server_max_window_bits: Option<u8>,
    /// The client's window limit as stated in the answer (8–15); `None`
    /// means 15.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// The server's effective window bits.
    #[must_use]
    pub fn server_window_bits(&self) -> u8 {
        self.server_max_window_bits.unwrap_or(15)
    }

    /// The client's effective window bits.
    #[must_use]
    pub fn client_window_bits(&self) -> u8 {
        self.client_max_window_bits.unwrap_or(15)
    }

    /// Whether this answer may be given to `offer` (RFC 7692 §7.1): every
    /// window stated is 8–15 and within the offer's limit, a client limit
    /// only if the client offered one, and `server_no_context_takeover`
    /// kept if the client asked for it.
    ///
    /// # Errors
    /// The [`HandshakeError`] a client reports for such an answer.
    pub fn answers(&self, offer: &DeflateOffer) -> Result<(), HandshakeError> {
        let in_range = |bits: Option<u8>| bits.is_none_or(|b| (8..=15).contains(&b));
        if !in_range(self.server_max_window_bits) || !in_range(self.client_max_window_bits) {
            return Err(HandshakeError::DeflateInvalidValue);
        }
        if offer.server_no_context_takeover && !self.server_no_context_takeover {
            return Err(HandshakeError::DeflateParameterNotAllowed);
        }
        if let (Some(limit), Some(bits)) =
            (offer.server_max_window_bits, self.server_max_window_bits)
        {
            if bits > limit {
                return Err(HandshakeError::DeflateParameterNotAllowed);
            }
        }
        if offer.server_max_window_bits.is_some() && self.server_max_window_bits.is_none() {
            return Err(HandshakeError::DeflateParameterNotAllowed);
        }
        match (offer.client_max_window_bits, self.client_max_window_bits) {
            (WindowBitsOffer::NotOffered, Some(_)) => {
                Err(HandshakeError::DeflateParameterNotAllowed)
            }
            (WindowBitsOffer::AtMost(limit), Some(bits)) if bits > limit => {
                Err(HandshakeError::DeflateParameterNotAllowed)
            }
            _ => Ok(()),
        }
    }

    /// Our compressor's window for `server` (true on a server): at least 9,
    /// or `None` when the agreed window is 8 and messages go uncompressed.
    pub(crate) fn deflate_bits(&self, server: bool) -> Option<u8> {
        let bits = if server {
            self.server_window_bits()
        } else {
            self.client_window_bits()
        };
        (bits >= MIN_DEFLATE_BITS).then_some(bits)
    }

    /// Our decompressor's window: the peer's, at least 9 (a larger window
    /// reads a smaller one's stream) and at most 15 (parameters built by
    /// hand for `Connection::server_opened` may say more).
    pub(crate) fn inflate_bits(&self, server: bool) -> u8 {
        let bits = if server {
            self.client_window_bits()
        } else {
            self.server_window_bits()
        };
        clamp(bits, MIN_DEFLATE_BITS, 15)
    }

    /// Whether our compressor resets after each message.
    pub(crate) fn own_resets(&self, server: bool) -> bool {
        if server {
            self.server_no_context_takeover
        } else {
            self.client_no_context_takeover
        }
    }

    /// Whether the peer's compressor resets after each message (so ours
    /// may drop its window).
    pub(crate) fn peer_resets(&self, server: bool) -> bool {
        self.own_resets(!server)
    }
}

/// The answer as written in `Sec-WebSocket-Extensions`.
impl fmt::Display for DeflateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("permessage-deflate")?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        if let Some(bits) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={bits}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extension::deflate_header::offers;

    fn offers_of(value: &str) -> Vec<DeflateOffer> {
        offers([value.as_bytes()].into_iter()).collect()
    }

    #[test]
    fn the_server_answers_within_the_offer() {
        let config = DeflateConfig::new()
            .own_window_bits(12)
            .peer_window_bits(10);
        let offer =
            offers_of("permessage-deflate; server_max_window_bits=11; client_max_window_bits")[0];
        let answer = config.answer(&offer).unwrap();
        assert_eq!(answer.server_max_window_bits, Some(11));
        assert_eq!(answer.client_max_window_bits, Some(10));
        assert_eq!(answer.answers(&offer), Ok(()));
        assert_eq!(
            answer.to_string(),
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=10"
        );
        // Without client_max_window_bits in the offer we cannot limit the client.
        let plain = offers_of("permessage-deflate")[0];
        assert_eq!(config.answer(&plain).unwrap().client_max_window_bits, None);
        // zlib cannot compress with window 8: that offer is declined.
        let eight = offers_of("permessage-deflate; server_max_window_bits=8")[0];
        assert_eq!(config.answer(&eight), None);
        assert_eq!(config.negotiate([eight, plain]), config.answer(&plain));
    }

    use alloc::string::ToString;
}

//! Extensions negotiated in the opening handshake (RFC 6455 §9).
//!
//! This file holds the `Sec-WebSocket-Extensions` grammar (§9.1): a
//! comma-separated list of extensions, each a token with `;`-separated
//! parameters whose values are tokens or quoted strings, possibly spread over
//! several headers. It is a single pass over borrowed bytes with no
//! allocation, shared by the server (reading offers) and the client (reading
//! the answer). permessage-deflate (RFC 7692), the one extension the engine
//! implements, lives beside it: its parameters and negotiation in
//! `negotiate.rs`, reading them from headers in `deflate_header.rs`, the
//! compressor and decompressor in `codec.rs` (`codec/deflater.rs`,
//! `codec/inflater.rs`), the states a thread keeps
//! for reuse in `spare.rs`. The framing layer knows only that RSV1 on a message's first frame means "this
//! message is compressed".

#[cfg(feature = "deflate")]
pub(crate) mod codec;
#[cfg(feature = "deflate")]
pub(crate) mod deflate_header;
#[cfg(feature = "deflate")]
pub(crate) mod negotiate;
#[cfg(feature = "deflate")]
pub(crate) mod spare;

use crate::error::HandshakeError;
use crate::handshake::tokens::{is_token, trim};

/// What the handshake agreed on beyond RFC 6455: permessage-deflate's
/// parameters, when the feature is built.
#[cfg(feature = "deflate")]
pub(crate) type Agreed = Option<negotiate::DeflateParams>;
/// What the handshake agreed on beyond RFC 6455: nothing without the
/// `deflate` feature.
#[cfg(not(feature = "deflate"))]
pub(crate) type Agreed = ();

/// Client: checks the server's `Sec-WebSocket-Extensions` headers against
/// what `config` offered.
///
/// # Errors
/// `InvalidExtensionHeader` for bad syntax, `UnexpectedExtension` for an
/// extension not offered, and permessage-deflate's answer errors.
pub(crate) fn check_answer<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    config: &crate::Config,
) -> Result<Agreed, HandshakeError> {
    #[cfg(feature = "deflate")]
    return deflate_header::check_answer(values, config.get_deflate().as_ref());
    #[cfg(not(feature = "deflate"))]
    {
        let _ = config;
        match values.flat_map(extensions).next() {
            None => Ok(()),
            Some(Err(_)) => Err(HandshakeError::InvalidExtensionHeader),
            // Nothing was offered, so nothing may be selected.
            Some(Ok(_)) => Err(HandshakeError::UnexpectedExtension),
        }
    }
}

/// The send side's permessage-deflate state: the policy until the
/// handshake, then the agreement and the compressor. Boxed, and absent
/// unless the policy is set, so a connection without it carries one
/// pointer.
#[cfg(feature = "deflate")]
#[derive(Debug, Default)]
pub(crate) struct Compression(Option<alloc::boxed::Box<CompressionState>>);

#[cfg(feature = "deflate")]
#[derive(Debug)]
struct CompressionState {
    config: negotiate::DeflateConfig,
    params: Option<negotiate::DeflateParams>,
    /// `None` before agreement, while lent out, or when the agreed window
    /// is 8 (messages then go uncompressed).
    deflater: Option<codec::Deflater>,
    /// The next message goes uncompressed.
    skip_next: bool,
}

#[cfg(feature = "deflate")]
impl Compression {
    /// Holds `config` until the handshake.
    pub(crate) fn with_policy(config: Option<negotiate::DeflateConfig>) -> Self {
        Self(config.map(|config| {
            alloc::boxed::Box::new(CompressionState {
                config,
                params: None,
                deflater: None,
                skip_next: false,
            })
        }))
    }

    /// The policy, if any.
    pub(crate) fn policy(&self) -> Option<negotiate::DeflateConfig> {
        self.0.as_ref().map(|s| s.config)
    }

    /// Records the agreement (`None`: declined) for `server` or a client.
    pub(crate) fn agree(&mut self, params: Agreed, server: bool) {
        let Some(params) = params else {
            self.0 = None;
            return;
        };
        let config = self.policy().unwrap_or_default();
        // Our own policy binds us even where the answer is silent: a client
        // that offered `client_no_context_takeover` or
        // `client_max_window_bits=N` keeps to it (RFC 7692 §7.1.1.2,
        // §7.1.2.2), and a smaller window or a reset is always allowed.
        let deflater = params.deflate_bits(server).map(|bits| {
            let mut d = codec::Deflater::new(
                bits.min(config.get_own_window_bits()),
                config.get_level(),
                config.get_mem_level(),
                params.own_resets(server) || config.get_own_no_context_takeover(),
            );
            d.keep_state = !config.get_release_between_messages();
            d
        });
        self.0 = Some(alloc::boxed::Box::new(CompressionState {
            config,
            params: Some(params),
            deflater,
            skip_next: false,
        }));
    }

    /// The agreed parameters.
    pub(crate) fn params(&self) -> Agreed {
        self.0.as_ref().and_then(|s| s.params)
    }

    /// Whether permessage-deflate was agreed.
    #[inline]
    pub(crate) fn agreed(&self) -> bool {
        self.0.as_ref().is_some_and(|s| s.params.is_some())
    }

    pub(crate) fn take_deflater(&mut self) -> Option<codec::Deflater> {
        self.0.as_mut()?.deflater.take()
    }

    pub(crate) fn put_deflater(&mut self, deflater: codec::Deflater) {
        if let Some(state) = self.0.as_mut() {
            state.deflater = Some(deflater);
        }
    }

    /// Whether the next message may be compressed (and clears the opt-out).
    pub(crate) fn take_compress_next(&mut self) -> bool {
        self.0
            .as_mut()
            .is_some_and(|s| !core::mem::replace(&mut s.skip_next, false))
    }

    /// The next message goes uncompressed.
    pub(crate) fn skip_next(&mut self) {
        if let Some(state) = self.0.as_mut() {
            state.skip_next = true;
        }
    }

    /// Which of a prepared message's frames this connection can send, given
    /// the window its compressed frame needs (`None`: not compressed) and
    /// its payload's length.
    pub(crate) fn prepared_fit(&mut self, needs: Option<u8>, len: usize) -> PreparedFit {
        let Some(state) = self.0.as_mut() else {
            return PreparedFit::Plain;
        };
        let Some(deflater) = state.deflater.as_ref() else {
            // Messages go uncompressed on this connection (window 8).
            return PreparedFit::Plain;
        };
        if !deflater.resets_each() {
            // The compressor keeps a window the peer shares: only a message
            // it compresses itself keeps the two in step.
            return PreparedFit::Neither;
        }
        let compress = !core::mem::replace(&mut state.skip_next, false)
            && len >= state.config.get_threshold() as usize;
        match needs {
            _ if !compress => PreparedFit::Plain,
            Some(bits) if bits <= deflater.window_bits() => PreparedFit::Compressed,
            // Compressed for a larger window than agreed, or not at all.
            _ => PreparedFit::Neither,
        }
    }

    /// Messages shorter than this go uncompressed.
    pub(crate) fn threshold(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |s| s.config.get_threshold() as usize)
    }

    /// Heap bytes of the compressor's output buffer.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0
            .as_ref()
            .and_then(|s| s.deflater.as_ref())
            .map_or(0, codec::Deflater::heap_bytes)
    }

    /// Frees the compressor's output buffer, and its state when no window
    /// must be kept.
    pub(crate) fn shrink(&mut self) {
        if let Some(d) = self.0.as_mut().and_then(|s| s.deflater.as_mut()) {
            d.shrink(0);
            d.release_state();
        }
    }
}

/// What [`Compression::prepared_fit`] allows.
#[cfg(feature = "deflate")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PreparedFit {
    /// The frame compressed once.
    Compressed,
    /// The uncompressed frame (RSV1 clear, allowed on any message).
    Plain,
    /// Neither: compress the payload here.
    Neither,
}

/// The header value does not follow the §9.1 grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError;

/// One extension of a `Sec-WebSocket-Extensions` list: its name and the
/// raw text of its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Extension<'a> {
    /// The extension token, e.g. `permessage-deflate`.
    pub(crate) name: &'a [u8],
    params: &'a [u8],
}

/// One parameter: a name and, if given, its value with quotes removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub(crate) name: &'a [u8],
    /// The value as written (a token, or a quoted string's inside with its
    /// escapes still in place); see [`Param::value_is`].
    pub(crate) value: Option<&'a [u8]>,
}

impl Param<'_> {
    /// The value with quoted-pair escapes undone, into `out`; `None` if it
    /// has no value or does not fit.
    #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
    pub(crate) fn unescaped<'o>(&self, out: &'o mut [u8]) -> Option<&'o [u8]> {
        let mut n = 0;
        let mut escaped = false;
        for &b in self.value? {
            if b == b'\\' && !escaped {
                escaped = true;
                continue;
            }
            escaped = false;
            *out.get_mut(n)? = b;
            n += 1;
        }
        Some(&out[..n])
    }
}

/// Splits `s` at the first `sep` outside a quoted string; `None` when `s`
/// has none.
fn split_outside_quotes(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, &b) in s.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            return Some((&s[..i], &s[i + 1..]));
        }
    }
    None
}

/// Iterates over the extensions of one header value, in order. Empty list
/// elements (`a, , b`) are skipped, as RFC 7230 §7 allows.
pub(crate) fn extensions(value: &[u8]) -> Extensions<'_> {
    Extensions { rest: Some(value) }
}

/// The iterator of [`extensions`].
#[derive(Clone, Debug)]
pub(crate) struct Extensions<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Result<Extension<'a>, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.rest?;
            let item = match split_outside_quotes(rest, b',') {
                Some((item, after)) => {
                    self.rest = Some(after);
                    item
                }
                None => {
                    self.rest = None;
                    rest
                }
            };
            let item = trim(item);
            if item.is_empty() {
                continue;
            }
            let (name, params) = split_outside_quotes(item, b';').unwrap_or((item, b""));
            let name = trim(name);
            if !is_token(name) {
                self.rest = None;
                return Some(Err(SyntaxError));
            }
            let ext = Extension { name, params };
            // Check the parameters' syntax once here, so users of
            // `params` see only well-formed ones.
            if ext.params().any(|p| p.is_err()) {
                self.rest = None;
                return Some(Err(SyntaxError));
            }
            return Some(Ok(ext));
        }
    }
}

impl<'a> Extension<'a> {
    /// The parameters in order.
    pub(crate) fn params(&self) -> impl Iterator<Item = Result<Param<'a>, SyntaxError>> + 'a {
        let mut rest = (!self.params.is_empty()).then_some(self.params);
        core::iter::from_fn(move || {
            let now = rest?;
            let item = match split_outside_quotes(now, b';') {
                Some((item, after)) => {
                    rest = Some(after);
                    item
                }
                None => {
                    rest = None;
                    now
                }
            };
            Some(parse_param(trim(item)))
        })
    }
}

/// `token [ "=" ( token / quoted-string ) ]`, whitespace allowed around `=`.
fn parse_param(item: &[u8]) -> Result<Param<'_>, SyntaxError> {
    let (name, value) = match item.iter().position(|&b| b == b'=') {
        Some(at) => (trim(&item[..at]), Some(trim(&item[at + 1..]))),
        None => (item, None),
    };
    if !is_token(name) {
        return Err(SyntaxError);
    }
    let value = match value {
        None => None,
        Some([b'"', inner @ .., b'"']) if quoted_inside_is_valid(inner) => Some(inner),
        Some(token) if is_token(token) => Some(token),
        Some(_) => return Err(SyntaxError),
    };
    Ok(Param { name, value })
}

/// The inside of a quoted string (RFC 7230 §3.2.6): `qdtext` and
/// `quoted-pair`, no bare quote or trailing backslash.
fn quoted_inside_is_valid(inner: &[u8]) -> bool {
    let mut escaped = false;
    for &b in inner {
        let text = b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80;
        if escaped {
            if !text {
                return false;
            }
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' || !text {
            return false;
        }
    }
    !escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn names(value: &[u8]) -> Result<Vec<&[u8]>, SyntaxError> {
        extensions(value).map(|e| e.map(|e| e.name)).collect()
    }

    #[test]
    fn lists_split_at_commas_outside_quotes() {
        assert_eq!(
            names(b"permessage-deflate; client_max_window_bits, x-foo , ,bar"),
            Ok(alloc::vec![&b"permessage-deflate"[..], b"x-foo", b"bar"])
        );
        let one: Vec<_> = extensions(b"x; a=\"1,2\"; b").collect();
        assert_eq!(one.len(), 1);
        let params: Vec<Param<'_>> = one[0].unwrap().params().map(Result::unwrap).collect();
        assert_eq!(params[0].name, b"a");
        assert_eq!(params[0].value, Some(&b"1,2"[..]));
        assert_eq!(
            params[1],
            Param {
                name: b"b",
                value: None
            }
        );
    }

    #[test]
    fn parameters_take_tokens_or_quoted_strings() {
        let ext = extensions(b"e ; a = 10 ;b=\"1\\5\"")
            .next()
            .unwrap()
            .unwrap();
        let params: Vec<Param<'_>> = ext.params().map(Result::unwrap).collect();
        assert_eq!(params[0].value, Some(&b"10"[..]));
        let mut out = [0u8; 4];
        assert_eq!(params[1].unescaped(&mut out), Some(&b"15"[..]));
    }

    #[test]
    fn malformed_values_are_syntax_errors() {
        for bad in [
            &b"bad name; x"[..],
            b"e; =1",
            b"e; a=1 2",
            b"e; a=\"open",
            b"e; a=\"x\\\"",
            b"e; a=\"q\"uote\"",
            b"e;;",
            b"\"quoted-name\"",
        ] {
            assert_eq!(
                names(bad),
                Err(SyntaxError),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
        assert_eq!(names(b""), Ok(Vec::new()));
    }
}

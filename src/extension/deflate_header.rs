//! Reading permessage-deflate from `Sec-WebSocket-Extensions` (RFC 7692
//! §5, §7.1): a server's view of the offers and a client's check of the
//! answer. The parameters' meaning and who may answer what live in
//! `negotiate.rs`; this file only turns header elements into
//! [`DeflateOffer`]s and [`DeflateParams`], refusing unknown, repeated and
//! invalid parameters.

use super::negotiate::{DeflateConfig, DeflateOffer, DeflateParams, WindowBitsOffer};
use super::{Extension, Param, extensions};
use crate::error::HandshakeError;

/// The extension's registered name.
pub(crate) const NAME: &[u8] = b"permessage-deflate";

/// Why one permessage-deflate element could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamError {
    Unknown,
    Repeated,
    Invalid,
}

impl From<ParamError> for HandshakeError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::Unknown => Self::DeflateUnknownParameter,
            ParamError::Repeated => Self::DeflateRepeatedParameter,
            ParamError::Invalid => Self::DeflateInvalidValue,
        }
    }
}

/// A window-bits value: a decimal 8–15 without leading zeros (§7.1.2).
fn window_bits(param: &Param<'_>) -> Result<u8, ParamError> {
    let mut buf = [0u8; 4];
    match param.unescaped(&mut buf).ok_or(ParamError::Invalid)? {
        [d @ b'8'..=b'9'] => Ok(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Ok(10 + d - b'0'),
        _ => Err(ParamError::Invalid),
    }
}

/// The four parameters as they appear in one element, each at most once.
#[derive(Default)]
struct Seen {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

fn read_params(ext: &Extension<'_>) -> Result<Seen, ParamError> {
    let mut seen = Seen::default();
    for param in ext.params() {
        let param = param.map_err(|_| ParamError::Invalid)?;
        let name = param.name;
        if name.eq_ignore_ascii_case(b"server_no_context_takeover")
            || name.eq_ignore_ascii_case(b"client_no_context_takeover")
        {
            if param.value.is_some() {
                return Err(ParamError::Invalid);
            }
            let flag = if name[0].eq_ignore_ascii_case(&b's') {
                &mut seen.server_no_context_takeover
            } else {
                &mut seen.client_no_context_takeover
            };
            if core::mem::replace(flag, true) {
                return Err(ParamError::Repeated);
            }
        } else if name.eq_ignore_ascii_case(b"server_max_window_bits") {
            if seen.server_max_window_bits.is_some() {
                return Err(ParamError::Repeated);
            }
            seen.server_max_window_bits = Some(window_bits(&param)?);
        } else if name.eq_ignore_ascii_case(b"client_max_window_bits") {
            if seen.client_max_window_bits.is_some() {
                return Err(ParamError::Repeated);
            }
            seen.client_max_window_bits = Some(match param.value {
                None => None,
                Some(_) => Some(window_bits(&param)?),
            });
        } else {
            return Err(ParamError::Unknown);
        }
    }
    Ok(seen)
}

/// Reads one offer element (its name already matched).
pub(crate) fn parse_offer(ext: &Extension<'_>) -> Result<DeflateOffer, ParamError> {
    let seen = read_params(ext)?;
    Ok(DeflateOffer {
        server_no_context_takeover: seen.server_no_context_takeover,
        client_no_context_takeover: seen.client_no_context_takeover,
        server_max_window_bits: seen.server_max_window_bits,
        client_max_window_bits: match seen.client_max_window_bits {
            None => WindowBitsOffer::NotOffered,
            Some(None) => WindowBitsOffer::Any,
            Some(Some(bits)) => WindowBitsOffer::AtMost(bits),
        },
    })
}

/// Reads one answer element (its name already matched): like an offer,
/// but `client_max_window_bits` must carry a value.
pub(crate) fn parse_answer(ext: &Extension<'_>) -> Result<DeflateParams, ParamError> {
    let seen = read_params(ext)?;
    Ok(DeflateParams {
        server_no_context_takeover: seen.server_no_context_takeover,
        client_no_context_takeover: seen.client_no_context_takeover,
        server_max_window_bits: seen.server_max_window_bits,
        client_max_window_bits: match seen.client_max_window_bits {
            None => None,
            Some(None) => return Err(ParamError::Invalid),
            Some(Some(bits)) => Some(bits),
        },
    })
}

/// Server: every valid permessage-deflate offer in `values` (the
/// `Sec-WebSocket-Extensions` headers in order). An element with bad syntax
/// ends that header's list; an invalid offer is skipped (declined).
pub(crate) fn offers<'a>(
    values: impl Iterator<Item = &'a [u8]> + 'a,
) -> impl Iterator<Item = DeflateOffer> + 'a {
    values
        .flat_map(|value| extensions(value).map_while(Result::ok))
        .filter(|ext| ext.name.eq_ignore_ascii_case(NAME))
        .filter_map(|ext| parse_offer(&ext).ok())
}

/// Client: checks the server's `Sec-WebSocket-Extensions` answer against
/// what we offered (`None`: nothing) and returns the agreed parameters.
///
/// # Errors
/// `InvalidExtensionHeader` for bad syntax, `UnexpectedExtension` for an
/// extension we did not offer, `RepeatedExtension` for permessage-deflate
/// twice, and the parameter errors of [`parse_answer`] and
/// [`DeflateParams::answers`].
pub(crate) fn check_answer<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    offered: Option<&DeflateConfig>,
) -> Result<Option<DeflateParams>, HandshakeError> {
    let mut agreed = None;
    for value in values {
        for ext in extensions(value) {
            let ext = ext.map_err(|_| HandshakeError::InvalidExtensionHeader)?;
            let Some(config) = offered.filter(|_| ext.name.eq_ignore_ascii_case(NAME)) else {
                return Err(HandshakeError::UnexpectedExtension);
            };
            if agreed.is_some() {
                return Err(HandshakeError::RepeatedExtension);
            }
            let params = parse_answer(&ext)?;
            params.answers(&config.offer())?;
            agreed = Some(params);
        }
    }
    Ok(agreed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn offers_of(value: &str) -> Vec<DeflateOffer> {
        offers([value.as_bytes()].into_iter()).collect()
    }

    #[test]
    fn offers_are_read_in_order_and_invalid_ones_declined() {
        let all = offers_of(
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits, \
             permessage-deflate; foo, permessage-deflate; server_max_window_bits=16, \
             permessage-deflate; client_no_context_takeover; client_no_context_takeover, \
             x-other, PerMessage-Deflate; client_max_window_bits=\"12\"",
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].server_max_window_bits, Some(10));
        assert_eq!(all[0].client_max_window_bits, WindowBitsOffer::Any);
        assert_eq!(all[1].client_max_window_bits, WindowBitsOffer::AtMost(12));
    }

    #[test]
    fn window_values_are_8_to_15_without_leading_zeros() {
        for (value, ok) in [
            ("8", true),
            ("15", true),
            ("9", true),
            ("7", false),
            ("16", false),
            ("08", false),
            ("", false),
            ("1a", false),
        ] {
            let header = alloc::format!("permessage-deflate; server_max_window_bits={value}");
            assert_eq!(offers_of(&header).len(), usize::from(ok), "{value}");
        }
    }

    #[test]
    fn answers_outside_the_offer_are_refused() {
        let ours = DeflateConfig::new()
            .own_window_bits(10)
            .peer_window_bits(12);
        let check = |value: &str| check_answer([value.as_bytes()].into_iter(), Some(&ours));
        assert!(
            check("permessage-deflate; server_max_window_bits=12; client_max_window_bits=10")
                .is_ok()
        );
        assert!(
            check("permessage-deflate; server_max_window_bits=9; server_no_context_takeover")
                .is_ok()
        );
        assert_eq!(
            check("permessage-deflate; client_max_window_bits=11"),
            Err(HandshakeError::DeflateParameterNotAllowed)
        );
        assert_eq!(
            check("permessage-deflate; server_max_window_bits=13"),
            Err(HandshakeError::DeflateParameterNotAllowed)
        );
        assert_eq!(
            check("permessage-deflate"),
            Err(HandshakeError::DeflateParameterNotAllowed),
            "we limited the server's window; the answer must state it"
        );
        assert_eq!(
            check("permessage-deflate; server_max_window_bits=12; client_max_window_bits"),
            Err(HandshakeError::DeflateInvalidValue)
        );
        assert_eq!(
            check("permessage-deflate; server_max_window_bits=12; mystery"),
            Err(HandshakeError::DeflateUnknownParameter)
        );
        assert_eq!(
            check("permessage-deflate; server_max_window_bits=12; server_max_window_bits=12"),
            Err(HandshakeError::DeflateRepeatedParameter)
        );
        assert_eq!(
            check(
                "permessage-deflate; server_max_window_bits=12, permessage-deflate; server_max_window_bits=12"
            ),
            Err(HandshakeError::RepeatedExtension)
        );
        assert_eq!(check("x-other"), Err(HandshakeError::UnexpectedExtension));
        assert_eq!(
            check("permessage-deflate; server_max_window_bits=\"1"),
            Err(HandshakeError::InvalidExtensionHeader)
        );
        assert_eq!(
            check_answer([&b"permessage-deflate"[..]].into_iter(), None),
            Err(HandshakeError::UnexpectedExtension)
        );
    }

    #[test]
    fn the_client_offer_reads_back_as_its_own_offer() {
        let config = DeflateConfig::new()
            .own_window_bits(11)
            .peer_window_bits(13)
            .own_no_context_takeover(true)
            .peer_no_context_takeover(true);
        let mut out = Vec::new();
        config.write_offer(&mut out);
        assert_eq!(
            offers([&out[..]].into_iter()).collect::<Vec<_>>(),
            [config.offer()]
        );
    }
}

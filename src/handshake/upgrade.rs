//! The opening handshake for another HTTP stack's request (hyper, axum,
//! an HTTP/2 or HTTP/3 server): the same checks and error types as the
//! built-in HTTP/1.1 path, on a request given as its method, version and
//! `(name, value)` header pairs, and the response's headers to send back.
//!
//! Two bootstraps:
//! - **HTTP/1.1 Upgrade** (RFC 6455 §4.2.1): `GET`, `Upgrade: websocket`,
//!   `Connection: Upgrade`, `Sec-WebSocket-Key`, version 13; answered with
//!   101 and `Sec-WebSocket-Accept`. The built-in parser runs these same
//!   checks on what httparse read.
//! - **Extended CONNECT** (RFC 8441 for HTTP/2, RFC 9220 for HTTP/3):
//!   `:method CONNECT`, `:protocol websocket`, version 13, no key (the
//!   stream itself is the proof); answered with 200 and no accept key.
//!
//! After either, the stream carries RFC 6455 frames, masking included:
//! start the connection with [`Connection::server_opened`] and the
//! answer's [`Negotiated`] (or [`Connection::client_opened`] on a client,
//! after [`check_connect_response`]).
//!
//! [`Connection::server_opened`]: crate::Connection::server_opened
//! [`Connection::client_opened`]: crate::Connection::client_opened

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::server::Accept;
use super::tokens;
use crate::config::Config;
use crate::error::{HandshakeError, UsageError};
use crate::handshake::AcceptKey;
use crate::opened::Negotiated;

/// The HTTP version a request came over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    /// HTTP/1.0: too old for the upgrade (RFC 6455 §4.2.1 item 1).
    Http10,
    /// HTTP/1.1: the `Upgrade` bootstrap.
    Http11,
    /// HTTP/2: extended CONNECT (RFC 8441).
    Http2,
    /// HTTP/3: extended CONNECT (RFC 9220).
    Http3,
}

impl HttpVersion {
    fn is_connect_based(self) -> bool {
        matches!(self, Self::Http2 | Self::Http3)
    }
}

/// A request another HTTP stack parsed, as the handshake checks need it.
///
/// ```
/// use hybi::{Accept, Config, Connection, HttpRequest, HttpVersion};
/// let headers: &[(&str, &[u8])] = &[
///     ("host", b"example.com"),
///     ("upgrade", b"websocket"),
///     ("connection", b"Upgrade"),
///     ("sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
///     ("sec-websocket-version", b"13"),
/// ];
/// let request = HttpRequest { method: "GET", version: HttpVersion::Http11, protocol: None, headers };
/// let offer = request.check().unwrap();
/// let answer = offer.answer(&Accept::new(), &Config::new()).unwrap();
/// assert_eq!(answer.status, 101);
/// assert!(answer.headers.contains(&("sec-websocket-accept".into(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into())));
/// let conn = Connection::server_opened(Config::new(), answer.negotiated);
/// # let _ = conn;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HttpRequest<'a> {
    /// The method (`GET` for HTTP/1.1, `CONNECT` for HTTP/2 and HTTP/3).
    pub method: &'a str,
    /// The version the request came over.
    pub version: HttpVersion,
    /// The `:protocol` pseudo-header of an extended CONNECT; `None` for
    /// HTTP/1.1.
    pub protocol: Option<&'a str>,
    /// Every header, in order (names in any case; repeated names as
    /// several pairs). Pseudo-headers other than `:protocol` are the
    /// HTTP stack's business and may be left out.
    pub headers: &'a [(&'a str, &'a [u8])],
}

/// A request that passed every check, ready to be answered.
#[derive(Clone, Copy, Debug)]
pub struct UpgradeOffer<'a> {
    key: Option<&'a [u8]>,
    headers: &'a [(&'a str, &'a [u8])],
}

/// What to send back: the status, the headers to add (lower-case names, as
/// HTTP/2 and HTTP/3 need; HTTP/1.1 takes any case) and what the
/// connection starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeAnswer {
    /// 101 for HTTP/1.1, 200 for extended CONNECT.
    pub status: u16,
    /// The response's WebSocket headers, then the `Accept`'s extra ones.
    pub headers: Vec<(String, String)>,
    /// For [`Connection::server_opened`](crate::Connection::server_opened).
    pub negotiated: Negotiated,
}

fn values<'a, 'n>(
    headers: &'a [(&'a str, &'a [u8])],
    name: &'n str,
) -> impl Iterator<Item = &'a [u8]> + 'n
where
    'a: 'n,
{
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

fn count(headers: &[(&str, &[u8])], name: &str) -> usize {
    values(headers, name).count()
}

fn has_token(headers: &[(&str, &[u8])], name: &str, token: &str) -> bool {
    values(headers, name).any(|v| tokens::has_token_ignore_case(v, token))
}

/// Whether a `Sec-WebSocket-Key` value is base64 of exactly 16 bytes.
fn key_is_valid(key: &[u8]) -> bool {
    use base64::Engine as _;
    let mut out = [0u8; 18];
    key.len() == 24
        && matches!(
            base64::engine::general_purpose::STANDARD.decode_slice(key, &mut out),
            Ok(16)
        )
}

impl<'a> HttpRequest<'a> {
    /// Checks the request against RFC 6455 §4.2.1 (HTTP/1.1) or RFC 8441
    /// §4–5 / RFC 9220 (extended CONNECT), naming the first broken rule.
    ///
    /// # Errors
    /// HTTP/1.1: the built-in path's errors (`MethodNotGet`,
    /// `UnsupportedHttpVersion`, `MissingHost`, `RepeatedHost`,
    /// `RequestBody`, `MissingUpgrade`, `MissingConnectionUpgrade`,
    /// `UnsupportedVersion`, `InvalidKey`). Extended CONNECT:
    /// `MethodNotConnect`, `MissingConnectProtocol`, `UnsupportedVersion`,
    /// `KeyOverConnect`. [`HandshakeError::status`] is the status to answer
    /// with.
    pub fn check(&self) -> Result<UpgradeOffer<'a>, HandshakeError> {
        let h = self.headers;
        let key = if self.version.is_connect_based() {
            if self.method != "CONNECT" {
                return Err(HandshakeError::MethodNotConnect);
            }
            if self.protocol != Some("websocket") {
                return Err(HandshakeError::MissingConnectProtocol);
            }
            check_version(h)?;
            // RFC 8441 §5: the key and accept are not used; a key says the
            // client speaks the HTTP/1.1 bootstrap over the wrong stream.
            if count(h, "sec-websocket-key") > 0 {
                return Err(HandshakeError::KeyOverConnect);
            }
            None
        } else {
            if self.method != "GET" {
                return Err(HandshakeError::MethodNotGet);
            }
            if self.version == HttpVersion::Http10 {
                return Err(HandshakeError::UnsupportedHttpVersion);
            }
            match count(h, "host") {
                0 => return Err(HandshakeError::MissingHost),
                1 => {}
                _ => return Err(HandshakeError::RepeatedHost),
            }
            // RFC 7230 §3.3.3: an upgrade has no body; refusing one keeps
            // its bytes from ever being decoded as frames.
            let has_body = count(h, "transfer-encoding") > 0
                || values(h, "content-length").any(|v| tokens::trim(v) != b"0");
            if has_body {
                return Err(HandshakeError::RequestBody);
            }
            if !has_token(h, "upgrade", "websocket") {
                return Err(HandshakeError::MissingUpgrade);
            }
            if !has_token(h, "connection", "upgrade") {
                return Err(HandshakeError::MissingConnectionUpgrade);
            }
            check_version(h)?;
            let mut keys = values(h, "sec-websocket-key");
            let (Some(key), None) = (keys.next(), keys.next()) else {
                return Err(HandshakeError::InvalidKey);
            };
            if !key_is_valid(key) {
                return Err(HandshakeError::InvalidKey);
            }
            Some(key)
        };
        Ok(UpgradeOffer { key, headers: h })
    }
}

/// Exactly one `Sec-WebSocket-Version`, and it is 13 (§4.2.1 item 6).
fn check_version(h: &[(&str, &[u8])]) -> Result<(), HandshakeError> {
    let mut versions = values(h, "sec-websocket-version");
    match (versions.next(), versions.next()) {
        (Some(v), None) if tokens::trim(v) == b"13" => Ok(()),
        _ => Err(HandshakeError::UnsupportedVersion),
    }
}

impl<'a> UpgradeOffer<'a> {
    /// The subprotocols offered, in the client's order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &'a str> + 'a {
        values(self.headers, "sec-websocket-protocol")
            .flat_map(tokens::list_items)
            .filter_map(|item| core::str::from_utf8(item).ok())
    }

    /// The valid permessage-deflate offers, in order (declined ones left
    /// out, RFC 7692 §5).
    #[cfg(feature = "deflate")]
    pub fn deflate_offers(&self) -> impl Iterator<Item = crate::DeflateOffer> + 'a {
        crate::extension::deflate_header::offers(values(self.headers, "sec-websocket-extensions"))
    }

    /// The response to send: the status and headers for `accept` (its
    /// subprotocol, extra headers and permessage-deflate choice, with
    /// `config`'s policy), and what the connection starts with.
    ///
    /// # Errors
    /// As [`Connection::accept`](crate::Connection::accept):
    /// `ProtocolNotOffered`, `InvalidHeader`, `DeflateNotOffered`.
    pub fn answer(
        &self,
        accept: &Accept<'_>,
        config: &Config,
    ) -> Result<UpgradeAnswer, UsageError> {
        if accept
            .chosen_protocol()
            .is_some_and(|p| !self.protocols().any(|o| o == p))
        {
            return Err(UsageError::ProtocolNotOffered);
        }
        if !super::headers_are_valid(accept.extra_headers()) {
            return Err(UsageError::InvalidHeader);
        }
        let mut headers = Vec::new();
        let status = if let Some(key) = self.key {
            headers.push(("upgrade", "websocket".to_string()));
            headers.push(("connection", "Upgrade".to_string()));
            let accept_key = AcceptKey::from_key(key);
            let text = core::str::from_utf8(accept_key.as_bytes()).unwrap_or_default();
            headers.push(("sec-websocket-accept", text.to_string()));
            101
        } else {
            200
        };
        if let Some(protocol) = accept.chosen_protocol() {
            headers.push(("sec-websocket-protocol", protocol.to_string()));
        }
        let mut negotiated = Negotiated::none();
        negotiated.protocol = accept.chosen_protocol().map(ToString::to_string);
        #[cfg(feature = "deflate")]
        {
            let policy = config.get_deflate();
            let agreed = accept.deflate_answer(policy, self.deflate_offers())?;
            if let Some(params) = agreed {
                headers.push(("sec-websocket-extensions", params.to_string()));
            }
            negotiated.deflate = agreed;
        }
        #[cfg(not(feature = "deflate"))]
        let _ = config;
        let mut headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        for (name, value) in accept.extra_headers() {
            headers.push(((*name).to_string(), (*value).to_string()));
        }
        Ok(UpgradeAnswer {
            status,
            headers,
            negotiated,
        })
    }
}

/// Client, extended CONNECT (RFC 8441 §4, RFC 9220): the headers to send
/// besides the pseudo-headers, which the HTTP/2 or HTTP/3 stack sets
/// (`:method CONNECT`, `:protocol websocket`, `:scheme`, `:path`,
/// `:authority`): the version, the offered subprotocols, and `config`'s
/// permessage-deflate offer.
#[must_use]
pub fn connect_request_headers(config: &Config, protocols: &[&str]) -> Vec<(String, String)> {
    let mut headers = alloc::vec![("sec-websocket-version".to_string(), "13".to_string())];
    if !protocols.is_empty() {
        headers.push(("sec-websocket-protocol".to_string(), protocols.join(", ")));
    }
    #[cfg(feature = "deflate")]
    if let Some(policy) = config.get_deflate() {
        let mut offer = Vec::new();
        policy.write_offer(&mut offer);
        headers.push((
            "sec-websocket-extensions".to_string(),
            String::from_utf8(offer).unwrap_or_default(),
        ));
    }
    #[cfg(not(feature = "deflate"))]
    let _ = config;
    headers
}

/// Client, extended CONNECT: checks the response (status and headers)
/// against what [`connect_request_headers`] offered.
///
/// # Errors
/// `ConnectRefused` for a status other than 2xx (RFC 8441 §5: the stream
/// did not become a WebSocket), `UnexpectedProtocol` for a subprotocol not
/// offered, and the extension errors of the HTTP/1.1 client
/// (`UnexpectedExtension`, the permessage-deflate answer errors).
pub fn check_connect_response(
    status: u16,
    headers: &[(&str, &[u8])],
    config: &Config,
    protocols: &[&str],
) -> Result<Negotiated, HandshakeError> {
    if !(200..300).contains(&status) {
        return Err(HandshakeError::ConnectRefused);
    }
    let mut chosen = values(headers, "sec-websocket-protocol");
    let mut protocol = None;
    if let Some(value) = chosen.next() {
        let value = tokens::trim(value);
        let offered = protocols.iter().find(|p| p.as_bytes() == value);
        if offered.is_none() || chosen.next().is_some() {
            return Err(HandshakeError::UnexpectedProtocol);
        }
        protocol = offered.map(|p| (*p).to_string());
    }
    #[allow(clippy::let_unit_value)]
    let agreed =
        crate::extension::check_answer(values(headers, "sec-websocket-extensions"), config)?;
    #[cfg(feature = "deflate")]
    return Ok(Negotiated {
        protocol,
        deflate: agreed,
    });
    #[cfg(not(feature = "deflate"))]
    {
        let () = agreed;
        Ok(Negotiated { protocol })
    }
}

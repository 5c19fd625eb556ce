//! Server side of the opening handshake (RFC 6455 §4.2).
//!
//! `parse_request` runs httparse once over a complete head and checks every
//! §4.2.1 requirement, naming the broken one. The caller then answers with an
//! [`Accept`] (101 Switching Protocols, §4.2.2) or a [`Reject`] (any status);
//! invalid requests are answered by `write_error` with 400, 405, 426 or 431.

use alloc::vec::Vec;
use core::fmt::Write as _;

use super::{
    ParsedHead, STACK_HEADERS, Span, header_slots, headers_are_valid, write_header, write_headers,
};
use crate::error::{HandshakeError, UsageError};
use crate::handshake::AcceptKey;

/// How the server answers a valid handshake request: 101 Switching Protocols.
///
/// ```
/// let accept = hybi::Accept::new()
///     .protocol("chat")
///     .headers(&[("X-Server", "hybi")]);
/// # let _ = accept;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Accept<'a> {
    protocol: Option<&'a str>,
    headers: &'a [(&'a str, &'a str)],
    #[cfg(feature = "deflate")]
    deflate: DeflateChoice,
}

/// How an [`Accept`] answers permessage-deflate offers.
#[cfg(feature = "deflate")]
#[derive(Clone, Copy, Debug, Default)]
enum DeflateChoice {
    /// The connection's `Config::deflate` policy picks (or declines).
    #[default]
    Policy,
    /// Decline every offer.
    Decline,
    /// Answer with these parameters.
    Params(crate::DeflateParams),
}

impl<'a> Accept<'a> {
    /// Accept with no subprotocol and no extra headers.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            protocol: None,
            headers: &[],
            #[cfg(feature = "deflate")]
            deflate: DeflateChoice::Policy,
        }
    }

    /// Select a subprotocol; it MUST be one the client offered (§4.2.2).
    #[must_use]
    pub const fn protocol(mut self, protocol: &'a str) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Extra response headers (`Set-Cookie`, …). Names must be HTTP tokens and
    /// values must not contain CR, LF or other control bytes.
    #[must_use]
    pub const fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// Answer permessage-deflate with these parameters instead of the
    /// connection's policy; they must answer one of the client's offers
    /// ([`DeflateParams::answers`](crate::DeflateParams::answers)), see
    /// [`Request::deflate_offers`](crate::Request::deflate_offers).
    #[cfg(feature = "deflate")]
    #[must_use]
    pub const fn deflate(mut self, params: crate::DeflateParams) -> Self {
        self.deflate = DeflateChoice::Params(params);
        self
    }

    /// The subprotocol chosen, if any.
    pub(crate) fn chosen_protocol(&self) -> Option<&'a str> {
        self.protocol
    }

    /// The extra headers.
    pub(crate) fn extra_headers(&self) -> &'a [(&'a str, &'a str)] {
        self.headers
    }

    /// The permessage-deflate answer to `offers`: `policy`'s, none, or the
    /// explicit parameters if they answer one of the offers.
    #[cfg(feature = "deflate")]
    pub(crate) fn deflate_answer(
        &self,
        policy: Option<crate::DeflateConfig>,
        mut offers: impl Iterator<Item = crate::DeflateOffer>,
    ) -> Result<Option<crate::DeflateParams>, UsageError> {
        match self.deflate {
            DeflateChoice::Policy => Ok(policy.and_then(|policy| policy.negotiate(offers))),
            DeflateChoice::Decline => Ok(None),
            DeflateChoice::Params(params) => {
                if offers.any(|offer| params.answers(&offer).is_ok()) {
                    Ok(Some(params))
                } else {
                    Err(UsageError::DeflateNotOffered)
                }
            }
        }
    }

    /// Decline permessage-deflate whatever the policy says.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub const fn no_deflate(mut self) -> Self {
        self.deflate = DeflateChoice::Decline;
        self
    }
}

/// How the server refuses a handshake request: any HTTP status with headers
/// and a body (for example 403 for a bad Origin, 401 for missing credentials).
///
/// ```
/// let reject = hybi::Reject::new(403).body(b"origin not allowed");
/// # let _ = reject;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Reject<'a> {
    status: u16,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

impl<'a> Reject<'a> {
    /// Refuse with this status code: 400–599 (a client or server error).
    /// Any other status is refused by `reject` with
    /// [`UsageError::InvalidStatus`].
    #[must_use]
    pub const fn new(status: u16) -> Self {
        Self {
            status,
            headers: &[],
            body: &[],
        }
    }

    /// Extra response headers. Same rules as [`Accept::headers`].
    #[must_use]
    pub const fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The response body; `Content-Length` is set from it.
    #[must_use]
    pub const fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }
}

/// Parses a complete request head and checks it against §4.2.1.
///
/// # Errors
/// The [`HandshakeError`] naming the first broken requirement.
pub(crate) fn parse_request(head: &[u8], max_headers: usize) -> Result<ParsedHead, HandshakeError> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut heap = Vec::new();
    let headers = header_slots(&mut stack, &mut heap, max_headers);
    let mut req = httparse::Request::new(headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HandshakeError::MalformedRequest),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
        Err(_) => return Err(HandshakeError::MalformedRequest),
    }
    let (Some(method), Some(path), Some(version)) = (req.method, req.path, req.version) else {
        return Err(HandshakeError::MalformedRequest);
    };
    let mut parsed = ParsedHead::from_headers(head, req.headers, head.len());
    parsed.first = Span::of(head, method.as_bytes());
    parsed.second = Span::of(head, path.as_bytes());
    // The same checks another HTTP stack's request gets (`upgrade.rs`).
    let pairs: Vec<(&str, &[u8])> = req.headers.iter().map(|h| (h.name, h.value)).collect();
    let request = super::upgrade::HttpRequest {
        method,
        version: if version >= 1 {
            super::upgrade::HttpVersion::Http11
        } else {
            super::upgrade::HttpVersion::Http10
        },
        protocol: None,
        headers: &pairs,
    };
    request.check()?;
    Ok(parsed)
}

/// Checks an [`Accept`] against the request it answers.
pub(crate) fn check_accept(
    accept: &Accept<'_>,
    head: &[u8],
    parsed: &ParsedHead,
) -> Result<(), UsageError> {
    let offered = |protocol: &str| {
        parsed
            .list(head, "sec-websocket-protocol")
            .any(|p| p == protocol)
    };
    if accept.protocol.is_some_and(|protocol| !offered(protocol)) {
        return Err(UsageError::ProtocolNotOffered);
    }
    if !headers_are_valid(accept.headers) {
        return Err(UsageError::InvalidHeader);
    }
    Ok(())
}

/// Writes the 101 response (§4.2.2 item 5), with the agreed extensions
/// (empty: none).
pub(crate) fn write_accept(
    out: &mut Vec<u8>,
    accept: &Accept<'_>,
    key: AcceptKey,
    extensions: &[u8],
) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    );
    write_header(out, "Sec-WebSocket-Accept", key.as_bytes());
    if let Some(protocol) = accept.protocol {
        write_header(out, "Sec-WebSocket-Protocol", protocol.as_bytes());
    }
    if !extensions.is_empty() {
        write_header(out, "Sec-WebSocket-Extensions", extensions);
    }
    write_headers(out, accept.headers);
    out.extend_from_slice(b"\r\n");
}

/// Checks a [`Reject`] before it is written.
pub(crate) fn check_reject(reject: &Reject<'_>) -> Result<(), UsageError> {
    if !(400..=599).contains(&reject.status) {
        Err(UsageError::InvalidStatus)
    } else if headers_are_valid(reject.headers) {
        Ok(())
    } else {
        Err(UsageError::InvalidHeader)
    }
}

/// Writes a rejection response.
pub(crate) fn write_reject(out: &mut Vec<u8>, reject: &Reject<'_>) {
    let status = reject.status;
    write_status_line(out, status);
    write_headers(out, reject.headers);
    write_body(out, reject.body);
}

/// Writes the HTTP error response for an invalid request.
pub(crate) fn write_error(out: &mut Vec<u8>, error: HandshakeError) {
    let status = error.status().unwrap_or(400);
    write_status_line(out, status);
    match error {
        HandshakeError::UnsupportedVersion => {
            out.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
        }
        HandshakeError::MethodNotGet => out.extend_from_slice(b"Allow: GET\r\n"),
        _ => {}
    }
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    let mut body = alloc::string::String::new();
    let _ = writeln!(body, "{error}");
    write_body(out, body.as_bytes());
}

fn write_status_line(out: &mut Vec<u8>, status: u16) {
    let mut line = alloc::string::String::new();
    let _ = write!(line, "HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    out.extend_from_slice(line.as_bytes());
}

fn write_body(out: &mut Vec<u8>, body: &[u8]) {
    let mut line = alloc::string::String::new();
    let _ = write!(
        line,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(body);
}

/// The standard reason phrase for common statuses.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        410 => "Gone",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Answers `request` with a 101 built from `accept`, into `out`.
///
/// # Errors
/// As [`check_accept`]; nothing is written on error.
pub(crate) fn answer_accept(
    tx: &mut crate::outbound::TxCore,
    head: &[u8],
    parsed: &ParsedHead,
    accept: &Accept<'_>,
) -> Result<(), UsageError> {
    check_accept(accept, head, parsed)?;
    let request = super::Request::new(head, parsed);
    let key = AcceptKey::from_key(request.key().as_bytes());
    #[cfg(feature = "deflate")]
    {
        let agreed = accept.deflate_answer(tx.deflate.policy(), request.deflate_offers())?;
        let text = agreed.map(|p| alloc::string::ToString::to_string(&p));
        let ext = text.as_deref().unwrap_or_default().as_bytes();
        tx.buf.append(|out| write_accept(out, accept, key, ext));
        tx.deflate.agree(agreed, true);
        tx.agree_protocol(accept.protocol);
    }
    #[cfg(not(feature = "deflate"))]
    {
        tx.buf.append(|out| write_accept(out, accept, key, b""));
        tx.agree_protocol(accept.protocol);
    }
    Ok(())
}

/// Answers the pending request with `reject`, into `out`.
///
/// # Errors
/// As [`check_reject`]; nothing is written on error.
pub(crate) fn answer_reject(
    out: &mut crate::buffer::SendBuf,
    reject: &Reject<'_>,
) -> Result<(), UsageError> {
    check_reject(reject)?;
    out.append(|out| write_reject(out, reject));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] = b"GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

    fn with(from: &str, to: &str) -> Vec<u8> {
        let s = core::str::from_utf8(GOOD).unwrap();
        assert!(s.contains(from), "{from}");
        s.replacen(from, to, 1).into_bytes()
    }

    #[test]
    fn rfc_example_request_is_valid() {
        let parsed = parse_request(GOOD, 64).unwrap();
        let req = super::super::Request::new(GOOD, &parsed);
        assert_eq!(req.method(), "GET");
        assert_eq!(req.path(), "/chat");
        assert_eq!(req.query(), Some("x=1"));
        assert_eq!(req.host(), Some("server.example.com"));
        assert_eq!(req.origin(), Some("http://example.com"));
        assert!(req.protocols().eq(["chat", "superchat"]));
        assert_eq!(req.headers().count(), 7);
    }

    #[test]
    fn each_requirement_has_its_error() {
        let cases: &[(&str, &str, HandshakeError)] = &[
            ("GET /chat", "POST /chat", HandshakeError::MethodNotGet),
            (
                "HTTP/1.1\r\nHost",
                "HTTP/1.0\r\nHost",
                HandshakeError::UnsupportedHttpVersion,
            ),
            (
                "Host: server.example.com\r\n",
                "",
                HandshakeError::MissingHost,
            ),
            (
                "Upgrade: websocket",
                "Upgrade: h2c",
                HandshakeError::MissingUpgrade,
            ),
            (
                "Connection: Upgrade",
                "Connection: close",
                HandshakeError::MissingConnectionUpgrade,
            ),
            (
                "dGhlIHNhbXBsZSBub25jZQ==",
                "c2hvcnQ=",
                HandshakeError::InvalidKey,
            ),
            (
                "Version: 13",
                "Version: 8",
                HandshakeError::UnsupportedVersion,
            ),
        ];
        for (from, to, expected) in cases {
            assert_eq!(
                parse_request(&with(from, to), 64).err(),
                Some(*expected),
                "{to}"
            );
        }
    }

    #[test]
    fn tokens_are_case_insensitive_lists() {
        let req = with("Connection: Upgrade", "connection: keep-alive, UPGRADE");
        let req = String::from_utf8(req)
            .unwrap()
            .replace("Upgrade: websocket", "upgrade: WebSocket");
        assert!(parse_request(req.as_bytes(), 64).is_ok());
    }

    #[test]
    fn too_many_headers_is_431() {
        assert_eq!(
            parse_request(GOOD, 6).err(),
            Some(HandshakeError::TooManyHeaders)
        );
        assert_eq!(HandshakeError::TooManyHeaders.status(), Some(431));
    }

    #[test]
    fn error_responses_carry_status_and_hints() {
        let mut out = Vec::new();
        write_error(&mut out, HandshakeError::UnsupportedVersion);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }

    use alloc::string::String;
}

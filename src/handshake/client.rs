//! Client side of the opening handshake (RFC 6455 §4.1).
//!
//! [`ClientRequest`] describes the request; the connection writes it with a
//! fresh random 16-byte key. `parse_response` reads the server's head once
//! it is complete, and `check_101` validates an acceptance: the Upgrade and
//! Connection tokens, `Sec-WebSocket-Accept`, and that any subprotocol or
//! extension chosen was offered.

use alloc::vec::Vec;

use super::{
    ParsedHead, STACK_HEADERS, Span, header_slots, headers_are_valid, tokens, write_header,
    write_headers,
};
use crate::error::{HandshakeError, UsageError};
use crate::handshake::AcceptKey;

/// The client's opening handshake request.
///
/// ```
/// let request = hybi::ClientRequest::new("example.com", "/chat")
///     .origin("https://example.com")
///     .protocols(&["chat.v2", "chat.v1"]);
/// # let _ = request;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    host: &'a str,
    target: &'a str,
    origin: Option<&'a str>,
    protocols: &'a [&'a str],
    headers: &'a [(&'a str, &'a str)],
}

impl<'a> ClientRequest<'a> {
    /// A request for `target` (path and query, e.g. `/chat?room=1`) on `host`
    /// (the Host header: host name and, if not the default, `:port`).
    #[must_use]
    pub const fn new(host: &'a str, target: &'a str) -> Self {
        Self {
            host,
            target,
            origin: None,
            protocols: &[],
            headers: &[],
        }
    }

    /// Send an Origin header (§4.1 item 8).
    #[must_use]
    pub const fn origin(mut self, origin: &'a str) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Offer subprotocols, most preferred first.
    #[must_use]
    pub const fn protocols(mut self, protocols: &'a [&'a str]) -> Self {
        self.protocols = protocols;
        self
    }

    /// Extra request headers (`Authorization`, `Cookie`, …).
    #[must_use]
    pub const fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// Checks every field, naming the first that breaks its rule.
    pub(crate) fn check(&self) -> Result<(), UsageError> {
        let target_ok = self.target.starts_with('/')
            && tokens::is_header_value(self.target.as_bytes())
            && !self.target.contains(' ');
        if !target_ok {
            return Err(UsageError::InvalidTarget);
        }
        if self.host.is_empty() || !tokens::is_header_value(self.host.as_bytes()) {
            return Err(UsageError::InvalidHost);
        }
        if !self
            .origin
            .is_none_or(|o| tokens::is_header_value(o.as_bytes()))
        {
            return Err(UsageError::InvalidOrigin);
        }
        if !self
            .protocols
            .iter()
            .all(|p| tokens::is_token(p.as_bytes()))
        {
            return Err(UsageError::InvalidProtocol);
        }
        if !headers_are_valid(self.headers) {
            return Err(UsageError::InvalidHeader);
        }
        Ok(())
    }

    /// The offered subprotocols, comma-separated, kept to check the response.
    pub(crate) fn offered_protocols(&self) -> Vec<u8> {
        self.protocols.join(",").into_bytes()
    }

    /// Writes the request with the given base64 key (§4.1) and the
    /// extension offer, if any (`Sec-WebSocket-Extensions`, §9.1).
    pub(crate) fn write(&self, out: &mut Vec<u8>, key: &[u8], extensions: &[u8]) {
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_header(out, "Host", self.host.as_bytes());
        out.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        write_header(out, "Sec-WebSocket-Key", key);
        out.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
        if let Some(origin) = self.origin {
            write_header(out, "Origin", origin.as_bytes());
        }
        if !self.protocols.is_empty() {
            write_header(
                out,
                "Sec-WebSocket-Protocol",
                self.protocols.join(", ").as_bytes(),
            );
        }
        if !extensions.is_empty() {
            write_header(out, "Sec-WebSocket-Extensions", extensions);
        }
        write_headers(out, self.headers);
        out.extend_from_slice(b"\r\n");
    }
}

/// Base64 of 16 random bytes: a `Sec-WebSocket-Key` (§4.1 item 7).
pub(crate) fn encode_key(nonce: [u8; 16]) -> [u8; 24] {
    use base64::Engine as _;
    let mut out = [0u8; 24];
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(nonce, &mut out);
    out
}

/// Parses a complete response head.
///
/// # Errors
/// [`HandshakeError::MalformedResponse`] or
/// [`HandshakeError::ResponseTooLarge`] (too many headers).
pub(crate) fn parse_response(
    head: &[u8],
    max_headers: usize,
) -> Result<ParsedHead, HandshakeError> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut heap = Vec::new();
    let headers = header_slots(&mut stack, &mut heap, max_headers);
    let mut res = httparse::Response::new(headers);
    match res.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HandshakeError::MalformedResponse),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::ResponseTooLarge),
        Err(_) => return Err(HandshakeError::MalformedResponse),
    }
    let (Some(status), Some(version)) = (res.code, res.version) else {
        return Err(HandshakeError::MalformedResponse);
    };
    if version < 1 {
        return Err(HandshakeError::MalformedResponse);
    }
    let mut parsed = ParsedHead::from_headers(head, res.headers, head.len());
    parsed.status = status;
    parsed.first = Span::of(head, res.reason.unwrap_or_default().as_bytes());
    if status != 101 {
        parsed.body_len = parsed
            .header(head, "content-length")
            .and_then(|v| core::str::from_utf8(tokens::trim(v)).ok())
            .and_then(|v| v.parse().ok());
    }
    Ok(parsed)
}

/// Validates a 101 response (§4.1, the client's checks 1–6).
///
/// # Errors
/// The [`HandshakeError`] naming the first failed check.
pub(crate) fn check_101(
    head: &[u8],
    parsed: &ParsedHead,
    accept: &AcceptKey,
    offered_protocols: &[u8],
    config: &crate::Config,
) -> Result<crate::extension::Agreed, HandshakeError> {
    // §4.1: the value must match "websocket" itself, not merely list it.
    let mut upgrade = parsed.values(head, "upgrade");
    let upgrade_ok = upgrade
        .next()
        .is_some_and(|v| tokens::trim(v).eq_ignore_ascii_case(b"websocket"))
        && upgrade.next().is_none();
    if !upgrade_ok {
        return Err(HandshakeError::ResponseMissingUpgrade);
    }
    if !parsed.has_token(head, "connection", "upgrade") {
        return Err(HandshakeError::ResponseMissingConnectionUpgrade);
    }
    let accept_ok = parsed.header_count(head, "sec-websocket-accept") == 1
        && parsed
            .header(head, "sec-websocket-accept")
            .is_some_and(|v| tokens::trim(v) == accept.as_bytes());
    if !accept_ok {
        return Err(HandshakeError::InvalidAccept);
    }
    // `()` without the `deflate` feature.
    #[allow(clippy::let_unit_value)]
    let agreed =
        crate::extension::check_answer(parsed.values(head, "sec-websocket-extensions"), config)?;
    let mut chosen = parsed.values(head, "sec-websocket-protocol");
    if let Some(value) = chosen.next() {
        let value = tokens::trim(value);
        let offered = tokens::list_items(offered_protocols).any(|p| p == value);
        if !offered || value.contains(&b',') || chosen.next().is_some() {
            return Err(HandshakeError::UnexpectedProtocol);
        }
    }
    Ok(agreed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_carries_every_required_header() {
        let mut out = Vec::new();
        let req = ClientRequest::new("example.com:8080", "/chat?x=1")
            .origin("http://example.com")
            .protocols(&["a", "b"]);
        req.check().unwrap();
        req.write(&mut out, b"dGhlIHNhbXBsZSBub25jZQ==", b"");
        let text = core::str::from_utf8(&out).unwrap();
        assert!(text.starts_with("GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Protocol: a, b\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        // The server side accepts what the client side writes.
        assert!(super::super::server::parse_request(&out, 16).is_ok());
    }

    #[test]
    fn bad_request_fields_are_usage_errors() {
        let cases = [
            (
                ClientRequest::new("h", "/x\r\nEvil: 1"),
                UsageError::InvalidTarget,
            ),
            (ClientRequest::new("h", "chat"), UsageError::InvalidTarget),
            (ClientRequest::new("h", "/a b"), UsageError::InvalidTarget),
            (ClientRequest::new("", "/"), UsageError::InvalidHost),
            (ClientRequest::new("h\r\n", "/"), UsageError::InvalidHost),
            (
                ClientRequest::new("h", "/").origin("o\n"),
                UsageError::InvalidOrigin,
            ),
            (
                ClientRequest::new("h", "/").protocols(&["a b"]),
                UsageError::InvalidProtocol,
            ),
            (
                ClientRequest::new("h", "/").headers(&[("X Y", "1")]),
                UsageError::InvalidHeader,
            ),
            (
                ClientRequest::new("h", "/").headers(&[("X", "1\r\n")]),
                UsageError::InvalidHeader,
            ),
        ];
        for (request, error) in cases {
            assert_eq!(request.check(), Err(error), "{request:?}");
        }
        assert_eq!(ClientRequest::new("h", "/chat?x=1").check(), Ok(()));
    }

    #[test]
    fn response_checks_name_the_failure() {
        let key = AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
        let check = |text: &str| {
            let parsed = parse_response(text.as_bytes(), 16).unwrap();
            check_101(
                text.as_bytes(),
                &parsed,
                &key,
                b"chat,superchat",
                &crate::Config::new(),
            )
            .map(|_| ())
        };
        assert_eq!(check(good), Ok(()));
        let cases = [
            (
                "Upgrade: websocket",
                "Upgrade: h2c",
                HandshakeError::ResponseMissingUpgrade,
            ),
            (
                "Connection: Upgrade",
                "Connection: close",
                HandshakeError::ResponseMissingConnectionUpgrade,
            ),
            ("xOo=", "xOx=", HandshakeError::InvalidAccept),
            (
                "Protocol: chat",
                "Protocol: other",
                HandshakeError::UnexpectedProtocol,
            ),
            (
                "Protocol: chat\r\n",
                "Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
                HandshakeError::UnexpectedExtension,
            ),
        ];
        for (from, to, expected) in cases {
            assert_eq!(check(&good.replacen(from, to, 1)), Err(expected), "{to}");
        }
    }
}

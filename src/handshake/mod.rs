//! The opening handshake (RFC 6455 §4): HTTP/1.1 Upgrade request and 101 response.
//!
//! Shared pieces live here: finding the end of an HTTP head in bytes as they
//! arrive (each byte scanned once), the parsed head kept as byte spans into
//! the receive buffer, and the borrowed views handed to the caller
//! ([`Request`], [`Response`]). The server side (validate a request, write a
//! 101 or an error) is in [`server`], the client side (write a request,
//! validate the response) in [`client`], the accept-key derivation in
//! [`accept_key`] and comma-separated token lists in [`tokens`].

pub(crate) mod accept_key;
pub(crate) mod client;
pub(crate) mod driver;
pub(crate) mod server;
pub(crate) mod tokens;
pub(crate) mod upgrade;
pub(crate) mod url;

use alloc::vec::Vec;

pub use accept_key::AcceptKey;
pub use client::ClientRequest;
pub use server::{Accept, Reject};
pub use upgrade::{
    HttpRequest, HttpVersion, UpgradeAnswer, UpgradeOffer, check_connect_response,
    connect_request_headers,
};
pub use url::{UrlError, WsUrl};

/// Header slots for httparse kept on the stack for the common limit; a
/// larger `Config::max_headers` uses the heap for the one parse.
pub(crate) const STACK_HEADERS: usize = 64;

/// The header slots for one parse: `max_headers` of them.
pub(crate) fn header_slots<'s, 'h>(
    stack: &'s mut [httparse::Header<'h>; STACK_HEADERS],
    heap: &'s mut Vec<httparse::Header<'h>>,
    max_headers: usize,
) -> &'s mut [httparse::Header<'h>] {
    if max_headers <= STACK_HEADERS {
        &mut stack[..max_headers]
    } else {
        heap.resize(max_headers, httparse::EMPTY_HEADER);
        heap
    }
}

/// A byte range inside a parsed head.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// The span of `part`, which must be a sub-slice of `whole`.
    fn of(whole: &[u8], part: &[u8]) -> Self {
        let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
        if start > whole.len() || part.len() > whole.len() - start {
            return Self::default();
        }
        Self {
            start,
            end: start + part.len(),
        }
    }

    fn get(self, whole: &[u8]) -> &[u8] {
        whole.get(self.start..self.end).unwrap_or_default()
    }
}

/// An HTTP head parsed once by httparse and kept as spans, so the views can
/// borrow the receive buffer without a self-referential struct.
#[derive(Debug, Default)]
pub(crate) struct ParsedHead {
    /// Request method, or the response reason phrase.
    first: Span,
    /// Request target; unused for responses.
    second: Span,
    /// Response status code; 0 for requests.
    status: u16,
    /// Header (name, value) spans in order of arrival.
    headers: Vec<(Span, Span)>,
    /// Length of the head including the blank line.
    pub(crate) len: usize,
    /// Response body length to wait for (from Content-Length), if any.
    pub(crate) body_len: Option<usize>,
}

impl ParsedHead {
    /// Response status code; 0 for requests.
    pub(crate) fn status(&self) -> u16 {
        self.status
    }

    fn header<'a>(&self, head: &'a [u8], name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.get(head).eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.get(head))
    }

    fn header_count(&self, head: &[u8], name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.get(head).eq_ignore_ascii_case(name.as_bytes()))
            .count()
    }

    fn values<'a, 'n>(
        &'a self,
        head: &'a [u8],
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |(n, _)| n.get(head).eq_ignore_ascii_case(name.as_bytes()))
            .map(move |(_, v)| v.get(head))
    }

    fn list<'a>(&'a self, head: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values(head, name)
            .flat_map(tokens::list_items)
            .filter_map(|item| core::str::from_utf8(item).ok())
    }

    fn has_token(&self, head: &[u8], name: &str, token: &str) -> bool {
        self.values(head, name)
            .any(|v| tokens::has_token_ignore_case(v, token))
    }

    fn from_headers(head: &[u8], parsed: &[httparse::Header<'_>], len: usize) -> Self {
        Self {
            headers: parsed
                .iter()
                .map(|h| (Span::of(head, h.name.as_bytes()), Span::of(head, h.value)))
                .collect(),
            len,
            ..Self::default()
        }
    }
}

/// Finds the end of an HTTP head (the blank line) in bytes that arrive in
/// pieces, looking at each byte once.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HeadScanner {
    scanned: usize,
}

impl HeadScanner {
    /// Returns the head length (through the blank line) once `buf` holds it.
    /// Only bytes past those seen by earlier calls are examined.
    pub(crate) fn find_end(&mut self, buf: &[u8]) -> Option<usize> {
        let from = self.scanned;
        self.scanned = buf.len();
        let new = buf.get(from..)?;
        for (i, &b) in new.iter().enumerate() {
            if b != b'\n' {
                continue;
            }
            let at = from + i;
            let blank = match at {
                0 => false,
                1 => buf[0] == b'\n',
                _ => buf[at - 1] == b'\n' || (buf[at - 1] == b'\r' && buf[at - 2] == b'\n'),
            };
            if blank {
                self.scanned = at + 1;
                return Some(at + 1);
            }
        }
        None
    }

    /// Bytes examined so far.
    pub(crate) fn scanned(&self) -> usize {
        self.scanned
    }
}

/// Iterates over all headers of a head as `(name, value)`.
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    head: &'a [u8],
    iter: core::slice::Iter<'a, (Span, Span)>,
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (name, value) = self.iter.next()?;
        // httparse only accepts token characters in names, which are ASCII.
        let name = core::str::from_utf8(name.get(self.head)).unwrap_or_default();
        Some((name, value.get(self.head)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

/// A client's opening handshake request, borrowed from the receive buffer
/// (server side, from [`Event::HandshakeRequest`](crate::Event::HandshakeRequest)).
///
/// Already validated against RFC 6455 §4.2.1. Answer it where it is, with
/// [`Outbound::accept`](crate::Outbound::accept) or
/// [`Outbound::reject`](crate::Outbound::reject) on the halves of
/// [`Connection::split`](crate::Connection::split), or after the event is
/// dropped with [`Connection::accept`](crate::Connection::accept) or
/// [`Connection::reject`](crate::Connection::reject).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    head: &'a [u8],
    parsed: &'a ParsedHead,
}

impl<'a> Request<'a> {
    pub(crate) fn new(head: &'a [u8], parsed: &'a ParsedHead) -> Self {
        Self { head, parsed }
    }

    /// The request method (always `GET` once validated).
    #[must_use]
    pub fn method(&self) -> &'a str {
        core::str::from_utf8(self.parsed.first.get(self.head)).unwrap_or_default()
    }

    /// The request target as sent: path and optional query (`/chat?room=1`).
    #[must_use]
    pub fn target(&self) -> &'a str {
        core::str::from_utf8(self.parsed.second.get(self.head)).unwrap_or_default()
    }

    /// The path part of the target (before `?`).
    #[must_use]
    pub fn path(&self) -> &'a str {
        let target = self.target();
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// The query part of the target (after `?`), if any.
    #[must_use]
    pub fn query(&self) -> Option<&'a str> {
        self.target().split_once('?').map(|(_, query)| query)
    }

    /// The Host header (present once validated).
    #[must_use]
    pub fn host(&self) -> Option<&'a str> {
        self.header_str("host")
    }

    /// The Origin header, which browsers always send (§4.2.1 item 7, §10.2).
    #[must_use]
    pub fn origin(&self) -> Option<&'a str> {
        self.header_str("origin")
    }

    /// The `Sec-WebSocket-Key` value.
    #[must_use]
    pub fn key(&self) -> &'a str {
        self.header_str("sec-websocket-key").unwrap_or_default()
    }

    /// The subprotocols offered, in the client's order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.parsed.list(self.head, "sec-websocket-protocol")
    }

    /// The extensions offered, each with its parameters as sent
    /// (`permessage-deflate; client_max_window_bits`).
    pub fn extensions(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.parsed.list(self.head, "sec-websocket-extensions")
    }

    /// The valid permessage-deflate offers (RFC 7692 §7), in the client's
    /// order of preference, from every `Sec-WebSocket-Extensions` header.
    /// An offer with an unknown, repeated or invalid parameter is declined
    /// (§5) and left out.
    #[cfg(feature = "deflate")]
    pub fn deflate_offers(&self) -> impl Iterator<Item = crate::DeflateOffer> + 'a {
        crate::extension::deflate_header::offers(
            self.parsed.values(self.head, "sec-websocket-extensions"),
        )
    }

    /// The first header with this name (case-insensitive), as raw bytes.
    /// [`header_values`](Self::header_values) gives every one.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.parsed.header(self.head, name)
    }

    /// The first header with this name, if it is UTF-8.
    #[must_use]
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// Every value of a header that may repeat (`Cookie`, `Forwarded`, …),
    /// in order, as raw bytes.
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.parsed.values(self.head, name)
    }

    /// Every cookie of every `Cookie` header, as `(name, value)` pairs in
    /// order (RFC 6265 §5.4: pairs separated by `; `). Headers that are not
    /// UTF-8 and pairs without `=` are skipped.
    pub fn cookies(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.parsed
            .values(self.head, "cookie")
            .filter_map(|value| core::str::from_utf8(value).ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
    }

    /// The value of the first cookie called `name`, if any.
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<&'a str> {
        self.cookies().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Every header, in order.
    #[must_use]
    pub fn headers(&self) -> Headers<'a> {
        Headers {
            head: self.head,
            iter: self.parsed.headers.iter(),
        }
    }

    /// The head and its parse, for answering the request.
    pub(crate) fn parts(&self) -> (&'a [u8], &'a ParsedHead) {
        (self.head, self.parsed)
    }
}

/// A server's handshake response, borrowed from the receive buffer (client
/// side, from [`Event::HandshakeResponse`](crate::Event::HandshakeResponse) or
/// [`Event::HandshakeRejected`](crate::Event::HandshakeRejected)).
#[derive(Clone, Copy, Debug)]
pub struct Response<'a> {
    head: &'a [u8],
    body: &'a [u8],
    parsed: &'a ParsedHead,
}

impl<'a> Response<'a> {
    pub(crate) fn new(head: &'a [u8], body: &'a [u8], parsed: &'a ParsedHead) -> Self {
        Self { head, body, parsed }
    }

    /// The status code (101 when accepted).
    #[must_use]
    pub fn status(&self) -> u16 {
        self.parsed.status
    }

    /// The reason phrase.
    #[must_use]
    pub fn reason(&self) -> &'a str {
        core::str::from_utf8(self.parsed.first.get(self.head)).unwrap_or_default()
    }

    /// The subprotocol the server selected, if any.
    #[must_use]
    pub fn protocol(&self) -> Option<&'a str> {
        self.header("sec-websocket-protocol")
            .and_then(|v| core::str::from_utf8(tokens::trim(v)).ok())
    }

    /// The extensions the server selected.
    pub fn extensions(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.parsed.list(self.head, "sec-websocket-extensions")
    }

    /// The first header with this name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.parsed.header(self.head, name)
    }

    /// Every header, in order.
    #[must_use]
    pub fn headers(&self) -> Headers<'a> {
        Headers {
            head: self.head,
            iter: self.parsed.headers.iter(),
        }
    }

    /// The body of a rejection, as far as Content-Length (or the end of the
    /// connection) says, capped at `Config::max_handshake_bytes`. Empty for 101.
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// Checks caller-supplied headers before they are written.
fn headers_are_valid(headers: &[(&str, &str)]) -> bool {
    headers
        .iter()
        .all(|(n, v)| tokens::is_token(n.as_bytes()) && tokens::is_header_value(v.as_bytes()))
}

/// Appends `name: value\r\n` for each header.
fn write_headers(out: &mut Vec<u8>, headers: &[(&str, &str)]) {
    for (name, value) in headers {
        write_header(out, name, value.as_bytes());
    }
}

fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

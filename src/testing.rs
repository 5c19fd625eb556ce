//! Opening a connection without a peer, for tests, benchmarks and fuzz
//! targets: one copy of the handshake they all start from. Public (and
//! hidden) only with the `fuzzing` feature; not part of the API.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::{Accept, AcceptKey, ClientRequest, Config, Connection, Event, MaskSource, State};

/// A valid handshake request (RFC 6455 §1.2's example, with an Origin and
/// two offered subprotocols).
pub const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// [`REQUEST`] with a permessage-deflate offer as browsers send it.
pub const REQUEST_DEFLATE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A server that has accepted [`REQUEST`], with the 101 drained.
///
/// # Panics
/// If the engine does not report and accept the request.
#[must_use]
pub fn open_server(config: Config) -> Connection {
    open_server_with(config, REQUEST)
}

/// A server that has accepted [`REQUEST_DEFLATE`] (with `config`'s
/// permessage-deflate policy, if any), with the 101 drained.
///
/// # Panics
/// If the engine does not report and accept the request.
#[must_use]
pub fn open_server_deflate(config: Config) -> Connection {
    open_server_with(config, REQUEST_DEFLATE)
}

fn open_server_with(config: Config, request: &[u8]) -> Connection {
    let mut conn = Connection::server(config);
    conn.receive(request);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    conn.accept(Accept::new()).expect("accept");
    let n = conn.transmit().len();
    conn.advance(n);
    assert_eq!(conn.state(), State::Open);
    conn
}

/// A client masking with `rng`, its request drained, before any response;
/// returns the request too.
///
/// # Panics
/// If the request cannot be made.
pub fn new_client(config: Config, rng: Box<dyn MaskSource>) -> (Connection, Vec<u8>) {
    let mut conn = Connection::client_with_rng(
        ClientRequest::new("server.example.com", "/chat"),
        config,
        rng,
    )
    .expect("client");
    let request = conn.transmit().to_vec();
    conn.advance(request.len());
    (conn, request)
}

/// A client that has received a valid 101 (see [`new_client`]).
///
/// # Panics
/// If the engine does not accept its own server's 101.
#[must_use]
pub fn open_client(config: Config, rng: Box<dyn MaskSource>) -> Connection {
    let (mut conn, request) = new_client(config, rng);
    conn.receive(&response_for(&request));
    assert!(matches!(
        conn.next_event(),
        Ok(Some(Event::HandshakeResponse(_)))
    ));
    assert_eq!(conn.state(), State::Open);
    conn
}

/// The 101 response a server sends for a client's `request`.
///
/// # Panics
/// If `request` has no `Sec-WebSocket-Key`.
#[must_use]
pub fn response_for(request: &[u8]) -> Vec<u8> {
    let key = request
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"Sec-WebSocket-Key: "))
        .expect("the request has a key");
    let key = key.strip_suffix(b"\r").unwrap_or(key);
    let mut out = Vec::new();
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: ",
    );
    out.extend_from_slice(AcceptKey::from_key(key).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// The 101 [`response_for`] `request`, with a `Sec-WebSocket-Extensions`
/// answer.
///
/// # Panics
/// If `request` has no `Sec-WebSocket-Key`.
#[must_use]
pub fn response_with_extensions(request: &[u8], extensions: &str) -> Vec<u8> {
    let mut out = response_for(request);
    out.truncate(out.len() - 2);
    out.extend_from_slice(b"Sec-WebSocket-Extensions: ");
    out.extend_from_slice(extensions.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// The permessage-deflate offers a server reads from one header value.
#[cfg(feature = "deflate")]
#[must_use]
pub fn deflate_offers(value: &[u8]) -> Vec<crate::DeflateOffer> {
    crate::extension::deflate_header::offers(core::iter::once(value)).collect()
}

/// A client's check of a server's answer (`value`) against `config`'s offer.
///
/// # Errors
/// The handshake error the client reports.
#[cfg(feature = "deflate")]
pub fn check_deflate_answer(
    value: &[u8],
    config: &Config,
) -> Result<Option<crate::DeflateParams>, crate::HandshakeError> {
    crate::extension::check_answer(core::iter::once(value), config)
}

/// An answer as written, read back as a client reads it (`None` if it does
/// not parse).
#[cfg(feature = "deflate")]
#[must_use]
pub fn parse_deflate_answer(value: &[u8]) -> Option<crate::DeflateParams> {
    let ext = crate::extension::extensions(value).next()?.ok()?;
    crate::extension::deflate_header::parse_answer(&ext).ok()
}

//! What the I/O drivers share: the server's answer to a handshake
//! ([`Answer`]), the error a driver returns ([`DriverError`]), owned
//! messages for callers who want them ([`OwnedMessage`]), and the pieces
//! of a receive and accept loop that do not depend on the runtime.
//!
//! The drivers (`blocking.rs` over `std::io`, `tokio/` over tokio's I/O
//! traits) hold a [`Connection`] and a stream and contain no protocol logic:
//! every byte goes through the engine's drive contract (`read_buf`/`commit`,
//! `event_ready`/`next_event`, `transmit`/`advance`, `poll_timeout`/
//! `handle_timeout`). They exist so that a program needs no loop of its own.

/// Expands, in a driver's `impl<S> WebSocket<S>` (fields `conn` and
/// `stream`), the accessors both drivers share.
macro_rules! stream_accessors {
    () => {
        /// The engine's connection (state, agreed subprotocol, extensions).
        #[must_use]
        pub fn connection(&self) -> &crate::Connection {
            &self.conn
        }

        /// The engine's connection, for what the driver does not wrap; call
        /// `flush` after queueing anything.
        pub fn connection_mut(&mut self) -> &mut crate::Connection {
            &mut self.conn
        }

        /// The stream.
        #[must_use]
        pub fn get_ref(&self) -> &S {
            &self.stream
        }

        /// The stream, to reach what the driver does not wrap.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.stream
        }

        /// The engine's connection and the stream, apart (with the tokio
        /// driver, what `Sender`s queued and the engine did not take yet is
        /// dropped).
        pub fn into_parts(self) -> (crate::Connection, S) {
            (self.conn, self.stream)
        }
    };
}

#[cfg(feature = "blocking")]
pub mod blocking;
#[cfg(feature = "tokio")]
#[doc = include_str!("programs.md")]
pub mod programs {}
#[cfg(feature = "tokio")]
pub mod tokio;

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{
    Accept, ClientRequest, CloseCode, Config, Connection, Error, Event, MessageKind, Reject,
    Request, State, UrlError, WsUrl,
};

/// How a server driver answers a handshake request: accept (with a
/// subprotocol and headers) or reject (with a status, headers and a body).
/// Owned, so the decision can be made from anything the request shows.
///
/// ```
/// use hybi::driver::Answer;
/// let answer = Answer::accept().protocol("chat.v1").header("Set-Cookie", "seen=1");
/// let refusal = Answer::reject(403).body("this origin may not connect\n");
/// # let _ = (answer, refusal);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// `None`: accept (101); else the status of the refusal.
    status: Option<u16>,
    protocol: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    #[cfg(feature = "deflate")]
    no_deflate: bool,
}

impl Answer {
    /// Accept: 101 Switching Protocols, no subprotocol, the connection's
    /// permessage-deflate policy.
    #[must_use]
    pub fn accept() -> Self {
        Self {
            status: None,
            protocol: None,
            headers: Vec::new(),
            body: Vec::new(),
            #[cfg(feature = "deflate")]
            no_deflate: false,
        }
    }

    /// Refuse with `status`: 400–599; any other status fails the handshake
    /// with [`UsageError::InvalidStatus`](crate::UsageError::InvalidStatus)
    /// (see [`Reject::new`]).
    #[must_use]
    pub fn reject(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::accept()
        }
    }

    /// Accepting: select a subprotocol, which must be one the client
    /// offered (RFC 6455 §4.2.2), else the handshake fails with
    /// [`UsageError::ProtocolNotOffered`](crate::UsageError::ProtocolNotOffered).
    #[must_use]
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocol = Some(protocol.to_owned());
        self
    }

    /// Adds a header to the answer (`Set-Cookie`, `WWW-Authenticate`, …).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Refusing: the response body (sent with its `Content-Length`).
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Accepting: decline permessage-deflate whatever the policy says.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn no_deflate(mut self) -> Self {
        self.no_deflate = true;
        self
    }

    /// The refusal's status, or `None` for an acceptance.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Queues this answer on `conn`, whose request is waiting.
    pub(crate) fn apply(&self, conn: &mut Connection) -> Result<(), Error> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        match self.status {
            None => {
                let mut accept = Accept::new().headers(&headers);
                if let Some(protocol) = &self.protocol {
                    accept = accept.protocol(protocol);
                }
                #[cfg(feature = "deflate")]
                if self.no_deflate {
                    accept = accept.no_deflate();
                }
                conn.accept(accept)
            }
            Some(status) => conn.reject(Reject::new(status).headers(&headers).body(&self.body)),
        }
    }
}

/// What went wrong in a driver.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverError {
    /// The stream failed (a reset, a timeout the engine did not ask for,
    /// TLS): the connection is gone; nothing more can be sent.
    Io(std::io::Error),
    /// The engine's error: the peer broke the protocol or the handshake
    /// (its Close frame or HTTP error was sent before this was returned),
    /// a keep-alive Pong never came, or a call was not allowed now.
    Ws(Error),
    /// The URL is not a WebSocket URL.
    Url(UrlError),
    /// The handshake was refused: as a client, the server's status and
    /// body; as a server, the status our [`Answer`] sent.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The response body (empty for a server's own refusal).
        body: Vec<u8>,
    },
    /// `wss://` without TLS support built in (the `rustls` feature), or
    /// a scheme this driver cannot open.
    Unsupported(&'static str),
    /// The connection is closed: the closing handshake finished (or the
    /// peer went away after its Close); nothing more will arrive.
    Closed,
}

impl core::fmt::Display for DriverError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Ws(e) => write!(f, "{e}"),
            Self::Url(e) => write!(f, "invalid URL: {e}"),
            Self::Rejected { status, .. } => write!(f, "the handshake was refused with {status}"),
            Self::Unsupported(what) => f.write_str(what),
            Self::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl core::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Ws(e) => Some(e),
            Self::Url(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for DriverError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<Error> for DriverError {
    fn from(e: Error) -> Self {
        Self::Ws(e)
    }
}

impl From<crate::UsageError> for DriverError {
    fn from(e: crate::UsageError) -> Self {
        Self::Ws(e.into())
    }
}

impl From<UrlError> for DriverError {
    fn from(e: UrlError) -> Self {
        Self::Url(e)
    }
}

/// A whole message, owned: what `recv_message` returns for callers who keep
/// messages beyond the next call (chunks of large messages joined).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A Ping (already answered by the engine's automatic Pong).
    Ping(Vec<u8>),
    /// A Pong.
    Pong(Vec<u8>),
    /// The peer's Close (code and reason; 1005 for an empty Close, 1006 when
    /// the connection ended without one). The reply was sent.
    Close(CloseCode, String),
}

/// Joins a large message's chunks for [`OwnedMessage`].
#[derive(Debug, Default)]
pub(crate) struct Joiner {
    kind: Option<MessageKind>,
    data: Vec<u8>,
}

impl Joiner {
    /// Takes one event; a whole message (or control frame) comes out.
    pub(crate) fn push(&mut self, event: &Event<'_>) -> Option<OwnedMessage> {
        let (kind, data, last) = match *event {
            Event::Text(t) => return Some(OwnedMessage::Text(t.to_owned())),
            Event::Binary(b) => return Some(OwnedMessage::Binary(b.to_vec())),
            Event::Ping(p) => return Some(OwnedMessage::Ping(p.to_vec())),
            Event::Pong(p) => return Some(OwnedMessage::Pong(p.to_vec())),
            Event::Close(c) => return Some(OwnedMessage::Close(c.code, c.reason.to_owned())),
            Event::TextChunk { data, last } => (MessageKind::Text, data.as_bytes(), last),
            Event::BinaryChunk { data, last } => (MessageKind::Binary, data, last),
            _ => return None,
        };
        self.kind = Some(kind);
        self.data.extend_from_slice(data);
        if !last {
            return None;
        }
        self.kind = None;
        let data = core::mem::take(&mut self.data);
        Some(match kind {
            MessageKind::Binary => OwnedMessage::Binary(data),
            // Every chunk was validated text ending on a character boundary.
            MessageKind::Text => OwnedMessage::Text(
                String::from_utf8(data)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        })
    }
}

/// `url` parsed for a driver's `connect` (`tls` false: `ws://` only) or
/// `connect_tls` (`tls` true: `wss://` only).
pub(crate) fn parse_url(url: &str, tls: bool) -> Result<WsUrl<'_>, DriverError> {
    let url = WsUrl::parse(url)?;
    match (url.secure(), tls) {
        (true, false) => Err(DriverError::Unsupported(
            "wss:// needs TLS: open a TLS stream and use WebSocket::client",
        )),
        (false, true) => Err(DriverError::Unsupported("connect_tls needs a wss:// URL")),
        _ => Ok(url),
    }
}

/// The TLS server name a `wss://` URL's host names.
#[cfg(feature = "rustls")]
pub(crate) fn tls_server_name(
    url: &WsUrl<'_>,
) -> Result<rustls::pki_types::ServerName<'static>, DriverError> {
    rustls::pki_types::ServerName::try_from(alloc::string::String::from(url.host()))
        .map_err(|_| DriverError::Unsupported("the URL's host is not a valid TLS server name"))
}

/// A client's connection from a parsed URL: the request the URL names, with
/// the caller's extra settings.
pub(crate) fn client_for(
    url: &WsUrl<'_>,
    options: &ClientOptions<'_>,
    config: Config,
) -> Result<Connection, Error> {
    let target = url.target();
    let mut request = ClientRequest::new(url.host_header(), &target)
        .protocols(options.protocols)
        .headers(options.headers);
    if let Some(origin) = options.origin {
        request = request.origin(origin);
    }
    Connection::client(request, config)
}

/// What a client sends beyond what its URL says.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientOptions<'a> {
    /// Subprotocols to offer, in order of preference.
    pub protocols: &'a [&'a str],
    /// Extra request headers (`Cookie`, `Authorization`, …).
    pub headers: &'a [(&'a str, &'a str)],
    /// The `Origin` header, as a browser would send it.
    pub origin: Option<&'a str>,
}

/// Whether a client has finished the closing handshake and waits for the
/// server to close TCP (RFC 6455 §7.1.1: the server closes first, so its
/// side, not ours, holds TIME_WAIT); drivers wait for that end of stream
/// for at most `Config::close_timeout`.
pub(crate) fn awaiting_tcp_close(conn: &Connection) -> bool {
    conn.state() == State::Closed && conn.role() == crate::Role::Client && !conn.close_expected()
}

/// How long a client waits for the server to close TCP.
pub(crate) fn tcp_close_wait(config: &Config) -> core::time::Duration {
    config
        .get_close_timeout()
        .unwrap_or(core::time::Duration::from_secs(10))
}

/// Whether `conn` can receive nothing more.
pub(crate) fn finished(conn: &Connection) -> bool {
    matches!(conn.state(), State::Closed | State::Failed)
}

/// The engine's handshake events, turned into the driver's outcome.
pub(crate) enum Handshake {
    /// Still waiting.
    Pending,
    /// Open: the 101 (client) or our acceptance (server) is done.
    Open,
    /// Refused with this status and body.
    Rejected(u16, Vec<u8>),
}

/// A handshake step's outcome for the driver's loop: `None` to read on,
/// else open (`Ok`) or failed.
pub(crate) fn settle(outcome: Result<Handshake, Error>) -> Option<Result<(), DriverError>> {
    match outcome {
        Ok(Handshake::Pending) => None,
        Ok(Handshake::Open) => Some(Ok(())),
        Ok(Handshake::Rejected(status, body)) => Some(Err(DriverError::Rejected { status, body })),
        Err(e) => Some(Err(e.into())),
    }
}

/// Client: what the events decoded so far say about the handshake.
pub(crate) fn client_handshake(conn: &mut Connection) -> Result<Handshake, Error> {
    while let Some(event) = conn.next_event()? {
        match event {
            Event::HandshakeResponse(_) => return Ok(Handshake::Open),
            Event::HandshakeRejected(r) => {
                return Ok(Handshake::Rejected(r.status(), r.body().to_vec()));
            }
            _ => {}
        }
    }
    Ok(Handshake::Pending)
}

/// Server: answers the request once it has arrived (through `decide`).
pub(crate) fn server_handshake(
    conn: &mut Connection,
    decide: &mut Option<impl FnOnce(&Request<'_>) -> Answer>,
) -> Result<Handshake, Error> {
    if conn.state() != State::RequestReceived {
        // Decode the request head (the event is read from `request()`), or
        // report the error that failed it (a bad head, the timeout).
        while let Some(event) = conn.next_event()? {
            if matches!(event, Event::HandshakeRequest(_)) {
                break;
            }
        }
    }
    if conn.state() != State::RequestReceived {
        return Ok(Handshake::Pending);
    }
    let Some(decide) = decide.take() else {
        return Ok(Handshake::Pending);
    };
    let answer = match conn.request() {
        Some(request) => decide(&request),
        None => return Ok(Handshake::Pending),
    };
    if let Err(e) = answer.apply(conn) {
        // The answer cannot be sent as given (a subprotocol the client did
        // not offer, a bad status or header): the client still gets one.
        let _ = conn.reject(Reject::new(500));
        return Err(e);
    }
    Ok(match answer.status() {
        None => Handshake::Open,
        Some(status) => Handshake::Rejected(status, Vec::new()),
    })
}

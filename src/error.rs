//! Errors: what went wrong, which rule it broke, and what the caller does next.
//!
//! Three kinds, kept apart because the caller answers each differently:
//! - [`ProtocolError`]: the peer broke RFC 6455 after the handshake. The engine
//!   has already queued a Close frame with [`ProtocolError::close_code`]
//!   (1002, 1007 or 1009); the caller flushes [`transmit`] and closes TCP.
//! - [`HandshakeError`]: the opening handshake failed. On a server the HTTP
//!   error response ([`HandshakeError::status`]: 400, 405, 426 or 431) is
//!   already queued; the caller flushes it and closes TCP. On a client there is
//!   nothing to send; the caller closes TCP.
//! - [`UsageError`]: a call that is wrong for the current state. Nothing
//!   changed; the connection goes on.
//!
//! Protocol and handshake errors are sticky: every later `next_event` returns
//! the same error. Events decoded before the error were already delivered.
//!
//! [`transmit`]: crate::Connection::transmit

use core::fmt;

use crate::close::CloseCode;
use crate::rng::RandomUnavailable;

/// Any error returned by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the framing or close rules; a Close frame is queued.
    Protocol(ProtocolError),
    /// The opening handshake failed; on a server an HTTP error is queued.
    Handshake(HandshakeError),
    /// The call does not fit the connection's state; nothing changed.
    Usage(UsageError),
    /// The entropy source failed while a client was being made; no
    /// connection exists (masks would be predictable, RFC 6455 §10.3).
    Random(RandomUnavailable),
    /// No Pong came within `Config::pong_timeout` of a keep-alive Ping:
    /// the peer (or the path to it) is gone. A Close 1011 "keepalive ping
    /// timeout" is queued; flush `transmit`, then close TCP.
    PongTimeout,
}

impl Error {
    /// The close code queued for the peer, for protocol errors.
    #[must_use]
    pub const fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol(e) => Some(e.close_code()),
            Self::PongTimeout => Some(CloseCode::INTERNAL_ERROR),
            _ => None,
        }
    }

    /// The HTTP status queued for the peer, for server-side handshake errors.
    #[must_use]
    pub const fn status(&self) -> Option<u16> {
        match self {
            Self::Handshake(e) => e.status(),
            _ => None,
        }
    }

    /// Whether the connection is finished: flush `transmit` and close TCP.
    ///
    /// True for protocol, handshake and random-source errors, false for
    /// usage errors.
    #[must_use]
    pub const fn is_fatal(&self) -> bool {
        !matches!(self, Self::Usage(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(
                f,
                "protocol error: {e}; close frame {} queued: flush transmit, then close TCP",
                e.close_code()
            ),
            Self::Handshake(e) => match e.status() {
                Some(status) => write!(
                    f,
                    "handshake error: {e}; HTTP {status} response queued: flush transmit, then close TCP"
                ),
                None => write!(f, "handshake error: {e}; close TCP"),
            },
            Self::Usage(e) => write!(f, "usage error: {e}; the connection is unchanged"),
            Self::Random(e) => write!(f, "{e}; no connection was made: retry later"),
            Self::PongTimeout => f.write_str(
                "no pong within the keep-alive deadline; close frame 1011 queued: flush transmit, then close TCP",
            ),
        }
    }
}

impl core::error::Error for Error {}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl From<RandomUnavailable> for Error {
    fn from(e: RandomUnavailable) -> Self {
        Self::Random(e)
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Self::Usage(e)
    }
}

/// The peer broke a framing or close rule of RFC 6455.
///
/// A Close frame with [`close_code`](Self::close_code) is already queued (unless
/// a Close had already been sent). The caller MUST flush `transmit` and then
/// close the TCP connection; no further events will come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A client sent a frame without a mask (§5.1). Close 1002.
    UnmaskedClientFrame,
    /// A server sent a masked frame (§5.1). Close 1002.
    MaskedServerFrame,
    /// RSV1, RSV2 or RSV3 set without a negotiated extension (§5.2). Close 1002.
    ReservedBits,
    /// Opcode 0x3–0x7 or 0xB–0xF (§5.2). Close 1002.
    ReservedOpcode,
    /// A 64-bit payload length with the most significant bit set (§5.2). Close 1002.
    InvalidLength,
    /// A control frame with more than 125 bytes of payload (§5.5). Close 1002.
    ControlFrameTooLong,
    /// A control frame without FIN (§5.5). Close 1002.
    FragmentedControlFrame,
    /// A continuation frame with no fragmented message to continue (§5.4). Close 1002.
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message was unfinished (§5.4). Close 1002.
    ExpectedContinuation,
    /// A text message (or part of it) that is not valid UTF-8 (§5.6, §8.1). Close 1007.
    InvalidUtf8,
    /// A frame header declared more payload than `Config::max_frame_size` (§7.4.1). Close 1009.
    FrameTooBig,
    /// A message grew past `Config::max_message_size` (§7.4.1). Close 1009.
    MessageTooBig,
    /// A message had more fragments than `Config::max_fragments` (§7.4.1). Close 1009.
    TooManyFragments,
    /// A Close frame with a 1-byte payload (§5.5.1). Close 1002.
    InvalidClosePayload,
    /// A Close frame with a code outside the valid set (§7.4). Close 1002.
    InvalidCloseCode,
    /// A Close frame whose reason is not UTF-8 (§5.5.1). Close 1007.
    InvalidCloseReason,
    /// RSV1 (compressed) on a control frame (RFC 7692 §6.1). Close 1002.
    CompressedControlFrame,
    /// RSV1 on a continuation frame: only a message's first frame says it
    /// is compressed (RFC 7692 §6.1). Close 1002.
    CompressedContinuation,
    /// A compressed message is not a valid DEFLATE stream (RFC 7692 §6.2).
    /// Close 1007: the payload is inconsistent with the message, as with
    /// invalid UTF-8 (RFC 6455 §7.4.1).
    InvalidCompressedData,
}

impl ProtocolError {
    /// The close code the engine sends for this error (§7.4.1).
    #[must_use]
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason | Self::InvalidCompressedData => {
                CloseCode::INVALID_PAYLOAD
            }
            Self::FrameTooBig | Self::MessageTooBig | Self::TooManyFragments => {
                CloseCode::MESSAGE_TOO_BIG
            }
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnmaskedClientFrame => "client frame is not masked (RFC 6455 §5.1)",
            Self::MaskedServerFrame => "server frame is masked (RFC 6455 §5.1)",
            Self::ReservedBits => "reserved bits RSV1-3 set without an extension (RFC 6455 §5.2)",
            Self::ReservedOpcode => "reserved opcode (RFC 6455 §5.2)",
            Self::InvalidLength => {
                "64-bit payload length has its most significant bit set (RFC 6455 §5.2)"
            }
            Self::ControlFrameTooLong => {
                "control frame payload longer than 125 bytes (RFC 6455 §5.5)"
            }
            Self::FragmentedControlFrame => "control frame is fragmented (RFC 6455 §5.5)",
            Self::UnexpectedContinuation => {
                "continuation frame without a message to continue (RFC 6455 §5.4)"
            }
            Self::ExpectedContinuation => {
                "new data frame inside an unfinished fragmented message (RFC 6455 §5.4)"
            }
            Self::InvalidUtf8 => "text message is not valid UTF-8 (RFC 6455 §5.6, §8.1)",
            Self::FrameTooBig => "frame larger than the configured max_frame_size (RFC 6455 §7.4.1, 1009)",
            Self::MessageTooBig => {
                "message larger than the configured max_message_size (RFC 6455 §7.4.1, 1009)"
            }
            Self::TooManyFragments => {
                "message has more fragments than the configured max_fragments (RFC 6455 §7.4.1, 1009)"
            }
            Self::InvalidClosePayload => "close frame payload of exactly 1 byte (RFC 6455 §5.5.1)",
            Self::InvalidCloseCode => "close code not allowed on the wire (RFC 6455 §7.4)",
            Self::InvalidCloseReason => "close reason is not valid UTF-8 (RFC 6455 §5.5.1)",
            Self::CompressedControlFrame => "RSV1 set on a control frame (RFC 7692 §6.1)",
            Self::CompressedContinuation => {
                "RSV1 set on a continuation frame (RFC 7692 §6.1)"
            }
            Self::InvalidCompressedData => {
                "compressed message is not valid DEFLATE data (RFC 7692 §6.2)"
            }
        })
    }
}

impl core::error::Error for ProtocolError {}

/// The opening handshake failed (RFC 6455 §4).
///
/// Server side: the HTTP error response with [`status`](Self::status) is
/// already queued; the caller MUST flush `transmit` and close TCP. Client side
/// (`status()` is `None`): the server's response was not a valid acceptance;
/// the caller MUST close TCP without sending anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request is not valid HTTP/1.1 (§4.2.1). HTTP 400.
    MalformedRequest,
    /// The request method is not GET (§4.2.1 item 1). HTTP 405.
    MethodNotGet,
    /// The request is older than HTTP/1.1 (§4.2.1 item 1). HTTP 400.
    UnsupportedHttpVersion,
    /// No Host header (§4.2.1 item 2). HTTP 400.
    MissingHost,
    /// More than one Host header (RFC 7230 §5.4). HTTP 400.
    RepeatedHost,
    /// The request announces a body: a `Content-Length` other than 0 or any
    /// `Transfer-Encoding` (RFC 7230 §3.3.3). An upgrade request has no use
    /// for one, and reading its bytes as frames would let a request smuggle
    /// messages past a proxy that honours the body. HTTP 400.
    RequestBody,
    /// No `websocket` token in Upgrade (§4.2.1 item 3). HTTP 400.
    MissingUpgrade,
    /// No `Upgrade` token in Connection (§4.2.1 item 4). HTTP 400.
    MissingConnectionUpgrade,
    /// Sec-WebSocket-Key missing, repeated or not 16 bytes in base64 (§4.2.1 item 5). HTTP 400.
    InvalidKey,
    /// Sec-WebSocket-Version missing or not 13 (§4.2.1 item 6, §4.4). HTTP 426
    /// with `Sec-WebSocket-Version: 13`.
    UnsupportedVersion,
    /// The request head is longer than `Config::max_handshake_bytes`. HTTP 431.
    HeadersTooLarge,
    /// The request has more headers than `Config::max_headers`. HTTP 431.
    TooManyHeaders,
    /// The response is not valid HTTP/1.1 (§4.1).
    MalformedResponse,
    /// The response head is longer than `Config::max_handshake_bytes` or has
    /// more than `Config::max_headers` headers.
    ResponseTooLarge,
    /// A 101 response whose Upgrade header is missing or not exactly
    /// `websocket` (case-insensitive) (§4.1 item 2).
    ResponseMissingUpgrade,
    /// A 101 response without a `Connection: Upgrade` header (§4.1 item 3).
    ResponseMissingConnectionUpgrade,
    /// Sec-WebSocket-Accept missing or not derived from our key (§4.1 item 4).
    InvalidAccept,
    /// The server selected a subprotocol the client did not offer (§4.1 item 6).
    UnexpectedProtocol,
    /// The server selected an extension the client did not offer (§4.1 item 5).
    UnexpectedExtension,
    /// An HTTP/2 or HTTP/3 WebSocket request whose method is not CONNECT
    /// (RFC 8441 §4, RFC 9220). HTTP 405.
    MethodNotConnect,
    /// An extended CONNECT without `:protocol websocket` (RFC 8441 §4).
    /// HTTP 400.
    MissingConnectProtocol,
    /// An extended CONNECT with a `Sec-WebSocket-Key`: that header belongs
    /// to the HTTP/1.1 bootstrap (RFC 8441 §5). HTTP 400.
    KeyOverConnect,
    /// The server answered an extended CONNECT with a status other than
    /// 2xx: the stream did not become a WebSocket (RFC 8441 §5).
    ConnectRefused,
    /// The opening handshake did not finish within
    /// `Config::handshake_timeout`. Nothing is sent and nothing more is
    /// read: close TCP.
    Timeout,
    /// The server's `Sec-WebSocket-Extensions` does not follow the grammar
    /// of RFC 6455 §9.1.
    InvalidExtensionHeader,
    /// The server selected permessage-deflate more than once (RFC 7692 §5).
    RepeatedExtension,
    /// The server's permessage-deflate answer has a parameter RFC 7692
    /// does not define (§5).
    DeflateUnknownParameter,
    /// The server's permessage-deflate answer repeats a parameter (§5).
    DeflateRepeatedParameter,
    /// A permessage-deflate parameter has an invalid value: window bits
    /// not 8–15, a value on a flag, `client_max_window_bits` without one
    /// (§7.1).
    DeflateInvalidValue,
    /// The server's answer goes beyond the offer: a window larger than we
    /// allowed, a client window we did not offer to limit, or a
    /// `server_no_context_takeover` or `server_max_window_bits` we asked
    /// for left out (§7.1).
    DeflateParameterNotAllowed,
}

impl HandshakeError {
    /// The HTTP status the server queued, or `None` for client-side errors.
    #[must_use]
    pub const fn status(self) -> Option<u16> {
        match self {
            Self::MalformedRequest
            | Self::UnsupportedHttpVersion
            | Self::MissingHost
            | Self::RepeatedHost
            | Self::RequestBody
            | Self::MissingUpgrade
            | Self::MissingConnectionUpgrade
            | Self::InvalidKey
            | Self::MissingConnectProtocol
            | Self::KeyOverConnect => Some(400),
            Self::MethodNotGet | Self::MethodNotConnect => Some(405),
            Self::UnsupportedVersion => Some(426),
            Self::HeadersTooLarge | Self::TooManyHeaders => Some(431),
            _ => None,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedRequest => "request is not valid HTTP/1.1 (RFC 6455 §4.2.1)",
            Self::MethodNotGet => "request method is not GET (RFC 6455 §4.2.1)",
            Self::UnsupportedHttpVersion => "request is older than HTTP/1.1 (RFC 6455 §4.2.1)",
            Self::MissingHost => "request has no Host header (RFC 6455 §4.2.1)",
            Self::RepeatedHost => "request has more than one Host header (RFC 7230 §5.4)",
            Self::RequestBody => {
                "upgrade request announces a body (Content-Length other than 0, or Transfer-Encoding) (RFC 7230 §3.3.3)"
            }
            Self::MissingUpgrade => {
                "request has no `websocket` token in Upgrade (RFC 6455 §4.2.1)"
            }
            Self::MissingConnectionUpgrade => {
                "request has no `Upgrade` token in Connection (RFC 6455 §4.2.1)"
            }
            Self::InvalidKey => {
                "Sec-WebSocket-Key is missing, repeated or not 16 base64-encoded bytes (RFC 6455 §4.2.1)"
            }
            Self::UnsupportedVersion => {
                "Sec-WebSocket-Version is missing or not 13 (RFC 6455 §4.2.1, §4.4)"
            }
            Self::HeadersTooLarge => "request head exceeds max_handshake_bytes (RFC 6585 §5)",
            Self::TooManyHeaders => "request has more headers than max_headers (RFC 6585 §5)",
            Self::MalformedResponse => "response is not valid HTTP/1.1 (RFC 6455 §4.1)",
            Self::ResponseTooLarge => {
                "response head exceeds max_handshake_bytes or max_headers (RFC 6455 §4.1)"
            }
            Self::ResponseMissingUpgrade => {
                "101 response Upgrade header is missing or not `websocket` (RFC 6455 §4.1)"
            }
            Self::ResponseMissingConnectionUpgrade => {
                "101 response has no `Connection: Upgrade` (RFC 6455 §4.1)"
            }
            Self::InvalidAccept => {
                "Sec-WebSocket-Accept is missing or does not match the key (RFC 6455 §4.1)"
            }
            Self::UnexpectedProtocol => {
                "server selected a subprotocol that was not offered (RFC 6455 §4.1)"
            }
            Self::UnexpectedExtension => {
                "server selected an extension that was not offered (RFC 6455 §4.1)"
            }
            Self::Timeout => "the opening handshake did not finish within handshake_timeout",
            Self::MethodNotConnect => {
                "an HTTP/2 or HTTP/3 WebSocket request must be an extended CONNECT (RFC 8441 §4)"
            }
            Self::MissingConnectProtocol => {
                "extended CONNECT without :protocol websocket (RFC 8441 §4)"
            }
            Self::KeyOverConnect => {
                "Sec-WebSocket-Key is not used over extended CONNECT (RFC 8441 §5)"
            }
            Self::ConnectRefused => {
                "the server answered the extended CONNECT with a status other than 2xx (RFC 8441 §5)"
            }
            Self::InvalidExtensionHeader => {
                "Sec-WebSocket-Extensions does not follow the extension grammar (RFC 6455 §9.1)"
            }
            Self::RepeatedExtension => {
                "server selected permessage-deflate more than once (RFC 7692 §5)"
            }
            Self::DeflateUnknownParameter => {
                "permessage-deflate answer has an unknown parameter (RFC 7692 §5)"
            }
            Self::DeflateRepeatedParameter => {
                "permessage-deflate answer repeats a parameter (RFC 7692 §5)"
            }
            Self::DeflateInvalidValue => {
                "permessage-deflate parameter has an invalid value (RFC 7692 §7.1)"
            }
            Self::DeflateParameterNotAllowed => {
                "permessage-deflate answer goes beyond what was offered (RFC 7692 §7.1)"
            }
        })
    }
}

impl core::error::Error for HandshakeError {}

/// A call that does not fit the connection's current state or arguments.
///
/// The connection is unchanged; the caller fixes the call and goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UsageError {
    /// Messages can only be sent once the handshake is complete.
    NotOpen,
    /// The connection is closing or closed: a Close frame was sent or queued
    /// (no frame may follow it, §5.5.1), or the stream ended.
    Closed,
    /// `accept` or `reject` without a pending handshake request (server only).
    NoPendingRequest,
    /// `accept` chose a subprotocol the client did not offer (§4.2.2).
    ProtocolNotOffered,
    /// A header name is not an HTTP token, or a value contains CR, LF or
    /// other control bytes (RFC 7230 §3.2).
    InvalidHeader,
    /// A client request target that does not start with `/` or holds
    /// spaces or control bytes (RFC 7230 §5.3.1).
    InvalidTarget,
    /// A client request's host is empty or holds control bytes (RFC 7230 §5.4).
    InvalidHost,
    /// A client request's Origin holds control bytes (RFC 6454 §7).
    InvalidOrigin,
    /// An offered subprotocol is not an HTTP token (RFC 6455 §4.1 item 10).
    InvalidProtocol,
    /// A rejection's status is not a client or server error (400–599).
    InvalidStatus,
    /// A Ping or Pong payload longer than 125 bytes (§5.5).
    ControlPayloadTooLong,
    /// A close code that may not be sent (§7.4): use 1000–1003, 1007–1014 or 3000–4999.
    InvalidCloseCode,
    /// A close reason longer than 123 bytes (§5.5).
    CloseReasonTooLong,
    /// A whole message while a fragmented one is being sent (§5.4): finish it first.
    FragmentInProgress,
    /// A fragment of the other data type than the message being sent (§5.4).
    FragmentKindMismatch,
    /// `accept` gave permessage-deflate parameters that answer none of the
    /// client's offers (RFC 7692 §7.1).
    DeflateNotOffered,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotOpen => "the handshake is not complete",
            Self::Closed => {
                "the connection is closing or closed: no frame may follow a close (RFC 6455 §5.5.1)"
            }
            Self::NoPendingRequest => "no handshake request is waiting for accept or reject",
            Self::ProtocolNotOffered => {
                "the chosen subprotocol was not offered by the client (RFC 6455 §4.2.2)"
            }
            Self::InvalidHeader => {
                "a header name must be an HTTP token and a value may not hold CR, LF or control bytes (RFC 7230 §3.2)"
            }
            Self::InvalidTarget => {
                "the request target must start with / and hold no spaces or control bytes (RFC 7230 §5.3.1)"
            }
            Self::InvalidHost => "the host must be non-empty, without control bytes (RFC 7230 §5.4)",
            Self::InvalidOrigin => "the Origin may not hold control bytes (RFC 6454 §7)",
            Self::InvalidProtocol => {
                "an offered subprotocol must be an HTTP token (RFC 6455 §4.1 item 10)"
            }
            Self::InvalidStatus => {
                "a rejection's status must be a client or server error, 400-599 (RFC 7231 §6)"
            }
            Self::ControlPayloadTooLong => {
                "ping or pong payload longer than 125 bytes (RFC 6455 §5.5)"
            }
            Self::InvalidCloseCode => "close code may not be sent (RFC 6455 §7.4)",
            Self::CloseReasonTooLong => "close reason longer than 123 bytes (RFC 6455 §5.5)",
            Self::FragmentInProgress => {
                "a fragmented message is being sent; finish it first (RFC 6455 §5.4)"
            }
            Self::FragmentKindMismatch => {
                "fragment type differs from the message being sent (RFC 6455 §5.4)"
            }
            Self::DeflateNotOffered => {
                "the permessage-deflate parameters answer none of the client's offers (RFC 7692 §7.1)"
            }
        })
    }
}

impl core::error::Error for UsageError {}

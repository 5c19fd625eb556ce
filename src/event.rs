//! Events: what the engine reports from the bytes it was given.
//!
//! Every payload borrows the engine's receive buffer, where it was unmasked in
//! place, so a whole message reaches the caller without a copy. An event lives
//! until the next call on the inbound side; copy what must outlive it.

use crate::close::CloseFrame;
use crate::handshake::{Request, Response};

/// One thing that happened on the connection, from
/// [`Connection::next_event`](crate::Connection::next_event).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Server: a valid opening handshake request. Answer it with
    /// [`Connection::accept`](crate::Connection::accept) or
    /// [`Connection::reject`](crate::Connection::reject).
    HandshakeRequest(Request<'a>),
    /// Client: the server accepted; the connection is open.
    HandshakeResponse(Response<'a>),
    /// Client: the server answered with a status other than 101. The
    /// connection is closed; close TCP.
    HandshakeRejected(Response<'a>),
    /// A whole text message, UTF-8 validated.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// Part of a text message longer than `Config::chunk_threshold`. Chunks
    /// end on character boundaries; `last` marks the end of the message.
    TextChunk {
        /// The chunk's text.
        data: &'a str,
        /// Whether this chunk ends the message.
        last: bool,
    },
    /// Part of a binary message longer than `Config::chunk_threshold`.
    BinaryChunk {
        /// The chunk's bytes.
        data: &'a [u8],
        /// Whether this chunk ends the message.
        last: bool,
    },
    /// A Ping. With `Config::auto_pong` (the default) the Pong is already queued
    /// and goes out with the next `transmit`.
    Ping(&'a [u8]),
    /// A Pong (a reply to our Ping, or unsolicited as a heartbeat).
    Pong(&'a [u8]),
    /// The peer's Close (code 1005 if it carried none), or the end of the
    /// stream without one (code 1006). After the peer's Close our echo is
    /// already queued in `transmit` and nothing more may be sent.
    Close(CloseFrame<'a>),
}

impl Event<'_> {
    /// A short name for transcripts and logs (`"Text"`, `"Close"`, …).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::HandshakeRequest(_) => "HandshakeRequest",
            Self::HandshakeResponse(_) => "HandshakeResponse",
            Self::HandshakeRejected(_) => "HandshakeRejected",
            Self::Text(_) => "Text",
            Self::Binary(_) => "Binary",
            Self::TextChunk { .. } => "TextChunk",
            Self::BinaryChunk { .. } => "BinaryChunk",
            Self::Ping(_) => "Ping",
            Self::Pong(_) => "Pong",
            Self::Close(_) => "Close",
        }
    }
}

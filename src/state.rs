//! The connection's states and every transition between them (RFC 6455 §4, §7).
//!
//! All state changes of a [`Connection`](crate::Connection) go through
//! `State::on`, so the table below is the whole state machine;
//! `docs/design.md` draws it as a diagram.
//!
//! | from | input | to |
//! |---|---|---|
//! | `AwaitingRequest` | valid request parsed | `RequestReceived` |
//! | `AwaitingRequest` | invalid request (HTTP error queued) | `Failed` |
//! | `RequestReceived` | `accept` (101 queued) | `Open` |
//! | `RequestReceived` | `reject` (response queued) | `Closed` |
//! | `AwaitingResponse` | valid 101 | `Open` |
//! | `AwaitingResponse` | other status (reported) | `Closed` |
//! | `AwaitingResponse` | invalid 101 | `Failed` |
//! | `Open` | we send Close | `CloseSent` |
//! | `Open` | peer's Close received (echo queued at once) | `Closed` |
//! | `CloseSent` | peer's Close received | `Closed` |
//! | `Open`, `CloseSent` | protocol error (Close queued unless sent) | `Failed` |
//! | any but `Closed`, `Failed` | end of stream | `Closed` (1006 reported) |

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Server: reading the client's HTTP Upgrade request.
    AwaitingRequest,
    /// Server: the request was reported; waiting for `accept` or `reject`.
    RequestReceived,
    /// Client: the request is queued; reading the server's response.
    AwaitingResponse,
    /// Handshake done: messages flow both ways.
    Open,
    /// We sent a Close and wait for the peer's; received data is still reported.
    CloseSent,
    /// Both Close frames were exchanged, a rejection was sent or received, or
    /// the stream ended. Flush `transmit`; see `close_expected` for TCP.
    Closed,
    /// A protocol or handshake error: a Close frame or HTTP error is queued.
    /// Flush `transmit`, then close TCP.
    Failed,
}

/// What happened, as far as the state machine cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// Server parsed a valid request.
    RequestValid,
    /// The caller accepted the request.
    Accepted,
    /// The caller rejected the request, or the server rejected ours.
    Rejected,
    /// Client validated the 101 response.
    ResponseValid,
    /// We queued a Close frame (our own or the echo).
    CloseQueued,
    /// The peer's Close frame arrived.
    CloseReceived,
    /// A protocol or handshake error.
    Error,
    /// The byte stream ended.
    Eof,
}

impl State {
    /// The state after `input`. Inputs that do not apply leave it unchanged.
    #[must_use]
    pub(crate) const fn on(self, input: Input) -> Self {
        use Input as I;
        use State as S;
        match (self, input) {
            (S::Closed | S::Failed, _) => self,
            (_, I::Error) => S::Failed,
            (_, I::Eof) => S::Closed,
            (S::AwaitingRequest, I::RequestValid) => S::RequestReceived,
            (S::RequestReceived, I::Accepted) => S::Open,
            (S::RequestReceived | S::AwaitingResponse, I::Rejected) => S::Closed,
            (S::AwaitingResponse, I::ResponseValid) => S::Open,
            (S::Open, I::CloseQueued) => S::CloseSent,
            (S::Open | S::CloseSent, I::CloseReceived) => S::Closed,
            _ => self,
        }
    }

    /// Whether messages may be sent: after the handshake, before any Close.
    #[must_use]
    pub const fn can_send(self) -> bool {
        matches!(self, Self::Open)
    }

    /// Whether the opening handshake is still in progress.
    #[must_use]
    pub const fn is_handshaking(self) -> bool {
        matches!(
            self,
            Self::AwaitingRequest | Self::RequestReceived | Self::AwaitingResponse
        )
    }

    /// Whether the connection is over (closed or failed).
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_handshake_both_ways() {
        let s = State::Open.on(Input::CloseQueued);
        assert_eq!(s, State::CloseSent);
        assert_eq!(s.on(Input::CloseReceived), State::Closed);
        let s = State::Open.on(Input::CloseReceived);
        assert_eq!(s, State::Closed);
        assert_eq!(s.on(Input::CloseQueued), State::Closed);
    }

    #[test]
    fn terminal_states_absorb_everything() {
        for input in [
            Input::Accepted,
            Input::CloseReceived,
            Input::Error,
            Input::Eof,
        ] {
            assert_eq!(State::Closed.on(input), State::Closed);
            assert_eq!(State::Failed.on(input), State::Failed);
        }
    }

    #[test]
    fn inputs_that_do_not_apply_change_nothing() {
        assert_eq!(State::Open.on(Input::Accepted), State::Open);
        assert_eq!(
            State::AwaitingRequest.on(Input::CloseQueued),
            State::AwaitingRequest
        );
    }
}

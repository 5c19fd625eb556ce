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
    /// A deadline passed: the handshake's, or the keep-alive Pong's.
    TimedOut,
}

/// The connection's life: its [`State`] and the close bookkeeping that
/// decides what may still be sent and when TCP should close, kept together
/// so every change goes through [`Life::on`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Life {
    /// Where the connection is.
    pub(crate) state: State,
    /// A Close frame of ours (our own, an echo or an error's) is queued:
    /// no frame may follow it (§5.5.1).
    pub(crate) close_sent: bool,
    /// The caller reported the end of the byte stream.
    pub(crate) eof: bool,
    /// A client saw the server refuse the handshake.
    pub(crate) rejected: bool,
    /// Bytes arrived since the timers last looked (keep-alive: the peer
    /// is alive).
    pub(crate) heard: bool,
    /// A Pong arrived since the timers last looked.
    pub(crate) ponged: bool,
}

impl Life {
    /// A connection starting in `state`.
    pub(crate) const fn new(state: State) -> Self {
        Self {
            state,
            close_sent: false,
            eof: false,
            rejected: false,
            heard: false,
            ponged: false,
        }
    }

    /// The life after `input`.
    #[must_use]
    pub(crate) fn on(self, input: Input) -> Self {
        Self {
            state: self.state.on(input),
            close_sent: self.close_sent || matches!(input, Input::CloseQueued),
            eof: self.eof,
            rejected: self.rejected
                || (matches!(input, Input::Rejected) && self.state == State::AwaitingResponse),
            heard: self.heard,
            ponged: self.ponged,
        }
    }

    /// The caller reported the end of the stream (decoding may still have
    /// bytes to report before the `Eof` input).
    #[must_use]
    pub(crate) const fn ended(mut self) -> Self {
        self.eof = true;
        self
    }

    /// Whether messages may be queued now.
    pub(crate) const fn can_send(self) -> bool {
        self.state.can_send() && !self.close_sent
    }

    /// Whether the caller should close TCP once `transmit` is drained: after
    /// a failure; in `Closed` on a server (it closes first, §7.1.1), after
    /// the end of the stream, or after a client saw a rejection.
    pub(crate) const fn close_expected(self, server: bool) -> bool {
        match self.state {
            State::Failed => true,
            State::Closed => server || self.eof || self.rejected,
            _ => false,
        }
    }
}

impl State {
    /// The state after `input`, or `None` for an input that cannot happen
    /// in this state (a bug in the engine, never the peer's doing: bad
    /// input from the network is an `Error` input, valid everywhere before
    /// the end). Staying put is listed explicitly where it is legitimate.
    #[must_use]
    pub(crate) const fn next(self, input: Input) -> Option<Self> {
        use Input as I;
        use State as S;
        Some(match (self, input) {
            // The end absorbs what may still come: the Close we queue as an
            // echo or for an error, a repeated end of stream.
            (S::Closed, I::CloseQueued | I::Eof) => S::Closed,
            (S::Failed, I::CloseQueued | I::Eof | I::Error) => S::Failed,
            (S::Closed | S::Failed, _) => return None,
            (S::AwaitingRequest, I::RequestValid) => S::RequestReceived,
            (
                S::AwaitingRequest | S::RequestReceived | S::AwaitingResponse | S::Open,
                I::TimedOut,
            ) => S::Failed,
            (S::AwaitingRequest | S::AwaitingResponse | S::Open | S::CloseSent, I::Error) => {
                S::Failed
            }
            (_, I::Eof) => S::Closed,
            (S::RequestReceived, I::Accepted) => S::Open,
            (S::RequestReceived | S::AwaitingResponse, I::Rejected) => S::Closed,
            (S::AwaitingResponse, I::ResponseValid) => S::Open,
            (S::Open, I::CloseQueued) => S::CloseSent,
            (S::Open | S::CloseSent, I::CloseReceived) => S::Closed,
            _ => return None,
        })
    }

    /// The state after `input`. An impossible input fails a debug
    /// assertion (tests and fuzzing run with them) and leaves the state as
    /// it is in release builds.
    #[must_use]
    pub(crate) fn on(self, input: Input) -> Self {
        match self.next(input) {
            Some(next) => next,
            None => {
                debug_assert!(false, "impossible input {input:?} in state {self:?}");
                self
            }
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

    const STATES: [State; 7] = [
        State::AwaitingRequest,
        State::RequestReceived,
        State::AwaitingResponse,
        State::Open,
        State::CloseSent,
        State::Closed,
        State::Failed,
    ];
    const INPUTS: [Input; 9] = [
        Input::RequestValid,
        Input::Accepted,
        Input::Rejected,
        Input::ResponseValid,
        Input::CloseQueued,
        Input::CloseReceived,
        Input::Error,
        Input::Eof,
        Input::TimedOut,
    ];

    /// The whole machine, state by input, written out: `-` is an input
    /// that cannot happen there. Columns follow `INPUTS`.
    #[test]
    fn the_full_state_by_input_table() {
        use State as S;
        const X: Option<State> = None;
        let table: [[Option<State>; 9]; 7] = [
            // RequestValid, Accepted, Rejected, ResponseValid, CloseQueued, CloseReceived, Error, Eof, TimedOut
            [
                Some(S::RequestReceived),
                X,
                X,
                X,
                X,
                X,
                Some(S::Failed),
                Some(S::Closed),
                Some(S::Failed),
            ],
            [
                X,
                Some(S::Open),
                Some(S::Closed),
                X,
                X,
                X,
                X,
                Some(S::Closed),
                Some(S::Failed),
            ],
            [
                X,
                X,
                Some(S::Closed),
                Some(S::Open),
                X,
                X,
                Some(S::Failed),
                Some(S::Closed),
                Some(S::Failed),
            ],
            [
                X,
                X,
                X,
                X,
                Some(S::CloseSent),
                Some(S::Closed),
                Some(S::Failed),
                Some(S::Closed),
                Some(S::Failed),
            ],
            [
                X,
                X,
                X,
                X,
                X,
                Some(S::Closed),
                Some(S::Failed),
                Some(S::Closed),
                X,
            ],
            [X, X, X, X, Some(S::Closed), X, X, Some(S::Closed), X],
            [
                X,
                X,
                X,
                X,
                Some(S::Failed),
                X,
                Some(S::Failed),
                Some(S::Failed),
                X,
            ],
        ];
        for (state, row) in STATES.iter().zip(table) {
            for (input, expected) in INPUTS.iter().zip(row) {
                assert_eq!(state.next(*input), expected, "{state:?} on {input:?}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "impossible input")]
    #[cfg(debug_assertions)]
    fn an_impossible_input_fails_loudly_in_debug_builds() {
        let _ = State::Open.on(Input::Accepted);
    }

    #[test]
    fn close_bookkeeping_follows_the_inputs() {
        let life = Life::new(State::Open).on(Input::CloseQueued);
        assert!(life.close_sent && !life.can_send());
        assert_eq!(life.state, State::CloseSent);
        let closed = life.on(Input::CloseReceived);
        assert!(closed.close_expected(true), "a server closes first");
        assert!(
            !closed.close_expected(false),
            "a client waits for the server"
        );
        assert!(closed.ended().close_expected(false));
        let refused = Life::new(State::AwaitingResponse).on(Input::Rejected);
        assert!(refused.rejected && refused.close_expected(false));
        assert!(
            Life::new(State::Open)
                .on(Input::Error)
                .close_expected(false)
        );
    }
}

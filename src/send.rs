//! The send methods, written once for both [`Connection`](crate::Connection)
//! and [`Outbound`](crate::Outbound): each type provides `send_link()` (the
//! state and the send side, owed replies queued first) and expands
//! [`send_methods!`] in its `impl`.

/// Expands to `send_text`, `send_binary`, `send_fragment`, `send_ping`,
/// `send_pong` and `close` over `self.send_link()`.
macro_rules! send_methods {
    () => {
        /// Queues a text message.
        ///
        /// # Errors
        /// [`UsageError::NotOpen`](crate::UsageError::NotOpen) before the
        /// handshake completes, [`UsageError::Closed`](crate::UsageError::Closed)
        /// after a Close was sent or the stream ended,
        /// [`UsageError::FragmentInProgress`](crate::UsageError::FragmentInProgress)
        /// while a fragmented message is unfinished. Nothing is queued on error.
        ///
        /// Call next: drain `transmit`.
        pub fn send_text(&mut self, text: &str) -> Result<(), crate::UsageError> {
            let link = self.send_link();
            link.tx
                .borrow_mut()
                .send_message(link.life, crate::MessageKind::Text, text.as_bytes())
        }

        /// Queues a binary message.
        ///
        /// # Errors
        /// As for [`send_text`](Self::send_text).
        ///
        /// Call next: drain `transmit`.
        pub fn send_binary(&mut self, data: &[u8]) -> Result<(), crate::UsageError> {
            let link = self.send_link();
            link.tx
                .borrow_mut()
                .send_message(link.life, crate::MessageKind::Binary, data)
        }

        /// Queues a [`PreparedMessage`](crate::PreparedMessage): its frame
        /// as encoded once (compressed once, where permessage-deflate was
        /// agreed without server context takeover and with a window that
        /// fits), or, on a connection it does not fit, its payload sent as
        /// [`send_text`](Self::send_text) or `send_binary` would.
        ///
        /// # Errors
        /// As for [`send_text`](Self::send_text).
        ///
        /// Call next: drain `transmit`.
        pub fn send_prepared(
            &mut self,
            message: &crate::PreparedMessage,
        ) -> Result<(), crate::UsageError> {
            let link = self.send_link();
            link.tx.borrow_mut().send_prepared(link.life, message)
        }

        /// Queues one fragment of a message of `kind`; `last` ends the message.
        ///
        /// The first fragment carries the kind's opcode, later ones are
        /// continuations (§5.4). A text message's fragments may split
        /// characters; the whole message must be UTF-8.
        ///
        /// # Errors
        /// [`UsageError::FragmentKindMismatch`](crate::UsageError::FragmentKindMismatch)
        /// if `kind` differs from the message being sent, plus the state
        /// errors of [`send_text`](Self::send_text).
        ///
        /// Call next: drain `transmit`.
        pub fn send_fragment(
            &mut self,
            kind: crate::MessageKind,
            data: &[u8],
            last: bool,
        ) -> Result<(), crate::UsageError> {
            let link = self.send_link();
            link.tx
                .borrow_mut()
                .send_fragment(link.life, kind, data, last)
        }

        /// Sends the next message (whole or fragmented) uncompressed, even
        /// if permessage-deflate was agreed and it is above the threshold:
        /// for data that is already compressed (images, archives) or that
        /// must not share a compression context with secrets (RFC 7692 §8.2
        /// on CRIME-style attacks). Later messages are compressed again.
        #[cfg(feature = "deflate")]
        pub fn send_next_uncompressed(&mut self) {
            let link = self.send_link();
            link.tx.borrow_mut().deflate.skip_next();
        }

        /// Queues a Ping (at most 125 bytes of payload).
        ///
        /// # Errors
        /// [`UsageError::ControlPayloadTooLong`](crate::UsageError::ControlPayloadTooLong),
        /// plus the state errors of [`send_text`](Self::send_text).
        ///
        /// Call next: drain `transmit`.
        pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), crate::UsageError> {
            let link = self.send_link();
            link.tx
                .borrow_mut()
                .send_control(link.life, crate::frame::Opcode::Ping, payload)
        }

        /// Queues an unsolicited Pong (at most 125 bytes), e.g. as a heartbeat.
        ///
        /// # Errors
        /// As for [`send_ping`](Self::send_ping).
        ///
        /// Call next: drain `transmit`.
        pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), crate::UsageError> {
            let link = self.send_link();
            link.tx
                .borrow_mut()
                .send_control(link.life, crate::frame::Opcode::Pong, payload)
        }

        /// Starts the closing handshake.
        ///
        /// # Errors
        /// [`UsageError::InvalidCloseCode`](crate::UsageError::InvalidCloseCode)
        /// for a code that may not be sent,
        /// [`UsageError::CloseReasonTooLong`](crate::UsageError::CloseReasonTooLong)
        /// above 123 bytes, and the state errors of [`send_text`](Self::send_text).
        ///
        /// Call next: drain `transmit`; keep reading until the peer's Close
        /// arrives (`state()` becomes `Closed`) or your timeout fires.
        pub fn close(
            &mut self,
            code: crate::CloseCode,
            reason: &str,
        ) -> Result<(), crate::UsageError> {
            let link = self.send_link();
            link.tx.borrow_mut().close(link.life, code, reason)
        }
    };
}

pub(crate) use send_methods;

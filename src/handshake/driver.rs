//! The HTTP/1.1 opening handshake driven over the receive buffer (RFC 6455
//! §4): one way into an open connection. A server finds the end of the
//! request head (each byte scanned once), parses it once, reports it, and
//! finishes it when the caller answers, keeping bytes pipelined after it; a
//! client does the same for the 101 (or a rejection and its body). Once the
//! connection is open, `src/inbound/` decodes frames from what is left.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::error::{Error, HandshakeError};
use crate::handshake::{AcceptKey, HeadScanner, ParsedHead, Request, client, server};
use crate::inbound::{Link, Ready, Release, RxCore};
use crate::state::{Input, State};

/// Handshake progress, boxed so an open connection does not carry it.
#[derive(Debug)]
pub(crate) enum Handshake {
    /// Server: reading the request head.
    ServerAwaiting(HeadScanner),
    /// Server: request reported; waiting for accept or reject.
    ServerPending { parsed: ParsedHead },
    /// Client: reading the response head (and a rejection's body).
    ClientAwaiting {
        scanner: HeadScanner,
        accept: AcceptKey,
        offered: Vec<u8>,
        rejected: Option<ParsedHead>,
    },
    /// Client: the response was reported; kept until the next call.
    Reported(ParsedHead),
}

/// Work done parsing a handshake: bytes scanned for the end of the head, and
/// full parses (httparse runs once, on a complete head).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandshakeWork {
    /// Bytes examined while looking for the blank line that ends the head.
    pub bytes_scanned: usize,
    /// Calls to the HTTP parser.
    pub parses: usize,
}

/// [`HandshakeWork`] as the connection keeps it (32-bit counters: a head
/// is at most `Config::max_handshake_bytes`, and the parser runs once).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WorkCount {
    scanned: u32,
    parses: u32,
}

impl WorkCount {
    fn scanned(&mut self, bytes: usize) {
        self.scanned = self
            .scanned
            .saturating_add(u32::try_from(bytes).unwrap_or(u32::MAX));
    }

    fn parsed(&mut self) {
        self.parses = self.parses.saturating_add(1);
    }
}

impl RxCore {
    /// Client: remember what the response must match.
    pub(crate) fn expect_response(&mut self, accept: AcceptKey, offered: Vec<u8>) {
        self.handshake = Some(Box::new(Handshake::ClientAwaiting {
            scanner: HeadScanner::default(),
            accept,
            offered,
            rejected: None,
        }));
    }

    /// The pending handshake request (server, between the event and accept/reject).
    pub(crate) fn request(&self) -> Option<Request<'_>> {
        match self.handshake.as_deref() {
            Some(Handshake::ServerPending { parsed, .. }) => Some(Request::new(
                &self.buf.data[self.buf.start..self.buf.start + parsed.len],
                parsed,
            )),
            _ => None,
        }
    }

    /// Server: a request answered through the outbound half (while its event
    /// was borrowed) is finished here, at the next call: its bytes are
    /// consumed, and what was pipelined after it is kept after an accept and
    /// dropped after a reject.
    pub(crate) fn settle_answered(
        &mut self,
        state: State,
        #[cfg_attr(not(feature = "deflate"), allow(unused_variables))] tx: &core::cell::RefCell<
            crate::outbound::TxCore,
        >,
    ) {
        let answered = matches!(
            self.handshake.as_deref(),
            Some(Handshake::ServerPending { .. })
        ) && state != State::RequestReceived;
        if answered {
            let accepted = matches!(state, State::Open | State::CloseSent);
            self.finish_request(!accepted);
            #[cfg(feature = "deflate")]
            if accepted {
                self.start_inflate(tx.borrow().deflate.params());
            }
        }
    }

    /// Server: the request was answered; its bytes are consumed and anything
    /// pipelined after it stays for the frame decoder.
    pub(crate) fn finish_request(&mut self, discard_rest: bool) {
        if let Some(Handshake::ServerPending { parsed, .. }) = self.handshake.as_deref() {
            self.release = Release::Head(head_len(parsed.len));
            self.release_pending();
        }
        if discard_rest {
            self.pos = self.buf.end;
            self.buf.start = self.buf.end;
        }
    }

    pub(crate) fn server_handshake(&mut self, link: Link<'_>) -> Result<Option<Ready>, Error> {
        let max = self.config.get_max_handshake_bytes();
        let head = &self.buf.data[self.buf.start..self.buf.end];
        let Some(Handshake::ServerAwaiting(scanner)) = self.handshake.as_deref_mut() else {
            return Ok(None);
        };
        let before = scanner.scanned();
        let end = scanner.find_end(head);
        self.work.scanned(scanner.scanned() - before);
        let result = match end {
            None if head.len() > max => Err(HandshakeError::HeadersTooLarge),
            None => return Ok(self.need_more(link)),
            Some(len) if len > max => Err(HandshakeError::HeadersTooLarge),
            Some(len) => {
                self.work.parsed();
                server::parse_request(&head[..len], self.config.get_max_headers())
            }
        };
        match result {
            Ok(parsed) => {
                self.handshake = Some(Box::new(Handshake::ServerPending { parsed }));
                link.set(Input::RequestValid);
                Ok(Some(Ready::Request))
            }
            Err(e) => {
                link.tx
                    .borrow_mut()
                    .buf
                    .append(|out| server::write_error(out, e));
                Err(self.fail(e.into(), link))
            }
        }
    }

    pub(crate) fn client_handshake(&mut self, link: Link<'_>) -> Result<Option<Ready>, Error> {
        let max = self.config.get_max_handshake_bytes();
        let max_headers = self.config.get_max_headers();
        let received = &self.buf.data[self.buf.start..self.buf.end];
        let Some(Handshake::ClientAwaiting {
            scanner,
            accept,
            offered,
            rejected,
        }) = self.handshake.as_deref_mut()
        else {
            return Ok(None);
        };
        if let Some(parsed) = rejected {
            // A rejection: wait for its body as far as Content-Length says.
            let want = parsed.body_len.unwrap_or(usize::MAX).min(max);
            let have = received.len() - parsed.len;
            if have < want && !link.life.get().eof {
                return Ok(None);
            }
            let head = parsed.len;
            let end = head + have.min(want);
            let parsed = core::mem::take(parsed);
            self.handshake = Some(Box::new(Handshake::Reported(parsed)));
            self.release = Release::Head(head_len(received.len()));
            link.set(Input::Rejected);
            return Ok(Some(Ready::Rejected { head, end }));
        }
        let before = scanner.scanned();
        let end = scanner.find_end(received);
        self.work.scanned(scanner.scanned() - before);
        let len = match end {
            Some(len) if len <= max => len,
            None if received.len() <= max => return Ok(self.need_more(link)),
            _ => return Err(self.fail(HandshakeError::ResponseTooLarge.into(), link)),
        };
        self.work.parsed();
        let parsed = match client::parse_response(&received[..len], max_headers) {
            Ok(parsed) => parsed,
            Err(e) => return Err(self.fail(e.into(), link)),
        };
        if parsed.status() != 101 {
            *rejected = Some(parsed);
            return self.client_handshake(link);
        }
        // `()` without the `deflate` feature.
        #[allow(clippy::let_unit_value)]
        let agreed =
            match client::check_101(&received[..len], &parsed, accept, offered, &self.config) {
                Ok(agreed) => agreed,
                Err(e) => return Err(self.fail(e.into(), link)),
            };
        let protocol = super::Response::new(&received[..len], &[], &parsed).protocol();
        link.tx.borrow_mut().agree_protocol(protocol);
        #[cfg(feature = "deflate")]
        {
            self.start_inflate(agreed);
            link.tx.borrow_mut().deflate.agree(agreed, false);
        }
        #[cfg(not(feature = "deflate"))]
        let () = agreed;
        self.handshake = Some(Box::new(Handshake::Reported(parsed)));
        self.release = Release::Head(head_len(len));
        link.set(Input::ResponseValid);
        Ok(Some(Ready::Response(len)))
    }

    /// Work done on the handshake so far.
    pub(crate) fn handshake_work(&self) -> HandshakeWork {
        HandshakeWork {
            bytes_scanned: self.work.scanned as usize,
            parses: self.work.parses as usize,
        }
    }
}

/// A head's length as `Release::Head` keeps it (heads are bounded by
/// `Config::max_handshake_bytes`, a `u32`).
fn head_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

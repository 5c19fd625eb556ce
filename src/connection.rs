//! [`Connection`]: the public verbs, and [`Connection::split`] into halves.
//!
//! A connection is a receive core, a send core and the shared [`State`].
//! Input (`read_buf`/`commit`, `receive`, `receive_eof`) feeds the receive
//! core; `next_event` reads events from it; `send_*`, `close`, `accept` and
//! `reject` write into the send core; `transmit`/`advance` drain it. Replies
//! the peer is owed (Pong, Close echo, the Close for a protocol error) are
//! queued into the transmit buffer as soon as the frame that calls for them is
//! decoded, so they are never lost and keep their order with what the caller
//! sends. `split` lends the two sides separately, so an event borrowed from
//! the receive buffer can be echoed without a copy.

use alloc::boxed::Box;
use core::cell::{Cell, RefCell};

use crate::config::Config;
use crate::error::{Error, UsageError};
use crate::event::Event;
use crate::frame::Opcode;
use crate::halves::{Inbound, Outbound};
use crate::handshake::driver::HandshakeWork;
use crate::handshake::{Accept, Reject};
use crate::handshake::{AcceptKey, ClientRequest, Request, client, server};
use crate::inbound::{Link, PONG_BACKLOG, RxCore};
use crate::outbound::TxCore;
use crate::rng::MaskSource;
use crate::state::{Input, Life, State};

/// Which end of the connection this engine is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Accepts the opening handshake; receives masked frames, sends unmasked.
    Server,
    /// Starts the opening handshake; sends masked frames, receives unmasked.
    Client,
}

/// One WebSocket connection, sans I/O.
///
/// The caller moves bytes between the socket and the connection; see the
/// crate documentation for the drive contract. Methods group as:
/// - input: [`read_buf`](Self::read_buf) + [`commit`](Self::commit),
///   [`receive`](Self::receive), [`receive_eof`](Self::receive_eof);
/// - events: [`next_event`](Self::next_event);
/// - commands: [`accept`](Self::accept), [`reject`](Self::reject),
///   [`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
///   [`send_fragment`](Self::send_fragment), [`send_ping`](Self::send_ping),
///   [`send_pong`](Self::send_pong), [`close`](Self::close);
/// - output: [`transmit`](Self::transmit) + [`advance`](Self::advance);
/// - queries: [`state`](Self::state), [`role`](Self::role),
///   [`close_expected`](Self::close_expected).
#[derive(Debug)]
pub struct Connection {
    pub(crate) rx: RxCore,
    /// Shared with the inbound half while split, which queues replies
    /// (Pong, Close echo) the moment they are owed.
    pub(crate) tx: RefCell<TxCore>,
    pub(crate) life: Cell<Life>,
    pub(crate) role: Role,
    /// Deadlines, once the caller drives them (`src/timers.rs`).
    pub(crate) timers: Option<Box<crate::timers::Timers>>,
}

impl Connection {
    /// A server connection waiting for the client's handshake request.
    ///
    /// Call next: feed the request bytes, then drain `next_event` until
    /// `Ok(None)`, then drain `transmit`.
    #[must_use]
    pub fn server(config: Config) -> Self {
        Self {
            rx: RxCore::new(Role::Server, config),
            tx: RefCell::new(TxCore::new(Role::Server, None, &config)),
            life: Cell::new(Life::new(State::AwaitingRequest)),
            role: Role::Server,
            timers: None,
        }
    }

    /// A client connection with its handshake request queued, masking with
    /// a [`ChaChaRandom`](crate::ChaChaRandom) seeded from the operating
    /// system.
    ///
    /// # Errors
    /// [`UsageError::InvalidHeader`] if the request has a field HTTP forbids;
    /// [`Error::Random`] if the OS random source fails (no connection is
    /// made: its masks would be predictable, RFC 6455 §10.3).
    ///
    /// Call next: drain `transmit` (the request), then feed the response and
    /// drain `next_event` until `Ok(None)`.
    #[cfg(feature = "std")]
    pub fn client(request: ClientRequest<'_>, config: Config) -> Result<Self, Error> {
        Self::client_from_entropy(request, config, |seed| getrandom::fill(seed))
    }

    /// [`client`](Self::client) with the seed drawn from `entropy`.
    #[cfg(any(feature = "std", test))]
    fn client_from_entropy<E>(
        request: ClientRequest<'_>,
        config: Config,
        entropy: impl FnOnce(&mut [u8; 32]) -> Result<(), E>,
    ) -> Result<Self, Error> {
        let rng = crate::rng::ChaChaRandom::from_entropy(entropy)?;
        Self::client_with_rng(request, config, Box::new(rng))
    }

    /// A client connection taking masks and its key from `rng`.
    ///
    /// `rng` MUST be unpredictable to the network for production use
    /// (RFC 6455 §10.3); [`SeededRandom`](crate::SeededRandom) is for tests.
    ///
    /// # Errors
    /// [`UsageError::InvalidHeader`] if the request has a field HTTP forbids.
    ///
    /// Call next: drain `transmit` (the request), then feed the response and
    /// drain `next_event` until `Ok(None)`.
    pub fn client_with_rng(
        request: ClientRequest<'_>,
        config: Config,
        rng: Box<dyn MaskSource>,
    ) -> Result<Self, Error> {
        request.check()?;
        let mut tx = TxCore::new(Role::Client, Some(rng), &config);
        let mut nonce = [0u8; 16];
        tx.random(&mut nonce);
        let key = client::encode_key(nonce);
        #[allow(unused_mut)]
        let mut offer = alloc::vec::Vec::new();
        #[cfg(feature = "deflate")]
        if let Some(deflate) = config.get_deflate() {
            deflate.write_offer(&mut offer);
        }
        tx.buf.append(|out| request.write(out, &key, &offer));
        let mut rx = RxCore::new(Role::Client, config);
        rx.expect_response(AcceptKey::from_key(&key), request.offered_protocols());
        Ok(Self {
            rx,
            tx: RefCell::new(tx),
            life: Cell::new(Life::new(State::AwaitingResponse)),
            role: Role::Client,
            timers: None,
        })
    }

    // ----- input ---------------------------------------------------------------

    /// Spare room in the receive buffer to read socket bytes into; then call
    /// [`commit`](Self::commit) with the count read.
    ///
    /// Offers at least `Config::read_buf_size` bytes. Reading here and
    /// committing avoids the copy that [`receive`](Self::receive) makes.
    #[must_use]
    #[inline]
    pub fn read_buf(&mut self) -> &mut [u8] {
        self.rx.read_buf()
    }

    /// Marks `n` bytes written into [`read_buf`](Self::read_buf) as received
    /// (clamped to its length).
    ///
    /// Call next: drain `next_event` until `Ok(None)`, then drain `transmit`.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        self.heard(n);
        self.rx.commit(n);
    }

    /// Copies `bytes` from the socket in.
    ///
    /// When the bytes are already in memory (a TLS library's plaintext, a
    /// runtime's read buffer), this is the faster door: payload of a masked
    /// frame whose header was decoded is unmasked while it is copied (and
    /// text checked for ASCII in the same pass; into room the buffer never
    /// wrote before, a new allocation's, it is copied and then unmasked
    /// while in cache, instead of zeroed first), where
    /// [`read_buf`](Self::read_buf) + [`commit`](Self::commit) unmasks in a
    /// second pass after the caller's copy.
    ///
    /// Until a protocol or handshake error, every byte is kept (after one,
    /// input is dropped: the connection is finished); the buffer grows if the caller feeds more than it
    /// drains (the memory bound in `docs/limits.md` assumes events are drained
    /// between reads).
    ///
    /// Call next: drain `next_event` until `Ok(None)`, then drain `transmit`.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.heard(bytes.len());
        self.rx.receive(bytes);
    }

    /// Notes for the keep-alive timer that the peer sent something.
    #[inline]
    fn heard(&mut self, n: usize) {
        if n > 0 && self.timers.is_some() {
            let mut life = self.life.get();
            life.heard = true;
            self.life.set(life);
        }
    }

    /// Records that the peer closed its side of the stream (a read returned 0).
    ///
    /// Events already buffered are still delivered; then, if the connection
    /// was not closed with a Close frame, `next_event` reports
    /// `Event::Close` with code 1006.
    ///
    /// Call next: drain `next_event` until `Ok(None)`, then drain `transmit`.
    pub fn receive_eof(&mut self) {
        self.life.set(self.life.get().ended());
    }

    // ----- events --------------------------------------------------------------

    /// The next event, or `Ok(None)` when more bytes are needed.
    ///
    /// The event borrows the receive buffer until the next call on this
    /// connection; to send while holding it, use [`split`](Self::split).
    ///
    /// # Errors
    /// A [`ProtocolError`](crate::ProtocolError) or
    /// [`HandshakeError`](crate::HandshakeError) when the peer broke the
    /// protocol; the Close frame or HTTP error is queued and the same error is
    /// returned from then on. Flush `transmit` and close TCP.
    ///
    /// Call next: repeat until `Ok(None)`, then drain `transmit`.
    #[inline]
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        self.flush_owed();
        self.rx.next_event(Link {
            life: &self.life,
            tx: &self.tx,
        })
    }

    /// Decodes the next event without handing it out: `Ok(true)` when
    /// [`next_event`](Self::next_event) will return it (`Ok(Some(_))`: every
    /// check, UTF-8 included, was made here), `Ok(false)` when more bytes
    /// are needed.
    ///
    /// For receive loops that return the borrowed event to their caller:
    /// Rust's borrow checker refuses a loop that returns `next_event`'s
    /// borrow on one path and reads more bytes on the other, so such a loop
    /// asks `event_ready` (which borrows nothing), reads until it says
    /// `true`, then returns `next_event`'s event. The staged event survives
    /// any call in between (`commit`, `receive`, `shrink_buffers`, sends),
    /// and nothing is lost or delivered twice.
    ///
    /// ```
    /// # use hybi::{Config, Connection, Event, Error};
    /// fn recv<'c>(conn: &'c mut Connection, wire: &mut &[u8]) -> Result<Option<Event<'c>>, Error> {
    ///     while !conn.event_ready()? {
    ///         let Some((&byte, rest)) = wire.split_first() else { return Ok(None) };
    ///         conn.receive(&[byte]); // a socket read, in a driver
    ///         *wire = rest;
    ///     }
    ///     conn.next_event()
    /// }
    /// # let mut conn = hybi::testing::open_server(Config::new());
    /// # let mut wire: &[u8] = &[0x81, 0x82, 0, 0, 0, 0, b'h', b'i'];
    /// # assert!(matches!(recv(&mut conn, &mut wire).unwrap(), Some(Event::Text("hi"))));
    /// ```
    ///
    /// # Errors
    /// As for [`next_event`](Self::next_event).
    pub fn event_ready(&mut self) -> Result<bool, Error> {
        self.flush_owed();
        self.rx.event_ready(Link {
            life: &self.life,
            tx: &self.tx,
        })
    }

    /// The configuration this connection runs with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.rx.config
    }

    /// Server: the handshake request waiting for `accept` or `reject`, if any.
    #[must_use]
    pub fn request(&self) -> Option<Request<'_>> {
        if self.life.get().state == State::RequestReceived {
            self.rx.request()
        } else {
            None
        }
    }

    // ----- handshake commands ----------------------------------------------------

    /// Server: accepts the pending handshake request with a 101 response.
    ///
    /// # Errors
    /// [`UsageError::NoPendingRequest`] outside the `RequestReceived` state;
    /// [`UsageError::ProtocolNotOffered`] if the chosen subprotocol was not
    /// offered; [`UsageError::InvalidHeader`] for a bad extra header. Nothing
    /// changes on error.
    ///
    /// Call next: drain `next_event` until `Ok(None)` (frames pipelined after
    /// the request), then drain `transmit`.
    pub fn accept(&mut self, accept: Accept<'_>) -> Result<(), Error> {
        if self.life.get().state != State::RequestReceived {
            return Err(UsageError::NoPendingRequest.into());
        }
        let Some(request) = self.rx.request() else {
            return Err(UsageError::NoPendingRequest.into());
        };
        let (head, parsed) = request.parts();
        server::answer_accept(self.tx.get_mut(), head, parsed, &accept)?;
        self.rx.finish_request(false);
        #[cfg(feature = "deflate")]
        self.rx.start_inflate(self.tx.get_mut().deflate.params());
        self.life.set(self.life.get().on(Input::Accepted));
        Ok(())
    }

    /// Server: refuses the pending handshake request with `reject`'s status,
    /// headers and body. The connection is then closed.
    ///
    /// # Errors
    /// [`UsageError::NoPendingRequest`] outside the `RequestReceived` state;
    /// [`UsageError::InvalidStatus`] for a status outside 400–599;
    /// [`UsageError::InvalidHeader`] for a bad header. Nothing changes on error.
    ///
    /// Call next: drain `transmit`, then close TCP.
    pub fn reject(&mut self, reject: Reject<'_>) -> Result<(), Error> {
        if self.life.get().state != State::RequestReceived {
            return Err(UsageError::NoPendingRequest.into());
        }
        server::answer_reject(&mut self.tx.get_mut().buf, &reject)?;
        self.rx.finish_request(true);
        self.life.set(self.life.get().on(Input::Rejected));
        Ok(())
    }

    // ----- message commands -------------------------------------------------------

    crate::send::send_methods!();

    // ----- output ----------------------------------------------------------------

    /// Bytes to write to the socket; then call [`advance`](Self::advance)
    /// with the count written. Owed replies are queued first.
    ///
    /// A Pong owed while 16 KiB or more of output waits is held back (only
    /// the latest Ping's) and queued by the first call once less waits, so
    /// write until
    /// [`wants_transmit`](Self::wants_transmit) is false, not once:
    /// [`write_to`](Self::write_to) does.
    #[must_use]
    pub fn transmit(&mut self) -> &[u8] {
        self.flush_owed();
        self.tx.get_mut().buf.pending()
    }

    /// Writes all of [`transmit`](Self::transmit) to `sink` and flushes it:
    /// the one-call flush for a blocking `Write`. Writes may be partial;
    /// what `sink` accepted is advanced past as it goes, so on an error
    /// (`WouldBlock` on a non-blocking socket, say) the rest stays queued
    /// for the next call and nothing is lost or written twice.
    ///
    /// # Errors
    /// The sink's error; `WriteZero` if it accepts nothing.
    #[cfg(feature = "std")]
    pub fn write_to<W: std::io::Write + ?Sized>(&mut self, sink: &mut W) -> std::io::Result<()> {
        loop {
            let out = self.transmit();
            if out.is_empty() {
                return sink.flush();
            }
            match sink.write(out) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => self.advance(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as written.
    pub fn advance(&mut self, n: usize) {
        let tx = self.tx.get_mut();
        let high_water = tx.high_water();
        tx.buf.advance(n, high_water);
    }

    /// Whether [`transmit`](Self::transmit) has bytes to write.
    #[must_use]
    pub fn wants_transmit(&self) -> bool {
        !self.tx.borrow().buf.is_empty() || self.rx.owed.pong_owed()
    }

    /// The send side's shared parts, with owed replies queued first.
    pub(crate) fn send_link(&mut self) -> Link<'_> {
        self.flush_owed();
        Link {
            life: &self.life,
            tx: &self.tx,
        }
    }

    /// Queues a Pong held back under output backlog once output has drained
    /// (only the latest Ping's, RFC 6455 §5.5.3).
    #[inline]
    pub(crate) fn flush_owed(&mut self) {
        if self.rx.owed.pong_owed() {
            self.queue_owed_pong();
        }
    }

    /// [`flush_owed`](Self::flush_owed) once a Pong is owed.
    fn queue_owed_pong(&mut self) {
        let tx = self.tx.get_mut();
        let owed = self.rx.owed.pong_len();
        if let Some(len) = owed.filter(|_| tx.buf.pending().len() < PONG_BACKLOG) {
            self.rx.owed.set_pong_len(None);
            if matches!(self.life.get().state, State::Open | State::CloseSent) {
                tx.frame(true, Opcode::Pong, &[&self.rx.owed.pong[..len]]);
            }
        }
    }

    // ----- queries ------------------------------------------------------------------

    /// The current state.
    #[must_use]
    pub fn state(&self) -> State {
        self.life.get().state
    }

    /// This end's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the caller should close the TCP connection once `transmit` is
    /// drained.
    ///
    /// True after a failure, after a rejected handshake, after the end of the
    /// stream, and on a server once both Close frames were exchanged (§7.1.1:
    /// the server closes first). A client in `Closed` waits for the server to
    /// close TCP (then `receive_eof` makes this true) and SHOULD close it
    /// itself after a timeout of its choosing.
    #[must_use]
    pub fn close_expected(&self) -> bool {
        self.life.get().close_expected(self.role == Role::Server)
    }

    /// The permessage-deflate parameters agreed in the handshake, if any
    /// (RFC 7692). `None` before the handshake, when declined, or when
    /// `Config::deflate` is not set.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn deflate(&self) -> Option<crate::DeflateParams> {
        self.tx.borrow().deflate.params()
    }

    /// Heap bytes held by the connection's buffers right now (with
    /// permessage-deflate, its message buffers too; zlib's own state is
    /// measured in `docs/limits.md`).
    #[must_use]
    pub fn buffered_bytes(&self) -> usize {
        let tx = self.tx.borrow();
        #[cfg(feature = "deflate")]
        let compressor = tx.deflate.heap_bytes();
        #[cfg(not(feature = "deflate"))]
        let compressor = 0;
        self.rx.heap_bytes() + tx.buf.capacity() + compressor
    }

    /// Releases buffers that hold nothing, for connections about to idle.
    pub fn shrink_buffers(&mut self) {
        self.rx.shrink();
        let tx = self.tx.get_mut();
        if tx.buf.is_empty() {
            tx.buf.advance(0, 0);
        }
        #[cfg(feature = "deflate")]
        tx.deflate.shrink();
    }

    /// Work done parsing the handshake: bytes scanned and parser calls. Each
    /// received byte is scanned at most once and the parser runs once on a
    /// complete head, however the bytes were split.
    #[must_use]
    pub fn handshake_work(&self) -> HandshakeWork {
        self.rx.handshake_work()
    }

    /// Lends the receive and send sides separately, so an event borrowed from
    /// the receive buffer can be answered without copying it:
    ///
    /// ```
    /// # fn demo(conn: &mut hybi::Connection) -> Result<(), hybi::Error> {
    /// let (mut inbound, mut outbound) = conn.split();
    /// while let Some(event) = inbound.next_event()? {
    ///     if let hybi::Event::Text(text) = event {
    ///         outbound.send_text(text)?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// Replies owed to the peer (Pong, Close echo) are queued by the inbound
    /// half as it decodes, in order with what the outbound half sends.
    pub fn split(&mut self) -> (Inbound<'_>, Outbound<'_>) {
        self.flush_owed();
        let link = Link {
            life: &self.life,
            tx: &self.tx,
        };
        (Inbound::new(&mut self.rx, link), Outbound::new(link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RandomUnavailable;

    /// A failing OS source makes no client (no fallback to guessable masks),
    /// and a working one makes a client whose request is queued.
    #[test]
    fn a_failing_entropy_source_fails_client_creation() {
        let request = ClientRequest::new("example.com", "/chat");
        let failed =
            Connection::client_from_entropy(request, Config::new(), |_seed| Err("no entropy"));
        assert_eq!(failed.err(), Some(Error::Random(RandomUnavailable)));

        let mut conn = Connection::client_from_entropy(request, Config::new(), |seed| {
            seed.copy_from_slice(&[7; 32]);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(conn.transmit().starts_with(b"GET /chat HTTP/1.1\r\n"));
    }
}

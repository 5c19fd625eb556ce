//! A tokio driver: connect or accept over any `AsyncRead + AsyncWrite +
//! Unpin`, then `recv().await` borrowed messages and send, with the
//! engine's timers on tokio's clock.
//!
//! One task owns the [`WebSocket`] and calls [`recv`](WebSocket::recv):
//! that call also writes what is queued, runs the timers, and takes what
//! other tasks queued through a [`Sender`] (a cloneable handle with a
//! bounded budget of queued bytes). The trade-off: nothing a `Sender`
//! queues moves while no task polls the `WebSocket` (its owner's receive
//! loop, or [`flush`](WebSocket::flush)), and in exchange the receive path
//! takes no lock and copies nothing.
//!
//! Every future here is cancel-safe: a read is handed to the engine in the
//! same poll that completed it, a write is accounted in the poll that made
//! it, so dropping `recv()` in a `tokio::select!` loses and repeats nothing.
//!
//! Memory: the owner's sends return once written to the stream (a peer
//! that stops reading makes them wait), and [`Sender`]s share a budget of
//! `max_queued` bytes, taken into the engine only while less than that
//! waits for the socket: a peer that stops reading costs at most about
//! three times `max_queued` of heap (the queued bytes, the transmit
//! buffer's doubling capacity, and the senders' budget). A connection idle
//! for a second gives back its receive buffer and reads its next bytes
//! through the stack first.
//!
//! An idle connection is mostly its task's future, so keep that small:
//! bind the `WebSocket` with `let` and lend it to the receive loop
//! (`async fn echo(ws: &mut WebSocket<S>)`). A future keeps an `async fn`'s
//! arguments apart from its locals, so a loop that takes the `WebSocket`
//! by value holds it twice, and `if let Ok(ws) = accept(..).await { .. }`
//! keeps the accept future alive beside it: `examples/tokio_echo_server.rs`'s
//! task future is 880 bytes written as below, 1,432 with the loop taking
//! the `WebSocket` by value (release build, x86_64; `tests/task_size.rs`).
//!
//! ```no_run
//! use hybi::driver::{Answer, DriverError};
//! use hybi::tokio::WebSocket;
//! use hybi::{Config, Event};
//!
//! async fn serve(socket: tokio::net::TcpStream) -> Result<(), DriverError> {
//!     let mut ws = WebSocket::accept(socket, Config::new(), |_| Answer::accept()).await?;
//!     loop {
//!         let (event, mut out) = ws.recv_with_outbound().await?;
//!         match event {
//!             Event::Text(text) => out.send_text(text)?,
//!             Event::Binary(data) => out.send_binary(data)?,
//!             Event::Close(_) => return ws.flush().await,
//!             _ => {}
//!         }
//!     }
//! }
//! ```

use alloc::sync::Arc;
use core::future::poll_fn;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::io;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::sync::{Semaphore, mpsc};
use ::tokio::time::{Instant, Sleep};

mod sender;
mod socket;
mod timers;
#[cfg(feature = "tokio-rustls")]
mod tls;

use sender::{Command, Senders};
pub use sender::{SendError, Sender};
use timers::{Armed, IDLE_SHRINK};
#[cfg(feature = "tokio-rustls")]
pub use tls::{TlsClientStream, TlsServerStream};

use super::{
    Answer, ClientOptions, DriverError, Joiner, OwnedMessage, awaiting_tcp_close, client_for,
    client_handshake, finished, server_handshake, settle, tcp_close_wait,
};
use crate::{
    ClientRequest, CloseCode, Config, Connection, Event, MessageKind, Outbound, Request, State,
};

/// Bytes a connection may have queued for the socket before a send waits.
pub const DEFAULT_MAX_QUEUED: usize = 256 << 10;

/// Reads in a row that brought bytes, after which the timers are looked at
/// although the task did not wait.
const TIMER_LOOK_READS: u8 = 16;

/// An open WebSocket over a tokio stream.
#[derive(Debug)]
pub struct WebSocket<S> {
    conn: Connection,
    stream: S,
    /// The engine's clock starts here (tokio's clock, so a paused test
    /// clock drives the engine's timers).
    origin: Instant,
    /// Wakes for the engine's next timer or the idle shrink.
    sleep: Pin<alloc::boxed::Box<Sleep>>,
    /// The deadline `sleep` is set to.
    sleep_at: Option<Instant>,
    /// What `sleep` was last polled for: while the engine's deadline is
    /// that one, the driver's own deadlines stand (clearing this is how they
    /// say they moved) and the waker is the task's, it is not computed or
    /// polled again (tokio swaps the stored waker on every poll: twice a
    /// message otherwise).
    armed: Option<Armed>,
    /// When to look whether the connection went idle (`None` once its
    /// buffers went back); set again only when that time comes, so a busy
    /// connection does not move its timer on every read.
    idle_at: Option<Instant>,
    /// Bytes came in since the idle look.
    heard: bool,
    /// The buffers were given back: read through the stack first.
    shrunk: bool,
    /// Reads that brought bytes since the timers were last looked at.
    reads_unwaited: u8,
    /// A closed client waits until then for the server to close TCP.
    tcp_close_by: Option<Instant>,
    eof: bool,
    max_queued: usize,
    /// Senders' messages and the byte budget they draw from, made when the
    /// first [`Sender`] is (a connection without one holds none of it).
    senders: Option<alloc::boxed::Box<Senders>>,
    joiner: Joiner,
}

impl WebSocket<::tokio::net::TcpStream> {
    /// Connects to a `ws://` URL and completes the handshake.
    ///
    /// # Errors
    /// As [`blocking::WebSocket::connect`](crate::driver::blocking::WebSocket::connect).
    pub async fn connect(url: &str, config: Config) -> Result<Self, DriverError> {
        Self::connect_with(url, &ClientOptions::default(), config).await
    }

    /// [`connect`](Self::connect) with subprotocols, headers and an Origin.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        url: &str,
        options: &ClientOptions<'_>,
        config: Config,
    ) -> Result<Self, DriverError> {
        let url = crate::driver::parse_url(url, false)?;
        let stream = ::tokio::net::TcpStream::connect((url.host(), url.port())).await?;
        stream.set_nodelay(true)?;
        let conn = client_for(&url, options, config)?;
        Self::handshake_as_client(stream, conn).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    fn new(stream: S, conn: Connection) -> Self {
        let now = Instant::now();
        let mut ws = Self {
            conn,
            stream,
            origin: now,
            sleep: alloc::boxed::Box::pin(::tokio::time::sleep_until(now)),
            sleep_at: None,
            armed: None,
            idle_at: Some(now + IDLE_SHRINK),
            heard: false,
            shrunk: false,
            reads_unwaited: 0,
            tcp_close_by: None,
            eof: false,
            max_queued: DEFAULT_MAX_QUEUED,
            senders: None,
            joiner: Joiner::default(),
        };
        ws.tick();
        ws
    }

    /// Runs an already open connection over `stream`: one whose
    /// handshake another HTTP stack answered (hyper's upgrade, an HTTP/2 or
    /// HTTP/3 extended CONNECT), made with
    /// [`Connection::server_opened`] or [`Connection::client_opened`].
    /// Bytes the peer sent after the upgrade that the other stack already
    /// read go to `conn.receive` first.
    #[must_use]
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        Self::new(stream, conn)
    }

    /// Runs the client's handshake over `stream` with `request`.
    ///
    /// # Errors
    /// As [`connect`](WebSocket::connect), less the URL and TCP errors.
    pub async fn client(
        stream: S,
        request: ClientRequest<'_>,
        config: Config,
    ) -> Result<Self, DriverError> {
        Self::handshake_as_client(stream, Connection::client(request, config)?).await
    }

    async fn handshake_as_client(stream: S, conn: Connection) -> Result<Self, DriverError> {
        let mut ws = Self::new(stream, conn);
        loop {
            ws.flush().await?;
            if let Some(done) = settle(client_handshake(&mut ws.conn)) {
                return done.map(|()| ws);
            }
            ws.read_once().await?;
        }
    }

    /// Serves the handshake on `stream`; `decide` sees the request and
    /// answers, as for
    /// [`blocking::WebSocket::accept`](crate::driver::blocking::WebSocket::accept).
    /// `Config::handshake_timeout` (10 s by default) bounds the whole
    /// handshake, so a slow client cannot hold the task.
    ///
    /// # Errors
    /// [`DriverError::Ws`] for a bad request (its HTTP error was written) or
    /// the handshake timeout, [`DriverError::Rejected`] after a refusal was
    /// written, [`DriverError::Io`].
    pub async fn accept(
        stream: S,
        config: Config,
        decide: impl FnOnce(&Request<'_>) -> Answer,
    ) -> Result<Self, DriverError> {
        let mut ws = Self::new(stream, Connection::server(config));
        let mut decide = Some(decide);
        loop {
            let outcome = server_handshake(&mut ws.conn, &mut decide);
            ws.flush().await?;
            if let Some(done) = settle(outcome) {
                return done.map(|()| ws);
            }
            ws.read_once().await?;
        }
    }

    /// Bytes that may wait for the socket before the owner stops reading
    /// (and the budget of [`Sender`]s); [`DEFAULT_MAX_QUEUED`] unless set.
    /// Set it before the first [`sender`](Self::sender).
    #[must_use]
    pub fn max_queued(mut self, bytes: usize) -> Self {
        self.max_queued = Semaphore::MAX_PERMITS.min(bytes.max(1));
        self.senders = None;
        self
    }

    /// A handle to queue messages from other tasks (the queue is made with
    /// the first one).
    pub fn sender(&mut self) -> Sender {
        let max = self.max_queued;
        let senders = self.senders.get_or_insert_with(|| {
            let (tx, commands) = mpsc::unbounded_channel();
            alloc::boxed::Box::new(Senders {
                commands,
                tx,
                budget: Arc::new(Semaphore::new(max)),
                close_asked: Arc::default(),
            })
        });
        Sender {
            tx: senders.tx.clone(),
            budget: Arc::clone(&senders.budget),
            max,
            close_asked: Arc::clone(&senders.close_asked),
        }
    }

    /// The next event, borrowed from the engine's buffer until the next
    /// call; see [`blocking::WebSocket::recv`](crate::driver::blocking::WebSocket::recv).
    /// Cancel-safe. While waiting it writes what is queued (the owner's and
    /// the [`Sender`]s' messages), runs keep-alive and the other timers,
    /// and after a second idle gives the buffers back.
    ///
    /// # Errors
    /// [`DriverError::Closed`] once closed, [`DriverError::Ws`] for the
    /// peer's protocol errors (our Close was sent) or a missing Pong,
    /// [`DriverError::Io`].
    pub async fn recv(&mut self) -> Result<Event<'_>, DriverError> {
        poll_fn(|cx| self.poll_event(cx)).await?;
        match self.conn.next_event() {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Err(DriverError::Closed),
            Err(e) => Err(e.into()),
        }
    }

    /// [`recv`](Self::recv), with the engine's [`Outbound`] half to answer
    /// while the event is borrowed: an echo without a copy. What it queues
    /// is written by the next `recv` (or [`flush`](Self::flush)), which
    /// reads nothing more while over `max_queued` bytes wait. The half is
    /// not `Send`: let it (and the event) go before the next `.await`, as a
    /// `match` whose arms only queue does.
    ///
    /// ```no_run
    /// # async fn echo(mut ws: hybi::tokio::WebSocket<tokio::net::TcpStream>) -> Result<(), hybi::driver::DriverError> {
    /// use hybi::Event;
    /// loop {
    ///     let (event, mut out) = ws.recv_with_outbound().await?;
    ///     match event {
    ///         Event::Text(text) => out.send_text(text)?,
    ///         Event::Binary(data) => out.send_binary(data)?,
    ///         Event::Close(_) => break,
    ///         _ => {}
    ///     }
    /// }
    /// ws.flush().await
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub async fn recv_with_outbound(&mut self) -> Result<(Event<'_>, Outbound<'_>), DriverError> {
        poll_fn(|cx| self.poll_event(cx)).await?;
        let (inbound, outbound) = self.conn.split();
        match inbound.into_event() {
            Ok(Some(event)) => Ok((event, outbound)),
            Ok(None) => Err(DriverError::Closed),
            Err(e) => Err(e.into()),
        }
    }

    /// The next message, owned (chunks joined). Cancel-safe: the chunks of
    /// a message already taken are kept for the next call.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub async fn recv_message(&mut self) -> Result<OwnedMessage, DriverError> {
        loop {
            poll_fn(|cx| self.poll_event(cx)).await?;
            let event = match self.conn.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => return Err(DriverError::Closed),
                Err(e) => return Err(e.into()),
            };
            if let Some(message) = self.joiner.push(&event) {
                return Ok(message);
            }
        }
    }

    /// Sends a text message: returns once it is written to the stream (into
    /// the socket's buffer: a slow peer makes this wait, and nothing is left
    /// queued behind the caller's back).
    ///
    /// # Errors
    /// The engine's [`UsageError`](crate::UsageError) as
    /// [`DriverError::Ws`], [`DriverError::Io`].
    pub async fn send_text(&mut self, text: &str) -> Result<(), DriverError> {
        self.conn.send_text(text)?;
        self.drain_to(0).await
    }

    /// Sends a binary message; as [`send_text`](Self::send_text).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), DriverError> {
        self.conn.send_binary(data)?;
        self.drain_to(0).await
    }

    /// Sends one fragment of a message of `kind`; `last` ends it.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), DriverError> {
        self.conn.send_fragment(kind, data, last)?;
        self.drain_to(0).await
    }

    /// Sends a Ping (at most 125 bytes).
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub async fn send_ping(&mut self, data: &[u8]) -> Result<(), DriverError> {
        self.conn.send_ping(data)?;
        self.drain_to(0).await
    }

    /// Writes everything queued (the owner's and the senders').
    ///
    /// # Errors
    /// [`DriverError::Io`].
    pub async fn flush(&mut self) -> Result<(), DriverError> {
        self.take_commands(None);
        self.drain_to(0).await
    }

    /// Closes: sends our Close, then receives (discarding messages) until
    /// the peer's Close or `Config::close_timeout`.
    ///
    /// # Errors
    /// A code or reason the engine refuses, [`DriverError::Io`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), DriverError> {
        if self.conn.state() == State::Open {
            self.conn.close(code, reason)?;
        }
        loop {
            match self.recv().await {
                Ok(Event::Close(_)) | Err(DriverError::Closed) => break,
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        // Everything owed goes out, then the stream's own end (a TCP FIN,
        // TLS's close_notify); a peer that already left, or that takes
        // nothing within the close timeout, is no error.
        let wait = tcp_close_wait(self.conn.config());
        let _ = ::tokio::time::timeout(wait, async {
            if self.drain_to(0).await.is_ok() {
                let _ =
                    poll_fn(|cx| AsyncWrite::poll_shutdown(Pin::new(&mut self.stream), cx)).await;
            }
        })
        .await;
        Ok(())
    }

    stream_accessors!();

    /// Heap bytes the engine holds for this connection (buffers), for
    /// memory checks.
    #[must_use]
    pub fn buffered_bytes(&self) -> usize {
        self.conn.buffered_bytes()
    }

    /// Moves the senders' messages into the engine while the socket keeps
    /// up (nothing is taken while `max_queued` bytes wait).
    /// With a context, an empty queue wakes the task when a sender queues.
    #[inline]
    fn take_commands(&mut self, cx: Option<&mut Context<'_>>) {
        if self.senders.is_some() {
            self.take_sent(cx);
        }
    }

    /// [`take_commands`](Self::take_commands) once a [`Sender`] exists.
    fn take_sent(&mut self, mut cx: Option<&mut Context<'_>>) {
        let Some(senders) = self.senders.as_deref_mut() else {
            return;
        };
        while self.conn.transmit().len() < self.max_queued {
            let (command, permit) = match cx.as_deref_mut() {
                Some(cx) => match senders.commands.poll_recv(cx) {
                    Poll::Ready(Some(next)) => next,
                    _ => return,
                },
                None => match senders.commands.try_recv() {
                    Ok(next) => next,
                    Err(_) => return,
                },
            };
            // A message the engine refuses (closing, a Ping over 125 bytes)
            // is dropped: the owner's own calls report those errors.
            let _ = match command {
                Command::Text(t) => self.conn.send_text(&t),
                Command::Prepared(m) => self.conn.send_prepared(&m),
                Command::Binary(b) => self.conn.send_binary(&b),
                Command::Ping(p) => self.conn.send_ping(&p),
                Command::Close(code, reason) if self.conn.state() == State::Open => {
                    self.conn.close(code, &reason)
                }
                Command::Close(..) => Ok(()),
            };
            drop(permit);
        }
    }

    /// Writes what the socket takes now, then waits while more than
    /// `limit` bytes are still queued.
    async fn drain_to(&mut self, limit: usize) -> Result<(), DriverError> {
        poll_fn(|cx| {
            while self.conn.wants_transmit() {
                if self.poll_write_some(cx)?.is_pending() {
                    break;
                }
            }
            if self.conn.transmit().len() > limit {
                // The pending write wakes us.
                return Poll::Pending;
            }
            if limit == 0 {
                AsyncWrite::poll_flush(Pin::new(&mut self.stream), cx).map_err(DriverError::from)
            } else {
                Poll::Ready(Ok(()))
            }
        })
        .await
    }

    /// Drives the connection until an event is staged.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), DriverError>> {
        loop {
            self.take_commands(Some(cx));
            if let Err(e) = self.poll_write_ready(cx) {
                return Poll::Ready(Err(e));
            }
            match self.conn.event_ready() {
                Ok(true) => {
                    // Replies owed for what was decoded go out now if they can.
                    return Poll::Ready(self.poll_write_ready(cx));
                }
                Ok(false) => {}
                Err(e) => {
                    let _ = self.poll_write_ready(cx);
                    return Poll::Ready(Err(e.into()));
                }
            }
            if finished(&self.conn) || self.eof {
                // Whatever is still queued (our Close) goes out first.
                match self.poll_write_ready(cx) {
                    Ok(()) if self.conn.wants_transmit() => {
                        // A peer that stops reading gets at most the close
                        // timeout to take our last frames.
                        let now = Instant::now();
                        let by = self.tcp_close_deadline(now);
                        if now >= by {
                            return Poll::Ready(Err(DriverError::Closed));
                        }
                        if self.poll_timers(cx) {
                            continue;
                        }
                        return Poll::Pending;
                    }
                    Ok(()) if !self.eof && awaiting_tcp_close(&self.conn) => {
                        // A client waits (at most the close timeout) for the
                        // server to close TCP first.
                        let now = Instant::now();
                        let by = self.tcp_close_deadline(now);
                        if now < by {
                            if self.poll_timers(cx) {
                                continue;
                            }
                            match ready!(self.poll_read(cx)) {
                                Ok(()) => continue,
                                Err(_) => return Poll::Ready(Err(DriverError::Closed)),
                            }
                        }
                        return Poll::Ready(Err(DriverError::Closed));
                    }
                    _ => return Poll::Ready(Err(DriverError::Closed)),
                }
            }
            if self.conn.transmit().len() > self.max_queued {
                // Read nothing more until the peer takes our replies (the
                // pending write wakes us).
                if self.poll_timers(cx) {
                    continue;
                }
                return Poll::Pending;
            }
            // The timers are looked at when the task is about to wait, and
            // after every `TIMER_LOOK_READS` reads that did not: bytes just
            // read are decoded first, and a peer that keeps the stream
            // readable cannot hold a deadline off (tokio's sockets make a
            // busy task wait now and then through its cooperative budget;
            // a stream outside that budget may never wait).
            match self.poll_read(cx) {
                Poll::Ready(Ok(())) => {
                    self.reads_unwaited += 1;
                    if self.reads_unwaited >= TIMER_LOOK_READS {
                        self.reads_unwaited = 0;
                        self.poll_timers(cx);
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.reads_unwaited = 0;
                    if self.poll_timers(cx) {
                        continue;
                    }
                    // The read, the sleep and the senders' queue wake us.
                    return Poll::Pending;
                }
            }
        }
    }

    /// During the handshake: one read, or one timer.
    async fn read_once(&mut self) -> Result<(), DriverError> {
        if self.eof {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        poll_fn(|cx| {
            if self.poll_timers(cx) {
                return Poll::Ready(Ok(()));
            }
            self.poll_read(cx)
        })
        .await
    }
}

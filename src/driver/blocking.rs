//! A blocking driver over `std::io`: connect or accept, then receive and
//! send whole messages with plain method calls, the engine doing the rest.
//!
//! [`WebSocket`] owns a [`Connection`] and a stream and runs the drive
//! contract for you: it writes what the engine queued before every read,
//! answers nothing itself (Pongs and Close echoes are the engine's), and
//! sets the stream's read timeout from `poll_timeout` so that keep-alive
//! Pings, the Pong deadline, and the handshake and close timeouts fire on
//! time. Received messages borrow the engine's buffer ([`WebSocket::recv`]);
//! [`WebSocket::recv_message`] gives an owned copy.
//!
//! ```no_run
//! use hybi::blocking::WebSocket;
//! use hybi::{Config, Event};
//!
//! let mut ws = WebSocket::connect("ws://127.0.0.1:9001/", Config::new())?;
//! ws.send_text("hello")?;
//! if let Event::Text(reply) = ws.recv()? {
//!     println!("{reply}");
//! }
//! ws.close(hybi::CloseCode::NORMAL, "bye")?;
//! # Ok::<(), hybi::driver::DriverError>(())
//! ```

use core::time::Duration;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use super::{
    Answer, ClientOptions, DriverError, Joiner, OwnedMessage, awaiting_tcp_close, client_for,
    client_handshake, finished, server_handshake, settle, tcp_close_wait,
};
use crate::{
    ClientRequest, CloseCode, Config, Connection, Event, MessageKind, Outbound, Request, Time,
};

/// A stream the driver can give a read timeout, so that it wakes for the
/// engine's timers while no byte arrives.
///
/// Implemented for `TcpStream` (and `&mut` of any `Stream`); for another
/// `Read + Write`, implement it (the default sets nothing, and timers then
/// run only when reads return) or wrap the stream in [`Untimed`].
pub trait Stream: Read + Write {
    /// Makes reads give up after `timeout` (`None`: block until data).
    ///
    /// # Errors
    /// As the stream's own setter.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Ok(())
    }
}

impl Stream for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl Stream for std::os::unix::net::UnixStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

/// A TLS stream (`wss://`): the timeout is the socket's.
#[cfg(feature = "rustls")]
impl<C, T, D> Stream for rustls::StreamOwned<C, T>
where
    C: core::ops::DerefMut + core::ops::Deref<Target = rustls::ConnectionCommon<D>>,
    T: Stream,
    D: rustls::SideData,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }
}

impl<T: Stream + ?Sized> Stream for &mut T {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }
}

/// Any `Read + Write` as a [`Stream`] without read timeouts (timers run
/// when reads return).
#[derive(Debug)]
pub struct Untimed<S>(pub S);

impl<S: Read> Read for Untimed<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: Write> Write for Untimed<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<S: Read + Write> Stream for Untimed<S> {}

/// An open WebSocket over a blocking stream.
#[derive(Debug)]
pub struct WebSocket<S> {
    conn: Connection,
    stream: S,
    /// The engine's clock starts here.
    origin: Instant,
    /// The read timeout currently set on the stream.
    armed: Option<Duration>,
    /// The stream ended (a read returned 0).
    eof: bool,
    joiner: Joiner,
}

impl WebSocket<TcpStream> {
    /// Connects to a `ws://` URL and completes the handshake.
    ///
    /// # Errors
    /// [`DriverError::Url`] for a bad URL, [`DriverError::Unsupported`] for
    /// `wss://` (use [`WebSocket::client`] over a TLS stream),
    /// [`DriverError::Io`] if the TCP connection fails,
    /// [`DriverError::Rejected`] if the server refuses, [`DriverError::Ws`]
    /// for a bad answer or `handshake_timeout`.
    pub fn connect(url: &str, config: Config) -> Result<Self, DriverError> {
        Self::connect_with(url, &ClientOptions::default(), config)
    }

    /// [`connect`](Self::connect) with subprotocols, headers and an Origin.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub fn connect_with(
        url: &str,
        options: &ClientOptions<'_>,
        config: Config,
    ) -> Result<Self, DriverError> {
        let url = super::parse_url(url, false)?;
        let stream = TcpStream::connect((url.host(), url.port()))?;
        stream.set_nodelay(true)?;
        let conn = client_for(&url, options, config)?;
        Self::handshake_as_client(stream, conn)
    }
}

/// A `wss://` client stream.
#[cfg(feature = "rustls")]
pub type TlsClientStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A `wss://` server stream.
#[cfg(feature = "rustls")]
pub type TlsServerStream = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

#[cfg(feature = "rustls")]
impl WebSocket<TlsClientStream> {
    /// Connects to a `wss://` (or `ws://`, refused: use
    /// [`connect`](WebSocket::connect)) URL over TLS, verifying the server's
    /// certificate for the URL's host against `tls`'s root store (build it
    /// from the webpki roots, the platform's, or your own CA).
    ///
    /// # Errors
    /// As [`connect`](WebSocket::connect); a certificate the roots do not
    /// vouch for is [`DriverError::Io`] (rustls' error inside), and a host
    /// that is not a valid server name is [`DriverError::Unsupported`].
    pub fn connect_tls(
        url: &str,
        options: &ClientOptions<'_>,
        config: Config,
        tls: alloc::sync::Arc<rustls::ClientConfig>,
    ) -> Result<Self, DriverError> {
        let url = super::parse_url(url, true)?;
        let name = super::tls_server_name(&url)?;
        let session = rustls::ClientConnection::new(tls, name).map_err(io::Error::other)?;
        let socket = TcpStream::connect((url.host(), url.port()))?;
        socket.set_nodelay(true)?;
        let conn = client_for(&url, options, config)?;
        WebSocket::handshake_as_client(rustls::StreamOwned::new(session, socket), conn)
    }
}

#[cfg(feature = "rustls")]
impl WebSocket<TlsServerStream> {
    /// [`accept`](WebSocket::accept) over TLS on an accepted socket.
    ///
    /// # Errors
    /// As [`accept`](WebSocket::accept); a failed TLS handshake is
    /// [`DriverError::Io`].
    pub fn accept_tls(
        socket: TcpStream,
        tls: alloc::sync::Arc<rustls::ServerConfig>,
        config: Config,
        decide: impl FnOnce(&Request<'_>) -> Answer,
    ) -> Result<Self, DriverError> {
        let session = rustls::ServerConnection::new(tls).map_err(io::Error::other)?;
        WebSocket::accept(rustls::StreamOwned::new(session, socket), config, decide)
    }
}

impl<S: Stream> WebSocket<S> {
    fn new(stream: S, conn: Connection) -> Self {
        let mut ws = Self {
            conn,
            stream,
            origin: Instant::now(),
            armed: None,
            eof: false,
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

    /// Runs the client's handshake over `stream` (TCP, TLS, anything): the
    /// request is `request`.
    ///
    /// # Errors
    /// As [`connect`](WebSocket::connect), less the URL and TCP errors.
    pub fn client(
        stream: S,
        request: ClientRequest<'_>,
        config: Config,
    ) -> Result<Self, DriverError> {
        Self::handshake_as_client(stream, Connection::client(request, config)?)
    }

    fn handshake_as_client(stream: S, conn: Connection) -> Result<Self, DriverError> {
        let mut ws = Self::new(stream, conn);
        loop {
            ws.flush()?;
            if let Some(done) = settle(client_handshake(&mut ws.conn)) {
                return done.map(|()| ws);
            }
            ws.read_some()?;
        }
    }

    /// Serves the handshake on `stream`: `decide` sees the request (path,
    /// query, Origin, cookies, offered subprotocols and extensions) and
    /// answers. A bad request gets its HTTP error from the engine and is
    /// [`DriverError::Ws`]; a refusal is [`DriverError::Rejected`] after it
    /// was written. The handshake must complete within
    /// `Config::handshake_timeout` (10 s by default).
    ///
    /// ```no_run
    /// use hybi::blocking::WebSocket;
    /// use hybi::driver::Answer;
    /// use hybi::Config;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
    /// let (socket, _) = listener.accept()?;
    /// let ws = WebSocket::accept(socket, Config::new(), |request| {
    ///     if request.origin() != Some("https://example.com") {
    ///         return Answer::reject(403);
    ///     }
    ///     match request.protocols().find(|p| *p == "chat.v1") {
    ///         Some(p) => Answer::accept().protocol(p),
    ///         None => Answer::accept(),
    ///     }
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// As above, plus [`DriverError::Io`].
    pub fn accept(
        stream: S,
        config: Config,
        decide: impl FnOnce(&Request<'_>) -> Answer,
    ) -> Result<Self, DriverError> {
        let mut ws = Self::new(stream, Connection::server(config));
        let mut decide = Some(decide);
        loop {
            let outcome = server_handshake(&mut ws.conn, &mut decide);
            // The 101, the refusal or the engine's HTTP error go out first.
            ws.flush()?;
            if let Some(done) = settle(outcome) {
                return done.map(|()| ws);
            }
            ws.read_some()?;
        }
    }

    /// The next event, borrowed from the engine's buffer until the next
    /// call: `Text`, `Binary`, `TextChunk`/`BinaryChunk` (messages above
    /// `chunk_threshold`), `Ping` (already answered), `Pong`, and `Close`
    /// (the reply already sent; 1006 if the peer vanished or the close
    /// timeout passed). Blocks until one arrives.
    ///
    /// # Errors
    /// [`DriverError::Closed`] once the connection is closed,
    /// [`DriverError::Ws`] when the peer broke the protocol (our Close was
    /// sent) or a keep-alive Pong did not come, [`DriverError::Io`].
    pub fn recv(&mut self) -> Result<Event<'_>, DriverError> {
        match self.recv_until(None) {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Err(DriverError::Closed),
            Err(e) => Err(e),
        }
    }

    /// [`recv`](Self::recv), giving up after `timeout` with `Ok(None)`
    /// (only on a [`Stream`] with read timeouts).
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Event<'_>>, DriverError> {
        let deadline = Instant::now() + timeout;
        self.recv_until(Some(deadline))
    }

    /// [`recv`](Self::recv), with the engine's [`Outbound`] half to answer
    /// while the event is borrowed: an echo without a copy. What it queues
    /// is written by the next `recv` (or [`flush`](Self::flush)).
    ///
    /// ```no_run
    /// # fn echo(mut ws: hybi::blocking::WebSocket<std::net::TcpStream>) -> Result<(), hybi::driver::DriverError> {
    /// use hybi::Event;
    /// loop {
    ///     let (event, mut out) = ws.recv_with_outbound()?;
    ///     match event {
    ///         Event::Text(text) => out.send_text(text)?,
    ///         Event::Binary(data) => out.send_binary(data)?,
    ///         Event::Close(_) => return ws.flush(),
    ///         _ => {}
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_with_outbound(&mut self) -> Result<(Event<'_>, Outbound<'_>), DriverError> {
        self.wait_event(None)?;
        let (inbound, outbound) = self.conn.split();
        match inbound.into_event() {
            Ok(Some(event)) => Ok((event, outbound)),
            Ok(None) => Err(DriverError::Closed),
            Err(e) => Err(e.into()),
        }
    }

    /// The next message, owned (the chunks of a large message joined, up
    /// to `max_message_size`).
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_message(&mut self) -> Result<OwnedMessage, DriverError> {
        let mut joiner = core::mem::take(&mut self.joiner);
        let result = loop {
            match self.recv() {
                Ok(event) => {
                    if let Some(message) = joiner.push(&event) {
                        break Ok(message);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        self.joiner = joiner;
        result
    }

    fn recv_until(&mut self, deadline: Option<Instant>) -> Result<Option<Event<'_>>, DriverError> {
        if !self.wait_event(deadline)? {
            return Ok(None);
        }
        match self.conn.next_event() {
            Ok(event) => Ok(event),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads until an event is staged (`true`) or `deadline` passes.
    fn wait_event(&mut self, deadline: Option<Instant>) -> Result<bool, DriverError> {
        loop {
            match self.conn.event_ready() {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => {
                    // The Close frame for the error goes out; the error wins.
                    let _ = self.flush();
                    return Err(e.into());
                }
            }
            self.flush()?;
            if finished(&self.conn) || self.eof {
                self.wait_for_tcp_close();
                return Err(DriverError::Closed);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            self.read_some_until(deadline)?;
        }
        // Replies owed for what was decoded (a Pong, the Close echo).
        self.flush()?;
        Ok(true)
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// [`DriverError::Ws`] with the engine's [`UsageError`](crate::UsageError)
    /// (closing, a fragmented message in progress), [`DriverError::Io`].
    pub fn send_text(&mut self, text: &str) -> Result<(), DriverError> {
        self.conn.send_text(text)?;
        self.flush()
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), DriverError> {
        self.conn.send_binary(data)?;
        self.flush()
    }

    /// Sends one fragment of a message of `kind`; `last` ends it.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text), plus a kind that differs from the
    /// message in progress.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), DriverError> {
        self.conn.send_fragment(kind, data, last)?;
        self.flush()
    }

    /// Sends a Ping (at most 125 bytes); its Pong arrives as an event.
    ///
    /// # Errors
    /// As [`send_text`](Self::send_text), plus a payload over 125 bytes.
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), DriverError> {
        self.conn.send_ping(data)?;
        self.flush()
    }

    /// Closes: sends our Close, then reads (discarding messages) until the
    /// peer's Close arrives or `Config::close_timeout` passes. Returns at
    /// once if the connection is already closed.
    ///
    /// # Errors
    /// A code or reason the engine refuses, [`DriverError::Io`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), DriverError> {
        if !finished(&self.conn) && !self.conn.close_expected() {
            self.conn.close(code, reason)?;
        }
        loop {
            match self.recv() {
                Ok(Event::Close(_)) | Err(DriverError::Closed) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes everything the engine has queued.
    ///
    /// # Errors
    /// [`DriverError::Io`] (a write of 0 bytes is `WriteZero`).
    pub fn flush(&mut self) -> Result<(), DriverError> {
        if self.conn.wants_transmit() {
            self.conn.write_to(&mut self.stream)?;
        }
        Ok(())
    }

    stream_accessors!();

    /// A client after the closing handshake: reads until the server closes
    /// TCP, for at most the close timeout (what arrives is discarded).
    fn wait_for_tcp_close(&mut self) {
        if self.eof || !awaiting_tcp_close(&self.conn) {
            return;
        }
        let until = Instant::now() + tcp_close_wait(self.conn.config());
        while !self.eof && Instant::now() < until {
            if self.read_some_until(Some(until)).is_err() {
                return;
            }
        }
    }

    fn tick(&mut self) {
        self.conn.handle_timeout(Time::now(self.origin));
    }

    fn read_some(&mut self) -> Result<(), DriverError> {
        if self.eof {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        self.read_some_until(None)
    }

    /// One read (or one timeout), then the timers.
    fn read_some_until(&mut self, deadline: Option<Instant>) -> Result<(), DriverError> {
        let now = Instant::now();
        let timer = self.conn.poll_timeout().map(|t| t.to_instant(self.origin));
        let wake = match (timer, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // A zero timeout is an error for sockets: wait at least 1 ms.
        let timeout = wake.map(|w| {
            w.saturating_duration_since(now)
                .max(Duration::from_millis(1))
        });
        if timeout != self.armed || timeout.is_some() {
            self.stream.set_read_timeout(timeout)?;
            self.armed = timeout;
        }
        loop {
            match self.stream.read(self.conn.read_buf()) {
                Ok(0) => {
                    self.eof = true;
                    self.conn.receive_eof();
                }
                Ok(n) => self.conn.commit(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e.into()),
            }
            break;
        }
        self.tick();
        Ok(())
    }
}

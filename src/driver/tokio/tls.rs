//! `wss://` for the tokio driver (the `tokio-rustls` feature): a TLS client
//! that verifies against the caller's root store, and a TLS server whose
//! handshake counts against `Config::handshake_timeout`.

use alloc::sync::Arc;
use std::io;

use super::WebSocket;
use crate::driver::{Answer, ClientOptions, DriverError, client_for};
use crate::{Config, Request};

/// A `wss://` client stream.
#[cfg(feature = "tokio-rustls")]
pub type TlsClientStream = tokio_rustls::client::TlsStream<::tokio::net::TcpStream>;

/// A `wss://` server stream.
#[cfg(feature = "tokio-rustls")]
pub type TlsServerStream = tokio_rustls::server::TlsStream<::tokio::net::TcpStream>;

#[cfg(feature = "tokio-rustls")]
impl WebSocket<TlsClientStream> {
    /// Connects to a `wss://` URL over TLS, verifying the server's
    /// certificate for the URL's host against `tls`'s root store; see
    /// [`blocking::WebSocket::connect_tls`](crate::driver::blocking::WebSocket::connect_tls).
    ///
    /// # Errors
    /// As [`connect`](WebSocket::connect); a TLS failure (an untrusted
    /// certificate) is [`DriverError::Io`].
    pub async fn connect_tls(
        url: &str,
        options: &ClientOptions<'_>,
        config: Config,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, DriverError> {
        let url = crate::driver::parse_url(url, true)?;
        let name = crate::driver::tls_server_name(&url)?;
        let socket = ::tokio::net::TcpStream::connect((url.host(), url.port())).await?;
        socket.set_nodelay(true)?;
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, socket)
            .await?;
        let conn = client_for(&url, options, config)?;
        WebSocket::handshake_as_client(stream, conn).await
    }
}

#[cfg(feature = "tokio-rustls")]
impl WebSocket<TlsServerStream> {
    /// [`accept`](WebSocket::accept) over TLS on an accepted socket; the TLS
    /// handshake counts against `Config::handshake_timeout` too.
    ///
    /// # Errors
    /// As [`accept`](WebSocket::accept); a failed or timed-out TLS
    /// handshake is [`DriverError::Io`].
    pub async fn accept_tls(
        socket: ::tokio::net::TcpStream,
        tls: Arc<rustls::ServerConfig>,
        config: Config,
        decide: impl FnOnce(&Request<'_>) -> Answer,
    ) -> Result<Self, DriverError> {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let handshake = acceptor.accept(socket);
        let stream = match config.get_handshake_timeout() {
            Some(limit) => ::tokio::time::timeout(limit, handshake)
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??,
            None => handshake.await?,
        };
        WebSocket::accept(stream, config, decide).await
    }
}

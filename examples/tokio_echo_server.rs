//! The tokio echo server on hybi's tokio driver: permessage-deflate when
//! built with `deflate` and offered, keep-alive (a Ping after 30 s of
//! silence, 30 s for the Pong), a 10 s handshake deadline, one log line
//! per connection.
//!
//! ```sh
//! cargo run --release --features tokio,deflate --example tokio_echo_server -- 127.0.0.1:9002
//! ```
//!
//! With `--features tokio-rustls`, `--tls CERT.pem KEY.pem` serves `wss://`.

use std::time::Duration;

use hybi::driver::{Answer, DriverError};
use hybi::tokio::WebSocket;
use hybi::{Config, Event, MessageKind};
use tokio::net::{TcpListener, TcpStream};

fn config() -> Config {
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_secs(30)))
        .pong_timeout(Some(Duration::from_secs(30)))
        .handshake_timeout(Some(Duration::from_secs(10)));
    #[cfg(feature = "deflate")]
    let config = config.deflate(hybi::DeflateConfig::new());
    config
}

/// Echoes every message, without a copy, until the peer closes.
///
/// The loop borrows the `WebSocket` instead of taking it: a future keeps
/// an `async fn`'s arguments apart from its locals, so `echo(ws)` by value
/// would hold the 648-byte `WebSocket` twice in every idle task (1,432
/// bytes for this function's future instead of 880).
pub async fn serve(socket: TcpStream) -> Result<u64, DriverError> {
    let mut ws = WebSocket::accept(socket, config(), |_| Answer::accept()).await?;
    echo(&mut ws).await
}

/// The echo loop, over any stream.
pub async fn echo<S>(ws: &mut WebSocket<S>) -> Result<u64, DriverError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut messages = 0;
    loop {
        let closed = {
            let (event, mut out) = ws.recv_with_outbound().await?;
            match event {
                Event::Text(t) => out.send_text(t).map(|()| false)?,
                Event::Binary(b) => out.send_binary(b).map(|()| false)?,
                Event::TextChunk { data, last } => out
                    .send_fragment(MessageKind::Text, data.as_bytes(), last)
                    .map(|()| false)?,
                Event::BinaryChunk { data, last } => out
                    .send_fragment(MessageKind::Binary, data, last)
                    .map(|()| false)?,
                Event::Close(_) => true,
                _ => false, // Ping (answered), Pong
            }
        };
        if closed {
            ws.flush().await?;
            return Ok(messages);
        }
        messages += 1;
    }
}

/// The TLS configuration from `--tls CERT KEY`, if given.
#[cfg(feature = "tokio-rustls")]
fn tls(args: &[String]) -> std::io::Result<Option<std::sync::Arc<rustls::ServerConfig>>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let Some(at) = args.iter().position(|a| a == "--tls") else {
        return Ok(None);
    };
    let (Some(cert), Some(key)) = (args.get(at + 1), args.get(at + 2)) else {
        return Err(std::io::Error::other("--tls needs CERT.pem KEY.pem"));
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(std::io::Error::other)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(std::io::Error::other)?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(std::io::Error::other)?;
    Ok(Some(std::sync::Arc::new(config)))
}

#[allow(dead_code)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    #[cfg(feature = "tokio-rustls")]
    let tls = tls(&args)?;
    #[cfg(not(feature = "tokio-rustls"))]
    if args.iter().any(|a| a == "--tls") {
        return Err(std::io::Error::other(
            "--tls needs the tokio-rustls feature",
        ));
    }
    let listener = TcpListener::bind(&addr).await?;
    println!("tokio_echo_server listening on {}", listener.local_addr()?);
    loop {
        let (socket, peer) = listener.accept().await?;
        socket.set_nodelay(true)?;
        #[cfg(feature = "tokio-rustls")]
        let tls = tls.clone();
        tokio::spawn(async move {
            #[cfg(feature = "tokio-rustls")]
            let served = match tls {
                Some(tls) => {
                    match WebSocket::accept_tls(socket, tls, config(), |_| Answer::accept()).await {
                        Ok(mut ws) => echo(&mut ws).await,
                        Err(e) => Err(e),
                    }
                }
                None => serve(socket).await,
            };
            #[cfg(not(feature = "tokio-rustls"))]
            let served = serve(socket).await;
            match served {
                Ok(n) => println!("{peer}: closed after {n} events"),
                Err(e) => println!("{peer}: {e}"),
            }
        });
    }
}

//! The tokio echo server on hybi's tokio driver: permessage-deflate when
//! built with `deflate` and offered, keep-alive (a Ping after 30 s of
//! silence, 30 s for the Pong), a 10 s handshake deadline, one log line
//! per connection.
//!
//! ```sh
//! cargo run --release --features tokio,deflate --example tokio_echo_server -- 127.0.0.1:9002
//! ```

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
pub async fn serve(socket: TcpStream) -> Result<u64, DriverError> {
    let mut ws = WebSocket::accept(socket, config(), |_| Answer::accept()).await?;
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

#[allow(dead_code)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("tokio_echo_server listening on {}", listener.local_addr()?);
    loop {
        let (socket, peer) = listener.accept().await?;
        socket.set_nodelay(true)?;
        tokio::spawn(async move {
            match serve(socket).await {
                Ok(n) => println!("{peer}: closed after {n} events"),
                Err(e) => println!("{peer}: {e}"),
            }
        });
    }
}

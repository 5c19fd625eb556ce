//! A connected tokio client and server over an in-memory pipe, for the
//! tokio driver's tests.

use hybi::driver::Answer;
use hybi::tokio::WebSocket;
use hybi::{ClientRequest, Config};
use tokio::io::DuplexStream;

/// A client and a server, both with `config`, after their handshake.
pub async fn pair(config: Config) -> (WebSocket<DuplexStream>, WebSocket<DuplexStream>) {
    let (a, b) = tokio::io::duplex(64 << 10);
    let server =
        tokio::spawn(async move { WebSocket::accept(b, config, |_| Answer::accept()).await });
    let client = WebSocket::client(a, ClientRequest::new("localhost", "/"), config)
        .await
        .unwrap();
    (client, server.await.unwrap().unwrap())
}

//! A connected tokio client and server over an in-memory pipe, for the
//! tokio driver's tests, and a one-connection loopback server.

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

/// A loopback listener whose one accepted socket `serve` runs in a task:
/// the port to connect to, and the task.
pub async fn serve_one<F, Fut>(serve: F) -> (u16, tokio::task::JoinHandle<Fut::Output>)
where
    F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        serve(socket).await
    });
    (port, server)
}

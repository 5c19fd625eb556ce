//! The sans-IO engine under tokio: an echo server in one async loop.
//!
//! ```sh
//! cargo run --release --example tokio_echo -- 127.0.0.1:9002
//! ```
//!
//! `serve` is the whole drive contract (docs/design.md shows it): read into
//! the engine, answer every event (the handshake in its own arm, chunks of
//! big messages as fragments), write what is queued on every path, then
//! return the error if there was one.

use hybi::{Accept, Config, Connection, Error, Event, MessageKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// SERVE-BEGIN
/// Echoes every message on one connection until the peer closes.
#[rustfmt::skip]
pub async fn serve(mut socket: TcpStream) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = Connection::server(Config::new());
    loop {
        let n = socket.read(conn.read_buf()).await?;
        if n == 0 { conn.receive_eof() } else { conn.commit(n) }
        let echoed = echo(&mut conn);
        while conn.wants_transmit() { // replies, and an error's 400 or Close
            let out = conn.transmit();
            socket.write_all(out).await?;
            let written = out.len();
            conn.advance(written); // a Pong held back behind a large echo comes next
        }
        echoed?;
        if conn.close_expected() || n == 0 { return Ok(()) }
    }
}

#[rustfmt::skip]
fn echo(conn: &mut Connection) -> Result<(), Error> {
    let (mut inbound, mut outbound) = conn.split();
    while let Some(event) = inbound.next_event()? {
        match event {
            Event::HandshakeRequest(request) => outbound.accept(&request, Accept::new())?,
            Event::Text(text) => outbound.send_text(text)?,
            Event::Binary(data) => outbound.send_binary(data)?,
            Event::TextChunk { data, last } => outbound.send_fragment(MessageKind::Text, data.as_bytes(), last)?,
            Event::BinaryChunk { data, last } => outbound.send_fragment(MessageKind::Binary, data, last)?,
            _ => {} // Ping, Pong, Close: the engine already queued the replies
        }
    }
    Ok(())
}
// SERVE-END

#[allow(dead_code)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("tokio_echo listening on {}", listener.local_addr()?);
    loop {
        let (socket, peer) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = serve(socket).await {
                println!("{peer}: {e}");
            }
        });
    }
}

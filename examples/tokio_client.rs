//! A line-oriented client on hybi's tokio driver: each stdin line is sent
//! as a text message, every message received is printed; at the end of
//! input it closes (1000) and prints what still arrives until the Close.
//!
//! ```sh
//! cargo run --release --features tokio --example tokio_client -- ws://127.0.0.1:9002/
//! ```

use hybi::driver::DriverError;
use hybi::tokio::WebSocket;
use hybi::{CloseCode, Config, Event};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), DriverError> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let mut ws = WebSocket::connect(&url, Config::new()).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut typing = true;
    loop {
        tokio::select! {
            line = lines.next_line(), if typing => match line? {
                Some(line) => ws.send_text(&line).await?,
                None => {
                    // Close, and print what still arrives until the Close.
                    typing = false;
                    ws.connection_mut().close(CloseCode::NORMAL, "")?;
                    ws.flush().await?;
                }
            },
            // Cancel-safe: a message half read when a line arrives is kept.
            event = ws.recv() => match event? {
                Event::Text(text) => println!("{text}"),
                Event::Binary(data) => println!("<{} bytes>", data.len()),
                Event::Close(c) => {
                    eprintln!("closed: {} {}", c.code.0, c.reason);
                    return Ok(());
                }
                _ => {}
            },
        }
    }
}

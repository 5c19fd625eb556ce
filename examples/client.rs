//! A line-oriented WebSocket client on the blocking driver.
//!
//! ```sh
//! cargo run --release --features blocking --example client -- ws://127.0.0.1:9001/
//! ```
//!
//! Sends each line of stdin as a text message and prints every message that
//! comes back. At the end of stdin it starts the closing handshake (1000)
//! and prints what still arrives until the server's Close. One thread owns the connection; a second only reads
//! stdin and hands lines over a channel, so nothing is shared.

use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;

use hybi::blocking::WebSocket;
use hybi::driver::DriverError;
use hybi::{CloseCode, Config, Event};

fn main() -> Result<(), DriverError> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".to_string());
    let mut ws = WebSocket::connect(&url, Config::new())?;
    eprintln!("connected to {url}");

    let (lines, input) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });

    loop {
        // Send what was typed, then wait a little for messages.
        loop {
            match input.try_recv() {
                Ok(line) => ws.send_text(&line)?,
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    if ws.connection().state() == hybi::State::Open {
                        ws.connection_mut().close(CloseCode::NORMAL, "")?;
                        ws.flush()?;
                    }
                    break;
                }
            }
        }
        match ws.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(Event::Text(text))) => println!("{text}"),
            Ok(Some(Event::Binary(data))) => println!("<{} bytes>", data.len()),
            Ok(Some(Event::Close(c))) => {
                eprintln!("closed: {} {}", c.code.0, c.reason);
                return Ok(());
            }
            Ok(_) => {}
            Err(DriverError::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

//! A line-oriented WebSocket client on `std::net`.
//!
//! ```sh
//! cargo run --release --example client -- ws://127.0.0.1:9001/
//! ```
//!
//! Sends each line of stdin as a text message and prints every message that
//! comes back. At the end of stdin it starts the closing handshake, waits for
//! the server's Close and for the server to close TCP, and exits.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hybi::{ClientRequest, CloseCode, Config, Connection, Event, WsUrl};

fn flush(conn: &mut Connection, stream: &mut TcpStream) -> io::Result<()> {
    while conn.wants_transmit() {
        let n = stream.write(conn.transmit())?;
        conn.advance(n);
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".to_string());
    let parsed = WsUrl::parse(&url)?;
    if parsed.secure() {
        return Err("wss:// needs TLS, which this example does not do".into());
    }
    let mut stream = TcpStream::connect((parsed.host(), parsed.port()))?;
    stream.set_nodelay(true)?;
    let target = parsed.target();
    let request = ClientRequest::new(parsed.host_header(), &target);
    let mut conn = Connection::client(request, Config::new())?;
    flush(&mut conn, &mut stream)?;

    // Handshake: read until the response is in.
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            conn.receive_eof();
        } else {
            conn.receive(&buf[..n]);
        }
        match conn.next_event()? {
            Some(Event::HandshakeResponse(_)) => break,
            Some(Event::HandshakeRejected(response)) => {
                let body = String::from_utf8_lossy(response.body()).into_owned();
                return Err(format!("server answered {}: {body}", response.status()).into());
            }
            Some(Event::Close(_)) => return Err("connection closed during handshake".into()),
            _ => {}
        }
    }
    eprintln!("connected to {url}");

    let conn = Arc::new(Mutex::new(conn));
    let reader = {
        let conn = Arc::clone(&conn);
        let conn_for_read = Arc::clone(&conn);
        let mut read_half = stream.try_clone()?;
        let mut write_half = stream.try_clone()?;
        std::thread::spawn(move || -> io::Result<()> {
            read_half.set_read_timeout(Some(Duration::from_secs(30)))?;
            let mut buf = vec![0u8; 64 << 10];
            loop {
                let mut conn = conn.lock().map_err(|_| io::Error::other("poisoned"))?;
                loop {
                    match conn.next_event() {
                        Ok(Some(Event::Text(text))) => println!("{text}"),
                        Ok(Some(Event::Binary(data))) => println!("<{} binary bytes>", data.len()),
                        Ok(Some(Event::TextChunk { data, last })) => {
                            print!("{data}");
                            if last {
                                println!();
                            }
                        }
                        Ok(Some(Event::Close(frame))) => {
                            eprintln!("closed: {} {}", frame.code, frame.reason);
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => {
                            eprintln!("error: {e}");
                            break;
                        }
                    }
                }
                flush(&mut conn, &mut write_half)?;
                if conn.close_expected() {
                    return Ok(());
                }
                drop(conn);
                let n = read_half.read(&mut buf)?;
                let mut conn_guard = conn_for_read
                    .lock()
                    .map_err(|_| io::Error::other("poisoned"))?;
                if n == 0 {
                    conn_guard.receive_eof();
                } else {
                    conn_guard.receive(&buf[..n]);
                }
            }
        })
    };

    for line in io::stdin().lock().lines() {
        let line = line?;
        let mut guard = conn.lock().map_err(|_| "poisoned")?;
        guard.send_text(&line)?;
        flush(&mut guard, &mut stream)?;
    }
    {
        let mut guard = conn.lock().map_err(|_| "poisoned")?;
        if guard.state().can_send() {
            guard.close(CloseCode::NORMAL, "")?;
            flush(&mut guard, &mut stream)?;
        }
    }
    match reader.join() {
        Ok(result) => result?,
        Err(_) => return Err("reader thread panicked".into()),
    }
    Ok(())
}

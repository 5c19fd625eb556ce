//! A blocking WebSocket echo server on `std::net`, one thread per connection.
//!
//! ```sh
//! cargo run --release --features deflate --example echo_server -- 127.0.0.1:9001
//! cargo run --release --features deflate --example echo_server -- 127.0.0.1:9001 --no-deflate
//! ```
//!
//! Accepts every valid handshake (no subprotocol), echoes each text and binary
//! message unchanged (messages above the chunk threshold are echoed chunk by
//! chunk as fragments, so memory stays bounded), answers pings and close, and
//! logs one line per connection with the peer, the close code and the
//! permessage-deflate parameters agreed. Built with the `deflate` feature it
//! answers permessage-deflate offers (browsers and Node `ws` make them)
//! unless started with `--no-deflate`.

use std::io::{self, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hybi::{Accept, CloseCode, Config, Connection, Event, MessageKind};

/// Whether connections answer permessage-deflate offers (`--no-deflate`
/// turns it off).
static DEFLATE: AtomicBool = AtomicBool::new(true);

/// Limits of the echo server: the crate's defaults (16 MiB frames, 64 MiB
/// messages, chunked delivery above 1 MiB), and permessage-deflate with its
/// default policy when built with the `deflate` feature.
pub fn config() -> Config {
    let config = Config::new();
    #[cfg(feature = "deflate")]
    if DEFLATE.load(Ordering::Relaxed) {
        return config.deflate(hybi::DeflateConfig::new());
    }
    config
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The close code reported to us (peer's Close, 1006 for EOF) or sent by
    /// us on a protocol error.
    pub code: Option<CloseCode>,
    /// Messages echoed.
    pub messages: u64,
    /// The error that ended the connection, if any.
    pub error: Option<String>,
    /// The permessage-deflate answer, as written in the 101.
    pub deflate: Option<String>,
}

/// Serves one accepted TCP connection until it closes.
pub fn handle(mut stream: TcpStream) -> io::Result<Outcome> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut conn = Connection::server(config());
    let mut outcome = Outcome {
        code: None,
        messages: 0,
        error: None,
        deflate: None,
    };
    loop {
        let n = match stream.read(conn.read_buf()) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            conn.receive_eof();
        } else {
            conn.commit(n);
        }
        drain(&mut conn, &mut outcome);
        #[cfg(feature = "deflate")]
        if outcome.deflate.is_none() {
            outcome.deflate = conn.deflate().map(|p| p.to_string());
        }
        // Every path writes what is queued: echoes, Pongs, and an error's
        // Close frame or HTTP response.
        conn.write_to(&mut stream)?;
        if conn.close_expected() || n == 0 {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(outcome);
        }
    }
}

/// Drains events, accepting the handshake request and echoing messages.
fn drain(conn: &mut Connection, outcome: &mut Outcome) {
    let (mut inbound, mut outbound) = conn.split();
    loop {
        let event = match inbound.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(e) => {
                outcome.code = outcome.code.or(e.close_code());
                outcome.error = Some(e.to_string());
                return;
            }
        };
        // Sending fails only once our Close is out; events are drained anyway.
        let _ = match event {
            Event::HandshakeRequest(request) => outbound.accept(&request, Accept::new()),
            Event::Text(text) => {
                outcome.messages += 1;
                outbound.send_text(text)
            }
            Event::Binary(data) => {
                outcome.messages += 1;
                outbound.send_binary(data)
            }
            Event::TextChunk { data, last } => {
                outcome.messages += u64::from(last);
                outbound.send_fragment(MessageKind::Text, data.as_bytes(), last)
            }
            Event::BinaryChunk { data, last } => {
                outcome.messages += u64::from(last);
                outbound.send_fragment(MessageKind::Binary, data, last)
            }
            Event::Close(frame) => {
                outcome.code = Some(frame.code);
                Ok(())
            }
            _ => Ok(()),
        };
    }
}

/// Accepts connections forever (or `limit` of them), a thread each.
pub fn serve(listener: TcpListener, limit: Option<usize>) -> io::Result<()> {
    let mut handles = Vec::new();
    for (i, stream) in listener.incoming().enumerate() {
        let stream = stream?;
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        let handle = std::thread::spawn(move || match handle(stream) {
            Ok(outcome) => {
                let code = outcome
                    .code
                    .map_or_else(|| "none".into(), |c| c.to_string());
                let deflate = outcome.deflate.as_deref().unwrap_or("no compression");
                match outcome.error {
                    Some(error) => println!(
                        "{peer}: [{deflate}] closed {code} after {} messages: {error}",
                        outcome.messages
                    ),
                    None => println!(
                        "{peer}: [{deflate}] closed {code} after {} messages",
                        outcome.messages
                    ),
                }
            }
            Err(e) => println!("{peer}: I/O error: {e}"),
        });
        if let Some(limit) = limit {
            handles.push(handle);
            if i + 1 >= limit {
                break;
            }
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    Ok(())
}

#[allow(dead_code)]
fn main() -> io::Result<()> {
    let mut addr = "127.0.0.1:9001".to_string();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--no-deflate" => DEFLATE.store(false, Ordering::Relaxed),
            _ => addr = arg,
        }
    }
    let listener = TcpListener::bind(&addr)?;
    let compression = if !cfg!(feature = "deflate") {
        "permessage-deflate not built (the `deflate` feature is off)"
    } else if DEFLATE.load(Ordering::Relaxed) {
        "permessage-deflate on"
    } else {
        "permessage-deflate off (--no-deflate)"
    };
    println!(
        "echo_server listening on {} ({compression})",
        listener.local_addr()?
    );
    serve(listener, None)
}

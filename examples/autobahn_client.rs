//! Runs the Autobahn|Testsuite client cases against a `wstest -m fuzzingserver`.
//!
//! ```sh
//! cargo run --release --features deflate --example autobahn_client -- ws://127.0.0.1:9001
//! ```
//!
//! With the `deflate` feature it offers permessage-deflate (cases 12 and 13
//! need it; the others ignore it).
//!
//! Fetches `/getCaseCount`, runs `/runCase?case=N&agent=hybi` for every case
//! (echoing each text and binary message unchanged until the close), then
//! asks for `/updateReports?agent=hybi`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use hybi::{ClientRequest, Config, Connection, Event, MessageKind, WsUrl};

const AGENT: &str = "hybi";

/// Opens a connection to `target` and drives it to the end, echoing messages
/// when `echo` is set. Returns the first text message received; an I/O error
/// (the server may reset the connection once it has said what it wanted) ends
/// the session with what was received so far.
fn session(url: &WsUrl<'_>, target: &str, echo: bool) -> io::Result<Option<String>> {
    let mut first_text = None;
    match drive(url, target, echo, &mut first_text) {
        Ok(()) => Ok(first_text),
        Err(e) if first_text.is_some() || echo => {
            eprintln!("{target}: {e}");
            Ok(first_text)
        }
        Err(e) => Err(e),
    }
}

/// The crate's defaults; with the `deflate` feature, a permessage-deflate
/// offer too (what cases 12 and 13 need; the others ignore it).
fn config() -> Config {
    #[cfg(feature = "deflate")]
    return Config::new().deflate(hybi::DeflateConfig::new());
    #[cfg(not(feature = "deflate"))]
    Config::new()
}

fn drive(
    url: &WsUrl<'_>,
    target: &str,
    echo: bool,
    first_text: &mut Option<String>,
) -> io::Result<()> {
    let mut stream = TcpStream::connect((url.host(), url.port()))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let request = ClientRequest::new(url.host_header(), target);
    let mut conn = Connection::client(request, config()).map_err(io::Error::other)?;
    loop {
        while conn.wants_transmit() {
            let n = stream.write(conn.transmit())?;
            conn.advance(n);
        }
        if conn.close_expected() {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(());
        }
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
        let (mut inbound, mut outbound) = conn.split();
        loop {
            let event = match inbound.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                // The close frame for the error is queued; flush it above.
                Err(_) => break,
            };
            // Sending fails only after our Close; events are drained anyway.
            let _ = match event {
                Event::Text(text) => {
                    if first_text.is_none() {
                        *first_text = Some(text.to_string());
                    }
                    if echo {
                        outbound.send_text(text)
                    } else {
                        Ok(())
                    }
                }
                Event::Binary(data) if echo => outbound.send_binary(data),
                Event::TextChunk { data, last } if echo => {
                    outbound.send_fragment(MessageKind::Text, data.as_bytes(), last)
                }
                Event::BinaryChunk { data, last } if echo => {
                    outbound.send_fragment(MessageKind::Binary, data, last)
                }
                Event::HandshakeRejected(response) => {
                    return Err(io::Error::other(format!(
                        "handshake rejected with {}",
                        response.status()
                    )));
                }
                _ => Ok(()),
            };
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_string());
    let url = WsUrl::parse(&base)?;
    let count: u32 = session(&url, "/getCaseCount", false)?
        .ok_or("no case count received")?
        .trim()
        .parse()?;
    println!("autobahn_client: running {count} cases");
    for case in 1..=count {
        let target = format!("/runCase?case={case}&agent={AGENT}");
        if let Err(e) = session(&url, &target, true) {
            println!("case {case}: {e}");
        }
    }
    // The server may reset the connection once the reports are written.
    if let Err(e) = session(&url, &format!("/updateReports?agent={AGENT}"), false) {
        eprintln!("updateReports: {e}");
    }
    println!("autobahn_client: reports updated");
    Ok(())
}

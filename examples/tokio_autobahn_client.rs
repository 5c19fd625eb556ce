//! Autobahn|Testsuite's client role on the tokio driver: asks the fuzzing
//! server for its case count, echoes every case, then asks it to write the
//! reports (agent "hybi", as `autobahn_client`).
//!
//! ```sh
//! cargo run --release --features tokio,deflate --example tokio_autobahn_client -- ws://127.0.0.1:9001
//! ```

use hybi::driver::DriverError;
use hybi::tokio::WebSocket;
use hybi::{Config, Event, MessageKind};

const AGENT: &str = "hybi";

fn config() -> Config {
    #[cfg(feature = "deflate")]
    return Config::new().deflate(hybi::DeflateConfig::new());
    #[cfg(not(feature = "deflate"))]
    Config::new()
}

/// One connection: echoes (when `echo`) until the close; the first text
/// message is returned (the case count).
async fn session(url: &str, echo: bool) -> Result<Option<String>, DriverError> {
    let mut ws = WebSocket::connect(url, config()).await?;
    let mut first_text = None;
    loop {
        let result = {
            match ws.recv_with_outbound().await {
                Ok((event, mut out)) => {
                    // Sending fails only after our Close; keep draining.
                    let _ = match event {
                        Event::Text(text) => {
                            first_text.get_or_insert_with(|| text.to_owned());
                            if echo { out.send_text(text) } else { Ok(()) }
                        }
                        Event::Binary(data) if echo => out.send_binary(data),
                        Event::TextChunk { data, last } if echo => {
                            out.send_fragment(MessageKind::Text, data.as_bytes(), last)
                        }
                        Event::BinaryChunk { data, last } if echo => {
                            out.send_fragment(MessageKind::Binary, data, last)
                        }
                        _ => Ok(()),
                    };
                    Ok(())
                }
                Err(e) => Err(e),
            }
        };
        match result {
            Ok(()) => {}
            // The end of the case: closed, or failed (our Close was sent).
            Err(DriverError::Closed) | Err(DriverError::Ws(_)) => return Ok(first_text),
            Err(e) => return Err(e),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let count: u32 = session(&format!("{base}/getCaseCount"), false)
        .await?
        .ok_or("no case count received")?
        .trim()
        .parse()?;
    println!("tokio_autobahn_client: running {count} cases");
    for case in 1..=count {
        if let Err(e) = session(&format!("{base}/runCase?case={case}&agent={AGENT}"), true).await {
            println!("case {case}: {e}");
        }
    }
    if let Err(e) = session(&format!("{base}/updateReports?agent={AGENT}"), false).await {
        eprintln!("updateReports: {e}");
    }
    println!("tokio_autobahn_client: reports updated");
    Ok(())
}

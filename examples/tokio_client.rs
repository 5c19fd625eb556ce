//! A line-oriented client on hybi's tokio driver: each stdin line is sent
//! as a text message, every message received is printed; at the end of
//! input it closes (1000) and prints what still arrives until the Close.
//!
//! ```sh
//! cargo run --release --features tokio --example tokio_client -- ws://127.0.0.1:9002/
//! ```
//!
//! With `--features tokio-rustls`, a `wss://` URL is opened over TLS;
//! `--ca CERT.pem` trusts that certificate (else the webpki roots are not
//! built in: pass the CA you trust).

use hybi::driver::DriverError;
use hybi::tokio::WebSocket;
use hybi::{CloseCode, Config, Event};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), DriverError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    #[cfg(feature = "tokio-rustls")]
    if url.starts_with("wss://") {
        let ca = args
            .iter()
            .position(|a| a == "--ca")
            .and_then(|i| args.get(i + 1));
        let tls = tls(ca.map(String::as_str))?;
        let ws = WebSocket::connect_tls(&url, &Default::default(), Config::new(), tls).await?;
        return run(ws).await;
    }
    run(WebSocket::connect(&url, Config::new()).await?).await
}

/// Trusts the certificates in `ca` (PEM).
#[cfg(feature = "tokio-rustls")]
fn tls(ca: Option<&str>) -> Result<std::sync::Arc<rustls::ClientConfig>, DriverError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let io = |e: &dyn std::fmt::Display| DriverError::Io(std::io::Error::other(e.to_string()));
    let Some(ca) = ca else {
        return Err(DriverError::Unsupported(
            "wss:// needs --ca CERT.pem (the roots to trust)",
        ));
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| io(&e))? {
        roots.add(cert.map_err(|e| io(&e))?).map_err(|e| io(&e))?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(std::sync::Arc::new(config))
}

/// Sends stdin's lines, prints what arrives, closes at the end of input.
async fn run<S>(mut ws: WebSocket<S>) -> Result<(), DriverError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
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

//! The README's tokio server, run as written: this file holds the same code
//! as the README's block (a test checks the text is identical), served over
//! loopback TCP to hybi's tokio client: text, binary and a close, each
//! echoed, and `serve` ends well.
#![cfg(feature = "tokio")]

mod common;

#[rustfmt::skip]
mod readme {
// README-TOKIO-BEGIN
use hybi::driver::{Answer, DriverError};
use hybi::{tokio::WebSocket, Config, Event};

pub async fn serve(socket: tokio::net::TcpStream) -> Result<(), DriverError> {
    let mut ws = WebSocket::accept(socket, Config::new(), |_| Answer::accept()).await?;
    loop {
        let (event, mut out) = ws.recv_with_outbound().await?; // borrowed, no copy
        match event {
            Event::Text(text) => out.send_text(text)?,
            Event::Binary(data) => out.send_binary(data)?,
            Event::Close(_) => return ws.flush().await,
            _ => {}
        }
    }
}
// README-TOKIO-END
}

#[test]
fn the_readme_block_is_this_code() {
    let readme = include_str!("../README.md");
    // `ignore`: the block needs the `tokio` feature, and the README is also the
    // crate's front page, whose doctests run with default features. This test
    // compiles and runs it instead.
    let block = common::block_after(readme, "## Or let a driver run the loop", "```rust,ignore");
    let this = include_str!("readme_tokio.rs");
    let code =
        common::marked(this, "README-TOKIO").replacen("pub async fn serve", "async fn serve", 1);
    assert_eq!(code, block);
}

#[tokio::test]
async fn the_readme_server_echoes_and_ends_at_the_close() {
    use hybi::driver::{DriverError, OwnedMessage};
    use hybi::tokio::WebSocket;
    use hybi::{CloseCode, Config};

    let (port, server) = common::tokio::serve_one(readme::serve).await;
    let url = format!("ws://127.0.0.1:{port}/");
    let mut ws = WebSocket::connect(&url, Config::new()).await.unwrap();
    ws.send_text("hello").await.unwrap();
    assert_eq!(
        ws.recv_message().await.unwrap(),
        OwnedMessage::Text("hello".into())
    );
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    ws.send_binary(&big).await.unwrap();
    assert_eq!(ws.recv_message().await.unwrap(), OwnedMessage::Binary(big));
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    assert!(matches!(ws.recv().await, Err(DriverError::Closed)));
    let served = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("serve ended")
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
}

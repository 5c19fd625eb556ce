//! `hybi::tokio`'s memory bounds towards a peer that stops reading: a
//! close ends within its timeout, the owner's sends wait once `max_queued`
//! bytes are queued (and the `Sender`s' budget is the same bound), and an
//! echo loop (`recv_with_outbound`) stops reading while its echoes wait,
//! so a peer that floods and never reads holds the server to the bound.
//! Over in-memory duplex streams on tokio's paused clock; every loop is
//! bounded.
#![cfg(feature = "tokio")]

use std::time::Duration;

use hybi::driver::Answer;
use hybi::frame::Opcode;
use hybi::tokio::{SendError, WebSocket};
use hybi::{ClientRequest, CloseCode, Config, Event};
use tokio::io::AsyncWriteExt;

mod common;

/// Closing towards a peer that never reads ends within the close timeout.
#[tokio::test(start_paused = true)]
async fn close_towards_a_peer_that_never_reads_is_bounded() {
    let (client_side, server_side) = tokio::io::duplex(1 << 10);
    let config = Config::new().close_timeout(Some(Duration::from_secs(3)));
    let accepting =
        tokio::spawn(
            async move { WebSocket::accept(server_side, config, |_| Answer::accept()).await },
        );
    let _client = WebSocket::client(client_side, ClientRequest::new("x", "/"), Config::new())
        .await
        .unwrap();
    let mut server = accepting.await.unwrap().unwrap();
    // Fill the pipe: the peer never reads.
    let chunk = vec![1u8; 16 << 10];
    let _ = tokio::time::timeout(Duration::from_secs(1), server.send_binary(&chunk)).await;
    let start = tokio::time::Instant::now();
    let closed =
        tokio::time::timeout(Duration::from_secs(60), server.close(CloseCode::NORMAL, "")).await;
    assert!(closed.is_ok(), "close returned");
    assert!(
        start.elapsed() <= Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

/// A peer that never reads: sends wait once `max_queued` bytes are queued,
/// `try_send` reports `Full`, and memory stays within the bound.
#[tokio::test(start_paused = true)]
async fn a_peer_that_never_reads_cannot_grow_our_memory() {
    let (client_side, server_side) = tokio::io::duplex(4 << 10);
    let bound = 64 << 10;
    let accepting = tokio::spawn(async move {
        WebSocket::accept(server_side, Config::new(), |_| Answer::accept()).await
    });
    // The client handshakes, then never reads again.
    let client = WebSocket::client(client_side, ClientRequest::new("x", "/"), Config::new())
        .await
        .unwrap();
    let mut server = accepting.await.unwrap().unwrap().max_queued(bound);
    let chunk = vec![7u8; 16 << 10];
    let mut sent = 0usize;
    for _ in 0..1000 {
        match tokio::time::timeout(Duration::from_secs(5), server.send_binary(&chunk)).await {
            Ok(result) => {
                result.unwrap();
                sent += 1;
            }
            Err(_) => break,
        }
    }
    assert!(sent < 1000, "a send waits once the peer stops reading");
    let queued_bytes = server.connection_mut().transmit().len();
    assert!(
        queued_bytes <= bound + chunk.len(),
        "{queued_bytes} bytes queued"
    );
    // The buffers' capacity (they grow by doubling) stays within twice that.
    let held = server.buffered_bytes();
    assert!(
        held <= 2 * (bound + chunk.len()) + (16 << 10),
        "{held} bytes held"
    );
    // Senders: their budget is the same bound.
    let sender = server.sender();
    let mut queued = 0;
    loop {
        match sender.try_send_binary(chunk.clone()) {
            Ok(()) => queued += 1,
            Err(SendError::Full) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(queued < 100);
    }
    assert!(queued * chunk.len() <= bound, "{queued} chunks queued");
    // The slow client is still connected: it only stopped reading.
    assert_eq!(client.connection().state(), hybi::State::Open);
}

/// A client that writes frames as fast as it can and never reads, against
/// the zero-copy echo loop: once more than `max_queued` bytes of echoes
/// wait, the server reads nothing more, the client's writes stop, and the
/// server holds the bound, not the flood.
#[tokio::test(start_paused = true)]
async fn an_echo_server_stops_reading_while_a_flooding_peer_does_not_read() {
    let (mut client_side, server_side) = tokio::io::duplex(4 << 10);
    let bound = 64 << 10;
    let accepting = tokio::spawn(async move {
        WebSocket::accept(server_side, Config::new(), |_| Answer::accept()).await
    });
    client_side.write_all(common::REQUEST).await.unwrap();
    let mut server = accepting.await.unwrap().unwrap().max_queued(bound);
    // 64 MiB of 4 KiB binary frames, never reading the 101 or the echoes.
    let frame = common::client_frame(true, Opcode::Binary, &[0x5a; 4096]);
    let total = 16 * 1024;
    let flood = tokio::spawn(async move {
        let mut written = 0usize;
        for _ in 0..total {
            match tokio::time::timeout(Duration::from_secs(5), client_side.write_all(&frame)).await
            {
                Ok(Ok(())) => written += 1,
                _ => break,
            }
        }
        (written, client_side)
    });
    let mut echoed = 0usize;
    let mut most_queued = 0usize;
    let mut most_held = 0usize;
    loop {
        let step = tokio::time::timeout(Duration::from_secs(10), server.recv_with_outbound()).await;
        let Ok(Ok((event, mut out))) = step else {
            break;
        };
        match event {
            Event::Binary(b) => out.send_binary(b).unwrap(),
            other => panic!("{other:?}"),
        }
        echoed += 1;
        most_queued = most_queued.max(server.connection_mut().transmit().len());
        most_held = most_held.max(server.buffered_bytes());
        assert!(echoed <= total, "more echoes than frames");
    }
    let (written, _client_side) = flood.await.unwrap();
    assert!(
        written < total / 4,
        "the flood was not held back: {written} of {total} frames written"
    );
    assert!(echoed <= written, "{echoed} echoes of {written} frames");
    assert!(
        most_queued <= bound + 2 * 4106,
        "{most_queued} bytes of echoes queued, the bound is {bound}"
    );
    assert!(
        most_held <= 2 * (bound + 2 * 4106) + (64 << 10),
        "{most_held} bytes of buffers held"
    );
}

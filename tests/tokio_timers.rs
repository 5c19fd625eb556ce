//! `hybi::tokio`'s timers where they could be missed: a `WebSocket` that
//! moves to another task keeps its keep-alive (the driver skips polling its
//! sleep while the task and the deadline stay the same, so a new task must
//! be noticed), and a peer that keeps sending cannot hold a deadline off
//! (the timers are looked at when a read would wait, and after a run of
//! reads that did not: over TCP, tokio's cooperative budget makes reads
//! wait now and then, so a stream that never waits shows the second look),
//! and a close after a long idle waits the whole close timeout (its
//! deadline counts from the driver's next look at the clock).
//! Every loop is bounded.
#![cfg(feature = "tokio")]

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hybi::driver::{Answer, DriverError};
use hybi::frame::Opcode;
use hybi::frame::encode::encode_frame;
use hybi::tokio::WebSocket;
use hybi::{CloseCode, Config, Connection, Error, Negotiated};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

mod common;
use common::tokio::pair;

/// Waited on in one task (its sleep then holds that task's waker), then
/// moved into another: the keep-alive Ping and the Pong deadline still run
/// there, on tokio's paused clock.
#[tokio::test(start_paused = true)]
async fn keepalive_follows_the_websocket_into_another_task() {
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_secs(20)))
        .pong_timeout(Some(Duration::from_secs(20)));
    let (_client, mut server) = pair(config).await;
    let start = tokio::time::Instant::now();
    // The client is never polled: it never answers the Ping.
    let waited_here = tokio::time::timeout(Duration::from_secs(1), server.recv()).await;
    assert!(waited_here.is_err(), "nothing arrives in the first second");
    let other_task = tokio::spawn(async move {
        for _ in 0..100 {
            if let Err(e) = server.recv().await {
                return Some(e);
            }
        }
        None
    });
    let error = tokio::time::timeout(Duration::from_secs(600), other_task)
        .await
        .expect("the keep-alive woke the task that moved the WebSocket, not the one holding it")
        .unwrap();
    assert!(
        matches!(error, Some(DriverError::Ws(Error::PongTimeout))),
        "{error:?}"
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(40) && waited < Duration::from_secs(45),
        "{waited:?}"
    );
}

/// A close after a long idle still waits the close timeout for the peer's
/// Close (tokio's paused clock): the engine's close deadline starts when
/// the driver next tells it the time, not from the last time it told it,
/// an idle minute ago (the connection then ended at once, as 1006).
#[tokio::test(start_paused = true)]
async fn a_close_after_a_long_idle_waits_the_close_timeout() {
    let close_timeout = Duration::from_secs(5);
    let config = Config::new()
        .keepalive_interval(None)
        .close_timeout(Some(close_timeout));
    // The client is never polled: it never answers the Close.
    let (_client, mut server) = pair(config).await;
    let idle = tokio::time::timeout(Duration::from_secs(60), server.recv()).await;
    assert!(idle.is_err(), "nothing arrives while idle");
    let start = tokio::time::Instant::now();
    let closed = tokio::time::timeout(
        Duration::from_secs(60),
        server.close(CloseCode::NORMAL, "bye"),
    )
    .await;
    let took = start.elapsed();
    assert!(closed.is_ok(), "close did not end at its timeout");
    assert!(
        took >= close_timeout && took < close_timeout + Duration::from_secs(1),
        "close ended after {took:?}, not at the {close_timeout:?} close timeout"
    );
}

/// Reads the 101 response's head from a raw client stream.
async fn read_response_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "no end of the response head");
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    head
}

/// Over loopback TCP, a client that sends frames as fast as it can and
/// never answers our Close: `close` still ends at the close timeout, while
/// the bytes keep coming.
#[tokio::test]
async fn a_peer_that_keeps_sending_cannot_hold_off_the_close_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut raw = TcpStream::connect(addr).await.unwrap();
    let (socket, _) = listener.accept().await.unwrap();
    let close_timeout = Duration::from_millis(300);
    let config = Config::new().close_timeout(Some(close_timeout));
    let accepting =
        tokio::spawn(async move { WebSocket::accept(socket, config, |_| Answer::accept()).await });
    raw.write_all(common::REQUEST).await.unwrap();
    let head = read_response_head(&mut raw).await;
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    let mut server = accepting.await.unwrap().unwrap();

    // The flood: masked binary frames, written until the server goes away
    // or 20 seconds pass; what the server sends back is read and dropped.
    let (mut raw_read, mut raw_write) = raw.into_split();
    let flooding = Arc::new(AtomicBool::new(true));
    let sent = Arc::new(AtomicU64::new(0));
    let writer = {
        let (flooding, sent) = (Arc::clone(&flooding), Arc::clone(&sent));
        tokio::spawn(async move {
            let wire = common::client_frame(true, Opcode::Binary, &[0x55; 1000]).repeat(64);
            let until = tokio::time::Instant::now() + Duration::from_secs(20);
            while tokio::time::Instant::now() < until {
                if raw_write.write_all(&wire).await.is_err() {
                    break;
                }
                sent.fetch_add(wire.len() as u64, Ordering::Relaxed);
            }
            flooding.store(false, Ordering::SeqCst);
        })
    };
    let reader = tokio::spawn(async move {
        let mut sink = vec![0u8; 16 << 10];
        while let Ok(n) = raw_read.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    });
    // Let the flood start.
    while sent.load(Ordering::Relaxed) < 1 << 20 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    let start = tokio::time::Instant::now();
    let closed =
        tokio::time::timeout(Duration::from_secs(15), server.close(CloseCode::NORMAL, "")).await;
    let took = start.elapsed();
    assert!(closed.is_ok(), "close did not end within 15 s of flood");
    assert!(
        flooding.load(Ordering::SeqCst),
        "the flood stopped before close ended ({took:?}): nothing was shown"
    );
    assert!(took >= close_timeout, "close ended early: {took:?}");
    assert!(took < Duration::from_secs(10), "close took {took:?}");
    drop(server);
    writer.await.unwrap();
    reader.await.unwrap();
}

/// A stream that is always readable, and never takes part in tokio's
/// cooperative budget (as a TCP socket does): client frames, over and over,
/// until `until` passes, then the end of the stream (`ran_dry` says so).
/// What is written to it is dropped.
struct Endless {
    wire: Vec<u8>,
    at: usize,
    until: std::time::Instant,
    ran_dry: Arc<AtomicBool>,
}

impl AsyncRead for Endless {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if std::time::Instant::now() >= this.until {
            this.ran_dry.store(true, Ordering::SeqCst);
            return Poll::Ready(Ok(()));
        }
        while buf.remaining() > 0 {
            let n = buf.remaining().min(this.wire.len() - this.at);
            buf.put_slice(&this.wire[this.at..this.at + n]);
            this.at = (this.at + n) % this.wire.len();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Endless {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A stream whose reads never wait: the driver never reaches the point
/// where a read would wait, so only its look at the timers after a run of
/// reads can end `close` at the close timeout. (The other worker thread
/// runs tokio's timer meanwhile.) Without that look, `close` runs until the
/// stream ends, 8 seconds later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_never_waits_cannot_hold_off_the_close_timeout() {
    let mut wire = Vec::new();
    for _ in 0..16 {
        encode_frame(
            &mut wire,
            true,
            Opcode::Binary,
            Some([1, 2, 3, 4]),
            &[0x33; 500],
        );
    }
    let ran_dry = Arc::new(AtomicBool::new(false));
    let stream = Endless {
        wire,
        at: 0,
        until: std::time::Instant::now() + Duration::from_secs(8),
        ran_dry: Arc::clone(&ran_dry),
    };
    let close_timeout = Duration::from_millis(200);
    let config = Config::new().close_timeout(Some(close_timeout));
    let conn = Connection::server_opened(config, Negotiated::none());
    let mut server = WebSocket::from_connection(stream, conn);
    // The frames are read as messages first.
    for _ in 0..100 {
        let event = server.recv().await.unwrap();
        assert!(
            matches!(event, hybi::Event::Binary(b) if b.len() == 500),
            "{event:?}"
        );
    }
    let start = std::time::Instant::now();
    let closed = server.close(CloseCode::NORMAL, "").await;
    let took = start.elapsed();
    assert!(
        !ran_dry.load(Ordering::SeqCst),
        "close ended only with the stream, after {took:?} ({closed:?})"
    );
    assert!(took >= close_timeout, "close ended early: {took:?}");
    assert!(took < Duration::from_secs(5), "close took {took:?}");
}

//! `hybi::tokio`: every message kind over loopback TCP; refusals; a close
//! from the server; over in-memory duplex streams: cancel safety under
//! `tokio::select!`, senders in other tasks, keep-alive on a paused clock,
//! the idle connection without buffers, and zero allocations per message
//! in the echo loops (and for a repeated `Sender::close`). The
//! backpressure bounds are in `tokio_backpressure.rs`. Every loop is
//! bounded.
#![cfg(feature = "tokio")]
// A global allocator cannot be written without `unsafe`; this test-only
// one forwards to the system allocator and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use hybi::driver::{Answer, ClientOptions, DriverError, OwnedMessage};
use hybi::tokio::{SendError, WebSocket};
use hybi::{CloseCode, Config, Error, Event, MessageKind};
use tokio::io::{AsyncWriteExt, DuplexStream};

mod common;
use common::tokio::{pair, serve_one};

/// Counts this thread's allocations (tests run on current-thread runtimes,
/// so a test's tasks share its thread).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn add_live(bytes: i64) {
    let _ = LIVE.try_with(|l| l.set(l.get() + bytes));
}

// SAFETY: forwards to the system allocator; the counter is thread-local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        add_live(layout.size() as i64);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-(layout.size() as i64));
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        add_live(new_size as i64 - layout.size() as i64);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Echoes without copying (`recv_with_outbound`) until the peer closes.
async fn echo(
    mut ws: WebSocket<impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>,
) -> Result<u16, DriverError> {
    for _ in 0..100_000 {
        // The event and the half end before the next await (the half is
        // not `Send`).
        let closed = {
            let (event, mut out) = ws.recv_with_outbound().await?;
            match event {
                Event::Text(t) => out.send_text(t).map(|()| None)?,
                Event::Binary(b) => out.send_binary(b).map(|()| None)?,
                Event::TextChunk { data, last } => out
                    .send_fragment(MessageKind::Text, data.as_bytes(), last)
                    .map(|()| None)?,
                Event::BinaryChunk { data, last } => out
                    .send_fragment(MessageKind::Binary, data, last)
                    .map(|()| None)?,
                Event::Close(c) => Some(c.code.0),
                _ => None,
            }
        };
        if let Some(code) = closed {
            ws.flush().await?;
            return Ok(code);
        }
    }
    Err(DriverError::Closed)
}

fn decide(request: &hybi::Request<'_>) -> Answer {
    if request.origin() != Some("http://127.0.0.1") {
        return Answer::reject(403).body("origin not allowed\n");
    }
    if request.cookie("session").is_none() {
        return Answer::reject(401);
    }
    match request.protocols().find(|p| *p == "chat.v1") {
        Some(p) => Answer::accept().protocol(p),
        None => Answer::accept(),
    }
}

#[tokio::test]
async fn every_message_kind_round_trips_over_tcp() {
    let (port, server) = serve_one(|socket| async move {
        let ws =
            WebSocket::accept(socket, Config::new().chunk_threshold(256 << 10), decide).await?;
        echo(ws).await
    })
    .await;
    let options = ClientOptions {
        protocols: &["chat.v1"],
        headers: &[("Cookie", "session=1")],
        origin: Some("http://127.0.0.1"),
    };
    let url = format!("ws://127.0.0.1:{port}/?room=a");
    let mut ws = WebSocket::connect_with(&url, &options, Config::new())
        .await
        .unwrap();
    assert_eq!(ws.connection_mut().protocol(), Some("chat.v1"));
    ws.send_text("hello").await.unwrap();
    assert_eq!(
        ws.recv_message().await.unwrap(),
        OwnedMessage::Text("hello".into())
    );
    let multi = "żółć ✓ 🎉 ".repeat(300);
    ws.send_text(&multi).await.unwrap();
    assert_eq!(ws.recv_message().await.unwrap(), OwnedMessage::Text(multi));
    let big: Vec<u8> = (0..1_200_000u32).map(|i| (i % 253) as u8).collect();
    ws.send_binary(&big).await.unwrap();
    assert_eq!(ws.recv_message().await.unwrap(), OwnedMessage::Binary(big));
    ws.send_fragment(MessageKind::Text, b"frag", false)
        .await
        .unwrap();
    ws.send_fragment(MessageKind::Text, b"ments", true)
        .await
        .unwrap();
    assert!(matches!(ws.recv().await.unwrap(), Event::Text("fragments")));
    ws.send_ping(b"p").await.unwrap();
    assert!(matches!(ws.recv().await.unwrap(), Event::Pong(b"p")));
    ws.close(CloseCode::NORMAL, "done").await.unwrap();
    assert!(matches!(ws.recv().await, Err(DriverError::Closed)));
    assert_eq!(server.await.unwrap().unwrap(), 1000);
}

/// The server starts the closing handshake towards a client that keeps
/// reading: the client sees the code and the reason, answers, and both
/// ends finish well before the close timeout.
#[tokio::test]
async fn the_server_closes_and_the_client_sees_its_code_and_reason() {
    let close_timeout = Duration::from_secs(5);
    let config = Config::new().close_timeout(Some(close_timeout));
    let (port, server) = serve_one(move |socket| async move {
        let mut ws = WebSocket::accept(socket, config, |_| Answer::accept()).await?;
        ws.send_text("last words").await?;
        let start = tokio::time::Instant::now();
        ws.close(CloseCode(4001), "server going away").await?;
        let took = start.elapsed();
        Ok::<_, DriverError>((took, ws.recv().await.err()))
    })
    .await;
    let url = format!("ws://127.0.0.1:{port}/");
    let mut client = WebSocket::connect(&url, config).await.unwrap();
    assert!(matches!(
        client.recv().await.unwrap(),
        Event::Text("last words")
    ));
    match client.recv().await.unwrap() {
        Event::Close(close) => {
            assert_eq!(close.code, CloseCode(4001));
            assert_eq!(close.reason, "server going away");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(client.recv().await, Err(DriverError::Closed)));
    let (took, after) = server.await.unwrap().unwrap();
    assert!(
        took < close_timeout,
        "the close waited for its timeout: {took:?}"
    );
    assert!(matches!(after, Some(DriverError::Closed)), "{after:?}");
}

#[tokio::test]
async fn refusals_reach_a_real_client() {
    for (origin, cookie, status) in [
        ("http://evil", "session=1", 403),
        ("http://127.0.0.1", "x=1", 401),
    ] {
        let (port, server) = serve_one(|socket| async move {
            WebSocket::accept(socket, Config::new(), decide)
                .await
                .map(|_| ())
        })
        .await;
        let headers = [("Cookie", cookie)];
        let options = ClientOptions {
            headers: &headers,
            origin: Some(origin),
            ..Default::default()
        };
        let url = format!("ws://127.0.0.1:{port}/");
        match WebSocket::connect_with(&url, &options, Config::new()).await {
            Err(DriverError::Rejected { status: s, .. }) => assert_eq!(s, status),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(server.await.unwrap(), Err(DriverError::Rejected { status: s, .. }) if s == status)
        );
    }
}

/// `recv()` dropped over and over by `select!` while messages arrive a few
/// bytes at a time: every message arrives once, whole, in order.
#[tokio::test]
async fn recv_is_cancel_safe() {
    let (raw_client, server_side) = tokio::io::duplex(1 << 10);
    let server = tokio::spawn(async move {
        let mut ws = WebSocket::accept(server_side, Config::new(), |_| Answer::accept())
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut cancelled = 0u32;
        while got.len() < 300 {
            tokio::select! {
                biased;
                event = ws.recv() => match event.unwrap() {
                    Event::Text(t) => got.push(t.to_owned()),
                    other => panic!("{other:?}"),
                },
                () = tokio::task::yield_now() => cancelled += 1,
            }
            assert!(cancelled < 1_000_000);
        }
        (got, cancelled)
    });
    // A raw client: the handshake, then masked frames in 3-byte writes.
    let mut raw = raw_client;
    raw.write_all(common::REQUEST).await.unwrap();
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for i in 0..300 {
        let text = format!("message {i} {}", "é".repeat(i % 40));
        hybi::frame::encode::encode_frame(
            &mut wire,
            true,
            hybi::frame::Opcode::Text,
            Some([1, 2, 3, 4]),
            text.as_bytes(),
        );
        expected.push(text);
    }
    // (The 101 waits in the pipe, which has room for it.)
    for piece in wire.chunks(3) {
        raw.write_all(piece).await.unwrap();
        tokio::task::yield_now().await;
    }
    let (got, cancelled) = server.await.unwrap();
    assert_eq!(got, expected);
    assert!(cancelled > 100, "recv was cancelled {cancelled} times");
    drop(raw);
}

/// Messages from other tasks go out through a `Sender`, in order.
#[tokio::test]
async fn senders_in_other_tasks_are_delivered_in_order() {
    let (mut client, server) = pair(Config::new()).await;
    let echo_task = tokio::spawn(echo(server));
    let sender = client.sender();
    let producer = tokio::spawn(async move {
        for i in 0..200 {
            sender.send_text(format!("from a task {i}")).await.unwrap();
        }
    });
    for i in 0..200 {
        match client.recv().await.unwrap() {
            Event::Text(t) => assert_eq!(t, format!("from a task {i}")),
            other => panic!("{other:?}"),
        }
    }
    producer.await.unwrap();
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(echo_task.await.unwrap().unwrap(), 1000);
}

/// A prepared message fanned out through `Sender`s to several connections:
/// every peer receives it, in order with the owner's own messages.
#[tokio::test]
async fn prepared_messages_through_senders() {
    let mut servers = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (client, server) = pair(Config::new()).await;
        clients.push(client);
        servers.push(server);
    }
    let senders: Vec<_> = servers.iter_mut().map(WebSocket::sender).collect();
    let tasks: Vec<_> = servers
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                ws.send_text("first").await.unwrap();
                // Drives the senders' messages out until the peer closes.
                loop {
                    match ws.recv().await {
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    let news = std::sync::Arc::new(hybi::PreparedMessage::text("to everyone"));
    for sender in &senders {
        sender
            .try_send_prepared(std::sync::Arc::clone(&news))
            .unwrap();
    }
    for client in &mut clients {
        assert!(matches!(client.recv().await.unwrap(), Event::Text("first")));
        assert!(matches!(
            client.recv().await.unwrap(),
            Event::Text("to everyone")
        ));
        client.close(CloseCode::NORMAL, "").await.unwrap();
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap();
    }
}

/// Keep-alive on tokio's clock: paused, it runs ahead to the Ping and the
/// Pong deadline while the peer stays silent.
#[tokio::test(start_paused = true)]
async fn keepalive_fails_a_silent_peer_on_tokios_clock() {
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_secs(20)))
        .pong_timeout(Some(Duration::from_secs(20)));
    let (_client, mut server) = pair(config).await;
    let start = tokio::time::Instant::now();
    // The client is never polled: it never answers the Ping.
    let error = loop {
        match server.recv().await {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(
        matches!(error, DriverError::Ws(Error::PongTimeout)),
        "{error:?}"
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(40) && waited < Duration::from_secs(45),
        "{waited:?}"
    );
}

/// An idle connection gives back its buffers and still receives.
#[tokio::test(start_paused = true)]
async fn an_idle_connection_holds_no_buffers() {
    let (mut client, mut server) = pair(Config::new()).await;
    client.send_text("warm up").await.unwrap();
    assert!(matches!(
        server.recv().await.unwrap(),
        Event::Text("warm up")
    ));
    assert!(server.buffered_bytes() > 0);
    // Three idle seconds while waiting in recv (cancelled by the timeout).
    assert!(
        tokio::time::timeout(Duration::from_secs(3), server.recv())
            .await
            .is_err()
    );
    assert_eq!(server.buffered_bytes(), 0, "idle: no buffers");
    client.send_text("after idle").await.unwrap();
    assert!(matches!(
        server.recv().await.unwrap(),
        Event::Text("after idle")
    ));
}

/// Runs `round` (`messages` echoes over a fresh pair) once to warm up, then
/// five times more, and asserts those five allocated nothing.
async fn warm_rounds_allocate_nothing(
    messages: usize,
    mut round: impl AsyncFnMut(&mut WebSocket<DuplexStream>, &mut WebSocket<DuplexStream>),
) {
    let (mut client, mut server) = pair(Config::new()).await;
    round(&mut client, &mut server).await;
    let before = allocations();
    for _ in 0..5 {
        round(&mut client, &mut server).await;
    }
    let made = allocations() - before;
    assert_eq!(made, 0, "{made} allocations in {} echoes", 5 * messages);
}

/// The echo loop allocates nothing per message once warm.
#[tokio::test]
async fn the_echo_loop_is_allocation_free() {
    let messages: Vec<String> = (0..64).map(|i| "x".repeat(1 + i * 37)).collect();
    let round = async |client: &mut WebSocket<DuplexStream>,
                       server: &mut WebSocket<DuplexStream>| {
        for m in &messages {
            client.send_text(m).await.unwrap();
            match server.recv().await.unwrap() {
                Event::Text(t) => {
                    let n = t.len();
                    assert_eq!(n, m.len());
                }
                other => panic!("{other:?}"),
            }
            server.send_text(m).await.unwrap();
            assert!(matches!(client.recv().await.unwrap(), Event::Text(t) if t.len() == m.len()));
        }
    };
    warm_rounds_allocate_nothing(messages.len(), round).await;
}

/// The zero-copy echo loop (`recv_with_outbound`, as the example servers
/// run it) allocates nothing per message once warm either.
#[tokio::test]
async fn the_outbound_echo_loop_is_allocation_free() {
    let messages: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 1 + i * 37]).collect();
    let round = async |client: &mut WebSocket<DuplexStream>,
                       server: &mut WebSocket<DuplexStream>| {
        for m in &messages {
            client.send_binary(m).await.unwrap();
            {
                let (event, mut out) = server.recv_with_outbound().await.unwrap();
                match event {
                    Event::Binary(b) => out.send_binary(b).unwrap(),
                    other => panic!("{other:?}"),
                }
            }
            server.flush().await.unwrap();
            assert!(matches!(client.recv().await.unwrap(), Event::Binary(b) if b == &m[..]));
        }
    };
    warm_rounds_allocate_nothing(messages.len(), round).await;
}

/// Only a connection's first `Sender::close` queues a Close: calling it
/// again and again, from any clone, allocates nothing and cannot grow the
/// queue; the client sees one Close.
#[tokio::test]
async fn a_repeated_sender_close_queues_one_close() {
    let (mut client, mut server) = pair(Config::new()).await;
    let sender = server.sender();
    let other = sender.clone();
    sender.close(CloseCode::NORMAL, "first").unwrap();
    let before = allocations();
    for _ in 0..10_000 {
        other.close(CloseCode::NORMAL, "again").unwrap();
    }
    let made = allocations() - before;
    assert_eq!(made, 0, "{made} allocations for 10,000 repeated closes");
    let server_task = tokio::spawn(async move {
        // The client's answering Close, then the end.
        for _ in 0..4 {
            if let Err(e) = server.recv().await {
                return Some(e);
            }
        }
        None
    });
    match client.recv().await.unwrap() {
        Event::Close(close) => assert_eq!(close.reason, "first"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(client.recv().await, Err(DriverError::Closed)));
    let ended = server_task.await.unwrap();
    assert!(matches!(ended, Some(DriverError::Closed)), "{ended:?}");
    assert_eq!(
        sender.close(CloseCode::NORMAL, "late"),
        Err(SendError::Closed),
        "the connection is gone"
    );
}

/// An idle server connection, after its buffers went back, costs at most
/// 2 KiB: the `WebSocket` itself (which a server's task holds) plus the heap
/// it keeps (the engine's, the driver's timer, and the in-memory pipe's own
/// buffers, counted here too, so this is an upper bound).
#[tokio::test(start_paused = true)]
async fn an_idle_connection_costs_at_most_2_kib_of_heap() {
    let (mut raw, server_side) = tokio::io::duplex(4 << 10);
    let before = LIVE.with(Cell::get);
    let accepting = tokio::spawn(async move {
        WebSocket::accept(server_side, Config::new(), |_| Answer::accept()).await
    });
    raw.write_all(common::REQUEST).await.unwrap();
    let mut server = accepting.await.unwrap().unwrap();
    let mut wire = Vec::new();
    hybi::frame::encode::encode_frame(
        &mut wire,
        true,
        hybi::frame::Opcode::Text,
        Some([1, 2, 3, 4]),
        b"hello",
    );
    raw.write_all(&wire).await.unwrap();
    assert!(matches!(server.recv().await.unwrap(), Event::Text("hello")));
    // Idle for three (paused) seconds, waiting in recv.
    assert!(
        tokio::time::timeout(Duration::from_secs(3), server.recv())
            .await
            .is_err()
    );
    assert_eq!(server.buffered_bytes(), 0);
    let held = LIVE.with(Cell::get) - before;
    println!(
        "idle connection: {held} heap bytes (with the pipe's), WebSocket struct {} bytes",
        std::mem::size_of_val(&server)
    );
    let total = held as usize + std::mem::size_of_val(&server);
    assert!(total <= 2048, "{total} bytes for an idle connection");
    drop(raw);
}

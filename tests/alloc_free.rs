//! Zero heap allocations per message in the steady-state echo loop.
//!
//! A counting global allocator counts allocations made by this thread. After
//! a warm-up that grows the buffers to their working size, echoing messages
//! (client → server → client, both roles encoding, masking, decoding and
//! validating) must not allocate at all, with the default `Config`: small and
//! large, whole, fragmented, and above the chunk threshold.

// A global allocator cannot be written without `unsafe`; this test-only
// shim forwards every call to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hybi::{Accept, ClientRequest, Config, Connection, Event, MessageKind};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn add_live(bytes: isize) {
    LIVE_BYTES.with(|c| c.set(c.get() + bytes));
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        add_live(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-(layout.size() as isize));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        add_live(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Heap bytes this thread holds now.
fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

/// Moves everything `from` wants to send into `to` through its zero-copy door.
fn pipe(from: &mut Connection, to: &mut Connection) {
    loop {
        let out = from.transmit();
        if out.is_empty() {
            return;
        }
        let buf = to.read_buf();
        let n = buf.len().min(out.len());
        buf[..n].copy_from_slice(&out[..n]);
        to.commit(n);
        from.advance(n);
    }
}

fn connected(config: Config) -> (Connection, Connection) {
    let mut client = Connection::client(ClientRequest::new("localhost", "/"), config).unwrap();
    let mut server = Connection::server(config);
    pipe(&mut client, &mut server);
    assert!(matches!(
        server.next_event(),
        Ok(Some(Event::HandshakeRequest(_)))
    ));
    server.accept(Accept::new()).unwrap();
    pipe(&mut server, &mut client);
    assert!(matches!(
        client.next_event(),
        Ok(Some(Event::HandshakeResponse(_)))
    ));
    (client, server)
}

/// How the client sends a message.
#[derive(Clone, Copy)]
enum Send {
    Whole {
        text: bool,
    },
    /// In this many fragments.
    Fragments(usize),
}

/// One echo round trip; returns the length the client got back. The server
/// echoes whole messages whole and chunked messages chunk by chunk.
fn echo(client: &mut Connection, server: &mut Connection, payload: &[u8], how: Send) -> usize {
    match how {
        Send::Whole { text: true } => client
            .send_text(std::str::from_utf8(payload).unwrap())
            .unwrap(),
        Send::Whole { text: false } => client.send_binary(payload).unwrap(),
        Send::Fragments(n) => {
            let size = payload.len().div_ceil(n).max(1);
            let count = payload.chunks(size).count();
            for (i, piece) in payload.chunks(size).enumerate() {
                client
                    .send_fragment(MessageKind::Binary, piece, i + 1 == count)
                    .unwrap();
            }
        }
    }
    pipe(client, server);
    {
        let (mut inbound, mut outbound) = server.split();
        while let Some(event) = inbound.next_event().unwrap() {
            match event {
                Event::Text(t) => outbound.send_text(t).unwrap(),
                Event::Binary(b) => outbound.send_binary(b).unwrap(),
                Event::TextChunk { data, last } => outbound
                    .send_fragment(MessageKind::Text, data.as_bytes(), last)
                    .unwrap(),
                Event::BinaryChunk { data, last } => outbound
                    .send_fragment(MessageKind::Binary, data, last)
                    .unwrap(),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    pipe(server, client);
    let mut got = 0;
    while let Some(event) = client.next_event().unwrap() {
        got += match event {
            Event::Text(t) => t.len(),
            Event::Binary(b) => b.len(),
            Event::TextChunk { data, .. } => data.len(),
            Event::BinaryChunk { data, .. } => data.len(),
            other => panic!("unexpected {other:?}"),
        };
    }
    got
}

fn assert_alloc_free(config: Config, cases: &[(usize, Send)]) {
    let (mut client, mut server) = connected(config);
    #[cfg(feature = "deflate")]
    {
        let agreed = config.get_deflate().is_some();
        assert_eq!(client.deflate().is_some(), agreed);
        assert_eq!(server.deflate().is_some(), agreed);
    }
    let payloads: Vec<Vec<u8>> = cases
        .iter()
        .map(|&(n, _)| (0..n).map(|i| b'a' + (i % 26) as u8).collect())
        .collect();
    // Warm-up: every case once, so buffers reach their working size.
    for (p, &(_, how)) in payloads.iter().zip(cases) {
        assert_eq!(echo(&mut client, &mut server, p, how), p.len());
    }
    let before = allocations();
    for _ in 0..10 {
        for (p, &(_, how)) in payloads.iter().zip(cases) {
            assert_eq!(echo(&mut client, &mut server, p, how), p.len());
        }
    }
    let made = allocations() - before;
    assert_eq!(
        made,
        0,
        "{made} allocations in {} steady-state echoes",
        10 * cases.len()
    );
}

/// With permessage-deflate and context takeover (the default policy), the
/// compressor, decompressor and their buffers are reused: no allocation
/// per message once warm, whole, fragmented or chunked (up to
/// `buffer_high_water`, above which buffers are released by design).
#[test]
#[cfg(feature = "deflate")]
fn echo_loop_is_allocation_free_with_permessage_deflate() {
    let config = Config::new().deflate(hybi::DeflateConfig::new());
    assert_alloc_free(
        config,
        &[
            (200, TEXT),
            (16 << 10, TEXT),
            (4096, BINARY),
            (30, TEXT),
            (60 << 10, Send::Fragments(4)),
            // Above the chunk threshold (echoed as compressed fragments),
            // below the buffers' high-water mark.
            (3 << 19, BINARY),
        ],
    );
}

/// Without context takeover, with the default policy (zlib's state given
/// up after every message), the states are parked by the thread and taken
/// back for the next message: still no allocation per message.
#[test]
#[cfg(feature = "deflate")]
fn echo_loop_is_allocation_free_without_context_takeover() {
    let policy = hybi::DeflateConfig::new()
        .own_no_context_takeover(true)
        .peer_no_context_takeover(true);
    assert!(policy.get_release_between_messages());
    assert_alloc_free(
        Config::new().deflate(policy),
        &[
            (200, TEXT),
            (16 << 10, TEXT),
            (4096, BINARY),
            (60 << 10, Send::Fragments(4)),
        ],
    );
}

/// A prepared message queued on 100 server connections, round after
/// round: no allocation per recipient once the transmit buffers have
/// grown (also with the frame compressed once, without server context
/// takeover).
#[test]
fn prepared_messages_are_allocation_free_per_recipient() {
    let update = "{\"type\":\"message\",\"from\":\"ada\",\"text\":\"hello, room\"} ".repeat(20);
    #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
    let mut cases = vec![(
        hybi::PreparedMessage::text(&update),
        (0..100)
            .map(|_| hybi::testing::open_server(Config::new()))
            .collect::<Vec<_>>(),
    )];
    #[cfg(feature = "deflate")]
    {
        let policy = hybi::DeflateConfig::new().own_no_context_takeover(true);
        cases.push((
            hybi::PreparedMessage::text(&update).compressed(15, 6),
            (0..100)
                .map(|_| hybi::testing::open_server_deflate(Config::new().deflate(policy)))
                .collect(),
        ));
    }
    for (prepared, mut conns) in cases {
        let round = |conns: &mut Vec<Connection>| {
            for conn in conns.iter_mut() {
                conn.send_prepared(&prepared).unwrap();
                let n = conn.transmit().len();
                assert!(n > 0 && n <= prepared.payload().len() + 4);
                conn.advance(n);
            }
        };
        round(&mut conns);
        let before = allocations();
        for _ in 0..10 {
            round(&mut conns);
        }
        assert_eq!(
            allocations() - before,
            0,
            "allocations for 1,000 recipients"
        );
    }
}

const TEXT: Send = Send::Whole { text: true };
const BINARY: Send = Send::Whole { text: false };

#[test]
fn echo_loop_is_allocation_free_for_small_messages() {
    let sizes = [0, 1, 16, 125, 126, 1000, 4096, 16 << 10, 60 << 10];
    let cases: Vec<(usize, Send)> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| (n, if i % 2 == 0 { TEXT } else { BINARY }))
        .collect();
    assert_alloc_free(Config::new(), &cases);
}

#[test]
fn echo_loop_is_allocation_free_up_to_the_chunk_threshold() {
    assert_alloc_free(
        Config::new(),
        &[
            (65536, TEXT),
            (256 << 10, BINARY),
            (1 << 20, TEXT),
            (1 << 20, BINARY),
        ],
    );
}

#[test]
fn fragmented_and_chunked_messages_are_allocation_free() {
    assert_alloc_free(
        Config::new(),
        &[
            (1000, Send::Fragments(10)),
            (1 << 20, Send::Fragments(64)),
            // Above the 1 MiB chunk threshold: received and echoed in chunks.
            ((3 << 20) / 2, Send::Fragments(3)),
            ((3 << 20) / 2, BINARY),
        ],
    );
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    let v: Vec<u8> = Vec::with_capacity(10);
    assert!(allocations() > before);
    drop(v);
}

/// An idle connection after `shrink_buffers` holds at most 1 KiB of heap in
/// either role (a client's includes its boxed mask generator), after it has
/// carried a 1 MiB message.
#[test]
fn idle_connections_hold_at_most_1_kib_after_shrink() {
    let before = live_bytes();
    let (mut client, mut server) = connected(Config::new());
    let big = vec![7u8; 1 << 20];
    client.send_binary(&big).unwrap();
    drop(big);
    pipe(&mut client, &mut server);
    while server.next_event().unwrap().is_some() {}
    assert!(live_bytes() - before > 1 << 20, "the message was held");
    client.shrink_buffers();
    server.shrink_buffers();
    let held = live_bytes() - before;
    let client_heap = {
        let with_both = held;
        drop(server);
        let client_only = live_bytes() - before;
        assert!(
            with_both - client_only <= 1024,
            "idle server holds {} bytes",
            with_both - client_only
        );
        client_only
    };
    assert!(client_heap <= 1024, "idle client holds {client_heap} bytes");
    drop(client);
    assert_eq!(live_bytes(), before, "everything was freed");
}

/// A server's uncopied sends, fully written, allocate nothing at all.
#[test]
fn vectored_sends_are_allocation_free() {
    let (_client, mut server) = connected(Config::new());
    let payload = vec![3u8; 256 << 10];
    let mut sink = vec![0u8; 300 << 10];
    let before = allocations();
    for _ in 0..100 {
        let mut send = server.send_binary_vectored(&payload).unwrap();
        let mut at = 0;
        for part in send.parts() {
            sink[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        send.finish(at);
    }
    assert_eq!(allocations() - before, 0);
    assert!(server.transmit().is_empty());
}

/// The engine struct stays within its budget (docs/limits.md): 464 bytes on
/// 64-bit targets, the figure the connection-scale numbers are built on
/// (456 until a prepared broadcast frame could be held by reference: one
/// pointer); the `deflate` feature adds 32: its policy and two pointers
/// (the compressor and the decompressor, allocated only when agreed).
#[test]
#[cfg(target_pointer_width = "64")]
fn the_connection_struct_is_at_most_464_bytes() {
    let size = std::mem::size_of::<Connection>();
    let budget = if cfg!(feature = "deflate") { 496 } else { 464 };
    assert!(size <= budget, "Connection is {size} bytes");
}

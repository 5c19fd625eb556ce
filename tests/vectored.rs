//! Uncopied sends: `send_binary_vectored`, `send_text_vectored` and
//! `send_binary_in_place`. The parts, written in order, are the same bytes a
//! copying send would queue; a partial write at any point loses nothing and
//! keeps later frames behind the payload; the state rules are those of
//! `send_binary`.

mod common;

use common::{Ev, client_frame, open_client, open_server};
use hybi::frame::Opcode;
use hybi::{CloseCode, Connection, Event, MessageKind, UsageError};

/// Writes the first `n` bytes of the parts, as a short vectored write does.
fn write_prefix(parts: [&[u8]; 3], n: usize, sink: &mut Vec<u8>) -> usize {
    let mut left = n;
    for part in parts {
        let take = left.min(part.len());
        sink.extend_from_slice(&part[..take]);
        left -= take;
    }
    n - left
}

fn drain(conn: &mut Connection, sink: &mut Vec<u8>) {
    let out = conn.transmit();
    sink.extend_from_slice(out);
    let n = out.len();
    conn.advance(n);
}

/// A server with a text message and a Pong (for a client Ping) queued.
fn busy_server() -> Connection {
    let mut conn = open_server(hybi::Config::new());
    conn.send_text("before").unwrap();
    conn.receive(&client_frame(true, Opcode::Ping, b"hb"));
    assert!(matches!(conn.next_event(), Ok(Some(Event::Ping(_)))));
    conn
}

#[test]
fn server_parts_are_the_copying_send_at_every_partial_write() {
    for size in [0usize, 5, 125, 126, 65535, 65536, 70000] {
        let payload: Vec<u8> = (0..size).map(|i| (i * 13 + 1) as u8).collect();
        let mut expected = Vec::new();
        let mut twin = busy_server();
        twin.send_binary(&payload).unwrap();
        twin.send_text("after").unwrap();
        drain(&mut twin, &mut expected);

        let queued = {
            let mut probe = busy_server();
            probe.transmit().len()
        };
        let header = 2 + if size > 65535 {
            8
        } else if size > 125 {
            2
        } else {
            0
        };
        let total = queued + header + size;
        let mut cuts = vec![0, 1, queued - 1, queued, queued + 1, queued + header];
        cuts.extend([total.saturating_sub(1), total, total + 5]);
        for cut in cuts {
            let mut conn = busy_server();
            let mut sink = Vec::new();
            let mut send = conn.send_binary_vectored(&payload).unwrap();
            assert_eq!(send.len(), total);
            let written = write_prefix(send.parts(), cut, &mut sink);
            send.finish(written);
            conn.send_text("after").unwrap();
            drain(&mut conn, &mut sink);
            assert_eq!(sink, expected, "size {size}, socket took {cut}");
        }
    }
}

#[test]
fn a_fully_written_vectored_send_leaves_nothing_queued() {
    let mut conn = busy_server();
    let payload = vec![9u8; 100_000];
    let mut sink = Vec::new();
    let mut send = conn.send_binary_vectored(&payload).unwrap();
    let [queued, header, body] = send.parts();
    assert!(!queued.is_empty(), "the text and the Pong come first");
    assert_eq!(header, [0x82, 127, 0, 0, 0, 0, 0, 1, 0x86, 0xa0]);
    assert_eq!(body.as_ptr(), payload.as_ptr(), "the payload is not copied");
    let total = send.len();
    assert_eq!(write_prefix(send.parts(), total, &mut sink), total);
    send.finish(total);
    assert!(conn.transmit().is_empty());
    assert!(!conn.wants_transmit());
}

#[test]
fn dropping_an_unfinished_send_queues_all_of_it() {
    let mut expected = Vec::new();
    let mut twin = busy_server();
    twin.send_text("ok").unwrap();
    drain(&mut twin, &mut expected);

    let mut conn = busy_server();
    drop(conn.send_text_vectored("ok").unwrap());
    let mut sink = Vec::new();
    drain(&mut conn, &mut sink);
    assert_eq!(sink, expected);
}

/// Feeds a client's output to a server and returns the server's events.
fn server_events(bytes: &[u8]) -> Vec<Ev> {
    let mut server = open_server(hybi::Config::new());
    server.receive(bytes);
    let mut events = Vec::new();
    while let Some(event) = server.next_event().unwrap() {
        events.push(Ev::from_event(&event));
    }
    events
}

#[test]
fn client_in_place_masks_the_callers_buffer_and_the_server_reads_it() {
    let original: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let mut client = open_client(hybi::Config::new());
    client.send_ping(b"p").unwrap();
    let mut buffer = original.clone();
    let mut sink = Vec::new();
    let mut send = client.send_binary_in_place(&mut buffer).unwrap();
    let [_, header, body] = send.parts();
    assert_eq!(header.len(), 2 + 2 + 4, "126-form length and a mask");
    assert_eq!(header[1] & 0x80, 0x80, "masked");
    assert_eq!(body.len(), original.len());
    // Cut inside the payload: the tail is copied into transmit.
    let cut = send.len() - 1000;
    let written = write_prefix(send.parts(), cut, &mut sink);
    send.finish(written);
    drain(&mut client, &mut sink);
    assert_ne!(buffer, original, "masked in place");
    assert_eq!(
        server_events(&sink),
        [Ev::Ping(b"p".to_vec()), Ev::Binary(original)]
    );
}

#[test]
fn client_borrowed_payload_is_queued_as_a_masked_copy() {
    let mut client = open_client(hybi::Config::new());
    let mut sink = Vec::new();
    let mut send = client.send_text_vectored("héllo").unwrap();
    let [queued, header, body] = send.parts();
    assert!(header.is_empty() && body.is_empty());
    assert!(!queued.is_empty());
    let n = write_prefix(send.parts(), 3, &mut sink);
    send.finish(n);
    drain(&mut client, &mut sink);
    assert_eq!(server_events(&sink), [Ev::Text("héllo".into())]);
}

#[test]
fn vectored_sends_follow_the_state_rules_and_queue_nothing_on_error() {
    let mut fresh = Connection::server(hybi::Config::new());
    assert_eq!(
        fresh.send_binary_vectored(b"x").err(),
        Some(UsageError::NotOpen)
    );
    let mut buf = *b"abc";
    assert_eq!(
        fresh.send_binary_in_place(&mut buf).err(),
        Some(UsageError::NotOpen)
    );

    let mut fragmenting = open_server(hybi::Config::new());
    fragmenting
        .send_fragment(MessageKind::Binary, b"a", false)
        .unwrap();
    let before = fragmenting.transmit().to_vec();
    assert_eq!(
        fragmenting.send_text_vectored("x").err(),
        Some(UsageError::FragmentInProgress)
    );
    assert_eq!(fragmenting.transmit(), before);

    let mut client = open_client(hybi::Config::new());
    client.close(CloseCode::NORMAL, "").unwrap();
    let mut buf = *b"abc";
    assert_eq!(
        client.send_binary_in_place(&mut buf).err(),
        Some(UsageError::Closed)
    );
    assert_eq!(&buf, b"abc", "not masked on error");
}

//! Prepared messages: the bytes a server queues are the frame encoded once
//! (the same on every connection, and the same as `send_text` would
//! write), under `send_text`'s rules; a client falls back to masking; with
//! permessage-deflate the frame compressed once is used exactly where the
//! agreement allows it (no server context takeover, a window at least as
//! large), and every other connection compresses the payload itself: the
//! peer decodes every message either way.

mod common;

use common::{Ev, Pair};
use hybi::{CloseCode, Config, MessageKind, PreparedMessage, UsageError};

fn queued(conn: &mut hybi::Connection) -> Vec<u8> {
    let out = conn.transmit().to_vec();
    conn.advance(out.len());
    out
}

#[test]
fn a_server_queues_the_frame_encoded_once() {
    let text = "broadcast ✓ ".repeat(30);
    let prepared = PreparedMessage::text(&text);
    assert_eq!(prepared.kind(), MessageKind::Text);
    assert_eq!(prepared.payload(), text.as_bytes());
    let mut a = hybi::testing::open_server(Config::new());
    let mut b = hybi::testing::open_server(Config::new());
    let mut reference = hybi::testing::open_server(Config::new());
    a.send_prepared(&prepared).unwrap();
    b.send_prepared(&prepared).unwrap();
    reference.send_text(&text).unwrap();
    let sent = queued(&mut a);
    assert_eq!(sent, queued(&mut b));
    assert_eq!(
        sent,
        queued(&mut reference),
        "the same bytes send_text writes"
    );

    // In order with what else is queued.
    a.send_ping(b"p").unwrap();
    a.send_prepared(&PreparedMessage::binary(&[1, 2, 3]))
        .unwrap();
    a.send_text("after").unwrap();
    assert_eq!(
        queued(&mut a),
        [
            &[0x89, 1, b'p'][..],
            &[0x82, 3, 1, 2, 3],
            &[0x81, 5],
            b"after"
        ]
        .concat()
    );
}

#[test]
fn an_idle_connection_holds_the_frame_without_copying_it() {
    let text = "shared ".repeat(200);
    let prepared = PreparedMessage::text(&text);
    let mut a = hybi::testing::open_server(Config::new());
    let mut b = hybi::testing::open_server(Config::new());
    let held_before = a.buffered_bytes();
    a.send_prepared(&prepared).unwrap();
    b.send_prepared(&prepared).unwrap();
    // Both connections' pending bytes are the prepared frame itself.
    let at = a.transmit().as_ptr();
    assert_eq!(at, b.transmit().as_ptr(), "one frame, two connections");
    assert_eq!(
        a.buffered_bytes(),
        held_before,
        "nothing copied into a's buffer"
    );

    // A partial write, then more queued behind the rest: the rest is
    // copied, and the order holds.
    let whole = a.transmit().to_vec();
    a.advance(100);
    assert_eq!(a.transmit(), &whole[100..]);
    a.send_binary(b"next").unwrap();
    assert_eq!(a.transmit(), [&whole[100..], &[0x82, 4], b"next"].concat());
    assert_ne!(a.transmit().as_ptr(), at);
    queued(&mut a);

    // A vectored send behind a held frame: the frame comes first.
    let payload = vec![7u8; 3000];
    let mut send = b.send_binary_vectored(&payload).unwrap();
    let [held, head, body] = send.parts();
    assert_eq!(held, &whole[..]);
    assert_eq!(body.len(), 3000);
    let written = held.len() + head.len() + 10;
    send.finish(written);
    assert_eq!(b.transmit(), &payload[10..]);
    queued(&mut b);

    // A Ping's owed Pong goes behind the held frame.
    let mut pair = Pair::connected(Config::new(), Config::new());
    pair.server.send_prepared(&prepared).unwrap();
    pair.client.send_ping(b"hi").unwrap();
    let ping = queued(&mut pair.client);
    pair.server.receive(&ping);
    while let Ok(Some(_)) = pair.server.next_event() {}
    let out = queued(&mut pair.server);
    assert_eq!(&out[..whole.len()], &whole[..]);
    assert_eq!(&out[whole.len()..], &[0x8a, 2, b'h', b'i']);
    pair.client.receive(&out);
    pair.drive();
    assert_eq!(
        pair.client_events,
        [Ev::Text(text.clone()), Ev::Pong(b"hi".to_vec())]
    );
}

#[test]
fn send_texts_rules_apply() {
    let prepared = PreparedMessage::text("x");
    let mut before = hybi::Connection::server(Config::new());
    assert_eq!(before.send_prepared(&prepared), Err(UsageError::NotOpen));

    let mut fragmenting = hybi::testing::open_server(Config::new());
    fragmenting
        .send_fragment(MessageKind::Text, b"part", false)
        .unwrap();
    assert_eq!(
        fragmenting.send_prepared(&prepared),
        Err(UsageError::FragmentInProgress)
    );

    let mut closed = hybi::testing::open_server(Config::new());
    closed.close(CloseCode::NORMAL, "").unwrap();
    let close = queued(&mut closed);
    assert_eq!(closed.send_prepared(&prepared), Err(UsageError::Closed));
    assert!(queued(&mut closed).is_empty(), "nothing after {close:?}");
}

#[test]
fn a_client_masks_instead() {
    let mut pair = Pair::connected(Config::new(), Config::new());
    let prepared = PreparedMessage::text("from a client");
    pair.client.send_prepared(&prepared).unwrap();
    let wire = pair.client.transmit().to_vec();
    assert_eq!(wire[1] & 0x80, 0x80, "masked");
    assert_ne!(&wire[2..], prepared.payload());
    pair.drive();
    assert_eq!(pair.server_events, [Ev::Text("from a client".into())]);
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use hybi::DeflateConfig;

    fn pair(server: DeflateConfig) -> Pair {
        let pair = Pair::connected(
            Config::new().deflate(DeflateConfig::new()),
            Config::new().deflate(server),
        );
        assert!(pair.server.deflate().is_some());
        pair
    }

    fn json(i: usize) -> String {
        format!(
            r#"{{"type":"message","from":"ada","text":"{}"}}"#,
            "hello world ".repeat(10 + i)
        )
    }

    /// Sends `messages` prepared (compressed for `bits`) from the server and
    /// returns the frames it queued; the client must decode them all.
    fn broadcast(pair: &mut Pair, messages: &[PreparedMessage]) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        for m in messages {
            pair.server.send_prepared(m).unwrap();
            frames.push(pair.server.transmit().to_vec());
            pair.drive();
        }
        let expected: Vec<Ev> = messages
            .iter()
            .map(|m| Ev::Text(String::from_utf8(m.payload().to_vec()).unwrap()))
            .collect();
        assert_eq!(pair.client_events, expected);
        pair.client_events.clear();
        frames
    }

    fn compressed_frame(m: &PreparedMessage) -> Vec<u8> {
        // The frame a fresh server with the same settings would queue.
        let mut conn = hybi::testing::open_server_deflate(
            Config::new().deflate(DeflateConfig::new().own_no_context_takeover(true)),
        );
        conn.send_prepared(m).unwrap();
        conn.transmit().to_vec()
    }

    #[test]
    fn without_server_context_takeover_the_frame_compressed_once_is_sent() {
        let messages: Vec<PreparedMessage> = (0..5)
            .map(|i| PreparedMessage::text(&json(i)).compressed(15, 6))
            .collect();
        let mut a = pair(DeflateConfig::new().own_no_context_takeover(true));
        let mut b = pair(DeflateConfig::new().own_no_context_takeover(true));
        let from_a = broadcast(&mut a, &messages);
        let from_b = broadcast(&mut b, &messages);
        assert_eq!(from_a, from_b, "the same bytes on every connection");
        for (frame, m) in from_a.iter().zip(&messages) {
            assert_eq!(frame[0], 0xc1, "compressed (RSV1)");
            assert!(frame.len() < m.payload().len());
            assert_eq!(*frame, compressed_frame(m));
        }
    }

    #[test]
    fn with_context_takeover_the_connection_compresses_it_itself() {
        let messages: Vec<PreparedMessage> = (0..5)
            .map(|i| PreparedMessage::text(&json(i)).compressed(15, 6))
            .collect();
        let mut p = pair(DeflateConfig::new());
        // Prepared and ordinary messages interleaved: the windows stay in step.
        for (i, m) in messages.iter().enumerate() {
            p.server.send_prepared(m).unwrap();
            p.server.send_text(&json(i + 100)).unwrap();
            p.drive();
        }
        let expected: Vec<Ev> = (0..5)
            .flat_map(|i| [Ev::Text(json(i)), Ev::Text(json(i + 100))])
            .collect();
        assert_eq!(p.client_events, expected);
        // Later messages refer back to earlier ones: not the once-compressed frame.
        p.client_events.clear();
        p.server.send_prepared(&messages[4]).unwrap();
        let frame = p.server.transmit().to_vec();
        assert_ne!(frame, compressed_frame(&messages[4]));
        p.drive();
        assert_eq!(p.client_events, [Ev::Text(json(4))]);
    }

    /// 1,500 pseudo-random letters, twice: the second copy is a match 1,500
    /// bytes back, which a 15-bit window reaches and a 10-bit one does not.
    fn repeated_far_apart() -> String {
        let mut x = 12345u32;
        let block: String = (0..1500)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                char::from(b'a' + (x >> 16) as u8 % 26)
            })
            .collect();
        format!("{block}{block}")
    }

    #[test]
    fn a_smaller_agreed_window_is_respected() {
        let text = repeated_far_apart();
        let wide = PreparedMessage::text(&text).compressed(15, 6);
        let narrow = PreparedMessage::text(&text).compressed(10, 6);
        let policy = DeflateConfig::new()
            .own_no_context_takeover(true)
            .own_window_bits(10);
        let mut p = pair(policy);
        let frames = broadcast(&mut p, &[wide.clone(), narrow.clone()]);
        assert_ne!(
            frames[0],
            compressed_frame(&wide),
            "15 bits do not fit a 10-bit window"
        );
        assert_eq!(frames[1][0], 0xc1);
        let mut fresh = hybi::testing::open_server_deflate(Config::new().deflate(policy));
        fresh.send_prepared(&narrow).unwrap();
        assert_eq!(frames[1], fresh.transmit(), "10 bits fit");
    }

    #[test]
    fn small_or_uncompressed_messages_go_as_they_are() {
        let tiny = PreparedMessage::text("hi").compressed(15, 6);
        let plain = PreparedMessage::text(&json(2));
        let mut p = pair(
            DeflateConfig::new()
                .own_no_context_takeover(true)
                .threshold(16),
        );
        let frames = broadcast(&mut p, &[tiny.clone(), plain.clone()]);
        assert_eq!(
            frames[0],
            [&[0x81, 2][..], b"hi"].concat(),
            "below the threshold"
        );
        // Not prepared for compression: this connection compresses it.
        assert_eq!(frames[1][0], 0xc1);
    }
}

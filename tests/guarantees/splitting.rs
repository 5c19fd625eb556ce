//! The splitting guarantee: input fed whole, byte by byte and at seeded random
//! split points gives the same events, error, output and state, over a stream
//! of every length form and fragment shape.

use crate::helpers::*;

/// A stream exercising every length form and fragment shape, as `side`'s peer
/// sends it, with the events it must produce.
fn mixed_stream(side: Side) -> (Vec<u8>, Vec<Ev>) {
    let text = "Grüße, κόσμε, 你好, 😀!";
    let bytes = text.as_bytes();
    let mut input = Vec::new();
    let mut events = Vec::new();
    for len in [0usize, 1, 125, 126, 127, 65_535, 65_536] {
        let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        input.extend(peer(side, true, Opcode::Binary, &payload));
        events.push(Ev::Binary(payload));
    }
    // Text split at every byte position, including inside characters.
    for cut in [1, 3, 4, 9, 20, 27, bytes.len() - 1] {
        input.extend(peer(side, false, Opcode::Text, &bytes[..cut]));
        input.extend(peer(side, false, Opcode::Continuation, &[]));
        input.extend(peer(side, true, Opcode::Continuation, &bytes[cut..]));
        events.push(Ev::Text(text.into()));
    }
    input.extend(peer(side, true, Opcode::Text, "x".repeat(300).as_bytes()));
    events.push(Ev::Text("x".repeat(300)));
    input.extend(peer(side, true, Opcode::Pong, b"heartbeat"));
    events.push(Ev::Pong(b"heartbeat".to_vec()));
    input.extend(peer(side, true, Opcode::Ping, b"are you there"));
    events.push(Ev::Ping(b"are you there".to_vec()));
    input.extend(peer(side, true, Opcode::Ping, b"again"));
    events.push(Ev::Ping(b"again".to_vec()));
    input.extend(peer(
        side,
        true,
        Opcode::Close,
        &[0x0f, 0xa0, b'b', b'y', b'e'],
    ));
    events.push(Ev::Close(4000, "bye".into()));
    (input, events)
}

#[test]
fn split_invariance_server_stream() {
    let (input, events) = mixed_stream(Side::Server);
    let t = assert_events(Side::Server, Config::new(), &input, &events);
    assert_eq!(
        t.output,
        [
            &[0x8a, 13][..],
            b"are you there",
            &[0x8a, 5],
            b"again",
            &[0x88, 0x02, 0x0f, 0xa0]
        ]
        .concat()
    );
    assert_eq!(t.state, State::Closed);
}

#[test]
fn split_invariance_client_stream() {
    let (input, events) = mixed_stream(Side::Client);
    let t = assert_events(Side::Client, Config::new(), &input, &events);
    let sent = sent_frames(&t.output);
    assert_eq!(sent.len(), 3);
    assert_eq!(
        (sent[0].b0, sent[0].payload.as_slice()),
        (0x8a, &b"are you there"[..])
    );
    assert_eq!(
        (sent[1].b0, sent[1].payload.as_slice()),
        (0x8a, &b"again"[..])
    );
    assert_eq!(
        (sent[2].b0, sent[2].payload.as_slice()),
        (0x88, &[0x0f, 0xa0][..])
    );
    assert!(sent.iter().all(|f| f.masked));
    assert_eq!(t.state, State::Closed);
}

#[test]
fn split_invariance_chunked_messages() {
    let threshold = 16;
    let config = Config::new().chunk_threshold(threshold);
    let text: String = "aé€😀".repeat(20);
    let binary: Vec<u8> = (0..100u8).collect();
    for side in BOTH {
        let bytes = text.as_bytes();
        let input = [
            peer(side, true, Opcode::Text, bytes),
            peer(side, false, Opcode::Binary, &binary[..30]),
            peer(side, true, Opcode::Ping, b"mid"),
            peer(side, true, Opcode::Continuation, &binary[30..]),
            peer(side, true, Opcode::Text, b"short"),
        ]
        .concat();
        let t = assert_split_invariant(|| open(side, config), &input, false);
        assert_eq!(t.error, None);
        let mut text_out = String::new();
        let mut binary_out = Vec::new();
        let mut lasts = Vec::new();
        for event in &t.events {
            match event {
                Ev::TextChunk(data, last) => {
                    assert!(data.len() <= threshold, "{data:?}");
                    text_out.push_str(data);
                    lasts.push(('t', *last));
                }
                Ev::BinaryChunk(data, last) => {
                    assert!(data.len() <= threshold);
                    binary_out.extend_from_slice(data);
                    lasts.push(('b', *last));
                }
                Ev::Ping(p) => assert_eq!(p, b"mid"),
                Ev::Text(t) => assert_eq!(t, "short"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(text_out, text);
        assert_eq!(binary_out, binary);
        assert_eq!(t.events.last(), Some(&Ev::Text("short".into())));
        // Exactly one `last` per message, at its end.
        let t_lasts: Vec<bool> = lasts
            .iter()
            .filter(|(k, _)| *k == 't')
            .map(|x| x.1)
            .collect();
        let b_lasts: Vec<bool> = lasts
            .iter()
            .filter(|(k, _)| *k == 'b')
            .map(|x| x.1)
            .collect();
        assert!(t_lasts.len() > 1 && b_lasts.len() > 1);
        assert_eq!(t_lasts.iter().filter(|l| **l).count(), 1);
        assert_eq!(t_lasts.last(), Some(&true));
        assert_eq!(b_lasts.iter().filter(|l| **l).count(), 1);
        assert_eq!(b_lasts.last(), Some(&true));
    }
}

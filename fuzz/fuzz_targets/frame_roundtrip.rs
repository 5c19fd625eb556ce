//! Arbitrary messages (text or binary, whole or fragmented at arbitrary sizes,
//! with pings interleaved) sent by one role and decoded by the other must come
//! back identical and in order.
#![no_main]

use arbitrary::Arbitrary;
use hybi::{Config, Connection, Event, MessageKind};
use hybi_fuzz::{check_stream, open_client, open_server};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Message {
    text: bool,
    payload: Vec<u8>,
    /// Fragment sizes; empty sends the message whole.
    fragments: Vec<u8>,
    ping: Option<Vec<u8>>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    client_sends: bool,
    chunk_threshold: u16,
    messages: Vec<Message>,
}

fn send(conn: &mut Connection, m: &Message) -> (bool, Vec<u8>) {
    let payload = if m.text {
        String::from_utf8_lossy(&m.payload).into_owned().into_bytes()
    } else {
        m.payload.clone()
    };
    let kind = if m.text { MessageKind::Text } else { MessageKind::Binary };
    if m.fragments.is_empty() {
        match kind {
            MessageKind::Text => conn.send_text(std::str::from_utf8(&payload).unwrap()),
            MessageKind::Binary => conn.send_binary(&payload),
        }
        .unwrap();
    } else {
        let mut rest = &payload[..];
        for (i, &size) in m.fragments.iter().enumerate() {
            let last = i + 1 == m.fragments.len();
            let n = if last { rest.len() } else { usize::from(size).min(rest.len()) };
            conn.send_fragment(kind, &rest[..n], last).unwrap();
            rest = &rest[n..];
            if i == 0
                && let Some(ping) = &m.ping
            {
                conn.send_ping(&ping[..ping.len().min(125)]).unwrap();
            }
        }
    }
    (m.text, payload)
}

fuzz_target!(|input: Input| {
    let config = Config::new().chunk_threshold(usize::from(input.chunk_threshold).max(1));
    let (mut sender, mut receiver) = if input.client_sends {
        (open_client(config), open_server(config))
    } else {
        (open_server(config), open_client(config))
    };
    let sent: Vec<(bool, Vec<u8>)> = input.messages.iter().map(|m| send(&mut sender, m)).collect();
    let wire = sender.transmit().to_vec();
    // The stream invariants (whole = split = byte by byte, memory bound, no
    // error) on the receiving side, then the content check below.
    let client_receives = !input.client_sends;
    check_stream(
        || if client_receives { open_client(config) } else { open_server(config) },
        &config,
        &wire,
        &[],
        false,
    );
    receiver.receive(&wire);
    let mut got = Vec::new();
    let mut partial: Option<(bool, Vec<u8>)> = None;
    loop {
        match receiver.next_event() {
            Ok(Some(Event::Text(t))) => got.push((true, t.as_bytes().to_vec())),
            Ok(Some(Event::Binary(b))) => got.push((false, b.to_vec())),
            Ok(Some(Event::TextChunk { data, last })) => {
                let p = partial.get_or_insert((true, Vec::new()));
                p.1.extend_from_slice(data.as_bytes());
                if last {
                    got.push(partial.take().unwrap());
                }
            }
            Ok(Some(Event::BinaryChunk { data, last })) => {
                let p = partial.get_or_insert((false, Vec::new()));
                p.1.extend_from_slice(data);
                if last {
                    got.push(partial.take().unwrap());
                }
            }
            Ok(Some(Event::Ping(_))) => {}
            Ok(Some(other)) => panic!("unexpected event {other:?}"),
            Ok(None) => break,
            Err(e) => panic!("valid frames rejected: {e}"),
        }
    }
    assert!(partial.is_none());
    assert_eq!(got, sent);
});

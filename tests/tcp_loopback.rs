//! The echo server example's code path on a real loopback socket, driven by
//! the crate's own client: handshake, messages of several sizes (one above
//! the chunk threshold, echoed as fragments), ping, and a clean close.

#[path = "../examples/echo_server.rs"]
#[allow(dead_code)]
mod echo_server;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use hybi::{ClientRequest, CloseCode, Config, Connection, Event, State};

#[derive(Debug, PartialEq)]
enum Got {
    Text(String),
    Binary(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16),
}

struct Client {
    stream: TcpStream,
    conn: Connection,
    text: String,
    binary: Vec<u8>,
}

impl Client {
    fn flush(&mut self) {
        while self.conn.wants_transmit() {
            let n = self.stream.write(self.conn.transmit()).unwrap();
            self.conn.advance(n);
        }
    }

    /// Reads until one whole message, pong or close arrives (bounded by the
    /// socket's read timeout).
    fn next(&mut self) -> Got {
        loop {
            let mut got = None;
            while got.is_none() {
                let Some(event) = self.conn.next_event().unwrap() else {
                    break;
                };
                got = match event {
                    Event::Text(t) => Some(Got::Text(t.to_string())),
                    Event::Binary(b) => Some(Got::Binary(b.to_vec())),
                    Event::TextChunk { data, last } => {
                        self.text.push_str(data);
                        last.then(|| Got::Text(std::mem::take(&mut self.text)))
                    }
                    Event::BinaryChunk { data, last } => {
                        self.binary.extend_from_slice(data);
                        last.then(|| Got::Binary(std::mem::take(&mut self.binary)))
                    }
                    Event::Pong(p) => Some(Got::Pong(p.to_vec())),
                    Event::Close(c) => Some(Got::Close(c.code.0)),
                    _ => None,
                };
            }
            self.flush();
            if let Some(got) = got {
                return got;
            }
            let n = self.stream.read(self.conn.read_buf()).unwrap();
            if n == 0 {
                self.conn.receive_eof();
            } else {
                self.conn.commit(n);
            }
        }
    }
}

#[test]
fn echo_server_round_trips_over_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || echo_server::serve(listener, Some(1)));

    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let host = addr.to_string();
    let conn = Connection::client(ClientRequest::new(&host, "/echo"), Config::new()).unwrap();
    let mut client = Client {
        stream,
        conn,
        text: String::new(),
        binary: Vec::new(),
    };
    client.flush();
    // Handshake.
    loop {
        let n = client.stream.read(client.conn.read_buf()).unwrap();
        assert!(n > 0, "server closed during the handshake");
        client.conn.commit(n);
        if let Some(Event::HandshakeResponse(r)) = client.conn.next_event().unwrap() {
            assert_eq!(r.status(), 101);
            assert_eq!(r.protocol(), None);
            break;
        }
    }
    assert_eq!(client.conn.state(), State::Open);

    client.conn.send_text("hello, κόσμε").unwrap();
    client.flush();
    assert_eq!(client.next(), Got::Text("hello, κόσμε".into()));

    for size in [0usize, 1, 125, 126, 65535, 65536, 1 << 20, (2 << 20) + 7] {
        let payload: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        client.conn.send_binary(&payload).unwrap();
        client.flush();
        assert_eq!(client.next(), Got::Binary(payload), "size {size}");
    }
    let big_text = "ünïcödé ".repeat(300_000);
    client.conn.send_text(&big_text).unwrap();
    client.flush();
    assert_eq!(client.next(), Got::Text(big_text));

    client.conn.send_ping(b"tick").unwrap();
    client.flush();
    assert_eq!(client.next(), Got::Pong(b"tick".to_vec()));

    client.conn.close(CloseCode::NORMAL, "done").unwrap();
    client.flush();
    assert_eq!(client.next(), Got::Close(1000));
    assert_eq!(client.conn.state(), State::Closed);
    // The server closes TCP first; the client sees EOF.
    assert!(!client.conn.close_expected());
    let n = client.stream.read(client.conn.read_buf()).unwrap();
    assert_eq!(n, 0, "server should close TCP after the close handshake");
    client.conn.receive_eof();
    assert!(client.conn.close_expected());

    server.join().unwrap().unwrap();
}

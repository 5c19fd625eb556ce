//! Raw bytes as a client's handshake request. Whole, split and byte-by-byte
//! feeding agree; a valid request can be accepted and yields a 101; an
//! invalid one yields a typed error with an HTTP error response queued.
#![no_main]

use hybi::{Accept, Config, Connection, Error, Event};
use hybi_fuzz::{check_stream, small_config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else { return };
    let config = if flags & 1 == 0 { small_config() } else { Config::new() };
    check_stream(|| Connection::server(config), &config, input, &input[..input.len().min(8)], flags & 2 != 0);

    let mut conn = Connection::server(config);
    conn.receive(input);
    let request = match conn.next_event() {
        Ok(Some(Event::HandshakeRequest(r))) => Some((r.key().len(), r.protocols().count())),
        Ok(_) => None,
        Err(Error::Handshake(e)) => {
            let status = e.status().expect("server errors carry a status");
            let out = String::from_utf8_lossy(conn.transmit()).into_owned();
            assert!(out.starts_with(&format!("HTTP/1.1 {status} ")), "{out}");
            None
        }
        Err(e) => panic!("unexpected error kind {e:?}"),
    };
    if let Some((key_len, _)) = request {
        assert_eq!(key_len, 24);
        conn.accept(Accept::new()).expect("a reported request can be accepted");
        assert!(conn.transmit().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
        // Whatever followed the request is now the frame stream.
        let _ = conn.next_event();
    }
});

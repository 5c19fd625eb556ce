//! hybi with permessage-deflate: `Connection::server` with
//! `Config::new().deflate(DeflateConfig::new())` (level 6, window 15 both
//! ways, memLevel 8, messages under 64 bytes uncompressed: none here), or
//! with `own_no_context_takeover(true).peer_no_context_takeover(true)`,
//! opened by a handshake whose request offers
//! `permessage-deflate; client_max_window_bits` (as browsers do), which the
//! server accepts with `Accept::new()`.

use std::io::Write;
use std::rc::Rc;

use super::{RxInput, Sent, Workload, frame_payloads};
use crate::wire::{Sink, Wire};
use crate::{Check, Driver, Receiver, Totals};

/// The upgrade request: the one of the other hybi drivers, plus the
/// permessage-deflate offer browsers send.
const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com:8000\r\n\
Upgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

/// hybi's deflate policy: its defaults, without context takeover both ways
/// unless `takeover`; `kept`: zlib's state kept and reset between messages
/// (`release_between_messages(false)`) instead of freed.
#[must_use]
pub fn config(takeover: bool, kept: bool) -> hybi::Config {
    hybi::Config::new().deflate(
        hybi::DeflateConfig::new()
            .own_no_context_takeover(!takeover)
            .peer_no_context_takeover(!takeover)
            .release_between_messages(!kept),
    )
}

/// A server past a handshake that agreed permessage-deflate, and the
/// `Sec-WebSocket-Extensions` value of its 101 (what both ends then use).
///
/// # Panics
/// If the handshake fails or does not agree permessage-deflate.
#[must_use]
pub fn server(takeover: bool) -> (hybi::Connection, String) {
    server_with(takeover, false)
}

/// [`server`] with zlib's state `kept` between messages.
///
/// # Panics
/// As [`server`].
#[must_use]
pub fn server_with(takeover: bool, kept: bool) -> (hybi::Connection, String) {
    let mut conn = hybi::Connection::server(config(takeover, kept));
    conn.receive(REQUEST);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(hybi::Event::HandshakeRequest(_)))
    ));
    conn.accept(hybi::Accept::new()).unwrap();
    let response = String::from_utf8(conn.transmit().to_vec()).unwrap();
    conn.advance(response.len());
    assert!(matches!(conn.next_event(), Ok(None)));
    let params = conn.deflate().expect("hybi agreed permessage-deflate");
    assert_eq!(params.server_no_context_takeover, !takeover);
    assert_eq!(params.client_no_context_takeover, !takeover);
    assert_eq!(
        (params.server_window_bits(), params.client_window_bits()),
        (15, 15)
    );
    let answer = response
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
        .expect("the 101 answers the offer")
        .to_string();
    (conn, answer)
}

/// A hybi server receiving the client's compressed frames:
/// `wire.fill(conn.read_buf())` + `commit(n)` per read or (`fused`)
/// `conn.receive(&piece)`, then `next_event()` until `None`.
pub struct HybiRx {
    conn: hybi::Connection,
    takeover: bool,
    kept: bool,
    wire: Wire,
    fused: bool,
}

impl HybiRx {
    /// A receiver of `s`'s frames.
    #[must_use]
    pub fn new(s: &RxInput, fused: bool) -> Self {
        Self {
            conn: server(s.takeover).0,
            takeover: s.takeover,
            kept: false,
            wire: Wire::new(Rc::clone(&s.wire)),
            fused,
        }
    }

    /// With zlib's state kept and reset between messages.
    #[must_use]
    pub fn kept(mut self) -> Self {
        self.kept = true;
        self.conn = server_with(self.takeover, true).0;
        self
    }

    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        let mut t = Totals::default();
        while self.wire.remaining() > 0 {
            if self.fused {
                self.conn.receive(self.wire.piece());
            } else {
                let n = self.wire.fill(self.conn.read_buf());
                self.conn.commit(n);
            }
            while let Some(event) = self.conn.next_event().unwrap() {
                let hybi::Event::Text(text) = event else {
                    panic!("hybi: unexpected event {event:?}");
                };
                t.bytes += text.len();
                t.messages += 1;
                if let Some(check) = check.as_mut() {
                    check(true, text.as_bytes());
                }
            }
        }
        assert_eq!(self.conn.transmit().len(), 0, "hybi owed a reply");
        t
    }
}

impl Driver for HybiRx {
    fn prepare(&mut self) {
        self.conn = server_with(self.takeover, self.kept).0;
        self.wire.reset();
    }
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

impl Receiver for HybiRx {
    fn verify(&mut self, check: Check<'_>) -> Totals {
        self.prepare();
        self.pass(Some(check))
    }
}

/// A hybi server sending each message: `send_text(&msg)`, then
/// `transmit()` written to the sink and `advance(n)` (one write per message).
pub struct HybiTx {
    conn: hybi::Connection,
    takeover: bool,
    kept: bool,
    messages: Rc<[String]>,
    sink: Sink,
}

impl HybiTx {
    /// A sender of `work`'s messages.
    #[must_use]
    pub fn new(work: &Workload, takeover: bool) -> Self {
        Self {
            conn: server(takeover).0,
            takeover,
            kept: false,
            messages: Rc::clone(&work.messages),
            sink: Sink::new(work.plain() + 16 * work.messages.len()),
        }
    }

    /// With zlib's state kept and reset between messages.
    #[must_use]
    pub fn kept(mut self) -> Self {
        self.kept = true;
        self.conn = server_with(self.takeover, true).0;
        self
    }
}

impl Driver for HybiTx {
    fn prepare(&mut self) {
        self.conn = server_with(self.takeover, self.kept).0;
        self.sink.reset();
    }
    fn run(&mut self) -> Totals {
        let mut t = Totals::default();
        for m in self.messages.iter() {
            self.conn.send_text(m).unwrap();
            let out = self.conn.transmit();
            let n = self.sink.write(out).unwrap();
            self.conn.advance(n);
            t.bytes += m.len();
            t.messages += 1;
        }
        assert!(self.conn.transmit().is_empty(), "hybi kept bytes queued");
        t
    }
}

impl Sent for HybiTx {
    fn payloads(&self) -> Vec<Vec<u8>> {
        frame_payloads("hybi", &self.sink.contents())
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    }
}

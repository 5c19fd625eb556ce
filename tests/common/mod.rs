//! Shared test helpers: owned event transcripts, feeding input whole, byte
//! by byte or at seeded random split points, ready-made open connections, and
//! an in-memory client/server `Pair` (and, with the `tokio` feature, a
//! tokio `pair`).
#![allow(dead_code, unused_imports)]

use hybi::frame::Opcode;
use hybi::frame::encode::encode_frame;
use hybi::{Accept, Config, Connection, Error, Event, SeededRandom, State};

#[cfg(feature = "tokio")]
pub mod tokio;

/// The shared way to open a connection without a peer (`hybi::testing`,
/// also used by the benchmarks, the fuzz targets and the unit tests).
pub use hybi::testing::{REQUEST, open_server, response_for};

/// An owned copy of an event, for comparing transcripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Request(String),
    Response(u16),
    Rejected(u16, Vec<u8>),
    Text(String),
    Binary(Vec<u8>),
    TextChunk(String, bool),
    BinaryChunk(Vec<u8>, bool),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
}

impl Ev {
    pub fn from_event(event: &Event<'_>) -> Self {
        match event {
            Event::HandshakeRequest(r) => Ev::Request(r.target().to_string()),
            Event::HandshakeResponse(r) => Ev::Response(r.status()),
            Event::HandshakeRejected(r) => Ev::Rejected(r.status(), r.body().to_vec()),
            Event::Text(t) => Ev::Text(t.to_string()),
            Event::Binary(b) => Ev::Binary(b.to_vec()),
            Event::TextChunk { data, last } => Ev::TextChunk(data.to_string(), *last),
            Event::BinaryChunk { data, last } => Ev::BinaryChunk(data.to_vec(), *last),
            Event::Ping(p) => Ev::Ping(p.to_vec()),
            Event::Pong(p) => Ev::Pong(p.to_vec()),
            Event::Close(c) => Ev::Close(c.code.0, c.reason.to_string()),
            _ => panic!("unknown event"),
        }
    }
}

/// Everything a connection produced for some input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub events: Vec<Ev>,
    pub error: Option<Error>,
    pub output: Vec<u8>,
    pub state: State,
}

impl Transcript {
    /// Nothing produced yet; the connection's state as it starts.
    pub fn new(conn: &Connection) -> Self {
        Transcript {
            events: Vec::new(),
            error: None,
            output: Vec::new(),
            state: conn.state(),
        }
    }
}

/// Drains events (until `Ok(None)` or an error) and the transmit buffer.
pub fn drain(conn: &mut Connection, t: &mut Transcript) {
    if t.error.is_none() {
        loop {
            match conn.next_event() {
                Ok(Some(event)) => t.events.push(Ev::from_event(&event)),
                Ok(None) => break,
                Err(e) => {
                    t.error = Some(e);
                    // Sticky: asking again gives the same error.
                    assert_eq!(conn.next_event().err(), Some(e));
                    break;
                }
            }
        }
    }
    let out = conn.transmit().to_vec();
    conn.advance(out.len());
    t.output.extend_from_slice(&out);
    t.state = conn.state();
}

/// Feeds `input` in pieces ending at `cuts` (sorted positions), draining
/// after every piece, then optionally signals EOF.
pub fn feed_split(conn: &mut Connection, input: &[u8], cuts: &[usize], eof: bool) -> Transcript {
    let mut t = Transcript::new(conn);
    let mut start = 0;
    for &cut in cuts.iter().chain(core::iter::once(&input.len())) {
        let cut = cut.clamp(start, input.len());
        if cut > start {
            // Alternate the two input doors so both are exercised.
            if start % 2 == 0 {
                conn.receive(&input[start..cut]);
            } else {
                let mut fed = start;
                while fed < cut {
                    let buf = conn.read_buf();
                    let n = buf.len().min(cut - fed);
                    buf[..n].copy_from_slice(&input[fed..fed + n]);
                    conn.commit(n);
                    fed += n;
                }
            }
        }
        start = cut;
        drain(conn, &mut t);
    }
    if eof {
        conn.receive_eof();
        drain(conn, &mut t);
    }
    t
}

pub fn feed_whole(conn: &mut Connection, input: &[u8], eof: bool) -> Transcript {
    feed_split(conn, input, &[], eof)
}

pub fn feed_bytewise(conn: &mut Connection, input: &[u8], eof: bool) -> Transcript {
    let cuts: Vec<usize> = (1..input.len()).collect();
    feed_split(conn, input, &cuts, eof)
}

pub fn feed_random(conn: &mut Connection, input: &[u8], seed: u64, eof: bool) -> Transcript {
    feed_split(conn, input, &random_cuts(input.len(), seed, 40), eof)
}

/// Seeded split points for an input of `len` bytes: steps of 1 to
/// `max_step` bytes, the last one at or past the end.
pub fn random_cuts(len: usize, seed: u64, max_step: u64) -> Vec<usize> {
    let mut rng = SeededRandom::new(seed);
    let mut cuts = Vec::new();
    let mut pos = 0usize;
    while pos < len {
        pos += 1 + (rng.next_u64() % max_step) as usize;
        cuts.push(pos);
    }
    cuts
}

/// Feeds `input` whole, byte by byte and at several seeded random splits to
/// fresh connections from `make`, asserts all transcripts are identical, and
/// returns the whole-input transcript.
pub fn assert_split_invariant(
    make: impl Fn() -> Connection,
    input: &[u8],
    eof: bool,
) -> Transcript {
    let whole = feed_whole(&mut make(), input, eof);
    let bytewise = feed_bytewise(&mut make(), input, eof);
    assert_eq!(whole, bytewise, "byte-by-byte feeding changed the outcome");
    for seed in 0..8 {
        let random = feed_random(&mut make(), input, seed, eof);
        assert_eq!(
            whole, random,
            "random split (seed {seed}) changed the outcome"
        );
    }
    whole
}

/// A client with its request queued (not yet drained), before the response.
pub fn new_client(config: Config, seed: u64) -> Connection {
    Connection::client_with_rng(
        hybi::ClientRequest::new("server.example.com", "/chat"),
        config,
        Box::new(SeededRandom::new(seed)),
    )
    .unwrap()
}

/// A client that has received a valid 101, with its request drained.
pub fn open_client(config: Config) -> Connection {
    hybi::testing::open_client(config, Box::new(SeededRandom::new(1)))
}

/// A frame as a client sends it (masked with `mask`).
pub fn client_frame(fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(
        &mut out,
        fin,
        opcode,
        Some([0x37, 0xfa, 0x21, 0x3d]),
        payload,
    );
    out
}

/// A frame as a server sends it (unmasked).
pub fn server_frame(fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, fin, opcode, None, payload);
    out
}

/// A raw frame with arbitrary first byte, for reserved bits and opcodes.
pub fn raw_frame(b0: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mask = masked.then_some([1, 2, 3, 4]);
    encode_frame(&mut out, true, Opcode::Binary, mask, payload);
    out[0] = b0;
    out
}

/// A client and a server wired together in memory.
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    pub client_events: Vec<Ev>,
    pub server_events: Vec<Ev>,
    pub client_error: Option<Error>,
    pub server_error: Option<Error>,
}

impl Pair {
    /// Both ends through the handshake (the server accepts).
    pub fn connected(client_config: Config, server_config: Config) -> Self {
        let mut pair = Self {
            client: new_client(client_config, 42),
            server: Connection::server(server_config),
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_error: None,
            server_error: None,
        };
        pair.drive();
        assert_eq!(pair.server_events, [Ev::Request("/chat".into())]);
        assert_eq!(pair.client_events, [Ev::Response(101)]);
        pair.client_events.clear();
        pair.server_events.clear();
        pair
    }

    /// Moves bytes both ways until neither side has anything to send.
    /// Returns the number of steps taken.
    pub fn drive(&mut self) -> usize {
        self.drive_bounded(10_000)
    }

    pub fn drive_bounded(&mut self, max_steps: usize) -> usize {
        for step in 0..max_steps {
            let to_server = self.client.transmit().to_vec();
            self.client.advance(to_server.len());
            let to_client = self.server.transmit().to_vec();
            self.server.advance(to_client.len());
            if to_server.is_empty() && to_client.is_empty() && step > 0 {
                return step;
            }
            self.server.receive(&to_server);
            self.client.receive(&to_client);
            Self::pump(
                &mut self.server,
                &mut self.server_events,
                &mut self.server_error,
                true,
            );
            Self::pump(
                &mut self.client,
                &mut self.client_events,
                &mut self.client_error,
                false,
            );
        }
        panic!("pair did not settle in {max_steps} steps");
    }

    fn pump(conn: &mut Connection, events: &mut Vec<Ev>, error: &mut Option<Error>, server: bool) {
        if error.is_some() {
            return;
        }
        loop {
            match conn.next_event() {
                Ok(Some(event)) => {
                    let owned = Ev::from_event(&event);
                    let accept = server && matches!(owned, Ev::Request(_));
                    events.push(owned);
                    if accept {
                        conn.accept(Accept::new()).unwrap();
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    *error = Some(e);
                    return;
                }
            }
        }
    }
}

/// The text between the lines `// {marker}-BEGIN` and `// {marker}-END` of
/// `source`: the part of a test or example that a document shows.
pub fn marked<'a>(source: &'a str, marker: &str) -> &'a str {
    let begin = format!("// {marker}-BEGIN\n");
    let start = source.find(&begin).expect("the BEGIN marker") + begin.len();
    let end = source
        .find(&format!("// {marker}-END\n"))
        .expect("the END marker");
    &source[start..end]
}

/// The body of the first code block opened by `fence` (```` ```rust ````,
/// say) after `heading` in `doc`.
pub fn block_after<'a>(doc: &'a str, heading: &str, fence: &str) -> &'a str {
    let body = &doc[doc.find(heading).expect("the heading")..];
    let open = format!("{fence}\n");
    let start = body.find(&open).expect("a code block") + open.len();
    let end = start + body[start..].find("```\n").expect("the block's end");
    &body[start..end]
}

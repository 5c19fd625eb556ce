//! Shared inputs and drivers for the comparison benchmark (`benches/compare.rs`)
//! and the allocation counter (`src/main.rs`).
//!
//! Every implementation is fed the same encoded bytes through the same
//! [`Wire`], which hands them out in [`READ`]-sized pieces (a copy per read, as
//! a socket read would make), and every send goes into the same [`Sink`].
//! A driver's `run` is one benchmark iteration; it returns the payload bytes
//! and messages it saw, which the caller asserts.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Size of each simulated socket read (as in hybi's own `benches/decode.rs`).
pub const READ: usize = 64 << 10;
/// One mebibyte.
pub const MIB: usize = 1 << 20;
/// The masking key of every client frame in the inputs: message `i` uses
/// `[0x37, 0xfa, 0x21, i as u8]` (the same keys as hybi's own benches).
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x00];

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONTINUATION: u8 = 0x0;

// ----- inputs ------------------------------------------------------------------

/// ASCII text of `len` bytes.
#[must_use]
pub fn ascii(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Multi-byte UTF-8 text (2-, 3- and 4-byte characters) of exactly `len`
/// bytes; the same pattern as hybi's `benches/support`.
#[must_use]
pub fn multibyte(len: usize) -> Vec<u8> {
    let pattern = "héllo wörld κόσμε € 😀 ".as_bytes();
    let mut out: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
    while std::str::from_utf8(&out).is_err() {
        out.pop();
    }
    out.resize(len, b'.');
    out
}

/// Appends one frame (RFC 6455 §5.2), masked with `mask` if given.
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(m | n as u8),
        n @ 126..=0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        None => out.extend_from_slice(payload),
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
    }
}

/// `count` masked messages carrying `payload`, each split into `fragments`
/// frames of equal size (the last may be shorter). Fragment boundaries fall
/// where they fall, so multi-byte characters are split across frames.
#[must_use]
pub fn stream(payload: &[u8], opcode: u8, fragments: usize, count: usize) -> Vec<u8> {
    let piece = payload.len().div_ceil(fragments.max(1)).max(1);
    let mut out = Vec::with_capacity((payload.len() + 14 * fragments) * count);
    for i in 0..count {
        let mut key = KEY;
        key[3] = i as u8;
        let pieces: Vec<&[u8]> = payload.chunks(piece).collect();
        for (j, p) in pieces.iter().enumerate() {
            let op = if j == 0 { opcode } else { CONTINUATION };
            encode_frame(&mut out, j + 1 == pieces.len(), op, Some(key), p);
        }
    }
    out
}

/// One receive scenario: the bytes on the wire and what must come out.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// Short label, used as the criterion group name.
    pub name: &'static str,
    /// The payload of one message (to verify content once, outside timing).
    pub message: &'static [u8],
    /// The encoded frames of all messages.
    pub input: &'static [u8],
    /// Messages in `input`.
    pub messages: usize,
    /// Frames in `input`.
    pub frames: usize,
}

impl Scenario {
    /// Payload bytes in `input`.
    #[must_use]
    pub fn payload(&self) -> usize {
        self.message.len() * self.messages
    }

    /// What a correct receiver reports for one pass over `input`.
    #[must_use]
    pub fn expected(&self) -> Totals {
        Totals {
            bytes: self.payload(),
            messages: self.messages,
        }
    }
}

fn leak(v: Vec<u8>) -> &'static [u8] {
    Box::leak(v.into_boxed_slice())
}

fn scenario(name: &'static str, message: Vec<u8>, fragments: usize, count: usize) -> Scenario {
    let input = stream(&message, TEXT, fragments, count);
    Scenario {
        name,
        message: leak(message),
        input: leak(input),
        messages: count,
        frames: fragments * count,
    }
}

/// Receive scenarios 1–4 (server side, masked text).
#[must_use]
pub fn receive_scenarios() -> Vec<Scenario> {
    vec![
        scenario("1_text_16B_x65536", ascii(16), 1, MIB / 16),
        scenario("2_text_1MiB_ascii", ascii(MIB), 1, 1),
        scenario("3_text_1MiB_multibyte", multibyte(MIB), 1, 1),
        scenario("4_text_1MiB_multibyte_64_fragments", multibyte(MIB), 64, 1),
    ]
}

/// The payload of scenario 5 (a 1 MiB binary message sent as a client).
#[must_use]
pub fn send_payload() -> Vec<u8> {
    ascii(MIB)
}

/// Bytes of one masked frame carrying `len` payload bytes.
#[must_use]
pub fn masked_frame_len(len: usize) -> usize {
    let ext = match len {
        0..=125 => 0,
        126..=0xffff => 2,
        _ => 8,
    };
    2 + ext + 4 + len
}

/// Checks that `wire` holds exactly one masked, final binary frame carrying
/// `payload` (used once per sender, outside timing).
///
/// # Panics
/// If it does not.
pub fn check_client_frame(wire: &[u8], payload: &[u8]) {
    assert_eq!(wire[0], 0x80 | BINARY, "FIN + binary");
    assert_eq!(wire[1] & 0x80, 0x80, "masked");
    let (len, at) = match wire[1] & 0x7f {
        126 => (usize::from(u16::from_be_bytes([wire[2], wire[3]])), 4),
        127 => (
            u64::from_be_bytes(wire[2..10].try_into().unwrap()) as usize,
            10,
        ),
        n => (usize::from(n), 2),
    };
    assert_eq!(len, payload.len());
    let key: [u8; 4] = wire[at..at + 4].try_into().unwrap();
    let body = &wire[at + 4..];
    assert_eq!(body.len(), len);
    assert!(
        body.iter()
            .enumerate()
            .all(|(i, b)| b ^ key[i % 4] == payload[i])
    );
}

// ----- the wire ------------------------------------------------------------------

/// The receive side of a simulated socket: hands out `input` by copying it
/// into the reader's buffer, never more than the rest of the current
/// [`READ`]-sized piece per read.
///
/// Clones share the read position, so a driver can rewind a stream it has
/// lent to an implementation. At the end of the input, `Read::read` returns
/// `WouldBlock` (tungstenite's end of an iteration) and `AsyncRead` returns
/// end-of-stream (fastwebsockets reads an exact message count, so it never
/// gets there; if it did, it would fail loudly). Anything written to it
/// (replies a server would owe) is counted and dropped.
#[derive(Clone, Debug)]
pub struct Wire {
    input: &'static [u8],
    pos: Rc<Cell<usize>>,
    written: Rc<Cell<usize>>,
}

impl Wire {
    /// A wire holding `input`.
    #[must_use]
    pub fn new(input: &'static [u8]) -> Self {
        Self {
            input,
            pos: Rc::new(Cell::new(0)),
            written: Rc::new(Cell::new(0)),
        }
    }

    /// Rewinds to the start of the input.
    pub fn reset(&self) {
        self.pos.set(0);
    }

    /// Bytes not yet read.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos.get()
    }

    /// Bytes written to the wire so far (should stay 0: the inputs owe no reply).
    #[must_use]
    pub fn written(&self) -> usize {
        self.written.get()
    }

    /// The next read: at most `max` bytes, not past the current piece.
    #[inline]
    fn next(&self, max: usize) -> &'static [u8] {
        let pos = self.pos.get();
        let end = ((pos / READ + 1) * READ).min(self.input.len());
        let n = (end - pos).min(max);
        self.pos.set(pos + n);
        &self.input[pos..pos + n]
    }

    /// The next read, borrowed (for an engine that copies it in itself).
    #[inline]
    pub fn piece(&self) -> &'static [u8] {
        self.next(READ)
    }

    /// Copies the next read into `buf`; returns the count (0 at the end).
    #[inline]
    pub fn fill(&self, buf: &mut [u8]) -> usize {
        let piece = self.next(buf.len());
        buf[..piece.len()].copy_from_slice(piece);
        piece.len()
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining() == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(self.fill(buf))
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.set(self.written.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // `put_slice` copies into the spare (possibly uninitialised) room.
        let piece = self.next(buf.remaining());
        buf.put_slice(piece);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written.set(self.written.get() + buf.len());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The send side of a simulated socket: every write is copied into a buffer
/// reserved up front (so it never reallocates). Clones share the buffer.
/// Reading from it would block (`WouldBlock`) or end (`AsyncRead`).
#[derive(Clone, Debug)]
pub struct Sink {
    out: Rc<RefCell<Vec<u8>>>,
}

impl Sink {
    /// A sink with room for `capacity` bytes.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            out: Rc::new(RefCell::new(Vec::with_capacity(capacity))),
        }
    }

    /// Bytes written since the last reset.
    #[must_use]
    pub fn len(&self) -> usize {
        self.out.borrow().len()
    }

    /// Whether nothing was written since the last reset.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of what was written.
    #[must_use]
    pub fn contents(&self) -> Vec<u8> {
        self.out.borrow().clone()
    }

    /// Forgets what was written (keeps the buffer).
    pub fn reset(&self) {
        self.out.borrow_mut().clear();
    }

    #[inline]
    fn put(&self, bufs: &[&[u8]]) -> usize {
        let mut out = self.out.borrow_mut();
        let mut n = 0;
        for b in bufs {
            out.extend_from_slice(b);
            n += b.len();
        }
        n
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.put(&[buf]))
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut out = self.out.borrow_mut();
        let mut n = 0;
        for b in bufs {
            out.extend_from_slice(b);
            n += b.len();
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Sink {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl AsyncRead for Sink {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.put(&[buf])))
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.write_vectored(bufs))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

// ----- drivers -------------------------------------------------------------------

/// What one pass delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Totals {
    /// Payload bytes received (or sent).
    pub bytes: usize,
    /// Complete messages received (or sent).
    pub messages: usize,
}

/// One benchmark iteration of one implementation on one scenario.
pub trait Driver {
    /// Runs one pass over the scenario's input (or sends its messages).
    fn run(&mut self) -> Totals;
}

/// A message's bytes as delivered, for the one-off content check.
type Check<'a> = &'a mut dyn FnMut(&[u8]);

/// A server `hybi::Connection` opened by a completed handshake, reading
/// through `read_buf`/`commit` and draining `next_event`.
pub struct HybiRx {
    conn: hybi::Connection,
    wire: Wire,
    /// Feed each read with `receive(&piece)` (the engine copies it in,
    /// unmasking and checking ASCII in the same pass) instead of
    /// `read_buf` + `commit`.
    fused: bool,
}

/// The upgrade request every hybi server is opened with.
const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com:8000\r\n\
Upgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A server connection past the handshake (as hybi's `benches/support`).
#[must_use]
pub fn hybi_server(config: hybi::Config) -> hybi::Connection {
    let mut conn = hybi::Connection::server(config);
    conn.receive(REQUEST);
    assert!(matches!(
        conn.next_event(),
        Ok(Some(hybi::Event::HandshakeRequest(_)))
    ));
    conn.accept(hybi::Accept::new()).unwrap();
    let n = conn.transmit().len();
    conn.advance(n);
    assert!(matches!(conn.next_event(), Ok(None)));
    conn
}

/// Masks from a fixed key, so hybi masks with the same key as fastwebsockets
/// in the send scenario (tungstenite draws its own; it has no hook).
struct FixedMask;

impl hybi::MaskSource for FixedMask {
    fn fill(&mut self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = KEY[i % 4];
        }
    }
}

/// A client connection past the handshake (as hybi's `benches/support`,
/// with the fixed mask source).
#[must_use]
pub fn hybi_client(config: hybi::Config) -> hybi::Connection {
    let mut conn = hybi::Connection::client_with_rng(
        hybi::ClientRequest::new("example.com", "/"),
        config,
        Box::new(FixedMask),
    )
    .unwrap();
    let request = conn.transmit().to_vec();
    conn.advance(request.len());
    let text = String::from_utf8(request).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        hybi::AcceptKey::from_key(key.as_bytes()).as_str()
    );
    conn.receive(response.as_bytes());
    assert!(matches!(
        conn.next_event(),
        Ok(Some(hybi::Event::HandshakeResponse(_)))
    ));
    assert!(matches!(conn.next_event(), Ok(None)));
    conn
}

impl HybiRx {
    /// hybi with its default `Config` (64 MiB messages, 1 MiB chunk threshold:
    /// a 1 MiB message is delivered whole).
    #[must_use]
    pub fn new(s: &Scenario) -> Self {
        Self::with_config(s, hybi::Config::new())
    }

    /// hybi with `config`.
    #[must_use]
    pub fn with_config(s: &Scenario, config: hybi::Config) -> Self {
        Self {
            conn: hybi_server(config),
            wire: Wire::new(s.input),
            fused: false,
        }
    }

    /// hybi with its default `Config`, fed through `receive(&piece)`.
    #[must_use]
    pub fn fused(s: &Scenario) -> Self {
        Self {
            fused: true,
            ..Self::new(s)
        }
    }

    #[inline]
    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        self.wire.reset();
        let mut t = Totals::default();
        let mut partial: Vec<u8> = Vec::new();
        while self.wire.remaining() > 0 {
            if self.fused {
                self.conn.receive(self.wire.piece());
            } else {
                let n = self.wire.fill(self.conn.read_buf());
                self.conn.commit(n);
            }
            while let Some(event) = self.conn.next_event().unwrap() {
                let (data, last) = match event {
                    hybi::Event::Text(t) => (t.as_bytes(), true),
                    hybi::Event::Binary(b) => (b, true),
                    hybi::Event::TextChunk { data, last } => (data.as_bytes(), last),
                    hybi::Event::BinaryChunk { data, last } => (data, last),
                    other => panic!("hybi: unexpected event {other:?}"),
                };
                t.bytes += data.len();
                t.messages += usize::from(last);
                if let Some(check) = check.as_mut() {
                    partial.extend_from_slice(data);
                    if last {
                        check(&partial);
                        partial.clear();
                    }
                }
            }
        }
        assert_eq!(self.conn.transmit().len(), 0, "hybi owed a reply");
        t
    }

    /// One pass, handing each complete message to `check`.
    pub fn verify(&mut self, check: Check<'_>) -> Totals {
        self.pass(Some(check))
    }
}

impl Driver for HybiRx {
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

/// A server `tungstenite::WebSocket` over the wire, read with `read()` until
/// the wire says `WouldBlock`.
pub struct TungsteniteRx {
    ws: tungstenite::WebSocket<Wire>,
}

/// tungstenite's configuration: its defaults, with the size limits spelled
/// out (64 MiB messages, 16 MiB frames; both well above 1 MiB).
#[must_use]
pub fn tungstenite_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20))
}

impl TungsteniteRx {
    /// A server over `s`'s input.
    #[must_use]
    pub fn new(s: &Scenario) -> Self {
        Self {
            ws: tungstenite::WebSocket::from_raw_socket(
                Wire::new(s.input),
                tungstenite::protocol::Role::Server,
                Some(tungstenite_config()),
            ),
        }
    }

    #[inline]
    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        self.ws.get_mut().reset();
        let mut t = Totals::default();
        loop {
            match self.ws.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    t.bytes += text.len();
                    t.messages += 1;
                    if let Some(check) = check.as_mut() {
                        check(text.as_bytes());
                    }
                }
                Ok(tungstenite::Message::Binary(data)) => {
                    t.bytes += data.len();
                    t.messages += 1;
                    if let Some(check) = check.as_mut() {
                        check(&data);
                    }
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Ok(other) => panic!("tungstenite: unexpected message {other:?}"),
                Err(e) => panic!("tungstenite: {e}"),
            }
        }
        assert_eq!(self.ws.get_ref().remaining(), 0);
        assert_eq!(self.ws.get_ref().written(), 0, "tungstenite wrote a reply");
        t
    }

    /// One pass, handing each complete message to `check`.
    pub fn verify(&mut self, check: Check<'_>) -> Totals {
        self.pass(Some(check))
    }
}

impl Driver for TungsteniteRx {
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

/// A current-thread tokio runtime (made once per driver, outside timing).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// A server `fastwebsockets` connection (auto-close and auto-pong at their
/// defaults) reading exactly the scenario's message count per pass, through
/// `FragmentCollector` (whole messages, UTF-8 checked across fragments) or,
/// with `raw`, straight `WebSocket::read_frame` (frames; only valid for
/// unfragmented input).
pub struct FastwebsocketsRx {
    rt: tokio::runtime::Runtime,
    ws: FwsReader,
    wire: Wire,
    reads: usize,
}

enum FwsReader {
    Collector(fastwebsockets::FragmentCollector<Wire>),
    Raw(fastwebsockets::WebSocket<Wire>),
}

impl FastwebsocketsRx {
    /// With `FragmentCollector`: the message-level API.
    #[must_use]
    pub fn new(s: &Scenario) -> Self {
        Self::with(s, false)
    }

    /// Without `FragmentCollector`: frame-level reads (unfragmented input only).
    #[must_use]
    pub fn raw(s: &Scenario) -> Self {
        assert_eq!(s.frames, s.messages, "raw frames need unfragmented input");
        Self::with(s, true)
    }

    fn with(s: &Scenario, raw: bool) -> Self {
        let wire = Wire::new(s.input);
        let ws =
            fastwebsockets::WebSocket::after_handshake(wire.clone(), fastwebsockets::Role::Server);
        Self {
            rt: runtime(),
            ws: if raw {
                FwsReader::Raw(ws)
            } else {
                FwsReader::Collector(fastwebsockets::FragmentCollector::new(ws))
            },
            wire,
            reads: s.messages,
        }
    }

    #[inline]
    fn pass(&mut self, mut check: Option<Check<'_>>) -> Totals {
        self.wire.reset();
        let reads = self.reads;
        let ws = &mut self.ws;
        let t = self.rt.block_on(async {
            let mut t = Totals::default();
            for _ in 0..reads {
                let frame = match ws {
                    FwsReader::Collector(ws) => ws.read_frame().await,
                    FwsReader::Raw(ws) => ws.read_frame().await,
                }
                .unwrap_or_else(|e| panic!("fastwebsockets: {e}"));
                assert!(frame.fin);
                assert!(matches!(
                    frame.opcode,
                    fastwebsockets::OpCode::Text | fastwebsockets::OpCode::Binary
                ));
                t.bytes += frame.payload.len();
                t.messages += 1;
                if let Some(check) = check.as_mut() {
                    check(&frame.payload);
                }
            }
            t
        });
        assert_eq!(self.wire.remaining(), 0);
        assert_eq!(self.wire.written(), 0, "fastwebsockets wrote a reply");
        t
    }

    /// One pass, handing each complete message to `check`.
    pub fn verify(&mut self, check: Check<'_>) -> Totals {
        self.pass(Some(check))
    }
}

impl Driver for FastwebsocketsRx {
    fn run(&mut self) -> Totals {
        self.pass(None)
    }
}

/// The floor: the same reads (same [`Wire`], same pieces) into a 64 KiB buffer.
pub struct MemcpyRx {
    wire: Wire,
    dst: Vec<u8>,
    expected: Totals,
}

impl MemcpyRx {
    /// Copies of `s`'s input.
    #[must_use]
    pub fn new(s: &Scenario) -> Self {
        Self {
            wire: Wire::new(s.input),
            dst: vec![0; READ],
            expected: s.expected(),
        }
    }
}

impl Driver for MemcpyRx {
    fn run(&mut self) -> Totals {
        self.wire.reset();
        let mut copied = 0;
        while self.wire.remaining() > 0 {
            let n = self.wire.fill(&mut self.dst);
            std::hint::black_box(&self.dst[..n]);
            copied += n;
        }
        assert_eq!(copied, self.wire.input.len());
        // Same answer as a receiver, so the caller's assert is uniform.
        self.expected
    }
}

/// The same 64 KiB reads, each copied on from where the last one ended into
/// a buffer as large as one message's frames (at least one read): the least
/// that any receiver handing out a whole message as one slice must write.
/// Where a message is larger than a read, this destination no longer stays
/// in the nearest caches, unlike [`MemcpyRx`]'s.
pub struct MemcpyMessageRx {
    wire: Wire,
    dst: Vec<u8>,
    expected: Totals,
}

impl MemcpyMessageRx {
    /// Copies of `s`'s input into a message-sized buffer.
    #[must_use]
    pub fn new(s: &Scenario) -> Self {
        let per_message = s.input.len().div_ceil(s.messages);
        Self {
            wire: Wire::new(s.input),
            dst: vec![0; per_message.max(READ)],
            expected: s.expected(),
        }
    }
}

impl Driver for MemcpyMessageRx {
    fn run(&mut self) -> Totals {
        self.wire.reset();
        let mut copied = 0;
        let mut at = 0;
        while self.wire.remaining() > 0 {
            if self.dst.len() - at < READ.min(self.wire.remaining()) {
                at = 0;
            }
            let n = self.wire.fill(&mut self.dst[at..]);
            std::hint::black_box(&self.dst[at..at + n]);
            at += n;
            copied += n;
        }
        assert_eq!(copied, self.wire.input.len());
        self.expected
    }
}

// ----- send (scenario 5) ----------------------------------------------------------

/// Sends `payload` as one binary message per pass from a hybi client
/// (masking with [`KEY`]), writing `transmit()` into the sink.
pub struct HybiTx {
    conn: hybi::Connection,
    sink: Sink,
    payload: Vec<u8>,
}

impl HybiTx {
    /// A client sending `payload`.
    #[must_use]
    pub fn new(payload: &[u8]) -> Self {
        Self::with_config(payload, hybi::Config::new())
    }

    /// A client with `config` sending `payload`.
    #[must_use]
    pub fn with_config(payload: &[u8], config: hybi::Config) -> Self {
        Self {
            conn: hybi_client(config),
            sink: Sink::new(2 * masked_frame_len(payload.len())),
            payload: payload.to_vec(),
        }
    }

    /// The sink (what the last pass wrote).
    #[must_use]
    pub fn sink(&self) -> &Sink {
        &self.sink
    }
}

impl Driver for HybiTx {
    fn run(&mut self) -> Totals {
        self.sink.reset();
        self.conn.send_binary(&self.payload).unwrap();
        let out = self.conn.transmit();
        let n = out.len();
        self.sink.clone().write_all(out).unwrap();
        self.conn.advance(n);
        assert_eq!(self.sink.len(), masked_frame_len(self.payload.len()));
        Totals {
            bytes: self.payload.len(),
            messages: 1,
        }
    }
}

/// Sends one binary message per pass from a tungstenite client with
/// `send()` (write + flush). The payload is a `Bytes` made once; each send
/// clones it (a reference count, no copy). Masks are drawn by tungstenite.
pub struct TungsteniteTx {
    ws: tungstenite::WebSocket<Sink>,
    payload: tungstenite::Bytes,
}

impl TungsteniteTx {
    /// A client sending `payload`.
    #[must_use]
    pub fn new(payload: &[u8]) -> Self {
        Self {
            ws: tungstenite::WebSocket::from_raw_socket(
                Sink::new(2 * masked_frame_len(payload.len())),
                tungstenite::protocol::Role::Client,
                Some(tungstenite_config()),
            ),
            payload: tungstenite::Bytes::copy_from_slice(payload),
        }
    }

    /// The sink (what the last pass wrote).
    #[must_use]
    pub fn sink(&self) -> &Sink {
        self.ws.get_ref()
    }
}

impl Driver for TungsteniteTx {
    fn run(&mut self) -> Totals {
        self.ws.get_mut().reset();
        self.ws
            .send(tungstenite::Message::Binary(self.payload.clone()))
            .unwrap();
        assert_eq!(
            self.ws.get_ref().len(),
            masked_frame_len(self.payload.len())
        );
        Totals {
            bytes: self.payload.len(),
            messages: 1,
        }
    }
}

/// Sends one binary message per pass from a fastwebsockets client with
/// `write_frame` (masking with [`KEY`]). `Borrowed` payload: fastwebsockets
/// copies it into a new `Vec` to mask it. `in_place`: a `BorrowedMut`
/// payload, masked in the caller's buffer (which is then garbled).
pub struct FastwebsocketsTx {
    rt: tokio::runtime::Runtime,
    ws: fastwebsockets::WebSocket<Sink>,
    sink: Sink,
    payload: Vec<u8>,
    in_place: bool,
}

impl FastwebsocketsTx {
    /// A client sending `payload` from a shared borrow.
    #[must_use]
    pub fn new(payload: &[u8]) -> Self {
        Self::with(payload, false)
    }

    /// A client masking `payload` in place.
    #[must_use]
    pub fn in_place(payload: &[u8]) -> Self {
        Self::with(payload, true)
    }

    fn with(payload: &[u8], in_place: bool) -> Self {
        let sink = Sink::new(2 * masked_frame_len(payload.len()));
        Self {
            rt: runtime(),
            ws: fastwebsockets::WebSocket::after_handshake(
                sink.clone(),
                fastwebsockets::Role::Client,
            ),
            sink,
            payload: payload.to_vec(),
            in_place,
        }
    }

    /// The sink (what the last pass wrote).
    #[must_use]
    pub fn sink(&self) -> &Sink {
        &self.sink
    }
}

impl Driver for FastwebsocketsTx {
    fn run(&mut self) -> Totals {
        use fastwebsockets::{Frame, OpCode, Payload};
        self.sink.reset();
        let len = self.payload.len();
        let payload = if self.in_place {
            Payload::BorrowedMut(&mut self.payload)
        } else {
            Payload::Borrowed(&self.payload)
        };
        let frame = Frame::new(true, OpCode::Binary, Some(KEY), payload);
        let ws = &mut self.ws;
        self.rt
            .block_on(ws.write_frame(frame))
            .unwrap_or_else(|e| panic!("fastwebsockets: {e}"));
        assert_eq!(self.sink.len(), masked_frame_len(len));
        Totals {
            bytes: len,
            messages: 1,
        }
    }
}

/// The floor: the payload copied into the sink in 64 KiB pieces.
pub struct MemcpyTx {
    sink: Sink,
    payload: Vec<u8>,
}

impl MemcpyTx {
    /// Copies of `payload`.
    #[must_use]
    pub fn new(payload: &[u8]) -> Self {
        Self {
            sink: Sink::new(2 * payload.len()),
            payload: payload.to_vec(),
        }
    }
}

impl Driver for MemcpyTx {
    fn run(&mut self) -> Totals {
        self.sink.reset();
        let mut sink = self.sink.clone();
        for piece in self.payload.chunks(READ) {
            sink.write_all(piece).unwrap();
        }
        std::hint::black_box(&self.sink);
        assert_eq!(self.sink.len(), self.payload.len());
        Totals {
            bytes: self.payload.len(),
            messages: 1,
        }
    }
}

// ----- the line-up -----------------------------------------------------------------

/// hybi's default `Config` with `buffer_high_water` raised to 4 MiB (as hybi's
/// own `tests/alloc_free.rs` does for large messages): an emptied 1 MiB buffer
/// is kept instead of released, so it is not grown again for every message.
#[must_use]
pub fn keep_buffers() -> hybi::Config {
    hybi::Config::new().buffer_high_water(4 << 20)
}

/// Every receive driver for `s`, labelled, after checking once (outside
/// timing) that each delivers exactly the scenario's messages, byte for byte.
///
/// # Panics
/// If an implementation rejects the input or delivers something else.
#[must_use]
pub fn receivers(s: &Scenario) -> Vec<(&'static str, Box<dyn Driver>)> {
    let expected = s.expected();
    let mut seen = 0usize;
    let mut check = |m: &[u8]| {
        assert!(m == s.message, "{}: message content differs", s.name);
        seen += 1;
    };
    let mut hybi = HybiRx::new(s);
    assert_eq!(hybi.verify(&mut check), expected, "hybi on {}", s.name);
    let mut hybi_hw = HybiRx::with_config(s, keep_buffers());
    assert_eq!(
        hybi_hw.verify(&mut check),
        expected,
        "hybi-hw4MiB on {}",
        s.name
    );
    let mut hybi_fused = HybiRx::fused(s);
    assert_eq!(
        hybi_fused.verify(&mut check),
        expected,
        "hybi-receive on {}",
        s.name
    );
    let mut tung = TungsteniteRx::new(s);
    assert_eq!(
        tung.verify(&mut check),
        expected,
        "tungstenite on {}",
        s.name
    );
    let mut fws = FastwebsocketsRx::new(s);
    assert_eq!(
        fws.verify(&mut check),
        expected,
        "fastwebsockets on {}",
        s.name
    );
    let mut out: Vec<(&'static str, Box<dyn Driver>)> = vec![
        ("hybi", Box::new(hybi)),
        ("hybi-hw4MiB", Box::new(hybi_hw)),
        ("hybi-receive", Box::new(hybi_fused)),
        ("tungstenite", Box::new(tung)),
        ("fastwebsockets", Box::new(fws)),
    ];
    if s.frames == s.messages {
        let mut raw = FastwebsocketsRx::raw(s);
        assert_eq!(
            raw.verify(&mut check),
            expected,
            "fastwebsockets-frames on {}",
            s.name
        );
        out.push(("fastwebsockets-frames", Box::new(raw)));
    }
    let per_driver = s.messages;
    assert_eq!(
        seen,
        per_driver * (out.len()),
        "{}: messages checked",
        s.name
    );
    out.push(("memcpy", Box::new(MemcpyRx::new(s))));
    out.push(("memcpy-msg", Box::new(MemcpyMessageRx::new(s))));
    out
}

/// Every send driver for `payload`, labelled, after checking once that each
/// writes exactly one correct masked frame.
///
/// # Panics
/// If a sender writes something else.
#[must_use]
pub fn senders(payload: &[u8]) -> Vec<(&'static str, Box<dyn Driver>)> {
    let mut hybi = HybiTx::new(payload);
    hybi.run();
    check_client_frame(&hybi.sink().contents(), payload);
    let mut hybi_hw = HybiTx::with_config(payload, keep_buffers());
    hybi_hw.run();
    check_client_frame(&hybi_hw.sink().contents(), payload);
    let mut tung = TungsteniteTx::new(payload);
    tung.run();
    check_client_frame(&tung.sink().contents(), payload);
    let mut fws = FastwebsocketsTx::new(payload);
    fws.run();
    check_client_frame(&fws.sink().contents(), payload);
    let mut fws_in_place = FastwebsocketsTx::in_place(payload);
    fws_in_place.run();
    check_client_frame(&fws_in_place.sink().contents(), payload);
    vec![
        ("hybi", Box::new(hybi)),
        ("hybi-hw4MiB", Box::new(hybi_hw)),
        ("tungstenite", Box::new(tung)),
        ("fastwebsockets", Box::new(fws)),
        ("fastwebsockets-in-place", Box::new(fws_in_place)),
        ("memcpy", Box::new(MemcpyTx::new(payload))),
    ]
}

/// The name of the send scenario.
pub const SEND: &str = "5_client_send_binary_1MiB";

//! The neutral load generator: the same bytes and the same checks for every
//! server. A connection is a plain `TcpStream` with a hand-written HTTP/1.1
//! upgrade request; its messages are frames encoded (and masked) before the
//! clock starts, and every echo's header is parsed here and its payload
//! compared byte for byte with what was sent.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Distinct messages per size, sent in turn (message `i` is slot `i % SLOTS`),
/// so an echo of the wrong message does not pass the check.
pub const SLOTS: usize = 16;
/// The longest wait for one echo (or the handshake's answer).
pub const ECHO_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this many messages per connection and scenario (the duration
/// ends a scenario long before).
pub const MAX_MESSAGES: u64 = 50_000_000;
/// The largest frame accepted from a server.
const MAX_FRAME: usize = 1 << 20;
/// The largest handshake answer accepted.
const MAX_HEAD: usize = 16 << 10;

/// RFC 6455's sample key and its accept value (section 1.3).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The pre-encoded messages of one size.
pub struct Frames {
    /// Masked client frames, one per slot.
    wire: Vec<Vec<u8>>,
    /// Their payloads, as the echo must carry them.
    payload: Vec<Vec<u8>>,
}

impl Frames {
    /// `SLOTS` binary messages of `size` bytes, slot `k` masked with
    /// `[0x37, 0xfa, 0x21, k]`.
    pub fn new(size: usize) -> Frames {
        let mut wire = Vec::with_capacity(SLOTS);
        let mut payload = Vec::with_capacity(SLOTS);
        for k in 0..SLOTS {
            let p: Vec<u8> = (0..size)
                .map(|i| (i.wrapping_mul(31).wrapping_add(k * 97 + 7)) as u8)
                .collect();
            wire.push(encode_masked(0x82, &p, [0x37, 0xfa, 0x21, k as u8]));
            payload.push(p);
        }
        Frames { wire, payload }
    }
}

/// One client frame: `b0` (FIN and opcode), the payload masked with `key`.
pub fn encode_masked(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 14);
    f.push(b0);
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n <= 0xffff => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("timed out: {what}"))
}

/// An open WebSocket client connection, read through its own buffer.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Conn {
    /// Connects and upgrades: the request written by hand, the 101 and its
    /// `Sec-WebSocket-Accept` checked.
    pub async fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = timeout(ECHO_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| timed_out("connect"))??;
        stream.set_nodelay(true)?;
        let mut conn = Conn {
            stream,
            buf: vec![0; 64 << 10],
            start: 0,
            end: 0,
        };
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        conn.stream.write_all(request.as_bytes()).await?;
        timeout(ECHO_TIMEOUT, conn.read_head())
            .await
            .map_err(|_| timed_out("handshake"))??;
        Ok(conn)
    }

    /// Reads the handshake's answer; bytes after it stay in the buffer.
    async fn read_head(&mut self) -> io::Result<()> {
        loop {
            if let Some(at) = self.buf[..self.end]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
            {
                let head = String::from_utf8_lossy(&self.buf[..at]).into_owned();
                self.start = at + 4;
                let mut lines = head.split("\r\n");
                let status = lines.next().unwrap_or("");
                if !status.starts_with("HTTP/1.1 101") {
                    return Err(bad(format!("handshake answered {status:?}")));
                }
                let accept = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-accept"))
                    .map(|(_, value)| value.trim().to_owned());
                if accept.as_deref() != Some(ACCEPT) {
                    return Err(bad(format!("Sec-WebSocket-Accept {accept:?}")));
                }
                return Ok(());
            }
            if self.end >= MAX_HEAD {
                return Err(bad("handshake answer over 16 KiB".into()));
            }
            let n = self.stream.read(&mut self.buf[self.end..MAX_HEAD]).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.end += n;
        }
    }

    /// Writes one pre-encoded frame.
    pub async fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.stream.write_all(frame).await
    }

    /// The next frame from the server: its first byte and where its payload
    /// is in `self.buf` (until the next call).
    async fn next_frame(&mut self) -> io::Result<(u8, Range<usize>)> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        loop {
            let avail = &self.buf[self.start..self.end];
            let mut need = 2;
            if avail.len() >= 2 {
                if avail[1] & 0x80 != 0 {
                    return Err(bad("masked frame from the server".into()));
                }
                let (header, len) = match avail[1] & 0x7f {
                    126 if avail.len() >= 4 => {
                        (4, u16::from_be_bytes([avail[2], avail[3]]) as usize)
                    }
                    127 if avail.len() >= 10 => {
                        let mut l = [0; 8];
                        l.copy_from_slice(&avail[2..10]);
                        (
                            10,
                            usize::try_from(u64::from_be_bytes(l)).unwrap_or(usize::MAX),
                        )
                    }
                    // The extended length has not all arrived: read for it.
                    126 => (4, 0),
                    127 => (10, 0),
                    n => (2, n as usize),
                };
                if len > MAX_FRAME {
                    return Err(bad(format!("frame of {len} bytes")));
                }
                need = header + len;
                if avail.len() >= need {
                    let at = self.start;
                    self.start += need;
                    return Ok((avail[0], at + header..at + need));
                }
            }
            // Room for the whole frame after `start`, then one read.
            if self.start + need > self.buf.len() {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if need > self.buf.len() {
                    self.buf.resize(need, 0);
                }
            }
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let n = self.stream.read(&mut self.buf[self.end..]).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.end += n;
        }
    }

    /// Reads one frame and checks it is a final binary frame carrying
    /// `expected`, byte for byte.
    pub async fn expect_echo(&mut self, expected: &[u8]) -> io::Result<()> {
        let (b0, payload) = timeout(ECHO_TIMEOUT, self.next_frame())
            .await
            .map_err(|_| timed_out("echo"))??;
        if b0 != 0x82 {
            return Err(bad(format!(
                "frame {b0:#04x} instead of a final binary one"
            )));
        }
        if self.buf[payload] != *expected {
            return Err(bad(format!("echo of {} bytes differs", expected.len())));
        }
        Ok(())
    }

    /// Sends a Close (1000) and waits, at most a second, for the server's
    /// Close or the end of the stream.
    pub async fn close(mut self) {
        let close = encode_masked(0x88, &1000u16.to_be_bytes(), [1, 2, 3, 4]);
        if self.send(&close).await.is_err() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        for _ in 0..16 {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.next_frame()).await {
                Ok(Ok((b0, _))) if b0 & 0x0f != 0x08 => {}
                _ => return,
            }
        }
    }
}

impl Conn {
    /// Drops the connection with a reset (`SO_LINGER` 0), so that thousands
    /// of idle connections leave no `TIME_WAIT` behind on the loopback
    /// ports.
    pub fn abort(self) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket descriptor and a `linger` of the size given.
        unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&raw const linger).cast(),
                size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
}

/// The measured part of a scenario: messages sent from `warm_end` on and
/// echoed by `end` count.
#[derive(Clone, Copy)]
pub struct Window {
    pub warm_end: Instant,
    pub end: Instant,
}

/// Round trips (nanoseconds) of one connection's counted messages.
pub type Rtts = Vec<u64>;

/// Closed loop on one connection: `depth` messages in flight, the next
/// sent as soon as an echo is in (and checked), until `window.end`; then
/// the ones still in flight are read and the connection closed.
pub async fn closed_loop(
    mut conn: Conn,
    frames: Arc<Frames>,
    depth: usize,
    window: Window,
    first_slot: usize,
) -> io::Result<Rtts> {
    let mut in_flight: VecDeque<(usize, Instant)> = VecDeque::with_capacity(depth);
    let mut slot = first_slot;
    for _ in 0..depth {
        let k = slot % SLOTS;
        in_flight.push_back((k, Instant::now()));
        conn.send(&frames.wire[k]).await?;
        slot += 1;
    }
    let mut sent = depth as u64;
    let mut rtts = Vec::with_capacity(1 << 16);
    while let Some((k, sent_at)) = in_flight.pop_front() {
        conn.expect_echo(&frames.payload[k]).await?;
        let now = Instant::now();
        if sent_at >= window.warm_end && now <= window.end {
            rtts.push(now.duration_since(sent_at).as_nanos() as u64);
        }
        if now >= window.end || sent >= MAX_MESSAGES {
            continue; // read what is still in flight, send nothing more
        }
        let k = slot % SLOTS;
        in_flight.push_back((k, now));
        conn.send(&frames.wire[k]).await?;
        slot += 1;
        sent += 1;
    }
    conn.close().await;
    Ok(rtts)
}

/// An idle connection that has exchanged one message (slot 0).
pub async fn open_idle(addr: SocketAddr, frames: &Frames) -> io::Result<Conn> {
    let mut conn = Conn::open(addr).await?;
    conn.send(&frames.wire[0]).await?;
    conn.expect_echo(&frames.payload[0]).await?;
    Ok(conn)
}

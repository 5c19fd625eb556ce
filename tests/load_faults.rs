//! Load and faults for `hybi::tokio` over loopback TCP (127.0.0.1 only):
//! many concurrent echo connections with every message checked and the
//! resident memory per connection reported; slowloris handshakes closed at
//! the handshake timeout while normal clients are served; a reader that
//! never reads, held within the backpressure bound while others are
//! served; peers that vanish (a reset mid-message, a half-close, silent
//! death caught by keep-alive).
//!
//! The scale is `HYBI_LOAD_CONNECTIONS` (default 500, so `cargo test`
//! stays quick) and `HYBI_LOAD_MESSAGES` (messages per connection,
//! default 8); `scripts/load.sh` runs these in release mode with 10,000
//! connections and prints the figures (the lines with `load:`).
//!
//! Each test runs its server on a thread of its own (a current-thread
//! runtime) and its clients on the test's thread (another), so the two
//! sides use two cores; the tests take turns (one lock) so the figures one
//! prints are its own. Every loop is bounded in count and every await in
//! time; an environment that allows too few open files shrinks the scale
//! (with a message) rather than failing. Where one process cannot hold
//! both ends of every connection, the many-connections test runs its
//! server in a child process (this binary's ignored `load_server_child`).
#![cfg(feature = "tokio")]

use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hybi::driver::{Answer, DriverError};
use hybi::tokio::{SendError, WebSocket};
use hybi::{CloseCode, Config, Error, Event, HandshakeError, MessageKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

// ----- shared pieces ----------------------------------------------------------

/// The tests take turns: each measures time and memory of its own.
static TURN: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `HYBI_LOAD_CONNECTIONS`, or 500.
fn connections() -> usize {
    std::env::var("HYBI_LOAD_CONNECTIONS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(500)
        .max(1)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `fut` within `limit`, its error as text.
async fn step<T, E: Display>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: nothing within {limit:?}")),
    }
}

/// Waits (polling every 10 ms) until `done` holds, at most `limit`.
async fn wait_until(limit: Duration, what: &str, done: impl Fn() -> bool) -> Result<(), String> {
    let start = Instant::now();
    for _ in 0..=limit.as_millis() / 10 {
        if done() {
            return Ok(());
        }
        if start.elapsed() > limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!("{what}: not within {limit:?}"))
}

/// A field of /proc/self/status in KiB (`VmRSS:`, `VmHWM:`), 0 if unknown.
fn status_kib(field: &str) -> u64 {
    status_kib_of("/proc/self/status", field)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The soft and hard open-files limits, from /proc/self/limits.
fn open_files_limits() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line["Max open files".len()..].split_whitespace();
    let mut next = || match fields.next()? {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    };
    Some((next()?, next()?))
}

/// How many connections this process can hold with `ends` of each open
/// here (one descriptor each, and 100 to spare): `wanted`, after raising
/// the soft limit with `prlimit` on our own PID if needed, or fewer (with
/// a message) when the limit cannot be raised.
fn fit_open_files(wanted: usize, ends: u64) -> usize {
    let need = ends * wanted as u64 + 100;
    let Some((soft, hard)) = open_files_limits() else {
        println!("load: /proc/self/limits unreadable; running {wanted} connections as asked");
        return wanted;
    };
    if soft >= need {
        return wanted;
    }
    let prlimit = std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok();
    if prlimit {
        // Up to what is needed (raising the hard limit takes privilege),
        // else up to the hard limit.
        let pid = std::process::id().to_string();
        for to in [need.max(hard), hard] {
            if open_files_limits().is_some_and(|(soft, _)| soft >= need) {
                break;
            }
            let _ = std::process::Command::new("prlimit")
                .args(["--pid", &pid, &format!("--nofile={to}:{to}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
    let (now, hard_now) = open_files_limits().unwrap_or((soft, hard));
    if now >= need {
        println!("load: raised the open-files limit from {soft} to {now} for {wanted} connections");
        return wanted;
    }
    let fits = (now.saturating_sub(100) / ends).max(1) as usize;
    println!(
        "load: the open-files limit (soft {now}, hard {hard_now}) allows {fits} connections, \
         not {wanted}: running {fits}"
    );
    fits
}

/// What a server's connections came to.
struct Served<T> {
    results: Vec<T>,
    accepted: usize,
    /// Tasks still running at the deadline (aborted).
    unfinished: usize,
    panicked: usize,
}

/// A server on its own thread and runtime: accepts `expected` connections
/// on 127.0.0.1 (an ephemeral port, a backlog of 4096), runs `handler` on
/// each, and returns what they came to, all within `limit`.
fn serve<T, F, Fut>(
    expected: usize,
    limit: Duration,
    handler: F,
) -> (u16, std::thread::JoinHandle<Served<T>>)
where
    T: Send + 'static,
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("load-server".into())
        .spawn(move || {
            runtime().block_on(async move {
                let deadline = tokio::time::Instant::now() + limit;
                let socket = TcpSocket::new_v4().expect("a socket");
                socket
                    .bind(([127, 0, 0, 1], 0).into())
                    .expect("bind 127.0.0.1");
                let listener = socket.listen(4096).expect("listen");
                port_tx
                    .send(listener.local_addr().expect("the port").port())
                    .expect("the test waits for the port");
                let mut tasks = JoinSet::new();
                let (mut accepted, mut errors) = (0, 0);
                while accepted < expected && errors < 1000 {
                    match tokio::time::timeout_at(deadline, listener.accept()).await {
                        Ok(Ok((socket, _))) => {
                            let _ = socket.set_nodelay(true);
                            accepted += 1;
                            tasks.spawn(handler(socket));
                        }
                        Ok(Err(e)) => {
                            errors += 1;
                            println!("load: accept failed: {e}");
                            let _ = tokio::time::timeout_at(
                                deadline,
                                tokio::time::sleep(Duration::from_millis(10)),
                            )
                            .await;
                        }
                        Err(_) => break,
                    }
                }
                drop(listener);
                let (mut results, mut panicked) = (Vec::with_capacity(accepted), 0);
                while let Ok(Some(joined)) =
                    tokio::time::timeout_at(deadline, tasks.join_next()).await
                {
                    match joined {
                        Ok(result) => results.push(result),
                        Err(_) => panicked += 1,
                    }
                }
                let unfinished = tasks.len();
                tasks.abort_all();
                Served {
                    results,
                    accepted,
                    unfinished,
                    panicked,
                }
            })
        })
        .expect("the server thread");
    let port = port_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server's port");
    (port, thread)
}

fn join<T>(server: std::thread::JoinHandle<Served<T>>) -> Served<T> {
    let served = server.join().expect("the server thread");
    assert_eq!(served.panicked, 0, "server tasks panicked");
    assert_eq!(
        served.unfinished, 0,
        "server tasks still running at the end"
    );
    served
}

/// Accepts within `limit`.
async fn accept(socket: TcpStream, config: Config) -> Result<WebSocket<TcpStream>, String> {
    step(
        Duration::from_secs(30),
        "accept",
        WebSocket::accept(socket, config, |_| Answer::accept()),
    )
    .await
}

/// What an echo connection carried.
#[derive(Debug)]
struct Echoed {
    messages: usize,
    close: u16,
    /// The connection's buffers when the peer's Close came.
    held_at_close: usize,
}

/// Echoes without copying (`recv_with_outbound`) until the peer closes;
/// `idle` bounds each wait for the next event.
async fn echo(mut ws: WebSocket<TcpStream>, idle: Duration) -> Result<Echoed, String> {
    let mut messages = 0;
    for _ in 0..1_000_000 {
        // The event and the half end before the next await (the half is
        // not `Send`).
        let closed = {
            let (event, mut out) = step(idle, "echo", ws.recv_with_outbound()).await?;
            let closed = match event {
                Event::Text(t) => {
                    messages += 1;
                    out.send_text(t).map(|()| None)
                }
                Event::Binary(b) => {
                    messages += 1;
                    out.send_binary(b).map(|()| None)
                }
                Event::TextChunk { data, last } => {
                    messages += usize::from(last);
                    out.send_fragment(MessageKind::Text, data.as_bytes(), last)
                        .map(|()| None)
                }
                Event::BinaryChunk { data, last } => {
                    messages += usize::from(last);
                    out.send_fragment(MessageKind::Binary, data, last)
                        .map(|()| None)
                }
                Event::Close(c) => Ok(Some(c.code.0)),
                _ => Ok(None),
            };
            closed.map_err(|e| format!("echo: {e}"))?
        };
        if let Some(close) = closed {
            let held_at_close = ws.buffered_bytes();
            step(idle, "echo flush", ws.flush()).await?;
            return Ok(Echoed {
                messages,
                close,
                held_at_close,
            });
        }
    }
    Err("echo: more events than the bound".into())
}

// ----- messages ---------------------------------------------------------------

/// A test message: text (with multi-byte characters) or binary.
#[derive(Debug)]
enum Payload {
    Text(String),
    Binary(Vec<u8>),
}

impl Payload {
    fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Binary(b) => b.len(),
        }
    }
}

const MIN_SIZE: usize = 16;
const MAX_SIZE: usize = 64 << 10;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Message `index` of connection `conn`, the same every time: 16 B, then
/// 64 KiB, then the edge of the 7-bit length form (125–127), then 65,535
/// (the largest 16-bit length), then sizes spread evenly over the powers
/// of two from 16 B to 64 KiB; text and binary alternate.
fn message(conn: usize, index: usize) -> Payload {
    let mut state = ((conn as u64) << 32) ^ (index as u64) ^ 0x6879_6269_6c6f_6164;
    let size = match index {
        0 => MIN_SIZE,
        1 => MAX_SIZE,
        2 => 125 + conn % 3,
        3 => 65_535,
        _ => {
            let base = 1usize << (4 + splitmix(&mut state) % 12);
            base + (splitmix(&mut state) as usize) % base
        }
    };
    if (conn + index) % 2 == 0 {
        const CHARS: [&str; 8] = ["a", "q", "Z", "7", " ", "é", "€", "𝄞"];
        let mut text = String::with_capacity(size);
        let (mut bits, mut left) = (0u64, 0);
        while text.len() < size {
            if left == 0 {
                bits = splitmix(&mut state);
                left = 21;
            }
            let c = CHARS[(bits & 7) as usize];
            bits >>= 3;
            left -= 1;
            if text.len() + c.len() <= size {
                text.push_str(c);
            } else {
                text.push('.');
            }
        }
        Payload::Text(text)
    } else {
        let mut data = Vec::with_capacity(size + 8);
        while data.len() < size {
            data.extend_from_slice(&splitmix(&mut state).to_le_bytes());
        }
        data.truncate(size);
        Payload::Binary(data)
    }
}

/// What a client's exchanges came to.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    echoed: usize,
    corrupted: usize,
    bytes: u64,
    slowest: Duration,
}

/// Sends `count` messages of connection `conn` one after another, each
/// checked byte for byte against its echo.
async fn exchange(
    ws: &mut WebSocket<TcpStream>,
    conn: usize,
    count: usize,
    op: Duration,
    tally: &mut Tally,
) -> Result<(), String> {
    for index in 0..count {
        let payload = message(conn, index);
        let started = Instant::now();
        match &payload {
            Payload::Text(t) => step(op, "send", ws.send_text(t)).await?,
            Payload::Binary(b) => step(op, "send", ws.send_binary(b)).await?,
        }
        tally.sent += 1;
        if echo_matches(ws, &payload, op).await? {
            tally.echoed += 1;
            tally.bytes += payload.len() as u64;
        } else {
            tally.corrupted += 1;
        }
        tally.slowest = tally.slowest.max(started.elapsed());
    }
    Ok(())
}

/// Whether the next message is `expected`, kind and bytes.
async fn echo_matches(
    ws: &mut WebSocket<TcpStream>,
    expected: &Payload,
    op: Duration,
) -> Result<bool, String> {
    for _ in 0..16 {
        match step(op, "the echo", ws.recv()).await? {
            Event::Ping(_) | Event::Pong(_) => {}
            Event::Text(t) => return Ok(matches!(expected, Payload::Text(e) if e.as_str() == t)),
            Event::Binary(b) => {
                return Ok(matches!(expected, Payload::Binary(e) if e.as_slice() == b));
            }
            other => return Err(format!("{} instead of the echo", other.name())),
        }
    }
    Err("only control frames came back".into())
}

/// A client that connects, exchanges `count` messages and closes.
async fn normal_client(port: u16, conn: usize, count: usize) -> Result<Tally, String> {
    let op = Duration::from_secs(10);
    let url = format!("ws://127.0.0.1:{port}/echo");
    let mut ws = step(op, "connect", WebSocket::connect(&url, Config::new())).await?;
    let mut tally = Tally::default();
    exchange(&mut ws, conn, count, op, &mut tally).await?;
    step(op, "close", ws.close(CloseCode::NORMAL, "")).await?;
    if tally.corrupted > 0 {
        return Err(format!("{} corrupted echoes", tally.corrupted));
    }
    Ok(tally)
}

// ----- raw clients --------------------------------------------------------------

fn request_head(path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// Connects and completes the handshake by hand; returns the stream and
/// what came after the response head.
async fn raw_handshake(port: u16, path: &str) -> Result<(TcpStream, Vec<u8>), String> {
    let op = Duration::from_secs(10);
    let mut stream = step(op, "connect", TcpStream::connect(("127.0.0.1", port))).await?;
    step(op, "request", stream.write_all(&request_head(path))).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..64 {
        let n = step(op, "response", stream.read(&mut buf)).await?;
        if n == 0 {
            return Err("the server closed during the handshake".into());
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            if !got.starts_with(b"HTTP/1.1 101") {
                return Err(format!(
                    "answered {:?}",
                    String::from_utf8_lossy(&got[..end])
                ));
            }
            return Ok((stream, got.split_off(end + 4)));
        }
    }
    Err("no end to the response head".into())
}

/// Reads until the end of the stream (a reset counts as the end too);
/// everything read is appended to `got`.
async fn read_to_end(
    stream: &mut TcpStream,
    got: &mut Vec<u8>,
    limit: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    for _ in 0..10_000 {
        let left = limit.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Ok(()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return Err(format!("the stream was still open after {limit:?}")),
        }
    }
    Err("more reads than the bound".into())
}

/// The frames in bytes a server sent (unmasked): (opcode, payload).
fn frames(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let (mut len, mut head) = (usize::from(bytes[at + 1] & 0x7f), 2);
        if len == 126 {
            if at + 4 > bytes.len() {
                break;
            }
            len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
            head = 4;
        } else if len == 127 {
            if at + 10 > bytes.len() {
                break;
            }
            let mut n = [0u8; 8];
            n.copy_from_slice(&bytes[at + 2..at + 10]);
            len = u64::from_be_bytes(n) as usize;
            head = 10;
        }
        if bytes[at + 1] & 0x80 != 0 {
            head += 4;
        }
        if at + head + len > bytes.len() {
            break;
        }
        out.push((opcode, bytes[at + head..at + head + len].to_vec()));
        at += head + len;
    }
    out
}

/// The first half of a masked binary frame that announces 1,000 bytes.
fn half_a_frame() -> Vec<u8> {
    let mut frame = vec![0x82, 0x80 | 126, 0x03, 0xe8, 0x11, 0x22, 0x33, 0x44];
    frame.extend(std::iter::repeat_n(0x5a, 100));
    frame
}

/// What a server connection saw before it ended.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Text(usize),
    Binary(usize),
    Close(u16),
    Other(&'static str),
}

#[derive(Debug)]
struct Ending {
    seen: Vec<Seen>,
    /// How `recv` ended; `None` if it did not within the bound.
    end: Option<DriverError>,
    /// From the end of the handshake to the end.
    after: Duration,
}

/// Accepts, then receives until `recv` fails (each wait at most `limit`).
async fn until_the_end(
    socket: TcpStream,
    config: Config,
    limit: Duration,
) -> Result<Ending, String> {
    let mut ws = accept(socket, config).await?;
    let start = Instant::now();
    let mut seen = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(limit, ws.recv()).await {
            Err(_) => break,
            Ok(Ok(event)) => seen.push(match event {
                Event::Text(t) => Seen::Text(t.len()),
                Event::Binary(b) => Seen::Binary(b.len()),
                Event::Close(c) => Seen::Close(c.code.0),
                other => Seen::Other(other.name()),
            }),
            Ok(Err(e)) => {
                return Ok(Ending {
                    seen,
                    end: Some(e),
                    after: start.elapsed(),
                });
            }
        }
    }
    Ok(Ending {
        seen,
        end: None,
        after: start.elapsed(),
    })
}

fn vanished(served: Served<Result<Ending, String>>) -> Ending {
    assert_eq!(served.accepted, 1);
    let ending = served
        .results
        .into_iter()
        .next()
        .expect("the connection's outcome")
        .expect("the handshake");
    assert!(ending.end.is_some(), "recv did not end: {ending:?}");
    ending
}

// ----- 1. many connections ------------------------------------------------------

/// `HYBI_LOAD_MESSAGES`, or 8: messages each connection echoes.
fn messages_per_connection() -> usize {
    std::env::var("HYBI_LOAD_MESSAGES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(8)
        .clamp(1, 100_000)
}
/// Connections opening at once (the rest wait their turn).
const OPENING_AT_ONCE: usize = 256;
/// Longer than the driver's idle shrink (1 s): both ends gave back their
/// buffers.
const SETTLE: Duration = Duration::from_millis(1500);

const WAIT: u8 = 0;
const GO: u8 = 1;
const CLOSE: u8 = 2;

#[derive(Debug, Default)]
struct LoadReport {
    connected: bool,
    /// The client's buffers after the idle wait that follows the echoes.
    held_idle: usize,
    tally: Tally,
    error: Option<String>,
}

/// Waits for `phase` to reach `want` while receiving (so keep-alive and
/// the idle shrink run); Pings are fine, anything else is not.
async fn idle_until(
    ws: &mut WebSocket<TcpStream>,
    phase: &mut watch::Receiver<u8>,
    want: u8,
    limit: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    for _ in 0..10_000 {
        let left = limit.saturating_sub(start.elapsed());
        let reached = async { phase.wait_for(|p| *p >= want).await.map(|_| ()) };
        let outcome = tokio::time::timeout(left, async {
            tokio::select! {
                reached = reached => reached.map_err(|e| format!("phase: {e}")).map(|()| true),
                event = ws.recv() => match event {
                    Ok(Event::Ping(_) | Event::Pong(_)) => Ok(false),
                    Ok(other) => Err(format!("{} while idle", other.name())),
                    Err(e) => Err(format!("while idle: {e}")),
                },
            }
        })
        .await;
        match outcome {
            Ok(Ok(true)) => return Ok(()),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(format!("phase {want} not within {limit:?}")),
        }
    }
    Err("more events than the bound while idle".into())
}

#[allow(clippy::too_many_arguments)]
async fn load_client(
    conn: usize,
    port: u16,
    opening: Arc<Semaphore>,
    mut phase: watch::Receiver<u8>,
    settled: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    limit: Duration,
) -> LoadReport {
    let op = Duration::from_secs(60);
    let mut report = LoadReport::default();
    let url = format!("ws://127.0.0.1:{port}/");
    let opened = async {
        let _turn = step(limit, "opening", opening.acquire()).await?;
        step(op, "connect", WebSocket::connect(&url, Config::new())).await
    }
    .await;
    settled.fetch_add(1, Ordering::SeqCst);
    let mut ws = match opened {
        Ok(ws) => ws,
        Err(e) => {
            finished.fetch_add(1, Ordering::SeqCst);
            report.error = Some(e);
            return report;
        }
    };
    report.connected = true;
    let mut run = idle_until(&mut ws, &mut phase, GO, limit).await;
    if run.is_ok() {
        run = exchange(
            &mut ws,
            conn,
            messages_per_connection(),
            op,
            &mut report.tally,
        )
        .await;
    }
    finished.fetch_add(1, Ordering::SeqCst);
    if run.is_ok() {
        run = idle_until(&mut ws, &mut phase, CLOSE, limit).await;
        report.held_idle = ws.buffered_bytes();
    }
    if run.is_ok() {
        run = step(op, "close", ws.close(CloseCode::NORMAL, "")).await;
    }
    report.error = run.err();
    report
}

/// What the echo server's side of the load came to.
#[derive(Debug, Default)]
struct ServerSummary {
    accepted: usize,
    echoed: usize,
    /// Buffers held by the server ends when the Close came, in all.
    held: usize,
    failures: Vec<String>,
}

impl ServerSummary {
    fn of(served: Served<Result<Echoed, String>>) -> Self {
        let mut summary = Self {
            accepted: served.accepted,
            ..Self::default()
        };
        for result in served.results {
            match result {
                Ok(e) if e.close == 1000 => {
                    summary.echoed += e.messages;
                    summary.held += e.held_at_close;
                }
                other => summary.failures.push(format!("{other:?}")),
            }
        }
        summary
    }

    /// One line a child process prints and its parent parses back.
    fn line(&self) -> String {
        format!(
            "load-server-summary: {} {} {} {}",
            self.accepted,
            self.echoed,
            self.held,
            self.failures.len()
        )
    }

    fn parse(line: &str, failures: Vec<String>) -> Option<Self> {
        let mut fields = line
            .strip_prefix("load-server-summary: ")?
            .split(' ')
            .map(str::parse::<usize>);
        let mut next = || fields.next()?.ok();
        let summary = Self {
            accepted: next()?,
            echoed: next()?,
            held: next()?,
            failures,
        };
        (next()? == summary.failures.len()).then_some(summary)
    }
}

/// The load's time limit for `n` connections of `per` messages.
fn load_limit(n: usize, per: usize) -> Duration {
    Duration::from_secs(60) + Duration::from_millis((20 + per as u64) * n as u64)
}

/// The echo server of the load, on a thread of this process or, when this
/// process cannot hold both ends of every connection, in a child process
/// (this test binary again, running `load_server_child`).
enum LoadServer {
    Thread(std::thread::JoinHandle<Served<Result<Echoed, String>>>),
    Child {
        child: std::process::Child,
        lines: std::sync::mpsc::Receiver<String>,
    },
}

impl LoadServer {
    fn start(n: usize, per: usize, in_child: bool) -> (u16, Self) {
        let limit = load_limit(n, per);
        if !in_child {
            let (port, server) = serve(
                n,
                limit + Duration::from_secs(30),
                move |socket| async move { echo(accept(socket, Config::new()).await?, limit).await },
            );
            return (port, Self::Thread(server));
        }
        let mut child = std::process::Command::new(std::env::current_exe().expect("this test"))
            .args([
                "load_server_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("HYBI_LOAD_SERVER_CHILD", n.to_string())
            .env("HYBI_LOAD_MESSAGES", per.to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the server's process");
        let stdout = child.stdout.take().expect("its output");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("load") {
                    println!("{line}");
                }
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let port = loop {
            match lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    // (The harness may print its "test ... " before it.)
                    if let Some((_, port)) = line.split_once("load-server-port: ") {
                        break port.trim().parse().expect("a port");
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    panic!("the server's process did not start: {e}");
                }
            }
        };
        (port, Self::Child { child, lines })
    }

    /// The server process's resident memory in KiB, 0 on a thread.
    fn rss_kib(&self) -> u64 {
        match self {
            Self::Thread(_) => 0,
            Self::Child { child, .. } => {
                status_kib_of(&format!("/proc/{}/status", child.id()), "VmRSS:")
            }
        }
    }

    fn finish(self, limit: Duration) -> ServerSummary {
        match self {
            Self::Thread(server) => ServerSummary::of(join(server)),
            Self::Child { mut child, lines } => {
                let start = Instant::now();
                let (mut summary, mut failures) = (None, Vec::new());
                while start.elapsed() < limit {
                    match lines.recv_timeout(Duration::from_millis(200)) {
                        Ok(line) => {
                            if let Some((_, f)) = line.split_once("load-server-failure: ") {
                                failures.push(f.to_owned());
                            } else if let Some(at) = line.find("load-server-summary: ") {
                                summary = ServerSummary::parse(
                                    &line[at..],
                                    std::mem::take(&mut failures),
                                );
                            }
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                let status = loop {
                    match child.try_wait().expect("the server's process") {
                        Some(status) => break Some(status),
                        None if start.elapsed() > limit => break None,
                        None => std::thread::sleep(Duration::from_millis(50)),
                    }
                };
                let Some(status) = status else {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the server's process did not finish within {limit:?}");
                };
                assert!(status.success(), "the server's process failed: {status}");
                summary.expect("the server's process reported no summary")
            }
        }
    }
}

/// A field of a process's status file in KiB, 0 if unknown.
fn status_kib_of(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// The server half of [`many_connections_echo_every_message_intact`] in
/// a process of its own, started by it (`HYBI_LOAD_SERVER_CHILD` holds
/// the connection count) when one process cannot hold both ends of every
/// connection. It prints its port, then what it served; the parent
/// checks it.
#[test]
#[ignore = "the server half of many_connections_echo_every_message_intact, run by it in a child process"]
fn load_server_child() {
    let Some(n) = std::env::var("HYBI_LOAD_SERVER_CHILD")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        println!("load_server_child: run by many_connections_echo_every_message_intact, not alone");
        return;
    };
    let fits = fit_open_files(n, 1);
    assert_eq!(fits, n, "the server's process cannot hold {n} connections");
    let (port, server) = LoadServer::start(n, messages_per_connection(), false);
    println!("load-server-port: {port}");
    let summary = server.finish(load_limit(n, messages_per_connection()));
    for failure in &summary.failures {
        println!("load-server-failure: {failure}");
    }
    println!("{}", summary.line());
}

/// N connections open at once to one echo server, each echoing a mix of
/// 16 B – 64 KiB text and binary messages, every echo checked: none lost,
/// none corrupted. Reports the resident memory per connection and the
/// time taken. Where this process cannot hold both ends of N connections
/// (the open-files limit), the server runs in a child process and each
/// process holds one end of each.
#[test]
fn many_connections_echo_every_message_intact() {
    let _turn = one_at_a_time();
    let wanted = connections();
    // (`HYBI_LOAD_SERVER_PROCESS` asks for the child process at any scale.)
    let in_child = std::env::var_os("HYBI_LOAD_SERVER_PROCESS").is_some()
        || fit_open_files(wanted, 2) < wanted;
    let n = if in_child {
        println!(
            "load: the server runs in a child process, each process holding one end of each connection"
        );
        fit_open_files(wanted, 1)
    } else {
        wanted
    };
    let per = messages_per_connection();
    let limit = load_limit(n, per);
    let (port, server) = LoadServer::start(n, per, in_child);
    let server = std::cell::RefCell::new(server);
    let run = async {
        let (phase_tx, phase) = watch::channel(WAIT);
        let settled = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
        let rss_before = status_kib("VmRSS:") + server.borrow().rss_kib();
        let start = Instant::now();
        let mut clients = Vec::with_capacity(n);
        for conn in 0..n {
            clients.push(tokio::spawn(load_client(
                conn,
                port,
                Arc::clone(&opening),
                phase.clone(),
                Arc::clone(&settled),
                Arc::clone(&finished),
                limit,
            )));
        }
        wait_until(limit, "opening", || settled.load(Ordering::SeqCst) == n).await?;
        let opened_in = start.elapsed();
        tokio::time::sleep(SETTLE).await;
        let rss_open = status_kib("VmRSS:") + server.borrow().rss_kib();
        phase_tx.send_replace(GO);
        let go = Instant::now();
        wait_until(limit, "echoing", || finished.load(Ordering::SeqCst) == n).await?;
        let echoed_in = go.elapsed();
        tokio::time::sleep(SETTLE).await;
        let rss_after = status_kib("VmRSS:") + server.borrow().rss_kib();
        let peak = status_kib("VmHWM:");
        phase_tx.send_replace(CLOSE);
        let closing = Instant::now();
        let mut reports = Vec::with_capacity(n);
        for client in clients {
            reports.push(step(limit, "client task", client).await?);
        }
        let closed_in = closing.elapsed();
        Ok::<_, String>((
            reports,
            [rss_before, rss_open, rss_after, peak],
            [opened_in, echoed_in, closed_in],
        ))
    };
    let outcome = runtime().block_on(async move {
        tokio::time::timeout(limit, run)
            .await
            .unwrap_or_else(|_| Err(format!("the load did not finish within {limit:?}")))
    });
    let (reports, [rss_before, rss_open, rss_after, peak], [opened_in, echoed_in, closed_in]) =
        outcome.unwrap();
    let served = server.into_inner().finish(limit + Duration::from_secs(60));

    let expected = n * per;
    let connected = reports.iter().filter(|r| r.connected).count();
    let sent: usize = reports.iter().map(|r| r.tally.sent).sum();
    let echoed: usize = reports.iter().map(|r| r.tally.echoed).sum();
    let corrupted: usize = reports.iter().map(|r| r.tally.corrupted).sum();
    let lost = expected - echoed - corrupted;
    let bytes: u64 = reports.iter().map(|r| r.tally.bytes).sum();
    let slowest = reports
        .iter()
        .map(|r| r.tally.slowest)
        .max()
        .unwrap_or_default();
    let held_idle: usize = reports.iter().map(|r| r.held_idle).sum();
    let errors: Vec<&String> = reports.iter().filter_map(|r| r.error.as_ref()).collect();
    let per_pair = |kib: u64| kib.saturating_sub(rss_before) as f64 * 1024.0 / n as f64 / 1024.0;
    println!(
        "load: {n} concurrent connections, {sent} messages of 16 B - 64 KiB sent ({:.1} MiB each \
         way), {echoed} echoed intact, {lost} lost, {corrupted} corrupted",
        bytes as f64 / f64::from(1 << 20),
    );
    println!(
        "load: opened in {:.2} s, echoed in {:.2} s ({:.0} messages/s, {:.1} MiB/s each way, \
         slowest round trip {} ms), closed in {:.2} s",
        opened_in.as_secs_f64(),
        echoed_in.as_secs_f64(),
        echoed as f64 / echoed_in.as_secs_f64(),
        bytes as f64 / f64::from(1 << 20) / echoed_in.as_secs_f64(),
        slowest.as_millis(),
        closed_in.as_secs_f64(),
    );
    println!(
        "load: VmRSS {:.1} MiB before, {:.1} MiB open and idle, {:.1} MiB after the echoes and \
         idle (both processes when the server has its own); VmHWM (peak, this process) {:.1} MiB",
        mib(rss_before),
        mib(rss_open),
        mib(rss_after),
        mib(peak),
    );
    println!(
        "load: resident memory per connection (both ends: the client's and the server's \
         WebSocket, task and buffers; half of it is one end): open and idle \
         {:.1} KiB per pair (~{:.1} KiB per end), after the echoes and idle {:.1} KiB per pair \
         (~{:.1} KiB per end; includes what the allocator kept: the client ends then held \
         {held_idle} bytes of buffers in all)",
        per_pair(rss_open),
        per_pair(rss_open) / 2.0,
        per_pair(rss_after),
        per_pair(rss_after) / 2.0,
    );
    assert!(
        errors.is_empty(),
        "{} clients failed, first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(connected, n, "connections opened");
    assert_eq!(lost, 0, "messages lost");
    assert_eq!(corrupted, 0, "messages corrupted");
    assert_eq!(echoed, expected);

    assert_eq!(served.accepted, n);
    assert!(
        served.failures.is_empty(),
        "server connections ended badly: {:?}",
        &served.failures[..served.failures.len().min(5)]
    );
    println!(
        "load: the server ends held {:.1} KiB of buffers per connection when the Close came \
         after the idle wait ({} bytes in all)",
        served.held as f64 / 1024.0 / n as f64,
        served.held
    );
    assert_eq!(served.echoed, expected, "messages the server echoed");
}

// ----- 2. slowloris ---------------------------------------------------------------

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);
/// A slow client's pace: one byte per interval.
const DRIP: Duration = Duration::from_millis(200);
const NORMAL_CLIENTS: usize = 20;

#[derive(Debug)]
enum Handshake {
    TimedOut(Duration),
    Echoed(Result<Echoed, String>),
    Failed(String),
}

/// Sends a request head one byte per `DRIP`, never the end of it; returns
/// how long after connecting the server closed the connection.
async fn slow_client(
    port: u16,
    dripping: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
) -> Result<Duration, String> {
    let op = Duration::from_secs(10);
    // From before the connect: the server's clock starts later, at accept.
    let start = Instant::now();
    let mut stream = step(op, "connect", TcpStream::connect(("127.0.0.1", port))).await?;
    let head = request_head("/slow");
    let mut buf = [0u8; 512];
    let mut outcome = Err("the whole head was sent".to_string());
    for (i, byte) in head[..head.len() - 2].iter().enumerate() {
        if start.elapsed() > HANDSHAKE_TIMEOUT + op {
            outcome = Err(format!("still open after {:?}", start.elapsed()));
            break;
        }
        let wrote = tokio::time::timeout(op, stream.write_all(&[*byte])).await;
        if i == 0 {
            dripping.fetch_add(1, Ordering::SeqCst);
        }
        match wrote {
            Ok(Ok(())) => {}
            // The server is gone (its reset answers our byte).
            Ok(Err(_)) => {
                outcome = Ok(start.elapsed());
                break;
            }
            Err(_) => {
                outcome = Err("a one-byte write waited".into());
                break;
            }
        }
        match tokio::time::timeout(DRIP, stream.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0) | Err(_)) => {
                outcome = Ok(start.elapsed());
                break;
            }
            Ok(Ok(n)) => {
                outcome = Err(format!(
                    "the server answered an unfinished head with {n} bytes"
                ));
                break;
            }
        }
    }
    closed.fetch_add(1, Ordering::SeqCst);
    outcome
}

/// Slow clients that send a request head one byte per 200 ms are closed
/// at the handshake timeout (1 s), while normal clients connecting at the
/// same time are served.
#[test]
fn slowloris_handshakes_end_at_the_timeout_while_others_are_served() {
    let _turn = one_at_a_time();
    let slow = fit_open_files(connections().min(1000) + NORMAL_CLIENTS, 2)
        .saturating_sub(NORMAL_CLIENTS)
        .max(1);
    let config = Config::new().handshake_timeout(Some(HANDSHAKE_TIMEOUT));
    let limit = Duration::from_secs(60);
    let (port, server) = serve(slow + NORMAL_CLIENTS, limit, move |socket| async move {
        let start = Instant::now();
        let accepted = tokio::time::timeout(
            Duration::from_secs(30),
            WebSocket::accept(socket, config, |_| Answer::accept()),
        )
        .await;
        match accepted {
            Ok(Err(DriverError::Ws(Error::Handshake(HandshakeError::Timeout)))) => {
                Handshake::TimedOut(start.elapsed())
            }
            Ok(Ok(ws)) => Handshake::Echoed(echo(ws, Duration::from_secs(30)).await),
            Ok(Err(e)) => Handshake::Failed(e.to_string()),
            Err(_) => Handshake::Failed("the handshake outlived its timeout".into()),
        }
    });
    let run = async move {
        let dripping = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let mut slow_clients = Vec::with_capacity(slow);
        for _ in 0..slow {
            slow_clients.push(tokio::spawn(slow_client(
                port,
                Arc::clone(&dripping),
                Arc::clone(&closed),
            )));
        }
        wait_until(Duration::from_secs(20), "slow clients dripping", || {
            dripping.load(Ordering::SeqCst) + closed.load(Ordering::SeqCst) >= slow
        })
        .await?;
        let start = Instant::now();
        let mut normal = Vec::with_capacity(NORMAL_CLIENTS);
        for k in 0..NORMAL_CLIENTS {
            let closed = Arc::clone(&closed);
            normal.push(tokio::spawn(async move {
                let tally = normal_client(port, 1_000_000 + k, 6).await?;
                // How many slow connections the server still held then.
                Ok::<_, String>((tally, slow - closed.load(Ordering::SeqCst)))
            }));
        }
        let mut normal_results = Vec::new();
        for client in normal {
            normal_results.push(step(limit, "normal client", client).await?);
        }
        let normal_in = start.elapsed();
        let mut slow_results = Vec::new();
        for client in slow_clients {
            slow_results.push(step(limit, "slow client", client).await?);
        }
        Ok::<_, String>((normal_results, normal_in, slow_results))
    };
    let (normal, normal_in, slow_results) = runtime()
        .block_on(async move {
            tokio::time::timeout(limit, run)
                .await
                .unwrap_or_else(|_| Err("slowloris: no end within the bound".into()))
        })
        .unwrap();
    let served = join(server);

    let closed_after: Vec<Duration> = slow_results
        .iter()
        .map(|r| *r.as_ref().expect("a slow client"))
        .collect();
    let (first, last) = (
        closed_after.iter().min().copied().unwrap_or_default(),
        closed_after.iter().max().copied().unwrap_or_default(),
    );
    let mut held = usize::MAX;
    let mut slowest = Duration::ZERO;
    for result in &normal {
        let (tally, still_held) = result.as_ref().expect("a normal client");
        assert_eq!(tally.echoed, 6);
        held = held.min(*still_held);
        slowest = slowest.max(tally.slowest);
    }
    let server_timeouts: Vec<Duration> = served
        .results
        .iter()
        .filter_map(|r| match r {
            Handshake::TimedOut(after) => Some(*after),
            _ => None,
        })
        .collect();
    println!(
        "load: slowloris: {slow} handshakes at one byte per {} ms closed {:.2} - {:.2} s after \
         connecting (handshake timeout {} s; server side {:.2} - {:.2} s)",
        DRIP.as_millis(),
        first.as_secs_f64(),
        last.as_secs_f64(),
        HANDSHAKE_TIMEOUT.as_secs(),
        server_timeouts
            .iter()
            .min()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
        server_timeouts
            .iter()
            .max()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
    );
    println!(
        "load: slowloris: {NORMAL_CLIENTS} normal clients served meanwhile in {} ms (slowest \
         round trip {} ms), with at least {held} slow handshakes still held",
        normal_in.as_millis(),
        slowest.as_millis(),
    );
    let slack = Duration::from_secs(3);
    assert!(
        first + Duration::from_millis(50) >= HANDSHAKE_TIMEOUT,
        "a slow client was closed before the timeout: {first:?}"
    );
    assert!(
        last <= HANDSHAKE_TIMEOUT + slack,
        "a slow client was closed late: {last:?}"
    );
    assert!(
        held > 0,
        "the normal clients were not served while slow ones waited"
    );
    assert_eq!(server_timeouts.len(), slow, "handshakes that timed out");
    for after in &server_timeouts {
        assert!(
            *after >= HANDSHAKE_TIMEOUT && *after <= HANDSHAKE_TIMEOUT + slack,
            "a handshake timed out after {after:?}"
        );
    }
    let mut echoed = 0;
    for result in &served.results {
        match result {
            Handshake::TimedOut(_) => {}
            Handshake::Echoed(Ok(e)) if e.close == 1000 => echoed += 1,
            Handshake::Echoed(other) => panic!("a normal connection ended with {other:?}"),
            Handshake::Failed(e) => panic!("a handshake failed: {e}"),
        }
    }
    assert_eq!(echoed, NORMAL_CLIENTS);
}

// ----- 3. a reader that never reads ---------------------------------------------

const MAX_QUEUED: usize = 256 << 10;
const CHUNK: usize = 16 << 10;
const OTHERS: usize = 10;
/// The producer gives up after this much (the bound never held).
const PRODUCER_CAP: usize = 256 << 20;

#[derive(Debug, Default)]
struct SinkReport {
    /// Chunks the sender queued, in all.
    queued: usize,
    /// Chunks queued until the budget stayed full.
    before_full: usize,
    max_transmit: usize,
    max_buffered: usize,
    rss_saturated: u64,
    rss_stopped: u64,
    trouble: Vec<String>,
}

#[derive(Debug)]
enum Role {
    Sink(Result<SinkReport, String>),
    Echo(Result<Echoed, String>),
}

/// Pushes chunks to a peer that never reads, through a `Sender` with
/// `try_send_binary` (backing off on `Full`), while this task polls the
/// connection (which moves the sender's messages) and samples what it
/// holds, until `stop`.
async fn sink(
    mut ws: WebSocket<TcpStream>,
    saturated: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> SinkReport {
    let sender = ws.sender();
    let producer_stop = Arc::clone(&stop);
    let producer_saturated = Arc::clone(&saturated);
    let producer = tokio::spawn(async move {
        let chunk = vec![0x5au8; CHUNK];
        let (mut queued, mut full_in_a_row, mut before_full) = (0usize, 0, 0);
        for _ in 0..1_000_000 {
            if producer_stop.load(Ordering::SeqCst) || queued * CHUNK > PRODUCER_CAP {
                break;
            }
            match sender.try_send_binary(chunk.clone()) {
                Ok(()) => {
                    queued += 1;
                    full_in_a_row = 0;
                }
                Err(SendError::Full) => {
                    full_in_a_row += 1;
                    // Full for 200 ms on end: the socket takes nothing more.
                    if full_in_a_row == 40 && !producer_saturated.load(Ordering::SeqCst) {
                        before_full = queued;
                        producer_saturated.store(true, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(SendError::Closed) => break,
            }
            if queued % 64 == 0 {
                tokio::task::yield_now().await;
            }
        }
        (queued, before_full)
    });
    let mut report = SinkReport::default();
    let mut was_saturated = false;
    for _ in 0..100_000 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(20), ws.recv()).await {
            Err(_) => {}
            Ok(Ok(event)) => report.trouble.push(format!("received {}", event.name())),
            Ok(Err(e)) => {
                report.trouble.push(format!("recv: {e}"));
                break;
            }
        }
        report.max_transmit = report
            .max_transmit
            .max(ws.connection_mut().transmit().len());
        report.max_buffered = report.max_buffered.max(ws.buffered_bytes());
        if !was_saturated && saturated.load(Ordering::SeqCst) {
            was_saturated = true;
            report.rss_saturated = status_kib("VmRSS:");
        }
    }
    report.rss_stopped = status_kib("VmRSS:");
    stop.store(true, Ordering::SeqCst);
    match tokio::time::timeout(Duration::from_secs(10), producer).await {
        Ok(Ok((queued, before_full))) => {
            report.queued = queued;
            report.before_full = before_full;
        }
        Ok(Err(e)) => report.trouble.push(format!("producer: {e}")),
        Err(_) => report.trouble.push("the producer did not stop".into()),
    }
    report
}

/// A client that completes the handshake and never reads: the server's
/// memory for it stays within the backpressure bound (`max_queued`
/// 256 KiB) and ten other clients on the same server echo meanwhile.
#[test]
fn a_reader_that_never_reads_stays_within_the_bound() {
    let _turn = one_at_a_time();
    let limit = Duration::from_secs(60);
    let saturated = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (server_saturated, server_stop) = (Arc::clone(&saturated), Arc::clone(&stop));
    let (port, server) = serve(1 + OTHERS, limit, move |socket| {
        let (saturated, stop) = (Arc::clone(&server_saturated), Arc::clone(&server_stop));
        async move {
            let mut path = String::new();
            let accepted = step(
                Duration::from_secs(10),
                "accept",
                WebSocket::accept(socket, Config::new(), |request| {
                    path = request.path().to_owned();
                    Answer::accept()
                }),
            )
            .await;
            match accepted {
                Ok(ws) if path == "/sink" => {
                    Role::Sink(Ok(sink(ws.max_queued(MAX_QUEUED), saturated, stop).await))
                }
                Ok(ws) => Role::Echo(echo(ws, Duration::from_secs(30)).await),
                Err(e) if path == "/sink" => Role::Sink(Err(e)),
                Err(e) => Role::Echo(Err(e)),
            }
        }
    });
    let run = async move {
        // Completes the handshake, then never reads again.
        let (never_reads, _) = raw_handshake(port, "/sink").await?;
        let saturating = Instant::now();
        wait_until(Duration::from_secs(20), "the budget to stay full", || {
            saturated.load(Ordering::SeqCst)
        })
        .await?;
        let saturated_in = saturating.elapsed();
        let start = Instant::now();
        let mut others = Vec::with_capacity(OTHERS);
        for k in 0..OTHERS {
            others.push(tokio::spawn(normal_client(port, 2_000_000 + k, 20)));
        }
        let mut tallies = Vec::with_capacity(OTHERS);
        for client in others {
            tallies.push(step(limit, "client task", client).await?);
        }
        let others_in = start.elapsed();
        // The peer keeps not reading a while longer.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
        Ok::<_, String>((never_reads, tallies, saturated_in, others_in))
    };
    let (never_reads, tallies, saturated_in, others_in) = runtime()
        .block_on(async move {
            tokio::time::timeout(limit, run)
                .await
                .unwrap_or_else(|_| Err("never-reader: no end within the bound".into()))
        })
        .unwrap();
    let served = join(server);
    drop(never_reads);

    let mut sink_report = None;
    let mut echoed = 0;
    for role in served.results {
        match role {
            Role::Sink(report) => sink_report = Some(report.expect("the sink's handshake")),
            Role::Echo(Ok(e)) if e.close == 1000 => echoed += e.messages,
            Role::Echo(other) => panic!("an echo connection ended with {other:?}"),
        }
    }
    let report = sink_report.expect("the never-reading connection");
    let mut slowest = Duration::ZERO;
    for tally in &tallies {
        let tally = tally.as_ref().expect("a client beside the never-reader");
        assert_eq!(tally.echoed, 20);
        slowest = slowest.max(tally.slowest);
    }
    println!(
        "load: never-reader: the peer's socket took {:.1} MiB before the budget stayed full \
         ({} ms); {:.1} MiB queued in all; the connection held at most {} KiB waiting for the \
         socket and {} KiB of buffers (max_queued {} KiB; the Senders' queue holds at most \
         max_queued more); VmRSS {:.1} MiB when full, {:.1} MiB \
         at the end",
        (report.before_full * CHUNK) as f64 / f64::from(1 << 20),
        saturated_in.as_millis(),
        (report.queued * CHUNK) as f64 / f64::from(1 << 20),
        report.max_transmit >> 10,
        report.max_buffered >> 10,
        MAX_QUEUED >> 10,
        mib(report.rss_saturated),
        mib(report.rss_stopped),
    );
    println!(
        "load: never-reader: {OTHERS} other clients echoed {} messages meanwhile in {} ms \
         (slowest round trip {} ms)",
        tallies.len() * 20,
        others_in.as_millis(),
        slowest.as_millis(),
    );
    assert!(report.trouble.is_empty(), "{:?}", report.trouble);
    assert!(
        report.queued * CHUNK <= PRODUCER_CAP,
        "the budget never stayed full"
    );
    assert!(
        report.max_transmit <= MAX_QUEUED + CHUNK,
        "{} bytes waited for the socket",
        report.max_transmit
    );
    assert!(
        report.max_buffered <= 2 * (MAX_QUEUED + CHUNK) + (16 << 10),
        "{} bytes of buffers",
        report.max_buffered
    );
    assert_eq!(echoed, OTHERS * 20, "messages the server echoed");
}

// ----- 4. peers that vanish -----------------------------------------------------

/// A client that sends half a frame and then resets the connection
/// (SO_LINGER 0): the server's `recv` ends with an I/O error, or with
/// Close 1006 and then `Closed`; it never hangs, and the half frame never
/// surfaces as a message.
#[test]
fn a_reset_mid_message_ends_the_connection() {
    let _turn = one_at_a_time();
    let (port, server) = serve(1, Duration::from_secs(30), |socket| {
        until_the_end(socket, Config::new(), Duration::from_secs(10))
    });
    runtime()
        .block_on(async move {
            tokio::time::timeout(Duration::from_secs(20), async move {
                let (mut stream, _) = raw_handshake(port, "/").await?;
                step(
                    Duration::from_secs(5),
                    "half a frame",
                    stream.write_all(&half_a_frame()),
                )
                .await?;
                // Let the server read the half frame, then reset.
                tokio::time::sleep(Duration::from_millis(100)).await;
                stream.set_zero_linger().map_err(|e| e.to_string())?;
                drop(stream);
                Ok::<_, String>(())
            })
            .await
            .unwrap_or_else(|_| Err("no end within the bound".into()))
        })
        .unwrap();
    let ending = vanished(join(server));
    println!(
        "load: reset mid-message: the server saw {:?} and then {:?} after {} ms",
        ending.seen,
        ending.end,
        ending.after.as_millis()
    );
    match &ending.end {
        Some(DriverError::Io(_)) => assert!(
            ending.seen.iter().all(|s| *s == Seen::Close(1006)),
            "{ending:?}"
        ),
        Some(DriverError::Closed) => assert_eq!(ending.seen, [Seen::Close(1006)]),
        other => panic!("recv ended with {other:?}"),
    }
}

/// A client that sends a message, then half a frame, then shuts down its
/// write side: the server gets the message, then Close 1006 and `Closed`,
/// and closes its side too.
#[test]
fn a_half_close_is_the_end_of_the_stream() {
    let _turn = one_at_a_time();
    let (port, server) = serve(1, Duration::from_secs(30), |socket| {
        until_the_end(socket, Config::new(), Duration::from_secs(10))
    });
    let rest = runtime()
        .block_on(async move {
            tokio::time::timeout(Duration::from_secs(20), async move {
                let op = Duration::from_secs(5);
                let url = format!("ws://127.0.0.1:{port}/");
                let mut ws = step(op, "connect", WebSocket::connect(&url, Config::new())).await?;
                step(op, "send", ws.send_text("before the half-close")).await?;
                let stream = ws.get_mut();
                step(op, "half a frame", stream.write_all(&half_a_frame())).await?;
                step(op, "shutdown", stream.shutdown()).await?;
                // The read side stays open: the server closes its side.
                let mut rest = Vec::new();
                read_to_end(stream, &mut rest, Duration::from_secs(10)).await?;
                Ok::<_, String>(rest)
            })
            .await
            .unwrap_or_else(|_| Err("no end within the bound".into()))
        })
        .unwrap();
    let ending = vanished(join(server));
    println!(
        "load: half-close: the server saw {:?} and then {:?} after {} ms; {} bytes came back \
         before its end",
        ending.seen,
        ending.end,
        ending.after.as_millis(),
        rest.len()
    );
    assert_eq!(
        ending.seen,
        [Seen::Text("before the half-close".len()), Seen::Close(1006)]
    );
    assert!(
        matches!(ending.end, Some(DriverError::Closed)),
        "{ending:?}"
    );
}

/// A client that completes the handshake and then neither reads nor
/// writes: with keep-alive at 200 ms and the Pong timeout at 300 ms, the
/// server's `recv` fails with `PongTimeout` after about half a second, and
/// the client's socket holds the Ping, a Close 1011 and the end.
#[test]
fn silent_death_is_caught_by_keepalive() {
    let _turn = one_at_a_time();
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_millis(200)))
        .pong_timeout(Some(Duration::from_millis(300)));
    let (port, server) = serve(1, Duration::from_secs(30), move |socket| {
        until_the_end(socket, config, Duration::from_secs(10))
    });
    let got = runtime()
        .block_on(async move {
            tokio::time::timeout(Duration::from_secs(20), async move {
                let (mut stream, mut got) = raw_handshake(port, "/").await?;
                // Silent: nothing read or written until the server is done
                // with us (its end shows as the end of the stream).
                tokio::time::sleep(Duration::from_millis(1500)).await;
                read_to_end(&mut stream, &mut got, Duration::from_secs(10)).await?;
                Ok::<_, String>(got)
            })
            .await
            .unwrap_or_else(|_| Err("no end within the bound".into()))
        })
        .unwrap();
    let ending = vanished(join(server));
    let frames = frames(&got);
    println!(
        "load: silent death: recv failed with {:?} after {} ms; the peer was sent {:?}",
        ending.end,
        ending.after.as_millis(),
        frames
            .iter()
            .map(|(op, payload)| (op, payload.len()))
            .collect::<Vec<_>>(),
    );
    assert!(
        matches!(ending.end, Some(DriverError::Ws(Error::PongTimeout))),
        "{ending:?}"
    );
    assert!(ending.seen.is_empty(), "{ending:?}");
    assert!(
        ending.after >= Duration::from_millis(450) && ending.after <= Duration::from_secs(3),
        "{:?}",
        ending.after
    );
    let opcodes: Vec<u8> = frames.iter().map(|(op, _)| *op).collect();
    assert_eq!(opcodes, [0x9, 0x8], "a Ping, then a Close");
    assert_eq!(frames[1].1[..2], 1011u16.to_be_bytes(), "Close 1011");
}

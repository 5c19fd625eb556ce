//! The pieces every load and fault test shares: one test at a time, runtimes
//! on their own threads, bounded waits, resident memory from /proc, the
//! open-files limit, and the echo server.

use crate::prelude::*;

/// The tests take turns: each measures time and memory of its own.
pub(crate) static TURN: Mutex<()> = Mutex::new(());

pub(crate) fn one_at_a_time() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `HYBI_LOAD_CONNECTIONS`, or 500.
pub(crate) fn connections() -> usize {
    std::env::var("HYBI_LOAD_CONNECTIONS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(500)
        .max(1)
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `fut` within `limit`, its error as text.
pub(crate) async fn step<T, E: Display>(
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
pub(crate) async fn wait_until(
    limit: Duration,
    what: &str,
    done: impl Fn() -> bool,
) -> Result<(), String> {
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
pub(crate) fn status_kib(field: &str) -> u64 {
    status_kib_of("/proc/self/status", field)
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The soft and hard open-files limits, from /proc/self/limits.
pub(crate) fn open_files_limits() -> Option<(u64, u64)> {
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
pub(crate) fn fit_open_files(wanted: usize, ends: u64) -> usize {
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
pub(crate) struct Served<T> {
    pub(crate) results: Vec<T>,
    pub(crate) accepted: usize,
    /// Tasks still running at the deadline (aborted).
    pub(crate) unfinished: usize,
    pub(crate) panicked: usize,
}

/// A server on its own thread and runtime: accepts `expected` connections
/// on 127.0.0.1 (an ephemeral port, a backlog of 4096), runs `handler` on
/// each, and returns what they came to, all within `limit`.
pub(crate) fn serve<T, F, Fut>(
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

pub(crate) fn join<T>(server: std::thread::JoinHandle<Served<T>>) -> Served<T> {
    let served = server.join().expect("the server thread");
    assert_eq!(served.panicked, 0, "server tasks panicked");
    assert_eq!(
        served.unfinished, 0,
        "server tasks still running at the end"
    );
    served
}

/// Accepts within `limit`.
pub(crate) async fn accept(
    socket: TcpStream,
    config: Config,
) -> Result<WebSocket<TcpStream>, String> {
    step(
        Duration::from_secs(30),
        "accept",
        WebSocket::accept(socket, config, |_| Answer::accept()),
    )
    .await
}

/// What an echo connection carried.
#[derive(Debug)]
pub(crate) struct Echoed {
    pub(crate) messages: usize,
    pub(crate) close: u16,
    /// The connection's buffers when the peer's Close came.
    pub(crate) held_at_close: usize,
}

/// Echoes without copying (`recv_with_outbound`) until the peer closes;
/// `idle` bounds each wait for the next event.
pub(crate) async fn echo(mut ws: WebSocket<TcpStream>, idle: Duration) -> Result<Echoed, String> {
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

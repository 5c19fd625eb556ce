//! Many concurrent connections echoing a mix of 16 B to 64 KiB messages, every
//! one checked, with resident memory per connection reported (in a child
//! process where one process cannot hold both ends).

use crate::prelude::*;

/// `HYBI_LOAD_MESSAGES`, or 8: messages each connection echoes.
pub(crate) fn messages_per_connection() -> usize {
    std::env::var("HYBI_LOAD_MESSAGES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(8)
        .clamp(1, 100_000)
}
/// Connections opening at once (the rest wait their turn).
pub(crate) const OPENING_AT_ONCE: usize = 256;
/// Longer than the driver's idle shrink (1 s): both ends gave back their
/// buffers.
pub(crate) const SETTLE: Duration = Duration::from_millis(1500);

pub(crate) const WAIT: u8 = 0;
pub(crate) const GO: u8 = 1;
pub(crate) const CLOSE: u8 = 2;

#[derive(Debug, Default)]
pub(crate) struct LoadReport {
    pub(crate) connected: bool,
    /// The client's buffers after the idle wait that follows the echoes.
    pub(crate) held_idle: usize,
    pub(crate) tally: Tally,
    pub(crate) error: Option<String>,
}

/// Waits for `phase` to reach `want` while receiving (so keep-alive and
/// the idle shrink run); Pings are fine, anything else is not.
pub(crate) async fn idle_until(
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
pub(crate) async fn load_client(
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
pub(crate) struct ServerSummary {
    pub(crate) accepted: usize,
    pub(crate) echoed: usize,
    /// Buffers held by the server ends when the Close came, in all.
    pub(crate) held: usize,
    pub(crate) failures: Vec<String>,
}

impl ServerSummary {
    pub(crate) fn of(served: Served<Result<Echoed, String>>) -> Self {
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
    pub(crate) fn line(&self) -> String {
        format!(
            "load-server-summary: {} {} {} {}",
            self.accepted,
            self.echoed,
            self.held,
            self.failures.len()
        )
    }

    pub(crate) fn parse(line: &str, failures: Vec<String>) -> Option<Self> {
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
pub(crate) fn load_limit(n: usize, per: usize) -> Duration {
    Duration::from_secs(60) + Duration::from_millis((20 + per as u64) * n as u64)
}

/// The echo server of the load, on a thread of this process or, when this
/// process cannot hold both ends of every connection, in a child process
/// (this test binary again, running `load_server_child`).
pub(crate) enum LoadServer {
    Thread(std::thread::JoinHandle<Served<Result<Echoed, String>>>),
    Child {
        child: std::process::Child,
        lines: std::sync::mpsc::Receiver<String>,
    },
}

impl LoadServer {
    pub(crate) fn start(n: usize, per: usize, in_child: bool) -> (u16, Self) {
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
                "many_connections::load_server_child",
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
    pub(crate) fn rss_kib(&self) -> u64 {
        match self {
            Self::Thread(_) => 0,
            Self::Child { child, .. } => {
                status_kib_of(&format!("/proc/{}/status", child.id()), "VmRSS:")
            }
        }
    }

    pub(crate) fn finish(self, limit: Duration) -> ServerSummary {
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
pub(crate) fn status_kib_of(path: &str, field: &str) -> u64 {
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

//! Echo over real loopback sockets: hybi's tokio driver against the echo
//! servers of tokio-tungstenite and fastwebsockets, driven by one neutral
//! load generator. See `README.md` ("Over real sockets").
//!
//! ```sh
//! cargo run --release --bin socket_echo -- bench   # messages/s, p50/p99
//! cargo run --release --bin socket_echo -- idle    # memory per idle connection
//! cargo run --release --bin socket_echo            # both
//! ```
//!
//! Each server runs in a child process of this binary (`serve NAME`), on a
//! tokio current-thread runtime; the load generator runs in this process,
//! on a current-thread runtime of its own.

mod child;
mod loadgen;
mod servers;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use child::ServerProcess;
use loadgen::{Conn, Frames, Window};
use servers::Server;

/// Counts live heap bytes while `COUNTING` is set (a server child started
/// with `--count-heap`); otherwise one relaxed load per call.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE.fetch_add(layout.size() as i64, Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE.fetch_add(layout.size() as i64, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as i64, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            LIVE.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const USAGE: &str = "\
usage: socket_echo [bench|idle|all] [options]
       socket_echo serve NAME [--port P] [--count-heap] [--cpu N]

bench options:
  --servers LIST   hybi,tokio-tungstenite,fastwebsockets (the default)
  --sizes LIST     payload bytes, default 16,16384
  --conns LIST     connections, default 1,100
  --depth N        messages in flight per connection, default 1
  --warmup SECS    default 1
  --secs SECS      measured seconds per run, default 3
  --rounds N       runs per cell, servers in a rotating order; the run with
                   the median rate is shown, default 1
  --pin yes|no     servers on CPU 0, the load generator on CPU 1 (default
                   yes where there are two CPUs or more)
idle options:
  --servers LIST   as above
  --idle N         idle connections per server, default 10000
  --idle-wait SECS seconds idle before the second reading, default 2";

struct Options {
    servers: Vec<Server>,
    sizes: Vec<usize>,
    conns: Vec<usize>,
    depth: usize,
    warmup: f64,
    secs: f64,
    rounds: usize,
    idle: usize,
    idle_wait: f64,
    pin: bool,
}

fn list<T: std::str::FromStr>(v: &str) -> Option<Vec<T>> {
    v.split(',').map(|s| s.trim().parse().ok()).collect()
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        servers: Server::ALL.to_vec(),
        sizes: vec![16, 16 << 10],
        conns: vec![1, 100],
        depth: 1,
        warmup: 1.0,
        secs: 3.0,
        rounds: 1,
        idle: 10_000,
        idle_wait: 2.0,
        pin: std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = || format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--servers" => {
                o.servers = value
                    .split(',')
                    .map(|s| Server::parse(s.trim()).ok_or(format!("unknown server {s}")))
                    .collect::<Result<_, _>>()?;
            }
            "--sizes" => o.sizes = list(value).ok_or_else(bad)?,
            "--conns" => o.conns = list(value).ok_or_else(bad)?,
            "--depth" => o.depth = value.parse().map_err(|_| bad())?,
            "--warmup" => o.warmup = value.parse().map_err(|_| bad())?,
            "--secs" => o.secs = value.parse().map_err(|_| bad())?,
            "--rounds" => o.rounds = value.parse().map_err(|_| bad())?,
            "--idle" => o.idle = value.parse().map_err(|_| bad())?,
            "--idle-wait" => o.idle_wait = value.parse().map_err(|_| bad())?,
            "--pin" => {
                o.pin = match value.as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(bad()),
                }
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let secs_ok = |s: f64| s.is_finite() && (0.0..=60.0).contains(&s);
    if o.servers.is_empty()
        || o.sizes.iter().any(|&s| s == 0 || s > 1 << 20)
        || o.conns.iter().any(|&c| c == 0 || c > 10_000)
        || !(1..=64).contains(&o.depth)
        || !secs_ok(o.warmup)
        || !secs_ok(o.secs)
        || o.secs == 0.0
        || !(1..=10).contains(&o.rounds)
        || !(1..=100_000).contains(&o.idle)
        || !secs_ok(o.idle_wait)
    {
        return Err("a value is out of range (see the usage)".into());
    }
    Ok(o)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        if let Err(e) = serve(&args[1..]) {
            eprintln!("socket_echo serve: {e}");
            std::process::exit(1);
        }
        return;
    }
    let (mode, rest) = match args.first().map(String::as_str) {
        Some(m @ ("bench" | "idle" | "all")) => (m, &args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return;
        }
        _ => ("all", &args[..]),
    };
    let options = match parse(rest) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let result = (|| -> io::Result<()> {
        if mode != "idle" {
            bench(&options)?;
        }
        if mode != "bench" {
            idle(&options)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("socket_echo: {e}");
        std::process::exit(1);
    }
}

/// Pins the calling thread (and the threads it starts later) to `cpu`.
fn pin_to(cpu: usize) -> io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays within
    // it for cpu < CPU_SETSIZE (checked); sched_setaffinity reads the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(io::Error::other("no such CPU"));
        }
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `serve NAME [--port P] [--count-heap] [--cpu N]`: one server, in this process.
fn serve(args: &[String]) -> io::Result<()> {
    let name = args
        .first()
        .ok_or_else(|| io::Error::other("serve needs a NAME"))?;
    let server =
        Server::parse(name).ok_or_else(|| io::Error::other(format!("no server {name}")))?;
    let mut port = 0;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--count-heap" => COUNTING.store(true, Relaxed),
            "--cpu" => {
                let cpu = it
                    .next()
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| io::Error::other("--cpu needs a number"))?;
                pin_to(cpu)?;
            }
            "--port" => {
                port = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| io::Error::other("--port needs a number"))?;
            }
            _ => return Err(io::Error::other(format!("unknown argument {a}"))),
        }
    }
    child::serve_control(|| LIVE.load(Relaxed));
    servers::run(server, port)
}

/// Raises this process's soft limit of open files to `want` if it is lower
/// (to the hard limit, which root may raise too); returns the limit now in
/// force. Children inherit it.
fn raise_nofile(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit to write into.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    if lim.rlim_cur >= want {
        return lim.rlim_cur;
    }
    let wanted = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max.max(want),
    };
    // SAFETY: a valid rlimit; failure leaves the limit unchanged.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
        return want;
    }
    let soft = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) } == 0 {
        return lim.rlim_max;
    }
    lim.rlim_cur
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
}

/// One run of one server on one scenario.
#[derive(Clone)]
struct Run {
    rate: f64,
    p50_us: f64,
    p99_us: f64,
    server_cpu: f64,
    generator_cpu: f64,
    /// CPU time the machine spent on everything else in the window.
    others_cpu: f64,
}

/// Opens `conns` connections, runs the closed loop for `warmup + secs`, and
/// measures the window after the warm-up.
fn run_once(
    rt: &tokio::runtime::Runtime,
    process: &ServerProcess,
    frames: &Arc<Frames>,
    conns: usize,
    o: &Options,
) -> io::Result<Run> {
    let addr = process.addr;
    rt.block_on(async {
        let mut open = Vec::with_capacity(conns);
        for _ in 0..conns {
            open.push(Conn::open(addr).await?);
        }
        let start = Instant::now();
        let warm_end = start + Duration::from_secs_f64(o.warmup);
        let window = Window {
            warm_end,
            end: warm_end + Duration::from_secs_f64(o.secs),
        };
        let tasks: Vec<_> = open
            .into_iter()
            .enumerate()
            .map(|(i, conn)| {
                tokio::spawn(loadgen::closed_loop(
                    conn,
                    Arc::clone(frames),
                    o.depth,
                    window,
                    i,
                ))
            })
            .collect();
        tokio::time::sleep_until(warm_end.into()).await;
        let (srv0, gen0) = (process.cpu_secs()?, child::cpu_secs("/proc/self/stat")?);
        let busy0 = child::machine_busy_secs()?;
        tokio::time::sleep_until(window.end.into()).await;
        let (srv1, gen1) = (process.cpu_secs()?, child::cpu_secs("/proc/self/stat")?);
        let busy1 = child::machine_busy_secs()?;
        let mut rtts = Vec::new();
        for task in tasks {
            let r = task.await.map_err(io::Error::other)?;
            let r =
                r.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", process.server.name())))?;
            rtts.extend(r);
        }
        rtts.sort_unstable();
        let pct = |p: f64| -> f64 {
            if rtts.is_empty() {
                return f64::NAN;
            }
            let i = ((rtts.len() as f64 * p).ceil() as usize).clamp(1, rtts.len()) - 1;
            rtts[i] as f64 / 1_000.0
        };
        Ok(Run {
            rate: rtts.len() as f64 / o.secs,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            server_cpu: (srv1 - srv0) / o.secs,
            generator_cpu: (gen1 - gen0) / o.secs,
            others_cpu: ((busy1 - busy0) - (srv1 - srv0) - (gen1 - gen0)).max(0.0) / o.secs,
        })
    })
}

fn size_label(size: usize) -> String {
    if size >= 1024 && size.is_multiple_of(1024) {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `bench`: every scenario, every server, side by side; one table.
fn bench(o: &Options) -> io::Result<()> {
    let need = o.conns.iter().max().copied().unwrap_or(1) as u64 + 256;
    let have = raise_nofile(need);
    if have < need {
        return Err(io::Error::other(format!(
            "open files limited to {have}; --conns needs {need}"
        )));
    }
    let rt = runtime()?;
    let mut processes = Vec::new();
    for &server in &o.servers {
        processes.push(ServerProcess::spawn(server, false, o.pin.then_some(0))?);
    }
    if o.pin {
        pin_to(1)?;
    }
    eprintln!(
        "bench: {} server(s), warm-up {} s, {} s measured, depth {}, {} round(s), {}",
        processes.len(),
        o.warmup,
        o.secs,
        o.depth,
        o.rounds,
        if o.pin {
            "servers on CPU 0, load generator on CPU 1"
        } else {
            "not pinned"
        }
    );
    // cells[scenario][server] = runs
    let scenarios: Vec<(usize, usize)> = o
        .sizes
        .iter()
        .flat_map(|&s| o.conns.iter().map(move |&c| (s, c)))
        .collect();
    let mut cells: Vec<Vec<Vec<Run>>> = vec![vec![Vec::new(); processes.len()]; scenarios.len()];
    for round in 0..o.rounds {
        for (si, &(size, conns)) in scenarios.iter().enumerate() {
            let frames = Arc::new(Frames::new(size));
            for k in 0..processes.len() {
                let pi = (k + round) % processes.len();
                let run = run_once(&rt, &processes[pi], &frames, conns, o)?;
                eprintln!(
                    "  {} x {conns}, {}: {} msg/s, p50 {:.1} us, p99 {:.1} us",
                    size_label(size),
                    processes[pi].server.name(),
                    thousands(run.rate),
                    run.p50_us,
                    run.p99_us
                );
                cells[si][pi].push(run);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    for p in processes {
        p.end();
    }

    let median = |runs: &[Run]| -> Run {
        let mut v = runs.to_vec();
        v.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        v[(v.len() - 1) / 2].clone()
    };
    let hybi = o.servers.iter().position(|&s| s == Server::Hybi);
    println!();
    println!(
        "| payload | conns | server | msg/s | hybi ÷ this | p50 µs | p99 µs | server CPU | server CPU µs/msg | generator CPU | other CPU |{}",
        if o.rounds > 1 {
            " msg/s, all runs |"
        } else {
            ""
        }
    );
    println!(
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|{}",
        if o.rounds > 1 { "---|" } else { "" }
    );
    for (si, &(size, conns)) in scenarios.iter().enumerate() {
        let hybi_rate = hybi.map(|h| median(&cells[si][h]).rate);
        for (pi, server) in o.servers.iter().enumerate() {
            let r = median(&cells[si][pi]);
            let ratio = hybi_rate.map_or("–".into(), |h| format!("{:.2}", h / r.rate));
            let all = if o.rounds > 1 {
                let rates: Vec<String> = cells[si][pi].iter().map(|r| thousands(r.rate)).collect();
                format!(" {} |", rates.join(" / "))
            } else {
                String::new()
            };
            println!(
                "| {} | {conns} | {} | {} | {ratio} | {:.1} | {:.1} | {:.0} % | {:.2} | {:.0} % | {:.0} % |{all}",
                size_label(size),
                server.name(),
                thousands(r.rate),
                r.p50_us,
                r.p99_us,
                r.server_cpu * 100.0,
                r.server_cpu * 1e6 / r.rate,
                r.generator_cpu * 100.0,
                r.others_cpu * 100.0,
            );
        }
    }
    if let Some(h) = hybi {
        let peers: Vec<usize> = (0..o.servers.len()).filter(|&i| i != h).collect();
        if !peers.is_empty() {
            // Each round's hybi run against the same round's peer run (a few
            // seconds apart): the median of those ratios, and their range.
            let ratio = |si: usize, p: usize, f: fn(&Run) -> f64| -> String {
                let mut v: Vec<f64> = cells[si][h]
                    .iter()
                    .zip(&cells[si][p])
                    .map(|(a, b)| f(a) / f(b))
                    .collect();
                v.sort_by(f64::total_cmp);
                let mid = v[(v.len() - 1) / 2];
                if v.len() > 1 {
                    format!("{mid:.2} ({:.2}–{:.2})", v[0], v[v.len() - 1])
                } else {
                    format!("{mid:.2}")
                }
            };
            println!();
            let mut head = "| payload | conns |".to_string();
            let mut rule = "|---|---:|".to_string();
            for &p in &peers {
                let n = o.servers[p].name();
                head += &format!(
                    " msg/s hybi ÷ {n} | CPU/msg hybi ÷ {n} | p50 hybi ÷ {n} | p99 hybi ÷ {n} |"
                );
                rule += "---:|---:|---:|---:|";
            }
            println!("{head}\n{rule}");
            for (si, &(size, conns)) in scenarios.iter().enumerate() {
                let mut row = format!("| {} | {conns} |", size_label(size));
                for &p in &peers {
                    row += &format!(
                        " {} | {} | {} | {} |",
                        ratio(si, p, |r| r.rate),
                        ratio(si, p, |r| r.server_cpu / r.rate),
                        ratio(si, p, |r| r.p50_us),
                        ratio(si, p, |r| r.p99_us),
                    );
                }
                println!("{row}");
            }
        }
    }
    Ok(())
}

/// One server's idle-memory reading.
struct Idle {
    n: usize,
    rss0: u64,
    rss1: u64,
    rss2: u64,
    heap0: i64,
    heap1: i64,
    heap2: i64,
    rss3: u64,
    /// Seconds it took to open the N connections.
    open_secs: f64,
}

/// `idle`: N idle connections to each server in turn (each has exchanged
/// one 16-byte message); the server's VmRSS and live heap before, just
/// after, and after `--idle-wait` seconds idle.
fn idle(o: &Options) -> io::Result<()> {
    let want = o.idle as u64 + 256;
    let have = raise_nofile(want);
    let n = if have < want {
        let n = have.saturating_sub(256).max(1) as usize;
        eprintln!(
            "idle: open files limited to {have}: {n} connections instead of {}",
            o.idle
        );
        n
    } else {
        o.idle
    };
    let rt = runtime()?;
    let frames = Frames::new(16);
    let mut results = Vec::new();
    for &server in &o.servers {
        let mut process = ServerProcess::spawn(server, true, None)?;
        std::thread::sleep(Duration::from_millis(300));
        let (rss0, heap0) = (process.rss_kib()?, process.heap_bytes()?);
        let opening = Instant::now();
        let conns = rt.block_on(open_many(process.addr, &frames, n))?;
        let open_secs = opening.elapsed().as_secs_f64();
        let (rss1, heap1) = (process.rss_kib()?, process.heap_bytes()?);
        std::thread::sleep(Duration::from_secs_f64(o.idle_wait));
        let (rss2, heap2) = (process.rss_kib()?, process.heap_bytes()?);
        process.trim()?;
        let rss3 = process.rss_kib()?;
        eprintln!(
            "idle: {}: {n} connections, VmRSS {rss0} -> {rss1} -> {rss2} KiB (trimmed {rss3} KiB)",
            server.name()
        );
        conns.into_iter().for_each(Conn::abort);
        process.end();
        results.push((
            server,
            Idle {
                n,
                rss0,
                rss1,
                rss2,
                heap0,
                heap1,
                heap2,
                rss3,
                open_secs,
            },
        ));
        std::thread::sleep(Duration::from_millis(500));
    }
    let per = |after: f64, before: f64, n: usize| (after - before) / n as f64;
    println!();
    println!(
        "| server | idle connections | opened in | VmRSS before | VmRSS with them | RSS per connection | after {s} s idle: VmRSS | RSS per connection | heap per connection | after {s} s idle: heap per connection | RSS per connection after malloc_trim |",
        s = o.idle_wait
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (server, r) in &results {
        println!(
            "| {} | {} | {:.1} s | {} KiB | {} KiB | {:.0} B | {} KiB | {:.0} B | {:.0} B | {:.0} B | {:.0} B |",
            server.name(),
            thousands(r.n as f64),
            r.open_secs,
            thousands(r.rss0 as f64),
            thousands(r.rss1 as f64),
            per(r.rss1 as f64 * 1024.0, r.rss0 as f64 * 1024.0, r.n),
            thousands(r.rss2 as f64),
            per(r.rss2 as f64 * 1024.0, r.rss0 as f64 * 1024.0, r.n),
            per(r.heap1 as f64, r.heap0 as f64, r.n),
            per(r.heap2 as f64, r.heap0 as f64, r.n),
            per(r.rss3 as f64 * 1024.0, r.rss0 as f64 * 1024.0, r.n),
        );
    }
    Ok(())
}

/// Handshakes under way at once while opening idle connections: below the
/// listen backlog of `TcpListener::bind` (128 here, `ss -ltn`), so no SYN
/// is dropped for a full accept queue (a dropped SYN is retried after 1 s,
/// then 3 s, ..., which would make the opening time noise).
const OPENING: usize = 64;

/// Opens `n` idle connections, [`OPENING`] handshakes at a time, within two
/// minutes.
async fn open_many(addr: std::net::SocketAddr, frames: &Frames, n: usize) -> io::Result<Vec<Conn>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut conns = Vec::with_capacity(n);
    while conns.len() < n {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{} of {n} connections open after two minutes",
                conns.len()
            )));
        }
        let batch = (n - conns.len()).min(OPENING);
        let mut opening = Vec::with_capacity(batch);
        for _ in 0..batch {
            opening.push(loadgen::open_idle(addr, frames));
        }
        for conn in futures_util::future::join_all(opening).await {
            conns.push(conn?);
        }
    }
    Ok(conns)
}

//! A server in a child process of this binary (`socket_echo serve NAME`),
//! and what `/proc` says about it.
//!
//! The child prints `LISTENING <addr>` once bound. On its stdin it answers
//! `heap` with `HEAP <bytes>` (live heap bytes, counted by the global
//! allocator when started with `--count-heap`) and `trim` with `TRIMMED`
//! after glibc's `malloc_trim(0)` (free heap pages handed back to the
//! kernel: a diagnostic of what the allocator keeps), and it exits when its stdin
//! closes, so it never outlives the parent; it also exits by itself after
//! [`CHILD_LIFETIME`].

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::servers::Server;

/// A child server exits by itself after this long, whatever the parent does.
pub const CHILD_LIFETIME: Duration = Duration::from_secs(900);

/// A running child server.
pub struct ServerProcess {
    pub server: Server,
    pub addr: SocketAddr,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    /// Starts `server` in a child process and waits for its address.
    /// `cpu`: pin the server to that CPU.
    pub fn spawn(
        server: Server,
        count_heap: bool,
        cpu: Option<usize>,
    ) -> io::Result<ServerProcess> {
        let exe = std::env::current_exe()?;
        // `SOCKET_ECHO_WRAP="valgrind --tool=callgrind"` runs each server
        // under that command, for instruction counts (README.md).
        let wrap = std::env::var("SOCKET_ECHO_WRAP").unwrap_or_default();
        let mut words = wrap.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut command = Command::new(program);
                command.args(words).arg(exe);
                command
            }
            None => Command::new(exe),
        };
        command.arg("serve").arg(server.name());
        if count_heap {
            command.arg("--count-heap");
        }
        if let Some(cpu) = cpu {
            command.arg("--cpu").arg(cpu.to_string());
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut process = ServerProcess {
            server,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            child: Some(child),
            stdin,
            stdout,
        };
        // The child writes this line as soon as it is bound, or exits (EOF).
        let line = process.line()?;
        process.addr = line
            .strip_prefix("LISTENING ")
            .and_then(|a| a.trim().parse().ok())
            .ok_or_else(|| io::Error::other(format!("{}: said {line:?}", server.name())))?;
        Ok(process)
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(io::Error::other(format!(
                "{}: the server process ended",
                self.server.name()
            )));
        }
        Ok(line)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The child's resident memory (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> io::Result<u64> {
        rss_kib(&format!("/proc/{}/status", self.pid()))
    }

    /// The child's CPU time (user + system), in seconds.
    pub fn cpu_secs(&self) -> io::Result<f64> {
        cpu_secs(&format!("/proc/{}/stat", self.pid()))
    }

    /// Sends the child one command line and returns its answer line.
    fn ask(&mut self, command: &[u8]) -> io::Result<String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("stdin closed"))?;
        stdin.write_all(command)?;
        stdin.flush()?;
        self.line()
    }

    /// The child's live heap bytes (only meaningful with `--count-heap`).
    pub fn heap_bytes(&mut self) -> io::Result<i64> {
        let line = self.ask(b"heap\n")?;
        line.strip_prefix("HEAP ")
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| io::Error::other(format!("heap: said {line:?}")))
    }

    /// Asks the child to hand its free heap pages back (`malloc_trim(0)`).
    pub fn trim(&mut self) -> io::Result<()> {
        let line = self.ask(b"trim\n")?;
        if line.trim() == "TRIMMED" {
            Ok(())
        } else {
            Err(io::Error::other(format!("trim: said {line:?}")))
        }
    }

    /// Ends the child by its PID: its stdin is closed (it exits on that),
    /// and if it still runs after two seconds it is killed.
    pub fn end(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        drop(self.stdin.take());
        let Some(mut child) = self.child.take() else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill(); // SIGKILL to this child's PID
        let _ = child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `VmRSS` of a `/proc/<pid>/status` file, in KiB.
pub fn rss_kib(status: &str) -> io::Result<u64> {
    let text = std::fs::read_to_string(status)?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no VmRSS in {status}")))
}

/// User plus system time of a `/proc/<pid>/stat` file, in seconds.
pub fn cpu_secs(stat: &str) -> io::Result<f64> {
    let text = std::fs::read_to_string(stat)?;
    // Fields after the command name (which ends with the last ')'): state is
    // field 3, utime 14, stime 15.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| io::Error::other("bad stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other("bad stat field"))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(total as f64 / clock_ticks())
}

/// CPU time the whole machine has spent busy (everything but idle and
/// I/O wait, all CPUs, from the first line of `/proc/stat`), in seconds.
pub fn machine_busy_secs() -> io::Result<f64> {
    let text = std::fs::read_to_string("/proc/stat")?;
    let line = text.lines().next().unwrap_or("");
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8) // user nice system idle iowait irq softirq steal
        .map(|t| t.parse().unwrap_or(0))
        .collect();
    if ticks.len() < 8 {
        return Err(io::Error::other("bad /proc/stat"));
    }
    let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7];
    Ok(busy as f64 / clock_ticks())
}

/// Ticks per second of `/proc`'s CPU times.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// The child side: answers `heap` on stdin, exits at EOF or after
/// [`CHILD_LIFETIME`]. Runs on threads of its own, beside the server's
/// runtime.
pub fn serve_control(heap: fn() -> i64) {
    std::thread::spawn(move || {
        let stdin = io::stdin();
        for line in stdin.lock().lines().take(1_000_000) {
            match line {
                Ok(l) if l.trim() == "heap" => {
                    let mut out = io::stdout().lock();
                    let _ = writeln!(out, "HEAP {}", heap());
                    let _ = out.flush();
                }
                Ok(l) if l.trim() == "trim" => {
                    // SAFETY: malloc_trim has no preconditions.
                    unsafe { libc::malloc_trim(0) };
                    let mut out = io::stdout().lock();
                    let _ = writeln!(out, "TRIMMED");
                    let _ = out.flush();
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        std::process::exit(0);
    });
    std::thread::spawn(|| {
        std::thread::sleep(CHILD_LIFETIME);
        eprintln!("socket_echo serve: lifetime over, exiting");
        std::process::exit(2);
    });
}

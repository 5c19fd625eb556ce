//! A chat server: hyper serves a page, login and logout; `/chat` upgrades
//! to a WebSocket run by hybi's tokio driver. Rooms broadcast every message
//! as one `hybi::PreparedMessage`, encoded (and with `deflate` compressed)
//! once for all members.
//!
//! ```sh
//! cargo run --release --features tokio,deflate --example chat -- 127.0.0.1:8080
//! ```
//!
//! Then open `http://127.0.0.1:8080/?room=lobby` in two browsers.
//!
//! - `GET /`: the page (HTML and script, `page.html`). `GET /me`: the
//!   session's name, or 401.
//! - `POST /login` (form field `name`: 1–32 letters, digits, `_`, `-`)
//!   starts a server-side session and sets it as a cookie (`HttpOnly;
//!   SameSite=Strict; Path=/`); `POST /logout` ends it. Names are not
//!   reserved: this is a demo, not an account system (the table keeps
//!   the newest 10 000 sessions).
//! - `GET /chat?room=NAME` upgrades to a WebSocket: the `Origin` must be
//!   allowed (403), the session known (401), the room name valid (400);
//!   the subprotocol `chat.v1` is chosen when offered.
//! - Messages are JSON. The client sends `{"type":"message","text":…}`;
//!   the room gets `{"type":"message","from":…,"text":…}`,
//!   `{"type":"join","name":…}` and `{"type":"leave","name":…}`, and a
//!   joiner first gets the room's last 50 messages and `{"type":"members",
//!   "names":[…]}`. A room and its history last while it has members.
//!   Anything else from a client closes it with 1007, a binary message
//!   with 1003, one over 16 KiB with 1009 (the engine's limit). A client
//!   that falls 256 broadcasts behind is closed with 1008 "too slow".
//! - Keep-alive Pings after 20 s of silence (20 s for the Pong),
//!   permessage-deflate with `deflate` (no server context takeover, so the
//!   compressed-once frame fits every connection), 10 s for the request
//!   headers (hyper's `header_read_timeout`, the handshake deadline here).
//!
//! Options: `--allow-origin ORIGIN` (repeatable) allows pages from another
//! origin; the server's own, `http://ADDR`, always is (bind a name or pass
//! `--allow-origin http://localhost:8080` to use one). `--run-for SECONDS`
//! stops the server after that long.
//!
//! Stopping: Ctrl-C (SIGINT), SIGTERM, the line `quit` on standard input,
//! or `--run-for`. Then every connection is closed with 1001 "going away",
//! the server waits for the closing handshakes (at most the 5 s close
//! timeout and a second), then exits with 0. A second signal during that
//! wait does not cut it short; SIGKILL does.

mod conn;
mod http;
mod json;
mod room;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hybi::{ChaChaRandom, Config, MaskSource};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use room::Hub;

/// Time for a client to send its request headers (the handshake).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Most sessions kept; a login beyond forgets the oldest.
const MAX_SESSIONS: usize = 10_000;

/// What every task shares.
pub struct App {
    pub hub: Arc<Hub>,
    /// `Origin`s whose pages may open the chat.
    pub origins: Vec<String>,
    /// Each connection's engine settings.
    pub config: Config,
    /// Set once to stop: connections close with 1001.
    pub shutdown: watch::Sender<bool>,
    /// Connection tasks still running.
    active: watch::Sender<usize>,
    sessions: Mutex<Sessions>,
    /// Session tokens come from here (seeded from the OS).
    random: Mutex<ChaChaRandom>,
}

/// Session tokens and their names, at most `MAX_SESSIONS` (oldest first
/// out: without accounts, a flood of logins can only push out old ones).
#[derive(Default)]
struct Sessions {
    names: HashMap<String, String>,
    /// Tokens in the order they were made (some may be logged out).
    order: VecDeque<String>,
}

impl App {
    fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The name of the session `token`, if it is known.
    pub fn session(&self, token: &str) -> Option<String> {
        self.sessions().names.get(token).cloned()
    }

    /// Forgets the session `token`.
    pub fn end_session(&self, token: &str) {
        self.sessions().names.remove(token);
    }

    /// A new session for `name`; its token is 32 random bytes, in hex.
    pub fn new_session(&self, name: &str) -> String {
        let mut bytes = [0u8; 32];
        self.random
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut sessions = self.sessions();
        while sessions.order.len() >= MAX_SESSIONS {
            if let Some(old) = sessions.order.pop_front() {
                sessions.names.remove(&old);
            }
        }
        sessions.order.push_back(token.clone());
        sessions.names.insert(token.clone(), name.to_string());
        token
    }

    pub fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }
}

/// Counts a connection task while it lives.
pub struct Active(Arc<App>);

impl Active {
    pub fn new(app: &Arc<App>) -> Self {
        app.active.send_modify(|n| *n += 1);
        Self(Arc::clone(app))
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.send_modify(|n| *n -= 1);
    }
}

fn config() -> Config {
    let config = Config::new()
        .max_message_size(16 << 10)
        .max_frame_size(16 << 10)
        .keepalive_interval(Some(Duration::from_secs(20)))
        .pong_timeout(Some(Duration::from_secs(20)))
        .handshake_timeout(Some(HEADER_TIMEOUT))
        .close_timeout(Some(Duration::from_secs(5)));
    #[cfg(feature = "deflate")]
    let config = config.deflate(hybi::DeflateConfig::new().own_no_context_takeover(true));
    config
}

struct Options {
    addr: String,
    origins: Vec<String>,
    run_for: Option<Duration>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:8080".into(),
        origins: Vec::new(),
        run_for: None,
    };
    let mut addr = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--allow-origin" => {
                let origin = args.next().ok_or("--allow-origin needs an origin")?;
                options
                    .origins
                    .push(origin.trim_end_matches('/').to_string());
            }
            "--run-for" => {
                let secs = args.next().ok_or("--run-for needs seconds")?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("--run-for: not a number: {secs}"))?;
                let run_for = Duration::try_from_secs_f64(secs)
                    .map_err(|_| format!("--run-for: out of range: {secs}"))?;
                options.run_for = Some(run_for);
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ if addr.is_none() => addr = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    if let Some(addr) = addr {
        options.addr = addr;
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}\nusage: chat [ADDR] [--allow-origin ORIGIN]... [--run-for SECONDS]");
            return ExitCode::from(2);
        }
    };
    match serve(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let listener = TcpListener::bind(&options.addr).await?;
    let local = listener.local_addr()?;
    let mut origins = vec![format!("http://{local}")];
    origins.extend(options.origins);
    let random = ChaChaRandom::from_os().map_err(|e| std::io::Error::other(e.to_string()))?;
    let app = Arc::new(App {
        hub: Arc::new(Hub::default()),
        origins,
        config: config(),
        shutdown: watch::Sender::new(false),
        active: watch::Sender::new(0),
        sessions: Mutex::new(Sessions::default()),
        random: Mutex::new(random),
    });
    println!(
        "chat on http://{local}/ (origins: {})",
        app.origins.join(" ")
    );

    let why = tokio::select! {
        () = accept(listener, Arc::clone(&app)) => "accept loop ended",
        why = stop_requested(options.run_for) => why,
    };

    let open = *app.active.borrow();
    println!("stopping ({why}): closing {open} connections with 1001");
    app.hub.quiet();
    app.shutdown.send_replace(true);
    let close = app
        .config
        .get_close_timeout()
        .unwrap_or(Duration::from_secs(10));
    let limit = close + Duration::from_secs(1);
    let mut active = app.active.subscribe();
    let closed = tokio::time::timeout(limit, active.wait_for(|n| *n == 0))
        .await
        .is_ok();
    if closed {
        println!("all connections closed");
    } else {
        let open = *active.borrow();
        println!("{open} connections still open after {limit:?}");
    }
    Ok(())
}

/// Serves HTTP/1.1 with upgrades on every accepted connection.
async fn accept(listener: TcpListener, app: Arc<App>) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, say: wait rather than spin.
                eprintln!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let app = Arc::clone(&app);
        tokio::spawn(serve_connection(tcp, peer, app));
    }
}

async fn serve_connection(tcp: tokio::net::TcpStream, peer: SocketAddr, app: Arc<App>) {
    let service = service_fn(move |req| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Infallible>(http::route(app, req, peer).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let served = builder
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades()
        .await;
    if let Err(e) = served {
        if !e.is_incomplete_message() {
            eprintln!("{peer}: {e}");
        }
    }
}

/// Resolves when the server should stop: Ctrl-C, SIGTERM (on Unix), `quit`
/// on standard input, or `run_for` elapsed. The end of standard input is not
/// a request to stop (a server started in the background reads
/// `/dev/null`). A signal handler that cannot be installed is reported and
/// that way of stopping is left out; the others still work.
async fn stop_requested(run_for: Option<Duration>) -> &'static str {
    let (quit, quitted) = oneshot::channel();
    // A thread of its own, not tokio's stdin: a blocking read that never
    // ends would hold up the runtime's shutdown.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(line) if line.trim() == "quit" => {
                    let _ = quit.send(());
                    return;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let stdin = async {
        if quitted.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let timer = async {
        match run_for {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("Ctrl-C cannot stop the server: {e}");
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = interrupt => "Ctrl-C",
        () = terminated() => "SIGTERM",
        () = stdin => "quit on standard input",
        () = timer => "--run-for elapsed",
    }
}

/// Resolves on SIGTERM, what service managers and `kill` send.
#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
        }
        Err(e) => {
            eprintln!("SIGTERM cannot stop the server: {e}");
            std::future::pending::<()>().await;
        }
    }
}

/// Elsewhere there is no SIGTERM; Ctrl-C still stops the server.
#[cfg(not(unix))]
async fn terminated() {
    std::future::pending::<()>().await;
}

//! hybi behind hyper 1.x: hyper serves the ordinary HTTP routes and
//! answers the WebSocket handshake on `/ws` with hybi's checks
//! (`HttpRequest::check`, `UpgradeOffer::answer`); on hyper's upgraded
//! stream a `Connection::server_opened` runs under `hybi::tokio` and
//! echoes every message without copying it out of the engine.
//!
//! Two bootstraps, one route: HTTP/1.1 `Upgrade` (101) on the first
//! address, and HTTP/2 extended CONNECT (RFC 8441, `:protocol websocket`,
//! 200) over cleartext HTTP/2 on the optional second address.
//!
//! ```sh
//! cargo run --example hyper_upgrade --features tokio -- 127.0.0.1:8080 127.0.0.1:8081
//! ```
//!
//! Routes: `GET /` (a text page), `GET /health` ("ok"), `/ws` (the
//! WebSocket, subprotocol `chat.v1` when offered); anything else is 404.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hybi::driver::DriverError;
use hybi::tokio::WebSocket;
use hybi::{
    Accept, Config, Connection, Event, HandshakeError, HttpRequest, HttpVersion, MessageKind,
    Negotiated, Outbound, UsageError,
};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::upgrade::OnUpgrade;
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// The subprotocol this server speaks, chosen when the client offers it.
pub const PROTOCOL: &str = "chat.v1";

type Body = Full<Bytes>;

fn config() -> Config {
    Config::new()
}

/// Serves HTTP/1.1 (with upgrades) on every connection `listener` accepts.
///
/// # Errors
/// The listener's accept error.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    accept(listener, false).await
}

/// Serves cleartext HTTP/2 (prior knowledge) with extended CONNECT
/// enabled (`SETTINGS_ENABLE_CONNECT_PROTOCOL`).
///
/// # Errors
/// The listener's accept error.
pub async fn serve_h2(listener: TcpListener) -> std::io::Result<()> {
    accept(listener, true).await
}

async fn accept(listener: TcpListener, h2: bool) -> std::io::Result<()> {
    loop {
        let (tcp, peer) = listener.accept().await?;
        let io = TokioIo::new(tcp);
        let service = service_fn(move |req| async move { Ok::<_, Infallible>(route(req, peer)) });
        tokio::spawn(async move {
            let served = if h2 {
                let mut builder = http2::Builder::new(TokioExecutor::new());
                builder.enable_connect_protocol();
                builder.serve_connection(io, service).await
            } else {
                let builder = http1::Builder::new();
                builder.serve_connection(io, service).with_upgrades().await
            };
            if let Err(e) = served {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn route(req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (_, "/ws") => upgrade(req, peer),
        (&Method::GET, "/") => text(StatusCode::OK, "hybi behind hyper: try /health or /ws\n"),
        (&Method::GET, "/health") => text(StatusCode::OK, "ok"),
        (_, "/" | "/health") => text(StatusCode::METHOD_NOT_ALLOWED, "only GET here\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// The handshake error as an HTTP response: its status, the header RFC
/// 6455 asks for with it, and its message as the body.
fn refuse(error: HandshakeError) -> Response<Body> {
    let status = error
        .status()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = text(status, format!("{error}\n"));
    let extra = match error {
        HandshakeError::UnsupportedVersion => Some(("sec-websocket-version", "13")),
        HandshakeError::MethodNotGet => Some(("allow", "GET")),
        HandshakeError::MethodNotConnect => Some(("allow", "CONNECT")),
        _ => None,
    };
    if let Some((name, value)) = extra {
        let value = hyper::header::HeaderValue::from_static(value);
        response.headers_mut().insert(name, value);
    }
    response
}

/// Checks the request with hybi, answers it, and leaves the upgraded
/// stream to a task that runs the WebSocket.
fn upgrade(mut req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let version = match req.version() {
        Version::HTTP_10 => HttpVersion::Http10,
        Version::HTTP_11 => HttpVersion::Http11,
        Version::HTTP_2 => HttpVersion::Http2,
        _ => {
            return text(
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "unsupported version\n",
            );
        }
    };
    let answer = {
        let headers: Vec<(&str, &[u8])> = req
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let protocol = req.extensions().get::<hyper::ext::Protocol>();
        let request = HttpRequest {
            method: req.method().as_str(),
            version,
            protocol: protocol.map(hyper::ext::Protocol::as_str),
            headers: &headers,
        };
        let offer = match request.check() {
            Ok(offer) => offer,
            Err(error) => return refuse(error),
        };
        let mut accept = Accept::new();
        if offer.protocols().any(|p| p == PROTOCOL) {
            accept = accept.protocol(PROTOCOL);
        }
        offer.answer(&accept, &config())
    };
    let Ok(answer) = answer else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot answer\n");
    };
    let mut response = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    let Ok(response) = response.body(Full::new(Bytes::new())) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot answer\n");
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(echo(on_upgrade, answer.negotiated, peer, version));
    response
}

/// Echoes on the upgraded stream until the closing handshake; one log
/// line per connection.
async fn echo(
    on_upgrade: OnUpgrade,
    negotiated: Negotiated,
    peer: SocketAddr,
    version: HttpVersion,
) {
    let protocol = negotiated.protocol.clone();
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(e) => return eprintln!("{peer}: upgrade failed: {e}"),
    };
    let conn = Connection::server_opened(config(), negotiated);
    let mut ws = WebSocket::from_connection(TokioIo::new(upgraded), conn);
    let mut events = 0u64;
    let outcome = loop {
        // `reply` takes the event and the `Outbound` half (which is not
        // `Send`) and returns before the next `.await`.
        let step = match ws.recv_with_outbound().await {
            Ok((event, out)) => reply(event, out),
            Err(DriverError::Closed) => break "closed".to_string(),
            Err(e) => break format!("failed: {e}"),
        };
        match step {
            Ok(None) => events += 1,
            Ok(Some(code)) => break format!("closed with {code}"),
            Err(e) => break format!("failed: {e}"),
        }
    };
    // The Close echo goes out; dropping the stream then ends it.
    let flushed = ws.flush().await;
    println!(
        "{peer} {version:?} /ws protocol={protocol:?}: {events} events, {outcome}, flush {flushed:?}"
    );
}

/// Queues the echo of one event without copying it; the peer's Close
/// code ends the loop.
fn reply(event: Event<'_>, mut out: Outbound<'_>) -> Result<Option<u16>, UsageError> {
    match event {
        Event::Text(text) => out.send_text(text)?,
        Event::Binary(data) => out.send_binary(data)?,
        Event::TextChunk { data, last } => {
            out.send_fragment(MessageKind::Text, data.as_bytes(), last)?;
        }
        Event::BinaryChunk { data, last } => out.send_fragment(MessageKind::Binary, data, last)?,
        Event::Close(close) => return Ok(Some(close.code.0)),
        _ => {} // Ping: the engine already queued the Pong
    }
    Ok(None)
}

#[allow(dead_code)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("HTTP/1.1 on http://{}", listener.local_addr()?);
    if let Some(addr) = args.next() {
        let h2 = TcpListener::bind(&addr).await?;
        println!(
            "HTTP/2 (cleartext, extended CONNECT) on {}",
            h2.local_addr()?
        );
        tokio::spawn(serve_h2(h2));
    }
    serve(listener).await
}

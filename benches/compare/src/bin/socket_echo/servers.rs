//! The three echo servers, each as its documentation shows it, on the same
//! runtime: a tokio current-thread runtime with its I/O and time drivers,
//! listening on `127.0.0.1` (`TcpListener::bind`, whose listen backlog is
//! 128 here), `TCP_NODELAY` set on every accepted socket, default
//! configurations.

use std::io::{self, Write};
use std::time::Duration;

use tokio::net::TcpListener;

/// One of the echo servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Hybi,
    Tungstenite,
    Fastwebsockets,
}

impl Server {
    pub const ALL: [Server; 3] = [Server::Hybi, Server::Tungstenite, Server::Fastwebsockets];

    pub fn name(self) -> &'static str {
        match self {
            Server::Hybi => "hybi",
            Server::Tungstenite => "tokio-tungstenite",
            Server::Fastwebsockets => "fastwebsockets",
        }
    }

    pub fn parse(name: &str) -> Option<Server> {
        match name {
            "hybi" => Some(Server::Hybi),
            "tokio-tungstenite" | "tungstenite" => Some(Server::Tungstenite),
            "fastwebsockets" => Some(Server::Fastwebsockets),
            _ => None,
        }
    }
}

/// Runs `server` on `127.0.0.1:port` (0: any free port) until the process
/// ends; prints `LISTENING <addr>` on stdout once bound.
pub fn run(server: Server, port: u16) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "LISTENING {}", listener.local_addr()?)?;
        stdout.flush()?;
        drop(stdout);
        loop {
            let socket = match listener.accept().await {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was
                    // taken: say so and go on accepting.
                    eprintln!("{}: accept: {e}", server.name());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            if socket.set_nodelay(true).is_err() {
                continue;
            }
            match server {
                Server::Hybi => {
                    tokio::spawn(hybi_echo::serve(socket));
                }
                Server::Tungstenite => {
                    tokio::spawn(tungstenite_echo::serve(socket));
                }
                Server::Fastwebsockets => {
                    tokio::spawn(fastwebsockets_echo::serve(socket));
                }
            }
        }
    })
}

/// hybi's tokio driver: `accept`, then the zero-copy echo of
/// `examples/tokio_echo_server.rs` (`recv_with_outbound`, the `Outbound`
/// half dropped before the next `.await`). Default `Config`.
mod hybi_echo {
    use hybi::driver::{Answer, DriverError};
    use hybi::tokio::WebSocket;
    use hybi::{Config, Event, MessageKind};
    use tokio::net::TcpStream;

    pub async fn serve(socket: TcpStream) {
        // Bound by `let` and lent to the loop, as the example does, so the
        // task's future holds one `WebSocket` (880 B, not 1,432).
        let Ok(mut ws) = WebSocket::accept(socket, Config::new(), |_| Answer::accept()).await
        else {
            return;
        };
        let _ = echo(&mut ws).await;
    }

    async fn echo(ws: &mut WebSocket<TcpStream>) -> Result<(), DriverError> {
        loop {
            let closed = {
                let (event, mut out) = ws.recv_with_outbound().await?;
                match event {
                    Event::Text(t) => out.send_text(t).map(|()| false)?,
                    Event::Binary(b) => out.send_binary(b).map(|()| false)?,
                    Event::TextChunk { data, last } => out
                        .send_fragment(MessageKind::Text, data.as_bytes(), last)
                        .map(|()| false)?,
                    Event::BinaryChunk { data, last } => out
                        .send_fragment(MessageKind::Binary, data, last)
                        .map(|()| false)?,
                    Event::Close(_) => true,
                    _ => false, // Ping (answered), Pong
                }
            };
            if closed {
                return ws.flush().await;
            }
        }
    }
}

/// tokio-tungstenite's `examples/echo-server.rs`: `accept_async`, `split`,
/// text and binary messages forwarded from the stream half to the sink half.
/// Default `WebSocketConfig`.
mod tungstenite_echo {
    use futures_util::{StreamExt, TryStreamExt, future};
    use tokio::net::TcpStream;

    pub async fn serve(socket: TcpStream) {
        let Ok(ws) = tokio_tungstenite::accept_async(socket).await else {
            return;
        };
        let (write, read) = ws.split();
        let _ = read
            .try_filter(|msg| future::ready(msg.is_text() || msg.is_binary()))
            .forward(write)
            .await;
    }
}

/// fastwebsockets' `examples/echo_server.rs`: hyper's HTTP/1 server with
/// upgrades, `upgrade::upgrade` in the service, the WebSocket in a task of
/// its own (`tokio::task::unconstrained`, as there) behind a
/// `FragmentCollector`, each text or binary frame written back. Defaults
/// (auto-close and auto-pong on).
mod fastwebsockets_echo {
    use fastwebsockets::{OpCode, WebSocketError, upgrade};
    use http_body_util::Empty;
    use hyper::body::{Bytes, Incoming};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use tokio::net::TcpStream;

    pub async fn serve(socket: TcpStream) {
        let io = hyper_util::rt::TokioIo::new(socket);
        let _ = http1::Builder::new()
            .serve_connection(io, service_fn(server_upgrade))
            .with_upgrades()
            .await;
    }

    async fn server_upgrade(
        mut req: Request<Incoming>,
    ) -> Result<Response<Empty<Bytes>>, WebSocketError> {
        let (response, fut) = upgrade::upgrade(&mut req)?;
        tokio::task::spawn(async move {
            let _ = tokio::task::unconstrained(handle_client(fut)).await;
        });
        Ok(response)
    }

    async fn handle_client(fut: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
        let mut ws = fastwebsockets::FragmentCollector::new(fut.await?);
        loop {
            let frame = ws.read_frame().await?;
            match frame.opcode {
                OpCode::Close => break,
                OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
                _ => {}
            }
        }
        Ok(())
    }
}

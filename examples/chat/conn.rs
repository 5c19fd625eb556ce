//! One chat connection: a task that owns the `WebSocket` and waits, in one
//! `select!`, for the client's next message, the room's next broadcast,
//! and being told to close (its queue overflowed, or the server is going
//! away).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hybi::driver::DriverError;
use hybi::tokio::WebSocket;
use hybi::{CloseCode, Connection, Event, Negotiated};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::sync::{Notify, watch};

use crate::App;
use crate::json;
use crate::room::Shared;

type Ws = WebSocket<TokioIo<Upgraded>>;

/// Broadcasts queued into the engine before one flush.
const BATCH: usize = 64;

/// Who is on the connection, from the upgrade request.
pub struct Client {
    pub peer: SocketAddr,
    pub name: String,
    pub room: String,
}

/// What the loop does next.
enum Step {
    /// Nothing (a Ping, a Pong).
    Continue,
    /// The client said something.
    Say(String),
    /// A broadcast for this client.
    Deliver(Shared),
    /// We close with this code and reason.
    Close(CloseCode, &'static str),
    /// The client closed (our echo is queued).
    PeerClosed(u16),
    /// The connection is over.
    Ended(String),
}

/// How the loop ended.
enum End {
    Close(CloseCode, &'static str),
    PeerClosed(u16),
    Ended(String),
}

/// Runs the connection once hyper hands over the upgraded stream, until
/// it closes; one log line when it opens and one when it ends.
pub async fn run(app: Arc<App>, on_upgrade: OnUpgrade, negotiated: Negotiated, client: Client) {
    let Client { peer, name, room } = client;
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(e) => return println!("{peer} {name}@{room}: upgrade failed: {e}"),
    };
    let protocol = negotiated.protocol.clone();
    #[cfg(feature = "deflate")]
    let deflate = negotiated.deflate.is_some();
    #[cfg(not(feature = "deflate"))]
    let deflate = false;
    let conn = Connection::server_opened(app.config, negotiated);
    let mut ws = WebSocket::from_connection(TokioIo::new(upgraded), conn);
    let mut shutdown = app.shutdown.subscribe();
    let mut member = app.hub.join(&room, &name);
    println!("{peer} {name}@{room}: open, protocol={protocol:?} deflate={deflate}");

    let mut said = 0u64;
    let mut carry = None;
    let end = loop {
        let step = match carry.take() {
            Some(step) => step,
            None => tokio::select! {
                received = ws.recv_with_outbound() => match received {
                    // The event is read here and let go before any await.
                    Ok((event, _out)) => on_event(event),
                    Err(DriverError::Closed) => Step::Ended("closed".into()),
                    Err(e) => Step::Ended(format!("failed: {e}")),
                },
                message = member.queue.recv() => match message {
                    Some(message) => Step::Deliver(message),
                    // The room let go of our queue: we were dropped.
                    None => Step::Close(CloseCode::POLICY_VIOLATION, "too slow"),
                },
                step = told(&member.kicked, &mut shutdown) => step,
            },
        };
        match step {
            Step::Continue => {}
            Step::Say(text) => {
                said += 1;
                app.hub.say(&room, &name, &text);
            }
            Step::Deliver(first) => {
                // This broadcast and those already waiting go into the
                // engine (each a copy of the prepared frame), then out.
                let mut next = Some(first);
                let mut queued = 0;
                while let Some(message) = next {
                    // Refused only once closing: then it need not go out.
                    let _ = ws.connection_mut().send_prepared(&message);
                    queued += 1;
                    next = (queued < BATCH)
                        .then(|| member.queue.try_recv().ok())
                        .flatten();
                }
                // A client that does not read makes the flush wait; being
                // told to close ends the wait (the flush is cancel-safe).
                carry = tokio::select! {
                    flushed = ws.flush() => flushed.err().map(|e| Step::Ended(format!("failed: {e}"))),
                    step = told(&member.kicked, &mut shutdown) => Some(step),
                };
            }
            Step::Close(code, reason) => break End::Close(code, reason),
            Step::PeerClosed(code) => break End::PeerClosed(code),
            Step::Ended(why) => break End::Ended(why),
        }
    };
    // Out of the room first, so the others hear of it now.
    drop(member);
    let limit = app
        .config
        .get_close_timeout()
        .unwrap_or(Duration::from_secs(10))
        + Duration::from_secs(1);
    let outcome = match end {
        End::Close(code, reason) => close(&mut ws, code, reason, limit).await,
        End::PeerClosed(code) => {
            // The echo of the client's Close goes out; dropping the stream
            // then closes TCP (the server closes first, RFC 6455 §7.1.1).
            match tokio::time::timeout(limit, ws.flush()).await {
                Ok(Ok(())) => format!("client closed with {code}"),
                Ok(Err(e)) => format!("client closed with {code}, echo failed: {e}"),
                Err(_) => format!("client closed with {code}, echo not taken in {limit:?}"),
            }
        }
        // After a protocol error the engine queued its Close: out it goes.
        End::Ended(why) => {
            let _ = tokio::time::timeout(limit, ws.flush()).await;
            why
        }
    };
    println!("{peer} {name}@{room}: {said} messages, {outcome}");
}

/// Waits until the connection must close: its queue overflowed (1008) or
/// the server is going away (1001).
async fn told(kicked: &Notify, shutdown: &mut watch::Receiver<bool>) -> Step {
    tokio::select! {
        () = kicked.notified() => Step::Close(CloseCode::POLICY_VIOLATION, "too slow"),
        _ = shutdown.wait_for(|stop| *stop) => Step::Close(CloseCode::GOING_AWAY, "going away"),
    }
}

/// What the client's event asks for.
fn on_event(event: Event<'_>) -> Step {
    match event {
        Event::Text(text) => match chat_text(text) {
            Some(said) => Step::Say(said),
            None => Step::Close(
                CloseCode::INVALID_PAYLOAD,
                "expected {\"type\":\"message\",\"text\":\"...\"}",
            ),
        },
        Event::Binary(_) | Event::BinaryChunk { .. } => {
            Step::Close(CloseCode::UNSUPPORTED_DATA, "text messages only")
        }
        // Chunks come only above `chunk_threshold`, far over the message
        // limit; should they come, the message is too big for the chat.
        Event::TextChunk { .. } => Step::Close(CloseCode::MESSAGE_TOO_BIG, "message too big"),
        Event::Close(frame) => Step::PeerClosed(frame.code.0),
        _ => Step::Continue,
    }
}

/// The text of `{"type":"message","text":"..."}`, the only message a
/// client sends; anything else is `None`.
fn chat_text(text: &str) -> Option<String> {
    let fields = json::parse_object(text).ok()?;
    match fields.as_slice() {
        [(a, kind), (b, said)] | [(b, said), (a, kind)]
            if a == "type" && kind == "message" && b == "text" =>
        {
            Some(said.clone())
        }
        _ => None,
    }
}

/// Our closing handshake, bounded: a client that stops reading could
/// otherwise hold the task with our Close unsent.
async fn close(ws: &mut Ws, code: CloseCode, reason: &str, limit: Duration) -> String {
    match tokio::time::timeout(limit, ws.close(code, reason)).await {
        Ok(Ok(())) => format!("closed with {} {reason:?}", code.0),
        Ok(Err(e)) => format!("closing with {} failed: {e}", code.0),
        Err(_) => format!("closing with {}: no end within {limit:?}", code.0),
    }
}

//! WebSockets over HTTP/2 (RFC 8441) with a real HTTP/2 stack: the `h2`
//! crate's client and server over loopback TCP negotiate extended CONNECT
//! (SETTINGS_ENABLE_CONNECT_PROTOCOL, `:protocol websocket`), hybi's
//! helpers check the request and the response, and connections opened on
//! the stream exchange text, binary, fragmented and ping/pong traffic and
//! close cleanly. The same exchange runs over plain HTTP/1.1 (hybi's own
//! handshake on a TCP stream), so both paths are held to one standard.

use bytes::Bytes;
use hybi::{
    Accept, CloseCode, Config, Connection, Event, HttpRequest, HttpVersion, MessageKind,
    check_connect_response, connect_request_headers,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A byte pipe under a WebSocket: an HTTP/2 stream or a TCP stream.
trait Pipe {
    async fn send(&mut self, bytes: &[u8]);
    /// The next bytes, or `None` at the end of the stream.
    async fn recv(&mut self) -> Option<Vec<u8>>;
    async fn finish(&mut self);
}

struct H2Pipe {
    send: h2::SendStream<Bytes>,
    recv: h2::RecvStream,
}

impl Pipe for H2Pipe {
    async fn send(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.send
                .send_data(Bytes::copy_from_slice(bytes), false)
                .unwrap();
        }
    }
    async fn recv(&mut self) -> Option<Vec<u8>> {
        let data = self.recv.data().await?.unwrap();
        self.recv
            .flow_control()
            .release_capacity(data.len())
            .unwrap();
        Some(data.to_vec())
    }
    async fn finish(&mut self) {
        // Over HTTP/2 the stream's half-close stands in for TCP's FIN.
        let _ = self.send.send_data(Bytes::new(), true);
    }
}

struct TcpPipe(TcpStream);

impl Pipe for TcpPipe {
    async fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).await.unwrap();
    }
    async fn recv(&mut self) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 16 << 10];
        match self.0.read(&mut buf).await.unwrap() {
            0 => None,
            n => Some(buf[..n].to_vec()),
        }
    }
    async fn finish(&mut self) {
        let _ = self.0.shutdown().await;
    }
}

/// Writes what the connection has queued.
async fn flush(conn: &mut Connection, pipe: &mut impl Pipe) {
    let out = conn.transmit().to_vec();
    conn.advance(out.len());
    pipe.send(&out).await;
}

/// The server: echoes messages (chunks as fragments) until the close.
async fn echo(mut conn: Connection, mut pipe: impl Pipe) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let data = pipe.recv().await;
        match &data {
            Some(bytes) => conn.receive(bytes),
            None => conn.receive_eof(),
        }
        {
            let (mut inbound, mut outbound) = conn.split();
            while let Some(event) = inbound.next_event().unwrap() {
                seen.push(format!("{event:?}"));
                match event {
                    Event::Text(t) => outbound.send_text(t).unwrap(),
                    Event::Binary(b) => outbound.send_binary(b).unwrap(),
                    _ => {}
                }
            }
        }
        flush(&mut conn, &mut pipe).await;
        if conn.close_expected() || data.is_none() {
            pipe.finish().await;
            return seen;
        }
    }
}

/// Reads until `want` events have come.
async fn events(conn: &mut Connection, pipe: &mut impl Pipe, want: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < want {
        match pipe.recv().await {
            Some(bytes) => conn.receive(&bytes),
            None => conn.receive_eof(),
        }
        while let Some(event) = conn.next_event().unwrap() {
            got.push(format!("{event:?}"));
        }
    }
    got
}

/// The client's side of the one test case list both transports run.
async fn exchange(mut conn: Connection, mut pipe: impl Pipe) {
    conn.send_text("hello over the stream").unwrap();
    conn.send_binary(&[0, 1, 2, 255]).unwrap();
    flush(&mut conn, &mut pipe).await;
    assert_eq!(
        events(&mut conn, &mut pipe, 2).await,
        ["Text(\"hello over the stream\")", "Binary([0, 1, 2, 255])"]
    );
    for (i, piece) in ["frag", "ment", "ed ✓"].iter().enumerate() {
        conn.send_fragment(MessageKind::Text, piece.as_bytes(), i == 2)
            .unwrap();
    }
    conn.send_ping(b"are you there").unwrap();
    flush(&mut conn, &mut pipe).await;
    let got = events(&mut conn, &mut pipe, 2).await;
    assert!(
        got.contains(&"Text(\"fragmented ✓\")".to_string()),
        "{got:?}"
    );
    assert!(got.iter().any(|e| e.starts_with("Pong(")), "{got:?}");
    conn.close(CloseCode::NORMAL, "done").unwrap();
    flush(&mut conn, &mut pipe).await;
    let got = events(&mut conn, &mut pipe, 1).await;
    assert!(got[0].contains("1000"), "{got:?}");
    assert_eq!(conn.state(), hybi::State::Closed);
}

fn config() -> Config {
    Config::new()
}

#[tokio::test]
async fn websocket_over_http2_extended_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut h2 = h2::server::Builder::new()
            .enable_connect_protocol()
            .handshake::<_, Bytes>(tcp)
            .await
            .unwrap();
        let (request, mut respond) = h2.accept().await.unwrap().unwrap();
        // Keep the HTTP/2 connection running beside the stream.
        tokio::spawn(async move { while h2.accept().await.is_some() {} });
        let headers: Vec<(&str, &[u8])> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let protocol = request
            .extensions()
            .get::<h2::ext::Protocol>()
            .map(|p| p.as_str());
        let offer = HttpRequest {
            method: request.method().as_str(),
            version: HttpVersion::Http2,
            protocol,
            headers: &headers,
        }
        .check()
        .expect("a valid extended CONNECT");
        let answer = offer
            .answer(&Accept::new().protocol("chat"), &config())
            .unwrap();
        assert_eq!(answer.status, 200);
        let mut response = http::Response::builder().status(answer.status);
        for (name, value) in &answer.headers {
            response = response.header(name.as_str(), value.as_str());
        }
        let send = respond
            .send_response(response.body(()).unwrap(), false)
            .unwrap();
        let conn = Connection::server_opened(config(), answer.negotiated);
        echo(
            conn,
            H2Pipe {
                send,
                recv: request.into_body(),
            },
        )
        .await
    });

    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, h2conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = h2conn.await;
    });
    let mut client = client.ready().await.unwrap();
    // The server's SETTINGS arrive with the handshake; wait for them.
    for _ in 0..100 {
        if client.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        client.is_extended_connect_protocol_enabled(),
        "SETTINGS_ENABLE_CONNECT_PROTOCOL"
    );
    let mut request = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("https://{addr}/chat"))
        .extension(h2::ext::Protocol::from_static("websocket"));
    for (name, value) in connect_request_headers(&config(), &["chat"]) {
        request = request.header(name, value);
    }
    let (response, send) = client
        .send_request(request.body(()).unwrap(), false)
        .unwrap();
    let response = response.await.unwrap();
    let headers: Vec<(&str, &[u8])> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let negotiated =
        check_connect_response(response.status().as_u16(), &headers, &config(), &["chat"]).unwrap();
    let conn = Connection::client_opened(config(), negotiated).unwrap();
    let recv = response.into_body();
    exchange(conn, H2Pipe { send, recv }).await;
    let seen = server.await.unwrap();
    assert!(seen.iter().any(|e| e.starts_with("Ping(")), "{seen:?}");
    assert!(seen.last().unwrap().contains("1000"), "{seen:?}");
}

#[tokio::test]
async fn the_same_exchange_over_http11() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut pipe = TcpPipe(tcp);
        let mut conn = Connection::server(config());
        // hybi's own handshake, then the same echo.
        loop {
            let bytes = pipe.recv().await.unwrap();
            conn.receive(&bytes);
            if let Some(Event::HandshakeRequest(_)) = conn.next_event().unwrap() {
                conn.accept(Accept::new()).unwrap();
                break;
            }
        }
        flush(&mut conn, &mut pipe).await;
        echo(conn, pipe).await
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut pipe = TcpPipe(tcp);
    let mut conn = Connection::client(
        hybi::ClientRequest::new(&addr.to_string(), "/chat"),
        config(),
    )
    .unwrap();
    flush(&mut conn, &mut pipe).await;
    let got = events(&mut conn, &mut pipe, 1).await;
    assert!(got[0].starts_with("HandshakeResponse"), "{got:?}");
    exchange(conn, pipe).await;
    let seen = server.await.unwrap();
    assert!(seen.last().unwrap().contains("1000"), "{seen:?}");
}

//! wss:// on loopback with a self-signed certificate made at test time
//! (rcgen): both drivers as client and server, the client verifying the
//! certificate against a root store holding only it; a client with an
//! empty root store is refused by TLS, never connected.
#![cfg(all(feature = "blocking", feature = "rustls", feature = "tokio-rustls"))]

use std::sync::Arc;

use hybi::driver::{Answer, ClientOptions, DriverError};
use hybi::{CloseCode, Config, Event};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Certs {
    server: Arc<rustls::ServerConfig>,
    trusting: Arc<rustls::ClientConfig>,
    untrusting: Arc<rustls::ClientConfig>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs() -> Certs {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert: CertificateDer<'static> = made.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = |roots: rustls::RootCertStore| {
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    };
    Certs {
        server: Arc::new(server),
        trusting: client(roots),
        untrusting: client(rustls::RootCertStore::empty()),
    }
}

#[test]
fn blocking_wss_round_trip_and_an_untrusted_certificate() {
    let certs = certs();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server_tls = Arc::clone(&certs.server);
    let server = std::thread::spawn(move || {
        // First the trusting client, then the one that refuses our certificate.
        let (socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut ws = hybi::blocking::WebSocket::accept_tls(
            socket,
            Arc::clone(&server_tls),
            Config::new(),
            |_| Answer::accept(),
        )
        .unwrap();
        let mut echoed = 0;
        loop {
            let (event, mut out) = ws.recv_with_outbound().unwrap();
            match event {
                Event::Text(t) => out.send_text(t).unwrap(),
                Event::Binary(b) => out.send_binary(b).unwrap(),
                Event::Close(_) => break,
                _ => continue,
            }
            echoed += 1;
        }
        ws.flush().unwrap();
        let (socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let refused =
            hybi::blocking::WebSocket::accept_tls(socket, server_tls, Config::new(), |_| {
                Answer::accept()
            });
        (echoed, refused.is_err())
    });
    let url = format!("wss://localhost:{port}/secure");
    let mut ws = hybi::blocking::WebSocket::connect_tls(
        &url,
        &ClientOptions::default(),
        Config::new(),
        Arc::clone(&certs.trusting),
    )
    .unwrap();
    ws.send_text("over TLS ✓").unwrap();
    assert!(matches!(ws.recv().unwrap(), Event::Text("over TLS ✓")));
    let big = vec![0x5a; 200_000];
    ws.send_binary(&big).unwrap();
    assert!(matches!(ws.recv().unwrap(), Event::Binary(b) if b == &big[..]));
    ws.close(CloseCode::NORMAL, "").unwrap();

    match hybi::blocking::WebSocket::connect_tls(
        &url,
        &ClientOptions::default(),
        Config::new(),
        certs.untrusting,
    ) {
        Err(DriverError::Io(e)) => assert!(e.to_string().contains("certificate"), "{e}"),
        other => panic!("an untrusted certificate must fail the connection: {other:?}"),
    }
    assert_eq!(server.join().unwrap(), (2, true));
}

#[tokio::test]
async fn tokio_wss_round_trip_and_an_untrusted_certificate() {
    let certs = certs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server_tls = Arc::clone(&certs.server);
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut ws = hybi::tokio::WebSocket::accept_tls(
            socket,
            Arc::clone(&server_tls),
            Config::new(),
            |_| Answer::accept(),
        )
        .await
        .unwrap();
        let mut echoed = 0;
        loop {
            let closed = {
                let (event, mut out) = ws.recv_with_outbound().await.unwrap();
                match event {
                    Event::Text(t) => out.send_text(t).map(|()| false).unwrap(),
                    Event::Close(_) => true,
                    _ => false,
                }
            };
            if closed {
                break;
            }
            echoed += 1;
        }
        ws.flush().await.unwrap();
        let (socket, _) = listener.accept().await.unwrap();
        let refused = hybi::tokio::WebSocket::accept_tls(socket, server_tls, Config::new(), |_| {
            Answer::accept()
        })
        .await;
        (echoed, refused.is_err())
    });
    let url = format!("wss://localhost:{port}/");
    let mut ws = hybi::tokio::WebSocket::connect_tls(
        &url,
        &ClientOptions::default(),
        Config::new(),
        Arc::clone(&certs.trusting),
    )
    .await
    .unwrap();
    for i in 0..3 {
        ws.send_text(&format!("secure {i}")).await.unwrap();
        match ws.recv().await.unwrap() {
            Event::Text(t) => assert_eq!(t, format!("secure {i}")),
            other => panic!("{other:?}"),
        }
    }
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    match hybi::tokio::WebSocket::connect_tls(
        &url,
        &ClientOptions::default(),
        Config::new(),
        certs.untrusting,
    )
    .await
    {
        Err(DriverError::Io(e)) => assert!(e.to_string().contains("certificate"), "{e}"),
        other => panic!("an untrusted certificate must fail: {other:?}"),
    }
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, (3, true));
}

//! Server handshake: parse and accept a typical browser upgrade request.
//!
//! `cargo bench --bench handshake`

use criterion::{Criterion, criterion_group, criterion_main};
use hybi::{Accept, Config, Connection, Event};

#[path = "support/mod.rs"]
mod support;
use support::BROWSER_REQUEST;

fn handshake(c: &mut Criterion) {
    c.bench_function("handshake/server_parse_accept", |b| {
        b.iter(|| {
            let mut conn = Connection::server(Config::new());
            conn.receive(std::hint::black_box(BROWSER_REQUEST));
            assert!(matches!(
                conn.next_event(),
                Ok(Some(Event::HandshakeRequest(_)))
            ));
            conn.accept(Accept::new()).unwrap();
            conn.transmit().len()
        });
    });
}

criterion_group!(benches, handshake);
criterion_main!(benches);

//! Slowloris: handshakes that drip a byte at a time are closed at the
//! handshake timeout while normal clients are served.

use crate::prelude::*;

pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);
/// A slow client's pace: one byte per interval.
pub(crate) const DRIP: Duration = Duration::from_secs(1);
/// How many slow clients, at any scale.
pub(crate) const SLOW_CLIENTS: usize = 1000;
pub(crate) const NORMAL_CLIENTS: usize = 20;

#[derive(Debug)]
pub(crate) enum Handshake {
    TimedOut(Duration),
    Echoed(Result<Echoed, String>),
    Failed(String),
}

/// Sends a request head one byte per `DRIP`, never the end of it; returns
/// how long after connecting the server closed the connection.
pub(crate) async fn slow_client(
    port: u16,
    dripping: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
) -> Result<Duration, String> {
    let op = Duration::from_secs(10);
    // From before the connect: the server's clock starts later, at accept.
    let start = Instant::now();
    let mut stream = step(op, "connect", TcpStream::connect(("127.0.0.1", port))).await?;
    let head = request_head("/slow");
    let mut buf = [0u8; 512];
    let mut outcome = Err("the whole head was sent".to_string());
    for (i, byte) in head[..head.len() - 2].iter().enumerate() {
        if start.elapsed() > HANDSHAKE_TIMEOUT + op {
            outcome = Err(format!("still open after {:?}", start.elapsed()));
            break;
        }
        let wrote = tokio::time::timeout(op, stream.write_all(&[*byte])).await;
        if i == 0 {
            dripping.fetch_add(1, Ordering::SeqCst);
        }
        match wrote {
            Ok(Ok(())) => {}
            // The server is gone (its reset answers our byte).
            Ok(Err(_)) => {
                outcome = Ok(start.elapsed());
                break;
            }
            Err(_) => {
                outcome = Err("a one-byte write waited".into());
                break;
            }
        }
        match tokio::time::timeout(DRIP, stream.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0) | Err(_)) => {
                outcome = Ok(start.elapsed());
                break;
            }
            Ok(Ok(n)) => {
                outcome = Err(format!(
                    "the server answered an unfinished head with {n} bytes"
                ));
                break;
            }
        }
    }
    closed.fetch_add(1, Ordering::SeqCst);
    outcome
}

/// 1,000 slow clients that send a request head one byte per second are
/// closed at the handshake timeout (3 s), while normal clients connecting at the
/// same time are served.
#[test]
fn slowloris_handshakes_end_at_the_timeout_while_others_are_served() {
    let _turn = one_at_a_time();
    let slow = fit_open_files(SLOW_CLIENTS + NORMAL_CLIENTS, 2)
        .saturating_sub(NORMAL_CLIENTS)
        .max(1);
    let config = Config::new().handshake_timeout(Some(HANDSHAKE_TIMEOUT));
    let limit = Duration::from_secs(60);
    let (port, server) = serve(slow + NORMAL_CLIENTS, limit, move |socket| async move {
        let start = Instant::now();
        let accepted = tokio::time::timeout(
            Duration::from_secs(30),
            WebSocket::accept(socket, config, |_| Answer::accept()),
        )
        .await;
        match accepted {
            Ok(Err(DriverError::Ws(Error::Handshake(HandshakeError::Timeout)))) => {
                Handshake::TimedOut(start.elapsed())
            }
            Ok(Ok(ws)) => Handshake::Echoed(echo(ws, Duration::from_secs(30)).await),
            Ok(Err(e)) => Handshake::Failed(e.to_string()),
            Err(_) => Handshake::Failed("the handshake outlived its timeout".into()),
        }
    });
    let run = async move {
        let dripping = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let mut slow_clients = Vec::with_capacity(slow);
        for _ in 0..slow {
            slow_clients.push(tokio::spawn(slow_client(
                port,
                Arc::clone(&dripping),
                Arc::clone(&closed),
            )));
        }
        wait_until(Duration::from_secs(20), "slow clients dripping", || {
            dripping.load(Ordering::SeqCst) + closed.load(Ordering::SeqCst) >= slow
        })
        .await?;
        let start = Instant::now();
        let mut normal = Vec::with_capacity(NORMAL_CLIENTS);
        for k in 0..NORMAL_CLIENTS {
            let closed = Arc::clone(&closed);
            normal.push(tokio::spawn(async move {
                let tally = normal_client(port, 1_000_000 + k, 6).await?;
                // How many slow connections the server still held then.
                Ok::<_, String>((tally, slow - closed.load(Ordering::SeqCst)))
            }));
        }
        let mut normal_results = Vec::new();
        for client in normal {
            normal_results.push(step(limit, "normal client", client).await?);
        }
        let normal_in = start.elapsed();
        let mut slow_results = Vec::new();
        for client in slow_clients {
            slow_results.push(step(limit, "slow client", client).await?);
        }
        Ok::<_, String>((normal_results, normal_in, slow_results))
    };
    let (normal, normal_in, slow_results) = runtime()
        .block_on(async move {
            tokio::time::timeout(limit, run)
                .await
                .unwrap_or_else(|_| Err("slowloris: no end within the bound".into()))
        })
        .unwrap();
    let served = join(server);

    let closed_after: Vec<Duration> = slow_results
        .iter()
        .map(|r| *r.as_ref().expect("a slow client"))
        .collect();
    let (first, last) = (
        closed_after.iter().min().copied().unwrap_or_default(),
        closed_after.iter().max().copied().unwrap_or_default(),
    );
    let mut held = usize::MAX;
    let mut slowest = Duration::ZERO;
    for result in &normal {
        let (tally, still_held) = result.as_ref().expect("a normal client");
        assert_eq!(tally.echoed, 6);
        held = held.min(*still_held);
        slowest = slowest.max(tally.slowest);
    }
    let server_timeouts: Vec<Duration> = served
        .results
        .iter()
        .filter_map(|r| match r {
            Handshake::TimedOut(after) => Some(*after),
            _ => None,
        })
        .collect();
    println!(
        "load: slowloris: {slow} handshakes at one byte per {} ms closed {:.2} - {:.2} s after \
         connecting (handshake timeout {} s; server side {:.2} - {:.2} s)",
        DRIP.as_millis(),
        first.as_secs_f64(),
        last.as_secs_f64(),
        HANDSHAKE_TIMEOUT.as_secs(),
        server_timeouts
            .iter()
            .min()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
        server_timeouts
            .iter()
            .max()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
    );
    println!(
        "load: slowloris: {NORMAL_CLIENTS} normal clients served meanwhile in {} ms (slowest \
         round trip {} ms), with at least {held} slow handshakes still held",
        normal_in.as_millis(),
        slowest.as_millis(),
    );
    let slack = Duration::from_secs(3);
    assert!(
        first + Duration::from_millis(50) >= HANDSHAKE_TIMEOUT,
        "a slow client was closed before the timeout: {first:?}"
    );
    assert!(
        last <= HANDSHAKE_TIMEOUT + slack,
        "a slow client was closed late: {last:?}"
    );
    assert!(
        held > 0,
        "the normal clients were not served while slow ones waited"
    );
    assert_eq!(server_timeouts.len(), slow, "handshakes that timed out");
    for after in &server_timeouts {
        assert!(
            *after >= HANDSHAKE_TIMEOUT && *after <= HANDSHAKE_TIMEOUT + slack,
            "a handshake timed out after {after:?}"
        );
    }
    let mut echoed = 0;
    for result in &served.results {
        match result {
            Handshake::TimedOut(_) => {}
            Handshake::Echoed(Ok(e)) if e.close == 1000 => echoed += 1,
            Handshake::Echoed(other) => panic!("a normal connection ended with {other:?}"),
            Handshake::Failed(e) => panic!("a handshake failed: {e}"),
        }
    }
    assert_eq!(echoed, NORMAL_CLIENTS);
}

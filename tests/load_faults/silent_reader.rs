//! A reader that never reads while the server sends: its connection stays
//! within the backpressure bound and the others are served.

use crate::prelude::*;

pub(crate) const MAX_QUEUED: usize = 256 << 10;
pub(crate) const CHUNK: usize = 16 << 10;
pub(crate) const OTHERS: usize = 10;
/// The producer gives up after this much (the bound never held).
pub(crate) const PRODUCER_CAP: usize = 256 << 20;

#[derive(Debug, Default)]
pub(crate) struct SinkReport {
    /// Chunks the sender queued, in all.
    pub(crate) queued: usize,
    /// Chunks queued until the budget stayed full.
    pub(crate) before_full: usize,
    pub(crate) max_transmit: usize,
    pub(crate) max_buffered: usize,
    pub(crate) rss_saturated: u64,
    pub(crate) rss_stopped: u64,
    pub(crate) trouble: Vec<String>,
}

#[derive(Debug)]
pub(crate) enum Role {
    Sink(Result<SinkReport, String>),
    Echo(Result<Echoed, String>),
}

/// Pushes chunks to a peer that never reads, through a `Sender` with
/// `try_send_binary` (backing off on `Full`), while this task polls the
/// connection (which moves the sender's messages) and samples what it
/// holds, until `stop`.
pub(crate) async fn sink(
    mut ws: WebSocket<TcpStream>,
    saturated: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> SinkReport {
    let sender = ws.sender();
    let producer_stop = Arc::clone(&stop);
    let producer_saturated = Arc::clone(&saturated);
    let producer = tokio::spawn(async move {
        let chunk = vec![0x5au8; CHUNK];
        let (mut queued, mut full_in_a_row, mut before_full) = (0usize, 0, 0);
        for _ in 0..1_000_000 {
            if producer_stop.load(Ordering::SeqCst) || queued * CHUNK > PRODUCER_CAP {
                break;
            }
            match sender.try_send_binary(chunk.clone()) {
                Ok(()) => {
                    queued += 1;
                    full_in_a_row = 0;
                }
                Err(SendError::Full) => {
                    full_in_a_row += 1;
                    // Full for 200 ms on end: the socket takes nothing more.
                    if full_in_a_row == 40 && !producer_saturated.load(Ordering::SeqCst) {
                        before_full = queued;
                        producer_saturated.store(true, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(SendError::Closed) => break,
            }
            if queued % 64 == 0 {
                tokio::task::yield_now().await;
            }
        }
        (queued, before_full)
    });
    let mut report = SinkReport::default();
    let mut was_saturated = false;
    for _ in 0..100_000 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(20), ws.recv()).await {
            Err(_) => {}
            Ok(Ok(event)) => report.trouble.push(format!("received {}", event.name())),
            Ok(Err(e)) => {
                report.trouble.push(format!("recv: {e}"));
                break;
            }
        }
        report.max_transmit = report
            .max_transmit
            .max(ws.connection_mut().transmit().len());
        report.max_buffered = report.max_buffered.max(ws.buffered_bytes());
        if !was_saturated && saturated.load(Ordering::SeqCst) {
            was_saturated = true;
            report.rss_saturated = status_kib("VmRSS:");
        }
    }
    report.rss_stopped = status_kib("VmRSS:");
    stop.store(true, Ordering::SeqCst);
    match tokio::time::timeout(Duration::from_secs(10), producer).await {
        Ok(Ok((queued, before_full))) => {
            report.queued = queued;
            report.before_full = before_full;
        }
        Ok(Err(e)) => report.trouble.push(format!("producer: {e}")),
        Err(_) => report.trouble.push("the producer did not stop".into()),
    }
    report
}

/// A client that completes the handshake and never reads: the server's
/// memory for it stays within the backpressure bound (`max_queued`
/// 256 KiB) and ten other clients on the same server echo meanwhile.
#[test]
fn a_reader_that_never_reads_stays_within_the_bound() {
    let _turn = one_at_a_time();
    let limit = Duration::from_secs(60);
    let saturated = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (server_saturated, server_stop) = (Arc::clone(&saturated), Arc::clone(&stop));
    let (port, server) = serve(1 + OTHERS, limit, move |socket| {
        let (saturated, stop) = (Arc::clone(&server_saturated), Arc::clone(&server_stop));
        async move {
            let mut path = String::new();
            let accepted = step(
                Duration::from_secs(10),
                "accept",
                WebSocket::accept(socket, Config::new(), |request| {
                    path = request.path().to_owned();
                    Answer::accept()
                }),
            )
            .await;
            match accepted {
                Ok(ws) if path == "/sink" => {
                    Role::Sink(Ok(sink(ws.max_queued(MAX_QUEUED), saturated, stop).await))
                }
                Ok(ws) => Role::Echo(echo(ws, Duration::from_secs(30)).await),
                Err(e) if path == "/sink" => Role::Sink(Err(e)),
                Err(e) => Role::Echo(Err(e)),
            }
        }
    });
    let run = async move {
        // Completes the handshake, then never reads again.
        let (never_reads, _) = raw_handshake(port, "/sink").await?;
        let saturating = Instant::now();
        wait_until(Duration::from_secs(20), "the budget to stay full", || {
            saturated.load(Ordering::SeqCst)
        })
        .await?;
        let saturated_in = saturating.elapsed();
        let start = Instant::now();
        let mut others = Vec::with_capacity(OTHERS);
        for k in 0..OTHERS {
            others.push(tokio::spawn(normal_client(port, 2_000_000 + k, 20)));
        }
        let mut tallies = Vec::with_capacity(OTHERS);
        for client in others {
            tallies.push(step(limit, "client task", client).await?);
        }
        let others_in = start.elapsed();
        // The peer keeps not reading a while longer.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
        Ok::<_, String>((never_reads, tallies, saturated_in, others_in))
    };
    let (never_reads, tallies, saturated_in, others_in) = runtime()
        .block_on(async move {
            tokio::time::timeout(limit, run)
                .await
                .unwrap_or_else(|_| Err("never-reader: no end within the bound".into()))
        })
        .unwrap();
    let served = join(server);
    drop(never_reads);

    let mut sink_report = None;
    let mut echoed = 0;
    for role in served.results {
        match role {
            Role::Sink(report) => sink_report = Some(report.expect("the sink's handshake")),
            Role::Echo(Ok(e)) if e.close == 1000 => echoed += e.messages,
            Role::Echo(other) => panic!("an echo connection ended with {other:?}"),
        }
    }
    let report = sink_report.expect("the never-reading connection");
    let mut slowest = Duration::ZERO;
    for tally in &tallies {
        let tally = tally.as_ref().expect("a client beside the never-reader");
        assert_eq!(tally.echoed, 20);
        slowest = slowest.max(tally.slowest);
    }
    println!(
        "load: never-reader: the peer's socket took {:.1} MiB before the budget stayed full \
         ({} ms); {:.1} MiB queued in all; the connection held at most {} KiB waiting for the \
         socket and {} KiB of buffers (max_queued {} KiB; the Senders' queue holds at most \
         max_queued more); VmRSS {:.1} MiB when full, {:.1} MiB \
         at the end",
        (report.before_full * CHUNK) as f64 / f64::from(1 << 20),
        saturated_in.as_millis(),
        (report.queued * CHUNK) as f64 / f64::from(1 << 20),
        report.max_transmit >> 10,
        report.max_buffered >> 10,
        MAX_QUEUED >> 10,
        mib(report.rss_saturated),
        mib(report.rss_stopped),
    );
    println!(
        "load: never-reader: {OTHERS} other clients echoed {} messages meanwhile in {} ms \
         (slowest round trip {} ms)",
        tallies.len() * 20,
        others_in.as_millis(),
        slowest.as_millis(),
    );
    assert!(report.trouble.is_empty(), "{:?}", report.trouble);
    assert!(
        report.queued * CHUNK <= PRODUCER_CAP,
        "the budget never stayed full"
    );
    assert!(
        report.max_transmit <= MAX_QUEUED + CHUNK,
        "{} bytes waited for the socket",
        report.max_transmit
    );
    assert!(
        report.max_buffered <= 2 * (MAX_QUEUED + CHUNK) + (16 << 10),
        "{} bytes of buffers",
        report.max_buffered
    );
    assert_eq!(echoed, OTHERS * 20, "messages the server echoed");
}

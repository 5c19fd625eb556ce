//! Peers that vanish: a TCP reset mid-message, a half-close, and silent death
//! caught by keep-alive.

use crate::prelude::*;

/// A client that sends half a frame and then resets the connection
/// (SO_LINGER 0): the server's `recv` ends with an I/O error, or with
/// Close 1006 and then `Closed`; it never hangs, and the half frame never
/// surfaces as a message.
#[test]
fn a_reset_mid_message_ends_the_connection() {
    let _turn = one_at_a_time();
    let (port, server) = serve(1, Duration::from_secs(30), |socket| {
        until_the_end(socket, Config::new(), Duration::from_secs(10))
    });
    runtime()
        .block_on(async move {
            tokio::time::timeout(Duration::from_secs(20), async move {
                let (mut stream, _) = raw_handshake(port, "/").await?;
                step(
                    Duration::from_secs(5),
                    "half a frame",
                    stream.write_all(&half_a_frame()),
                )
                .await?;
                // Let the server read the half frame, then reset.
                tokio::time::sleep(Duration::from_millis(100)).await;
                stream.set_zero_linger().map_err(|e| e.to_string())?;
                drop(stream);
                Ok::<_, String>(())
            })
            .await
            .unwrap_or_else(|_| Err("no end within the bound".into()))
        })
        .unwrap();
    let ending = vanished(join(server));
    println!(
        "load: reset mid-message: the server saw {:?} and then {:?} after {} ms",
        ending.seen,
        ending.end,
        ending.after.as_millis()
    );
    match &ending.end {
        Some(DriverError::Io(_)) => assert!(
            ending.seen.iter().all(|s| *s == Seen::Close(1006)),
            "{ending:?}"
        ),
        Some(DriverError::Closed) => assert_eq!(ending.seen, [Seen::Close(1006)]),
        other => panic!("recv ended with {other:?}"),
    }
}

/// A client that sends a message, then half a frame, then shuts down its
/// write side: the server gets the message, then Close 1006 and `Closed`,
/// and closes its side too.
#[test]
fn a_half_close_is_the_end_of_the_stream() {
    let _turn = one_at_a_time();
    let (port, server) = serve(1, Duration::from_secs(30), |socket| {
        until_the_end(socket, Config::new(), Duration::from_secs(10))
    });
    let rest = runtime()
        .block_on(async move {
            tokio::time::timeout(Duration::from_secs(20), async move {
                let op = Duration::from_secs(5);
                let url = format!("ws://127.0.0.1:{port}/");
                let mut ws = step(op, "connect", WebSocket::connect(&url, Config::new())).await?;
                step(op, "send", ws.send_text("before the half-close")).await?;
                let stream = ws.get_mut();
                step(op, "half a frame", stream.write_all(&half_a_frame())).await?;
                step(op, "shutdown", stream.shutdown()).await?;
                // The read side stays open: the server closes its side.
                let mut rest = Vec::new();
                read_to_end(stream, &mut rest, Duration::from_secs(10)).await?;
                Ok::<_, String>(rest)
            })
            .await
            .unwrap_or_else(|_| Err("no end within the bound".into()))
        })
        .unwrap();
    let ending = vanished(join(server));
    println!(
        "load: half-close: the server saw {:?} and then {:?} after {} ms; {} bytes came back \
         before its end",
        ending.seen,
        ending.end,
        ending.after.as_millis(),
        rest.len()
    );
    assert_eq!(
        ending.seen,
        [Seen::Text("before the half-close".len()), Seen::Close(1006)]
    );
    assert!(
        matches!(ending.end, Some(DriverError::Closed)),
        "{ending:?}"
    );
}

/// A client that completes the handshake and then neither reads nor
/// writes: with keep-alive at 200 ms and the Pong timeout at 300 ms, the
/// server's `recv` fails with `PongTimeout` after about half a second, and
/// the client's socket holds the Ping, a Close 1011 and the end.
#[test]
fn silent_death_is_caught_by_keepalive() {
    let _turn = one_at_a_time();
    let config = Config::new()
        .keepalive_interval(Some(Duration::from_millis(200)))
        .pong_timeout(Some(Duration::from_millis(300)));
    let (port, server) = serve(1, Duration::from_secs(30), move |socket| {
        until_the_end(socket, config, Duration::from_secs(10))
    });
    let got = runtime()
        .block_on(async move {
            tokio::time::timeout(Duration::from_secs(20), async move {
                let (mut stream, mut got) = raw_handshake(port, "/").await?;
                // Silent: nothing read or written until the server is done
                // with us (its end shows as the end of the stream).
                tokio::time::sleep(Duration::from_millis(1500)).await;
                read_to_end(&mut stream, &mut got, Duration::from_secs(10)).await?;
                Ok::<_, String>(got)
            })
            .await
            .unwrap_or_else(|_| Err("no end within the bound".into()))
        })
        .unwrap();
    let ending = vanished(join(server));
    let frames = frames(&got);
    println!(
        "load: silent death: recv failed with {:?} after {} ms; the peer was sent {:?}",
        ending.end,
        ending.after.as_millis(),
        frames
            .iter()
            .map(|(op, payload)| (op, payload.len()))
            .collect::<Vec<_>>(),
    );
    assert!(
        matches!(ending.end, Some(DriverError::Ws(Error::PongTimeout))),
        "{ending:?}"
    );
    assert!(ending.seen.is_empty(), "{ending:?}");
    assert!(
        ending.after >= Duration::from_millis(450) && ending.after <= Duration::from_secs(3),
        "{:?}",
        ending.after
    );
    let opcodes: Vec<u8> = frames.iter().map(|(op, _)| *op).collect();
    assert_eq!(opcodes, [0x9, 0x8], "a Ping, then a Close");
    assert_eq!(frames[1].1[..2], 1011u16.to_be_bytes(), "Close 1011");
}

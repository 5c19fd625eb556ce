//! The messages the load tests send (16 B to 64 KiB, text and binary, each
//! checkable on its own) and the normal client that sends them and checks
//! every echo.

use crate::prelude::*;

/// A test message: text (with multi-byte characters) or binary.
#[derive(Debug)]
pub(crate) enum Payload {
    Text(String),
    Binary(Vec<u8>),
}

impl Payload {
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Binary(b) => b.len(),
        }
    }
}

pub(crate) const MIN_SIZE: usize = 16;
pub(crate) const MAX_SIZE: usize = 64 << 10;

pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Message `index` of connection `conn`, the same every time: 16 B, then
/// 64 KiB, then the edge of the 7-bit length form (125–127), then 65,535
/// (the largest 16-bit length), then sizes spread evenly over the powers
/// of two from 16 B to 64 KiB; text and binary alternate.
pub(crate) fn message(conn: usize, index: usize) -> Payload {
    let mut state = ((conn as u64) << 32) ^ (index as u64) ^ 0x6879_6269_6c6f_6164;
    let size = match index {
        0 => MIN_SIZE,
        1 => MAX_SIZE,
        2 => 125 + conn % 3,
        3 => 65_535,
        _ => {
            let base = 1usize << (4 + splitmix(&mut state) % 12);
            base + (splitmix(&mut state) as usize) % base
        }
    };
    if (conn + index) % 2 == 0 {
        const CHARS: [&str; 8] = ["a", "q", "Z", "7", " ", "é", "€", "𝄞"];
        let mut text = String::with_capacity(size);
        let (mut bits, mut left) = (0u64, 0);
        while text.len() < size {
            if left == 0 {
                bits = splitmix(&mut state);
                left = 21;
            }
            let c = CHARS[(bits & 7) as usize];
            bits >>= 3;
            left -= 1;
            if text.len() + c.len() <= size {
                text.push_str(c);
            } else {
                text.push('.');
            }
        }
        Payload::Text(text)
    } else {
        let mut data = Vec::with_capacity(size + 8);
        while data.len() < size {
            data.extend_from_slice(&splitmix(&mut state).to_le_bytes());
        }
        data.truncate(size);
        Payload::Binary(data)
    }
}

/// What a client's exchanges came to.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) sent: usize,
    pub(crate) echoed: usize,
    pub(crate) corrupted: usize,
    pub(crate) bytes: u64,
    pub(crate) slowest: Duration,
}

/// Sends `count` messages of connection `conn` one after another, each
/// checked byte for byte against its echo.
pub(crate) async fn exchange(
    ws: &mut WebSocket<TcpStream>,
    conn: usize,
    count: usize,
    op: Duration,
    tally: &mut Tally,
) -> Result<(), String> {
    for index in 0..count {
        let payload = message(conn, index);
        let started = Instant::now();
        match &payload {
            Payload::Text(t) => step(op, "send", ws.send_text(t)).await?,
            Payload::Binary(b) => step(op, "send", ws.send_binary(b)).await?,
        }
        tally.sent += 1;
        if echo_matches(ws, &payload, op).await? {
            tally.echoed += 1;
            tally.bytes += payload.len() as u64;
        } else {
            tally.corrupted += 1;
        }
        tally.slowest = tally.slowest.max(started.elapsed());
    }
    Ok(())
}

/// Whether the next message is `expected`, kind and bytes.
pub(crate) async fn echo_matches(
    ws: &mut WebSocket<TcpStream>,
    expected: &Payload,
    op: Duration,
) -> Result<bool, String> {
    for _ in 0..16 {
        match step(op, "the echo", ws.recv()).await? {
            Event::Ping(_) | Event::Pong(_) => {}
            Event::Text(t) => return Ok(matches!(expected, Payload::Text(e) if e.as_str() == t)),
            Event::Binary(b) => {
                return Ok(matches!(expected, Payload::Binary(e) if e.as_slice() == b));
            }
            other => return Err(format!("{} instead of the echo", other.name())),
        }
    }
    Err("only control frames came back".into())
}

/// A client that connects, exchanges `count` messages and closes.
pub(crate) async fn normal_client(port: u16, conn: usize, count: usize) -> Result<Tally, String> {
    let op = Duration::from_secs(10);
    let url = format!("ws://127.0.0.1:{port}/echo");
    let mut ws = step(op, "connect", WebSocket::connect(&url, Config::new())).await?;
    let mut tally = Tally::default();
    exchange(&mut ws, conn, count, op, &mut tally).await?;
    step(op, "close", ws.close(CloseCode::NORMAL, "")).await?;
    if tally.corrupted > 0 {
        return Err(format!("{} corrupted echoes", tally.corrupted));
    }
    Ok(tally)
}

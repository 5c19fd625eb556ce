//! What goes over the wire: payloads, encoded frame streams, the scenario
//! descriptions, and the decoder that checks a sender's output.

use std::rc::Rc;

use crate::{KEY, MIB, Totals};

/// Opcode of a text frame.
pub const TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const BINARY: u8 = 0x2;
const CONTINUATION: u8 = 0x0;

/// Payload bytes of one iteration of a continuous-stream scenario.
pub const STREAM: usize = 8 * MIB;

/// Message sizes of the continuous-stream scenarios, with their column labels.
pub const SIZES: [(&str, usize); 5] = [
    ("16B", 16),
    ("125B", 125),
    ("1KiB", 1 << 10),
    ("16KiB", 16 << 10),
    ("1MiB", MIB),
];

// ----- payloads ------------------------------------------------------------------

/// ASCII text of `len` bytes.
#[must_use]
pub fn ascii(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Multi-byte UTF-8 text (2-, 3- and 4-byte characters) of exactly `len`
/// bytes; the same pattern as hybi's `benches/support` (scenarios 1–4).
#[must_use]
pub fn multibyte(len: usize) -> Vec<u8> {
    let pattern = "héllo wörld κόσμε € 😀 ".as_bytes();
    let mut out: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
    while std::str::from_utf8(&out).is_err() {
        out.pop();
    }
    out.resize(len, b'.');
    out
}

/// Multi-byte UTF-8 text of exactly `len` bytes for the stream scenarios:
/// whole characters only, 2-, 3- and 4-byte ones from the first 9 bytes on
/// (so a 16-byte message has all three), padded with ASCII dots to `len`.
#[must_use]
pub fn mixed_text(len: usize) -> Vec<u8> {
    const PATTERN: &str = "é€😀κόσμε中文𝄞üa ";
    let mut out = String::with_capacity(len);
    for c in PATTERN.chars().cycle() {
        if out.len() + c.len_utf8() > len {
            break;
        }
        out.push(c);
    }
    while out.len() < len {
        out.push('.');
    }
    out.into_bytes()
}

/// Binary payload of `len` bytes (not valid UTF-8, not constant).
#[must_use]
pub fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + 7) as u8 | 0x80).collect()
}

// ----- frames --------------------------------------------------------------------

/// Appends one frame (RFC 6455 §5.2), masked with `mask` if given.
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(m | n as u8),
        n @ 126..=0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        None => out.extend_from_slice(payload),
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
    }
}

/// `count` messages carrying `payload`, each split into `fragments` frames
/// of equal size (the last may be shorter), masked (message `i` with
/// `[0x37, 0xfa, 0x21, i as u8]`) if `masked`. Fragment boundaries fall where
/// they fall, so multi-byte characters are split across frames.
#[must_use]
pub fn stream(payload: &[u8], opcode: u8, fragments: usize, count: usize, masked: bool) -> Vec<u8> {
    let piece = payload.len().div_ceil(fragments.max(1)).max(1);
    let mut out = Vec::with_capacity((payload.len() + 14 * fragments) * count);
    let pieces: Vec<&[u8]> = payload.chunks(piece).collect();
    for i in 0..count {
        let mut key = KEY;
        key[3] = i as u8;
        for (j, p) in pieces.iter().enumerate() {
            let op = if j == 0 { opcode } else { CONTINUATION };
            let mask = masked.then_some(key);
            encode_frame(&mut out, j + 1 == pieces.len(), op, mask, p);
        }
    }
    out
}

/// Bytes of one frame carrying `len` payload bytes.
#[must_use]
pub fn frame_len(len: usize, masked: bool) -> usize {
    let ext = match len {
        0..=125 => 0,
        126..=0xffff => 2,
        _ => 8,
    };
    2 + ext + if masked { 4 } else { 0 } + len
}

/// Checks that `wire` holds exactly `count` final binary frames, each
/// carrying `payload`, masked if and only if `masked` (used once per sender,
/// outside timing).
///
/// # Panics
/// If it does not.
pub fn check_frames(wire: &[u8], payload: &[u8], count: usize, masked: bool) {
    let mut at = 0;
    for i in 0..count {
        let w = &wire[at..];
        assert_eq!(w[0], 0x80 | BINARY, "frame {i}: FIN + binary");
        assert_eq!(w[1] & 0x80 != 0, masked, "frame {i}: mask bit");
        let (len, mut head) = match w[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([w[2], w[3]])), 4),
            127 => (
                u64::from_be_bytes(w[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (usize::from(n), 2),
        };
        assert_eq!(len, payload.len(), "frame {i}: length");
        let key: [u8; 4] = if masked {
            head += 4;
            w[head - 4..head].try_into().unwrap()
        } else {
            [0; 4]
        };
        let body = &w[head..head + len];
        assert!(
            body.iter()
                .enumerate()
                .all(|(j, b)| b ^ key[j % 4] == payload[j]),
            "frame {i}: payload differs"
        );
        at += head + len;
    }
    assert_eq!(at, wire.len(), "bytes after the last frame");
}

// ----- scenarios -----------------------------------------------------------------

/// The endpoint a scenario measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A server: receives masked frames, sends unmasked ones.
    Server,
    /// A client: receives unmasked frames, sends masked ones.
    Client,
}

/// One receive case: the bytes on the wire and what must come out.
#[derive(Clone, Debug)]
pub struct RxScenario {
    /// Criterion group.
    pub group: &'static str,
    /// Column label (message size), `None` for scenarios 1–4.
    pub size: Option<&'static str>,
    /// The payload of every message.
    pub message: Rc<[u8]>,
    /// The encoded frames of all messages.
    pub input: Rc<[u8]>,
    /// Messages in `input`.
    pub messages: usize,
    /// Frames in `input`.
    pub frames: usize,
    /// Text (else binary) messages.
    pub text: bool,
    /// The receiving endpoint.
    pub side: Side,
    /// A new connection for every pass (the continuous streams), instead
    /// of one connection whose wire is rewound (scenarios 1–4).
    pub fresh: bool,
}

impl RxScenario {
    /// Payload bytes in `input`.
    #[must_use]
    pub fn payload(&self) -> usize {
        self.message.len() * self.messages
    }

    /// What a correct receiver reports for one pass over `input`.
    #[must_use]
    pub fn expected(&self) -> Totals {
        Totals {
            bytes: self.payload(),
            messages: self.messages,
        }
    }
}

/// One send case: `messages` binary messages carrying `payload`.
#[derive(Clone, Debug)]
pub struct TxScenario {
    /// Criterion group.
    pub group: &'static str,
    /// Column label (message size), `None` for scenario 5.
    pub size: Option<&'static str>,
    /// The payload of every message.
    pub payload: Rc<[u8]>,
    /// Messages per pass.
    pub messages: usize,
    /// The sending endpoint (a client masks).
    pub side: Side,
    /// A new connection for every pass.
    pub fresh: bool,
    /// hybi and fastwebsockets mask with [`KEY`] (scenario 5, as before);
    /// otherwise every library draws its own masks.
    pub fixed_mask: bool,
}

impl TxScenario {
    /// What a correct sender reports for one pass.
    #[must_use]
    pub fn expected(&self) -> Totals {
        Totals {
            bytes: self.payload.len() * self.messages,
            messages: self.messages,
        }
    }

    /// Bytes on the wire after one pass.
    #[must_use]
    pub fn wire_len(&self) -> usize {
        frame_len(self.payload.len(), self.side == Side::Client) * self.messages
    }
}

/// A receive or send case.
#[derive(Clone, Debug)]
pub enum Built {
    /// A receive case.
    Rx(RxScenario),
    /// A send case.
    Tx(TxScenario),
}

impl Built {
    /// What every pass must report.
    #[must_use]
    pub fn expected(&self) -> Totals {
        match self {
            Built::Rx(s) => s.expected(),
            Built::Tx(s) => s.expected(),
        }
    }
}

/// A case, built only when it is about to run (inputs are up to 11 MiB).
pub struct Case {
    /// Criterion group.
    pub group: &'static str,
    /// Column label, `None` for scenarios 1–5.
    pub size: Option<&'static str>,
    make: Box<dyn Fn() -> Built>,
}

impl Case {
    /// Encodes the case's input.
    #[must_use]
    pub fn build(&self) -> Built {
        (self.make)()
    }

    /// `group` or `group/size`, as criterion names it.
    #[must_use]
    pub fn name(&self) -> String {
        match self.size {
            Some(size) => format!("{}/{size}", self.group),
            None => self.group.to_string(),
        }
    }
}

fn rx(
    group: &'static str,
    size: Option<&'static str>,
    message: Vec<u8>,
    text: bool,
    (fragments, count): (usize, usize),
    side: Side,
    fresh: bool,
) -> Built {
    let opcode = if text { TEXT } else { BINARY };
    let input = stream(&message, opcode, fragments, count, side == Side::Server);
    Built::Rx(RxScenario {
        group,
        size,
        message: message.into(),
        input: input.into(),
        messages: count,
        frames: fragments * count,
        text,
        side,
        fresh,
    })
}

/// Name of scenario 5 (a client sends one 1 MiB binary message, warm connection).
pub const SEND: &str = "5_client_send_binary_1MiB";

/// Every case, in run order: scenarios 1–5 (one connection, rewound), then
/// the continuous streams s1–s8 (a new connection per pass).
#[must_use]
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut add = |group, size, make: Box<dyn Fn() -> Built>| {
        out.push(Case { group, size, make });
    };
    // Scenarios 1–5, as before.
    type Legacy = (&'static str, fn() -> Vec<u8>, usize, usize);
    let legacy: [Legacy; 4] = [
        ("1_text_16B_x65536", || ascii(16), 1, MIB / 16),
        ("2_text_1MiB_ascii", || ascii(MIB), 1, 1),
        ("3_text_1MiB_multibyte", || multibyte(MIB), 1, 1),
        (
            "4_text_1MiB_multibyte_64_fragments",
            || multibyte(MIB),
            64,
            1,
        ),
    ];
    for (group, message, fragments, count) in legacy {
        add(
            group,
            None,
            Box::new(move || {
                rx(
                    group,
                    None,
                    message(),
                    true,
                    (fragments, count),
                    Side::Server,
                    false,
                )
            }),
        );
    }
    add(
        SEND,
        None,
        Box::new(|| {
            Built::Tx(TxScenario {
                group: SEND,
                size: None,
                payload: ascii(MIB).into(),
                messages: 1,
                side: Side::Client,
                fresh: false,
                fixed_mask: true,
            })
        }),
    );
    // Continuous streams: about 8 MiB of messages per pass, new connection.
    type Rx = (&'static str, fn(usize) -> Vec<u8>, bool, Side);
    let receive: [Rx; 4] = [
        ("s1_server_rx_text_ascii", ascii, true, Side::Server),
        (
            "s2_server_rx_text_multibyte",
            mixed_text,
            true,
            Side::Server,
        ),
        ("s3_server_rx_binary", binary, false, Side::Server),
        ("s4_client_rx_binary", binary, false, Side::Client),
    ];
    for (group, payload, text, side) in receive {
        for (label, len) in SIZES {
            let count = STREAM.div_ceil(len);
            add(
                group,
                Some(label),
                Box::new(move || {
                    rx(
                        group,
                        Some(label),
                        payload(len),
                        text,
                        (1, count),
                        side,
                        true,
                    )
                }),
            );
        }
    }
    for (group, side) in [
        ("s5_server_tx_binary", Side::Server),
        ("s6_client_tx_binary", Side::Client),
    ] {
        for (label, len) in SIZES {
            add(
                group,
                Some(label),
                Box::new(move || {
                    Built::Tx(TxScenario {
                        group,
                        size: Some(label),
                        payload: binary(len).into(),
                        messages: STREAM.div_ceil(len),
                        side,
                        fresh: true,
                        fixed_mask: false,
                    })
                }),
            );
        }
    }
    type Frag = (&'static str, fn(usize) -> Vec<u8>);
    let fragmented: [Frag; 2] = [
        ("s7_server_rx_text_ascii_64_fragments", ascii),
        ("s8_server_rx_text_multibyte_64_fragments", mixed_text),
    ];
    for (group, payload) in fragmented {
        add(
            group,
            Some("1MiB"),
            Box::new(move || {
                let message = payload(MIB);
                if group.contains("multibyte") {
                    let text = std::str::from_utf8(&message).unwrap();
                    let split = (1..64).filter(|k| !text.is_char_boundary(k * MIB / 64));
                    assert!(split.count() > 0, "no character split across fragments");
                }
                rx(
                    group,
                    Some("1MiB"),
                    message,
                    true,
                    (64, STREAM / MIB),
                    Side::Server,
                    true,
                )
            }),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_text_is_whole_characters_of_every_width() {
        for len in [16, 125, 1024, 16 << 10, MIB] {
            let t = mixed_text(len);
            assert_eq!(t.len(), len);
            let s = std::str::from_utf8(&t).unwrap();
            for w in 2..=4 {
                assert!(s.chars().any(|c| c.len_utf8() == w), "{len}: width {w}");
            }
        }
    }

    #[test]
    fn stream_boundaries_do_not_line_up_with_reads() {
        for (_, len) in SIZES {
            for masked in [true, false] {
                assert_ne!(crate::READ % frame_len(len, masked), 0);
            }
        }
    }

    #[test]
    fn check_frames_accepts_what_stream_encodes() {
        let p = binary(300);
        let mut w = Vec::new();
        for _ in 0..3 {
            encode_frame(&mut w, true, BINARY, Some(KEY), &p);
        }
        check_frames(&w, &p, 3, true);
    }
}

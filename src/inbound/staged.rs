//! The event `event_ready` decoded and `next_event` has not handed out
//! yet, packed into a byte and two 32-bit offsets so that holding it costs
//! the connection 8 bytes (the tag sits in padding).
//!
//! Offsets fit in 32 bits because the receive buffer never exceeds
//! `Config::max_receive_buffer`, which the configuration keeps below 4 GiB
//! (`chunk_threshold`, `read_buf_size` and `max_handshake_bytes` are each
//! at most 1 GiB).

use crate::assemble::MessageKind;

use super::Ready;

/// Nothing staged.
pub(crate) const NONE: u8 = 0;

// The variant, in the tag's low four bits.
const MESSAGE: u8 = 1;
#[cfg(feature = "deflate")]
const INFLATED: u8 = 2;
const PING: u8 = 3;
const PONG: u8 = 4;
const CLOSE: u8 = 5;
const REQUEST: u8 = 6;
const RESPONSE: u8 = 7;
const REJECTED: u8 = 8;
const ABNORMAL: u8 = 9;
const VARIANT: u8 = 0x0f;
// Message details in the high four bits.
const BINARY: u8 = 0x10;
const CHUNK_MORE: u8 = 0x20;
const CHUNK_LAST: u8 = 0x40;
const VALIDATED: u8 = 0x80;

fn offset(at: usize) -> u32 {
    // The configuration's bounds keep every offset below 4 GiB.
    u32::try_from(at).unwrap_or(u32::MAX)
}

fn details(kind: MessageKind, chunk: Option<bool>) -> u8 {
    let binary = if kind == MessageKind::Binary {
        BINARY
    } else {
        0
    };
    binary
        | match chunk {
            None => 0,
            Some(false) => CHUNK_MORE,
            Some(true) => CHUNK_LAST,
        }
}

fn kind_and_chunk(tag: u8) -> (MessageKind, Option<bool>) {
    let kind = if tag & BINARY != 0 {
        MessageKind::Binary
    } else {
        MessageKind::Text
    };
    let chunk = if tag & CHUNK_LAST != 0 {
        Some(true)
    } else if tag & CHUNK_MORE != 0 {
        Some(false)
    } else {
        None
    };
    (kind, chunk)
}

/// `ready` as a tag (never [`NONE`]) and two offsets.
pub(crate) fn pack(ready: Ready) -> (u8, [u32; 2]) {
    match ready {
        Ready::Request => (REQUEST, [0, 0]),
        Ready::Response(len) => (RESPONSE, [offset(len), 0]),
        Ready::Rejected { head, end } => (REJECTED, [offset(head), offset(end)]),
        Ready::Message {
            kind,
            start,
            end,
            chunk,
            validated,
        } => (
            MESSAGE | details(kind, chunk) | if validated { VALIDATED } else { 0 },
            [offset(start), offset(end)],
        ),
        #[cfg(feature = "deflate")]
        Ready::Inflated { kind, end, chunk } => (INFLATED | details(kind, chunk), [offset(end), 0]),
        Ready::Ping(s, e) => (PING, [offset(s), offset(e)]),
        Ready::Pong(s, e) => (PONG, [offset(s), offset(e)]),
        Ready::Close(s, e) => (CLOSE, [offset(s), offset(e)]),
        Ready::Abnormal => (ABNORMAL, [0, 0]),
    }
}

/// The event [`pack`] made `tag` and `at` from.
pub(crate) fn unpack(tag: u8, at: [u32; 2]) -> Ready {
    let [a, b] = at.map(|x| x as usize);
    let (kind, chunk) = kind_and_chunk(tag);
    match tag & VARIANT {
        REQUEST => Ready::Request,
        RESPONSE => Ready::Response(a),
        REJECTED => Ready::Rejected { head: a, end: b },
        MESSAGE => Ready::Message {
            kind,
            start: a,
            end: b,
            chunk,
            validated: tag & VALIDATED != 0,
        },
        #[cfg(feature = "deflate")]
        INFLATED => Ready::Inflated {
            kind,
            end: a,
            chunk,
        },
        PING => Ready::Ping(a, b),
        PONG => Ready::Pong(a, b),
        CLOSE => Ready::Close(a, b),
        _ => Ready::Abnormal,
    }
}

/// Whether the offsets of a staged `tag` index the receive buffer (and
/// move with its live bytes), rather than a head's start or the inflater.
pub(crate) fn in_buffer(tag: u8) -> bool {
    matches!(tag & VARIANT, MESSAGE | PING | PONG | CLOSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_packing() {
        let mut events = alloc::vec![
            Ready::Request,
            Ready::Response(300),
            Ready::Rejected {
                head: 100,
                end: 250
            },
            Ready::Ping(10, 20),
            Ready::Pong(0, 125),
            Ready::Close(7, 9),
            Ready::Abnormal,
        ];
        for kind in [MessageKind::Text, MessageKind::Binary] {
            for chunk in [None, Some(false), Some(true)] {
                for validated in [false, true] {
                    events.push(Ready::Message {
                        kind,
                        start: 5,
                        end: (1 << 31) + 3,
                        chunk,
                        validated,
                    });
                }
                #[cfg(feature = "deflate")]
                events.push(Ready::Inflated {
                    kind,
                    end: 4096,
                    chunk,
                });
            }
        }
        for ready in events {
            let (tag, at) = pack(ready);
            assert_ne!(tag, NONE);
            assert_eq!(
                alloc::format!("{:?}", unpack(tag, at)),
                alloc::format!("{ready:?}")
            );
        }
    }
}

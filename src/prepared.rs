//! Prepared messages: a message encoded once and queued on many
//! connections (a broadcast), without encoding or compressing it again for
//! each.
//!
//! A [`PreparedMessage`] holds the server's frame for the payload (a
//! server's frames are unmasked, so the same bytes serve every connection)
//! and, when asked, the frame compressed once for permessage-deflate with
//! no server context takeover. [`Connection::send_prepared`] queues it
//! under the rules of `send_text`; a connection the prepared bytes do not
//! fit (a client, which must mask; a compressor that keeps its window; a
//! smaller agreed window) sends the payload the ordinary way instead, so the
//! caller never has to check. Queueing encodes nothing, compresses nothing
//! and allocates nothing per recipient; a connection with nothing else
//! queued holds the frame by reference (an `Arc`, no copy) until its socket
//! has taken it, and one with bytes queued copies it behind them.
//!
//! [`Connection::send_prepared`]: crate::Connection::send_prepared

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::assemble::MessageKind;
use crate::buffer::SharedFrame;
use crate::frame::MAX_HEADER_LEN;
use crate::frame::encode::encode_header;

/// A message encoded once, to be queued on many connections with
/// [`Connection::send_prepared`](crate::Connection::send_prepared).
///
/// ```
/// use hybi::{Config, PreparedMessage};
/// let update = PreparedMessage::text(r#"{"type":"tick","price":"101.25"}"#);
/// # let mut connections = vec![hybi::testing::open_server(Config::new())];
/// for conn in &mut connections {
///     conn.send_prepared(&update)?;
/// }
/// # Ok::<(), hybi::UsageError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PreparedMessage {
    kind: MessageKind,
    /// The server's frame: header, then the payload.
    frame: SharedFrame,
    /// Where the payload starts in `frame`.
    header: usize,
    /// The window the message was compressed for, and the frame compressed
    /// once (RSV1 set) if that made it smaller (else the plain frame is
    /// what such connections send).
    #[cfg(feature = "deflate")]
    compressed: Option<(u8, Option<SharedFrame>)>,
}

impl PreparedMessage {
    /// A text message.
    #[must_use]
    pub fn text(text: &str) -> Self {
        Self::new(MessageKind::Text, text.as_bytes())
    }

    /// A binary message.
    #[must_use]
    pub fn binary(data: &[u8]) -> Self {
        Self::new(MessageKind::Binary, data)
    }

    fn new(kind: MessageKind, payload: &[u8]) -> Self {
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut header, true, kind.opcode(), None, payload.len() as u64);
        let mut frame = Vec::with_capacity(n + payload.len());
        frame.extend_from_slice(&header[..n]);
        frame.extend_from_slice(payload);
        Self {
            kind,
            frame: Arc::new(frame),
            header: n,
            #[cfg(feature = "deflate")]
            compressed: None,
        }
    }

    /// Also compresses the message once for permessage-deflate, with a
    /// fresh stream of `window_bits` (9–15; clamped) at `level` (0–9), so
    /// connections that agreed no server context takeover and a window of
    /// at least `window_bits` send the compressed frame (or, if compressing
    /// does not make it smaller, the plain one).
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn compressed(mut self, window_bits: u8, level: u8) -> Self {
        let bits = window_bits.clamp(9, 15);
        let mut deflater = crate::extension::codec::Deflater::new(bits, level.min(9), 8, true);
        deflater.compress(self.payload(), true);
        let body = deflater.compressed();
        let frame = (body.len() < self.payload().len()).then(|| {
            let mut header = [0u8; MAX_HEADER_LEN];
            let n = encode_header(
                &mut header,
                true,
                self.kind.opcode(),
                None,
                body.len() as u64,
            );
            header[0] |= 0x40;
            let mut frame = Vec::with_capacity(n + body.len());
            frame.extend_from_slice(&header[..n]);
            frame.extend_from_slice(body);
            Arc::new(frame)
        });
        self.compressed = Some((bits, frame));
        self
    }

    /// Text or binary.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The payload.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        &self.frame[self.header..]
    }

    /// The uncompressed server frame.
    pub(crate) fn frame(&self) -> &SharedFrame {
        &self.frame
    }

    /// The window the message was compressed for and, if that made it
    /// smaller than the payload, the compressed frame.
    #[cfg(feature = "deflate")]
    pub(crate) fn compressed_frame(&self) -> Option<(u8, Option<&SharedFrame>)> {
        self.compressed
            .as_ref()
            .map(|(bits, f)| (*bits, f.as_ref()))
    }
}

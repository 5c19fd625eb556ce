//! The `Sec-WebSocket-Accept` value (RFC 6455 §1.3, §4.2.2 item 5.4):
//! base64(SHA-1(key ++ GUID)).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The GUID appended to the client's key before hashing (§1.3).
pub(crate) const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A computed `Sec-WebSocket-Accept` value: 28 bytes of base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptKey([u8; 28]);

impl AcceptKey {
    /// Derives the accept value from the `Sec-WebSocket-Key` header value
    /// exactly as sent (the base64 text, not its decoded bytes).
    #[must_use]
    pub fn from_key(key: &[u8]) -> Self {
        let mut sha = sha1_smol::Sha1::new();
        sha.update(key);
        sha.update(GUID.as_bytes());
        let digest = sha.digest().bytes();
        let mut out = [0u8; 28];
        let n = STANDARD.encode_slice(digest, &mut out).unwrap_or_default();
        debug_assert_eq!(n, 28);
        Self(out)
    }

    /// The value as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Base64 output is ASCII.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The value as bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_section_1_3_vector() {
        let accept = AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(accept.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn guid_is_the_full_rfc_value() {
        assert_eq!(GUID.len(), 36);
        assert_eq!(GUID, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    }
}

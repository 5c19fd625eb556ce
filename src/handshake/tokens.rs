//! HTTP header token lists (RFC 7230 §7 `#rule`, used by RFC 6455 §4).
//!
//! `Connection: keep-alive, Upgrade` and `Sec-WebSocket-Protocol: a, b` are
//! comma-separated lists; tokens compare case-insensitively where the RFC says
//! so (Upgrade, Connection) and exactly elsewhere (subprotocols). Every
//! function here is a single linear pass.

/// Iterates over the non-empty, whitespace-trimmed items of a comma-separated list.
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|item| !item.is_empty())
}

/// Whether the comma-separated `value` contains `token`, ignoring ASCII case.
#[must_use]
pub(crate) fn has_token_ignore_case(value: &[u8], token: &str) -> bool {
    list_items(value).any(|item| item.eq_ignore_ascii_case(token.as_bytes()))
}

/// Trims HTTP optional whitespace (spaces and tabs) from both ends.
#[must_use]
pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Whether `name` is an HTTP token (RFC 7230 §3.2.6) and so a valid header name.
#[must_use]
pub(crate) fn is_token(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` may be sent as a header value: no CR, LF or other control
/// bytes except horizontal tab.
#[must_use]
pub(crate) fn is_header_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn tokens_are_case_insensitive_and_trimmed() {
        assert!(has_token_ignore_case(b"keep-alive, Upgrade", "upgrade"));
        assert!(has_token_ignore_case(b"UPGRADE", "upgrade"));
        assert!(has_token_ignore_case(b" websocket\t", "websocket"));
        assert!(!has_token_ignore_case(b"upgrades", "upgrade"));
        assert!(!has_token_ignore_case(b"", "upgrade"));
    }

    #[test]
    fn list_items_skip_empty_entries() {
        let items: Vec<&[u8]> = list_items(b" chat ,, superchat,").collect();
        assert_eq!(items, [&b"chat"[..], b"superchat"]);
    }

    #[test]
    fn header_names_and_values() {
        assert!(is_token(b"X-Custom"));
        assert!(!is_token(b"Bad Name"));
        assert!(!is_token(b""));
        assert!(is_header_value(b"a\tb c"));
        assert!(!is_header_value(b"a\r\nInjected: 1"));
    }
}

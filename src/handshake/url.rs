//! `ws://` and `wss://` URLs (RFC 6455 §3): the parts a client needs to open
//! a TCP (or TLS) connection and write its request.
//!
//! The engine does no I/O, so connecting is the caller's job; [`WsUrl`] only
//! splits the URL into host, port and request target.

/// A parsed WebSocket URL.
///
/// ```
/// let url = hybi::WsUrl::parse("ws://example.com:8080/chat?room=1").unwrap();
/// assert_eq!((url.host, url.port, url.target), ("example.com", 8080, "/chat?room=1"));
/// assert_eq!(url.host_header(), "example.com:8080");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsUrl<'a> {
    /// `true` for `wss://` (TLS is the caller's job).
    pub secure: bool,
    /// Host name or address, without brackets for IPv6.
    pub host: &'a str,
    /// Port: explicit, or 80 for `ws` and 443 for `wss`.
    pub port: u16,
    /// Path and query, at least `/`; the fragment is dropped (§3).
    pub target: &'a str,
    authority: &'a str,
    explicit_port: bool,
}

impl<'a> WsUrl<'a> {
    /// Parses `ws://host[:port][/path][?query]` or the `wss` form; `None`
    /// for any other scheme or a malformed authority.
    #[must_use]
    pub fn parse(url: &'a str) -> Option<Self> {
        let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "ws://") {
            (false, rest)
        } else {
            (true, strip_prefix_ignore_case(url, "wss://")?)
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        let target = match target {
            "" => "/",
            t if t.starts_with('?') => return None,
            t => t,
        };
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let default_port = if secure { 443 } else { 80 };
        let port_number = match port {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        if host.is_empty() || target.contains(' ') {
            return None;
        }
        Some(Self {
            secure,
            host,
            port: port_number,
            target,
            authority,
            explicit_port: port.is_some(),
        })
    }

    /// The Host header value: the authority as written (§4.1 item 4).
    #[must_use]
    pub fn host_header(&self) -> &'a str {
        self.authority
    }

    /// Whether the URL named a port.
    #[must_use]
    pub fn has_explicit_port(&self) -> bool {
        self.explicit_port
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_shapes() {
        let u = WsUrl::parse("ws://127.0.0.1:9001").unwrap();
        assert_eq!(
            (u.host, u.port, u.target, u.secure),
            ("127.0.0.1", 9001, "/", false)
        );
        let u = WsUrl::parse("WSS://example.com/a?b#frag").unwrap();
        assert_eq!(
            (u.host, u.port, u.target, u.secure),
            ("example.com", 443, "/a?b", true)
        );
        assert_eq!(u.host_header(), "example.com");
        let u = WsUrl::parse("ws://[::1]:80/x").unwrap();
        assert_eq!((u.host, u.port, u.host_header()), ("::1", 80, "[::1]:80"));
    }

    #[test]
    fn rejects_what_is_not_a_websocket_url() {
        for bad in [
            "http://a/",
            "ws://",
            "ws://:80/",
            "ws://a:notaport/",
            "ws://u@a/",
            "ws://a?q",
        ] {
            assert_eq!(WsUrl::parse(bad), None, "{bad}");
        }
    }
}

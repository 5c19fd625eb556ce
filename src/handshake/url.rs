//! `ws://` and `wss://` URLs (RFC 6455 §3): the parts a client needs to open
//! a TCP (or TLS) connection and write its request.
//!
//! The engine does no I/O, so connecting is the caller's job; [`WsUrl`] only
//! splits the URL into host, port and request target.

/// A parsed WebSocket URL.
///
/// ```
/// let url = hybi::WsUrl::parse("ws://example.com:8080/chat?room=1").unwrap();
/// assert_eq!((url.host(), url.port(), &*url.target()), ("example.com", 8080, "/chat?room=1"));
/// assert_eq!(url.host_header(), "example.com:8080");
/// assert_eq!(&*hybi::WsUrl::parse("ws://example.com?room=1").unwrap().target(), "/?room=1");
/// assert_eq!(
///     hybi::WsUrl::parse("http://example.com/").unwrap_err(),
///     hybi::UrlError::UnsupportedScheme
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsUrl<'a> {
    secure: bool,
    host: &'a str,
    port: u16,
    /// Path and query as written (may be empty or start with `?`).
    target: &'a str,
    authority: &'a str,
    explicit_port: bool,
}

/// Why a string is not a WebSocket URL (RFC 6455 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws` or `wss`.
    UnsupportedScheme,
    /// No host after `ws://` (or an empty one before `:port`).
    MissingHost,
    /// User information (`user@`) is not allowed in a WebSocket URL.
    UserInfo,
    /// The port is not a number from 0 to 65535.
    InvalidPort,
    /// An IPv6 address without its closing `]`.
    InvalidIpv6,
    /// Spaces or control characters in the path or query.
    InvalidCharacter,
}

impl core::fmt::Display for UrlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::UnsupportedScheme => "the scheme must be ws:// or wss:// (RFC 6455 §3)",
            Self::MissingHost => "the URL has no host (RFC 6455 §3)",
            Self::UserInfo => "user information (user@) is not allowed (RFC 6455 §3)",
            Self::InvalidPort => "the port is not a number from 0 to 65535 (RFC 3986 §3.2.3)",
            Self::InvalidIpv6 => "an IPv6 host needs its closing ] (RFC 3986 §3.2.2)",
            Self::InvalidCharacter => {
                "spaces and control characters are not allowed in the path or query (RFC 3986 §3.3)"
            }
        })
    }
}

impl core::error::Error for UrlError {}

impl<'a> WsUrl<'a> {
    /// Parses `ws://host[:port][/path][?query]` or the `wss` form. A
    /// fragment (`#...`) is dropped (§3).
    ///
    /// # Errors
    /// The [`UrlError`] naming what is wrong.
    pub fn parse(url: &'a str) -> Result<Self, UrlError> {
        let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "ws://") {
            (false, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "wss://") {
            (true, rest)
        } else {
            return Err(UrlError::UnsupportedScheme);
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or(UrlError::InvalidIpv6)?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        let port_number = match port {
            Some(p) => p.parse().map_err(|_| UrlError::InvalidPort)?,
            None if secure => 443,
            None => 80,
        };
        if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::InvalidCharacter);
        }
        Ok(Self {
            secure,
            host,
            port: port_number,
            target,
            authority,
            explicit_port: port.is_some(),
        })
    }

    /// `true` for `wss://` (TLS is the caller's job).
    #[must_use]
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Host name or address, without brackets for IPv6.
    #[must_use]
    pub fn host(&self) -> &'a str {
        self.host
    }

    /// Port: explicit, or 80 for `ws` and 443 for `wss`.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target (§3's resource name): the path, `/` if empty,
    /// and `?query` if there is one. Borrowed unless a query follows an
    /// empty path (`ws://host?q` gives `/?q`).
    #[must_use]
    pub fn target(&self) -> alloc::borrow::Cow<'a, str> {
        if self.target.is_empty() {
            "/".into()
        } else if self.target.starts_with('?') {
            alloc::format!("/{}", self.target).into()
        } else {
            self.target.into()
        }
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
            (u.host(), u.port(), &*u.target(), u.secure()),
            ("127.0.0.1", 9001, "/", false)
        );
        let u = WsUrl::parse("WSS://example.com/a?b#frag").unwrap();
        assert_eq!(
            (u.host(), u.port(), &*u.target(), u.secure()),
            ("example.com", 443, "/a?b", true)
        );
        assert_eq!(u.host_header(), "example.com");
        let u = WsUrl::parse("ws://[::1]:80/x").unwrap();
        assert_eq!(
            (u.host(), u.port(), u.host_header()),
            ("::1", 80, "[::1]:80")
        );
        let u = WsUrl::parse("ws://a?q=1").unwrap();
        assert_eq!((u.host(), &*u.target()), ("a", "/?q=1"));
    }

    #[test]
    fn says_why_a_url_is_refused() {
        for (bad, why) in [
            ("http://a/", UrlError::UnsupportedScheme),
            ("ws:/a", UrlError::UnsupportedScheme),
            ("ws://", UrlError::MissingHost),
            ("ws://:80/", UrlError::MissingHost),
            ("ws://a:notaport/", UrlError::InvalidPort),
            ("ws://a:65536/", UrlError::InvalidPort),
            ("ws://u@a/", UrlError::UserInfo),
            ("ws://[::1/", UrlError::InvalidIpv6),
            ("ws://a/b c", UrlError::InvalidCharacter),
            ("ws://a/b\tc", UrlError::InvalidCharacter),
        ] {
            assert_eq!(WsUrl::parse(bad), Err(why), "{bad}");
        }
    }
}

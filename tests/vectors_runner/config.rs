//! A case's configuration: the requests and answers connections are opened
//! with, the `config:` keys (permessage-deflate's among them) and the policy
//! they build.

use crate::prelude::*;

/// The request a server is opened with for `start: open` (RFC 6455 §1.2).
pub(crate) const OPEN_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The line added to [`OPEN_REQUEST`], before `Sec-WebSocket-Version`, when
/// a server with a permessage-deflate policy is opened (a browser's offer).
pub(crate) const OPEN_DEFLATE_OFFER: &str =
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// The vector file whose cases all need the `deflate` feature.
pub(crate) const DEFLATE_FILE: &str = "deflate.vectors";

/// Without the `deflate` feature there is no policy to build: cases that set
/// one are parsed (so their syntax is still checked) and skipped.
#[cfg(not(feature = "deflate"))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DeflateConfig;

/// Host and target of every client's request.
pub(crate) const CLIENT_HOST: &str = "server.example.com";
pub(crate) const CLIENT_TARGET: &str = "/chat";

/// Largest random piece for each of the four seeded random splits.
pub(crate) const RANDOM_MAX_PIECE: [u64; 4] = [4, 16, 64, 256];

pub(crate) fn apply_config(config: Config, name: &str, value: &str) -> Result<Config, String> {
    let n = || {
        value
            .parse::<usize>()
            .map_err(|_| format!("bad number `{value}`"))
    };
    // A timer in milliseconds; 0 turns it off.
    let ms = || {
        value
            .parse::<u64>()
            .map(|ms| (ms > 0).then(|| Duration::from_millis(ms)))
            .map_err(|_| format!("bad number of milliseconds `{value}`"))
    };
    Ok(match name {
        "max_frame_size" => config.max_frame_size(n()?),
        "max_message_size" => config.max_message_size(n()?),
        "max_fragments" => config.max_fragments(n()?),
        "chunk_threshold" => config.chunk_threshold(n()?),
        "max_handshake_bytes" => config.max_handshake_bytes(n()?),
        "max_headers" => config.max_headers(n()?),
        "read_buf_size" => config.read_buf_size(n()?),
        "buffer_high_water" => config.buffer_high_water(n()?),
        "keepalive_interval_ms" => config.keepalive_interval(ms()?),
        "pong_timeout_ms" => config.pong_timeout(ms()?),
        "close_timeout_ms" => config.close_timeout(ms()?),
        "handshake_timeout_ms" => config.handshake_timeout(ms()?),
        "auto_pong" => config.auto_pong(match value {
            "true" => true,
            "false" => false,
            _ => return Err("auto_pong is `true` or `false`".into()),
        }),
        _ => return Err(format!("unknown config `{name}`")),
    })
}

/// One `deflate*` config key, read the same way with or without the feature.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "deflate"), allow(dead_code))]
pub(crate) enum DeflateSetting {
    On,
    OwnWindowBits(u8),
    PeerWindowBits(u8),
    OwnNoContextTakeover(bool),
    PeerNoContextTakeover(bool),
    Threshold(u32),
}

impl DeflateSetting {
    pub(crate) fn parse(name: &str, value: &str) -> Result<Self, String> {
        let flag = || match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{name} is `true` or `false`")),
        };
        let bits = || {
            value
                .parse::<u8>()
                .ok()
                .filter(|b| (9..=15).contains(b))
                .ok_or_else(|| format!("{name} is 9 to 15, got `{value}`"))
        };
        Ok(match name {
            "deflate" if value == "yes" => Self::On,
            "deflate" => return Err("`config: deflate` takes `yes`".into()),
            "deflate-own-window-bits" => Self::OwnWindowBits(bits()?),
            "deflate-peer-window-bits" => Self::PeerWindowBits(bits()?),
            "deflate-own-no-context-takeover" => Self::OwnNoContextTakeover(flag()?),
            "deflate-peer-no-context-takeover" => Self::PeerNoContextTakeover(flag()?),
            "deflate-threshold" => Self::Threshold(parse_num(value)?),
            _ => return Err(format!("unknown config `{name}`")),
        })
    }
}

/// Applies one `deflate*` key onto the case's policy.
#[cfg(feature = "deflate")]
pub(crate) fn apply_deflate(
    policy: DeflateConfig,
    name: &str,
    value: &str,
) -> Result<DeflateConfig, String> {
    Ok(match DeflateSetting::parse(name, value)? {
        DeflateSetting::On => policy,
        DeflateSetting::OwnWindowBits(b) => policy.own_window_bits(b),
        DeflateSetting::PeerWindowBits(b) => policy.peer_window_bits(b),
        DeflateSetting::OwnNoContextTakeover(on) => policy.own_no_context_takeover(on),
        DeflateSetting::PeerNoContextTakeover(on) => policy.peer_no_context_takeover(on),
        DeflateSetting::Threshold(n) => policy.threshold(n),
    })
}

/// Checks one `deflate*` key; without the feature there is nothing to apply.
#[cfg(not(feature = "deflate"))]
pub(crate) fn apply_deflate(
    policy: DeflateConfig,
    name: &str,
    value: &str,
) -> Result<DeflateConfig, String> {
    DeflateSetting::parse(name, value).map(|_| policy)
}

/// The case's `Config`, with its permessage-deflate policy if it has one.
pub(crate) fn case_config(case: &Case) -> Config {
    #[cfg(feature = "deflate")]
    if let Some(policy) = case.deflate {
        return case.config.deflate(policy);
    }
    case.config
}

/// The `Sec-WebSocket-Extensions` line of the 101 a client with `policy` is
/// opened with (`start: open`): an answer valid for the policy's offer.
#[cfg(feature = "deflate")]
pub(crate) fn open_deflate_answer(policy: &DeflateConfig) -> String {
    let mut line = String::from("Sec-WebSocket-Extensions: permessage-deflate");
    if policy.get_peer_no_context_takeover() {
        line.push_str("; server_no_context_takeover");
    }
    if policy.get_peer_window_bits() < 15 {
        let _ = write!(
            line,
            "; server_max_window_bits={}",
            policy.get_peer_window_bits()
        );
    }
    line
}

/// Never called: cases with a policy are skipped without the feature.
#[cfg(not(feature = "deflate"))]
pub(crate) fn open_deflate_answer(_: &DeflateConfig) -> String {
    unreachable!("deflate cases are skipped without the `deflate` feature")
}

/// [`OPEN_REQUEST`] with [`OPEN_DEFLATE_OFFER`] added before its
/// `Sec-WebSocket-Version` line.
pub(crate) fn open_request_with_offer() -> Vec<u8> {
    let request = std::str::from_utf8(OPEN_REQUEST).expect("ASCII");
    let at = request
        .find("Sec-WebSocket-Version:")
        .expect("the open request has a version line");
    let mut out = String::from(&request[..at]);
    out.push_str(OPEN_DEFLATE_OFFER);
    out.push_str(&request[at..]);
    out.into_bytes()
}

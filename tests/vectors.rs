//! The language-neutral test vectors in `tests/vectors/*.vectors` (format
//! and procedure in `tests/vectors/README.md`).
//!
//! Every case is run on a fresh connection whole, byte by byte, at four
//! seeded random split points and at the split points it lists. All runs must
//! give the same transcript (events, error, output, state, `close_expected`),
//! and that transcript must equal the one the case expects. A client's output
//! is compared with its masks removed, since its masking keys are random.
//! Failures of all cases are collected and reported together.
//!
//! A case with `time:` or `poll-timeout:` lines (the timers, `timers.vectors`)
//! runs its actions, input, `handle_timeout` and `poll_timeout` calls in file
//! order; its split points fall only inside each run of input between two
//! such steps.
//!
//! Cases about permessage-deflate (RFC 7692: the file `deflate.vectors`, or
//! any case with a `deflate*` config key) need the `deflate` feature; built
//! without it, the runner parses them and skips them with a note.

mod common;

use common::random_cuts;
use std::fmt::{self, Write as _};
use std::path::Path;
use std::time::Duration;

use hybi::{
    Accept, AcceptKey, ClientRequest, CloseCode, Config, Connection, Error, Event, MessageKind,
    Reject, Role, SeededRandom, State, Time,
};

/// The request a server is opened with for `start: open` (RFC 6455 §1.2).
const OPEN_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The line added to [`OPEN_REQUEST`], before `Sec-WebSocket-Version`, when
/// a server with a permessage-deflate policy is opened (a browser's offer).
const OPEN_DEFLATE_OFFER: &str =
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// The vector file whose cases all need the `deflate` feature.
const DEFLATE_FILE: &str = "deflate.vectors";

// The permessage-deflate policy of a case (the `deflate*` config keys).
#[cfg(feature = "deflate")]
use hybi::DeflateConfig;

/// Without the `deflate` feature there is no policy to build: cases that set
/// one are parsed (so their syntax is still checked) and skipped.
#[cfg(not(feature = "deflate"))]
#[derive(Clone, Copy, Debug, Default)]
struct DeflateConfig;

/// Host and target of every client's request.
const CLIENT_HOST: &str = "server.example.com";
const CLIENT_TARGET: &str = "/chat";

/// Largest random piece for each of the four seeded random splits.
const RANDOM_MAX_PIECE: [u64; 4] = [4, 16, 64, 256];

// ----- the vector model ------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// The handshake is done before the input is fed.
    Open,
    /// The input starts with the handshake.
    Handshake,
}

/// An event, owned, in the shape the vector files write it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Request {
        target: String,
        protocols: Vec<String>,
    },
    Response {
        status: u16,
        protocol: Option<String>,
    },
    Rejected {
        status: u16,
        body: Vec<u8>,
    },
    Text(Vec<u8>),
    Binary(Vec<u8>),
    TextChunk(bool, Vec<u8>),
    BinaryChunk(bool, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, Vec<u8>),
    /// An event this runner does not know.
    Other(&'static str),
}

impl Ev {
    fn from_event(event: &Event<'_>) -> Self {
        match event {
            Event::HandshakeRequest(r) => Ev::Request {
                target: r.target().to_string(),
                protocols: r.protocols().map(String::from).collect(),
            },
            Event::HandshakeResponse(r) => Ev::Response {
                status: r.status(),
                protocol: r.protocol().map(String::from),
            },
            Event::HandshakeRejected(r) => Ev::Rejected {
                status: r.status(),
                body: r.body().to_vec(),
            },
            Event::Text(t) => Ev::Text(t.as_bytes().to_vec()),
            Event::Binary(b) => Ev::Binary(b.to_vec()),
            Event::TextChunk { data, last } => Ev::TextChunk(*last, data.as_bytes().to_vec()),
            Event::BinaryChunk { data, last } => Ev::BinaryChunk(*last, data.to_vec()),
            Event::Ping(p) => Ev::Ping(p.to_vec()),
            Event::Pong(p) => Ev::Pong(p.to_vec()),
            Event::Close(c) => Ev::Close(c.code.0, c.reason.as_bytes().to_vec()),
            other => Ev::Other(other.name()),
        }
    }

    /// Parses the value of an `event:` line.
    fn parse(tokens: &[&str]) -> Result<Self, String> {
        let (&kind, rest) = tokens.split_first().ok_or("empty event")?;
        let last_flag = |t: Option<&&str>| match t {
            Some(&"last") => Ok(true),
            Some(&"more") => Ok(false),
            _ => Err(format!("{kind} needs `more` or `last`")),
        };
        Ok(match kind {
            "request" => {
                let (target, protocols) = rest.split_first().ok_or("request needs a target")?;
                Ev::Request {
                    target: (*target).to_string(),
                    protocols: protocols.iter().map(|p| (*p).to_string()).collect(),
                }
            }
            "response" => match rest {
                [status] => Ev::Response {
                    status: parse_num(status)?,
                    protocol: None,
                },
                [status, protocol] => Ev::Response {
                    status: parse_num(status)?,
                    protocol: Some((*protocol).to_string()),
                },
                _ => return Err("response needs a status and at most one protocol".into()),
            },
            "rejected" => {
                let (status, body) = rest.split_first().ok_or("rejected needs a status")?;
                Ev::Rejected {
                    status: parse_num(status)?,
                    body: parse_hex(body)?,
                }
            }
            "text" => Ev::Text(parse_hex(rest)?),
            "binary" => Ev::Binary(parse_hex(rest)?),
            "text-chunk" => Ev::TextChunk(last_flag(rest.first())?, parse_hex(&rest[1..])?),
            "binary-chunk" => Ev::BinaryChunk(last_flag(rest.first())?, parse_hex(&rest[1..])?),
            "ping" => Ev::Ping(parse_hex(rest)?),
            "pong" => Ev::Pong(parse_hex(rest)?),
            "close" => {
                let (code, reason) = rest.split_first().ok_or("close needs a code")?;
                Ev::Close(parse_num(code)?, parse_hex(reason)?)
            }
            _ => return Err(format!("unknown event `{kind}`")),
        })
    }
}

impl fmt::Display for Ev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |last: bool| if last { "last" } else { "more" };
        match self {
            Ev::Request { target, protocols } => {
                write!(f, "request {target}")?;
                protocols.iter().try_for_each(|p| write!(f, " {p}"))
            }
            Ev::Response { status, protocol } => {
                write!(f, "response {status}")?;
                protocol.iter().try_for_each(|p| write!(f, " {p}"))
            }
            Ev::Rejected { status, body } => write!(f, "rejected {status} {}", Hex(body)),
            Ev::Text(d) => write!(f, "text {}", Hex(d)),
            Ev::Binary(d) => write!(f, "binary {}", Hex(d)),
            Ev::TextChunk(last, d) => write!(f, "text-chunk {} {}", flag(*last), Hex(d)),
            Ev::BinaryChunk(last, d) => write!(f, "binary-chunk {} {}", flag(*last), Hex(d)),
            Ev::Ping(d) => write!(f, "ping {}", Hex(d)),
            Ev::Pong(d) => write!(f, "pong {}", Hex(d)),
            Ev::Close(code, reason) => write!(f, "close {code} {}", Hex(reason)),
            Ev::Other(name) => write!(f, "<unknown event {name}>"),
        }
    }
}

/// Bytes as hex for messages, shortened when long.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.0[..self.0.len().min(48)];
        for b in shown {
            write!(f, "{b:02x}")?;
        }
        if shown.len() < self.0.len() {
            write!(f, "…({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// An error as a vector writes it: kind, variant, close code or HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ErrorSpec {
    kind: &'static str,
    variant: String,
    code: Option<u16>,
}

impl ErrorSpec {
    fn of(error: &Error) -> Self {
        match error {
            Error::Protocol(e) => Self {
                kind: "protocol",
                variant: format!("{e:?}"),
                code: Some(e.close_code().0),
            },
            Error::Handshake(e) => Self {
                kind: "handshake",
                variant: format!("{e:?}"),
                code: e.status(),
            },
            Error::Usage(e) => Self {
                kind: "usage",
                variant: format!("{e:?}"),
                code: None,
            },
            Error::PongTimeout => Self {
                kind: "pong-timeout",
                variant: String::new(),
                code: error.close_code().map(|c| c.0),
            },
            other => Self {
                kind: "unknown",
                variant: format!("{other:?}"),
                code: None,
            },
        }
    }

    /// Parses the value of an `error:` line; `None` for `none`.
    fn parse(tokens: &[&str]) -> Result<Option<Self>, String> {
        match tokens {
            ["none"] => Ok(None),
            [kind @ ("protocol" | "handshake"), variant, code] => Ok(Some(Self {
                kind: if *kind == "protocol" {
                    "protocol"
                } else {
                    "handshake"
                },
                variant: (*variant).to_string(),
                code: if *code == "-" {
                    None
                } else {
                    Some(parse_num(code)?)
                },
            })),
            ["pong-timeout", code] => Ok(Some(Self {
                kind: "pong-timeout",
                variant: String::new(),
                code: Some(parse_num(code)?),
            })),
            _ => Err(
                "expected `none`, `protocol|handshake <Variant> <code|status|->` \
                      or `pong-timeout <code>`"
                    .into(),
            ),
        }
    }
}

impl fmt::Display for ErrorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind)?;
        if !self.variant.is_empty() {
            write!(f, " {}", self.variant)?;
        }
        f.write_str(" ")?;
        match self.code {
            Some(code) => write!(f, "{code}"),
            None => f.write_str("-"),
        }
    }
}

/// A command: run after the start, before any input, or, in a case with
/// steps, where its line stands.
#[derive(Clone, Debug)]
enum Action {
    SendText(Vec<u8>),
    SendBinary(Vec<u8>),
    SendPing(Vec<u8>),
    SendPong(Vec<u8>),
    SendFragment(MessageKind, bool, Vec<u8>),
    Close(u16, Vec<u8>),
}

#[derive(Clone, Debug)]
struct ActionSpec {
    action: Action,
    /// The `UsageError` variant the call must fail with; `None`: it must succeed.
    fails_with: Option<String>,
}

impl ActionSpec {
    fn parse(tokens: &[&str]) -> Result<Self, String> {
        let (tokens, fails_with) = match tokens {
            [head @ .., "=>", variant] => (head, Some((*variant).to_string())),
            _ => (tokens, None),
        };
        let (&verb, rest) = tokens.split_first().ok_or("empty action")?;
        let action = match verb {
            "send-text" => Action::SendText(parse_hex(rest)?),
            "send-binary" => Action::SendBinary(parse_hex(rest)?),
            "send-ping" => Action::SendPing(parse_hex(rest)?),
            "send-pong" => Action::SendPong(parse_hex(rest)?),
            "send-fragment" => {
                let [kind, flag, data @ ..] = rest else {
                    return Err("send-fragment needs text|binary and more|last".into());
                };
                let kind = match *kind {
                    "text" => MessageKind::Text,
                    "binary" => MessageKind::Binary,
                    _ => return Err("send-fragment needs text|binary".into()),
                };
                let last = match *flag {
                    "last" => true,
                    "more" => false,
                    _ => return Err("send-fragment needs more|last".into()),
                };
                Action::SendFragment(kind, last, parse_hex(data)?)
            }
            "close" => {
                let (code, reason) = rest.split_first().ok_or("close needs a code")?;
                Action::Close(parse_num(code)?, parse_hex(reason)?)
            }
            _ => return Err(format!("unknown action `{verb}`")),
        };
        Ok(Self { action, fails_with })
    }

    fn apply(&self, conn: &mut Connection) -> Result<(), String> {
        let text = |d: &[u8]| {
            String::from_utf8(d.to_vec()).map_err(|_| "action text is not UTF-8".to_string())
        };
        let result = match &self.action {
            Action::SendText(d) => conn.send_text(&text(d)?),
            Action::SendBinary(d) => conn.send_binary(d),
            Action::SendPing(d) => conn.send_ping(d),
            Action::SendPong(d) => conn.send_pong(d),
            Action::SendFragment(kind, last, d) => conn.send_fragment(*kind, d, *last),
            Action::Close(code, reason) => conn.close(CloseCode(*code), &text(reason)?),
        };
        // Sends can only fail with a usage error (the type says so).
        let got = result.err().map(|e| format!("{e:?}"));
        if got == self.fails_with {
            Ok(())
        } else {
            Err(format!(
                "action {:?}: expected {}, got {}",
                self.action,
                self.fails_with.as_deref().unwrap_or("success"),
                got.as_deref().unwrap_or("success")
            ))
        }
    }
}

/// One thing done to the connection. A case's steps are kept in file order;
/// [`plan`] puts them in the order they run.
#[derive(Clone, Debug)]
enum Step {
    /// `action:`.
    Action(ActionSpec),
    /// `input:` / `input-text:` bytes; once planned, a run of bytes fed
    /// between two other steps (the built 101 included).
    Input(Vec<u8>),
    /// `response: accept`: where the built 101 is fed, in a case with steps.
    Response,
    /// `time: MS`: `handle_timeout(Time::from_millis(MS))`.
    Time(u64),
    /// `poll-timeout:`: record `poll_timeout()` (the expected values are in
    /// [`Case::polls`], in order).
    Poll,
}

/// One test case.
#[derive(Clone, Debug)]
struct Case {
    /// `file:line` of its `case:` line.
    origin: String,
    name: String,
    role: Option<Role>,
    start: Option<Start>,
    config: Config,
    /// The permessage-deflate policy (`config: deflate*` keys), if any.
    deflate: Option<DeflateConfig>,
    /// The case needs the `deflate` feature (its file is `deflate.vectors`,
    /// or it sets a policy).
    needs_deflate: bool,
    offer_protocols: Vec<String>,
    accept_protocol: Option<String>,
    reject: Option<(u16, Vec<u8>)>,
    response: bool,
    response_omit: Vec<String>,
    response_headers: Vec<String>,
    /// Server: leave the request unanswered (`answer: none`).
    unanswered: bool,
    /// Actions, input, the 101's place, time and poll steps, in file order.
    steps: Vec<Step>,
    /// The case has `time:` or `poll-timeout:` lines: its steps run in file
    /// order (otherwise all actions run first, then all input is fed).
    stepped: bool,
    /// The expected `poll_timeout()` of each `poll-timeout:` line, in
    /// milliseconds since the origin (`None`: no deadline).
    polls: Vec<Option<u128>>,
    splits: Vec<usize>,
    eof: Option<bool>,
    events: Vec<Ev>,
    error: Option<Option<ErrorSpec>>,
    output: Vec<u8>,
    output_status: Option<u16>,
    output_headers: Vec<(String, String)>,
    output_headers_absent: Vec<String>,
    state: Option<State>,
    close_expected: Option<bool>,
}

impl Case {
    fn new(origin: String, name: String, needs_deflate: bool) -> Self {
        Self {
            origin,
            name,
            role: None,
            start: None,
            config: Config::new(),
            deflate: None,
            needs_deflate,
            offer_protocols: Vec::new(),
            accept_protocol: None,
            reject: None,
            response: false,
            response_omit: Vec::new(),
            response_headers: Vec::new(),
            unanswered: false,
            steps: Vec::new(),
            stepped: false,
            polls: Vec::new(),
            splits: Vec::new(),
            eof: None,
            events: Vec::new(),
            error: None,
            output: Vec::new(),
            output_status: None,
            output_headers: Vec::new(),
            output_headers_absent: Vec::new(),
            state: None,
            close_expected: None,
        }
    }

    fn role(&self) -> Role {
        self.role.expect("checked when parsed")
    }

    fn start(&self) -> Start {
        self.start.expect("checked when parsed")
    }

    /// Applies one `key: value` line.
    fn set(&mut self, key: &str, raw: &str) -> Result<(), String> {
        let tokens: Vec<&str> = raw.split_whitespace().collect();
        let single = || match tokens.as_slice() {
            [one] => Ok(*one),
            _ => Err(format!("`{key}` takes one value")),
        };
        match key {
            "role" => {
                self.role = Some(match single()? {
                    "server" => Role::Server,
                    "client" => Role::Client,
                    other => return Err(format!("unknown role `{other}`")),
                });
            }
            "start" => {
                self.start = Some(match single()? {
                    "open" => Start::Open,
                    "handshake" => Start::Handshake,
                    other => return Err(format!("unknown start `{other}`")),
                });
            }
            "config" => {
                let [name, value] = tokens.as_slice() else {
                    return Err("config takes a name and a value".into());
                };
                if *name == "deflate" || name.starts_with("deflate-") {
                    let policy = self.deflate.unwrap_or_default();
                    self.deflate = Some(apply_deflate(policy, name, value)?);
                    self.needs_deflate = true;
                } else {
                    self.config = apply_config(self.config, name, value)?;
                }
            }
            "offer-protocols" => {
                self.offer_protocols
                    .extend(tokens.iter().map(|t| (*t).to_string()));
            }
            "accept-protocol" => self.accept_protocol = Some(single()?.to_string()),
            "reject" => {
                let (status, body) = tokens.split_first().ok_or("reject needs a status")?;
                self.reject = Some((parse_num(status)?, parse_hex(body)?));
            }
            "response" => {
                if single()? != "accept" {
                    return Err("the only response is `accept`".into());
                }
                self.response = true;
                self.steps.push(Step::Response);
            }
            "response-omit" => self.response_omit.push(single()?.to_string()),
            "response-header" => {
                let line = String::from_utf8(unescape(raw_value(raw))?)
                    .map_err(|_| "response-header is not UTF-8")?;
                self.response_headers.push(line);
            }
            "answer" => {
                if single()? != "none" {
                    return Err("the only answer is `none`".into());
                }
                self.unanswered = true;
            }
            "action" => self.steps.push(Step::Action(ActionSpec::parse(&tokens)?)),
            "input" => self.steps.push(Step::Input(parse_hex(&tokens)?)),
            "input-text" => self.steps.push(Step::Input(unescape(raw_value(raw))?)),
            "time" => {
                self.steps.push(Step::Time(parse_num(single()?)?));
                self.stepped = true;
            }
            "poll-timeout" => {
                self.polls.push(match single()? {
                    "none" => None,
                    ms => Some(parse_num(ms)?),
                });
                self.steps.push(Step::Poll);
                self.stepped = true;
            }
            "split" => {
                for t in &tokens {
                    self.splits.push(parse_num(t)?);
                }
            }
            "eof" => {
                self.eof = Some(parse_yes_no(single()?)?);
            }
            "event" => self.events.push(Ev::parse(&tokens)?),
            "error" => self.error = Some(ErrorSpec::parse(&tokens)?),
            "output" => self.output.extend(parse_hex(&tokens)?),
            "output-status" => self.output_status = Some(parse_num(single()?)?),
            "output-header" => {
                let (name, value) = raw
                    .split_once(':')
                    .ok_or("output-header needs `Name: value`")?;
                self.output_headers
                    .push((name.trim().to_string(), value.trim().to_string()));
            }
            "output-header-absent" => self.output_headers_absent.push(single()?.to_string()),
            "state" => self.state = Some(parse_state(single()?)?),
            "close-expected" => self.close_expected = Some(parse_yes_no(single()?)?),
            _ => return Err(format!("unknown key `{key}`")),
        }
        Ok(())
    }

    /// Checks that the required keys are present and the keys fit the role.
    fn validate(&self) -> Result<(), String> {
        let role = self.role.ok_or("missing `role`")?;
        let start = self.start.ok_or("missing `start`")?;
        if self.error.is_none() {
            return Err("missing `error` (write `error: none`)".into());
        }
        if self.state.is_none() {
            return Err("missing `state`".into());
        }
        let client_handshake = role == Role::Client && start == Start::Handshake;
        let has_response_keys = !self.response_omit.is_empty() || !self.response_headers.is_empty();
        if (self.response || has_response_keys) && !client_handshake {
            return Err("`response*` keys are for `role: client` with `start: handshake`".into());
        }
        if has_response_keys && !self.response {
            return Err("`response-omit`/`response-header` need `response: accept`".into());
        }
        let server_keys = self.accept_protocol.is_some()
            || self.reject.is_some()
            || self.unanswered
            || self.output_status.is_some()
            || !self.output_headers.is_empty()
            || !self.output_headers_absent.is_empty();
        if server_keys && role != Role::Server {
            return Err(
                "accept-protocol, reject, answer and output-status/-header are server keys".into(),
            );
        }
        if self.unanswered && (self.reject.is_some() || self.accept_protocol.is_some()) {
            return Err(
                "`answer: none` leaves the request unanswered: no reject or accept-protocol".into(),
            );
        }
        if self.output_status.is_none()
            && (!self.output_headers.is_empty() || !self.output_headers_absent.is_empty())
        {
            return Err("output-header needs output-status".into());
        }
        if !self.offer_protocols.is_empty() && role != Role::Client {
            return Err("offer-protocols is a client key".into());
        }
        Ok(())
    }
}

fn apply_config(config: Config, name: &str, value: &str) -> Result<Config, String> {
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
enum DeflateSetting {
    On,
    OwnWindowBits(u8),
    PeerWindowBits(u8),
    OwnNoContextTakeover(bool),
    PeerNoContextTakeover(bool),
    Threshold(u32),
}

impl DeflateSetting {
    fn parse(name: &str, value: &str) -> Result<Self, String> {
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
fn apply_deflate(policy: DeflateConfig, name: &str, value: &str) -> Result<DeflateConfig, String> {
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
fn apply_deflate(policy: DeflateConfig, name: &str, value: &str) -> Result<DeflateConfig, String> {
    DeflateSetting::parse(name, value).map(|_| policy)
}

/// The case's `Config`, with its permessage-deflate policy if it has one.
fn case_config(case: &Case) -> Config {
    #[cfg(feature = "deflate")]
    if let Some(policy) = case.deflate {
        return case.config.deflate(policy);
    }
    case.config
}

/// The `Sec-WebSocket-Extensions` line of the 101 a client with `policy` is
/// opened with (`start: open`): an answer valid for the policy's offer.
#[cfg(feature = "deflate")]
fn open_deflate_answer(policy: &DeflateConfig) -> String {
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
fn open_deflate_answer(_: &DeflateConfig) -> String {
    unreachable!("deflate cases are skipped without the `deflate` feature")
}

/// [`OPEN_REQUEST`] with [`OPEN_DEFLATE_OFFER`] added before its
/// `Sec-WebSocket-Version` line.
fn open_request_with_offer() -> Vec<u8> {
    let request = std::str::from_utf8(OPEN_REQUEST).expect("ASCII");
    let at = request
        .find("Sec-WebSocket-Version:")
        .expect("the open request has a version line");
    let mut out = String::from(&request[..at]);
    out.push_str(OPEN_DEFLATE_OFFER);
    out.push_str(&request[at..]);
    out.into_bytes()
}

const STATES: [(&str, State); 7] = [
    ("awaiting-request", State::AwaitingRequest),
    ("request-received", State::RequestReceived),
    ("awaiting-response", State::AwaitingResponse),
    ("open", State::Open),
    ("close-sent", State::CloseSent),
    ("closed", State::Closed),
    ("failed", State::Failed),
];

fn parse_state(name: &str) -> Result<State, String> {
    STATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("unknown state `{name}`"))
}

fn state_name(state: State) -> &'static str {
    STATES
        .iter()
        .find(|(_, s)| *s == state)
        .map_or("<unknown>", |(n, _)| *n)
}

fn parse_yes_no(value: &str) -> Result<bool, String> {
    match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("expected `yes` or `no`, got `{value}`")),
    }
}

fn parse_num<T: std::str::FromStr>(token: &str) -> Result<T, String> {
    token.parse().map_err(|_| format!("bad number `{token}`"))
}

/// Hex data: tokens of hex digit pairs, or `repeat <count> <hex>`.
fn parse_hex(tokens: &[&str]) -> Result<Vec<u8>, String> {
    fn token(t: &str) -> Result<Vec<u8>, String> {
        if t.len() % 2 != 0 {
            return Err(format!("odd number of hex digits in `{t}`"));
        }
        (0..t.len())
            .step_by(2)
            .map(|i| {
                t.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| format!("bad hex `{t}`"))
            })
            .collect()
    }
    let mut out = Vec::new();
    let mut rest = tokens;
    while let Some((&first, tail)) = rest.split_first() {
        if first == "repeat" {
            let [count, pattern, tail @ ..] = tail else {
                return Err("`repeat` needs a count and a hex token".into());
            };
            let count: usize = parse_num(count)?;
            let pattern = token(pattern)?;
            for _ in 0..count {
                out.extend_from_slice(&pattern);
            }
            rest = tail;
        } else {
            out.extend(token(first)?);
            rest = tail;
        }
    }
    Ok(out)
}

/// The text of a text-valued key: everything after `key:` and one space.
fn raw_value(raw: &str) -> &str {
    raw.strip_prefix(' ').unwrap_or(raw)
}

/// Text with the escapes `\r`, `\n`, `\t`, `\\` and `\xHH`.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 2)
                    .ok_or_else(|| format!("bad escape `\\x{hex}`"))?;
                out.push(byte);
            }
            other => return Err(format!("unknown escape `\\{}`", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

/// Parses one vector file into cases.
fn parse_file(path: &Path) -> Result<Vec<Case>, String> {
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    let deflate_file = file == DEFLATE_FILE;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: {e}"))?;
    let mut cases: Vec<Case> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{file}:{}", i + 1);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (key, raw) = line
            .split_once(':')
            .ok_or_else(|| format!("{at}: expected `key: value`"))?;
        if key == "case" {
            if let Some(done) = cases.last() {
                done.validate()
                    .map_err(|e| format!("{}: case {}: {e}", done.origin, done.name))?;
            }
            let name = raw.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("{at}: a case name is one word"));
            }
            cases.push(Case::new(at, name.to_string(), deflate_file));
            continue;
        }
        let case = cases
            .last_mut()
            .ok_or_else(|| format!("{at}: `{key}` before the first `case:`"))?;
        case.set(key.trim(), raw)
            .map_err(|e| format!("{at}: {e}"))?;
    }
    if let Some(done) = cases.last() {
        done.validate()
            .map_err(|e| format!("{}: case {}: {e}", done.origin, done.name))?;
    }
    Ok(cases)
}

// ----- running a case ------------------------------------------------------------------

/// A server's HTTP response, as found at the start of its output.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Http {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Everything one run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Transcript {
    events: Vec<Ev>,
    error: Option<Error>,
    /// The server's HTTP response, if its output starts with one.
    http: Option<Http>,
    /// Frames written (after the HTTP response), masks removed for a client.
    frames: Vec<u8>,
    state: State,
    close_expected: bool,
    /// What each `poll-timeout` step saw, in milliseconds since the origin.
    polls: Vec<Option<u128>>,
}

/// The 101 a server sends for `key`, without the standard lines named in
/// `omit` and with `extra` lines (where `{accept}` is the accept value).
fn build_response(key: &[u8], omit: &[String], extra: &[String]) -> Vec<u8> {
    let accept = AcceptKey::from_key(key);
    let standard = [
        ("Upgrade", "websocket".to_string()),
        ("Connection", "Upgrade".to_string()),
        ("Sec-WebSocket-Accept", accept.as_str().to_string()),
    ];
    let mut out = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    for (name, value) in &standard {
        if !omit.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            let _ = write!(out, "{name}: {value}\r\n");
        }
    }
    for line in extra {
        out.push_str(&line.replace("{accept}", accept.as_str()));
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The `Sec-WebSocket-Key` of a client's request.
fn request_key(request: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(request).map_err(|_| "client request is not UTF-8")?;
    text.lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .map(|k| k.trim().as_bytes().to_vec())
        .ok_or_else(|| format!("no key in the client request {text:?}"))
}

/// A connection in the case's start state, and the 101 to feed it (for a
/// client with `response: accept`; otherwise empty).
fn connect(case: &Case, seed: u64) -> Result<(Connection, Vec<u8>), String> {
    let config = case_config(case);
    let mut response = Vec::new();
    let conn = match case.role() {
        Role::Server => {
            let mut conn = Connection::server(config);
            if case.start() == Start::Open {
                if case.deflate.is_some() {
                    conn.receive(&open_request_with_offer());
                } else {
                    conn.receive(OPEN_REQUEST);
                }
                match conn.next_event() {
                    Ok(Some(Event::HandshakeRequest(_))) => {}
                    other => return Err(format!("opening the server: {other:?}")),
                }
                conn.accept(Accept::new())
                    .map_err(|e| format!("opening the server: {e}"))?;
                let n = conn.transmit().len();
                conn.advance(n);
            }
            conn
        }
        Role::Client => {
            let protocols: Vec<&str> = case.offer_protocols.iter().map(String::as_str).collect();
            let request = ClientRequest::new(CLIENT_HOST, CLIENT_TARGET).protocols(&protocols);
            let mut conn =
                Connection::client_with_rng(request, config, Box::new(SeededRandom::new(seed)))
                    .map_err(|e| format!("creating the client: {e}"))?;
            let request = conn.transmit().to_vec();
            conn.advance(request.len());
            let key = request_key(&request)?;
            match case.start() {
                Start::Open => {
                    let extra: Vec<String> = case.deflate.iter().map(open_deflate_answer).collect();
                    conn.receive(&build_response(&key, &[], &extra));
                    match conn.next_event() {
                        Ok(Some(Event::HandshakeResponse(_))) => {}
                        other => return Err(format!("opening the client: {other:?}")),
                    }
                }
                Start::Handshake if case.response => response.extend(build_response(
                    &key,
                    &case.response_omit,
                    &case.response_headers,
                )),
                Start::Handshake => {}
            }
            conn
        }
    };
    let expected = match case.start() {
        Start::Open => State::Open,
        Start::Handshake if case.role() == Role::Server => State::AwaitingRequest,
        Start::Handshake => State::AwaitingResponse,
    };
    if conn.state() != expected {
        return Err(format!("start state {:?}", conn.state()));
    }
    #[cfg(feature = "deflate")]
    if case.start() == Start::Open && case.deflate.is_some() && conn.deflate().is_none() {
        return Err("the open handshake did not agree on permessage-deflate".into());
    }
    Ok((conn, response))
}

/// The case's steps in the order they run, with `response` (the built 101,
/// possibly empty) in its place and adjacent input joined into runs. A case
/// without time or poll steps runs its actions first, then feeds the 101
/// and all its input as one run.
fn plan(case: &Case, response: Vec<u8>) -> Vec<Step> {
    if !case.stepped {
        let mut stream = response;
        let mut steps = Vec::new();
        for step in &case.steps {
            match step {
                Step::Input(bytes) => stream.extend_from_slice(bytes),
                Step::Action(_) => steps.push(step.clone()),
                Step::Response | Step::Time(_) | Step::Poll => {}
            }
        }
        steps.push(Step::Input(stream));
        return steps;
    }
    let mut steps: Vec<Step> = Vec::new();
    for step in &case.steps {
        let bytes = match step {
            Step::Input(bytes) => bytes.as_slice(),
            Step::Response => response.as_slice(),
            other => {
                steps.push(other.clone());
                continue;
            }
        };
        match steps.last_mut() {
            Some(Step::Input(run)) => run.extend_from_slice(bytes),
            _ => steps.push(Step::Input(bytes.to_vec())),
        }
    }
    steps
}

/// The length of the fed stream: every input run of `steps`, end to end.
fn stream_len(steps: &[Step]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            Step::Input(bytes) => bytes.len(),
            _ => 0,
        })
        .sum()
}

/// Feeds `bytes` through `receive`, or through `read_buf` + `commit`.
fn feed(conn: &mut Connection, bytes: &[u8], use_receive: bool) {
    if use_receive {
        conn.receive(bytes);
        return;
    }
    let mut fed = 0;
    while fed < bytes.len() {
        let buf = conn.read_buf();
        let n = buf.len().min(bytes.len() - fed);
        buf[..n].copy_from_slice(&bytes[fed..fed + n]);
        conn.commit(n);
        fed += n;
    }
}

/// Drains events (answering a handshake request as the case says), then the
/// transmit buffer. After an error, `next_event` must keep returning it.
fn drain(
    conn: &mut Connection,
    case: &Case,
    events: &mut Vec<Ev>,
    error: &mut Option<Error>,
    output: &mut Vec<u8>,
) -> Result<(), String> {
    loop {
        if let Some(e) = *error {
            let again = conn.next_event().err();
            if again != Some(e) {
                return Err(format!("error not sticky: {e:?}, then {again:?}"));
            }
            break;
        }
        let ev = match conn.next_event() {
            Ok(Some(event)) => Ev::from_event(&event),
            Ok(None) => break,
            Err(e) => {
                *error = Some(e);
                continue;
            }
        };
        let answer = matches!(ev, Ev::Request { .. }) && !case.unanswered;
        events.push(ev);
        if answer {
            let result = match &case.reject {
                Some((status, body)) => conn.reject(Reject::new(*status).body(body)),
                None => {
                    let accept = match &case.accept_protocol {
                        Some(p) => Accept::new().protocol(p),
                        None => Accept::new(),
                    };
                    conn.accept(accept)
                }
            };
            result.map_err(|e| format!("answering the request: {e}"))?;
        }
    }
    let out = conn.transmit().to_vec();
    conn.advance(out.len());
    output.extend_from_slice(&out);
    Ok(())
}

/// Runs `case` with its input cut at `cuts` (offsets into the fed stream; the
/// ends of its input runs are always cuts), the client masking with `seed`.
fn run(case: &Case, cuts: &[usize], seed: u64) -> Result<Transcript, String> {
    let (mut conn, response) = connect(case, seed)?;
    let mut events = Vec::new();
    let mut error = None;
    let mut output = Vec::new();
    let mut polls = Vec::new();
    // Where the next input run starts in the fed stream, and how many
    // pieces were cut so far (they alternate the two input doors).
    let mut offset = 0;
    let mut piece = 0;
    for step in plan(case, response) {
        match step {
            Step::Action(action) => {
                action.apply(&mut conn)?;
                if case.stepped {
                    drain(&mut conn, case, &mut events, &mut error, &mut output)?;
                }
            }
            Step::Input(bytes) => {
                let run_end = offset + bytes.len();
                let ends = cuts
                    .iter()
                    .copied()
                    .filter(|&c| c > offset && c < run_end)
                    .chain([run_end]);
                let mut start = offset;
                for end in ends {
                    if end > start {
                        feed(
                            &mut conn,
                            &bytes[start - offset..end - offset],
                            piece % 2 == 0,
                        );
                        start = end;
                    }
                    piece += 1;
                    drain(&mut conn, case, &mut events, &mut error, &mut output)?;
                }
                offset = run_end;
            }
            Step::Time(ms) => {
                conn.handle_timeout(Time::from_millis(ms));
                drain(&mut conn, case, &mut events, &mut error, &mut output)?;
            }
            Step::Poll => polls.push(conn.poll_timeout().map(|t| t.since_origin().as_millis())),
            Step::Response => unreachable!("`plan` puts the 101 into an input run"),
        }
    }
    if case.eof == Some(true) {
        conn.receive_eof();
        drain(&mut conn, case, &mut events, &mut error, &mut output)?;
    }
    let (http, frames) = match case.role() {
        Role::Server => split_http(&output)?,
        Role::Client => (None, unmask_frames(&output)?),
    };
    if case.role() == Role::Server {
        check_unmasked(&frames)?;
    }
    Ok(Transcript {
        events,
        error,
        http,
        frames,
        state: conn.state(),
        close_expected: conn.close_expected(),
        polls,
    })
}

/// Splits a server's output into its HTTP response (head and the body
/// `Content-Length` announces), if it starts with one, and the rest.
fn split_http(output: &[u8]) -> Result<(Option<Http>, Vec<u8>), String> {
    if !output.starts_with(b"HTTP/") {
        return Ok((None, output.to_vec()));
    }
    let end = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("HTTP response head without an end")?;
    let head = std::str::from_utf8(&output[..end]).map_err(|_| "HTTP head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let body_len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse::<usize>())
        .transpose()
        .map_err(|_| "bad Content-Length")?
        .unwrap_or(0);
    let body_start = end + 4;
    let body_end = body_start + body_len;
    let body = output
        .get(body_start..body_end)
        .ok_or("HTTP body shorter than its Content-Length")?
        .to_vec();
    let http = Http {
        status,
        headers,
        body,
    };
    Ok((Some(http), output[body_end..].to_vec()))
}

/// One frame's header fields: (header length, mask key, payload length).
fn frame_header(bytes: &[u8]) -> Result<(usize, Option<[u8; 4]>, usize), String> {
    let truncated = || format!("truncated frame in output: {}", Hex(bytes));
    let b1 = *bytes.get(1).ok_or_else(truncated)?;
    let (len, mut pos) = match b1 & 0x7f {
        126 => {
            let ext = bytes.get(2..4).ok_or_else(truncated)?;
            (u64::from(u16::from_be_bytes([ext[0], ext[1]])), 4)
        }
        127 => {
            let ext = bytes.get(2..10).ok_or_else(truncated)?;
            let mut b = [0u8; 8];
            b.copy_from_slice(ext);
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let key = bytes.get(pos..pos + 4).ok_or_else(truncated)?;
        pos += 4;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    let len = usize::try_from(len).map_err(|_| truncated())?;
    if bytes.len() - pos < len {
        return Err(truncated());
    }
    Ok((pos, mask, len))
}

/// A client's output with every frame's mask removed: MASK bit cleared, key
/// dropped, payload unmasked, everything else as written.
fn unmask_frames(mut output: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while !output.is_empty() {
        let (header, mask, len) = frame_header(output)?;
        let key = mask.ok_or_else(|| format!("client frame without a mask: {}", Hex(output)))?;
        out.push(output[0]);
        out.push(output[1] & 0x7f);
        out.extend_from_slice(&output[2..header - 4]);
        let payload = &output[header..header + len];
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        output = &output[header + len..];
    }
    Ok(out)
}

/// Checks a server's frames parse and none is masked.
fn check_unmasked(mut frames: &[u8]) -> Result<(), String> {
    while !frames.is_empty() {
        let (header, mask, len) = frame_header(frames)?;
        if mask.is_some() {
            return Err(format!("server frame with a mask: {}", Hex(frames)));
        }
        frames = &frames[header + len..];
    }
    Ok(())
}

/// Where two transcripts differ, in words.
fn differences(expected: &Transcript, got: &Transcript) -> String {
    let mut out = String::new();
    if expected.events != got.events {
        let _ = write!(out, "\n  events:");
        for i in 0..expected.events.len().max(got.events.len()) {
            let (e, g) = (expected.events.get(i), got.events.get(i));
            if e != g {
                let show = |x: Option<&Ev>| x.map_or("<none>".to_string(), ToString::to_string);
                let _ = write!(
                    out,
                    "\n    #{i}: expected {}\n    #{i}:      got {}",
                    show(e),
                    show(g)
                );
                break;
            }
        }
    }
    if expected.error != got.error {
        let _ = write!(
            out,
            "\n  error: expected {:?}, got {:?}",
            expected.error, got.error
        );
    }
    if expected.http != got.http {
        let _ = write!(
            out,
            "\n  HTTP: expected {:?}, got {:?}",
            expected.http, got.http
        );
    }
    if expected.frames != got.frames {
        let _ = write!(
            out,
            "\n  output: expected {}, got {}",
            Hex(&expected.frames),
            Hex(&got.frames)
        );
    }
    if expected.state != got.state {
        let _ = write!(
            out,
            "\n  state: expected {}, got {}",
            state_name(expected.state),
            state_name(got.state)
        );
    }
    if expected.close_expected != got.close_expected {
        let _ = write!(
            out,
            "\n  close-expected: expected {}, got {}",
            expected.close_expected, got.close_expected
        );
    }
    if expected.polls != got.polls {
        let _ = write!(
            out,
            "\n  poll-timeout: expected {}, got {}",
            show_polls(&expected.polls),
            show_polls(&got.polls)
        );
    }
    out
}

/// `poll-timeout` values as the vectors write them.
fn show_polls(polls: &[Option<u128>]) -> String {
    let shown: Vec<String> = polls
        .iter()
        .map(|p| p.map_or("none".into(), |ms| ms.to_string()))
        .collect();
    format!("[{}]", shown.join(", "))
}

/// Compares a transcript with what the case expects.
fn check_expected(case: &Case, t: &Transcript) -> String {
    let mut out = String::new();
    if case.events != t.events {
        let _ = write!(out, "\n  events:\n    expected:");
        for e in &case.events {
            let _ = write!(out, "\n      {e}");
        }
        let _ = write!(out, "\n    got:");
        for e in &t.events {
            let _ = write!(out, "\n      {e}");
        }
    }
    let expected_error = case.error.clone().flatten();
    let got_error = t.error.as_ref().map(ErrorSpec::of);
    if expected_error != got_error {
        let show = |e: Option<&ErrorSpec>| e.map_or("none".to_string(), ToString::to_string);
        let _ = write!(
            out,
            "\n  error: expected {}, got {}",
            show(expected_error.as_ref()),
            show(got_error.as_ref())
        );
    }
    match (case.output_status, &t.http) {
        (None, None) => {}
        (None, Some(http)) => {
            let _ = write!(out, "\n  unexpected HTTP response {}", http.status);
        }
        (Some(status), None) => {
            let _ = write!(out, "\n  expected an HTTP {status} response, got none");
        }
        (Some(status), Some(http)) => {
            if http.status != status {
                let _ = write!(
                    out,
                    "\n  HTTP status: expected {status}, got {}",
                    http.status
                );
            }
            for (name, value) in &case.output_headers {
                let found = http
                    .headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value);
                if !found {
                    let _ = write!(
                        out,
                        "\n  HTTP header `{name}: {value}` missing from {:?}",
                        http.headers
                    );
                }
            }
            for name in &case.output_headers_absent {
                if http
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    let _ = write!(out, "\n  HTTP header `{name}` present: {:?}", http.headers);
                }
            }
        }
    }
    if case.output != t.frames {
        let _ = write!(
            out,
            "\n  output: expected {}\n          got      {}",
            Hex(&case.output),
            Hex(&t.frames)
        );
    }
    let state = case.state.expect("checked when parsed");
    if state != t.state {
        let _ = write!(
            out,
            "\n  state: expected {}, got {}",
            state_name(state),
            state_name(t.state)
        );
    }
    if let Some(close_expected) = case.close_expected.filter(|&c| c != t.close_expected) {
        let _ = write!(
            out,
            "\n  close-expected: expected {close_expected}, got {}",
            t.close_expected
        );
    }
    if case.polls != t.polls {
        let _ = write!(
            out,
            "\n  poll-timeout (in step order): expected {}, got {}",
            show_polls(&case.polls),
            show_polls(&t.polls)
        );
    }
    out
}

/// Runs every split of `case`; returns a description of what failed, if anything.
fn run_case(case: &Case) -> Option<String> {
    let whole = match run(case, &[], 1) {
        Ok(t) => t,
        Err(e) => return Some(format!("\n  whole: {e}")),
    };
    let mut failures = check_expected(case, &whole);
    // The stream length is the same for every seed (the 101's accept value
    // has a fixed length), so cut points can be computed once.
    let len = match connect(case, 1) {
        Ok((_, response)) => stream_len(&plan(case, response)),
        Err(e) => return Some(format!("\n  {e}")),
    };
    let mut splits: Vec<(String, Vec<usize>)> =
        vec![("byte by byte".into(), (1..len).collect::<Vec<_>>())];
    for (k, max) in RANDOM_MAX_PIECE.iter().enumerate() {
        let seed = k as u64 + 1;
        splits.push((
            format!("random split (seed {seed}, pieces up to {max})"),
            random_cuts(len, seed, *max),
        ));
    }
    if !case.splits.is_empty() {
        let mut all = case.splits.clone();
        all.sort_unstable();
        all.dedup();
        splits.push((format!("listed splits {all:?}"), all));
        for &at in &case.splits {
            splits.push((format!("listed split {at}"), vec![at]));
        }
    }
    for (i, (label, cuts)) in splits.iter().enumerate() {
        match run(case, cuts, i as u64 + 2) {
            Ok(t) if t == whole => {}
            Ok(t) => {
                let _ = write!(
                    failures,
                    "\n  {label} differs from the whole input:{}",
                    differences(&whole, &t)
                );
            }
            Err(e) => {
                let _ = write!(failures, "\n  {label}: {e}");
            }
        }
    }
    (!failures.is_empty()).then_some(failures)
}

/// Longest a case may take: input must never make the engine loop.
const CASE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// [`run_case`] on its own thread, so a case on which the engine never
/// returns is reported as a failure instead of hanging the test. (A thread
/// that does not finish keeps running until the test process exits.)
fn run_case_with_deadline(case: &Case) -> Option<String> {
    let (done, result) = std::sync::mpsc::channel();
    let owned = case.clone();
    std::thread::spawn(move || {
        let _ = done.send(run_case(&owned));
    });
    match result.recv_timeout(CASE_DEADLINE) {
        Ok(outcome) => outcome,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Some(format!(
            "\n  did not finish within {CASE_DEADLINE:?}: the engine does not return (a loop?)"
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Some("\n  the runner panicked (see the output above)".into())
        }
    }
}

#[test]
fn vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "vectors"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in &files {
        match parse_file(file) {
            Ok(parsed) => cases.extend(parsed),
            Err(e) => panic!("{e}"),
        }
    }
    let mut names = std::collections::HashSet::new();
    for case in &cases {
        assert!(
            names.insert(case.name.as_str()),
            "{}: duplicate case name {}",
            case.origin,
            case.name
        );
    }
    // `HYBI_VECTORS=<substring>` runs only the cases whose name contains it.
    if let Ok(filter) = std::env::var("HYBI_VECTORS") {
        cases.retain(|c| c.name.contains(filter.as_str()));
    }
    if !cfg!(feature = "deflate") {
        let skipped: Vec<String> = cases
            .iter()
            .filter(|c| c.needs_deflate)
            .map(|c| c.name.clone())
            .collect();
        if !skipped.is_empty() {
            println!(
                "note: {} permessage-deflate vector cases skipped: built without the \
                 `deflate` feature (run `cargo test --features deflate --test vectors`): {}",
                skipped.len(),
                skipped.join(", ")
            );
        }
        cases.retain(|c| !c.needs_deflate);
    }
    let mut failed = Vec::new();
    for case in &cases {
        let started = std::time::Instant::now();
        if let Some(why) = run_case_with_deadline(case) {
            failed.push(format!("{} ({}):{why}", case.name, case.origin));
        }
        let took = started.elapsed();
        if took.as_secs() >= 2 {
            println!("slow vector case {}: {took:.1?}", case.name);
        }
    }
    println!(
        "{} vector cases from {} files run, {} failed",
        cases.len(),
        files.len(),
        failed.len()
    );
    assert!(!cases.is_empty(), "no vector cases found in {dir:?}");
    assert!(
        failed.is_empty(),
        "{} of {} vector cases failed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

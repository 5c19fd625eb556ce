//! The vector model: how a case starts, the events and errors it expects, its
//! actions and steps, and the case itself as read from a `.vectors` file.

use crate::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// The handshake is done before the input is fed.
    Open,
    /// The input starts with the handshake.
    Handshake,
}

/// An event, owned, in the shape the vector files write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
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
    pub(crate) fn from_event(event: &Event<'_>) -> Self {
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
    pub(crate) fn parse(tokens: &[&str]) -> Result<Self, String> {
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
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

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
pub(crate) struct ErrorSpec {
    pub(crate) kind: &'static str,
    pub(crate) variant: String,
    pub(crate) code: Option<u16>,
}

impl ErrorSpec {
    pub(crate) fn of(error: &Error) -> Self {
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
    pub(crate) fn parse(tokens: &[&str]) -> Result<Option<Self>, String> {
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
pub(crate) enum Action {
    SendText(Vec<u8>),
    SendBinary(Vec<u8>),
    SendPing(Vec<u8>),
    SendPong(Vec<u8>),
    SendFragment(MessageKind, bool, Vec<u8>),
    Close(u16, Vec<u8>),
}

#[derive(Clone, Debug)]
pub(crate) struct ActionSpec {
    pub(crate) action: Action,
    /// The `UsageError` variant the call must fail with; `None`: it must succeed.
    pub(crate) fails_with: Option<String>,
}

impl ActionSpec {
    pub(crate) fn parse(tokens: &[&str]) -> Result<Self, String> {
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

    pub(crate) fn apply(&self, conn: &mut Connection) -> Result<(), String> {
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
pub(crate) enum Step {
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
pub(crate) struct Case {
    /// `file:line` of its `case:` line.
    pub(crate) origin: String,
    pub(crate) name: String,
    pub(crate) role: Option<Role>,
    pub(crate) start: Option<Start>,
    pub(crate) config: Config,
    /// The permessage-deflate policy (`config: deflate*` keys), if any.
    pub(crate) deflate: Option<DeflateConfig>,
    /// The case needs the `deflate` feature (its file is `deflate.vectors`,
    /// or it sets a policy).
    pub(crate) needs_deflate: bool,
    pub(crate) offer_protocols: Vec<String>,
    pub(crate) accept_protocol: Option<String>,
    pub(crate) reject: Option<(u16, Vec<u8>)>,
    pub(crate) response: bool,
    pub(crate) response_omit: Vec<String>,
    pub(crate) response_headers: Vec<String>,
    /// Server: leave the request unanswered (`answer: none`).
    pub(crate) unanswered: bool,
    /// Actions, input, the 101's place, time and poll steps, in file order.
    pub(crate) steps: Vec<Step>,
    /// The case has `time:` or `poll-timeout:` lines: its steps run in file
    /// order (otherwise all actions run first, then all input is fed).
    pub(crate) stepped: bool,
    /// The expected `poll_timeout()` of each `poll-timeout:` line, in
    /// milliseconds since the origin (`None`: no deadline).
    pub(crate) polls: Vec<Option<u128>>,
    pub(crate) splits: Vec<usize>,
    pub(crate) eof: Option<bool>,
    pub(crate) events: Vec<Ev>,
    pub(crate) error: Option<Option<ErrorSpec>>,
    pub(crate) output: Vec<u8>,
    pub(crate) output_status: Option<u16>,
    pub(crate) output_headers: Vec<(String, String)>,
    pub(crate) output_headers_absent: Vec<String>,
    pub(crate) state: Option<State>,
    pub(crate) close_expected: Option<bool>,
}

impl Case {
    pub(crate) fn new(origin: String, name: String, needs_deflate: bool) -> Self {
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

    pub(crate) fn role(&self) -> Role {
        self.role.expect("checked when parsed")
    }

    pub(crate) fn start(&self) -> Start {
        self.start.expect("checked when parsed")
    }

    /// Applies one `key: value` line.
    pub(crate) fn set(&mut self, key: &str, raw: &str) -> Result<(), String> {
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
    pub(crate) fn validate(&self) -> Result<(), String> {
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

//! Reading `.vectors` files: state names, yes/no, numbers, hex and escaped
//! text, and the file's cases.

use crate::prelude::*;

pub(crate) const STATES: [(&str, State); 7] = [
    ("awaiting-request", State::AwaitingRequest),
    ("request-received", State::RequestReceived),
    ("awaiting-response", State::AwaitingResponse),
    ("open", State::Open),
    ("close-sent", State::CloseSent),
    ("closed", State::Closed),
    ("failed", State::Failed),
];

pub(crate) fn parse_state(name: &str) -> Result<State, String> {
    STATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("unknown state `{name}`"))
}

pub(crate) fn state_name(state: State) -> &'static str {
    STATES
        .iter()
        .find(|(_, s)| *s == state)
        .map_or("<unknown>", |(n, _)| *n)
}

pub(crate) fn parse_yes_no(value: &str) -> Result<bool, String> {
    match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("expected `yes` or `no`, got `{value}`")),
    }
}

pub(crate) fn parse_num<T: std::str::FromStr>(token: &str) -> Result<T, String> {
    token.parse().map_err(|_| format!("bad number `{token}`"))
}

/// Hex data: tokens of hex digit pairs, or `repeat <count> <hex>`.
pub(crate) fn parse_hex(tokens: &[&str]) -> Result<Vec<u8>, String> {
    pub(crate) fn token(t: &str) -> Result<Vec<u8>, String> {
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
pub(crate) fn raw_value(raw: &str) -> &str {
    raw.strip_prefix(' ').unwrap_or(raw)
}

/// Text with the escapes `\r`, `\n`, `\t`, `\\` and `\xHH`.
pub(crate) fn unescape(text: &str) -> Result<Vec<u8>, String> {
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
pub(crate) fn parse_file(path: &Path) -> Result<Vec<Case>, String> {
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

//! Reading what a connection wrote and comparing it with the case: the HTTP
//! response, frames with their masks removed, transcripts side by side and
//! what the case expects.

use crate::prelude::*;

/// Splits a server's output into its HTTP response (head and the body
/// `Content-Length` announces), if it starts with one, and the rest.
pub(crate) fn split_http(output: &[u8]) -> Result<(Option<Http>, Vec<u8>), String> {
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
pub(crate) fn frame_header(bytes: &[u8]) -> Result<(usize, Option<[u8; 4]>, usize), String> {
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
pub(crate) fn unmask_frames(mut output: &[u8]) -> Result<Vec<u8>, String> {
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
pub(crate) fn check_unmasked(mut frames: &[u8]) -> Result<(), String> {
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
pub(crate) fn differences(expected: &Transcript, got: &Transcript) -> String {
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
pub(crate) fn show_polls(polls: &[Option<u128>]) -> String {
    let shown: Vec<String> = polls
        .iter()
        .map(|p| p.map_or("none".into(), |ms| ms.to_string()))
        .collect();
    format!("[{}]", shown.join(", "))
}

/// Compares a transcript with what the case expects.
pub(crate) fn check_expected(case: &Case, t: &Transcript) -> String {
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

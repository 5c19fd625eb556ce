//! Running a case: connecting as its start says, planning input and calls in
//! file order, feeding and draining the connection, and checking one case
//! whole, byte by byte and at its split points within a deadline.

use crate::prelude::*;

/// A server's HTTP response, as found at the start of its output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Http {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// Everything one run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transcript {
    pub(crate) events: Vec<Ev>,
    pub(crate) error: Option<Error>,
    /// The server's HTTP response, if its output starts with one.
    pub(crate) http: Option<Http>,
    /// Frames written (after the HTTP response), masks removed for a client.
    pub(crate) frames: Vec<u8>,
    pub(crate) state: State,
    pub(crate) close_expected: bool,
    /// What each `poll-timeout` step saw, in milliseconds since the origin.
    pub(crate) polls: Vec<Option<u128>>,
}

/// The 101 a server sends for `key`, without the standard lines named in
/// `omit` and with `extra` lines (where `{accept}` is the accept value).
pub(crate) fn build_response(key: &[u8], omit: &[String], extra: &[String]) -> Vec<u8> {
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
pub(crate) fn request_key(request: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(request).map_err(|_| "client request is not UTF-8")?;
    text.lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .map(|k| k.trim().as_bytes().to_vec())
        .ok_or_else(|| format!("no key in the client request {text:?}"))
}

/// A connection in the case's start state, and the 101 to feed it (for a
/// client with `response: accept`; otherwise empty).
pub(crate) fn connect(case: &Case, seed: u64) -> Result<(Connection, Vec<u8>), String> {
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
pub(crate) fn plan(case: &Case, response: Vec<u8>) -> Vec<Step> {
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
pub(crate) fn stream_len(steps: &[Step]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            Step::Input(bytes) => bytes.len(),
            _ => 0,
        })
        .sum()
}

/// Feeds `bytes` through `receive`, or through `read_buf` + `commit`.
pub(crate) fn feed(conn: &mut Connection, bytes: &[u8], use_receive: bool) {
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
pub(crate) fn drain(
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
pub(crate) fn run(case: &Case, cuts: &[usize], seed: u64) -> Result<Transcript, String> {
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

/// Runs every split of `case`; returns a description of what failed, if anything.
pub(crate) fn run_case(case: &Case) -> Option<String> {
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
pub(crate) const CASE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// [`run_case`] on its own thread, so a case on which the engine never
/// returns is reported as a failure instead of hanging the test. (A thread
/// that does not finish keeps running until the test process exits.)
pub(crate) fn run_case_with_deadline(case: &Case) -> Option<String> {
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

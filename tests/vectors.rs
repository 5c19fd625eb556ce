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
//!
//! The runner's parts are in `tests/vectors_runner/` (beside the vectors'
//! own directory, which holds only the language-neutral files): the model,
//! configuration, parsing, running and output comparison.

mod common;

/// What every part of the runner uses: the imports, and each part's items.
mod prelude {
    pub(crate) use crate::common::random_cuts;
    pub(crate) use std::fmt::{self, Write as _};
    pub(crate) use std::path::Path;
    pub(crate) use std::time::Duration;

    #[cfg(feature = "deflate")]
    pub(crate) use hybi::DeflateConfig;
    pub(crate) use hybi::{
        Accept, AcceptKey, ClientRequest, CloseCode, Config, Connection, Error, Event, MessageKind,
        Reject, Role, SeededRandom, State, Time,
    };

    pub(crate) use crate::{config::*, model::*, output::*, parse::*, run::*};
}

#[path = "vectors_runner/config.rs"]
mod config;
#[path = "vectors_runner/model.rs"]
mod model;
#[path = "vectors_runner/output.rs"]
mod output;
#[path = "vectors_runner/parse.rs"]
mod parse;
#[path = "vectors_runner/run.rs"]
mod run;

use prelude::*;

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

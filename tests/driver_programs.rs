//! The three programs in `src/driver/programs.md` (compiled as doctests)
//! stay at most as long as the same programs with tokio-tungstenite: an
//! echo server in 22 lines, an Origin + cookie + subprotocol server in 38,
//! a client in 17. The lines are counted as rustfmt lays them out (the
//! project's style), so a long line cannot hide a line break.

use std::io::Write;
use std::process::{Command, Stdio};

/// The `no_run` code blocks of `programs.md`.
fn programs() -> Vec<&'static str> {
    let text = include_str!("../src/driver/programs.md");
    text.split("```no_run\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("```").expect("closed block")])
        .collect()
}

#[test]
fn the_newcomer_programs_are_no_longer_than_tokio_tungstenites() {
    let blocks: Vec<usize> = programs().iter().map(|code| code.lines().count()).collect();
    assert_eq!(blocks.len(), 3, "three programs");
    for (lines, limit) in blocks.iter().zip([22, 38, 17]) {
        assert!(
            *lines <= limit,
            "{lines} lines, the limit is {limit}: {blocks:?}"
        );
    }
}

/// What rustfmt (edition and style 2024, as `rustfmt.toml`) makes of `code`,
/// or `None` where rustfmt is not installed.
fn rustfmt(code: &str) -> Option<String> {
    let mut child = match Command::new("rustfmt")
        .args(["--edition", "2024", "--config", "style_edition=2024"])
        .args(["--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            println!("rustfmt not found ({e}): the programs' layout is not checked");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "rustfmt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn the_newcomer_programs_are_counted_as_rustfmt_lays_them_out() {
    for (i, code) in programs().iter().enumerate() {
        let Some(formatted) = rustfmt(code) else {
            return;
        };
        assert_eq!(
            formatted,
            *code,
            "program {} is not as rustfmt formats it",
            i + 1
        );
    }
}

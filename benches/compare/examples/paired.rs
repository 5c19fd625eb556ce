//! Every driver of the chosen cases run pass by pass in turn (A, B, C, A,
//! B, C, …, the order rotated each round), so slow drifts of a shared,
//! noisy machine fall on all of them alike; prints each driver's median
//! and best pass and, per driver, the median over rounds of its pass time
//! divided by the best peer's pass time of the same case in the same round.
//!
//! `cargo run --release --example paired -- [--rounds N] PATTERN...`: each
//! PATTERN is a substring of the case names (`s4_client_rx_binary/1MiB`, as
//! criterion names them: `group/size`); N defaults to 200. Cases are run one
//! after another, except with `--together`, which puts the drivers of all
//! the matching cases into one rotation and, for exactly two cases, also
//! prints each driver's median per-round ratio of the first case's time to
//! the second's (text against binary of the same size, say). The content of
//! every driver is checked once before timing, as in the criterion bench.

use std::time::Instant;

use hybi_compare::inputs::Built;
use hybi_compare::{Totals, cases, drivers};

/// Drivers that are references or hybi itself, not peers.
fn is_peer(name: &str) -> bool {
    !name.starts_with("hybi") && !name.starts_with("memcpy")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One driver of one case in the rotation.
struct Entry {
    case: String,
    name: &'static str,
    driver: Box<dyn hybi_compare::Driver>,
    expected: Totals,
    times: Vec<f64>,
}

fn run(entries: &mut [Entry], rounds: usize) {
    let n = entries.len();
    for round in 0..rounds {
        for k in 0..n {
            let e = &mut entries[(k + round) % n];
            e.driver.prepare();
            let start = Instant::now();
            let got = e.driver.run();
            let micros = start.elapsed().as_secs_f64() * 1e6;
            assert_eq!(got, e.expected, "{} {}", e.case, e.name);
            e.times.push(micros);
        }
    }
}

fn report(entries: &[Entry], rounds: usize) {
    let mut cases: Vec<&str> = entries.iter().map(|e| e.case.as_str()).collect();
    cases.dedup();
    for case in &cases {
        let of: Vec<&Entry> = entries.iter().filter(|e| e.case == *case).collect();
        // Per round, the fastest peer of this case.
        let best_peer: Vec<f64> = (0..rounds)
            .map(|r| {
                of.iter()
                    .filter(|e| is_peer(e.name))
                    .map(|e| e.times[r])
                    .fold(f64::MAX, f64::min)
            })
            .collect();
        println!("{case} ({rounds} rounds, µs per pass)");
        println!(
            "  {:<24} {:>9} {:>9} {:>13}",
            "driver", "median", "best", "÷ best peer"
        );
        for e in &of {
            let ratios = (0..rounds).map(|r| e.times[r] / best_peer[r]).collect();
            let best = e.times.iter().copied().fold(f64::MAX, f64::min);
            println!(
                "  {:<24} {:>9.1} {:>9.1} {:>13.3}",
                e.name,
                median(e.times.clone()),
                best,
                median(ratios)
            );
        }
    }
    if let [first, second] = cases[..] {
        println!("{first} ÷ {second}, per round, by driver:");
        for a in entries.iter().filter(|e| e.case == first) {
            if let Some(b) = entries
                .iter()
                .find(|e| e.case == second && e.name == a.name)
            {
                let ratios = (0..rounds).map(|r| a.times[r] / b.times[r]).collect();
                println!("  {:<24} {:>9.3}", a.name, median(ratios));
            }
        }
    }
}

fn main() {
    let mut rounds = 200;
    let mut together = false;
    let mut patterns = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().and_then(|s| s.parse().ok()).unwrap_or(rounds),
            "--together" => together = true,
            _ => patterns.push(arg),
        }
    }
    if patterns.is_empty() {
        eprintln!("usage: paired [--rounds N] [--together] PATTERN...");
        std::process::exit(2);
    }
    let mut all: Vec<Entry> = Vec::new();
    for case in cases()
        .iter()
        .filter(|c| patterns.iter().any(|p| c.name().contains(p.as_str())))
    {
        let built: Built = case.build();
        let expected = built.expected();
        let mut entries: Vec<Entry> = drivers(&built)
            .into_iter()
            .map(|(name, driver)| Entry {
                case: case.name(),
                name,
                driver,
                expected,
                times: Vec::with_capacity(rounds),
            })
            .collect();
        if together {
            all.append(&mut entries);
        } else {
            run(&mut entries, rounds);
            report(&entries, rounds);
        }
    }
    if together {
        run(&mut all, rounds);
        report(&all, rounds);
    }
}

//! Every driver of the chosen cases run pass by pass in turn (A, B, C, A,
//! B, C, …, the order rotated each round), so slow drifts of a shared,
//! noisy machine fall on all of them alike; prints each driver's median
//! and best pass and, per driver, the median over rounds of its pass time
//! divided by the best peer's pass time in the same round.
//!
//! `cargo run --release --example paired -- PATTERN [ROUNDS]`: PATTERN is a
//! substring of the case names (`s4_client_rx_binary/1MiB`, as criterion
//! names them: `group/size`); ROUNDS defaults to 200. The content of every
//! driver is checked once before timing, as in the criterion bench.

use std::time::Instant;

use hybi_compare::{cases, drivers};

/// Drivers that are references or hybi itself, not peers.
fn is_peer(name: &str) -> bool {
    !name.starts_with("hybi") && !name.starts_with("memcpy")
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(pattern) = args.get(1) else {
        eprintln!("usage: paired PATTERN [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    for case in cases()
        .iter()
        .filter(|c| c.name().contains(pattern.as_str()))
    {
        let built = case.build();
        let expected = built.expected();
        let mut lineup = drivers(&built);
        let n = lineup.len();
        let mut times = vec![Vec::with_capacity(rounds); n];
        for round in 0..rounds {
            for k in 0..n {
                let i = (k + round) % n;
                let driver = &mut lineup[i].1;
                driver.prepare();
                let start = Instant::now();
                let got = driver.run();
                let micros = start.elapsed().as_secs_f64() * 1e6;
                assert_eq!(got, expected, "{}", lineup[i].0);
                times[i].push(micros);
            }
        }
        // Per round, each driver against the fastest peer of that round.
        let best_peer: Vec<f64> = (0..rounds)
            .map(|r| {
                (0..n)
                    .filter(|&i| is_peer(lineup[i].0))
                    .map(|i| times[i][r])
                    .fold(f64::MAX, f64::min)
            })
            .collect();
        println!("{} ({rounds} rounds, µs per pass)", case.name());
        println!(
            "  {:<20} {:>9} {:>9} {:>13}",
            "driver", "median", "best", "÷ best peer"
        );
        for (i, (name, _)) in lineup.iter().enumerate() {
            let mut ratios: Vec<f64> = (0..rounds).map(|r| times[i][r] / best_peer[r]).collect();
            let best = times[i].iter().copied().fold(f64::MAX, f64::min);
            let med = median(&mut times[i].clone());
            println!(
                "  {name:<20} {med:>9.1} {best:>9.1} {:>13.3}",
                median(&mut ratios)
            );
        }
    }
}

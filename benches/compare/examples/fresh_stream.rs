//! A fresh client connection per pass receiving about 8 MiB of
//! back-to-back unmasked binary messages (`s4` of the comparison), timed
//! per pass without the connection's creation and drop, to see what a new
//! connection's buffer growth costs (page faults of fresh memory) apart
//! from criterion's process, whose heap is shaped by every other case.
//!
//! `cargo run --release --example fresh_stream -- SIZE PASSES MODE`, MODE
//! one of `read_buf` (`read_buf` + `commit`), `receive` or `memcpy` (the
//! same 64 KiB reads copied into one buffer, no engine); run it under
//! `/usr/bin/time -f %R` for the page faults.

use hybi_compare::inputs::{binary, stream};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(len), Some(passes), Some(mode)) = (
        args.get(1).and_then(|s| s.parse::<usize>().ok()),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
        args.get(3),
    ) else {
        eprintln!("usage: fresh_stream SIZE PASSES read_buf|receive|memcpy");
        std::process::exit(2);
    };
    let count = (8usize << 20).div_ceil(len);
    let input = stream(&binary(len), 2, 1, count, false);
    let mut delivered = 0usize;
    let mut scratch = vec![0u8; 64 << 10];
    let (mut best, mut sum) = (f64::MAX, 0.0);
    for _ in 0..passes {
        let mut conn = hybi_compare::hybi_driver::hybi_client(hybi::Config::new(), true);
        let start = std::time::Instant::now();
        for piece in input.chunks(64 << 10) {
            match mode.as_str() {
                "memcpy" => {
                    scratch[..piece.len()].copy_from_slice(piece);
                    std::hint::black_box(&mut scratch);
                    delivered += piece.len();
                    continue;
                }
                "receive" => conn.receive(piece),
                _ => {
                    let mut rest = piece;
                    while !rest.is_empty() {
                        let buf = conn.read_buf();
                        let n = buf.len().min(rest.len());
                        buf[..n].copy_from_slice(&rest[..n]);
                        conn.commit(n);
                        rest = &rest[n..];
                        delivered += drain(&mut conn);
                    }
                    continue;
                }
            }
            delivered += drain(&mut conn);
        }
        let micros = start.elapsed().as_secs_f64() * 1e6;
        best = best.min(micros);
        sum += micros;
        drop(conn);
    }
    let mean = sum / passes as f64;
    println!("{mode} {len} B: best {best:.1} us, mean {mean:.1} us per pass ({delivered} bytes)");
}

fn drain(conn: &mut hybi::Connection) -> usize {
    let mut n = 0;
    while let Some(event) = conn.next_event().unwrap() {
        if let hybi::Event::Binary(b) = event {
            n += b.len();
        }
    }
    n
}

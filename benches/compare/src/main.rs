//! Heap allocations per message in the steady state, for each implementation
//! and scenario, counted by a global allocator.
//!
//! `cargo run --release` (from `benches/compare/`)
//!
//! `cargo run --release -- s1_ 5_client` (only cases whose name, `group` or
//! `group/size`, contains one of the arguments)
//!
//! Scenarios 1–5 (one connection per driver): each driver is run for `WARM`
//! passes (buffers reach their working size), then counted over `PASSES`
//! passes: the steady state. Continuous streams s1–s8 (a new connection per
//! pass): one warm-up pass, then `FRESH_PASSES` passes counted, each on a new
//! connection, the connection's creation (`prepare`) left out: what a new
//! connection allocates while it carries 8 MiB. An allocation is a call to
//! `alloc`, `alloc_zeroed` or `realloc`; bytes are the sizes requested.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use hybi_compare::{Built, Driver, cases, drivers};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size, Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARM: usize = 3;
const PASSES: usize = 20;
/// Passes counted on the continuous streams (each on a new connection).
const FRESH_PASSES: usize = 3;

/// (allocations per message, bytes per message, allocations per pass) of
/// `driver`'s passes, `prepare` (a new connection, on the streams) left out.
fn count(driver: &mut dyn Driver, fresh: bool) -> (f64, f64, f64) {
    let (warm, passes) = if fresh {
        (1, FRESH_PASSES)
    } else {
        (WARM, PASSES)
    };
    for _ in 0..warm {
        driver.prepare();
        driver.run();
    }
    let (mut allocs, mut bytes, mut messages) = (0, 0, 0);
    for _ in 0..passes {
        driver.prepare();
        let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
        messages += driver.run().messages;
        allocs += ALLOCS.load(Relaxed) - a0;
        bytes += BYTES.load(Relaxed) - b0;
    }
    let m = messages as f64;
    let a = allocs as f64;
    (a / m, bytes as f64 / m, a / passes as f64)
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    println!(
        "{:<24} {:<46} {:>19} {:>14} {:>16}",
        "implementation", "scenario", "allocations/message", "bytes/message", "allocations/pass"
    );
    for case in cases() {
        let name = case.name();
        if !wanted(&name) {
            continue;
        }
        let built = case.build();
        let fresh = match &built {
            Built::Rx(s) => s.fresh,
            Built::Tx(s) => s.fresh,
        };
        for (label, mut driver) in drivers(&built) {
            if label.starts_with("memcpy") {
                continue;
            }
            let (allocs, bytes, per_pass) = count(driver.as_mut(), fresh);
            println!("{label:<24} {name:<46} {allocs:>19.4} {bytes:>14.1} {per_pass:>16.2}");
        }
    }
}

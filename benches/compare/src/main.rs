//! Heap allocations per message in the steady state, for each implementation
//! and scenario, counted by a global allocator.
//!
//! `cargo run --release` (from `benches/compare/`)
//!
//! Each driver is built, run for `WARM` passes (buffers reach their working
//! size), then counted over `PASSES` passes. An allocation is a call to
//! `alloc`, `alloc_zeroed` or `realloc`; bytes are the sizes requested.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use hybi_compare::{Driver, SEND, receive_scenarios, receivers, send_payload, senders};

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

/// (allocations per message, bytes per message, allocations per pass) over
/// `PASSES` passes of `driver`.
fn count(driver: &mut dyn Driver) -> (f64, f64, f64) {
    for _ in 0..WARM {
        driver.run();
    }
    let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let mut messages = 0;
    for _ in 0..PASSES {
        messages += driver.run().messages;
    }
    let (a1, b1) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let m = messages as f64;
    let allocs = (a1 - a0) as f64;
    (allocs / m, (b1 - b0) as f64 / m, allocs / PASSES as f64)
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    println!(
        "{:<24} {:<36} {:>19} {:>14} {:>16}",
        "implementation", "scenario", "allocations/message", "bytes/message", "allocations/pass"
    );
    let row = |scenario: &str, name: &str, driver: &mut dyn Driver| {
        if name.starts_with("memcpy") {
            return;
        }
        let (allocs, bytes, per_pass) = count(driver);
        println!("{name:<24} {scenario:<36} {allocs:>19.4} {bytes:>14.1} {per_pass:>16.2}");
    };
    for s in receive_scenarios() {
        if !wanted(s.name) {
            continue;
        }
        for (name, mut driver) in receivers(&s) {
            row(s.name, name, driver.as_mut());
        }
    }
    if wanted(SEND) {
        for (name, mut driver) in senders(&send_payload()) {
            row(SEND, name, driver.as_mut());
        }
    }
}

//! Raw bytes into a server after a valid handshake, split where the fuzzer
//! chooses: every stream invariant of the harness must hold.
#![no_main]

use hybi_fuzz::{check_stream, open_server, small_config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: flags; next bytes up to the first 0xff: split seed.
    let Some((&flags, rest)) = data.split_first() else { return };
    let split = rest.iter().position(|&b| b == 0xff).unwrap_or(0).min(32);
    let (seed, input) = rest.split_at(split);
    let config = if flags & 1 == 0 { small_config() } else { hybi::Config::new() };
    check_stream(|| open_server(config), &config, input, seed, flags & 2 != 0);
});

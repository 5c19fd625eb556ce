//! Raw bytes into a server after a valid handshake, split where the fuzzer
//! chooses: every stream invariant of the harness must hold.
#![no_main]

use hybi_fuzz::{open_server, stream_target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| stream_target(data, open_server));

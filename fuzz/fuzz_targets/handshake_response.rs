//! Raw bytes as a server's handshake response, with or without a valid 101
//! in front. Whole, split and byte-by-byte feeding agree, and nothing panics.
#![no_main]

use hybi::Config;
use hybi_fuzz::{check_stream, new_client, response_for, small_config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else { return };
    let config = if flags & 1 == 0 { small_config() } else { Config::new() };
    let mut stream = Vec::new();
    if flags & 4 != 0 {
        let (_, request) = new_client(config);
        stream.extend_from_slice(&response_for(&request));
    }
    stream.extend_from_slice(input);
    check_stream(|| new_client(config).0, &config, &stream, &input[..input.len().min(8)], flags & 2 != 0);
});

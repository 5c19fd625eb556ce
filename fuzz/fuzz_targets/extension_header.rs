//! `Sec-WebSocket-Extensions` values, as a server reads offers and as a
//! client reads an answer: no panic; every answer a server policy gives
//! fits the offer it answers and reads back as written.
#![no_main]

use hybi::{Config, DeflateConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, value)) = data.split_first() else { return };
    let policy = DeflateConfig::new()
        .own_window_bits(9 + (flags & 7))
        .peer_window_bits(9 + ((flags >> 3) & 7))
        .own_no_context_takeover(flags & 0x40 != 0)
        .peer_no_context_takeover(flags & 0x80 != 0);
    // As a client's answer check: any outcome but a panic.
    let _ = hybi::testing::check_deflate_answer(value, &Config::new().deflate(policy));
    // As a server's offers.
    for offer in hybi::testing::deflate_offers(value) {
        let Some(answer) = policy.answer(&offer) else { continue };
        assert_eq!(answer.answers(&offer), Ok(()), "{offer:?} -> {answer:?}");
        let text = answer.to_string();
        assert_eq!(hybi::testing::parse_deflate_answer(text.as_bytes()), Some(answer), "{text}");
    }
});

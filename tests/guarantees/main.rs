//! One test per guarantee of design §4: framing (RFC 6455 §5), close (§5.5.1,
//! §7), handshake (§4), splitting and "nothing lost".
//!
//! Every protocol-error test and every message test goes through
//! `assert_split_invariant` (input fed whole, byte by byte and at seeded random
//! split points must give the same events, error, output and state); that is
//! how the "Splitting" guarantee is covered throughout, besides the dedicated
//! `split_invariance_*` tests. Protocol-error tests also check the exact Close
//! frame queued, `Error::close_code`, the variant, and that the error is
//! sticky; handshake-error tests check the HTTP status line and
//! `Error::status`.
//!
//! One file per part of the design: `framing.rs`, `close.rs`,
//! `handshake.rs`, `splitting.rs` and `nothing_lost.rs`, with the helpers
//! they share in `helpers.rs`.

#[path = "../common/mod.rs"]
mod common;

mod close;
mod framing;
mod handshake;
mod helpers;
mod nothing_lost;
mod splitting;

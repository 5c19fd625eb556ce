//! permessage-deflate's compressor and decompressor (RFC 7692 §7.2), over
//! zlib-rs's raw DEFLATE streams.
//!
//! [`Inflater`] turns a message's payload (fed as its frames arrive) into
//! its plain bytes, appending to a buffer it owns, and never produces more
//! than the room the caller allows: the caller passes what is left of
//! `max_message_size` (or of a chunk), so a decompression bomb is refused
//! before its output exists. [`Deflater`] compresses a message or a fragment
//! into a reused buffer and strips the `00 00 ff ff` that every sync flush
//! ends with. Both allocate their zlib state on first use and can drop it
//! after a message when context takeover is off, so an idle connection
//! holds no window. Each has a file of its own (`codec/inflater.rs`,
//! `codec/deflater.rs`); this one holds what they share and the tests that
//! take both.

mod deflater;
mod inflater;

pub(crate) use deflater::Deflater;
pub(crate) use inflater::Inflater;

/// The four bytes a sync flush ends with; removed on send, added back on
/// receive (§7.2.1, §7.2.2).
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

#[cfg(test)]
mod tests {
    use super::inflater::InvalidData;
    use super::*;
    use crate::extension::spare;
    use alloc::vec::Vec;

    fn inflate_all(inf: &mut Inflater, data: &[u8]) -> Vec<u8> {
        let mut input = Vec::from(data);
        input.extend_from_slice(&TAIL);
        let r = inf.inflate(&input, usize::MAX).unwrap();
        assert_eq!(r.consumed, input.len());
        let out = inf.out[..inf.filled].to_vec();
        inf.filled = 0;
        inf.end_message();
        out
    }

    #[test]
    fn rfc7692_hello_examples() {
        // §7.2.3.1: one compressed message.
        let mut inf = Inflater::new(15, false);
        assert_eq!(
            inflate_all(&mut inf, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            b"Hello"
        );
        // §7.2.3.2: the same again with context takeover is 5 bytes.
        assert_eq!(
            inflate_all(&mut inf, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
            b"Hello"
        );
        // §7.2.3.3: a stored (uncompressed) block.
        let mut inf = Inflater::new(15, false);
        assert_eq!(
            inflate_all(
                &mut inf,
                &[
                    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00
                ]
            ),
            b"Hello"
        );
        // §7.2.3.5: a final block (BFINAL set); what follows is ignored.
        assert_eq!(
            inflate_all(&mut inf, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]),
            b"Hello"
        );
    }

    #[test]
    fn the_room_bounds_the_output() {
        let mut def = Deflater::new(15, 6, 8, false);
        let plain = alloc::vec![b'a'; 100_000];
        def.compress(&plain, true);
        assert!(def.compressed().len() < 200);
        let mut input = def.compressed().to_vec();
        input.extend_from_slice(&TAIL);
        let mut inf = Inflater::new(15, false);
        let step = inf.inflate(&input, 1000).unwrap();
        assert!(step.full);
        assert_eq!(inf.filled, 1000);
        assert_eq!(inf.out.len(), 1000, "never allocated past the room");
        assert!(inf.probe(&input[step.consumed..]).unwrap().1);
    }

    #[test]
    fn compressed_output_round_trips_with_and_without_takeover() {
        for reset in [false, true] {
            let mut def = Deflater::new(12, 6, 5, reset);
            let mut inf = Inflater::new(12, reset);
            let msg = b"{\"type\":\"ticker\",\"price\":\"101.25\",\"size\":\"3\"}".repeat(4);
            let mut sizes = Vec::new();
            for _ in 0..3 {
                def.compress(&msg, true);
                sizes.push(def.compressed().len());
                assert_eq!(inflate_all(&mut inf, def.compressed()), msg);
            }
            // With takeover, the second message refers back to the first.
            assert_eq!(sizes[1] < sizes[0], !reset, "{sizes:?}");
        }
    }

    /// An empty last fragment after a flushed one is the stored block's
    /// header alone, and the stream goes on decoding (found by the
    /// allocation test's chunked echo).
    #[test]
    fn an_empty_last_fragment_keeps_the_stream_in_step() {
        let mut def = Deflater::new(15, 6, 8, false);
        let mut inf = Inflater::new(15, false);
        def.compress(b"first fragment ", false);
        let mut message = def.compressed().to_vec();
        def.compress(b"", true);
        assert_eq!(def.compressed(), [0x00]);
        message.extend_from_slice(def.compressed());
        assert_eq!(inflate_all(&mut inf, &message), b"first fragment ");
        def.compress(b"the next message", true);
        let next = def.compressed().to_vec();
        assert_eq!(inflate_all(&mut inf, &next), b"the next message");
    }

    #[test]
    fn invalid_data_is_an_error() {
        let mut inf = Inflater::new(15, false);
        assert_eq!(
            inf.inflate(&[0xff, 0xff, 0xff, 0xff], 100),
            Err(InvalidData)
        );
    }

    #[test]
    fn a_reused_decompressor_cannot_reach_the_previous_window() {
        const SECRET: &[u8] = b"the previous connection's secret session token";
        // A compressor with context takeover: its second message refers
        // back to the first.
        let mut sender = Deflater::new(15, 6, 8, false);
        sender.compress(SECRET, true);
        let first = sender.compressed().to_vec();
        sender.compress(SECRET, true);
        let second = sender.compressed().to_vec();
        assert!(second.len() < 10, "the second copy is a back reference");

        let mut victim = Inflater::new(15, false);
        assert_eq!(inflate_all(&mut victim, &first), SECRET);
        drop(victim);
        let parked = spare::parked().0;
        assert!(parked >= 1, "the dropped decompressor is parked");

        // The next connection on this thread takes the parked state.
        let mut attacker = Inflater::new(15, true);
        let mut input = second;
        input.extend_from_slice(&TAIL);
        let result = attacker.inflate(&input, 1 << 20);
        assert_eq!(spare::parked().0, parked - 1, "the parked state was reused");
        assert_eq!(result, Err(InvalidData));
        assert!(
            !attacker.out[..attacker.filled]
                .windows(6)
                .any(|w| w == b"secret")
        );
    }

    #[test]
    fn a_reused_compressor_starts_with_no_history() {
        let message = b"{\"type\":\"ticker\",\"price\":\"101.25\"}";
        let mut first = Deflater::new(15, 6, 8, true);
        first.compress(message, true);
        let fresh = first.compressed().to_vec();
        assert!(spare::parked().1 >= 1, "released after the message");
        // Without context takeover the same message compresses to the same
        // bytes on a reused state, and a fresh decompressor reads them.
        first.compress(message, true);
        assert_eq!(first.compressed(), &fresh[..]);
        let mut other = Deflater::new(15, 6, 8, true);
        other.compress(message, true);
        assert_eq!(other.compressed(), &fresh[..]);
        let mut reader = Inflater::new(15, true);
        assert_eq!(inflate_all(&mut reader, other.compressed()), message);
    }

    #[test]
    fn a_thread_parks_at_most_a_few_states_and_clears_them() {
        let states: Vec<Deflater> = (0..5)
            .map(|_| {
                let mut d = Deflater::new(15, 6, 8, false);
                d.compress(b"hello hello hello", true);
                d
            })
            .collect();
        drop(states);
        assert_eq!(spare::parked().1, spare::SPARE_PER_KIND);
        spare::clear_spare_deflate_state();
        assert_eq!(spare::parked(), (0, 0));
    }
}

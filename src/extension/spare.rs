//! Spare zlib states, kept per thread so that freeing a connection's
//! compressor between messages does not mean making a new one for the next.
//!
//! Without context takeover a connection holds no zlib state between
//! messages (the default policy: an idle connection costs no window).
//! Making a compressor costs an allocation of about 300 KB and its first
//! touch, more than the compression of a small message itself; so a state a
//! connection gives up is reset and parked here, and the next message on
//! this thread (on any connection with the same parameters) takes it back.
//! At most [`SPARE_PER_KIND`] compressors and as many decompressors are
//! parked per thread; [`clear_spare_deflate_state`] frees them.
//!
//! A parked state has been reset: its hash table is cleared and its window
//! marked empty, so nothing of one connection's data can be matched or
//! referenced by the next stream that uses it (an inflate distance reaching
//! back before the stream's first byte is an error, tested).

use core::cell::RefCell;

use alloc::vec::Vec;

use zlib_rs::DeflateConfig as ZDeflateConfig;

/// Parked states per kind (compressors, decompressors) per thread.
pub(crate) const SPARE_PER_KIND: usize = 2;

/// What makes two compressors interchangeable: the sizes of their tables
/// and the level they were made for.
type DeflateKey = (i32, i32, i32);

fn key(config: &ZDeflateConfig) -> DeflateKey {
    (config.level, config.window_bits, config.mem_level)
}

std::thread_local! {
    static INFLATERS: RefCell<Vec<zlib_rs::Inflate>> = const { RefCell::new(Vec::new()) };
    static DEFLATERS: RefCell<Vec<(DeflateKey, zlib_rs::Deflate)>> =
        const { RefCell::new(Vec::new()) };
}

/// A decompressor for a raw DEFLATE stream: a parked one if this thread
/// has one, else a new one. zlib-rs allocates its full 32 KiB window
/// whatever `window_bits` says, so any parked one serves. (Out of line:
/// the inflater's step, which asks only when it has none, stays small.)
#[inline(never)]
pub(crate) fn take_inflate(window_bits: u8) -> zlib_rs::Inflate {
    INFLATERS
        .try_with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.pop()))
        .ok()
        .flatten()
        .unwrap_or_else(|| zlib_rs::Inflate::new(false, window_bits))
}

/// Resets `stream` and parks it, or frees it if this thread has enough.
pub(crate) fn park_inflate(mut stream: zlib_rs::Inflate) {
    stream.reset(false);
    // Outside the borrow, so a full store drops the state after it.
    let _dropped = INFLATERS.try_with(|spare| {
        let mut spare = spare.try_borrow_mut().ok()?;
        if spare.len() < SPARE_PER_KIND {
            spare.push(stream);
            None
        } else {
            Some(stream)
        }
    });
}

/// A compressor for `config`: a parked one made for the same parameters if
/// this thread has one, else a new one.
pub(crate) fn take_deflate(config: ZDeflateConfig) -> zlib_rs::Deflate {
    let wanted = key(&config);
    DEFLATERS
        .try_with(|spare| {
            let mut spare = spare.try_borrow_mut().ok()?;
            let at = spare.iter().rposition(|(k, _)| *k == wanted)?;
            Some(spare.swap_remove(at).1)
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| zlib_rs::Deflate::new_with_config(config))
}

/// Resets `stream` (made for `config`) and parks it; when this thread has
/// enough, the oldest parked one is freed instead.
pub(crate) fn park_deflate(config: &ZDeflateConfig, mut stream: zlib_rs::Deflate) {
    stream.reset();
    let entry = (key(config), stream);
    let _dropped = DEFLATERS.try_with(|spare| {
        let mut spare = spare.try_borrow_mut().ok()?;
        let oldest = if spare.len() >= SPARE_PER_KIND {
            Some(spare.remove(0))
        } else {
            None
        };
        spare.push(entry);
        oldest
    });
}

/// Frees the zlib states this thread keeps for reuse (up to two
/// compressors of about 300 KB each at window 15 and memLevel 8, and two
/// decompressors of about 40 KB).
///
/// Connections without context takeover give their compressor and
/// decompressor back after each message, and the thread keeps a few so
/// the next message does not have to make new ones. Call this when a
/// thread stops serving compressed connections, or before measuring its
/// memory; it never affects a connection's state.
pub fn clear_spare_deflate_state() {
    let inflaters = INFLATERS
        .try_with(|s| s.try_borrow_mut().map(|mut s| core::mem::take(&mut *s)))
        .ok()
        .and_then(Result::ok);
    let deflaters = DEFLATERS
        .try_with(|s| s.try_borrow_mut().map(|mut s| core::mem::take(&mut *s)))
        .ok()
        .and_then(Result::ok);
    drop((inflaters, deflaters));
}

/// How many states this thread has parked: (decompressors, compressors).
#[cfg(test)]
pub(crate) fn parked() -> (usize, usize) {
    (
        INFLATERS.with(|s| s.borrow().len()),
        DEFLATERS.with(|s| s.borrow().len()),
    )
}

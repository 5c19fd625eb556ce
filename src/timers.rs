//! Time as input (the sans-IO way: the engine never reads a clock).
//!
//! The caller tells the connection what time it is with
//! [`Connection::handle_timeout`] and asks when it next needs to be told
//! with [`Connection::poll_timeout`]; [`Time`] is a point on the caller's
//! monotonic clock (a `Duration` since an origin the caller picks), so this
//! works without `std`. Four deadlines come from [`Config`](crate::Config):
//! - **handshake**: the opening handshake must finish in time, or the
//!   connection fails with `HandshakeError::Timeout` (nothing sent,
//!   nothing more read);
//! - **keep-alive**: when nothing has been received for the interval, a
//!   Ping is queued;
//! - **pong**: after that Ping, a Pong must come in time, or the
//!   connection fails with `Error::PongTimeout` and a Close 1011;
//! - **close**: after our Close, the peer's must come in time, or the
//!   connection ends as abnormal (`Event::Close` with 1006).
//!
//! Timers start at the first `handle_timeout`; a connection whose caller
//! never calls it keeps none. The receive path checks no clock: it only
//! sets a flag in the connection's `Life` when bytes or a Pong arrive, and
//! the deadlines are settled here, at the caller's calls.

use core::ops::Add;
use core::time::Duration;

use crate::CloseCode;
use crate::connection::Connection;
use crate::error::{Error, HandshakeError};
use crate::frame::Opcode;
use crate::state::{Input, State};

/// A point in time on the caller's monotonic clock: how long after an
/// origin of the caller's choosing (process start, a runtime's epoch, a
/// simulated clock's zero). Only differences matter, so any origin works
/// as long as every call on one connection uses the same one.
///
/// ```
/// use core::time::Duration;
/// let t = hybi::Time::from_duration(Duration::from_secs(5));
/// assert_eq!(t + Duration::from_secs(1), hybi::Time::from_millis(6_000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(Duration);

impl Time {
    /// The origin.
    pub const ZERO: Self = Self(Duration::ZERO);

    /// The point `since_origin` after the origin.
    #[must_use]
    pub const fn from_duration(since_origin: Duration) -> Self {
        Self(since_origin)
    }

    /// The point `ms` milliseconds after the origin.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Self(Duration::from_millis(ms))
    }

    /// How long after the origin this is.
    #[must_use]
    pub const fn since_origin(self) -> Duration {
        self.0
    }

    /// Now, on `std`'s monotonic clock, with `origin` as the origin.
    #[cfg(feature = "std")]
    #[must_use]
    pub fn now(origin: std::time::Instant) -> Self {
        Self(origin.elapsed())
    }

    /// This point as an `std::time::Instant`, for a runtime's timer
    /// (`tokio::time::sleep_until`, a read timeout), with `origin` as the
    /// origin.
    #[cfg(feature = "std")]
    #[must_use]
    pub fn to_instant(self, origin: std::time::Instant) -> std::time::Instant {
        origin + self.0
    }
}

impl Add<Duration> for Time {
    type Output = Self;

    fn add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d))
    }
}

/// The connection's deadlines, boxed so a connection that never uses
/// timers carries one pointer.
#[derive(Debug)]
pub(crate) struct Timers {
    /// The latest time the caller gave (never goes back).
    now: Time,
    handshake: Option<Time>,
    keepalive: Option<Time>,
    pong: Option<Time>,
    close: Option<Time>,
}

impl Timers {
    /// No deadline running, at `now`.
    fn at(now: Time) -> Self {
        Self {
            now,
            handshake: None,
            keepalive: None,
            pong: None,
            close: None,
        }
    }
}

/// Whether `deadline` has come by `now`.
fn due(deadline: Option<Time>, now: Time) -> bool {
    deadline.is_some_and(|d| d <= now)
}

/// The earlier of two deadlines (`None`: no deadline).
fn earlier(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Connection {
    /// When the connection next needs [`handle_timeout`](Self::handle_timeout):
    /// the earliest of its deadlines, or `None` (no timer runs, or timers
    /// were never started: they start at the first `handle_timeout`).
    /// Call it after every call that may change it (any input, send or
    /// close), then wake at that time.
    ///
    /// A time no later than the last one given to `handle_timeout` means
    /// "tell me the time now": a deadline is about to start (after
    /// [`close`](Self::close), or when the handshake ends) and counts from
    /// the next `handle_timeout`, so that a close after a long idle still
    /// waits the whole close timeout for the peer.
    ///
    /// ```
    /// use core::time::Duration;
    /// use hybi::{Config, Connection, Time};
    /// let mut conn = Connection::server(Config::new().handshake_timeout(Some(Duration::from_secs(10))));
    /// conn.handle_timeout(Time::ZERO);
    /// assert_eq!(conn.poll_timeout(), Some(Time::from_millis(10_000)));
    /// ```
    pub fn poll_timeout(&mut self) -> Option<Time> {
        let starting = self.settle_timers(false);
        let t = self.timers.as_deref()?;
        if starting {
            // A deadline starts (after our Close, or the handshake): it
            // counts from the time the next call gives, so ask for it now.
            return Some(t.now);
        }
        earlier(earlier(t.handshake, t.keepalive), earlier(t.pong, t.close))
    }

    /// Tells the connection the time: runs the deadlines that have come.
    /// Call it once when the connection starts (that starts its timers),
    /// then whenever [`poll_timeout`](Self::poll_timeout)'s time comes;
    /// calling it more often (after each read, say) is harmless and makes
    /// "nothing received for the interval" exact rather than measured
    /// from the last call. A time earlier than one given before is taken
    /// as that one (the clock never goes back).
    ///
    /// What it may do: queue a keep-alive Ping (drain `transmit`); fail
    /// the connection (`next_event` then returns `Error::PongTimeout` with
    /// a Close 1011 queued, or `HandshakeError::Timeout`); end it after a
    /// close timeout (`next_event` then reports `Event::Close` with 1006).
    ///
    /// Call next: drain `next_event`, then `transmit`, then `poll_timeout`.
    pub fn handle_timeout(&mut self, now: Time) {
        let timers = self
            .timers
            .get_or_insert_with(|| alloc::boxed::Box::new(Timers::at(now)));
        timers.now = timers.now.max(now);
        // Bytes arrived since the last call: the peer is alive now, so
        // the keep-alive interval starts again from now. (`poll_timeout`
        // leaves this flag alone: the deadline it reports is then early,
        // and the wake-up finds nothing to do.)
        let mut life = self.life.get();
        if core::mem::take(&mut life.heard) {
            timers.keepalive = None;
            self.life.set(life);
        }
        // What changed since the last call (our Close, the end of the
        // handshake) starts its deadline from this call's time.
        self.settle_timers(true);
        let Some(t) = self.timers.as_deref_mut() else {
            return;
        };
        let now = t.now;
        let config = self.rx.config;
        if due(t.handshake, now) {
            t.handshake = None;
            self.rx.error = Some(Error::Handshake(HandshakeError::Timeout));
            self.life.set(self.life.get().on(Input::TimedOut));
        } else if due(t.pong, now) {
            t.pong = None;
            t.keepalive = None;
            // Failed first, then the Close (no frame may follow it).
            self.rx.error = Some(Error::PongTimeout);
            self.life.set(self.life.get().on(Input::TimedOut));
            self.tx.get_mut().write_close(
                &self.life,
                Some(CloseCode::INTERNAL_ERROR),
                "keepalive ping timeout",
            );
        } else if due(t.keepalive, now) {
            // Nothing heard for the interval (`settle_timers` moved the
            // deadline on if anything was): ping, and wait for the Pong;
            // while one is awaited, its deadline stands (no new Ping).
            if t.pong.is_none() {
                self.tx.get_mut().frame(true, Opcode::Ping, &[]);
                t.pong = config.get_pong_timeout().map(|d| now + d);
            }
            t.keepalive = config.get_keepalive_interval().map(|d| now + d);
        } else if due(t.close, now) {
            t.close = None;
            // As if the stream ended: `next_event` reports 1006.
            self.life.set(self.life.get().ended());
        }
        self.settle_timers(true);
    }

    /// Brings the deadlines in line with the connection's state and with
    /// what arrived since the last look. A deadline the state calls for
    /// starts (from the latest time given) only when `start`, that is in
    /// `handle_timeout`, which has just been told the time; elsewhere it
    /// waits, and the answer is true: one is waiting to start. (Started
    /// from a time given long ago, a fresh close deadline would already
    /// have passed, and the close would end without waiting for the peer.)
    fn settle_timers(&mut self, start: bool) -> bool {
        let Some(t) = self.timers.as_deref_mut() else {
            return false;
        };
        let config = self.rx.config;
        let mut life = self.life.get();
        if core::mem::take(&mut life.ponged) {
            t.pong = None;
        }
        self.life.set(life);
        let now = t.now;
        // The deadline the state calls for, if it is not running yet.
        let (slot, length) = match life.state {
            State::AwaitingRequest | State::RequestReceived | State::AwaitingResponse => {
                (&mut t.handshake, config.get_handshake_timeout())
            }
            State::Open => {
                t.handshake = None;
                (&mut t.keepalive, config.get_keepalive_interval())
            }
            State::CloseSent => {
                t.handshake = None;
                t.keepalive = None;
                t.pong = None;
                (
                    &mut t.close,
                    config.get_close_timeout().filter(|_| !life.eof),
                )
            }
            State::Closed | State::Failed => {
                *t = Timers::at(now);
                return false;
            }
        };
        match length {
            Some(length) if slot.is_none() => {
                if start {
                    *slot = Some(now + length);
                }
                !start
            }
            _ => false,
        }
    }
}

//! The tokio driver's timers: the engine's deadlines (told the time from
//! tokio's clock), the idle shrink and the wait for TCP's close after a
//! closing handshake, all behind one `Sleep` that is polled again only when
//! what it stands for (a deadline, the task's waker) changed.

use core::task::{Context, Waker};
use core::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::Instant;

use super::WebSocket;
use crate::Time;
use crate::driver::tcp_close_wait;

/// How long a connection must be idle before it gives back its buffers.
pub(super) const IDLE_SHRINK: Duration = Duration::from_secs(1);

/// The deadlines a pending `sleep` stands for, and the waker it holds.
#[derive(Debug)]
pub(super) struct Armed {
    pub(super) engine: Option<Time>,
    pub(super) waker: Waker,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    pub(super) fn tick(&mut self) {
        self.conn.handle_timeout(Time::from_duration(
            Instant::now().duration_since(self.origin),
        ));
    }

    /// When a closed connection stops waiting for TCP: set at the first
    /// look, `now` plus the close timeout.
    pub(super) fn tcp_close_deadline(&mut self, now: Instant) -> Instant {
        if let Some(by) = self.tcp_close_by {
            return by;
        }
        let by = now + tcp_close_wait(self.conn.config());
        self.tcp_close_by = Some(by);
        // The sleep must be set for it.
        self.armed = None;
        by
    }

    /// Sets the sleep to the next deadline; true if one passed (and ran).
    #[inline(always)]
    pub(super) fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        let engine = self.conn.poll_timeout();
        let armed_here = self
            .armed
            .as_ref()
            .is_some_and(|armed| armed.engine == engine && armed.waker.will_wake(cx.waker()));
        if armed_here && !self.sleep.is_elapsed() {
            // The timer wakes this task when the deadline comes.
            return false;
        }
        self.arm_timers(cx, engine)
    }

    /// [`poll_timers`](Self::poll_timers) when the sleep is not set for
    /// `engine` (the engine's next deadline) and this task.
    fn arm_timers(&mut self, cx: &mut Context<'_>, engine: Option<Time>) -> bool {
        self.armed = None;
        let engine_at = engine.map(|t| self.origin + t.since_origin());
        let idle = self.idle_at;
        let wake = [engine_at, idle, self.tcp_close_by]
            .into_iter()
            .flatten()
            .min();
        let Some(wake) = wake else {
            self.sleep_at = None;
            return false;
        };
        if self.sleep_at != Some(wake) {
            self.sleep.as_mut().reset(wake);
            self.sleep_at = Some(wake);
        }
        if self.sleep.as_mut().poll(cx).is_pending() {
            self.armed = Some(Armed {
                engine,
                waker: cx.waker().clone(),
            });
            return false;
        }
        self.sleep_at = None;
        let now = Instant::now();
        if idle.is_some_and(|i| now >= i) {
            if core::mem::take(&mut self.heard) {
                // Busy: look again a while after this.
                self.idle_at = Some(now + IDLE_SHRINK);
            } else {
                // Idle: give back the empty buffers (a message in progress
                // keeps its bytes, and is looked at again later).
                self.conn.shrink_buffers();
                self.shrunk = self.conn.buffered_bytes() == 0;
                self.idle_at = (!self.shrunk).then_some(now + IDLE_SHRINK);
            }
        }
        // The engine's deadlines run here, not on every read: what arrived
        // since counts (its `heard` flag), so keep-alive stays exact.
        self.tick();
        true
    }
}

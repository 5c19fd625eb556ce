//! The tokio driver's socket calls: one write of what the engine queued,
//! writes without waiting, and one read into the engine (through a small
//! stack buffer while the connection holds no buffers).

use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::io;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::Instant;

use super::WebSocket;
use super::timers::IDLE_SHRINK;
use crate::driver::DriverError;

/// The first read after a connection gave back its buffers goes through
/// this much stack, so waiting for bytes holds no heap.
const IDLE_READ: usize = 2048;

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// One write of what is queued.
    pub(super) fn poll_write_some(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Result<Poll<()>, DriverError> {
        let out = self.conn.transmit();
        match Pin::new(&mut self.stream).poll_write(cx, out) {
            Poll::Ready(Ok(0)) => Err(io::Error::from(io::ErrorKind::WriteZero).into()),
            Poll::Ready(Ok(n)) => {
                self.conn.advance(n);
                Ok(Poll::Ready(()))
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(Poll::Ready(())),
            Poll::Ready(Err(e)) => Err(e.into()),
            Poll::Pending => Ok(Poll::Pending),
        }
    }

    /// Writes what it can without waiting.
    pub(super) fn poll_write_ready(&mut self, cx: &mut Context<'_>) -> Result<(), DriverError> {
        while self.conn.wants_transmit() {
            if self.poll_write_some(cx)?.is_pending() {
                break;
            }
        }
        Ok(())
    }

    /// One read into the engine.
    #[inline(always)]
    pub(super) fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), DriverError>> {
        let result = if self.shrunk {
            ready!(self.poll_read_shrunk(cx))
        } else {
            let mut buf = ReadBuf::new(self.conn.read_buf());
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    if n > 0 {
                        self.conn.commit(n);
                    }
                    Ok(n)
                }
                Poll::Ready(Err(e)) => Err(e),
                Poll::Pending => return Poll::Pending,
            }
        };
        match result {
            Ok(0) => {
                self.eof = true;
                self.conn.receive_eof();
            }
            Ok(_) => {
                self.heard = true;
                if self.idle_at.is_none() {
                    self.idle_at = Some(Instant::now() + IDLE_SHRINK);
                    self.armed = None;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Poll::Ready(Err(e.into())),
        }
        Poll::Ready(Ok(()))
    }

    /// A read while the buffers are given back: through the stack, so
    /// waiting for bytes holds no heap.
    #[inline(never)]
    fn poll_read_shrunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut stack = [0u8; IDLE_READ];
        let mut buf = ReadBuf::new(&mut stack);
        ready!(Pin::new(&mut self.stream).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        if n > 0 {
            self.conn.receive(buf.filled());
            self.shrunk = false;
        }
        Poll::Ready(Ok(n))
    }
}

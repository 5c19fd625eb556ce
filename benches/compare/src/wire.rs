//! The simulated socket: [`Wire`] hands out the input in [`READ`]-sized
//! pieces, copying each read into the reader's buffer as a socket read
//! would; [`Sink`] takes every write into one buffer reserved up front.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::READ;

/// The receive side of a simulated socket: hands out `input` by copying it
/// into the reader's buffer, never more than the rest of the current
/// [`READ`]-sized piece per read.
///
/// Clones share the read position, so a driver can rewind a stream it has
/// lent to an implementation. At the end of the input, `Read::read` returns
/// `WouldBlock` (tungstenite's end of an iteration) and `AsyncRead` returns
/// end-of-stream (fastwebsockets and tokio-websockets read an exact message
/// count, so they never get there; if they did, they would fail loudly). Anything written to it
/// (replies a server would owe) is counted and dropped.
#[derive(Clone, Debug)]
pub struct Wire {
    input: Rc<[u8]>,
    pos: Rc<Cell<usize>>,
    written: Rc<Cell<usize>>,
}

impl Wire {
    /// A wire holding `input`.
    #[must_use]
    pub fn new(input: Rc<[u8]>) -> Self {
        Self {
            input,
            pos: Rc::new(Cell::new(0)),
            written: Rc::new(Cell::new(0)),
        }
    }

    /// Rewinds to the start of the input.
    pub fn reset(&self) {
        self.pos.set(0);
    }

    /// Bytes not yet read.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos.get()
    }

    /// Bytes of input in all.
    #[must_use]
    pub fn len(&self) -> usize {
        self.input.len()
    }

    /// Whether the input is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Bytes written to the wire so far (should stay 0: the inputs owe no reply).
    #[must_use]
    pub fn written(&self) -> usize {
        self.written.get()
    }

    /// The next read: at most `max` bytes, not past the current piece.
    #[inline]
    fn next(&self, max: usize) -> &[u8] {
        let pos = self.pos.get();
        let end = ((pos / READ + 1) * READ).min(self.input.len());
        let n = (end - pos).min(max);
        self.pos.set(pos + n);
        &self.input[pos..pos + n]
    }

    /// The next read, borrowed (for an engine that copies it in itself).
    #[inline]
    pub fn piece(&self) -> &[u8] {
        self.next(READ)
    }

    /// Copies the next read into `buf`; returns the count (0 at the end).
    #[inline]
    pub fn fill(&self, buf: &mut [u8]) -> usize {
        let piece = self.next(buf.len());
        buf[..piece.len()].copy_from_slice(piece);
        piece.len()
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining() == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(self.fill(buf))
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.set(self.written.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // `put_slice` copies into the spare (possibly uninitialised) room.
        let piece = self.next(buf.remaining());
        buf.put_slice(piece);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written.set(self.written.get() + buf.len());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The send side of a simulated socket: every write is copied into a buffer
/// reserved up front (so it never reallocates). Clones share the buffer.
/// Reading from it would block (`WouldBlock`) or end (`AsyncRead`).
#[derive(Clone, Debug)]
pub struct Sink {
    out: Rc<RefCell<Vec<u8>>>,
}

impl Sink {
    /// A sink with room for `capacity` bytes.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            out: Rc::new(RefCell::new(Vec::with_capacity(capacity))),
        }
    }

    /// Bytes written since the last reset.
    #[must_use]
    pub fn len(&self) -> usize {
        self.out.borrow().len()
    }

    /// Whether nothing was written since the last reset.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of what was written.
    #[must_use]
    pub fn contents(&self) -> Vec<u8> {
        self.out.borrow().clone()
    }

    /// Forgets what was written (keeps the buffer).
    pub fn reset(&self) {
        self.out.borrow_mut().clear();
    }

    #[inline]
    fn put(&self, bufs: &[&[u8]]) -> usize {
        let mut out = self.out.borrow_mut();
        let mut n = 0;
        for b in bufs {
            out.extend_from_slice(b);
            n += b.len();
        }
        n
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.put(&[buf]))
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut out = self.out.borrow_mut();
        let mut n = 0;
        for b in bufs {
            out.extend_from_slice(b);
            n += b.len();
        }
        Ok(n)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.put(&[buf]);
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Sink {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl AsyncRead for Sink {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.put(&[buf])))
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.write_vectored(bufs))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

//! The receive and transmit buffers, one file each.
//!
//! [`RecvBuf`] (`recv.rs`) holds bytes from the socket and the spare room
//! they are read or copied into; its policy (when to move live bytes, when
//! to grow, how much, and that growth writes no zeros) is what keeps a
//! payload byte from being moved again after the read that brought it.
//! [`SendBuf`] (`send.rs`) holds encoded frames until the caller has written
//! them (`transmit`, then `advance` by what the socket accepted); a frame
//! shared by many connections (a prepared broadcast) is held by reference
//! while nothing else is queued, and copied in only when something follows
//! it.

mod recv;
mod send;

pub(crate) use recv::RecvBuf;
pub(crate) use send::{SendBuf, SharedFrame};

//! The two halves of a split [`Connection`](crate::Connection): [`Inbound`] reads events,
//! [`Outbound`] sends and answers a handshake request, both at once, so an
//! event borrowed from the receive buffer can be echoed (or a request
//! answered) while it is in hand. They share the state and the send side
//! through a [`Link`]; replies the inbound half owes are queued in order with
//! what the outbound half sends.

use crate::error::{Error, UsageError};
use crate::event::Event;
use crate::handshake::{Accept, Reject, Request, server};
use crate::inbound::{Link, RxCore};
use crate::state::{Input, State};

/// The receive side of a [`Connection`](crate::Connection), from [`Connection::split`](crate::Connection::split).
#[derive(Debug)]
pub struct Inbound<'a> {
    rx: &'a mut RxCore,
    link: Link<'a>,
}

impl<'a> Inbound<'a> {
    pub(crate) fn new(rx: &'a mut RxCore, link: Link<'a>) -> Self {
        Self { rx, link }
    }

    /// The next event, borrowed for as long as the split itself (this half
    /// is used up): for a function that returns the event together with
    /// the [`Outbound`] half, as a driver's "receive, then reply" does.
    ///
    /// # Errors
    /// As for [`Connection::next_event`](crate::Connection::next_event).
    pub fn into_event(self) -> Result<Option<Event<'a>>, Error> {
        self.rx.next_event(self.link)
    }
}

impl Inbound<'_> {
    /// The next event; see [`Connection::next_event`](crate::Connection::next_event).
    ///
    /// # Errors
    /// As for [`Connection::next_event`](crate::Connection::next_event).
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        self.rx.next_event(self.link)
    }

    /// Whether an event is decoded and waiting; see
    /// [`Connection::event_ready`](crate::Connection::event_ready).
    ///
    /// # Errors
    /// As for [`Connection::next_event`](crate::Connection::next_event).
    pub fn event_ready(&mut self) -> Result<bool, Error> {
        self.rx.event_ready(self.link)
    }
}

/// The send side of a [`Connection`](crate::Connection), from [`Connection::split`](crate::Connection::split).
#[derive(Debug)]
pub struct Outbound<'a> {
    link: Link<'a>,
}

impl<'a> Outbound<'a> {
    pub(crate) fn new(link: Link<'a>) -> Self {
        Self { link }
    }

    /// Server: accepts `request` (the one in hand, from
    /// [`Event::HandshakeRequest`]) with a 101 response, while the event is
    /// still borrowed. Frames pipelined after the request are decoded by
    /// the next [`Inbound::next_event`].
    ///
    /// ```
    /// use hybi::{Accept, Event, Reject};
    /// # fn demo(conn: &mut hybi::Connection, session_ok: impl Fn(&str) -> bool) -> Result<(), hybi::Error> {
    /// let (mut inbound, mut outbound) = conn.split();
    /// while let Some(event) = inbound.next_event()? {
    ///     if let Event::HandshakeRequest(request) = event {
    ///         if request.origin() != Some("https://chat.example") {
    ///             outbound.reject(Reject::new(403).body(b"origin not allowed"))?;
    ///         } else if !request.cookie("session").is_some_and(&session_ok) {
    ///             outbound.reject(Reject::new(401).body(b"log in first"))?;
    ///         } else if request.protocols().any(|p| p == "chat.v1") {
    ///             outbound.accept(&request, Accept::new().protocol("chat.v1"))?;
    ///         } else {
    ///             outbound.accept(&request, Accept::new())?;
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`UsageError::NoPendingRequest`] unless a request is waiting for its
    /// answer; the errors of [`Connection::accept`](crate::Connection::accept) otherwise. Nothing
    /// changes on error.
    pub fn accept(&mut self, request: &Request<'_>, accept: Accept<'_>) -> Result<(), UsageError> {
        if self.link.life.get().state != State::RequestReceived {
            return Err(UsageError::NoPendingRequest);
        }
        let (head, parsed) = request.parts();
        server::answer_accept(&mut self.link.tx.borrow_mut(), head, parsed, &accept)?;
        self.link.set(Input::Accepted);
        Ok(())
    }

    /// Server: refuses the request in hand; see [`accept`](Self::accept) for
    /// an example and [`Connection::reject`](crate::Connection::reject) for the rules. Nothing more is
    /// decoded: drain `transmit`, then close TCP.
    ///
    /// # Errors
    /// As for [`Connection::reject`](crate::Connection::reject). Nothing changes on error.
    pub fn reject(&mut self, reject: Reject<'_>) -> Result<(), UsageError> {
        if self.link.life.get().state != State::RequestReceived {
            return Err(UsageError::NoPendingRequest);
        }
        server::answer_reject(&mut self.link.tx.borrow_mut().buf, &reject)?;
        self.link.set(Input::Rejected);
        Ok(())
    }

    /// The shared parts, for the send methods.
    pub(crate) fn send_link(&mut self) -> Link<'a> {
        self.link
    }

    crate::send::send_methods!();
}

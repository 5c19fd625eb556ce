//! Connections whose opening handshake another stack did (hyper, axum, an
//! HTTP/2 or HTTP/3 server, a proxy): they start in the `Open` state with
//! what that handshake agreed, and go on with the same frames, limits,
//! timers and errors as a connection that did its own handshake.
//!
//! The agreement is a [`Negotiated`]: the permessage-deflate parameters
//! (with the `deflate` feature), which the engine needs to read and write
//! frames. The subprotocol is the application's business and stays with
//! it. [`crate::upgrade`] turns another stack's request into a checked
//! [`Negotiated`] and the response headers to send.

use alloc::boxed::Box;
use core::cell::{Cell, RefCell};

use crate::config::Config;
use crate::connection::{Connection, Role};
use crate::inbound::RxCore;
use crate::outbound::TxCore;
use crate::rng::MaskSource;
use crate::state::{Life, State};

/// What an opening handshake done elsewhere agreed on, beyond RFC 6455
/// itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// The subprotocol agreed on (`Sec-WebSocket-Protocol`), if any.
    pub protocol: Option<alloc::string::String>,
    /// The permessage-deflate parameters, if agreed (RFC 7692); the
    /// `Sec-WebSocket-Extensions` answer, read with
    /// [`DeflateParams`](crate::DeflateParams)' rules.
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::DeflateParams>,
}

impl Negotiated {
    /// Nothing beyond RFC 6455.
    #[must_use]
    pub const fn none() -> Self {
        Self {
            protocol: None,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

impl Connection {
    /// A server connection on a stream whose handshake another stack
    /// answered: open at once. Frames the client sent after the upgrade
    /// go to [`receive`](Self::receive) / [`read_buf`](Self::read_buf).
    ///
    /// ```
    /// use hybi::{Config, Connection, Negotiated, State};
    /// let conn = Connection::server_opened(Config::new(), Negotiated::none());
    /// assert_eq!(conn.state(), State::Open);
    /// ```
    #[must_use]
    pub fn server_opened(config: Config, negotiated: Negotiated) -> Self {
        Self::opened(Role::Server, config, negotiated, None)
    }

    /// A client connection on a stream whose handshake another stack did,
    /// masking with a [`ChaChaRandom`](crate::ChaChaRandom) seeded from
    /// the operating system.
    ///
    /// # Errors
    /// [`Error::Random`](crate::Error::Random) if the OS random source fails.
    #[cfg(feature = "std")]
    pub fn client_opened(config: Config, negotiated: Negotiated) -> Result<Self, crate::Error> {
        let rng = crate::rng::ChaChaRandom::from_os()?;
        Ok(Self::client_opened_with_rng(
            config,
            negotiated,
            Box::new(rng),
        ))
    }

    /// [`client_opened`](Self::client_opened) taking masks from `rng`
    /// (which MUST be unpredictable to the network, RFC 6455 §10.3).
    #[must_use]
    pub fn client_opened_with_rng(
        config: Config,
        negotiated: Negotiated,
        rng: Box<dyn MaskSource>,
    ) -> Self {
        Self::opened(Role::Client, config, negotiated, Some(rng))
    }

    fn opened(
        role: Role,
        config: Config,
        negotiated: Negotiated,
        rng: Option<Box<dyn MaskSource>>,
    ) -> Self {
        let mut rx = RxCore::new(role, config);
        rx.handshake = None;
        let mut tx = TxCore::new(role, rng, &config);
        tx.protocol = negotiated.protocol.map(alloc::boxed::Box::new);
        #[cfg(feature = "deflate")]
        {
            rx.start_inflate(negotiated.deflate);
            tx.deflate.agree(negotiated.deflate, role == Role::Server);
        }
        #[cfg(not(feature = "deflate"))]
        let _ = negotiated;
        Self::from_parts(rx, tx, Life::new(State::Open), role)
    }

    /// The subprotocol the handshake agreed on (the server's choice in
    /// its 101 or 200, or what an opened connection was given), if any.
    pub fn protocol(&mut self) -> Option<&str> {
        self.tx
            .get_mut()
            .protocol
            .as_deref()
            .map(alloc::string::String::as_str)
    }

    pub(crate) fn from_parts(rx: RxCore, tx: TxCore, life: Life, role: Role) -> Self {
        Self {
            rx,
            tx: RefCell::new(tx),
            life: Cell::new(life),
            role,
            timers: None,
        }
    }
}

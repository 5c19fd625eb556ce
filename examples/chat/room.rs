//! Rooms: who is in each, the last messages, and the broadcast.
//!
//! Every broadcast is one [`PreparedMessage`] (encoded, and with
//! `deflate` compressed, once) handed to each member's bounded queue with
//! `try_send`: the broadcaster never waits. A member whose queue is full
//! leaves the room at once and its task is told to close with 1008.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use hybi::PreparedMessage;
use tokio::sync::{Notify, mpsc};

use crate::json::{self, Value};

/// Messages a joiner is sent first.
pub const HISTORY: usize = 50;

/// Broadcasts that may wait for one member's connection.
pub const QUEUE: usize = 256;

/// One message for many connections.
pub type Shared = Arc<PreparedMessage>;

/// Encodes `json` once for every connection (and compresses it once).
pub fn prepare(json: &str) -> Shared {
    let message = PreparedMessage::text(json);
    #[cfg(feature = "deflate")]
    let message = message.compressed(15, 6);
    Arc::new(message)
}

/// All rooms.
#[derive(Default)]
pub struct Hub {
    rooms: Mutex<HashMap<String, Room>>,
    next_id: AtomicU64,
    /// Set at shutdown: members then leave without telling the others.
    quiet: AtomicBool,
}

#[derive(Default)]
struct Room {
    members: Vec<Member>,
    history: VecDeque<Shared>,
}

struct Member {
    id: u64,
    name: String,
    queue: mpsc::Sender<Shared>,
    kick: Arc<Notify>,
}

/// A connection's place in a room; dropping it leaves the room.
pub struct Membership {
    hub: Arc<Hub>,
    room: String,
    id: u64,
    /// The room's messages for this connection, in order.
    pub queue: mpsc::Receiver<Shared>,
    /// Notified when the queue overflowed and the member was dropped.
    pub kicked: Arc<Notify>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(&self.room, self.id);
    }
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        // A panic while holding the lock leaves the map consistent (every
        // change is a single insert or remove), so a poisoned lock is used.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// From now on members leave silently (the server is going away).
    pub fn quiet(&self) {
        self.quiet.store(true, Ordering::Relaxed);
    }

    /// Joins `room` as `name`: the joiner's queue starts with the room's
    /// history and who is there, then everyone (the joiner too) gets the
    /// join.
    pub fn join(self: &Arc<Self>, room: &str, name: &str) -> Membership {
        let (tx, rx) = mpsc::channel(QUEUE);
        let kick = Arc::new(Notify::new());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let joined = prepare(&json::object(&[
            ("type", Value::Str("join")),
            ("name", Value::Str(name)),
        ]));
        let mut rooms = self.lock();
        let state = rooms.entry(room.to_string()).or_default();
        let names: Vec<&str> = state.members.iter().map(|m| m.name.as_str()).collect();
        let present = prepare(&json::object(&[
            ("type", Value::Str("members")),
            ("names", Value::Strs(&names)),
        ]));
        // The queue is empty and holds more than the history and this.
        for message in state.history.iter().chain([&present]) {
            let _ = tx.try_send(Arc::clone(message));
        }
        state.members.push(Member {
            id,
            name: name.to_string(),
            queue: tx,
            kick: Arc::clone(&kick),
        });
        state.broadcast(joined);
        drop(rooms);
        Membership {
            hub: Arc::clone(self),
            room: room.to_string(),
            id,
            queue: rx,
            kicked: kick,
        }
    }

    /// `from` says `text` in `room`: kept in the history and broadcast.
    pub fn say(&self, room: &str, from: &str, text: &str) {
        let message = prepare(&json::object(&[
            ("type", Value::Str("message")),
            ("from", Value::Str(from)),
            ("text", Value::Str(text)),
        ]));
        let mut rooms = self.lock();
        let Some(state) = rooms.get_mut(room) else {
            return;
        };
        if state.history.len() == HISTORY {
            state.history.pop_front();
        }
        state.history.push_back(Arc::clone(&message));
        state.broadcast(message);
    }

    /// Member `id` leaves `room` (if still there); the others are told. An
    /// empty room is forgotten, history and all.
    fn leave(&self, room: &str, id: u64) {
        let mut rooms = self.lock();
        let Some(state) = rooms.get_mut(room) else {
            return;
        };
        // A member dropped for being slow is gone already.
        if let Some(i) = state.members.iter().position(|m| m.id == id) {
            let member = state.members.swap_remove(i);
            if !state.members.is_empty() && !self.quiet.load(Ordering::Relaxed) {
                state.broadcast(left(&member.name));
            }
        }
        if state.members.is_empty() {
            rooms.remove(room);
        }
    }
}

fn left(name: &str) -> Shared {
    prepare(&json::object(&[
        ("type", Value::Str("leave")),
        ("name", Value::Str(name)),
    ]))
}

impl Room {
    /// Queues `message` for every member without waiting. Members whose
    /// queue is full are dropped and told to close; the others then hear
    /// that they left (which may drop more).
    fn broadcast(&mut self, message: Shared) {
        let mut pending = vec![message];
        while let Some(message) = pending.pop() {
            let mut i = 0;
            while i < self.members.len() {
                match self.members[i].queue.try_send(Arc::clone(&message)) {
                    Ok(()) => i += 1,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        let slow = self.members.swap_remove(i);
                        slow.kick.notify_one();
                        pending.push(left(&slow.name));
                    }
                    // Its connection is gone and leaves by itself.
                    Err(mpsc::error::TrySendError::Closed(_)) => i += 1,
                }
            }
        }
    }
}

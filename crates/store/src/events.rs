//! The event log: events written beside the changes that cause them, read back by
//! pollers and the console, replayed on request and deleted after their retention.
//!
//! [`record_events!`] is what every write path calls inside its own transaction: it
//! inserts the events and, in the same transaction, queues one `webhook.v1` outbox job
//! per enabled endpoint of the workspace subscribed to each event's type. Reading the
//! endpoints there (rather than from a cache) is what makes the fan-out exact: an
//! endpoint committed before the change receives its events, whichever node made it.

mod read;
pub(crate) mod resources;
pub(crate) mod write;

pub use read::{EventQuery, StoredEvent};
pub use write::DeliveryJob;
pub(crate) use write::record_events;

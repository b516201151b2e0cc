//! The number pool at work: a cached, indexed snapshot of each workspace's numbers with
//! their warm-up and health ([`pools`]), and the assignment of a sending number to an
//! outbound message with its capacity reserved in the store ([`assign`]).

pub mod assign;
pub mod batch;
pub mod pools;

pub use assign::{Assigned, SenderAssigner, SenderRequest, SenderUnavailable};
pub use pools::{NumberPools, PoolSnapshot};

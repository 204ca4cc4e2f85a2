//! The Redis side of state: reading a key's string and expiry in place, applying a
//! [`Write`](crate::codec::Write) to it, and replicating that write as native commands.

pub mod key;
pub mod replicate;

//! The glue: everything that touches the Redis module API. Handlers reach Redis only through
//! [`call`] (the guard, the arguments, the clock, the key, the commit); the rest runs at load.

#[macro_use]
mod api;
pub mod acl;
pub mod call;
pub mod docs;
pub mod info;
pub mod key;
pub mod leases;
mod replicate;
mod reply;
pub mod server;

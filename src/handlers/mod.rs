//! One handler per command family, each from the call's words to its reply through the glue
//! (`redis::call`) and the pure layers (`args`, `limiter`, `algo`, `codec`). Handlers never
//! import one another: what they share lives below them.

pub mod all;
pub mod concurrent;
pub mod limit;
pub mod throttle;
pub mod top;

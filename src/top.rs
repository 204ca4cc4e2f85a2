//! The node's refused-most table behind RL.TOP: one [`algo::top::Top`] for the whole server,
//! fed by every refusal (RL commands, RL.ALL's decisive key, RL.CONCURRENT, CL.THROTTLE) and
//! read by RL.TOP. Per node: not replicated, not persisted.
//!
//! Redis runs commands on its main thread, so the lock is never contended; it is there
//! because a static must be `Sync`. A poisoned lock (a panic while it was held, which the
//! handlers' guard turned into an error reply) is taken back and the table forgotten, since a
//! half-done update could break its bound; nothing panics or aborts.

use std::sync::{Mutex, MutexGuard};

use crate::algo::top::{Entry, Top};
use crate::algo::Millis;

/// Two summaries of 256 keys of at most 128 bytes: about 80 KB, all zeroes until used.
static TABLE: Mutex<Top> = Mutex::new(Top::new());

fn table() -> MutexGuard<'static, Top> {
    match TABLE.lock() {
        Ok(guard) => guard,
        Err(poisoned) => {
            let mut guard = poisoned.into_inner();
            guard.reset();
            TABLE.clear_poison();
            guard
        }
    }
}

/// One refusal of the key `key` at `now` (server clock).
pub fn refused(key: &[u8], now: Millis) {
    table().record(key, now);
}

/// The `count` keys refused most since the start of the previous minute.
pub fn most_refused(count: usize, now: Millis) -> Vec<Entry> {
    table().top(count, now)
}

/// Forgets every refusal.
pub fn reset() {
    table().reset();
}

//! Counters for `INFO ratelimit`: calls, admissions, denials, peeks and errors per command.
//! Only Redis's main thread runs commands and INFO, so an increment is a relaxed load and
//! store (plain moves, no locked instruction): a couple of nanoseconds per call.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::command::Command;

/// What one call ended with. For RL.ALL, admitted means every limiter was charged; for
/// CL.THROTTLE a quantity of 0 is a peek; an RL.CONCURRENT release is neither an admission nor
/// a refusal, whether or not a lease was still held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    Peeked,
    Error,
    Released,
}

/// One command's counters, read by the INFO callback.
pub struct Counters {
    calls: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    peeks: AtomicU64,
    errors: AtomicU64,
    releases: AtomicU64,
}

impl Counters {
    const fn new() -> Self {
        Counters {
            calls: AtomicU64::new(0),
            allowed: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            peeks: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            releases: AtomicU64::new(0),
        }
    }

    /// `(field suffix, value)` in INFO order: `calls`, `allowed`, `denied`, `peeks`, `errors`,
    /// `releases`.
    pub fn fields(&self) -> [(&'static str, u64); 6] {
        [
            ("calls", self.calls.load(Ordering::Relaxed)),
            ("allowed", self.allowed.load(Ordering::Relaxed)),
            ("denied", self.denied.load(Ordering::Relaxed)),
            ("peeks", self.peeks.load(Ordering::Relaxed)),
            ("errors", self.errors.load(Ordering::Relaxed)),
            ("releases", self.releases.load(Ordering::Relaxed)),
        ]
    }
}

static COUNTERS: [Counters; Command::ALL.len()] = [const { Counters::new() }; Command::ALL.len()];

/// The counters of `command`.
pub fn of(command: Command) -> &'static Counters {
    // `Command::ALL[c as usize] == c`, so every command has its slot; the fallback is never used.
    static SPARE: Counters = Counters::new();
    COUNTERS.get(command as usize).unwrap_or(&SPARE)
}

pub fn record(command: Command, outcome: Outcome) {
    let c = of(command);
    let field = match outcome {
        Outcome::Allowed => &c.allowed,
        Outcome::Denied => &c.denied,
        Outcome::Peeked => &c.peeks,
        Outcome::Error => &c.errors,
        Outcome::Released => &c.releases,
    };
    bump(&c.calls);
    bump(field);
}

/// +1 without a read-modify-write instruction: there is a single writer (the main thread).
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_counts_apart() {
        let before: Vec<[(&str, u64); 6]> = Command::ALL.iter().map(|c| of(*c).fields()).collect();
        record(Command::Log, Outcome::Denied);
        record(Command::Log, Outcome::Peeked);
        for (c, was) in Command::ALL.iter().zip(before) {
            let now = of(*c).fields();
            let delta: Vec<u64> = now.iter().zip(was).map(|(n, w)| n.1 - w.1).collect();
            assert_eq!(delta, if *c == Command::Log { vec![2, 0, 1, 1, 0, 0] } else { vec![0; 6] }, "{c}");
        }
    }
}

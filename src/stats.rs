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
    /// A command that decides nothing (RL.TOP): counted in `calls` only.
    Answered,
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
        Outcome::Answered => {
            bump(&c.calls);
            return;
        }
    };
    bump(&c.calls);
    bump(field);
}

/// The upper bounds of RL.LEAKY's wait buckets, in ms (the last bucket, +Inf, is the count).
pub const WAIT_BUCKETS_MS: [u64; 4] = [10, 100, 1_000, 10_000];

/// The waits RL.LEAKY hands out: one observation per admitted call (PEEK and REFUND are not
/// waits; FORCE is), its `delay_ms`, as a Prometheus histogram reads them.
struct Waits {
    sum_ms: AtomicU64,
    count: AtomicU64,
    /// Observations with a delay above 0.
    delayed: AtomicU64,
    /// Cumulative: observations at most `WAIT_BUCKETS_MS[i]`.
    buckets: [AtomicU64; WAIT_BUCKETS_MS.len()],
}

static WAITS: Waits = Waits {
    sum_ms: AtomicU64::new(0),
    count: AtomicU64::new(0),
    delayed: AtomicU64::new(0),
    buckets: [const { AtomicU64::new(0) }; WAIT_BUCKETS_MS.len()],
};

/// One wait of `delay_ms` handed out by RL.LEAKY.
pub fn record_wait(delay_ms: u64) {
    let sum = &WAITS.sum_ms;
    sum.store(sum.load(Ordering::Relaxed).saturating_add(delay_ms), Ordering::Relaxed);
    bump(&WAITS.count);
    if delay_ms > 0 {
        bump(&WAITS.delayed);
    }
    for (bucket, le) in WAITS.buckets.iter().zip(WAIT_BUCKETS_MS) {
        if delay_ms <= le {
            bump(bucket);
        }
    }
}

/// RL.LEAKY's wait fields, `(name after the prefix leaky_, value)` in INFO order: the
/// histogram `wait_ms` (`_sum`, `_count`, cumulative `_bucket_le_<ms>`, `_bucket_le_inf`), and
/// `wait_delayed`, the waits above 0 ms.
pub fn wait_fields() -> Vec<(String, u64)> {
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let count = load(&WAITS.count);
    let mut fields = vec![("wait_ms_sum".to_owned(), load(&WAITS.sum_ms)), ("wait_ms_count".to_owned(), count)];
    for (bucket, le) in WAITS.buckets.iter().zip(WAIT_BUCKETS_MS) {
        fields.push((format!("wait_ms_bucket_le_{le}"), load(bucket)));
    }
    fields.push(("wait_ms_bucket_le_inf".to_owned(), count));
    fields.push(("wait_delayed".to_owned(), load(&WAITS.delayed)));
    fields
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

    #[test]
    fn waits_fill_cumulative_buckets() {
        let before: Vec<u64> = wait_fields().into_iter().map(|f| f.1).collect();
        for delay in [0, 10, 11, 999, 1_000, 60_000] {
            record_wait(delay);
        }
        let fields = wait_fields();
        let names: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "wait_ms_sum",
                "wait_ms_count",
                "wait_ms_bucket_le_10",
                "wait_ms_bucket_le_100",
                "wait_ms_bucket_le_1000",
                "wait_ms_bucket_le_10000",
                "wait_ms_bucket_le_inf",
                "wait_delayed"
            ]
        );
        let delta: Vec<u64> = fields.iter().zip(before).map(|(f, b)| f.1 - b).collect();
        assert_eq!(delta, [62_020, 6, 2, 3, 5, 5, 6, 5]);
    }
}

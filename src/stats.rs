//! Counters for `INFO ratelimit`: calls, admissions, denials, peeks and errors per command.
//! Only Redis's main thread runs commands and INFO, so an increment is a relaxed load and
//! store (plain moves, no locked instruction): a couple of nanoseconds per call.

use std::ffi::CStr;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, Ordering};

use redis_module::raw::RedisModuleInfoCtx;

use crate::codec::Kind;

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    peeks: AtomicU64,
    errors: AtomicU64,
}

impl Counters {
    const fn new() -> Self {
        Counters {
            calls: AtomicU64::new(0),
            allowed: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            peeks: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }
}

static FIXED: Counters = Counters::new();
static SLIDING: Counters = Counters::new();
static LOG: Counters = Counters::new();
static TOKEN: Counters = Counters::new();
static LEAKY: Counters = Counters::new();
static THROTTLE: Counters = Counters::new();
static ALL: Counters = Counters::new();

fn counters(kind: Kind) -> &'static Counters {
    match kind {
        Kind::Fixed => &FIXED,
        Kind::Sliding => &SLIDING,
        Kind::Log => &LOG,
        Kind::Token => &TOKEN,
        Kind::Leaky => &LEAKY,
        Kind::Throttle => &THROTTLE,
    }
}

/// What one call ended with.
pub enum Outcome {
    Allowed,
    Denied,
    Peeked,
    Error,
}

pub fn record(kind: Kind, outcome: Outcome) {
    count(counters(kind), outcome);
}

/// An RL.ALL call (admitted: every limiter was charged).
pub fn record_all(outcome: Outcome) {
    count(&ALL, outcome);
}

fn count(c: &Counters, outcome: Outcome) {
    let field = match outcome {
        Outcome::Allowed => &c.allowed,
        Outcome::Denied => &c.denied,
        Outcome::Peeked => &c.peeks,
        Outcome::Error => &c.errors,
    };
    bump(&c.calls);
    bump(field);
}

/// +1 without a read-modify-write instruction: there is a single writer (the main thread).
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// The `INFO ratelimit` callback: one section, `ratelimit_stats`, with fields like
/// `fixed_calls`, `fixed_allowed`, ... (Redis prefixes them with the module name).
pub(crate) extern "C" fn info(ctx: *mut RedisModuleInfoCtx, _for_crash_report: c_int) {
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let (Some(add_section), Some(add_field)) =
        (unsafe { redis_module::raw::RedisModule_InfoAddSection }, unsafe { redis_module::raw::RedisModule_InfoAddFieldULongLong })
    else {
        return;
    };
    let commands: [(&Counters, [&CStr; 5]); 7] = [
        (counters(Kind::Fixed), [c"fixed_calls", c"fixed_allowed", c"fixed_denied", c"fixed_peeks", c"fixed_errors"]),
        (counters(Kind::Sliding), [c"sliding_calls", c"sliding_allowed", c"sliding_denied", c"sliding_peeks", c"sliding_errors"]),
        (counters(Kind::Log), [c"log_calls", c"log_allowed", c"log_denied", c"log_peeks", c"log_errors"]),
        (counters(Kind::Token), [c"token_calls", c"token_allowed", c"token_denied", c"token_peeks", c"token_errors"]),
        (counters(Kind::Leaky), [c"leaky_calls", c"leaky_allowed", c"leaky_denied", c"leaky_peeks", c"leaky_errors"]),
        (&ALL, [c"all_calls", c"all_allowed", c"all_denied", c"all_peeks", c"all_errors"]),
        // CL.THROTTLE: a quantity of 0 counts as a peek.
        (counters(Kind::Throttle), [c"throttle_calls", c"throttle_allowed", c"throttle_denied", c"throttle_peeks", c"throttle_errors"]),
    ];
    // SAFETY: ctx is the info context Redis passed to this callback; names are NUL-terminated.
    unsafe {
        add_section(ctx, c"stats".as_ptr());
        for (c, names) in commands {
            let values = [&c.calls, &c.allowed, &c.denied, &c.peeks, &c.errors];
            for (name, value) in names.iter().zip(values) {
                add_field(ctx, name.as_ptr(), value.load(Ordering::Relaxed));
            }
        }
    }
}

//! The pure core: one file per algorithm, no Redis types.
//!
//! Every algorithm is a function from (stored state, now, parameters, request) to a
//! [`Reply`] and, when something must change, the new state to store with its expiry.
//! Times are Unix milliseconds (`Millis`) from the server's clock; all arithmetic on client
//! numbers is checked, saturating or done in 128 bits, so no input can overflow or panic.

pub mod concurrent;
pub mod fixed;
pub mod gcra;
pub mod leaky;
pub mod log;
pub mod sliding;
pub mod token;
pub mod top;

#[cfg(test)]
pub mod testkit;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_agree_with_128_bit_arithmetic() {
        let values = [0, 1, 2, 7, 999, u128::from(u64::MAX) - 1, u128::from(u64::MAX), u128::from(u64::MAX) + 1, u128::MAX - 1, u128::MAX];
        for &v in &values {
            for &d in values.iter().filter(|d| **d > 0) {
                assert_eq!(div_floor(v, d), v / d, "{v} / {d}");
                assert_eq!(div_ceil(v, d), v.div_ceil(d), "ceil {v} / {d}");
            }
            assert_eq!((div_floor(v, 0), div_ceil(v, 0)), (u128::MAX, u128::MAX));
        }
    }
}

/// A point in time or a duration, in milliseconds.
pub type Millis = u64;

/// `retry_after_ms` when a request can never be admitted (COST > limit).
pub const NEVER: i64 = -1;

/// What the caller asks of one call, besides the algorithm's own parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Units this request weighs (>= 1); with [`Mode::Refund`], the units given back.
    pub cost: u64,
    /// Answer as if asking, change nothing.
    pub peek: bool,
    pub mode: Mode,
}

/// How a request is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Admitted only if the limit allows it (the usual call).
    Take,
    /// `FORCE`: recorded even beyond the limit (usage known after the fact); always admitted.
    Force,
    /// `REFUND n`: give back `cost` units, most recent usage first, never below empty.
    Refund,
}

impl Request {
    /// An ordinary request of `cost` units.
    pub const fn take(cost: u64, peek: bool) -> Request {
        Request { cost, peek, mode: Mode::Take }
    }

    pub fn forced(&self) -> bool {
        self.mode == Mode::Force
    }
}

/// The five integers every RL command replies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub allowed: bool,
    pub limit: u64,
    /// The largest COST that would be admitted right now, after this call.
    pub remaining: u64,
    /// 0 when allowed; the shortest wait that admits the same request; [`NEVER`].
    pub retry_after_ms: i64,
    /// Time until the limiter is back to full and empty, 0 when it already is.
    pub reset_after_ms: i64,
}

impl Reply {
    /// The reply as the five integers sent to the client.
    pub fn to_array(&self) -> [i64; 5] {
        [i64::from(self.allowed), to_reply_int(self.limit), to_reply_int(self.remaining), self.retry_after_ms, self.reset_after_ms]
    }

    /// The reply with fields 4 and 5 no longer than `limit` ms (a -1 stays: no wait admits).
    pub fn waits_at_most(self, limit: i64) -> Reply {
        let cap = |wait: i64| if wait > limit { limit } else { wait };
        Reply { retry_after_ms: cap(self.retry_after_ms), reset_after_ms: cap(self.reset_after_ms), ..self }
    }
}

/// The reply to a REFUND: the limiter as it is after the refund (what a PEEK of it says about
/// `remaining` and `reset_after_ms`), with allowed = 1 and nothing to wait for.
pub fn refund_reply(after: Reply) -> Reply {
    Reply { allowed: true, retry_after_ms: 0, ..after }
}

/// A PEEK of one unit: what REFUND uses to describe the limiter after it.
pub const PEEK: Request = Request::take(1, true);

/// The five RL algorithms: what a spec names, and what the RL command of the same name runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Fixed,
    Sliding,
    Log,
    Token,
    Leaky,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [Algorithm::Fixed, Algorithm::Sliding, Algorithm::Log, Algorithm::Token, Algorithm::Leaky];
}

/// A state as read from its key, and the key's expiry (None: no TTL, which only a hand-written
/// key can lack). Every one-value algorithm (RL.FIXED, RL.SLIDING, RL.TOKEN, RL.LEAKY) decides
/// on an `Option<Stored<S>>` (None: no key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored<S> {
    pub state: S,
    pub expire_at: Option<Millis>,
}

impl<S> Stored<S> {
    pub fn has_ttl(&self) -> bool {
        self.expire_at.is_some()
    }
}

/// The state to store after a call, and the absolute time at which its key expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store<S> {
    pub state: S,
    pub expire_at: Millis,
}

impl<S: Copy> Store<S> {
    /// The state as the next call reads it back.
    pub fn stored(&self) -> Stored<S> {
        Stored { state: self.state, expire_at: Some(self.expire_at) }
    }
}

/// What a call decided: the reply, and the state to write (None: write nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<S> {
    pub reply: Reply,
    pub store: Option<Store<S>>,
}

/// A client-visible integer: every reply field is a signed 64-bit integer; values that
/// cannot be that large in practice are clamped rather than wrapped.
pub fn to_reply_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A wait in milliseconds for the reply, from a 128-bit intermediate.
pub fn wait_ms(value: u128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `start` of the epoch-aligned window containing `now`. Aligning to the Unix epoch makes
/// every server (primary, replica, cluster node) agree on window edges without state.
pub fn window_start(now: Millis, window: Millis) -> Millis {
    now - now % window.max(1)
}

/// Floor division in 128 bits, done in 64 bits when both operands fit: a 128-bit division is
/// a library call several times slower, and realistic values fit. A 0 divisor (callers pass
/// parameters >= 1) gives u128::MAX rather than a panic.
#[inline]
pub fn div_floor(value: u128, divisor: u128) -> u128 {
    match (u64::try_from(value), u64::try_from(divisor)) {
        (_, Ok(0)) => u128::MAX,
        (Ok(v), Ok(d)) => u128::from(v / d),
        _ => value.checked_div(divisor).unwrap_or(u128::MAX),
    }
}

/// Ceiling division in 128 bits (64-bit fast path as [`div_floor`]); a 0 divisor gives
/// u128::MAX.
#[inline]
pub fn div_ceil(value: u128, divisor: u128) -> u128 {
    if divisor == 0 {
        return u128::MAX;
    }
    let q = div_floor(value, divisor);
    // q * divisor <= value: no overflow.
    q + u128::from(q * divisor != value)
}

/// `value` counted in units of 1/`from` re-expressed in units of 1/`to`, rounding up (never in
/// the client's favour); saturates rather than overflows. A stored state keeps its numbers in
/// the parameters it was written with (a token deficit per period, a drain time per rate).
pub fn rescale_up(value: u128, from: u64, to: u64) -> u128 {
    if from == to {
        return value;
    }
    match value.checked_mul(u128::from(to)) {
        Some(scaled) => div_ceil(scaled, u128::from(from)),
        None => div_ceil(value, u128::from(from)).saturating_mul(u128::from(to)),
    }
}

/// Absolute expiry times are sent to Redis as signed 64-bit integers (PXAT); clamp.
pub fn clamp_time(value: u128) -> Millis {
    u64::try_from(value).unwrap_or(u64::MAX).min(i64::MAX as u64)
}

//! CL.THROTTLE: redis-cell's GCRA, reply for reply, so its users switch modules without a
//! client change. The state is the theoretical arrival time (TAT) in nanoseconds since the
//! Unix epoch. With the emission interval `T = period * 10^9 / count` (truncated), the
//! tolerance `tau = T * (max_burst + 1)` and the increment `T * quantity`:
//! `new_tat = max(tat, now) + increment`, admitted iff `now >= new_tat - tau`.
//!
//! All arithmetic is in 128 bits, saturating: no argument can overflow it. A TAT that would
//! not fit redis-cell's format (a signed 64-bit decimal) is an error, never a wrapped value.

/// Nanoseconds (a time since the Unix epoch, or a duration).
pub type Nanos = i128;

const NANOS_PER_SECOND: i128 = 1_000_000_000;
pub const NANOS_PER_MILLI: i128 = 1_000_000;

/// The arguments of one call, validated: `count` and `period` >= 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleParams {
    pub max_burst: u64,
    pub count: u64,
    /// Seconds.
    pub period: u64,
}

impl ThrottleParams {
    /// The emission interval T, in ns (0 when more than one request per nanosecond is asked).
    pub fn interval(&self) -> Nanos {
        i128::from(self.period) * NANOS_PER_SECOND / i128::from(self.count.max(1))
    }
}

/// redis-cell's five integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleReply {
    pub limited: bool,
    pub limit: i64,
    pub remaining: i64,
    /// Whole seconds; -1 when admitted, or when the quantity can never fit.
    pub retry_after: i64,
    /// Whole seconds.
    pub reset_after: i64,
}

impl ThrottleReply {
    /// `0` admitted, `1` limited: the opposite of the RL commands' field 1, as in redis-cell.
    pub fn to_array(&self) -> [i64; 5] {
        [i64::from(self.limited), self.limit, self.remaining, self.retry_after, self.reset_after]
    }
}

/// What to store: the new TAT and the key's expiry (ms), when it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TatStore {
    pub tat: i64,
    pub expire_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleDecision {
    pub reply: ThrottleReply,
    pub store: Option<TatStore>,
}

/// Why a call cannot be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleError {
    /// T is 0: more than one request per nanosecond (redis-cell: "Zero rates are not supported").
    ZeroInterval,
    /// The new TAT would pass 2^63-1 ns, the largest redis-cell's format holds.
    TatTooLarge,
}

/// A duration in redis-cell's whole seconds: the fraction cut off, plus 1 when a positive
/// value's remainder holds at least one whole millisecond (so a caller never retries early).
pub fn whole_seconds(ns: Nanos) -> i64 {
    let seconds = ns / NANOS_PER_SECOND;
    let bump = ns > 0 && (ns % NANOS_PER_SECOND) / NANOS_PER_MILLI > 0;
    i64::try_from(seconds + i128::from(bump)).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
}

/// redis-cell's `remaining`: `(tau - ttl) / T`, with both in whole microseconds divided as
/// doubles and truncated, never below 0. (With T under a few microseconds the whole
/// microseconds can make a slightly negative `tau - ttl` come out at -1: the spec's `max(0, ..)`
/// keeps it at 0.)
fn remaining(tau: Nanos, ttl: Nanos, interval: Nanos) -> i64 {
    let next = tau.saturating_sub(ttl);
    if next <= -interval {
        return 0;
    }
    // `as` on a double saturates and maps NaN (0 / 0) to 0, as redis-cell's own cast does.
    (((next / 1000) as f64 / (interval / 1000) as f64) as i64).max(0)
}

/// Decides one call at `now` (ns) on the stored TAT (None: missing key), for `quantity` units;
/// `has_ttl` is whether the stored key has an expiry (a TAT written by hand may lack one).
pub fn decide(stored: Option<(i64, bool)>, now: Nanos, p: ThrottleParams, quantity: u64) -> Result<ThrottleDecision, ThrottleError> {
    let interval = p.interval();
    if interval == 0 {
        return Err(ThrottleError::ZeroInterval);
    }
    let limit = i64::try_from(u128::from(p.max_burst) + 1).unwrap_or(i64::MAX);
    let tau = interval.saturating_mul(i128::from(p.max_burst) + 1);
    let increment = interval.saturating_mul(i128::from(quantity));
    let tat = stored.map_or(now, |(tat, _)| i128::from(tat));
    let new_tat = tat.max(now).saturating_add(increment);
    let allow_at = new_tat.saturating_sub(tau);
    let expiry_of = |tat: Nanos| u64::try_from((tat + NANOS_PER_MILLI - 1).div_euclid(NANOS_PER_MILLI)).unwrap_or(0);

    if now < allow_at {
        let ttl = tat - now;
        let retry_after = if increment > tau { -1 } else { whole_seconds(allow_at - now) };
        // A TAT written by hand without a TTL gets one, so the key cannot outlive its use.
        let store = stored
            .filter(|(_, has_ttl)| !has_ttl)
            .map(|(tat, _)| TatStore { tat, expire_at: expiry_of(i128::from(tat)).max(expiry_of(now) + 1) });
        let reply =
            ThrottleReply { limited: true, limit, remaining: remaining(tau, ttl, interval), retry_after, reset_after: whole_seconds(ttl) };
        return Ok(ThrottleDecision { reply, store });
    }
    let ttl = new_tat - now;
    let reply =
        ThrottleReply { limited: false, limit, remaining: remaining(tau, ttl, interval), retry_after: -1, reset_after: whole_seconds(ttl) };
    // A quantity of 0 charges nothing: the state stays as it is.
    if quantity == 0 {
        return Ok(ThrottleDecision { reply, store: None });
    }
    let tat = i64::try_from(new_tat).map_err(|_| ThrottleError::TatTooLarge)?;
    // The key lives until the TAT is reached: from then on a missing key means the same.
    Ok(ThrottleDecision { reply, store: Some(TatStore { tat, expire_at: expiry_of(new_tat) }) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::Rng;

    const SECOND: Nanos = NANOS_PER_SECOND;

    /// A simulated key holding a TAT with an expiry in ms, gone once the expiry has come.
    #[derive(Default, Clone)]
    struct Key(Option<(i64, u64)>);

    impl Key {
        fn call(&mut self, now: Nanos, p: ThrottleParams, quantity: u64) -> [i64; 5] {
            let now_ms = u64::try_from(now / NANOS_PER_MILLI).expect("a time");
            if self.0.is_some_and(|(_, at)| at <= now_ms) {
                self.0 = None;
            }
            let d = decide(self.0.map(|(tat, _)| (tat, true)), now, p, quantity).expect("decides");
            if let Some(s) = d.store {
                self.0 = Some((s.tat, s.expire_at));
            }
            d.reply.to_array()
        }
    }

    /// redis-cell's README: `CL.THROTTLE user123 15 30 60 1` on a fresh key.
    #[test]
    fn the_readme_example() {
        let p = ThrottleParams { max_burst: 15, count: 30, period: 60 };
        let now = 1_700_000_000 * SECOND;
        assert_eq!(Key::default().call(now, p, 1), [0, 16, 15, -1, 2]);
    }

    /// redis-cell's own table (limit 5, 1 per second), replayed.
    #[test]
    fn redis_cells_rate_limit_table() {
        let p = ThrottleParams { max_burst: 4, count: 1, period: 1 };
        let start = 1_700_000_000 * SECOND;
        let ms = |n: i128| start + n * NANOS_PER_MILLI;
        let mut key = Key::default();
        let cases: [(Nanos, u64, [i64; 5]); 15] = [
            (start, 6, [1, 5, 5, -1, 0]),
            (start, 1, [0, 5, 4, -1, 1]),
            (start, 1, [0, 5, 3, -1, 2]),
            (start, 1, [0, 5, 2, -1, 3]),
            (start, 1, [0, 5, 1, -1, 4]),
            (start, 1, [0, 5, 0, -1, 5]),
            (start, 1, [1, 5, 0, 1, 5]),
            (ms(3000), 1, [0, 5, 2, -1, 3]),
            (ms(3100), 1, [0, 5, 1, -1, 4]),
            (ms(4000), 1, [0, 5, 1, -1, 4]),
            (ms(8000), 1, [0, 5, 4, -1, 1]),
            (ms(9500), 1, [0, 5, 4, -1, 1]),
            (ms(9500), 0, [0, 5, 4, -1, 1]),
            (ms(9500), 2, [0, 5, 2, -1, 3]),
            (ms(9500), 5, [1, 5, 2, 3, 3]),
        ];
        for (i, (now, quantity, expected)) in cases.into_iter().enumerate() {
            assert_eq!(key.call(now, p, quantity), expected, "case {i}");
        }
    }

    /// Found by the fuzzer: with T of a few microseconds, a refusal whose `tau - ttl` is a
    /// little below 0 came out at remaining -1 (whole microseconds); the spec says max(0, ..).
    #[test]
    fn remaining_is_never_negative_with_intervals_of_microseconds() {
        assert_eq!(remaining(0, 1400, 1500), 0);
        // T = 1500 ns = tau; a TAT 2900 ns ahead: tau - ttl = -1400 ns, -1 whole microsecond.
        let p = ThrottleParams { max_burst: 0, count: 666_666, period: 1 };
        assert_eq!(p.interval(), 1500);
        let now = 1_700_000_000 * SECOND;
        let d = decide(Some((i64::try_from(now + 2900).expect("fits"), true)), now, p, 1).expect("decides");
        assert!(d.reply.limited);
        assert_eq!(d.reply.remaining, 0);
    }

    #[test]
    fn seconds_round_up_from_a_whole_millisecond() {
        assert_eq!(whole_seconds(0), 0);
        assert_eq!(whole_seconds(SECOND), 1);
        assert_eq!(whole_seconds(SECOND + NANOS_PER_MILLI - 1), 1);
        assert_eq!(whole_seconds(SECOND + NANOS_PER_MILLI), 2);
        assert_eq!(whole_seconds(999_999), 0);
        assert_eq!(whole_seconds(-SECOND / 2), 0);
        assert_eq!(whole_seconds(-3 * SECOND / 2), -1);
    }

    #[test]
    fn a_tat_past_2_63_is_an_error_and_huge_numbers_do_not_overflow() {
        let m = i64::MAX as u64;
        let p = ThrottleParams { max_burst: m, count: 1, period: m };
        assert_eq!(decide(None, 1_700_000_000 * SECOND, p, m), Err(ThrottleError::TatTooLarge));
        let d = decide(Some((i64::MAX, true)), 0, ThrottleParams { max_burst: 0, count: 1, period: 1 }, m).expect("refused");
        assert!(d.reply.limited);
        let fast = ThrottleParams { max_burst: 0, count: 2_000_000_000, period: 1 };
        assert_eq!(decide(None, 0, fast, 1), Err(ThrottleError::ZeroInterval));
    }

    /// The spec's formulas, written out plainly (no saturation: the numbers stay small).
    fn reference(tat: Option<i128>, now: i128, p: ThrottleParams, quantity: u64) -> ([i64; 5], Option<i128>) {
        let t = i128::from(p.period) * 1_000_000_000 / i128::from(p.count);
        let tau = t * (i128::from(p.max_burst) + 1);
        let increment = t * i128::from(quantity);
        let tat = tat.unwrap_or(now);
        let new_tat = tat.max(now) + increment;
        let allow_at = new_tat - tau;
        let seconds = |ns: i128| {
            let whole = ns / 1_000_000_000;
            (whole + i128::from(ns > 0 && (ns % 1_000_000_000) >= 1_000_000)) as i64
        };
        let remaining = |ttl: i128| {
            let next = tau - ttl;
            if next > -t {
                (((next / 1000) as f64 / (t / 1000) as f64) as i64).max(0)
            } else {
                0
            }
        };
        let limit = p.max_burst as i64 + 1;
        if now >= allow_at {
            let ttl = new_tat - now;
            ([0, limit, remaining(ttl), -1, seconds(ttl)], (quantity > 0).then_some(new_tat))
        } else {
            let ttl = tat - now;
            let retry = if increment > tau { -1 } else { seconds(allow_at - now) };
            ([1, limit, remaining(ttl), retry, seconds(ttl)], None)
        }
    }

    /// Against the reference: random parameters, quantities (0 and above the limit too),
    /// arrivals in ns with the clock stepping back now and then; the key expires at the TAT.
    #[test]
    fn property_matches_the_spec_formulas() {
        let mut rng = Rng::new(0xCE11);
        let (mut admitted, mut refused) = (0, 0);
        for _case in 0..500 {
            // One case in five with an interval of microseconds (whole-microsecond rounding).
            let count = if rng.chance(5) { rng.range(1, 2_000_000) } else { rng.range(1, 100) };
            let p = ThrottleParams { max_burst: rng.range(0, 20), count, period: rng.range(1, 3) * if count > 100 { 1 } else { 40 } };
            let mut key = Key::default();
            let mut model: Option<i128> = None;
            let mut now = i128::from(rng.range(1 << 30, 1 << 31)) * SECOND;
            // Steps of at least a millisecond: the clock the module reads has no finer grain.
            let span = (i128::from(p.period) * SECOND / i128::from(p.count)).max(NANOS_PER_MILLI);
            for _step in 0..100 {
                now = match rng.range(0, 9) {
                    0 if now > span => now - i128::from(rng.range(0, 3)) * span / 2,
                    1 => now,
                    _ => now + i128::from(rng.range(0, 1000)) * span / 700,
                };
                let now_ms_ns = now - now % NANOS_PER_MILLI;
                // The model's key is gone when the module's is: at its expiry (the TAT, in ms).
                if model.is_some_and(|tat| (tat + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI <= now_ms_ns / NANOS_PER_MILLI) {
                    model = None;
                }
                let quantity = if rng.chance(8) { 0 } else { rng.range(1, p.max_burst + 3) };
                let got = key.call(now_ms_ns, p, quantity);
                let (want, new_tat) = reference(model, now_ms_ns, p, quantity);
                assert_eq!(got, want, "{p:?} now {now_ms_ns} quantity {quantity} tat {model:?}");
                if got[0] == 0 {
                    admitted += 1;
                } else {
                    refused += 1;
                }
                if let Some(t) = new_tat {
                    model = Some(t);
                }
            }
        }
        assert!(admitted > 5000 && refused > 5000, "coverage: {admitted} admitted, {refused} refused");
    }
}

//! Property tests of every command while its numbers change between calls: limits up and
//! down, windows and periods growing and shrinking by large factors, COST, PEEK, REFUND and
//! FORCE after each change, and clock steps. They run the whole decision (`limiter::evaluate`,
//! stored bytes in, write out) on a simulated key that expires as Redis expires keys, so an
//! expiry that is too short shows up as what it costs: more admitted than the limit.
//!
//! Checked on every call, against a model kept apart from the module:
//! - over every span of calls with constant numbers and a clock that does not go back, the
//!   units admitted (REFUND counted) never exceed what the numbers allow: `limit` per
//!   epoch-aligned window (RL.FIXED; RL.SLIDING's current-window count is at most that), per
//!   sliding window (RL.LOG), or `capacity` plus the refill (RL.TOKEN, RL.LEAKY). A span starts
//!   with the usage the module then reports under the new numbers; that usage is forgotten
//!   when the key expires only if no write came in between (after a write the key must live
//!   as long as the usage counts);
//! - after every write, the key's expiry is at least the time until the limiter is empty and
//!   at most the algorithm's bound under the current numbers;
//! - fields 4 and 5 never exceed the time until the key expires (0 when it is gone);
//! - replies are honest: `remaining` is exactly the largest cost admitted, and waiting
//!   `retry_after_ms` admits the same request.

use crate::algo::fixed::WindowParams;
use crate::algo::testkit::{check_reply, Rng};
use crate::algo::token::TokenParams;
use crate::algo::{div_ceil, window_start, Millis, Mode, Reply, Request, NEVER, PEEK};
use crate::args::{Call, Spec};
use crate::codec;
use crate::limiter::{evaluate, Found, Outcome};
use crate::testing::{random_spec, RedisKey};

fn call(key: &mut RedisKey, spec: Spec, req: Request, now: Millis) -> Outcome {
    let outcome = evaluate(&Call { spec, request: req }, key.found(now), now).expect("the module reads what it wrote");
    if let Some(w) = &outcome.write {
        key.apply(w);
    }
    outcome
}

/// The same kind of spec with other numbers: each moved up or down by a large factor or
/// replaced.
pub(crate) fn change(spec: Spec, rng: &mut Rng) -> Spec {
    let mut vary = |v: u64, max: u64| -> u64 {
        let factor = [2, 3, 10, 100, 1000][rng.range(0, 4) as usize];
        let moved = match rng.range(0, 3) {
            0 => v.saturating_mul(factor),
            1 => v / factor,
            2 => v,
            _ => rng.range(1, max),
        };
        moved.clamp(1, max)
    };
    match spec {
        Spec::Fixed(p) => Spec::Fixed(WindowParams { limit: vary(p.limit, 50), window: vary(p.window, 10_000_000) }),
        Spec::Sliding(p) => Spec::Sliding(WindowParams { limit: vary(p.limit, 50), window: vary(p.window, 10_000_000) }),
        Spec::Log(p) => Spec::Log(WindowParams { limit: vary(p.limit, 50), window: vary(p.window, 10_000_000) }),
        Spec::Token(p) => {
            Spec::Token(TokenParams { capacity: vary(p.capacity, 50), rate: vary(p.rate, 20), period: vary(p.period, 10_000_000) })
        }
        Spec::Leaky(p) => {
            Spec::Leaky(TokenParams { capacity: vary(p.capacity, 50), rate: vary(p.rate, 20), period: vary(p.period, 10_000_000) })
        }
    }
}

fn limit_of(spec: Spec) -> u64 {
    match spec {
        Spec::Fixed(p) | Spec::Sliding(p) | Spec::Log(p) => p.limit,
        Spec::Token(p) | Spec::Leaky(p) => p.capacity,
    }
}

/// A time scale for the spec: its window, or the time one unit takes to come back.
fn span_of(spec: Spec) -> u64 {
    match spec {
        Spec::Fixed(p) | Spec::Sliding(p) | Spec::Log(p) => p.window,
        Spec::Token(p) | Spec::Leaky(p) => (p.period / p.rate).max(1) * p.capacity,
    }
}

/// The usage the current numbers allow, as the model keeps it. Every model knows at most as
/// much usage as the contract counts (it starts from what the module reports and forgets
/// early where in doubt), so a module that admits where the model is full has over-admitted.
#[derive(Debug, Clone)]
enum Model {
    /// Units in the epoch-aligned window `start` (RL.FIXED; RL.SLIDING's current window).
    Window { start: Millis, used: u64 },
    /// Units with the time they count from (RL.LOG).
    Log { entries: Vec<(Millis, u64)> },
    /// The deficit in units where one request unit is `period` and `rate` come back per ms
    /// (RL.TOKEN's 1/period tokens; RL.LEAKY's 1/rate ms of backlog), as of `at`.
    Bucket { deficit: u128, at: Millis },
}

struct Span {
    spec: Spec,
    model: Model,
    /// The key's expiry when the span began: usage carried into the span is forgotten then,
    /// unless the span wrote (after a write, the key must live as long as its usage counts).
    carried_until: Option<Millis>,
    wrote: bool,
    now: Millis,
}

impl Span {
    /// A span of calls with `spec`'s numbers from `now`, starting from the usage the module
    /// reports on `key` under these numbers.
    fn start(spec: Spec, key: &mut RedisKey, now: Millis) -> Span {
        let r0 = evaluate(&Call { spec, request: PEEK }, key.found(now), now).expect("reads").reply.remaining;
        let limit = limit_of(spec);
        let model = match spec {
            Spec::Fixed(p) => Model::Window { start: window_start(now, p.window), used: limit - r0 },
            // What the current window counted before is not in the reply: assume nothing.
            Spec::Sliding(p) => Model::Window { start: window_start(now, p.window), used: 0 },
            Spec::Log(p) => {
                let entries = match key.found(now).filter(|f| f.expire_at.is_none_or(|at| at > now)) {
                    Some(f) => {
                        let view = codec::log::LogView::parse(f.bytes).expect("a log");
                        let entries: Vec<(Millis, u64)> = view.entries().map(|e| e.expect("entry")).map(|e| (e.at, e.units)).collect();
                        entries.into_iter().filter(|(at, _)| u128::from(*at) + u128::from(p.window) > u128::from(now)).collect()
                    }
                    None => Vec::new(),
                };
                Model::Log { entries }
            }
            // remaining r0 = floor((capacity * period - deficit) / period): the deficit is at
            // least (capacity - r0 - 1) * period + 1.
            Spec::Token(p) | Spec::Leaky(p) => {
                let least = if r0 >= p.capacity { 0 } else { u128::from(p.capacity - r0 - 1) * u128::from(p.period) + 1 };
                Model::Bucket { deficit: least, at: now }
            }
        };
        let carried_until = key.live_expiry(now).flatten();
        Span { spec, model, carried_until, wrote: false, now }
    }

    /// The model at `now` (>= the span's last call).
    fn advance(&mut self, now: Millis) {
        self.now = now;
        if !self.wrote && self.carried_until.is_some_and(|at| now >= at) {
            self.model = match &self.model {
                Model::Window { start, .. } => Model::Window { start: *start, used: 0 },
                Model::Log { .. } => Model::Log { entries: Vec::new() },
                Model::Bucket { at, .. } => Model::Bucket { deficit: 0, at: *at },
            };
            self.carried_until = None;
        }
        match (&mut self.model, self.spec) {
            (Model::Window { start, used }, Spec::Fixed(p) | Spec::Sliding(p)) => {
                if window_start(now, p.window) != *start {
                    *start = window_start(now, p.window);
                    *used = 0;
                }
            }
            (Model::Log { entries }, Spec::Log(p)) => entries.retain(|(at, _)| u128::from(*at) + u128::from(p.window) > u128::from(now)),
            (Model::Bucket { deficit, at }, Spec::Token(p) | Spec::Leaky(p)) => {
                *deficit = deficit.saturating_sub(u128::from(now - *at) * u128::from(p.rate));
                *at = now;
            }
            _ => unreachable!("model and spec of one kind"),
        }
    }

    /// Whether the model has room for `cost` more units now.
    fn has_room(&self, cost: u64) -> bool {
        let limit = limit_of(self.spec);
        match (&self.model, self.spec) {
            (Model::Window { used, .. }, _) => used + cost <= limit,
            (Model::Log { entries }, _) => entries.iter().map(|e| e.1).sum::<u64>() + cost <= limit,
            (Model::Bucket { deficit, .. }, Spec::Token(p) | Spec::Leaky(p)) => {
                deficit + u128::from(cost) * u128::from(p.period) <= u128::from(p.capacity) * u128::from(p.period)
            }
            _ => unreachable!("model and spec of one kind"),
        }
    }

    fn charge(&mut self, cost: u64) {
        match (&mut self.model, self.spec) {
            (Model::Window { used, .. }, _) => *used += cost,
            (Model::Log { entries }, _) => entries.push((self.now, cost)),
            (Model::Bucket { deficit, .. }, Spec::Token(p) | Spec::Leaky(p)) => *deficit += u128::from(cost) * u128::from(p.period),
            _ => unreachable!("model and spec of one kind"),
        }
    }

    /// Gives back up to `units`, the most recent first.
    fn refund(&mut self, mut units: u64) {
        match (&mut self.model, self.spec) {
            (Model::Window { used, .. }, _) => *used = used.saturating_sub(units),
            (Model::Log { entries }, _) => {
                while let Some(last) = entries.last_mut() {
                    let taken = units.min(last.1);
                    last.1 -= taken;
                    units -= taken;
                    if last.1 > 0 {
                        break;
                    }
                    entries.pop();
                }
            }
            (Model::Bucket { deficit, .. }, Spec::Token(p) | Spec::Leaky(p)) => {
                *deficit = deficit.saturating_sub(u128::from(units) * u128::from(p.period))
            }
            _ => unreachable!("model and spec of one kind"),
        }
    }
}

/// The latest expiry the contract allows for the key as `bytes` after a write at `now`.
fn expiry_bound(spec: Spec, bytes: &[u8], now: Millis) -> u128 {
    let now = u128::from(now);
    match spec {
        Spec::Fixed(p) => now - now % u128::from(p.window) + u128::from(p.window),
        Spec::Sliding(p) => now - now % u128::from(p.window) + 2 * u128::from(p.window),
        Spec::Log(p) => {
            let view = codec::log::LogView::parse(bytes).expect("a log");
            let newest = view.entries().last().expect("an entry").expect("readable").at;
            u128::from(newest) + 2 * u128::from(p.window)
        }
        Spec::Token(p) => {
            let s = codec::token::decode(bytes).expect("a bucket");
            assert_eq!(s.period, p.period, "the state is kept in the current period");
            now + div_ceil(s.owed, u128::from(p.rate)).max(1)
        }
        Spec::Leaky(p) => {
            let s = codec::leaky::decode(bytes).expect("a queue");
            assert_eq!(s.rate, p.rate, "the state is kept in the current rate");
            div_ceil(s.drain, u128::from(p.rate)).max(now + 1)
        }
    }
}

/// After a write at `now`: the key lives at least until the limiter is empty (what a PEEK of
/// it says, read as if it had no TTL), and no longer than the algorithm's bound.
fn check_expiry_after_write(spec: Spec, key: &RedisKey, now: Millis) {
    let Some((bytes, Some(expire_at))) = &key.0 else { panic!("a write leaves no key or no TTL: {key:?}") };
    let untimed = Found { bytes, expire_at: None };
    let empty_in = evaluate(&Call { spec, request: PEEK }, Some(untimed), now).expect("reads").reply.reset_after_ms;
    assert!(
        u128::from(*expire_at) >= u128::from(now) + empty_in as u128,
        "{spec:?} at {now}: expires at {expire_at}, but its usage counts for {empty_in} ms"
    );
    let bound = expiry_bound(spec, bytes, now);
    assert!(u128::from(*expire_at) <= bound, "{spec:?} at {now}: expires at {expire_at}, past the bound {bound}");
}

/// Fields 4 and 5 never exceed the time until the key expires (0 when it is gone).
fn check_waits_within_expiry(spec: Spec, reply: &Reply, key: &RedisKey, now: Millis) {
    let waits = [reply.retry_after_ms, reply.reset_after_ms];
    match key.live_expiry(now) {
        None => assert_eq!(reply.reset_after_ms, 0, "{spec:?} at {now}: no key, yet reset {reply:?}"),
        Some(None) => {}
        Some(Some(at)) => {
            for wait in waits.into_iter().filter(|w| *w != NEVER) {
                assert!(wait as u64 <= at - now, "{spec:?} at {now}: waits {reply:?} past the expiry at {at}");
            }
        }
    }
}

/// Runs `sequences` random sequences of `calls` calls each; returns (admissions checked
/// against the model, number changes).
fn run(seed: u64, sequences: usize, calls: usize) -> (usize, usize) {
    let mut rng = Rng::new(seed);
    let (mut checked, mut changes) = (0, 0);
    for _ in 0..sequences {
        let mut spec = random_spec(&mut rng, 20, 5000);
        let mut key = RedisKey::default();
        let mut now = rng.range(1 << 30, 1 << 40);
        let mut span = Span::start(spec, &mut key, now);
        for _ in 0..calls {
            let scale = span_of(spec);
            let before_now = now;
            now = match rng.range(0, 19) {
                0 if now > scale => now - rng.range(1, scale),
                1..=2 => now + rng.range(0, scale * 3),
                3..=5 => now,
                _ => now + rng.range(0, scale / 4 + 1),
            };
            if rng.chance(5) {
                spec = change(spec, &mut rng);
                changes += 1;
            }
            if now < before_now || spec != span.spec {
                span = Span::start(spec, &mut key, now);
            }
            span.advance(now);

            let limit = limit_of(spec);
            let req = match rng.range(0, 9) {
                0 => Request { cost: rng.range(1, limit + 1), peek: false, mode: Mode::Refund },
                1 => Request { cost: rng.range(1, limit), peek: false, mode: Mode::Force },
                2 => Request::take(rng.range(1, limit + 1), true),
                _ => Request::take(rng.range(1, limit + 1), false),
            };
            let before = key.clone();
            let outcome = call(&mut key, spec, req, now);
            let reply = outcome.reply;
            if outcome.write.is_some() {
                span.wrote = true;
                check_expiry_after_write(spec, &key, now);
            }
            check_waits_within_expiry(spec, &reply, &key, now);
            match req.mode {
                Mode::Take if req.peek => {}
                Mode::Take if reply.allowed => {
                    checked += 1;
                    assert!(
                        span.has_room(req.cost),
                        "over-admission: {spec:?} at {now} admitted {} with the model at {:?}",
                        req.cost,
                        span.model
                    );
                    span.charge(req.cost);
                }
                Mode::Take => {}
                Mode::Force => span.charge(req.cost),
                Mode::Refund => span.refund(req.cost),
            }
            if req.mode == Mode::Take {
                check_reply(&before, now, req.cost, req.peek, reply, false, |k: &mut RedisKey, t, c, pk| {
                    call(k, spec, Request::take(c, pk), t).reply
                });
            }
        }
    }
    (checked, changes)
}

#[test]
fn property_changing_numbers_never_over_admit_and_expiries_stay_in_bounds() {
    let (checked, changes) = run(0x7_2A45, 6000, 80);
    assert!(checked > 100_000 && changes > 50_000, "coverage: {checked} admissions checked, {changes} number changes");
}

/// Issue 14's first report: a REFUND under a grown window kept the old 100 ms expiry, the
/// unit it kept was forgotten and 3 units were admitted in 10 s with a limit of 2.
#[test]
fn log_refund_after_the_window_grew_keeps_the_unit_until_it_leaves() {
    let mut key = RedisKey::default();
    let short = Spec::Log(WindowParams { limit: 2, window: 100 });
    let long = Spec::Log(WindowParams { limit: 2, window: 10_000 });
    let t = 1_000_000;
    assert_eq!(call(&mut key, short, Request::take(2, false), t).reply.to_array(), [1, 2, 0, 0, 100]);
    let refund = Request { cost: 1, peek: false, mode: Mode::Refund };
    assert_eq!(call(&mut key, long, refund, t + 7).reply.to_array(), [1, 2, 1, 0, 9993]);
    assert_eq!(key.live_expiry(t + 7), Some(Some(t + 20_000)));
    assert_eq!(call(&mut key, long, Request::take(2, false), t + 307).reply.to_array(), [0, 2, 1, 9693, 9693]);
}

/// Issue 14's second report: a REFUND under a one-day window kept the one-second expiry, and
/// 9 units were admitted in one day with a limit of 5.
#[test]
fn fixed_refund_after_the_window_grew_keeps_the_count_for_the_new_window() {
    let mut key = RedisKey::default();
    let second = Spec::Fixed(WindowParams { limit: 5, window: 1000 });
    let day = Spec::Fixed(WindowParams { limit: 5, window: 86_400_000 });
    let t = 86_400_000 * 20_000 + 100;
    call(&mut key, second, Request::take(5, false), t);
    let refund = Request { cost: 1, peek: false, mode: Mode::Refund };
    assert_eq!(call(&mut key, day, refund, t + 100).reply.to_array(), [1, 5, 1, 0, 86_400_000 - 200]);
    let r = call(&mut key, day, Request::take(5, false), t + 1200).reply;
    assert_eq!(r.to_array(), [0, 5, 1, 86_400_000 - 1300, 86_400_000 - 1300]);
}

/// RL.LOG's expiry follows a shrinking window: after a write under 1 s, at most the newest
/// entry plus two windows.
#[test]
fn log_expiry_follows_a_shrinking_window() {
    let mut key = RedisKey::default();
    let t = 5_000_000;
    call(&mut key, Spec::Log(WindowParams { limit: 5, window: 86_400_000 }), Request::take(1, false), t);
    call(&mut key, Spec::Log(WindowParams { limit: 5, window: 1000 }), Request::take(1, false), t + 10);
    assert_eq!(key.live_expiry(t + 10), Some(Some(t + 10 + 2000)));
}

/// A denial after the window grew writes nothing: the key keeps its old expiry, and the waits
/// it reports stop there (the limiter is empty from then on).
#[test]
fn waits_never_pass_the_expiry_of_a_key_left_as_it_was() {
    let mut key = RedisKey::default();
    let t = 7_000_000;
    call(&mut key, Spec::Sliding(WindowParams { limit: 2, window: 100 }), Request::take(2, false), t);
    let expiry = key.live_expiry(t).flatten().expect("a TTL");
    let r = call(&mut key, Spec::Sliding(WindowParams { limit: 2, window: 100_000 }), Request::take(1, false), t + 10).reply;
    assert!(!r.allowed);
    assert_eq!((r.retry_after_ms, r.reset_after_ms), ((expiry - t - 10) as i64, (expiry - t - 10) as i64));
}

//! Test support for the pure core: a deterministic random source and a simulated key that
//! expires like a Redis key, driven by a simulated clock.

use super::{Decision, Millis, Reply, Store, Stored};

/// xorshift64*: small, deterministic, good enough to explore arrival patterns.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True one time in `n`.
    pub fn chance(&mut self, n: u64) -> bool {
        self.next_u64().is_multiple_of(n)
    }

    /// The next arrival: mostly small steps, sometimes bursts at the same instant, sometimes
    /// long gaps, and now and then the clock stepping back.
    pub fn advance(&mut self, now: Millis, span: u64) -> Millis {
        match self.next_u64() % 10 {
            0 => now,
            1 => now + self.range(0, span * 4),
            2 if now > span => now - self.range(0, span),
            _ => now + self.range(0, span / 8 + 1),
        }
    }

    /// Like `advance`, but time never goes back: for properties that assume a sane clock.
    pub fn forward(&mut self, now: Millis, span: u64) -> Millis {
        match self.next_u64() % 10 {
            0 => now,
            1 => now + self.range(0, span * 4),
            _ => now + self.range(0, span / 8 + 1),
        }
    }
}

/// One Redis key in a simulated store: a value and an absolute expiry, gone once expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimKey<S> {
    pub value: Option<(S, Option<Millis>)>,
}

impl<S> Default for SimKey<S> {
    fn default() -> Self {
        SimKey { value: None }
    }
}

impl<S: Clone> SimKey<S> {
    /// The value and its expiry as Redis would hand them out at `now`.
    pub fn get(&mut self, now: Millis) -> Option<(S, Option<Millis>)> {
        if let Some((_, Some(at))) = &self.value {
            if *at <= now {
                self.value = None;
            }
        }
        self.value.clone()
    }

    pub fn apply(&mut self, store: Option<Store<S>>) {
        if let Some(s) = store {
            self.value = Some((s.state, Some(s.expire_at)));
        }
    }

    /// One call: `decide` sees the state as Redis would hand it out at `now`, with its expiry; what it stores is applied.
    pub fn call(&mut self, now: Millis, decide: impl FnOnce(Option<Stored<S>>) -> Decision<S>) -> Reply {
        let d = decide(self.get(now).map(|(state, expire_at)| Stored { state, expire_at }));
        self.apply(d.store);
        d.reply
    }
}

/// The reply properties every algorithm shares, checked by probing the limiter as it was
/// before the call (`before`) through `call(state, now, cost, peek)`:
/// - `remaining` is exactly the largest cost admitted right after the call;
/// - waiting `retry_after_ms` admits the same request; when `minimal`, 1 ms less does not;
/// - `retry_after_ms` is -1 exactly when the cost can never be admitted (cost > limit).
pub fn check_reply<K: Clone>(
    before: &K,
    now: Millis,
    cost: u64,
    peek: bool,
    reply: super::Reply,
    minimal: bool,
    call: impl Fn(&mut K, Millis, u64, bool) -> super::Reply,
) {
    let mut after = before.clone();
    if !peek {
        call(&mut after, now, cost, false);
    }
    let k = reply.remaining;
    assert!(k == 0 || call(&mut after.clone(), now, k, true).allowed, "remaining {k} is not admitted: {reply:?}");
    assert!(!call(&mut after.clone(), now, k + 1, true).allowed, "remaining + 1 is admitted: {reply:?}");
    assert_eq!(reply.retry_after_ms == super::NEVER, cost > reply.limit, "retry_after -1 iff cost > limit: {reply:?}");
    if !reply.allowed && reply.retry_after_ms != super::NEVER {
        let wait = reply.retry_after_ms as u64;
        assert!(wait > 0, "denied with no wait: {reply:?}");
        assert!(
            call(&mut before.clone(), now + wait, cost, true).allowed,
            "waiting retry_after does not admit: now {now} cost {cost} {reply:?}"
        );
        if minimal {
            assert!(
                !call(&mut before.clone(), now + wait - 1, cost, true).allowed,
                "waiting 1 ms less admits: now {now} cost {cost} {reply:?}"
            );
        }
    }
}

/// The REFUND and FORCE properties every algorithm shares, probed from `before` (a limiter
/// not in debt) at `now` through `call(state, now, request)`:
/// - REFUND of `units` replies allowed, with no wait, and describes the limiter after it (a
///   PEEK then agrees); it gives back exactly `min(limit, remaining + units)` when `exact`
///   (RL.SLIDING gives back a weighted share of its previous window), never more than a full
///   limiter; a refund of everything leaves the limiter full; on an empty one it writes
///   nothing a PEEK could see;
/// - FORCE of `units` is always admitted and leaves `remaining - units` (0 in debt).
pub fn check_refund_and_force<K: Clone>(
    before: &K,
    now: Millis,
    limit: u64,
    units: u64,
    exact: bool,
    call: impl Fn(&mut K, Millis, super::Request) -> super::Reply,
) {
    use super::{Mode, Request, PEEK};
    let remaining = call(&mut before.clone(), now, PEEK).remaining;

    let mut refunded = before.clone();
    let r = call(&mut refunded, now, Request { cost: units, peek: false, mode: Mode::Refund });
    assert!(r.allowed && r.retry_after_ms == 0, "refund: {r:?}");
    let peek = call(&mut refunded.clone(), now, PEEK);
    assert_eq!((r.remaining, r.reset_after_ms), (peek.remaining, peek.reset_after_ms), "refund reply is not the state after it");
    assert!(r.remaining >= remaining && r.remaining <= limit, "refund of {units}: {remaining} -> {}", r.remaining);
    if exact {
        assert_eq!(r.remaining, remaining.saturating_add(units).min(limit), "refund of {units} from {remaining}");
    }
    let all = call(&mut before.clone(), now, Request { cost: i64::MAX as u64, peek: false, mode: Mode::Refund });
    assert_eq!(all.remaining, limit, "a refund of everything leaves the limiter full");

    let mut forced = before.clone();
    let f = call(&mut forced, now, Request { cost: units, peek: false, mode: Mode::Force });
    assert!(f.allowed, "force: {f:?}");
    assert_eq!(f.remaining, remaining.saturating_sub(units), "force of {units} from {remaining}");
    assert_eq!(f.remaining, call(&mut forced.clone(), now, PEEK).remaining, "force reply is not the state after it");
}

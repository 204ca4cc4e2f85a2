//! The pure core, coverage-guided. Two properties:
//! - on an arbitrary stored value, expiry, clock and parameters: no panic, and a well-formed
//!   reply or a clean error;
//! - over a sequence of calls from an empty key (the fuzzer picks clock jumps both ways,
//!   parameter changes, costs, PEEK): every write reads back, so the module never stores
//!   state it would then refuse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_ratelimit::algo::Algorithm;
use redis_ratelimit::args::{parse, Call};
use redis_ratelimit::limiter::{evaluate, Found, Outcome};
use redis_ratelimit::testing::RedisKey;

fn u64_of(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| acc.rotate_left(8) ^ u64::from(*b))
}

/// A call of `kind` with parameters from 9 bytes: small most of the time, any 63-bit value
/// sometimes.
fn call_of(kind: Algorithm, b: &[u8]) -> Option<Call> {
    let param = |x: &[u8]| -> Option<String> {
        let v = u64_of(x);
        if x.first()? & 3 != 0 { Some((1 + v % 50).to_string()) } else { Some((1 + v % (i64::MAX as u64)).to_string()) }
    };
    let (p1, p2, p3, cost) = (param(b.get(0..2)?)?, param(b.get(2..4)?)?, param(b.get(4..6)?)?, param(b.get(6..8)?)?);
    let mut args: Vec<&[u8]> = match kind {
        Algorithm::Token | Algorithm::Leaky => vec![p1.as_bytes(), p2.as_bytes(), p3.as_bytes()],
        _ => vec![p1.as_bytes(), p3.as_bytes()],
    };
    match b.get(8)? & 7 {
        0 => args.extend([&b"REFUND"[..], cost.as_bytes()]),
        1 => args.extend([&b"COST"[..], cost.as_bytes(), b"FORCE"]),
        x => {
            args.extend([&b"COST"[..], cost.as_bytes()]);
            if x & 1 == 1 {
                args.push(b"PEEK");
            }
        }
    }
    parse(kind, &args).ok()
}

fn check(kind: Algorithm, outcome: &Outcome) {
    let [allowed, limit, remaining, retry, reset] = outcome.reply.to_array();
    assert!((allowed == 0 || allowed == 1) && limit >= 1 && remaining >= 0 && retry >= -1 && reset >= 0);
    // RL.LEAKY replies to an admission with the delay before proceeding (>= 0); the others 0.
    assert!(allowed == 0 || retry == 0 || (kind == Algorithm::Leaky && retry > 0));
    assert!(allowed == 1 || retry != 0, "denied with no wait");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    let kind = Algorithm::ALL[usize::from(mode % 5)];
    if mode & 0x80 == 0 {
        // One call on arbitrary stored bytes.
        let (Some(params), Some(clock)) = (data.get(0..9), data.get(9..13)) else { return };
        let Some(call) = call_of(kind, params) else { return };
        let now = u64_of(clock) % (1 << 42);
        let expire_at = (clock[0] % 3 != 0).then_some(now + 1 + u64::from(clock[1]));
        let value = data.get(13..).unwrap_or_default();
        let found = (!value.is_empty()).then_some(Found { bytes: value, expire_at });
        if let Ok(outcome) = evaluate(&call, found, now) {
            check(kind, &outcome);
        }
        return;
    }
    // A sequence from an empty key: 12 bytes a step (9 of parameters, 3 of clock movement).
    let mut key = RedisKey::default();
    let mut now: u64 = 1 << 40;
    for step in data.chunks_exact(12) {
        let jump = u64::from(u16::from_le_bytes([step[9], step[10]]));
        now = match step[11] % 4 {
            0 => now.saturating_sub(jump),
            1 => now + jump * 1000,
            _ => now + jump % 64,
        };
        let Some(call) = call_of(kind, &step[..9]) else { continue };
        let outcome = match evaluate(&call, key.found(now), now) {
            Ok(o) => o,
            Err(e) => panic!("the module cannot read what it wrote: {}", e.message()),
        };
        check(kind, &outcome);
        if let Some(write) = &outcome.write {
            // Panics on a SETRANGE that would leave stale bytes after it.
            key.apply(write);
            assert!(key.live_expiry(now).flatten().is_some(), "a write left the key without a future expiry");
        }
    }
});

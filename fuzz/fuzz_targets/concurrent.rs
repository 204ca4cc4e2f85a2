//! RL.CONCURRENT, coverage-guided. Two properties:
//! - `args::parse_concurrent` on arbitrary words: no panic; what it accepts is in range (a
//!   limit and a lease from 1 to 2^63-1, an id of 1 to 256 bytes, at most one of PEEK and
//!   RELEASE), what it refuses is a clean `ERR` line;
//! - sequences of calls on a simulated sorted set (`testing::RedisSortedSet`, written by the
//!   same `Write::Leases` the module applies and replicates), from an empty key, with clock jumps
//!   both ways and limits and leases that change between calls: the module always reads what it
//!   wrote; a live holder's renewal is never refused; a new holder is admitted exactly when the
//!   live leases are below the limit; PEEK, a refusal and a release of nothing write nothing;
//!   after every write the key expires exactly with its latest lease (no lease outlives its key);
//!   the replies are well-formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_ratelimit::algo::concurrent::Action;
use redis_ratelimit::args::parse_concurrent;
use redis_ratelimit::codec::Write;
use redis_ratelimit::limiter::evaluate_concurrent;
use redis_ratelimit::testing::RedisSortedSet;

const MAX: u64 = i64::MAX as u64;
/// The latest expiry a lease can have (a score is exact up to 2^53).
const MAX_EXPIRY: u64 = 1 << 53;

fn u64_of(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| acc.rotate_left(8) ^ u64::from(*b))
}

/// The parser on words split at 0xff (an id may hold any other byte, 0 included).
fn parse_words(data: &[u8]) {
    let words: Vec<&[u8]> = data.split(|b| *b == 0xff).collect();
    match parse_concurrent(&words) {
        Ok(call) => {
            assert!((1..=MAX).contains(&call.params.limit) && (1..=MAX).contains(&call.params.lease), "{:?}", call.params);
            assert!((3..=4).contains(&words.len()), "{} words accepted", words.len());
            assert!((1..=256).contains(&words[2].len()), "an id of {} bytes", words[2].len());
            let option = words.get(3).map(|w| w.to_ascii_uppercase());
            let expected = match option.as_deref() {
                None => Action::Acquire,
                Some(b"PEEK") => Action::Peek,
                Some(b"RELEASE") => Action::Release,
                Some(other) => panic!("accepted the option {other:?}"),
            };
            assert_eq!(call.action, expected);
        }
        Err(e) => assert!(e.message().starts_with("ERR "), "{}", e.message()),
    }
}

/// One step of a sequence, from 8 bytes: the holder, the action, the limit, the lease and the
/// clock's move.
fn step_words(b: &[u8]) -> (Vec<u8>, String, String, Option<&'static str>) {
    // Mostly a few holders (renewals, releases, refusals), sometimes odd ids.
    let id = match b[0] % 16 {
        0 => vec![0u8; 256],
        1 => vec![b[1]; 1 + usize::from(b[1])],
        n => format!("h{}", n % 6).into_bytes(),
    };
    let option = match b[2] % 8 {
        0 | 1 => Some("RELEASE"),
        2 => Some("PEEK"),
        _ => None,
    };
    let limit = if b[3] & 0xc0 == 0 { 1 + u64_of(&b[3..5]) % MAX } else { 1 + u64::from(b[3] % 6) };
    let lease = match b[5] % 8 {
        0 => 1 + u64_of(&b[4..6]) % MAX,
        1 => 1,
        _ => 1 + u64::from(u16::from_le_bytes([b[4], b[5]])) % 500,
    };
    (id, limit.to_string(), lease.to_string(), option)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    if mode & 1 == 0 {
        parse_words(data);
        return;
    }
    let mut set = RedisSortedSet::default();
    let mut now: u64 = 1 << 40;
    for b in data.chunks_exact(8) {
        let jump = u64::from(b[7]) | (u64::from(b[6] & 0x0f) << 8);
        now = match b[6] >> 6 {
            0 => now.saturating_sub(jump),
            1 => now + jump * 100,
            _ => now + jump % 64,
        };
        let (id, limit, lease, option) = step_words(b);
        let mut words: Vec<&[u8]> = vec![limit.as_bytes(), lease.as_bytes(), &id];
        words.extend(option.map(str::as_bytes));
        let call = parse_concurrent(&words).unwrap_or_else(|e| panic!("a well-formed call refused: {}", e.message()));

        // What the stored set says, as the module must see it: a key whose expiry has come is
        // gone; a lease whose expiry is at or before now holds no slot.
        let read = set.read(&id, now);
        let key_live = read.as_ref().is_some_and(|(s, _)| s.expire_at.is_none_or(|at| at > now));
        let live = if key_live { set.members.values().filter(|at| **at > now).count() as u64 } else { 0 };
        let own_live = key_live && set.members.get(&id).is_some_and(|at| *at > now);
        let before = set.clone();

        let (summary, expiries) = match read {
            Some((s, e)) => (Some(s), e),
            None => (None, Vec::new()),
        };
        let outcome = evaluate_concurrent(&call, &id, summary, expiries.into_iter().map(Ok), now)
            .unwrap_or_else(|e| panic!("the module cannot read what it wrote: {}", e.message()));
        let r = outcome.reply;
        let p = call.params;
        assert_eq!(r.limit, p.limit);
        assert!(r.retry_after_ms >= 0 && r.reset_after_ms >= 0, "{r:?}");
        match call.action {
            Action::Release => {
                assert_eq!(r.allowed, own_live, "release of a {} lease: {r:?}", if own_live { "live" } else { "missing" });
                assert_eq!(r.retry_after_ms, 0);
                assert_eq!(r.remaining, p.limit.saturating_sub(live - u64::from(own_live)));
                assert_eq!(outcome.write.is_some(), own_live, "a release of nothing writes nothing");
            }
            Action::Acquire | Action::Peek => {
                // A live holder is always renewed; a new one needs a free slot.
                let admit = own_live || live < p.limit;
                assert_eq!(r.allowed, admit, "own_live {own_live}, live {live}, limit {}: {r:?}", p.limit);
                if admit {
                    assert_eq!(r.retry_after_ms, 0);
                } else {
                    assert!(r.retry_after_ms >= 1 && r.retry_after_ms <= r.reset_after_ms, "{r:?}");
                    assert_eq!(r.remaining, 0);
                }
                let writes = admit && call.action == Action::Acquire;
                assert_eq!(outcome.write.is_some(), writes, "{:?} {r:?}", call.action);
                if writes {
                    let taken = u64::from(!own_live);
                    assert_eq!(r.remaining, p.limit.saturating_sub(live + taken));
                } else if admit {
                    assert_eq!(r.remaining, p.limit.saturating_sub(live));
                }
            }
        }
        match &outcome.write {
            None => assert_eq!(set, before, "nothing written, yet the set changed"),
            Some(write) => {
                let Write::Leases { id: written, .. } = write else { panic!("not a lease write: {write:?}") };
                assert_eq!(written.as_slice(), id.as_slice());
                set.apply(write);
                // The key expires exactly with its latest lease; an acquired lease ends in the
                // future, at now + lease (clamped to 2^53).
                match set.members.values().max() {
                    Some(latest) => assert_eq!(set.expire_at, Some(*latest), "{set:?}"),
                    None => assert_eq!(set, RedisSortedSet::default()),
                }
                if call.action == Action::Acquire {
                    let at = set.members[&id];
                    assert_eq!(at, now.saturating_add(p.lease).min(MAX_EXPIRY).max(now + 1));
                    assert_eq!(r.reset_after_ms as u64, set.expire_at.unwrap_or(0) - now);
                } else {
                    assert!(!set.members.contains_key(&id), "released, still held");
                }
            }
        }
    }
});

//! Nanoseconds per decision of the pure core: each algorithm from stored bytes to reply and
//! write (decode, decide, encode), the work the module does besides parsing arguments and
//! talking to Redis. The arguments are parsed once; the stored value lives in a reused buffer
//! (`testing::RedisKey`) as it does in Redis, so no allocation is timed that the module does not
//! do.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use redis_ratelimit::algo::Algorithm;
use redis_ratelimit::args::{parse, Call};
use redis_ratelimit::command::Command;
use redis_ratelimit::limiter::evaluate;
use redis_ratelimit::stats::{self, Outcome};
use redis_ratelimit::testing::RedisKey;
use redis_ratelimit::top;

/// Runs one call against the key, applying the write as Redis would, so each iteration sees
/// the state the previous one left.
fn step(call: &Call, key: &mut RedisKey, now: u64) -> i64 {
    let outcome = evaluate(call, key.found(now), now).unwrap_or_else(|e| panic!("{}", e.message()));
    if let Some(write) = &outcome.write {
        key.apply(write);
    }
    outcome.reply.to_array()[0]
}

fn decisions(c: &mut Criterion) {
    let cases: [(&str, Algorithm, &[&[u8]]); 4] = [
        ("fixed", Algorithm::Fixed, &[b"1000000000", b"1h"]),
        ("sliding", Algorithm::Sliding, &[b"1000000000", b"1h"]),
        ("log_limit_100", Algorithm::Log, &[b"100", b"100ms"]),
        ("token", Algorithm::Token, &[b"1000000000", b"1000", b"1s"]),
    ];
    let mut group = c.benchmark_group("decision");
    for (name, algorithm, args) in cases {
        let call = parse(algorithm, args).unwrap_or_else(|e| panic!("{}", e.message()));
        group.bench_function(name, |b| {
            let mut key = RedisKey::default();
            let mut now = 1_700_000_000_000u64;
            b.iter(|| {
                now += 1;
                black_box(step(black_box(&call), &mut key, now))
            })
        });
    }
    group.finish();
}

/// What `INFO ratelimit` costs each call: one relaxed atomic increment, measured beside the
/// decisions above (a whole command costs the server microseconds).
fn info_counters(c: &mut Criterion) {
    c.bench_function("info_counter_per_call", |b| b.iter(|| stats::record(black_box(Command::Fixed), Outcome::Allowed)));
}

/// What RL.TOP costs each refusal (an admission costs it nothing): one record into the node's
/// table through its lock, for one key refused again and again (a tracked counter goes up), and
/// for a new key each time among 100,000 (the smallest counter is evicted: the dearest case).
fn top_refusals(c: &mut Criterion) {
    let mut group = c.benchmark_group("top_refusal");
    let now = 1_700_000_000_000u64;
    group.bench_function("hot_key", |b| b.iter(|| top::refused(black_box(b"tenant:42:api"), now)));
    let cold: Vec<Vec<u8>> = (0..100_000).map(|i| format!("tenant:{i}:api").into_bytes()).collect();
    group.bench_function("cold_keys", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % cold.len();
            top::refused(black_box(&cold[i]), now)
        })
    });
    let long = vec![b'k'; 300];
    group.bench_function("long_key_300_bytes", |b| b.iter(|| top::refused(black_box(&long), now)));
    group.finish();
    top::reset();
}

/// A refused RL.FIXED decision with and without RL.TOP's recording, side by side: what
/// tracking adds to a refusal (an admission is not recorded).
fn refusals_tracked_and_not(c: &mut Criterion) {
    let call = parse(Algorithm::Fixed, &[b"1", b"1h"]).unwrap_or_else(|e| panic!("{}", e.message()));
    let now = 1_700_000_000_000u64;
    let mut key = RedisKey::default();
    assert_eq!(step(&call, &mut key, now), 1, "the first call is admitted, every later one refused");
    let cold: Vec<Vec<u8>> = (0..100_000).map(|i| format!("tenant:{i}:api").into_bytes()).collect();
    let mut group = c.benchmark_group("refused_decision");
    group.bench_function("untracked", |b| b.iter(|| black_box(step(black_box(&call), &mut key, now))));
    group.bench_function("tracked_hot_key", |b| {
        b.iter(|| {
            let allowed = step(black_box(&call), &mut key, now);
            top::refused(black_box(b"tenant:42:api"), now);
            black_box(allowed)
        })
    });
    group.bench_function("tracked_cold_keys", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % cold.len();
            let allowed = step(black_box(&call), &mut key, now);
            top::refused(black_box(&cold[i]), now);
            black_box(allowed)
        })
    });
    group.finish();
    assert_eq!(step(&call, &mut key, now), 0, "still refusing");
    top::reset();
}

criterion_group!(benches, decisions, info_counters, top_refusals, refusals_tracked_and_not);
criterion_main!(benches);

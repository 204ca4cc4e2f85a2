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

criterion_group!(benches, decisions, info_counters);
criterion_main!(benches);

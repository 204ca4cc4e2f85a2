//! Nanoseconds per decision of the pure core: each algorithm from stored bytes to reply and
//! write (decode, decide, encode), the work the module does besides parsing arguments and
//! talking to Redis. The arguments are parsed once; the stored value lives in a reused buffer
//! as it does in Redis, so no allocation is timed that the module does not do.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use redis_ratelimit::args::{parse, Call};
use redis_ratelimit::codec::{Kind, Write};
use redis_ratelimit::limiter::{evaluate, Found};

/// Runs one call against `value`, applying the write as Redis would, so each iteration
/// sees the state the previous one left.
fn step(call: &Call, value: &mut Vec<u8>, expire: &mut Option<u64>, now: u64) -> i64 {
    let found = (!value.is_empty()).then(|| Found { bytes: value.as_slice(), expire_at: *expire });
    let outcome = evaluate(call, found, now).unwrap_or_else(|e| panic!("{}", e.message()));
    match outcome.write {
        Some(Write::Value { bytes, expire_at }) => {
            value.clear();
            value.extend_from_slice(bytes.as_slice());
            *expire = Some(expire_at);
        }
        Some(Write::Range { offset, bytes, expire_at }) => {
            let b = bytes.as_slice();
            value.resize(value.len().max(offset + b.len()), 0);
            value[offset..offset + b.len()].copy_from_slice(b);
            if let Some(at) = expire_at {
                *expire = Some(at);
            }
        }
        None => {}
    }
    outcome.reply.to_array()[0]
}

fn decisions(c: &mut Criterion) {
    let cases: [(&str, Kind, &[&[u8]]); 4] = [
        ("fixed", Kind::Fixed, &[b"1000000000", b"1h"]),
        ("sliding", Kind::Sliding, &[b"1000000000", b"1h"]),
        ("log_limit_100", Kind::Log, &[b"100", b"100ms"]),
        ("token", Kind::Token, &[b"1000000000", b"1000", b"1s"]),
    ];
    let mut group = c.benchmark_group("decision");
    for (name, kind, args) in cases {
        let call = parse(kind, args).unwrap_or_else(|e| panic!("{}", e.message()));
        group.bench_function(name, |b| {
            let mut value = Vec::with_capacity(4096);
            let mut expire = None;
            let mut now = 1_700_000_000_000u64;
            b.iter(|| {
                now += 1;
                black_box(step(black_box(&call), &mut value, &mut expire, now))
            })
        });
    }
    group.finish();
}

/// What `INFO ratelimit` costs each call: one relaxed atomic increment, measured beside the
/// decisions above (a whole command costs the server microseconds).
fn info_counters(c: &mut Criterion) {
    c.bench_function("info_counter_per_call", |b| {
        b.iter(|| redis_ratelimit::stats::record(black_box(Kind::Fixed), redis_ratelimit::stats::Outcome::Allowed))
    });
}

criterion_group!(benches, decisions, info_counters);
criterion_main!(benches);

//! CL.THROTTLE's parser and core, coverage-guided:
//! - arbitrary argument vectors: no panic; what the parser accepts is in range;
//! - arbitrary stored bytes, clock and arguments: no panic, a well-formed reply or a clean error;
//! - a sequence of calls from an empty key (clock both ways, quantities, parameter changes):
//!   every TAT written reads back, and every write leaves a future expiry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_ratelimit::algo::gcra::{decide, ThrottleParams, NANOS_PER_MILLI as NS_PER_MS};
use redis_ratelimit::args::parse_throttle;
use redis_ratelimit::codec::tat;

const MAX: u64 = i64::MAX as u64;

fn u64_of(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| acc.rotate_left(8) ^ u64::from(*b))
}

/// Parameters from 6 bytes: small most of the time, any 63-bit value sometimes.
fn params_of(b: &[u8]) -> Option<(ThrottleParams, u64)> {
    let v = |x: &[u8]| -> Option<u64> {
        let n = u64_of(x);
        Some(if x.first()? & 3 != 0 { n % 50 } else { n % MAX })
    };
    let p = ThrottleParams { max_burst: v(b.get(0..2)?)?, count: 1 + v(b.get(2..3)?)?, period: 1 + v(b.get(3..4)?)? };
    Some((p, v(b.get(4..6)?)?))
}

fn check(reply: [i64; 5]) {
    let [limited, limit, remaining, retry, _reset] = reply;
    assert!((limited == 0 || limited == 1) && limit >= 1 && remaining >= 0 && retry >= -1, "{reply:?}");
    assert!(limited == 1 || retry == -1, "admitted with a retry-after");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    match mode % 3 {
        0 => {
            let args: Vec<&[u8]> = data.split(|b| *b == 0).collect();
            if let Ok(call) = parse_throttle(&args) {
                let p = call.params;
                assert!(p.max_burst <= MAX && (1..=MAX).contains(&p.count) && (1..=MAX).contains(&p.period) && call.quantity <= MAX);
            }
        }
        1 => {
            let (Some(params), Some(clock)) = (data.get(0..6), data.get(6..10)) else { return };
            let Some((p, quantity)) = params_of(params) else { return };
            let now = i128::from(u64_of(clock) % (1 << 42)) * NS_PER_MS;
            let Ok(stored) = tat::decode(data.get(10..).unwrap_or_default()) else { return };
            if let Ok(d) = decide(Some((stored, clock[0] % 2 == 0)), now, p, quantity) {
                check(d.reply.to_array());
            }
        }
        _ => {
            // A sequence from an empty key: 9 bytes a step (6 of parameters, 3 of clock).
            let mut key: Option<(Vec<u8>, u64)> = None;
            let mut now_ms: u64 = 1 << 40;
            for step in data.chunks_exact(9) {
                let jump = u64::from(u16::from_le_bytes([step[6], step[7]]));
                now_ms = match step[8] % 4 {
                    0 => now_ms.saturating_sub(jump),
                    1 => now_ms + jump * 1000,
                    _ => now_ms + jump % 64,
                };
                if key.as_ref().is_some_and(|(_, at)| *at <= now_ms) {
                    key = None;
                }
                let Some((p, quantity)) = params_of(&step[..6]) else { continue };
                let stored = key.as_ref().map(|(bytes, _)| tat::decode(bytes).expect("the module reads the TAT it wrote"));
                let Ok(d) = decide(stored.map(|t| (t, true)), i128::from(now_ms) * NS_PER_MS, p, quantity) else { continue };
                check(d.reply.to_array());
                if let Some(s) = d.store {
                    assert!(s.expire_at > now_ms || quantity == 0, "a write left no future expiry");
                    key = Some((tat::encode(s.tat).as_slice().to_vec(), s.expire_at));
                }
            }
        }
    }
});

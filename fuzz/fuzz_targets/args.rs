//! The argument parser on arbitrary argument vectors: never panics; what it accepts is in
//! range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_ratelimit::algo::Algorithm;
use redis_ratelimit::args::{parse, parse_all, Spec};

const MAX: u64 = i64::MAX as u64;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let algorithm = Algorithm::ALL[usize::from(selector % 5)];
    let args: Vec<&[u8]> = rest.split(|b| *b == 0).collect();
    // RL.ALL's specs and options, for 1 to 4 keys.
    if selector & 0x80 != 0 {
        let keys = 1 + usize::from(selector & 3);
        if let Ok(call) = parse_all(keys, &args) {
            assert_eq!(call.specs.len(), keys);
            assert!((1..=MAX).contains(&call.request.cost));
        }
        return;
    }
    if let Ok(call) = parse(algorithm, &args) {
        assert!((1..=MAX).contains(&call.request.cost));
        match call.spec {
            Spec::Fixed(p) | Spec::Sliding(p) | Spec::Log(p) => assert!((1..=MAX).contains(&p.limit) && (1..=MAX).contains(&p.window)),
            Spec::Token(p) | Spec::Leaky(p) => assert!((1..=MAX).contains(&p.capacity) && (1..=MAX).contains(&p.rate) && (1..=MAX).contains(&p.period)),
        }
    }
});

//! Sustained load: mixed RL traffic from many connections over keys with short windows, for
//! LOAD_SECONDS (default 15: the slice `make test` runs; `make load` runs minutes). Reports
//! throughput and latency percentiles; the server must answer every call with a well-formed
//! reply, and once the windows have passed, every key must be gone and `used_memory` back at
//! its baseline.

mod common;

use common::*;
use std::time::{Duration, Instant};

const CONNECTIONS: u64 = 24;
const KEYS: u64 = 50_000;

fn used_memory(con: &mut Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query(con).expect("INFO");
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).expect("used_memory")
}

/// One connection's traffic until `until`: per-call latencies in microseconds, and the
/// number of admitted calls.
fn drive(port: u16, seed: u64, until: Instant) -> (Vec<u32>, u64) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("client");
    let mut con = client.get_connection().expect("connect");
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut latencies, mut admitted) = (Vec::new(), 0u64);
    while Instant::now() < until {
        let key = next() % KEYS;
        let window = format!("{}ms", 200 + next() % 800);
        let limit = (1 + next() % 20).to_string();
        let mut cmd = match next() % 4 {
            0 => redis::cmd("RL.FIXED").arg(format!("f:{key}")).arg(&limit).arg(&window).clone(),
            1 => redis::cmd("RL.SLIDING").arg(format!("s:{key}")).arg(&limit).arg(&window).clone(),
            2 => redis::cmd("RL.LOG").arg(format!("l:{key}")).arg(&limit).arg(&window).clone(),
            _ => redis::cmd("RL.TOKEN").arg(format!("t:{key}")).arg(&limit).arg(1 + next() % 5).arg(&window).clone(),
        };
        cmd.arg("COST").arg(1 + next() % 3);
        if next() % 10 == 0 {
            cmd.arg("PEEK");
        }
        let start = Instant::now();
        let reply: Vec<i64> = cmd.query(&mut con).unwrap_or_else(|e| panic!("call failed under load: {e}"));
        latencies.push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
        assert_eq!(reply.len(), 5, "{reply:?}");
        assert!(reply[0] == 0 || reply[0] == 1, "{reply:?}");
        assert!(reply[2] >= 0 && reply[2] <= reply[1] && reply[3] >= -1 && reply[4] >= 0, "{reply:?}");
        admitted += reply[0] as u64;
    }
    (latencies, admitted)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

#[test]
fn sustained_mixed_load_then_memory_back_to_baseline() {
    let seconds: u64 = std::env::var("LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let s = Server::start_with(true, &["--hz", "100"]);
    let mut c = s.connect();
    let baseline = used_memory(&mut c);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let port = s.port;
    let workers: Vec<_> = (0..CONNECTIONS).map(|i| std::thread::spawn(move || drive(port, i + 1, until))).collect();
    // Sample the keyspace and memory while the traffic runs.
    let mut peak_keys = 0i64;
    let mut peak_memory = baseline;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(500));
        if let Value::Int(n) = run(&mut c, &["DBSIZE"]) {
            peak_keys = peak_keys.max(n);
        }
        peak_memory = peak_memory.max(used_memory(&mut c));
    }
    let mut latencies = Vec::new();
    let mut admitted = 0;
    for w in workers {
        let (l, a) = w.join().expect("a load connection failed");
        latencies.extend(l);
        admitted += a;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let calls = latencies.len();
    eprintln!(
        "load: {calls} calls in {elapsed:.1} s over {CONNECTIONS} connections = {:.0} calls/s ({admitted} admitted); \
         latency ms p50 {:.3} p99 {:.3} p99.9 {:.3} max {:.3}; keys peak {peak_keys}; used_memory baseline {baseline}, peak {peak_memory}",
        calls as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        percentile(&latencies, 1.0),
    );
    assert!(calls as u64 > seconds * 1000, "only {calls} calls in {seconds} s");
    assert!(peak_keys > 1000, "the traffic kept only {peak_keys} keys alive");
    // Every window is at most 1 s and a token bucket refills within 20 s: all keys expire.
    assert!(eventually(Duration::from_secs(40), || run(&mut c, &["DBSIZE"]) == Value::Int(0)), "keys left: {:?}", run(&mut c, &["DBSIZE"]));
    let after = used_memory(&mut c);
    eprintln!("load: used_memory after expiry {after} (baseline {baseline})");
    assert!(after < baseline + 200_000, "used_memory {baseline} -> {peak_memory} -> {after}");
}

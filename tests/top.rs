//! RL.TOP over the wire (shared/spec/operations.md, "RL.TOP"), and RL.LEAKY's wait counters in
//! `INFO ratelimit`. The fading of old refusals needs a minute of the server's clock: it is
//! proven in the pure core's property tests on a simulated clock (`src/algo/top.rs`); here the
//! entries, their bound, RESET, the count, the errors, ACL and replicas.

mod common;

use common::*;
use std::collections::HashMap;

/// RL.TOP's reply as (key, refusals, overcount).
fn top(con: &mut Connection, args: &[&str]) -> Vec<(String, i64, i64)> {
    let mut cmd = redis::cmd("RL.TOP");
    for a in args {
        cmd.arg(*a);
    }
    let reply: Vec<(Vec<u8>, i64, i64)> = cmd.query(con).unwrap_or_else(|e| panic!("RL.TOP {args:?}: {e}"));
    reply.into_iter().map(|(k, r, o)| (String::from_utf8_lossy(&k).into_owned(), r, o)).collect()
}

/// Each entry within the Space-Saving bound of the true refusals: `refusals - overcount <= true
/// <= refusals`; most refused first.
fn assert_within_bound(answer: &[(String, i64, i64)], truth: &HashMap<String, i64>) {
    for (key, refusals, overcount) in answer {
        let t = truth.get(key).copied().unwrap_or(0);
        assert!(*overcount >= 0 && refusals - overcount <= t && t <= *refusals, "{key}: {refusals} - {overcount} vs true {t}");
    }
    assert!(answer.windows(2).all(|w| w[0].1 >= w[1].1), "not most refused first: {answer:?}");
}

/// A refusal is one of the call's replies saying no: RL commands' field 1 = 0, CL.THROTTLE's 1.
fn refused(cmd: &[&str], reply: &[i64]) -> bool {
    if cmd[0] == "CL.THROTTLE" {
        reply[0] == 1
    } else {
        reply[0] == 0
    }
}

#[test]
fn hot_keys_among_100_000_cold_ones_are_named_within_the_bound() {
    if !module_style() {
        return; // the module's own: the script library has no shared state for RL.TOP
    }
    let s = Server::start();
    let mut c = s.connect();
    // Every command refuses: each hot key is one command's, refused on every call but the
    // first (RL.ALL's refusal is its decisive key's, the second).
    let hot: Vec<Vec<String>> = [
        "RL.FIXED hot:fixed 1 1h",
        "RL.SLIDING hot:sliding 1 1h",
        "RL.LOG hot:log 1 1h",
        "RL.TOKEN hot:token 1 1 1h",
        "RL.LEAKY hot:leaky 1 1 1h",
        "RL.CONCURRENT hot:concurrent 1 1h",
        "RL.ALL 2 {hot}:all:wide {hot}:all:narrow FIXED 100000 1h FIXED 1 1h",
        "CL.THROTTLE hot:throttle 0 1 3600",
    ]
    .iter()
    .map(|line| line.split(' ').map(str::to_owned).collect())
    .collect();
    let mut truth: HashMap<String, i64> = HashMap::new();
    let mut pipe = redis::pipe();
    let mut calls: Vec<Vec<String>> = Vec::new();
    for cold in 0..100_000 {
        // Refused once: admitted, then refused.
        for _ in 0..2 {
            calls.push(vec!["RL.FIXED".into(), format!("cold:{cold}"), "1".into(), "1h".into()]);
        }
        if cold % 6 == 0 {
            let mut call = hot[(cold / 6) % hot.len()].clone();
            if call[0] == "RL.CONCURRENT" {
                call.push(format!("holder{cold}"));
            }
            calls.push(call);
        }
    }
    for call in &calls {
        pipe.cmd(&call[0]).arg(&call[1..]);
    }
    let replies: Vec<Vec<i64>> = pipe.query(&mut c).expect("the traffic");
    for (call, reply) in calls.iter().zip(&replies) {
        let words: Vec<&str> = call.iter().map(String::as_str).collect();
        if refused(&words, reply) {
            let key = if call[0] == "RL.ALL" { call[2 + reply[5] as usize - 1].clone() } else { call[1].clone() };
            *truth.entry(key).or_default() += 1;
        }
    }
    assert_eq!(truth.len(), 100_000 + hot.len(), "every cold key refused once, every hot key often");
    let answer = top(&mut c, &["10"]);
    assert_eq!(answer.len(), 10);
    assert_within_bound(&answer, &truth);
    let mut named: Vec<&str> = answer[..hot.len()].iter().map(|e| e.0.as_str()).collect();
    named.sort();
    assert_eq!(
        named,
        ["hot:concurrent", "hot:fixed", "hot:leaky", "hot:log", "hot:sliding", "hot:throttle", "hot:token", "{hot}:all:narrow"],
        "{answer:?}"
    );
    eprintln!("RL.TOP 10 after 100,000 cold keys refused once and 8 hot keys refused ~2,080 times each:");
    for (key, refusals, overcount) in &answer {
        eprintln!("  {key}: refusals {refusals}, overcount {overcount}, true {}", truth.get(key).copied().unwrap_or(0));
    }
}

#[test]
fn peeks_refunds_and_admissions_are_not_refusals() {
    if !module_style() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    assert_eq!(top(&mut c, &[]), []);
    rl(&mut c, &["RL.FIXED", "k", "1", "1h"]);
    for _ in 0..3 {
        assert_eq!(rl(&mut c, &["RL.FIXED", "k", "1", "1h"])[0], 0);
    }
    for _ in 0..5 {
        assert_eq!(rl(&mut c, &["RL.FIXED", "k", "1", "1h", "PEEK"])[0], 0);
    }
    rl(&mut c, &["RL.FIXED", "k", "1", "1h", "REFUND", "1"]);
    rl(&mut c, &["RL.FIXED", "admitted", "100", "1h"]);
    rl(&mut c, &["RL.CONCURRENT", "c", "1", "1h", "a"]);
    rl(&mut c, &["RL.CONCURRENT", "c", "1", "1h", "b", "PEEK"]);
    rl(&mut c, &["RL.CONCURRENT", "c", "1", "1h", "b", "RELEASE"]);
    rl(&mut c, &["CL.THROTTLE", "t", "0", "1", "3600"]);
    rl(&mut c, &["CL.THROTTLE", "t", "0", "1", "3600", "0"]);
    assert_eq!(top(&mut c, &[]), [("k".to_owned(), 3, 0)]);
}

#[test]
fn count_limits_the_answer_and_reset_empties_it() {
    if !module_style() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let mut truth = HashMap::new();
    for i in 0..120 {
        let key = format!("k{i:03}");
        for _ in 0..=(i % 4) + 1 {
            rl(&mut c, &["RL.FIXED", &key, "1", "1h"]);
        }
        truth.insert(key, i64::from(i % 4) + 1);
    }
    assert_eq!(top(&mut c, &[]).len(), 10, "10 by default");
    assert_eq!(top(&mut c, &["3"]).len(), 3);
    let all = top(&mut c, &["100"]);
    assert_eq!(all.len(), 100);
    assert_within_bound(&all, &truth);
    // Under 256 keys nothing was evicted: exact, most refused first, ties by key.
    assert!(all.iter().all(|e| e.2 == 0));
    assert_eq!(all[0], ("k003".to_owned(), 4, 0));
    assert_eq!(run(&mut c, &["RL.TOP", "RESET"]), Value::Okay);
    assert_eq!(top(&mut c, &[]), []);
    assert_eq!(run(&mut c, &["RL.TOP", "reset"]), Value::Okay);
}

#[test]
fn bad_arguments_are_clear_errors() {
    if !module_style() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    for bad in ["0", "101", "-1", "ten", "1.5", ""] {
        assert_eq!(err(&mut c, &["RL.TOP", bad]), "ERR count must be an integer from 1 to 100", "{bad:?}");
    }
    assert_eq!(err(&mut c, &["RL.TOP", "10", "RESET"]), "ERR syntax error, too many arguments");
    assert_eq!(err(&mut c, &["RL.TOP", "RESET", "now"]), "ERR syntax error, too many arguments");
}

#[test]
fn long_keys_are_shown_by_their_first_128_bytes_and_a_marker() {
    if !module_style() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let start = "x".repeat(128);
    for tail in ["a", "b", "c"] {
        let key = format!("{start}{tail}");
        rl(&mut c, &["RL.FIXED", &key, "1", "1h"]);
        rl(&mut c, &["RL.FIXED", &key, "1", "1h"]);
    }
    assert_eq!(top(&mut c, &[]), [(format!("{start}..."), 3, 0)]);
}

/// RL.TOP is `admin` (ACL @admin, @dangerous) and `@ratelimit`: a user without @admin is
/// refused it, as SLOWLOG. Where the server has no module ACL categories (before Redis 7.2),
/// commands are granted by name: one granted the RL commands but not RL.TOP is refused it.
#[test]
fn a_user_without_admin_is_refused() {
    if !module_style() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let version = server_version(&mut c);
    let valkey = is_valkey(&mut c);
    let builtin = valkey || version >= (7, 2, 0);
    let own = if valkey { version >= (8, 0, 0) } else { version >= (7, 4, 0) };
    let flags = flatten(run(&mut c, &["COMMAND", "INFO", "rl.top"]));
    assert!(flags.iter().any(|f| f == "admin") && !flags.iter().any(|f| f == "write"), "{flags:?}");
    run(&mut c, &["ACL", "SETUSER", "gw", "on", ">pw", "~*", "+rl.fixed", "+rl.token"]);
    let mut gw = s.connect();
    run(&mut gw, &["AUTH", "gw", "pw"]);
    assert_eq!(rl(&mut gw, &["RL.FIXED", "k", "1", "1h"])[0], 1);
    assert!(err(&mut gw, &["RL.TOP"]).starts_with("NOPERM"));
    if builtin {
        run(&mut c, &["ACL", "SETUSER", "ops", "on", ">pw", "~*", "+@all", "-@admin"]);
        let mut ops = s.connect();
        run(&mut ops, &["AUTH", "ops", "pw"]);
        assert_eq!(rl(&mut ops, &["RL.FIXED", "k2", "1", "1h"])[0], 1);
        assert!(err(&mut ops, &["RL.TOP"]).starts_with("NOPERM"));
        assert!(err(&mut ops, &["RL.TOP", "RESET"]).starts_with("NOPERM"));
        run(&mut c, &["ACL", "SETUSER", "admin", "on", ">pw", "~*", "+@admin"]);
        let mut admin = s.connect();
        run(&mut admin, &["AUTH", "admin", "pw"]);
        assert_eq!(top(&mut admin, &[]), []);
    }
    if own {
        run(&mut c, &["ACL", "SETUSER", "limiter", "on", ">pw", "~*", "+@ratelimit", "-@admin"]);
        let mut limiter = s.connect();
        run(&mut limiter, &["AUTH", "limiter", "pw"]);
        assert_eq!(rl(&mut limiter, &["RL.FIXED", "k3", "1", "1h"])[0], 1);
        assert!(err(&mut limiter, &["RL.TOP"]).starts_with("NOPERM"));
    }
}

/// Per node, not replicated: a replica answers empty, whether its primary refused or it did
/// (a writable replica running RL commands itself).
#[test]
fn a_replica_answers_empty() {
    if !module_style() {
        return;
    }
    let primary = Server::start();
    let replica = Server::start_with(true, &["--replicaof", "127.0.0.1", &primary.port.to_string(), "--replica-read-only", "no"]);
    let mut r = replica.connect();
    assert!(
        eventually(std::time::Duration::from_secs(10), || info_field(&mut r, "replication", "master_link_status") == "up"),
        "replica never synced"
    );
    let mut p = primary.connect();
    for _ in 0..3 {
        rl(&mut p, &["RL.FIXED", "k", "1", "1h"]);
    }
    wait_for_replica(&mut p);
    assert_eq!(top(&mut p, &[]), [("k".to_owned(), 2, 0)]);
    assert_eq!(top(&mut r, &[]), []);
    // Refusals made on the replica itself are not shown either.
    for _ in 0..3 {
        rl(&mut r, &["RL.FIXED", "local", "1", "1h"]);
    }
    assert_eq!(top(&mut r, &[]), []);
    assert_eq!(run(&mut r, &["RL.TOP", "RESET"]), Value::Okay);
    // Nothing of RL.TOP reached the replica's dataset.
    assert_eq!(get_bytes(&mut r, "k"), Some(b"1".to_vec()));
}

/// The waits RL.LEAKY hands out, in INFO ratelimit: sum, count, waits above 0 and the
/// cumulative buckets equal what the replies said, exactly; PEEK, REFUND and refusals are not
/// waits, FORCE is.
#[test]
fn info_counts_the_waits_leaky_hands_out() {
    if !module_style() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let mut delays = Vec::new();
    // Delays of 0, 50, 100, ... 1450 ms; then 0, 6 s, 12 s; then a forced one.
    for _ in 0..30 {
        let r = rl(&mut c, &["RL.LEAKY", "fast", "30", "1", "50ms"]);
        assert_eq!(r[0], 1);
        delays.push(r[3]);
    }
    for _ in 0..3 {
        let r = rl(&mut c, &["RL.LEAKY", "slow", "3", "1", "6s"]);
        assert_eq!(r[0], 1);
        delays.push(r[3]);
    }
    assert_eq!(rl(&mut c, &["RL.LEAKY", "slow", "3", "1", "6s"])[0], 0, "a refusal is no wait");
    rl(&mut c, &["RL.LEAKY", "slow", "3", "1", "6s", "PEEK"]);
    rl(&mut c, &["RL.LEAKY", "fast", "30", "1", "50ms", "REFUND", "1"]);
    let r = rl(&mut c, &["RL.LEAKY", "slow", "3", "1", "6s", "FORCE"]);
    assert_eq!(r[0], 1);
    delays.push(r[3]);
    assert!(delays.iter().all(|d| *d >= 0));
    let info: String = redis::cmd("INFO").arg("ratelimit").query(&mut c).unwrap();
    let field = |name: &str| -> i64 {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("ratelimit_leaky_{name}:")))
            .unwrap_or_else(|| panic!("no ratelimit_leaky_{name} in {info}"))
            .trim()
            .parse()
            .unwrap()
    };
    let le = |bound: i64| delays.iter().filter(|d| **d <= bound).count() as i64;
    assert_eq!(field("wait_ms_sum"), delays.iter().sum::<i64>(), "{info}");
    assert_eq!(field("wait_ms_count"), delays.len() as i64);
    assert_eq!(field("wait_delayed"), delays.iter().filter(|d| **d > 0).count() as i64);
    for bound in [10, 100, 1000, 10_000] {
        assert_eq!(field(&format!("wait_ms_bucket_le_{bound}")), le(bound), "le {bound}: {delays:?}");
    }
    assert_eq!(field("wait_ms_bucket_le_inf"), delays.len() as i64);
    // The traffic reached every bucket, so each was checked with something in it.
    assert!(le(10) > 0 && le(100) > le(10) && le(1000) > le(100) && le(10_000) > le(1000) && (delays.len() as i64) > le(10_000));
    // The RL.CONCURRENT counters are there too, and RL.TOP has calls and errors only.
    for name in ["concurrent_calls", "concurrent_allowed", "concurrent_denied", "concurrent_peeks", "concurrent_releases", "top_calls"] {
        assert!(info.contains(&format!("ratelimit_{name}:")), "{name}: {info}");
    }
    assert!(!info.contains("ratelimit_top_allowed"), "{info}");
}

fn flatten(v: Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.into_iter().flat_map(flatten).collect(),
        Value::BulkString(b) => vec![String::from_utf8_lossy(&b).into_owned()],
        Value::SimpleString(s) => vec![s],
        Value::Set(items) => items.into_iter().flat_map(flatten).collect(),
        _ => vec![],
    }
}

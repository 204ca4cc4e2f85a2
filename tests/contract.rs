//! The command contract (shared/spec/commands.md), clause by clause, over the wire against a
//! real redis-server with the module loaded.

mod common;

use common::*;
use std::time::Duration;

const HOUR: i64 = 3_600_000;

/// Runs an RL call and returns its reply with the server time just before and after it.
fn timed(con: &mut Connection, args: &[&str]) -> (Vec<i64>, i64, i64) {
    let before = server_ms(con);
    let reply = rl(con, args);
    let after = server_ms(con);
    (reply, before, after)
}

fn assert_between(what: &str, value: i64, lo: i64, hi: i64) {
    assert!(lo <= value && value <= hi, "{what}: {value} not in [{lo}, {hi}]");
}

#[test]
fn fixed_counts_in_epoch_aligned_windows_and_stores_a_plain_integer() {
    let s = Server::start();
    let mut c = s.connect();
    let (r, t0, t1) = timed(&mut c, &["RL.FIXED", "k", "3", "1h"]);
    assert_eq!(r[..4], [1, 3, 2, 0]);
    // reset = window end - now; the window is aligned to the Unix epoch.
    let end = |t: i64| t - t % HOUR + HOUR;
    assert_between("reset", r[4], end(t0) - t1, end(t1) - t0);
    assert_eq!(rl(&mut c, &["RL.FIXED", "k", "3", "1h", "COST", "2"])[..4], [1, 3, 0, 0]);
    let (r, t0, t1) = timed(&mut c, &["RL.FIXED", "k", "3", "1h"]);
    assert_eq!(r[..3], [0, 3, 0]);
    assert_between("retry", r[3], end(t0) - t1, end(t1) - t0);
    assert_eq!(r[3], r[4]);
    assert_eq!(get_bytes(&mut c, "k"), Some(b"3".to_vec()));
    assert_eq!(pexpiretime(&mut c, "k"), end(t0));
}

#[test]
fn fixed_reads_a_count_written_by_set_or_incr() {
    let s = Server::start();
    let mut c = s.connect();
    run(&mut c, &["SET", "k", "2", "PX", "60000"]);
    assert_eq!(rl(&mut c, &["RL.FIXED", "k", "3", "1h"])[..3], [1, 3, 0]);
    assert_eq!(get_bytes(&mut c, "k"), Some(b"3".to_vec()));
    run(&mut c, &["INCR", "k"]);
    assert_eq!(rl(&mut c, &["RL.FIXED", "k", "5", "1h"])[..3], [1, 5, 0]);
}

#[test]
fn sliding_weights_the_previous_window() {
    let s = Server::start();
    let mut c = s.connect();
    let now = server_ms(&mut c);
    let w = 10_000;
    let start = now - now % w;
    // Previous window held 10, current 2; at elapsed e the estimate is 2 + 10*(w-e)/w.
    set_bytes(&mut c, "k", &sliding_value(w as u64, start as u64, 10, 2), Some(60_000));
    let (r, t0, t1) = timed(&mut c, &["RL.SLIDING", "k", "20", "10s", "PEEK"]);
    let remaining = |t: i64| (20 * w - 2 * w - 10 * (w - (t - start))) / w;
    assert_between("remaining", r[2], remaining(t0), remaining(t1));
    assert_eq!(r[..2], [1, 20]);
    // With requests in the current window, the limiter is empty once the next window passed.
    assert_between("reset", r[4], start + 2 * w - t1, start + 2 * w - t0);
}

#[test]
fn sliding_admission_and_expiry_follow_the_formula() {
    let s = Server::start();
    let mut c = s.connect();
    let (r, t0, _) = timed(&mut c, &["RL.SLIDING", "k", "5", "1h", "COST", "5"]);
    assert_eq!(r[..4], [1, 5, 0, 0]);
    let start = t0 - t0 % HOUR;
    // Expires when neither counter can matter: end of the next window.
    assert_eq!(pexpiretime(&mut c, "k"), start + 2 * HOUR);
    assert_eq!(get_bytes(&mut c, "k"), Some(sliding_value(HOUR as u64, start as u64, 0, 5)));
    let r = rl(&mut c, &["RL.SLIDING", "k", "5", "1h"]);
    assert_eq!(r[..3], [0, 5, 0]);
    assert!(r[3] > 0 && r[3] <= 2 * HOUR, "retry {}", r[3]);
}

#[test]
fn log_is_exact_and_retry_waits_for_the_oldest_units() {
    let s = Server::start();
    let mut c = s.connect();
    let (_, a0, a1) = timed(&mut c, &["RL.LOG", "k", "3", "300ms", "COST", "2"]);
    std::thread::sleep(Duration::from_millis(50));
    let (r, b0, b1) = timed(&mut c, &["RL.LOG", "k", "3", "300ms"]);
    assert_eq!(r[..4], [1, 3, 0, 0]);
    let (r, c0, c1) = timed(&mut c, &["RL.LOG", "k", "3", "300ms", "COST", "2"]);
    assert_eq!(r[..3], [0, 3, 0]);
    // The 2 units logged first must leave (at a + 300); the last unit leaves at b + 300.
    assert_between("retry", r[3], a0 + 300 - c1, a1 + 300 - c0);
    assert_between("reset", r[4], b0 + 300 - c1, b1 + 300 - c0);
    std::thread::sleep(Duration::from_millis(r[3] as u64));
    assert_eq!(rl(&mut c, &["RL.LOG", "k", "3", "300ms", "COST", "2"])[..2], [1, 3]);
    let ttl = pexpiretime(&mut c, "k") - server_ms(&mut c);
    // Expires when the newest entry leaves the window, or up to one window later.
    assert_between("ttl", ttl, 1, 600);
}

#[test]
fn token_bucket_starts_full_and_refills_continuously() {
    let s = Server::start();
    let mut c = s.connect();
    let (r, t0, t1) = timed(&mut c, &["RL.TOKEN", "k", "10", "10", "1s", "COST", "10"]);
    assert_eq!(r, [1, 10, 0, 0, 1000]);
    // The deficit, in 1/period tokens, as of the call.
    let stored = get_bytes(&mut c, "k").unwrap();
    assert!((t0..=t1).any(|t| stored == token_value(1000, t as u64, 10_000)), "{stored:?}");
    assert_between("expiry", pexpiretime(&mut c, "k"), t0 + 1000, t1 + 1000);
    let r = rl(&mut c, &["RL.TOKEN", "k", "10", "10", "1s"]);
    assert_eq!(r[..3], [0, 10, 0]);
    assert_between("retry", r[3], 1, 100);
    std::thread::sleep(Duration::from_millis(r[3] as u64));
    assert_eq!(rl(&mut c, &["RL.TOKEN", "k", "10", "10", "1s"])[..2], [1, 10]);
}

#[test]
fn refund_and_force_record_usage_known_after_the_call() {
    let s = Server::start();
    let mut c = s.connect();
    for (cmd, _) in COMMANDS {
        let key = format!("rf:{cmd}");
        let call = |extra: &[&'static str]| {
            let mut args = vec![cmd, key.as_str()];
            args.extend(per_hour(cmd, "5"));
            args.extend(extra);
            args
        };
        let run_rl = |c: &mut Connection, extra: &[&'static str]| rl(c, &call(extra));
        // A refund on a missing key gives back nothing and writes nothing.
        assert_eq!(run_rl(&mut c, &["REFUND", "2"])[..4], [1, 5, 5, 0], "{cmd}");
        assert_eq!(run(&mut c, &["EXISTS", &key]), Value::Int(0), "{cmd}");
        // Reserve 5 (max_tokens), use 2: give 3 back.
        assert_eq!(run_rl(&mut c, &["COST", "5"])[..3], [1, 5, 0], "{cmd}");
        assert_eq!(run_rl(&mut c, &["REFUND", "3"])[..4], [1, 5, 3, 0], "{cmd}");
        // An overrun recorded past the limit: in debt, nothing admitted until it is paid.
        assert_eq!(run_rl(&mut c, &["COST", "6", "FORCE"])[..3], [1, 5, 0], "{cmd}");
        assert_eq!(run_rl(&mut c, &["PEEK"])[..3], [0, 5, 0], "{cmd}");
        // Never below empty: a refund of everything leaves the limiter full, and readable.
        assert_eq!(run_rl(&mut c, &["REFUND", "1000"])[..3], [1, 5, 5], "{cmd}");
        assert_eq!(run_rl(&mut c, &[])[..3], [1, 5, 4], "{cmd}");
        assert!(pexpiretime(&mut c, &key) > 0, "{cmd}: no TTL");
        let e = err(&mut c, &call(&["REFUND", "1", "COST", "1"]));
        assert_eq!(e, "ERR syntax error, REFUND cannot be combined with COST, PEEK or FORCE");
        assert_eq!(err(&mut c, &call(&["FORCE", "PEEK"])), "ERR syntax error, FORCE cannot be combined with PEEK");
    }
    // A hand-written count without TTL: the refund gives it one, as a denial would.
    run(&mut c, &["SET", "hand", "2"]);
    assert_eq!(rl(&mut c, &["RL.FIXED", "hand", "5", "1h", "REFUND", "1"])[..3], [1, 5, 4]);
    assert!(pexpiretime(&mut c, "hand") > 0);
}

#[test]
fn all_charges_every_limit_or_none() {
    let s = Server::start();
    let mut c = s.connect();
    let call = ["RL.ALL", "3", "user", "ip", "ep", "FIXED", "5", "1h", "TOKEN", "3", "1", "1h", "SLIDING", "10", "1h"];
    // Admitted: every limiter charged; the decisive one is the least remaining (TOKEN, 2nd).
    assert_eq!(rl(&mut c, &call)[..3], [1, 3, 2]);
    assert_eq!(rl(&mut c, &call)[5], 2);
    assert_eq!(get_bytes(&mut c, "user"), Some(b"2".to_vec()));
    // A request of 2 fits FIXED and SLIDING but not TOKEN (1 left): refused, nothing charged.
    let mut costly = call.to_vec();
    costly.extend(["COST", "2"]);
    let before = snapshot(&mut c);
    let r = rl(&mut c, &costly);
    assert_eq!((r[0], r[1], r[2], r[5]), (0, 3, 1, 2), "{r:?}");
    assert!(r[3] > 0, "{r:?}");
    assert_eq!(snapshot(&mut c), before, "a refusal charged something");
    // PEEK changes nothing either.
    let mut peek = call.to_vec();
    peek.push("PEEK");
    assert_eq!(rl(&mut c, &peek)[0], 1);
    assert_eq!(snapshot(&mut c), before);
    // The same as the single commands would have done: the fixed window counted 2.
    assert_eq!(rl(&mut c, &["RL.FIXED", "user", "5", "1h", "PEEK"])[..3], [1, 5, 3]);
    // A LEAKY spec: the admitted reply carries its delay in field 4.
    // FIXED has 8 left, LEAKY 4: LEAKY decides (index 2); an empty queue means no delay.
    let r = rl(&mut c, &["RL.ALL", "2", "a", "q", "FIXED", "9", "1h", "LEAKY", "5", "10", "1s"]);
    assert_eq!((r[0], r[1], r[2], r[3], r[5]), (1, 5, 4, 0, 2), "{r:?}");
    let r = rl(&mut c, &["RL.ALL", "2", "a", "q", "FIXED", "9", "1h", "LEAKY", "5", "10", "1s"]);
    assert_eq!((r[0], r[5]), (1, 2), "{r:?}");
    assert_between("delay", r[3], 50, 100);
    // Malformed calls: clear errors, nothing written.
    let before = snapshot(&mut c);
    for (args, message) in [
        (&["RL.ALL", "0", "k", "FIXED", "5", "1h"][..], "ERR numkeys must be an integer from 1 to 16 and no more than the keys given"),
        (&["RL.ALL", "2", "k", "j", "FIXED", "5", "1h"], "ERR RL.ALL needs one spec per key: 2 keys, 1 spec given"),
        (&["RL.ALL", "1", "k", "FIXED", "5", "1h", "LOG", "5", "1h"], "ERR RL.ALL needs one spec per key: 1 key, 2 specs given"),
        (
            &["RL.ALL", "1", "k", "BUCKET", "5", "1h"],
            "ERR unknown algorithm 'BUCKET' in spec 1 (FIXED, SLIDING, LOG, TOKEN, LEAKY or CONCURRENT)",
        ),
        (&["RL.ALL", "2", "k", "k", "FIXED", "5", "1h", "FIXED", "5", "1h"], "ERR RL.ALL keys must be distinct (one limiter per key)"),
        (&["RL.ALL", "1", "k", "FIXED", "0", "1h"], "ERR limit must be a positive integer"),
        (&["RL.ALL", "1", "k", "FIXED", "5", "1h", "REFUND", "1"], "ERR syntax error, REFUND cannot be combined with RL.ALL"),
        (&["RL.ALL", "2", "k", "ip", "FIXED", "5", "1h", "FIXED", "5", "1h"], "ERR key holds RL.TOKEN state, not RL.FIXED state"),
    ] {
        assert_eq!(err(&mut c, args), message, "{args:?}");
    }
    if module_style() {
        // (FCALL and EVALSHA parse numkeys themselves.)
        let numkeys = err(&mut c, &["RL.ALL", "x", "k", "FIXED", "5", "1h"]);
        assert_eq!(numkeys, "ERR numkeys must be an integer from 1 to 16 and no more than the keys given");
    }
    assert_eq!(snapshot(&mut c), before);
    // Every key is declared: COMMAND GETKEYS finds them, ACL key patterns apply to each.
    let call = rl_cmd(&["RL.ALL", "2", "a", "b", "FIXED", "1", "1s", "TOKEN", "1", "1", "1s"]);
    let keys: Vec<String> = redis::cmd("COMMAND").arg("GETKEYS").arg(words_of(&call)).query(&mut c).unwrap();
    assert_eq!(keys, ["a", "b"]);
    let granted = grant(&mut c, "RL.ALL");
    let mut acl = vec!["ACL", "SETUSER", "gw", "on", ">pw", "~rl:*"];
    acl.extend(granted.iter().map(String::as_str));
    run(&mut c, &acl);
    run(&mut c, &["AUTH", "gw", "pw"]);
    assert!(err(&mut c, &["RL.ALL", "2", "rl:a", "other", "FIXED", "1", "1s", "FIXED", "1", "1s"]).starts_with("NOPERM"));
    assert_eq!(rl(&mut c, &["RL.ALL", "2", "rl:a", "rl:b", "FIXED", "1", "1s", "FIXED", "1", "1s"])[0], 1);
}

#[test]
fn leaky_bucket_spreads_a_burst_and_replies_with_the_delay() {
    let s = Server::start();
    let mut c = s.connect();
    // 10 per second: one unit leaves every 100 ms; the queue holds 4.
    let (first, t0, _) = timed(&mut c, &["RL.LEAKY", "q", "4", "10", "1s"]);
    assert_eq!(first, [1, 4, 3, 0, 100]);
    let delays: Vec<i64> = (0..3).map(|_| rl(&mut c, &["RL.LEAKY", "q", "4", "10", "1s"])).map(|r| r[3]).collect();
    let t1 = server_ms(&mut c);
    // Each waits for those queued before it: 100, 200, 300 ms after the first, less the time
    // gone by since.
    for (k, delay) in delays.iter().enumerate() {
        let after_first = 100 * (k as i64 + 1);
        assert_between("delay", *delay, after_first - (t1 - t0), after_first);
    }
    // The stored state is the drain time (tag 0x03, then varints), and the key expires then.
    assert_eq!(get_bytes(&mut c, "q").unwrap()[0], 0x03);
    assert_between("expiry", pexpiretime(&mut c, "q"), t0 + 400, t1 + 400);
    // Full: denied until one unit has left.
    let r = rl(&mut c, &["RL.LEAKY", "q", "4", "10", "1s"]);
    assert_eq!(r[..3], [0, 4, 0]);
    assert_between("retry", r[3], 1, 100);
    std::thread::sleep(Duration::from_millis(r[3] as u64));
    let r = rl(&mut c, &["RL.LEAKY", "q", "4", "10", "1s"]);
    assert_eq!(r[..2], [1, 4]);
    assert_between("delay when the queue has room again", r[3], 200, 300);
}

#[test]
fn small_windows_reopen_after_retry_after() {
    let s = Server::start();
    let mut c = s.connect();
    for cmd in ["RL.FIXED", "RL.SLIDING", "RL.LOG"] {
        let key = format!("small:{cmd}");
        assert_eq!(rl(&mut c, &[cmd, &key, "2", "40ms", "COST", "2"])[0], 1, "{cmd}");
        let r = rl(&mut c, &[cmd, &key, "2", "40ms"]);
        assert_eq!(r[0], 0, "{cmd}");
        assert!(r[3] > 0 && r[3] <= 80, "{cmd} retry {}", r[3]);
        std::thread::sleep(Duration::from_millis(r[3] as u64 + 1));
        assert_eq!(rl(&mut c, &[cmd, &key, "2", "40ms"])[0], 1, "{cmd} after retry_after");
    }
}

#[test]
fn durations_accept_unit_suffixes_in_any_case() {
    let s = Server::start();
    let mut c = s.connect();
    for (arg, ms) in [("1500", 1500), ("1500ms", 1500), ("2S", 2000), ("1m", 60_000), ("1H", HOUR), ("1d", 24 * HOUR)] {
        let key = format!("d:{arg}");
        let r = rl(&mut c, &["RL.TOKEN", &key, "1", "1", arg]);
        assert_eq!(r, [1, 1, 0, 0, ms], "{arg}");
    }
}

#[test]
fn cost_above_limit_is_never_admissible() {
    let s = Server::start();
    let mut c = s.connect();
    for cmd in [
        &["RL.FIXED", "k1", "5", "1s"][..],
        &["RL.SLIDING", "k2", "5", "1s"],
        &["RL.LOG", "k3", "5", "1s"],
        &["RL.TOKEN", "k4", "5", "1", "1s"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["COST", "6"]);
        assert_eq!(rl(&mut c, &args), [0, 5, 5, -1, 0], "{cmd:?}");
        assert_eq!(run(&mut c, &["EXISTS", cmd[1]]), Value::Int(0));
    }
}

#[test]
fn peek_changes_nothing() {
    let s = Server::start();
    let mut c = s.connect();
    // A missing key: remaining = limit, reset = 0, and still no key.
    assert_eq!(rl(&mut c, &["RL.LOG", "new", "4", "1h", "PEEK"]), [1, 4, 4, 0, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "new"]), Value::Int(0));
    for (cmd, key) in COMMANDS {
        let mut call = vec![cmd, key];
        call.extend(per_hour(cmd, "4"));
        rl(&mut c, &call);
        let before = snapshot(&mut c);
        let mut peek = call.to_vec();
        peek.extend(["COST", "2", "PEEK"]);
        let r = rl(&mut c, &peek);
        assert_eq!(r[..3], [1, 4, 3], "{call:?}");
        // RL.LEAKY's admitted PEEK reports the delay it would give: the unit queued ahead.
        let delay = if cmd == "RL.LEAKY" { 3_599_000..=3_600_000 } else { 0..=0 };
        assert!(delay.contains(&r[3]), "{call:?}: {r:?}");
        peek.truncate(peek.len() - 3);
        peek.extend(["COST", "4", "PEEK"]);
        assert_eq!(rl(&mut c, &peek)[..3], [0, 4, 3], "{call:?}");
        assert_eq!(snapshot(&mut c), before, "{call:?} changed the key");
    }
}

#[test]
fn options_come_in_any_order_and_case() {
    let s = Server::start();
    let mut c = s.connect();
    assert_eq!(rl(&mut c, &["RL.FIXED", "k", "5", "1h", "peek", "cost", "2"])[..3], [1, 5, 5]);
    assert_eq!(rl(&mut c, &["RL.FIXED", "k", "5", "1h", "CoSt", "2"])[..3], [1, 5, 3]);
}

#[test]
fn errors_name_the_argument_and_touch_nothing() {
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &["RL.FIXED", "k", "5", "1h"]);
    let before = snapshot(&mut c);
    let cases: [(&[&str], &str); 14] = [
        (&["RL.FIXED", "k", "0", "1s"], "ERR limit must be a positive integer"),
        (&["RL.FIXED", "k", "-3", "1s"], "ERR limit must be a positive integer"),
        (&["RL.FIXED", "k", "9223372036854775808", "1s"], "ERR limit must be at most 9223372036854775807"),
        (&["RL.FIXED", "k", "5", "abc"], "ERR invalid duration 'abc' for window"),
        (&["RL.FIXED", "k", "5", "0"], "ERR window must be at least 1 ms"),
        (&["RL.FIXED", "k", "5", "1s", "FOO"], "ERR syntax error, unknown option 'FOO'"),
        (&["RL.FIXED", "k", "5", "1s", "COST"], "ERR syntax error, COST needs a value"),
        (&["RL.FIXED", "k", "5", "1s", "COST", "x"], "ERR COST must be a positive integer"),
        (&["RL.FIXED", "k", "5", "1s", "PEEK", "PEEK"], "ERR syntax error, PEEK given more than once"),
        (&["RL.FIXED", "k", "5", "1s", "COST", "1", "COST", "1"], "ERR syntax error, COST given more than once"),
        (&["RL.TOKEN", "k", "5", "0", "1s"], "ERR rate must be a positive integer"),
        (&["RL.TOKEN", "k", "0", "1", "1s"], "ERR capacity must be a positive integer"),
        (&["RL.TOKEN", "k", "5", "1", "1x"], "ERR invalid duration '1x' for period"),
        (&["RL.FIXED", "k", "5"], "ERR wrong number of arguments for 'rl.fixed' command"),
    ];
    for (args, message) in cases {
        // Redis 6.2 echoes the command name as typed in its arity error.
        let got = err(&mut c, args);
        assert!(got.eq_ignore_ascii_case(message), "{args:?}: {got}");
    }
    assert_eq!(snapshot(&mut c), before);
}

#[test]
fn integers_up_to_2_63_minus_1_do_not_overflow() {
    let s = Server::start();
    let mut c = s.connect();
    let max = "9223372036854775807";
    if !module_style() {
        // The library computes in doubles: past 2^53-1 it refuses, and writes nothing.
        for call in [&["RL.FIXED", "a", max, "1s"][..], &["RL.TOKEN", "d", "5", "1", "1s", "COST", "9007199254740992"]] {
            assert!(err(&mut c, call).starts_with("ERR a number of this call or of the stored state is beyond 2^53-1"), "{call:?}");
        }
        assert_eq!(rl(&mut c, &["RL.FIXED", "a", "9007199254740991", "1s"])[..3], [1, 9007199254740991, 9007199254740990]);
        set_bytes(&mut c, "big", b"9007199254740992", Some(60_000));
        let before = snapshot(&mut c);
        assert!(err(&mut c, &["RL.FIXED", "big", "5", "1s"]).contains("the ratelimit module has no such limit"));
        assert_eq!(snapshot(&mut c), before);
        return;
    }
    // (TOKEN refills 1 token per 2^63-1 ms: nothing refills between the two calls.)
    for call in
        [&["RL.FIXED", "a", max, max][..], &["RL.SLIDING", "b", max, max], &["RL.LOG", "c", max, max], &["RL.TOKEN", "d", max, "1", max]]
    {
        let mut args = call.to_vec();
        args.extend(["COST", max]);
        let r = rl(&mut c, &args);
        assert_eq!(r[..4], [1, i64::MAX, 0, 0], "{call:?}");
        assert!(r[4] > 0, "{call:?}");
        let r = rl(&mut c, &args);
        assert_eq!(r[..3], [0, i64::MAX, 0], "{call:?}");
        assert!(pexpiretime(&mut c, call[1]) > 0, "{call:?} has no TTL");
    }
    assert_eq!(rl(&mut c, &["RL.TOKEN", "e", "1", max, "1"]), [1, 1, 0, 0, 1]);
}

#[test]
fn wrong_redis_type_is_wrongtype_and_untouched() {
    let s = Server::start();
    let mut c = s.connect();
    run(&mut c, &["LPUSH", "list", "x"]);
    run(&mut c, &["HSET", "hash", "f", "v"]);
    run(&mut c, &["ZADD", "zset", "1", "m"]);
    for key in ["list", "hash", "zset"] {
        for call in [
            &["RL.FIXED", key, "5", "1s"][..],
            &["RL.SLIDING", key, "5", "1s"],
            &["RL.LOG", key, "5", "1s"],
            &["RL.TOKEN", key, "5", "1", "1s"],
            &["RL.LEAKY", key, "5", "1", "1s"],
        ] {
            assert_eq!(err(&mut c, call), "WRONGTYPE Operation against a key holding the wrong kind of value");
        }
    }
    assert_eq!(run(&mut c, &["LLEN", "list"]), Value::Int(1));
}

#[test]
fn unreadable_or_foreign_state_is_a_clear_error_and_untouched() {
    let s = Server::start();
    let mut c = s.connect();
    for (cmd, key) in COMMANDS {
        let mut call = vec![cmd, key];
        call.extend(per_hour(cmd, "5"));
        rl(&mut c, &call);
    }
    run(&mut c, &["SET", "text", "hello", "PX", "100000"]);
    run(&mut c, &["SET", "neg", "-4", "PX", "100000"]);
    run(&mut c, &["SET", "empty", "", "PX", "100000"]);
    let before = snapshot(&mut c);
    for (cmd, _) in COMMANDS {
        let params = per_hour(cmd, "5");
        for (other, key) in COMMANDS {
            if other == cmd {
                continue;
            }
            let mut args = vec![cmd, key];
            args.extend(&params);
            assert_eq!(err(&mut c, &args), format!("ERR key holds {other} state, not {cmd} state"));
        }
        for key in ["text", "empty"] {
            let mut args = vec![cmd, key];
            args.extend(&params);
            assert_eq!(err(&mut c, &args), format!("ERR key holds a value that is not {cmd} state"));
        }
    }
    assert_eq!(err(&mut c, &["RL.FIXED", "neg", "5", "1h"]), "ERR key holds RL.FIXED state out of range");
    set_bytes(&mut c, "badtoken", &token_value(0, 0, 0), None);
    assert_eq!(err(&mut c, &["RL.TOKEN", "badtoken", "5", "1", "1s"]), "ERR key holds RL.TOKEN state out of range");
    run(&mut c, &["DEL", "badtoken"]);
    assert_eq!(snapshot(&mut c), before);
}

#[test]
fn every_key_gets_a_ttl() {
    let s = Server::start();
    let mut c = s.connect();
    for call in [
        &["RL.FIXED", "f", "5", "1s"][..],
        &["RL.SLIDING", "s", "5", "1s"],
        &["RL.LOG", "l", "5", "1s"],
        &["RL.TOKEN", "t", "5", "5", "1s"],
    ] {
        for _ in 0..7 {
            rl(&mut c, call);
        }
        let ttl = pexpiretime(&mut c, call[1]) - server_ms(&mut c);
        assert!(ttl > 0 && ttl <= 2000, "{call:?}: ttl {ttl}");
    }
    // A hand-written count without TTL gets one at the next (even denied) call.
    run(&mut c, &["SET", "hand", "9"]);
    assert_eq!(rl(&mut c, &["RL.FIXED", "hand", "5", "1s"])[0], 0);
    assert!(pexpiretime(&mut c, "hand") > 0);
}

#[test]
fn keys_expire_once_they_carry_no_information() {
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &["RL.FIXED", "f", "5", "30ms"]);
    rl(&mut c, &["RL.SLIDING", "s", "5", "30ms"]);
    rl(&mut c, &["RL.LOG", "l", "5", "30ms"]);
    rl(&mut c, &["RL.TOKEN", "t", "5", "1", "30ms"]);
    assert!(eventually(Duration::from_secs(2), || run(&mut c, &["DBSIZE"]) == Value::Int(0)), "keys left: {:?}", snapshot(&mut c));
}

#[test]
fn limit_changes_apply_to_the_stored_state() {
    let s = Server::start();
    let mut c = s.connect();
    // FIXED, SLIDING, LOG keep their count; TOKEN keeps its deficit.
    for (call, raised) in [
        (&["RL.FIXED", "f", "5", "1h", "COST", "5"][..], &["RL.FIXED", "f", "10", "1h", "PEEK"][..]),
        (&["RL.SLIDING", "s", "5", "1h", "COST", "5"], &["RL.SLIDING", "s", "10", "1h", "PEEK"]),
        (&["RL.LOG", "l", "5", "1h", "COST", "5"], &["RL.LOG", "l", "10", "1h", "PEEK"]),
        (&["RL.TOKEN", "t", "5", "1", "1h", "COST", "5"], &["RL.TOKEN", "t", "10", "1", "1h", "PEEK"]),
    ] {
        assert_eq!(rl(&mut c, call)[..3], [1, 5, 0]);
        assert_eq!(rl(&mut c, raised)[..3], [1, 10, 5], "{raised:?}");
    }
    // Lowering below the count denies, never resets or fails.
    assert_eq!(rl(&mut c, &["RL.FIXED", "f", "2", "1h"])[..3], [0, 2, 0]);
    // A new window length applies at once, and the expiry follows it at the next write.
    assert_eq!(rl(&mut c, &["RL.FIXED", "f", "10", "1s"])[..3], [1, 10, 4]);
    let ttl = pexpiretime(&mut c, "f") - server_ms(&mut c);
    assert!(ttl > 0 && ttl <= 1000, "ttl {ttl}");
    assert_eq!(rl(&mut c, &["RL.TOKEN", "t", "10", "1000", "1h", "PEEK"])[..3], [1, 10, 5]);
}

/// A REFUND after the window grew keeps what it kept for the new window: the key's expiry
/// follows the current numbers (issue 14: both sequences admitted more than the limit).
#[test]
fn refund_after_the_window_grew_keeps_usage_for_the_new_window() {
    let s = Server::start();
    let mut c = s.connect();
    for attempt in 0.. {
        assert!(attempt < 5, "the 100 ms window kept ending between the two calls");
        let (la, ff) = (format!("la{attempt}"), format!("ff{attempt}"));
        assert_eq!(rl(&mut c, &["RL.LOG", &la, "2", "100", "COST", "2"])[..4], [1, 2, 0, 0]);
        assert_eq!(rl(&mut c, &["RL.FIXED", &ff, "5", "100", "COST", "5"])[..4], [1, 5, 0, 0]);
        let log = rl(&mut c, &["RL.LOG", &la, "2", "10s", "REFUND", "1"]);
        let fixed = rl(&mut c, &["RL.FIXED", &ff, "5", "1d", "REFUND", "1"]);
        // The 100 ms window may end between the calls; then the count is gone: try again.
        if fixed[2] != 1 || log[2] != 1 {
            continue;
        }
        assert_eq!(log[..4], [1, 2, 1, 0]);
        assert_between("log reset", log[4], 9_800, 10_000);
        let ttl = pexpiretime(&mut c, &la) - server_ms(&mut c);
        assert_between("log ttl", ttl, 9_800, 20_000);
        let day_left = pexpiretime(&mut c, &ff) - server_ms(&mut c);
        assert_between("fixed ttl", day_left, 0, 86_400_000);
        std::thread::sleep(Duration::from_millis(300));
        // The kept unit and the kept count of 4 still count: neither request fits.
        assert_eq!(rl(&mut c, &["RL.LOG", &la, "2", "10s", "COST", "2"])[..3], [0, 2, 1]);
        if day_left > 1_000 {
            assert_eq!(rl(&mut c, &["RL.FIXED", &ff, "5", "1d", "COST", "5"])[..3], [0, 5, 1]);
        }
        break;
    }
}

/// RL.LOG's expiry follows a shrinking window at the next write.
#[test]
fn log_expiry_follows_a_shrinking_window() {
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &["RL.LOG", "lb", "5", "1d"]);
    let (r, t0, _) = timed(&mut c, &["RL.LOG", "lb", "5", "1s"]);
    assert_eq!(r[..3], [1, 5, 3]);
    assert_between("expiry", pexpiretime(&mut c, "lb") - t0, 1_000, 2_100);
}

/// RL.LEAKY PEEK reports the delay the request would be given, alone and in RL.ALL.
#[test]
fn leaky_peek_reports_the_delay_it_would_give() {
    let s = Server::start();
    let mut c = s.connect();
    assert_eq!(rl(&mut c, &["RL.LEAKY", "q", "10", "1", "1h", "COST", "2"])[..4], [1, 10, 8, 0]);
    let peek = rl(&mut c, &["RL.LEAKY", "q", "10", "1", "1h", "PEEK"]);
    assert_eq!(peek[..3], [1, 10, 8]);
    assert_between("peek delay", peek[3], 2 * HOUR - 1_000, 2 * HOUR);
    let all = rl(&mut c, &["RL.ALL", "1", "q", "LEAKY", "10", "1", "1h", "PEEK"]);
    assert_between("RL.ALL peek delay", all[3], 2 * HOUR - 1_000, 2 * HOUR);
    let real = rl(&mut c, &["RL.LEAKY", "q", "10", "1", "1h"]);
    assert_between("the call's delay", real[3], peek[3] - 1_000, peek[3]);
}

#[test]
fn state_stored_in_the_future_is_treated_as_now() {
    // What a clock stepping back leaves behind: stored times ahead of the server's clock.
    let s = Server::start();
    let mut c = s.connect();
    let now = server_ms(&mut c);
    let ahead = now + 20_000;
    let start = ahead - ahead % 1000;
    set_bytes(&mut c, "s", &sliding_value(1000, start as u64, 0, 5), Some(60_000));
    assert_eq!(rl(&mut c, &["RL.SLIDING", "s", "5", "1s"])[..3], [0, 5, 0]);
    set_bytes(&mut c, "t", &token_value(1000, ahead as u64, 5000), Some(60_000));
    let r = rl(&mut c, &["RL.TOKEN", "t", "5", "1", "1s"]);
    assert_eq!(r[..3], [0, 5, 0]);
    // Nothing refills until the clock has caught up with the stored update.
    assert!(r[3] >= 20_000, "retry {}", r[3]);
    rl(&mut c, &["RL.FIXED", "f", "5", "1s", "COST", "5"]);
    run(&mut c, &["PEXPIREAT", "f", &(now + 20_000).to_string()]);
    let r = rl(&mut c, &["RL.FIXED", "f", "5", "1s"]);
    assert_eq!(r[..3], [0, 5, 0]);
    assert!(r[3] > 15_000, "retry {}", r[3]);
}

#[test]
fn commands_are_declared_like_builtins() {
    let s = Server::start();
    let mut c = s.connect();
    if !module_style() {
        // The library's functions are writes (no no-writes flag): refused on a read-only
        // replica, denied under OOM; keys travel as keys, so GETKEYS finds them.
        if style() == Style::Fcall {
            let listed = flatten(&[run(&mut c, &["FUNCTION", "LIST", "LIBRARYNAME", "ratelimit"])]);
            for f in ["rl_fixed", "rl_sliding", "rl_log", "rl_token", "rl_leaky", "rl_concurrent", "rl_all"] {
                assert!(listed.iter().any(|n| n == f), "{f} not in {listed:?}");
            }
            assert!(!listed.iter().any(|n| n == "no-writes" || n == "allow-oom"), "{listed:?}");
        }
        rl(&mut c, &["RL.FIXED", "warm", "5", "1s"]);
        let call = rl_cmd(&["RL.TOKEN", "mykey", "5", "1", "1s"]);
        let keys: Vec<String> = redis::cmd("COMMAND").arg("GETKEYS").arg(words_of(&call)).query(&mut c).unwrap();
        assert_eq!(keys, ["mykey"]);
        return;
    }
    let modules = format!("{:?}", run(&mut c, &["MODULE", "LIST"]));
    assert!(modules.contains("ratelimit"), "{modules}");
    for (cmd, fast) in [("rl.fixed", true), ("rl.sliding", true), ("rl.log", false), ("rl.token", true), ("rl.leaky", true)] {
        let info = run(&mut c, &["COMMAND", "INFO", cmd]);
        let Value::Array(outer) = info else { panic!("{info:?}") };
        let Some(Value::Array(fields)) = outer.first() else { panic!("{outer:?}") };
        let text = |v: &Value| match v {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            Value::SimpleString(s) => s.clone(),
            other => format!("{other:?}"),
        };
        let Value::Array(flags) = &fields[2] else { panic!() };
        let flags: Vec<String> = flags.iter().map(text).collect();
        assert!(flags.contains(&"write".to_owned()) && flags.contains(&"denyoom".to_owned()), "{cmd}: {flags:?}");
        assert_eq!(flags.contains(&"fast".to_owned()), fast, "{cmd}: {flags:?}");
        assert_eq!(fields[3..6], [Value::Int(1), Value::Int(1), Value::Int(1)], "{cmd} key positions");
        let params: &[&str] = if cmd == "rl.token" || cmd == "rl.leaky" { &["5", "1", "1s"] } else { &["5", "1s"] };
        let keys: Vec<String> = redis::cmd("COMMAND").arg("GETKEYS").arg(cmd).arg("mykey").arg(params).query(&mut c).unwrap();
        assert_eq!(keys, ["mykey"]);
    }
}

#[test]
fn acl_key_patterns_apply() {
    let s = Server::start();
    let mut c = s.connect();
    let granted = [grant(&mut c, "RL.FIXED"), grant(&mut c, "RL.TOKEN")].concat();
    let mut acl = vec!["ACL", "SETUSER", "gw", "on", ">pw", "~rl:*"];
    acl.extend(granted.iter().map(String::as_str));
    run(&mut c, &acl);
    run(&mut c, &["AUTH", "gw", "pw"]);
    assert_eq!(rl(&mut c, &["RL.FIXED", "rl:user1", "5", "1s"])[0], 1);
    assert!(err(&mut c, &["RL.FIXED", "other", "5", "1s"]).starts_with("NOPERM"));
    if module_style() {
        // Commands are granted one by one; the library's functions all go through FCALL.
        assert!(err(&mut c, &["RL.LOG", "rl:user1", "5", "1s"]).starts_with("NOPERM"));
    }
}

#[test]
fn works_inside_multi_and_lua() {
    let s = Server::start();
    let mut c = s.connect();
    // (Under EVALSHA, the first call loads the script.)
    rl(&mut c, &["RL.FIXED", "warm", "2", "1h"]);
    let call = rl_cmd(&["RL.FIXED", "m", "2", "1h"]);
    let v: Vec<Vec<i64>> =
        redis::pipe().atomic().add_command(call.clone()).add_command(call.clone()).add_command(call).query(&mut c).unwrap();
    assert_eq!(v.iter().map(|r| r[0]).collect::<Vec<_>>(), [1, 1, 0]);
    if !module_style() {
        return; // scripts cannot call FCALL or EVALSHA
    }
    let r: Vec<i64> =
        redis::cmd("EVAL").arg("return redis.call('RL.TOKEN', KEYS[1], 3, 1, '1h', 'COST', 2)").arg(1).arg("lua").query(&mut c).unwrap();
    assert_eq!(r[..3], [1, 3, 1]);
}

#[test]
fn survives_hostile_arguments() {
    let s = Server::start();
    let mut c = s.connect();
    let long = "9".repeat(5000);
    for args in [
        &["RL.FIXED", "k", &long, "1s"][..],
        &["RL.FIXED", "k", "5", &long],
        &["RL.FIXED", "k", "5", "1s", "COST", &long],
        &["RL.TOKEN", "k", "1", "1", "99999999999999999999d"],
        &["RL.FIXED", "k", "", ""],
        &["RL.FIXED", "", "5", "1s", "\r\n", "\0"],
        &["RL.FIXED", "k", "5", "1s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17"],
    ] {
        let e = err(&mut c, args);
        assert!(e.starts_with("ERR "), "{e}");
    }
    assert_eq!(run(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn info_counts_calls_by_outcome() {
    if !module_style() {
        return; // the module's own: COMMAND DOCS, INFO fields, ACL categories
    }
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &["RL.TOKEN", "k", "1", "1", "1h"]);
    rl(&mut c, &["RL.TOKEN", "k", "1", "1", "1h"]);
    rl(&mut c, &["RL.TOKEN", "k", "1", "1", "1h", "PEEK"]);
    err(&mut c, &["RL.TOKEN", "k", "0", "1", "1h"]);
    rl(&mut c, &["RL.LOG", "l", "5", "1s"]);
    let info: String = redis::cmd("INFO").arg("ratelimit").query(&mut c).unwrap();
    let field = |name: &str| info.lines().find_map(|l| l.strip_prefix(&format!("ratelimit_{name}:"))).map(str::trim).map(str::to_owned);
    assert_eq!(field("token_calls").as_deref(), Some("4"), "{info}");
    assert_eq!(field("token_allowed").as_deref(), Some("1"));
    assert_eq!(field("token_denied").as_deref(), Some("1"));
    assert_eq!(field("token_peeks").as_deref(), Some("1"));
    assert_eq!(field("token_errors").as_deref(), Some("1"));
    assert_eq!(field("log_allowed").as_deref(), Some("1"));
    assert_eq!(field("fixed_calls").as_deref(), Some("0"));
}

/// `MODULE LIST` shows the crate's version (major * 10000 + minor * 100 + patch), and load
/// arguments, which the module has none of, are refused with a line in the log rather than
/// ignored.
#[test]
fn module_list_shows_the_crate_version_and_load_arguments_are_refused() {
    if !module_style() {
        return; // the module's own
    }
    let extra: &[&str] = if binary_version() >= (7, 0, 0) { &["--enable-module-command", "yes"] } else { &[] };
    let s = Server::start_with(false, extra);
    let mut c = s.connect();
    let path = module_path().display().to_string();
    let refused = err(&mut c, &["MODULE", "LOAD", &path, "window", "1m"]);
    assert!(refused.starts_with("ERR"), "{refused}");
    assert!(s.log().contains("ratelimit: takes no load arguments (got 2: window 1m)"), "{}", s.log());
    assert!(err(&mut c, &["RL.FIXED", "k", "1", "1m"]).contains("unknown command"));
    assert_eq!(run(&mut c, &["MODULE", "LOAD", &path]), Value::Okay);
    let parts: Vec<i64> = env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse().expect("a number")).collect();
    let version = parts[0] * 10000 + parts[1] * 100 + parts[2];
    let Value::Array(modules) = run(&mut c, &["MODULE", "LIST"]) else { panic!("MODULE LIST") };
    // Redis 8 lists its built-in modules too.
    let field = |fields: &[Value], name: &[u8]| {
        fields.iter().position(|f| *f == Value::BulkString(name.to_vec())).and_then(|i| fields.get(i + 1).cloned())
    };
    let ours = modules.iter().find_map(|m| match m {
        Value::Array(fields) if field(fields, b"name") == Some(Value::BulkString(b"ratelimit".to_vec())) => Some(fields.clone()),
        _ => None,
    });
    let ours = ours.unwrap_or_else(|| panic!("ratelimit not in {modules:?}"));
    assert_eq!(field(&ours, b"ver"), Some(Value::Int(version)), "{ours:?}");
}

#[test]
fn command_docs_describe_every_argument() {
    if !module_style() {
        return; // the module's own: COMMAND DOCS, INFO fields, ACL categories
    }
    let s = Server::start();
    let mut c = s.connect();
    if server_version(&mut c) < (7, 0, 0) {
        // Redis 6.2 has no COMMAND DOCS and no module API to declare them: the one courtesy
        // missing there.
        assert!(err(&mut c, &["COMMAND", "DOCS", "rl.fixed"]).contains("Unknown subcommand"));
        return;
    }
    for (cmd, arity, params) in [
        ("rl.fixed", -4, &["limit", "window"][..]),
        ("rl.sliding", -4, &["limit", "window"]),
        ("rl.log", -4, &["limit", "window"]),
        ("rl.token", -5, &["capacity", "rate", "period"]),
        ("rl.leaky", -5, &["capacity", "rate", "period"]),
    ] {
        let Value::Array(info) = run(&mut c, &["COMMAND", "INFO", cmd]) else { panic!() };
        let Some(Value::Array(fields)) = info.first() else { panic!("{info:?}") };
        assert_eq!(fields[1], Value::Int(arity), "{cmd} arity");
        let docs: Vec<String> = match run(&mut c, &["COMMAND", "DOCS", cmd]) {
            Value::Array(v) => flatten(&v),
            other => flatten(&[other]),
        };
        for expected in ["summary", "complexity", "since", "key"].iter().chain(params).chain(&[
            "cost",
            "COST",
            "peek",
            "PEEK",
            "force",
            "FORCE",
            "refund",
            "REFUND",
            "optional",
            "pure-token",
        ]) {
            assert!(docs.iter().any(|d| d == expected), "{cmd}: COMMAND DOCS lacks {expected}: {docs:?}");
        }
    }
}

/// Every string in a nested reply, in order.
fn flatten(values: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        match v {
            Value::BulkString(b) => out.push(String::from_utf8_lossy(b).into_owned()),
            Value::SimpleString(s) => out.push(s.clone()),
            Value::Array(inner) => out.extend(flatten(inner)),
            Value::Map(pairs) => {
                for (k, v) in pairs {
                    out.extend(flatten(std::slice::from_ref(k)));
                    out.extend(flatten(std::slice::from_ref(v)));
                }
            }
            _ => {}
        }
    }
    out
}

/// ACL categories as for built-ins: where the server lets a module set them (Redis 7.2+,
/// Valkey), a user granted `+@write` or `+@fast` runs the RL commands as it runs SET; where the
/// server lets a module add a category (Redis 7.4+, Valkey 8+), `+@ratelimit` grants exactly
/// them. Older servers load the module without them.
#[test]
fn acl_categories_as_for_builtins_where_the_server_supports_them() {
    if !module_style() {
        return; // the module's own: COMMAND DOCS, INFO fields, ACL categories
    }
    let s = Server::start();
    let mut c = s.connect();
    let version = server_version(&mut c);
    let valkey = is_valkey(&mut c);
    let builtin = valkey || version >= (7, 2, 0);
    let own = if valkey { version >= (8, 0, 0) } else { version >= (7, 4, 0) };
    let categories: Vec<String> = redis::cmd("ACL").arg("CAT").query(&mut c).unwrap();
    assert_eq!(categories.iter().any(|cat| cat == "ratelimit"), own, "category ratelimit on {version:?}");
    if own {
        let mut in_category: Vec<String> = redis::cmd("ACL").arg("CAT").arg("ratelimit").query(&mut c).unwrap();
        in_category.sort();
        assert_eq!(
            in_category,
            ["cl.throttle", "rl.all", "rl.concurrent", "rl.fixed", "rl.leaky", "rl.log", "rl.sliding", "rl.token", "rl.top"]
        );
    }
    let in_builtin = |c: &mut Connection, cat: &str| -> Vec<String> {
        let mut v: Vec<String> = redis::cmd("ACL").arg("CAT").arg(cat).query(c).unwrap();
        v.retain(|n| n.starts_with("rl.") || n == "cl.throttle");
        v.sort();
        v
    };
    if builtin {
        assert_eq!(
            in_builtin(&mut c, "write"),
            ["cl.throttle", "rl.all", "rl.concurrent", "rl.fixed", "rl.leaky", "rl.log", "rl.sliding", "rl.token"]
        );
        assert_eq!(in_builtin(&mut c, "fast"), ["cl.throttle", "rl.fixed", "rl.leaky", "rl.sliding", "rl.token"]);
        assert_eq!(in_builtin(&mut c, "slow"), ["rl.all", "rl.concurrent", "rl.log", "rl.top"]);
        // RL.TOP reveals key names across tenants: @admin (and @dangerous), as SLOWLOG.
        assert_eq!(in_builtin(&mut c, "admin"), ["rl.top"]);
        assert_eq!(in_builtin(&mut c, "dangerous"), ["rl.top"]);
    } else {
        assert!(in_builtin(&mut c, "write").is_empty());
    }
    run(&mut c, &["ACL", "SETUSER", "writer", "on", ">pw", "~*", "+@write"]);
    run(&mut c, &["ACL", "SETUSER", "fast", "on", ">pw", "~*", "+@fast"]);
    let mut writer = s.connect();
    run(&mut writer, &["AUTH", "writer", "pw"]);
    run(&mut writer, &["SET", "x", "1"]);
    for (cmd, key) in COMMANDS {
        let mut call = vec![cmd, key];
        call.extend(per_hour(cmd, "5"));
        if builtin {
            assert_eq!(rl(&mut writer, &call)[0], 1, "+@write runs {cmd}");
        } else {
            assert!(err(&mut writer, &call).starts_with("NOPERM"), "{cmd} on {version:?}");
        }
    }
    let mut fast = s.connect();
    run(&mut fast, &["AUTH", "fast", "pw"]);
    if builtin {
        assert_eq!(rl(&mut fast, &["RL.FIXED", "ff", "5", "1h"])[0], 1, "+@fast runs RL.FIXED");
    }
    assert!(err(&mut fast, &["RL.LOG", "fl", "5", "1h"]).starts_with("NOPERM"), "RL.LOG is not fast");
    if own {
        run(&mut c, &["ACL", "SETUSER", "gw", "on", ">pw", "~*", "+@ratelimit"]);
        let mut gw = s.connect();
        run(&mut gw, &["AUTH", "gw", "pw"]);
        assert_eq!(rl(&mut gw, &["RL.LOG", "k", "5", "1s"])[0], 1);
        assert!(err(&mut gw, &["SET", "k2", "v"]).starts_with("NOPERM"));
    }
}

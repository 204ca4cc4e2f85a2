//! Memory pressure and load: clean OOM errors with nothing half-written, and memory that
//! returns to its baseline once every window has passed.

mod common;

use common::*;
use std::time::Duration;

/// Fills memory until the server refuses even small writes: after a refused large SET, Redis
/// 6.2 is back under maxmemory by the size of that SET, so it fills on with ever smaller values.
/// Returns how many filler keys (`filler:0` ...) it wrote.
fn fill_until_oom(c: &mut Connection) -> usize {
    let mut i = 0;
    for size in [16 * 1024, 1024, 64, 1] {
        let chunk = "x".repeat(size);
        loop {
            match redis::cmd("SET").arg(format!("filler:{i}")).arg(&chunk).query::<()>(c) {
                Ok(()) => i += 1,
                Err(e) if e.code() == Some("OOM") => break,
                Err(e) => panic!("unexpected error while filling: {e}"),
            }
            assert!(i < 200_000, "maxmemory never reached");
        }
    }
    i
}

#[test]
fn oom_is_a_clean_error_and_changes_nothing() {
    let s = Server::start_with(true, &["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"]);
    let mut c = s.connect();
    for cmd in [
        &["RL.FIXED", "f", "5", "1h"][..],
        &["RL.SLIDING", "s", "5", "1h"],
        &["RL.LOG", "l", "5", "1h"],
        &["RL.TOKEN", "t", "5", "1", "1h"],
    ] {
        assert_eq!(rl(&mut c, cmd)[0], 1);
    }
    let i = fill_until_oom(&mut c);
    let before = snapshot(&mut c);
    for cmd in [
        &["RL.FIXED", "f", "5", "1h"][..],
        &["RL.SLIDING", "s", "5", "1h"],
        &["RL.LOG", "l", "5", "1h"],
        &["RL.TOKEN", "t", "5", "1", "1h"],
        &["RL.FIXED", "new", "5", "1h"],
    ] {
        let e = err(&mut c, cmd);
        assert!(e.starts_with("OOM"), "{cmd:?}: {e}");
    }
    assert_eq!(snapshot(&mut c), before, "an OOM-refused call changed something");
    // Memory freed: the limiters carry on where they were.
    for n in 0..i {
        run(&mut c, &["DEL", &format!("filler:{n}")]);
    }
    assert_eq!(rl(&mut c, &["RL.FIXED", "f", "5", "1h"])[..3], [1, 5, 3]);
}

fn used_memory(con: &mut Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query(con).unwrap();
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).unwrap()
}

#[test]
fn memory_returns_to_baseline_once_windows_pass() {
    let s = Server::start_with(true, &["--hz", "100"]);
    let mut c = s.connect();
    let baseline = used_memory(&mut c);
    // 20000 limiters of each kind with 1 s windows: alive while measured, gone within ~3 s.
    let mut pipe = redis::pipe();
    for i in 0..20_000 {
        pipe.cmd("RL.FIXED").arg(format!("f:{i}")).arg(10).arg("1s").ignore();
        pipe.cmd("RL.SLIDING").arg(format!("s:{i}")).arg(10).arg("1s").ignore();
        pipe.cmd("RL.LOG").arg(format!("l:{i}")).arg(10).arg("1s").arg("COST").arg(2).ignore();
        pipe.cmd("RL.TOKEN").arg(format!("t:{i}")).arg(10).arg(10).arg("1s").ignore();
        if i % 1000 == 999 {
            pipe.query::<()>(&mut c).unwrap();
            pipe = redis::pipe();
        }
    }
    let loaded = used_memory(&mut c);
    assert!(loaded > baseline + 2_000_000, "the limiters took {} bytes", loaded - baseline);
    // Active expiry removes every key once its information is gone (within a few seconds).
    assert!(eventually(Duration::from_secs(15), || run(&mut c, &["DBSIZE"]) == Value::Int(0)), "keys left: {:?}", run(&mut c, &["DBSIZE"]));
    let after = used_memory(&mut c);
    eprintln!("used_memory: baseline {baseline}, with 80000 limiters {loaded}, after expiry {after}");
    // Allocator slack aside, nothing stays behind.
    assert!(after < baseline + 200_000, "used_memory {baseline} -> {loaded} -> {after}");
}

/// RL.CONCURRENT is deny-oom like the other RL commands: past maxmemory every call of it is a
/// clean OOM error (a RELEASE too: the server refuses the command before it runs), and the
/// leases are as they were.
#[test]
fn concurrent_oom_is_a_clean_error_and_changes_nothing() {
    if !has_concurrent() {
        return;
    }
    let s = Server::start_with(true, &["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"]);
    let mut c = s.connect();
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "c", "3", "1h", "a"])[..3], [1, 3, 2]);
    let i = fill_until_oom(&mut c);
    let before = snapshot(&mut c);
    for call in [
        &["RL.CONCURRENT", "c", "3", "1h", "b"][..],
        &["RL.CONCURRENT", "c", "3", "1h", "a"],
        &["RL.CONCURRENT", "c", "3", "1h", "a", "RELEASE"],
        &["RL.CONCURRENT", "new", "3", "1h", "a"],
    ] {
        let e = err(&mut c, call);
        assert!(e.starts_with("OOM"), "{call:?}: {e}");
    }
    assert_eq!(snapshot(&mut c), before, "an OOM-refused call changed something");
    for n in 0..i {
        run(&mut c, &["DEL", &format!("filler:{n}")]);
    }
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "c", "3", "1h", "b"])[..3], [1, 3, 1]);
}

/// Leases end by themselves: once every lease of every key has, no key and no memory is left.
#[test]
fn lease_memory_returns_to_baseline_once_leases_end() {
    if !has_concurrent() {
        return;
    }
    let s = Server::start_with(true, &["--hz", "100"]);
    let mut c = s.connect();
    let baseline = used_memory(&mut c);
    rl(&mut c, &["RL.CONCURRENT", "warm", "1", "1", "w"]); // EVALSHA: the script is loaded
    let mut pipe = redis::pipe();
    for i in 0..10_000 {
        for holder in 0..4 {
            pipe.add_command(rl_cmd(&["RL.CONCURRENT", &format!("c:{i}"), "10", "1s", &format!("worker-{holder}")])).ignore();
        }
        if i % 500 == 499 {
            pipe.query::<()>(&mut c).unwrap();
            pipe = redis::pipe();
        }
    }
    let loaded = used_memory(&mut c);
    assert_eq!(run(&mut c, &["ZCARD", "c:9999"]), Value::Int(4));
    assert!(loaded > baseline + 1_000_000, "the leases took {} bytes", loaded - baseline);
    assert!(eventually(Duration::from_secs(15), || run(&mut c, &["DBSIZE"]) == Value::Int(0)), "keys left: {:?}", run(&mut c, &["DBSIZE"]));
    let after = used_memory(&mut c);
    eprintln!("used_memory: baseline {baseline}, with 40000 leases {loaded}, after expiry {after}");
    assert!(after < baseline + 200_000, "used_memory {baseline} -> {loaded} -> {after}");
}

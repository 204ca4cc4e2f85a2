//! The script library (`functions/ratelimit.lua`) beside the module: one stored format, so
//! calls of either on the same keys continue each other and never admit more than the limit;
//! its functions behave as writes (read-only replicas, OOM) and its keys as keys (CROSSSLOT).
//! On each server it is called through FCALL, or EVALSHA where FUNCTION is missing (Redis 6.2).
//! (The contract itself runs against the library too: `RL_CALL=fcall|evalsha`, see Makefile.)

mod common;

use common::*;
use std::time::Duration;

const DAY: i64 = 86_400_000;

fn call(style: Style, con: &mut Connection, args: &[&str]) -> Vec<i64> {
    query_rl_as::<Vec<i64>>(style, con, args).unwrap_or_else(|e| panic!("{style:?} {args:?}: {e}"))
}

/// Alternating module and library calls at random on the same keys, every algorithm and
/// RL.ALL: the usage each one reports is exactly what both admitted together, a request
/// is admitted only while it fits, and the two answer a PEEK alike.
#[test]
fn alternating_module_and_library_calls_never_admit_more_than_the_limit() {
    let s = Server::start_with(true, &[]);
    let mut c = s.connect();
    let library = library_way(&s, &mut c);
    let mut x: u64 = 0x1234_5678_9ABC_DEF1;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for attempt in 0.. {
        assert!(attempt < 3, "a day began during every attempt");
        let day = server_ms(&mut c) / DAY;
        let mut checked = 0;
        for (cmd, params) in [
            ("RL.FIXED", &["7", "1d"][..]),
            ("RL.SLIDING", &["7", "1d"]),
            ("RL.LOG", &["7", "1h"]),
            ("RL.TOKEN", &["7", "1", "1h"]),
            ("RL.LEAKY", &["7", "1", "1h"]),
        ] {
            let key = format!("{attempt}:{cmd}");
            let mut admitted = 0;
            for _ in 0..40 {
                let style = if next(2) == 0 { Style::Module } else { library };
                let cost = (1 + next(3)).to_string();
                let mut args = vec![cmd, &key];
                args.extend(params);
                args.extend(["COST", &cost]);
                let r = call(style, &mut c, &args);
                let cost: i64 = cost.parse().unwrap_or(0);
                let fits = admitted + cost <= 7;
                assert_eq!(r[0], i64::from(fits), "{style:?} {args:?} after {admitted}: {r:?}");
                if fits {
                    admitted += cost;
                }
                assert_eq!(r[2], 7 - admitted, "{style:?} {args:?}: {r:?}");
                // Both read the state alike.
                let mut peek = args.clone();
                peek.push("PEEK");
                let started = std::time::Instant::now();
                let (m, l) = (call(Style::Module, &mut c, &peek), call(library, &mut c, &peek));
                // Field 5 moves with the clock between the two calls: by at most the time they
                // took (the first EVALSHA call also loads the 210 KB script), plus a ms of rounding.
                let apart = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX).saturating_add(1);
                assert_eq!(m[..3], l[..3], "{peek:?}");
                assert!((m[4] - l[4]).abs() <= apart.max(5), "{peek:?}: {m:?} {l:?} ({apart} ms apart)");
                checked += 1;
            }
            assert!(admitted >= 5, "{cmd}: only {admitted} admitted");
        }
        // RL.ALL: both limits charged together or not at all, by either.
        let (a, b) = (format!("{{t{attempt}}}:a"), format!("{{t{attempt}}}:b"));
        let mut charged = 0;
        for _ in 0..12 {
            let style = if next(2) == 0 { Style::Module } else { library };
            let r = call(style, &mut c, &["RL.ALL", "2", &a, &b, "FIXED", "5", "1d", "TOKEN", "9", "1", "1h"]);
            assert_eq!(r[0], i64::from(charged < 5), "{style:?} {r:?}");
            charged += r[0];
        }
        assert_eq!(get_bytes(&mut c, &a), Some(b"5".to_vec()));
        assert_eq!(call(Style::Module, &mut c, &["RL.TOKEN", &b, "9", "1", "1h", "PEEK"])[2], 4);
        if server_ms(&mut c) / DAY == day {
            assert_eq!(checked, 200);
            break;
        }
    }
}

/// A key written by one is continued by the other, every algorithm, admissions and REFUND:
/// the usage both report is the sum of what both charged.
#[test]
fn each_continues_what_the_other_wrote() {
    let s = Server::start_with(true, &[]);
    let mut c = s.connect();
    let library = library_way(&s, &mut c);
    for (cmd, params) in [
        ("RL.FIXED", &["10", "1d"][..]),
        ("RL.SLIDING", &["10", "1d"]),
        ("RL.LOG", &["10", "1h"]),
        ("RL.TOKEN", &["10", "3", "1h"]),
        ("RL.LEAKY", &["10", "3", "1h"]),
    ] {
        for (first, second) in [(Style::Module, library), (library, Style::Module)] {
            let key = format!("{cmd}:{first:?}");
            let with = |extra: &[&'static str]| -> Vec<String> {
                [&[cmd, key.as_str()][..], params, extra].concat().into_iter().map(str::to_owned).collect()
            };
            let run_as = |style: Style, c: &mut Connection, extra: &[&'static str]| {
                let args = with(extra);
                call(style, c, &args.iter().map(String::as_str).collect::<Vec<_>>())
            };
            assert_eq!(run_as(first, &mut c, &["COST", "3"])[..3], [1, 10, 7], "{cmd} {first:?}");
            // (Another millisecond: RL.LOG appends an entry rather than merging.)
            std::thread::sleep(Duration::from_millis(2));
            assert_eq!(run_as(second, &mut c, &["COST", "3"])[..3], [1, 10, 4], "{cmd} {second:?}");
            assert_eq!(run_as(first, &mut c, &["REFUND", "2"])[..3], [1, 10, 6], "{cmd} {first:?}");
            let (a, b) = (run_as(first, &mut c, &["PEEK"]), run_as(second, &mut c, &["PEEK"]));
            assert_eq!((a[..3].to_vec(), b[..3].to_vec()), (vec![1, 10, 6], vec![1, 10, 6]), "{cmd}");
            assert!(pexpiretime(&mut c, &key) > server_ms(&mut c), "{cmd}: no TTL");
        }
    }
}

/// A function without the no-writes flag: refused on a read-only replica and by FCALL_RO,
/// denied under OOM (PEEK too: a function's flags are fixed), as the module's commands are.
#[test]
fn functions_are_writes_refused_on_replicas_and_under_oom() {
    let primary = Server::start_with(false, &[]);
    let mut p = primary.connect();
    if library_way(&primary, &mut p) != Style::Fcall {
        // Redis 6.2: no functions; a script's writes are refused on a replica as any write.
        let replica = start_replica_of(&primary);
        let mut r = replica.connect();
        let e = query_rl_as::<Value>(Style::Evalsha, &mut r, &["RL.FIXED", "k", "5", "1s"]).expect_err("a replica writes nothing");
        assert!(e.to_string().contains("READONLY") || e.to_string().contains("read only"), "{e}");
        return;
    }
    assert_eq!(call(Style::Fcall, &mut p, &["RL.FIXED", "k", "5", "1h"])[..3], [1, 5, 4]);
    let replica = start_replica_of(&primary);
    let mut r = replica.connect();
    // The library came with the replication stream.
    let listed = format!("{:?}", run(&mut r, &["FUNCTION", "LIST"]));
    assert!(listed.contains("ratelimit"), "{listed}");
    let e = query_rl_as::<Value>(Style::Fcall, &mut r, &["RL.FIXED", "k", "5", "1h"]).expect_err("a replica writes nothing");
    assert!(e.to_string().to_lowercase().contains("read only") || e.to_string().contains("READONLY"), "{e}");
    let ro: redis::RedisResult<Value> = redis::cmd("FCALL_RO").arg("rl_fixed").arg(1).arg("k").arg(5).arg("1h").arg("PEEK").query(&mut p);
    assert!(ro.is_err(), "FCALL_RO ran a write function: {ro:?}");
    run(&mut p, &["CONFIG", "SET", "maxmemory", "1"]);
    for args in [&["RL.FIXED", "k", "5", "1h"][..], &["RL.FIXED", "k", "5", "1h", "PEEK"]] {
        let e = query_rl_as::<Value>(Style::Fcall, &mut p, args).expect_err("denied under OOM");
        assert!(e.to_string().contains("OOM"), "{args:?}: {e}");
    }
}

/// Keys travel as keys: in a cluster, rl_all over two slots is CROSSSLOT, over one hash tag
/// it runs.
#[test]
fn rl_all_across_slots_is_crossslot() {
    let s = Server::start_with(false, &["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]);
    let mut c = s.connect();
    let style = library_way(&s, &mut c);
    let slots: Vec<String> = (0..16384).map(|n: u32| n.to_string()).collect();
    let mut add = redis::cmd("CLUSTER");
    add.arg("ADDSLOTS").arg(&slots);
    add.query::<()>(&mut c).expect("CLUSTER ADDSLOTS");
    let ok = || {
        let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut s.connect()).expect("CLUSTER INFO");
        info.contains("cluster_state:ok")
    };
    assert!(eventually(Duration::from_secs(10), ok), "cluster not ok");
    if style == Style::Evalsha {
        redis::cmd("SCRIPT").arg("LOAD").arg(SCRIPT).query::<String>(&mut c).expect("SCRIPT LOAD");
    }
    let e = query_rl_as::<Value>(style, &mut c, &["RL.ALL", "2", "a", "b", "FIXED", "1", "1s", "FIXED", "1", "1s"]).expect_err("two slots");
    assert_eq!(e.kind(), redis::ErrorKind::CrossSlot, "{e}");
    assert_eq!(call(style, &mut c, &["RL.ALL", "2", "{t}a", "{t}b", "FIXED", "1", "1s", "FIXED", "1", "1s"])[0], 1);
}

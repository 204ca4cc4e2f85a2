//! Effects replication and persistence: replicas (without the module) and the AOF hold
//! exactly the primary's state; calls that change nothing write nothing. Run against the
//! script library too (RL_CALL=fcall|evalsha): its writes replicate as the module's do.

mod common;

use common::*;
use std::time::Duration;

/// A deterministic source of numbers for the traffic (xorshift64).
fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// A deterministic mix of every command: admissions, denials, PEEKs, costs, refunds, forced
/// overruns, limit changes, MULTI and Lua, over many keys.
fn traffic(con: &mut Connection, rounds: u64) {
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..rounds {
        let key = format!("k{}", next() % 40);
        let cost = (1 + next() % 3).to_string();
        let limit = (5 + next() % 3).to_string();
        let peek = next().is_multiple_of(8);
        let mut args: Vec<String> = match next() % 5 {
            0 => vec!["RL.FIXED".into(), format!("f:{key}"), limit, "1h".into()],
            1 => vec!["RL.SLIDING".into(), format!("s:{key}"), limit, "1h".into()],
            2 => vec!["RL.LOG".into(), format!("l:{key}"), limit, "1h".into()],
            3 => vec!["RL.TOKEN".into(), format!("t:{key}"), limit, "1".into(), "1s".into()],
            _ => vec!["RL.LEAKY".into(), format!("q:{key}"), limit, "3".into(), "1s".into()],
        };
        match next() % 8 {
            // Usage known after the fact: a refund, or an overrun recorded past the limit.
            0 => args.extend(["REFUND".into(), cost]),
            1 => args.extend(["COST".into(), cost, "FORCE".into()]),
            _ => {
                args.extend(["COST".into(), cost]);
                if peek {
                    args.push("PEEK".into());
                }
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match next() % 10 {
            // Several limits at once, all or nothing (several effects, in MULTI/EXEC).
            9 => {
                let (a, b) = (format!("a:{}", next() % 40), format!("b:{}", next() % 40));
                let params = if matches!(args[0], "RL.TOKEN" | "RL.LEAKY") { 3 } else { 2 };
                let algorithm = args[0].trim_start_matches("RL.");
                let mut all = vec!["RL.ALL", "3", &a, &b, args[1], "FIXED", "6", "1h", "TOKEN", "4", "1", "1s", algorithm];
                all.extend(&args[2..2 + params]);
                if peek {
                    all.push("PEEK");
                }
                assert_eq!(rl(con, &all).len(), 6);
            }
            0 => {
                rl(con, &["RL.FIXED", "warm", "1000000", "1h"]); // EVALSHA: the script is loaded
                let call = rl_cmd(&args);
                let _: Vec<Vec<i64>> = redis::pipe().atomic().add_command(call.clone()).add_command(call).query(con).expect("MULTI");
            }
            // (A script cannot call the library's functions.)
            1 if module_style() => {
                let script = "return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))";
                let _: Vec<i64> = redis::cmd("EVAL").arg(script).arg(1).arg(args[1]).arg(args[0]).arg(&args[2..]).query(con).expect("EVAL");
            }
            _ => {
                rl(con, &args);
            }
        }
    }
}

/// A deterministic mix of RL.CONCURRENT calls over many keys and holders: acquires with short
/// leases (which expire during the traffic and are pruned by later writes) and long ones,
/// renewals, releases (of live, expired and never-taken leases), refusals under a lowered
/// limit, PEEKs, MULTI and Lua.
fn concurrent_traffic(con: &mut Connection, rounds: u64) {
    let mut next = xorshift(0xD1B5_4A32_D192_ED03);
    for _ in 0..rounds {
        let key = format!("c:{}", next() % 40);
        let id = format!("holder-{}", next() % 12);
        let limit = (1 + next() % 4).to_string();
        let lease = match next() % 10 {
            0..=2 => format!("{}", 20 + next() % 60),
            3..=5 => format!("{}s", 5 + next() % 60),
            _ => format!("{}m", 1 + next() % 60),
        };
        let mut args = vec!["RL.CONCURRENT", &key, &limit, &lease, &id];
        match next() % 10 {
            0 | 1 => args.push("RELEASE"),
            2 => args.push("PEEK"),
            _ => {}
        }
        match next() % 20 {
            0 => {
                let call = rl_cmd(&args);
                let _: Vec<Vec<i64>> = redis::pipe().atomic().add_command(call.clone()).add_command(call).query(con).expect("MULTI");
            }
            1 if module_style() => {
                let script = "return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))";
                let _: Vec<i64> = redis::cmd("EVAL").arg(script).arg(1).arg(args[1]).arg(args[0]).arg(&args[2..]).query(con).expect("EVAL");
            }
            _ => assert_eq!(rl(con, &args).len(), 5),
        }
    }
}

/// Traffic of both kinds until the outcomes that matter have all happened: admissions,
/// refusals, releases, expired leases pruned.
fn mixed_leases(con: &mut Connection, rounds: u64) {
    rl(con, &["RL.FIXED", "warm", "1000000", "1h"]); // EVALSHA: the script is loaded
    concurrent_traffic(con, rounds);
}

/// The sorted sets of a snapshot.
fn lease_keys(state: &[Snapshot]) -> usize {
    state.iter().filter(|(_, contents, _)| matches!(contents, Contents::SortedSet(_))).count()
}

#[test]
fn replica_without_module_holds_the_same_leases() {
    if !has_concurrent() {
        return;
    }
    let primary = Server::start();
    let replica = start_replica_of(&primary);
    let mut p = primary.connect();
    let mut r = replica.connect();
    let info_before = info_field(&mut p, "ratelimit", "ratelimit_concurrent_denied");
    mixed_leases(&mut p, 4000);
    traffic(&mut p, 500);
    wait_for_replica(&mut p);
    let expected = snapshot(&mut p);
    assert!(lease_keys(&expected) > 20, "traffic left {} lease sets", lease_keys(&expected));
    let on_replica = snapshot(&mut r);
    assert_same_state(&on_replica, &expected, server_ms(&mut p));
    if module_style() {
        // The traffic did what it says: refusals and releases of live and of expired leases.
        let field = |c: &mut Connection, f: &str| info_field(c, "ratelimit", &format!("ratelimit_concurrent_{f}")).parse::<u64>().unwrap();
        assert_eq!(info_before, "0");
        assert!(field(&mut p, "denied") > 200 && field(&mut p, "releases") > 200 && field(&mut p, "allowed") > 1000);
    }
}

#[test]
fn concurrent_peek_denials_and_releases_of_nothing_replicate_nothing() {
    if !has_concurrent() {
        return;
    }
    let s = Server::start_with(true, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.connect();
    let before = aof_bytes(&s);
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "k", "1", "1h", "a"])[0], 1);
    let after_admit = aof_bytes(&s);
    assert!(after_admit > before, "an admission must be propagated");
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "k", "1", "1h", "b"])[0], 0);
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "k", "1", "1h", "b", "PEEK"])[0], 0);
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "k", "1", "1h", "a", "PEEK"])[0], 1);
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "k", "1", "1h", "b", "RELEASE"])[0], 0);
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "none", "1", "1h", "b", "RELEASE"])[0], 0);
    assert!(err(&mut c, &["RL.CONCURRENT", "k", "1", "1h", "a", "COST", "1"]).starts_with("ERR"));
    assert_eq!(aof_bytes(&s), after_admit, "PEEK, a denial, a release of nothing or an error was propagated");
    assert_eq!(rl(&mut c, &["RL.CONCURRENT", "k", "1", "1h", "a", "RELEASE"])[0], 1);
    assert!(aof_bytes(&s) > after_admit, "a release must be propagated");
}

#[test]
fn aof_rdb_and_rewrite_restarts_keep_every_lease() {
    if !has_concurrent() {
        return;
    }
    for way in ["aof", "rdb", "rewrite"] {
        let extra: &[&str] = if way == "rdb" { &[] } else { &["--appendonly", "yes", "--appendfsync", "always"] };
        let mut s = Server::start_with(true, extra);
        let mut c = s.connect();
        mixed_leases(&mut c, 2000);
        match way {
            "rdb" => assert_eq!(run(&mut c, &["SAVE"]), Value::Okay),
            "rewrite" => {
                run(&mut c, &["BGREWRITEAOF"]);
                let rewritten = eventually(Duration::from_secs(20), || {
                    info_field(&mut c, "persistence", "aof_rewrite_in_progress") == "0"
                        && info_field(&mut c, "persistence", "aof_rewrite_scheduled") == "0"
                });
                assert!(rewritten, "AOF rewrite did not finish");
                assert_eq!(info_field(&mut c, "persistence", "aof_last_bgrewrite_status"), "ok");
                // Traffic after the rewrite lands in the new incremental file.
                concurrent_traffic(&mut c, 500);
            }
            _ => {}
        }
        let before = snapshot(&mut c);
        assert!(lease_keys(&before) > 20, "{way}: {} lease sets", lease_keys(&before));
        s.restart();
        let mut c = s.connect();
        let after = snapshot(&mut c);
        assert_same_state(&after, &before, server_ms(&mut c));
        // And the leases hold on from there: a full limiter stays full, its holder renews.
        assert_eq!(rl(&mut c, &["RL.CONCURRENT", "full", "1", "1h", "a"])[0], 1);
        if way == "rdb" {
            run(&mut c, &["SAVE"]);
        }
        s.restart();
        let mut c = s.connect();
        assert_eq!(rl(&mut c, &["RL.CONCURRENT", "full", "1", "1h", "b"])[..3], [0, 1, 0], "{way}");
        assert_eq!(rl(&mut c, &["RL.CONCURRENT", "full", "1", "1h", "a"])[..3], [1, 1, 0], "{way}");
    }
}

#[test]
fn replica_attaching_mid_lease_traffic_ends_identical() {
    if !has_concurrent() {
        return;
    }
    let primary = Server::start();
    let port = primary.port;
    let writer = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        rl(&mut c, &["RL.FIXED", "warm", "1000000", "1h"]);
        for _ in 0..6 {
            concurrent_traffic(&mut c, 1000);
        }
    });
    std::thread::sleep(Duration::from_millis(150));
    let replica = start_replica_of(&primary);
    writer.join().expect("traffic thread");
    let mut p = primary.connect();
    wait_for_replica(&mut p);
    let expected = snapshot(&mut p);
    assert!(lease_keys(&expected) > 20);
    let on_replica = snapshot(&mut replica.connect());
    assert_same_state(&on_replica, &expected, server_ms(&mut p));
}

#[test]
fn replica_without_module_is_byte_identical() {
    let primary = Server::start();
    let replica = start_replica_of(&primary);
    let mut p = primary.connect();
    let mut r = replica.connect();
    traffic(&mut p, 3000);
    wait_for_replica(&mut p);
    let expected = snapshot(&mut p);
    assert!(expected.len() > 100, "traffic made {} keys", expected.len());
    let on_replica = snapshot(&mut r);
    assert_same_state(&on_replica, &expected, server_ms(&mut p));
}

#[test]
fn replica_follows_log_appends_merges_and_compaction() {
    let primary = Server::start();
    let replica = start_replica_of(&primary);
    let mut p = primary.connect();
    let mut r = replica.connect();
    // A short window and steady traffic: entries leave, the dead prefix grows, the log is
    // compacted (SET) between appends (SETRANGE) and expiry moves (PEXPIREAT).
    let mut compacted_seen = false;
    let mut longest = 0;
    for i in 0..400 {
        rl(&mut p, &["RL.LOG", "log", "1000", "40ms", "COST", &(1 + i % 3).to_string()]);
        let len = get_bytes(&mut p, "log").map_or(0, |v| v.len());
        compacted_seen |= len < longest;
        longest = longest.max(len);
        if i % 50 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        if i % 3 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert!(compacted_seen, "the log was never compacted (longest {longest} bytes)");
    wait_for_replica(&mut p);
    let on_primary = (get_bytes(&mut p, "log"), pexpiretime(&mut p, "log"));
    assert_eq!((get_bytes(&mut r, "log"), pexpiretime(&mut r, "log")), on_primary);
    assert!(on_primary.0.is_some());
}

/// Total size of the AOF files: what was propagated.
fn aof_bytes(server: &Server) -> u64 {
    // Redis 7+ keeps its AOF in appendonlydir/; Redis 6.2 in one appendonly.aof.
    let dir = server.dir.join("appendonlydir");
    let single = std::fs::metadata(server.dir.join("appendonly.aof")).map_or(0, |m| m.len());
    single + std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0)
}

#[test]
fn peek_and_denials_replicate_nothing() {
    let s = Server::start_with(true, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.connect();
    for (cmd, key) in COMMANDS {
        let mut call = vec![cmd, key];
        call.extend(per_hour(cmd, "2"));
        let before = aof_bytes(&s);
        assert_eq!(rl(&mut c, &call)[0], 1);
        let after_admit = aof_bytes(&s);
        assert!(after_admit > before, "{call:?}: an admission must be propagated");
        let mut peek = call.to_vec();
        peek.push("PEEK");
        rl(&mut c, &peek);
        let mut denied = call.to_vec();
        denied.extend(["COST", "2"]);
        assert_eq!(rl(&mut c, &denied)[0], 0);
        assert_eq!(aof_bytes(&s), after_admit, "{call:?}: PEEK or a denial was propagated");
    }
}

#[test]
fn aof_restart_keeps_every_limiter() {
    let mut s = Server::start_with(true, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.connect();
    traffic(&mut c, 1500);
    let before = snapshot(&mut c);
    s.restart();
    let mut c = s.connect();
    let after = snapshot(&mut c);
    assert_same_state(&after, &before, server_ms(&mut c));
    // And the limiters carry on from there: a full FIXED key stays full.
    rl(&mut c, &["RL.FIXED", "full", "1", "1h"]);
    s.restart();
    let mut c = s.connect();
    assert_eq!(rl(&mut c, &["RL.FIXED", "full", "1", "1h"])[0], 0);
}

#[test]
fn rdb_restart_keeps_every_limiter() {
    let mut s = Server::start();
    let mut c = s.connect();
    traffic(&mut c, 1500);
    let before = snapshot(&mut c);
    run(&mut c, &["SAVE"]);
    s.restart();
    let mut c = s.connect();
    let after = snapshot(&mut c);
    assert_same_state(&after, &before, server_ms(&mut c));
}

#[test]
fn aof_rewrite_keeps_every_limiter() {
    let mut s = Server::start_with(true, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.connect();
    traffic(&mut c, 1500);
    run(&mut c, &["BGREWRITEAOF"]);
    let rewritten = eventually(Duration::from_secs(20), || {
        info_field(&mut c, "persistence", "aof_rewrite_in_progress") == "0"
            && info_field(&mut c, "persistence", "aof_rewrite_scheduled") == "0"
    });
    assert!(rewritten, "AOF rewrite did not finish");
    assert_eq!(info_field(&mut c, "persistence", "aof_last_bgrewrite_status"), "ok");
    // Traffic after the rewrite lands in the new incremental file.
    traffic(&mut c, 300);
    let before = snapshot(&mut c);
    s.restart();
    let mut c = s.connect();
    let after = snapshot(&mut c);
    assert_same_state(&after, &before, server_ms(&mut c));
}

#[test]
fn replica_attaching_mid_traffic_ends_identical() {
    let primary = Server::start();
    let port = primary.port;
    // Traffic from another connection for the whole time the replica syncs.
    let writer = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        for _ in 0..6 {
            traffic(&mut c, 1000);
        }
    });
    std::thread::sleep(Duration::from_millis(150));
    let replica = start_replica_of(&primary);
    writer.join().expect("traffic thread");
    let mut p = primary.connect();
    wait_for_replica(&mut p);
    let expected = snapshot(&mut p);
    assert!(expected.len() > 100);
    let on_replica = snapshot(&mut replica.connect());
    assert_same_state(&on_replica, &expected, server_ms(&mut p));
}

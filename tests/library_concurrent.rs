//! RL.CONCURRENT's script library function (`rl_concurrent`) beside the module: one sorted set,
//! so each continues the leases the other took, renews and releases them, prunes the expired
//! ones alike and answers a PEEK with the same five integers; its errors are the module's; its
//! writes reach a replica without the module as the module's do. Through FCALL and EVALSHA
//! (EVALSHA only where FUNCTION is missing, Redis 6.2).

mod common;

use common::*;
use std::time::Duration;

const HOUR: i64 = 3_600_000;

/// The ways to call the library on this server: FCALL (loaded here) and EVALSHA, or EVALSHA
/// alone where FUNCTION is missing.
fn library_styles(s: &Server, c: &mut Connection) -> Vec<Style> {
    match library_way(s, c) {
        Style::Fcall => vec![Style::Fcall, Style::Evalsha],
        other => vec![other],
    }
}

fn call(style: Style, c: &mut Connection, args: &[&str]) -> Vec<i64> {
    query_rl_as::<Vec<i64>>(style, c, args).unwrap_or_else(|e| panic!("{style:?} {args:?}: {e}"))
}

fn error(style: Style, c: &mut Connection, args: &[&str]) -> String {
    match query_rl_as::<Value>(style, c, args) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("{style:?} {args:?} answered {v:?}"),
    }
}

/// The holders and their leases' expiries, as `ZRANGE key 0 -1 WITHSCORES` lists them.
fn leases(c: &mut Connection, key: &str) -> Vec<(String, i64)> {
    redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES").query(c).expect("ZRANGE")
}

/// A PEEK by the module, by the library, by the module again, until both module calls fell in
/// one millisecond (so did the library's, between them): then the library's five integers
/// must be the module's.
fn assert_same_peek(style: Style, c: &mut Connection, args: &[&str]) {
    let mut peek = args.to_vec();
    peek.push("PEEK");
    for _ in 0..100 {
        let before = call(Style::Module, c, &peek);
        let library = call(style, c, &peek);
        if call(Style::Module, c, &peek) == before {
            assert_eq!(library, before, "{style:?} {peek:?}");
            return;
        }
    }
    panic!("the clock never held still for three calls");
}

#[test]
fn each_continues_the_leases_the_other_took() {
    let s = Server::start_with(true, &[]);
    let mut c = s.connect();
    for library in library_styles(&s, &mut c) {
        let key = format!("jobs:{library:?}");
        let k = key.as_str();
        let (by_module, by_library) = (Style::Module, library);
        assert_eq!(call(by_module, &mut c, &["RL.CONCURRENT", k, "2", "1h", "a"]), [1, 2, 1, 0, HOUR]);
        assert_eq!(call(by_library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "b"]), [1, 2, 0, 0, HOUR]);
        let stored = leases(&mut c, k);
        let (a_ends, b_ends) = (stored[0].1, stored[1].1);
        assert_eq!((stored[0].0.as_str(), stored[1].0.as_str()), ("a", "b"), "{stored:?}");
        assert_eq!(pexpiretime(&mut c, k), b_ends, "the key expires with its last lease");
        // Both slots held, one by each: a third holder waits for the module's lease to end.
        let refused = call(by_library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "c"]);
        assert_eq!(refused[..3], [0, 2, 0]);
        assert!(refused[3] <= HOUR && b_ends - a_ends == refused[4] - refused[3], "{refused:?} {stored:?}");
        assert_same_peek(library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "c"]);
        assert_same_peek(library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "a"]);
        assert_same_peek(library, &mut c, &["RL.CONCURRENT", k, "1", "1h", "b"]);
        assert_eq!(leases(&mut c, k), stored, "PEEK and a refusal write nothing");

        // The library releases the module's lease, once.
        assert_eq!(call(by_library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "a", "RELEASE"])[..4], [1, 2, 1, 0]);
        assert_eq!(call(by_library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "a", "release"])[..4], [0, 2, 1, 0]);
        assert_eq!(leases(&mut c, k), [("b".to_owned(), b_ends)]);
        // The module takes the freed slot and renews the library's lease.
        assert_eq!(call(by_module, &mut c, &["RL.CONCURRENT", k, "2", "1h", "c"]), [1, 2, 0, 0, HOUR]);
        assert_eq!(call(by_module, &mut c, &["RL.CONCURRENT", k, "2", "1h", "b"]), [1, 2, 0, 0, HOUR]);
        let renewed = leases(&mut c, k);
        assert!(renewed.iter().any(|(m, at)| m == "b" && *at >= b_ends), "{renewed:?}");
        assert_eq!(pexpiretime(&mut c, k), renewed.iter().map(|(_, at)| *at).max().unwrap_or(0));
        assert_same_peek(library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "b"]);
        // The library renews the module's lease; each releases the other's.
        assert_eq!(call(by_library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "c"]), [1, 2, 0, 0, HOUR]);
        assert_eq!(call(by_module, &mut c, &["RL.CONCURRENT", k, "2", "1h", "c", "RELEASE"])[..4], [1, 2, 1, 0]);
        assert_eq!(call(by_library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "b", "RELEASE"]), [1, 2, 2, 0, 0]);
        let exists: i64 = redis::cmd("EXISTS").arg(k).query(&mut c).expect("EXISTS");
        assert_eq!(exists, 0, "the last release deletes the key");
    }
}

#[test]
fn expired_leases_are_pruned_alike() {
    let s = Server::start_with(true, &[]);
    let mut c = s.connect();
    for library in library_styles(&s, &mut c) {
        for (first, second) in [(Style::Module, library), (library, Style::Module)] {
            let key = format!("short:{first:?}:{second:?}");
            let k = key.as_str();
            // A holder that crashed (a 1 ms lease, over as soon as the server's clock passes it)
            // beside one that runs.
            assert_eq!(call(first, &mut c, &["RL.CONCURRENT", k, "2", "1h", "running"]), [1, 2, 1, 0, HOUR]);
            assert_eq!(call(first, &mut c, &["RL.CONCURRENT", k, "2", "1", "crashed"])[..4], [1, 2, 0, 0]);
            let ends = leases(&mut c, k).first().map_or(0, |(_, at)| *at);
            assert!(eventually(Duration::from_secs(1), || server_ms(&mut c) > ends));
            assert_same_peek(library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "next"]);
            assert_same_peek(library, &mut c, &["RL.CONCURRENT", k, "2", "1h", "crashed"]);
            assert_eq!(call(second, &mut c, &["RL.CONCURRENT", k, "2", "1h", "next"]), [1, 2, 0, 0, HOUR], "{first:?} then {second:?}");
            let stored = leases(&mut c, k);
            assert_eq!(stored.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(), ["running", "next"], "pruned by {second:?}");
            assert_eq!(pexpiretime(&mut c, k), stored[1].1, "the key expires with its last lease");
        }
    }
}

#[test]
fn the_library_answers_the_modules_errors() {
    let s = Server::start_with(true, &[]);
    let mut c = s.connect();
    run(&mut c, &["SET", "text", "x"]);
    run(&mut c, &["ZADD", "board", "1.5", "alice"]);
    let long = "i".repeat(257);
    let cases: [&[&str]; 10] = [
        &["RL.CONCURRENT", "text", "2", "1h", "a"],
        &["RL.CONCURRENT", "board", "2", "1h", "a"],
        &["RL.CONCURRENT", "k", "2", "1h"],
        &["RL.CONCURRENT", "k", "0", "1h", "a"],
        &["RL.CONCURRENT", "k", "2", "1x", "a"],
        &["RL.CONCURRENT", "k", "2", "1h", &long],
        &["RL.CONCURRENT", "k", "2", "1h", "a", "COST", "2"],
        &["RL.CONCURRENT", "k", "2", "1h", "a", "PEEK", "RELEASE"],
        &["RL.CONCURRENT", "k", "2", "1h", "a", "PEEK", "PEEK", "PEEK"],
        &["RL.CONCURRENT", "k", "2", "1h", "a", "NOW"],
    ];
    // Redis 6.2 names the command in its arity error as the client typed it, which a script
    // cannot know; 7.0 and later name it in lower case, as the library does.
    let modern = server_version(&mut c) >= (7, 0, 0);
    for library in library_styles(&s, &mut c) {
        for args in cases.iter().filter(|a| modern || a.len() > 4) {
            assert_eq!(error(library, &mut c, args), error(Style::Module, &mut c, args), "{library:?} {:?}", &args[..args.len().min(6)]);
        }
    }
    assert!(error(Style::Module, &mut c, cases[1]).contains("not RL.CONCURRENT state"));
    let board: Vec<String> = redis::cmd("ZRANGE").arg("board").arg(0).arg(-1).arg("WITHSCORES").query(&mut c).expect("ZRANGE");
    assert_eq!(board, ["alice", "1.5"], "nothing changed");
}

/// The library's writes are the module's effects (ZREMRANGEBYSCORE, ZADD / ZREM, PEXPIREAT):
/// a replica without the module holds the primary's members, scores and expiry.
#[test]
fn a_replica_without_the_module_holds_the_same_leases() {
    let primary = Server::start_with(true, &[]);
    let mut p = primary.connect();
    let styles = library_styles(&primary, &mut p);
    let replica = start_replica_of(&primary);
    let mut r = replica.connect();
    for library in styles {
        let key = format!("pool:{library:?}");
        let k = key.as_str();
        run(&mut p, &["ZADD", k, "1000", "gone"]);
        for (style, id, option) in [
            (library, "a", None),
            (Style::Module, "b", None),
            (library, "c", None),
            (library, "b", None),
            (library, "a", Some("RELEASE")),
            (Style::Module, "c", None),
            (library, "d", None),
        ] {
            let mut args = vec!["RL.CONCURRENT", k, "3", "1h", id];
            args.extend(option);
            call(style, &mut p, &args);
        }
        wait_for_replica(&mut p);
        let stored = leases(&mut p, k);
        assert_eq!(stored.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(), ["b", "c", "d"], "{stored:?}");
        assert_eq!(leases(&mut r, k), stored, "{library:?}");
        assert_eq!(pexpiretime(&mut r, k), pexpiretime(&mut p, k), "{library:?}");
    }
}

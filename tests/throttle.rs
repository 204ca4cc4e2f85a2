//! CL.THROTTLE over the wire: redis-cell's command and replies, its stored format continued,
//! effects replication, clear errors where redis-cell aborts, and loading beside redis-cell.

mod common;

use common::*;
use std::time::Duration;

const NS_PER_MS: i64 = 1_000_000;

fn throttle(c: &mut Connection, args: &[&str]) -> Vec<i64> {
    let mut call = vec!["CL.THROTTLE"];
    call.extend(args);
    rl(c, &call)
}

/// redis-cell's README: `CL.THROTTLE user123 15 30 60 1` gives `0 16 15 -1 2`; the key holds
/// the TAT in nanoseconds as a decimal string and expires when it is reached.
#[test]
fn the_readme_example_and_redis_cells_stored_format() {
    let s = Server::start();
    let mut c = s.connect();
    let before = server_ms(&mut c);
    assert_eq!(throttle(&mut c, &["user123", "15", "30", "60", "1"]), [0, 16, 15, -1, 2]);
    let after = server_ms(&mut c);
    let tat: i64 = String::from_utf8(get_bytes(&mut c, "user123").expect("a TAT")).unwrap().parse().expect("decimal");
    // T = 60 s / 30 = 2 s: the TAT is the call's time plus 2 s (to the microsecond where the
    // server's clock has them: within the millisecond `after` reads).
    assert!(tat >= (before + 2000) * NS_PER_MS && tat < (after + 2001) * NS_PER_MS, "tat {tat}");
    assert_eq!(pexpiretime(&mut c, "user123"), (tat + NS_PER_MS - 1) / NS_PER_MS);
}

/// max_burst 4 at 1 per 10 s: five admitted at once, then limited with the time until one
/// more fits; reset-after grows by T with each admission.
#[test]
fn bursts_then_refusals_with_retry_and_reset_after() {
    let s = Server::start();
    let mut c = s.connect();
    for (i, remaining) in (0..5).zip([4, 3, 2, 1, 0]) {
        assert_eq!(throttle(&mut c, &["b", "4", "1", "10"]), [0, 5, remaining, -1, 10 * (i + 1)], "call {i}");
    }
    assert_eq!(throttle(&mut c, &["b", "4", "1", "10"]), [1, 5, 0, 10, 50]);
    let stored = get_bytes(&mut c, "b");
    // A refusal writes nothing.
    assert_eq!(throttle(&mut c, &["b", "4", "1", "10", "2"]), [1, 5, 0, 20, 50]);
    assert_eq!(get_bytes(&mut c, "b"), stored);
}

#[test]
fn quantity_above_the_limit_is_refused_for_good_and_zero_charges_nothing() {
    let s = Server::start();
    let mut c = s.connect();
    assert_eq!(throttle(&mut c, &["q", "4", "1", "10", "6"]), [1, 5, 5, -1, 0]);
    assert_eq!(throttle(&mut c, &["q", "4", "1", "10", "0"]), [0, 5, 5, -1, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "q"]), Value::Int(0));
    // max_burst 0: a limit of 1.
    assert_eq!(throttle(&mut c, &["one", "0", "1", "10"]), [0, 1, 0, -1, 10]);
    assert_eq!(throttle(&mut c, &["one", "0", "1", "10"]), [1, 1, 0, 10, 10]);
}

/// A TAT as redis-cell left it (written by hand here) is continued: 20 s ahead with T = 10 s
/// and tau = 50 s leaves 3, then one more call leaves 2.
#[test]
fn a_tat_left_by_redis_cell_is_continued() {
    let s = Server::start();
    let mut c = s.connect();
    let tat = (server_ms(&mut c) + 20_000) * NS_PER_MS;
    set_bytes(&mut c, "cell", tat.to_string().as_bytes(), Some(20_000));
    assert_eq!(throttle(&mut c, &["cell", "4", "1", "10", "0"]), [0, 5, 3, -1, 20]);
    assert_eq!(throttle(&mut c, &["cell", "4", "1", "10"]), [0, 5, 2, -1, 30]);
    assert_eq!(get_bytes(&mut c, "cell"), Some((tat + 10_000 * NS_PER_MS).to_string().into_bytes()));
    // One without a TTL gets one at the next call, refused or not.
    let tat = (server_ms(&mut c) + 60_000) * NS_PER_MS;
    set_bytes(&mut c, "bare", tat.to_string().as_bytes(), None);
    assert_eq!(throttle(&mut c, &["bare", "4", "1", "10"]), [1, 5, 0, 20, 60]);
    assert_eq!(pexpiretime(&mut c, "bare"), (tat + NS_PER_MS - 1) / NS_PER_MS);
}

/// redis-cell stamps its TATs in nanoseconds; the module reads the server's clock in
/// microseconds where the server has them (Redis 7.2+, Valkey), so a TAT that redis-cell left a
/// fraction of a millisecond ago is continued as redis-cell would continue it: with T = 1 ms and
/// no burst, a call after the TAT is admitted every time. Reading whole milliseconds (Redis 6.2
/// and 7.0, where this is only reported), a call early in its millisecond falls before the TAT.
#[test]
fn a_tat_left_within_the_millisecond_is_continued_to_the_microsecond() {
    let s = Server::start();
    let mut c = s.connect();
    let microseconds = is_valkey(&mut c) || server_version(&mut c) >= (7, 2, 0);
    let mut limited = 0;
    let calls = 300;
    for _ in 0..calls {
        let (sec, us): (i64, i64) = redis::cmd("TIME").query(&mut c).expect("TIME");
        let tat = (sec * 1_000_000 + us) * 1000 - 200_000;
        set_bytes(&mut c, "cell", tat.to_string().as_bytes(), Some(10_000));
        // 1000 per second: T = 1 ms; max_burst 0: a limit of 1.
        let reply = throttle(&mut c, &["cell", "0", "1000", "1"]);
        assert_eq!(reply[1..3], [1, 0], "{reply:?}");
        limited += reply[0];
    }
    if microseconds {
        assert_eq!(limited, 0, "calls after redis-cell's TAT were limited");
    } else {
        eprintln!("whole-millisecond clock: {limited} of {calls} calls 0.2 ms after the TAT were limited");
    }
}

/// Effects replication: a replica without the module holds the primary's bytes and expiry.
#[test]
fn replica_without_module_holds_the_same_tat_and_expiry() {
    let primary = Server::start();
    let replica = start_replica_of(&primary);
    let mut p = primary.connect();
    let mut r = replica.connect();
    for i in 0..200 {
        let key = format!("k{}", i % 20);
        throttle(&mut p, &[&key, "3", "10", "1", &(i % 3).to_string()]);
    }
    wait_for_replica(&mut p);
    let expected = snapshot(&mut p);
    assert!(expected.len() >= 19, "{} keys", expected.len());
    assert_same_state(&snapshot(&mut r), &expected, server_ms(&mut p));
}

/// Errors name the argument, and nothing is written: where redis-cell aborts the whole server
/// on a value it cannot parse, this answers an error.
#[test]
fn bad_input_and_foreign_values_are_errors_that_write_nothing() {
    let s = Server::start();
    let mut c = s.connect();
    set_bytes(&mut c, "text", b"hello", None);
    set_bytes(&mut c, "neg", b"-5", None);
    rl(&mut c, &["RL.TOKEN", "bucket", "5", "1", "1h"]);
    let before = snapshot(&mut c);
    let cases: [(&[&str], &str); 12] = [
        (&["k", "-1", "1", "1"], "ERR max_burst must be a non-negative integer"),
        (&["k", "x", "1", "1"], "ERR max_burst must be a non-negative integer"),
        (&["k", "1", "0", "1"], "ERR count_per_period must be a positive integer"),
        (&["k", "1", "1", "0"], "ERR period must be a positive integer"),
        (&["k", "1", "1", "1.5"], "ERR period must be a positive integer"),
        (
            &["k", "1", "1", "1", "-1"],
            "ERR quantity must not be negative (to give usage back, use RL.TOKEN key capacity rate period REFUND n)",
        ),
        (&["k", "1", "1", "1", "x"], "ERR quantity must be a non-negative integer"),
        (&["k", "1", "2000000000", "1"], "ERR count_per_period must be at most period * 10^9 (one request per nanosecond)"),
        (&["k", "1", "1", "9223372036854775807"], "ERR the limit is too large: its theoretical arrival time would pass 2^63-1 ns"),
        (&["text", "1", "1", "1"], "ERR key holds a value that is not CL.THROTTLE state"),
        (&["neg", "1", "1", "1"], "ERR key holds CL.THROTTLE state out of range"),
        (&["bucket", "1", "1", "1"], "ERR key holds RL.TOKEN state, not CL.THROTTLE state"),
    ];
    for (args, message) in cases {
        let mut call = vec!["CL.THROTTLE"];
        call.extend(args);
        assert_eq!(err(&mut c, &call), message, "{args:?}");
    }
    assert!(err(&mut c, &["CL.THROTTLE", "k", "1", "1"]).to_ascii_lowercase().contains("wrong number of arguments"));
    assert!(err(&mut c, &["CL.THROTTLE", "k", "1", "1", "1", "1", "1"]).to_ascii_lowercase().contains("wrong number of arguments"));
    assert_eq!(snapshot(&mut c), before);
    run(&mut c, &["LPUSH", "list", "x"]);
    assert_eq!(err(&mut c, &["CL.THROTTLE", "list", "1", "1", "1"]), "WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(run(&mut c, &["LLEN", "list"]), Value::Int(1));
}

/// If redis-cell (here a stand-in module) registered CL.THROTTLE first, ratelimit loads without
/// it, says so in the log, and the RL commands work.
#[test]
fn loads_beside_redis_cell_without_its_own_cl_throttle() {
    let stub = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/examples/libcell_stub.so");
    assert!(stub.exists(), "build the stand-in first: cargo build --release --examples");
    let s = Server::start_with(false, &["--loadmodule", &stub.display().to_string(), "--loadmodule", &module_path().display().to_string()]);
    let mut c = s.connect();
    assert_eq!(run(&mut c, &["CL.THROTTLE", "k", "1", "1", "1"]), Value::SimpleString("stub".into()));
    assert_eq!(rl(&mut c, &["RL.FIXED", "f", "5", "1h"])[..3], [1, 5, 4]);
    assert!(s.log().contains("CL.THROTTLE is already registered (redis-cell loaded?): loading without it"), "{}", s.log());
}

/// As for the RL commands: COMMAND DOCS (Redis 7.0+), INFO counters, the keyspace event
/// `rl.throttle`.
#[test]
fn declared_counted_and_signalled_like_the_rl_commands() {
    let s = Server::start();
    let mut c = s.connect();
    if server_version(&mut c) >= (7, 0, 0) {
        let docs = format!("{:?}", run(&mut c, &["COMMAND", "DOCS", "cl.throttle"]));
        for word in ["max_burst", "count_per_period", "period", "quantity", "optional"] {
            assert!(docs.contains(word), "COMMAND DOCS lacks {word}: {docs}");
        }
    }
    run(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    let mut listener = s.connect();
    let mut pubsub = listener.as_pubsub();
    pubsub.subscribe("__keyevent@0__:rl.throttle").expect("SUBSCRIBE");
    pubsub.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    throttle(&mut c, &["ev", "1", "1", "10"]);
    throttle(&mut c, &["ev", "1", "1", "10"]);
    throttle(&mut c, &["ev", "1", "1", "10"]); // refused: no event
    throttle(&mut c, &["ev", "1", "1", "10", "0"]); // charges nothing: no event
    let err_reply = err(&mut c, &["CL.THROTTLE", "ev", "x", "1", "10"]);
    assert!(err_reply.starts_with("ERR"));
    let message = pubsub.get_message().expect("an event");
    assert_eq!(message.get_payload::<String>().expect("payload"), "ev");
    let info: String = redis::cmd("INFO").arg("ratelimit").query(&mut c).expect("INFO");
    for (field, value) in [("calls", 5), ("allowed", 2), ("denied", 1), ("peeks", 1), ("errors", 1)] {
        assert!(info.contains(&format!("ratelimit_throttle_{field}:{value}")), "throttle_{field} != {value}:\n{info}");
    }
}

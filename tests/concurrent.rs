//! RL.CONCURRENT's contract (shared/spec/commands.md, "how many at once (leases)"), clause by
//! clause, over the wire against a real server. Every call goes through the harness (`rl`,
//! `err`, `query_rl`), so the suite also runs against the script library (RL_CALL) once it has
//! `rl_concurrent`; what only a module can do (COMMAND DOCS, INFO, the keyspace event, ACL
//! categories) is checked in module style only.

mod common;

use common::*;
use std::time::Duration;

const C: &str = "RL.CONCURRENT";

/// False (and a note) when the current style has no RL.CONCURRENT yet.
fn available() -> bool {
    let here = has_concurrent();
    if !here {
        eprintln!("skipped: the script library has no rl_concurrent yet");
    }
    here
}

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

/// The expiry of `id`'s lease (its score).
fn lease_of(con: &mut Connection, key: &str, id: &str) -> i64 {
    let score: Option<String> = redis::cmd("ZSCORE").arg(key).arg(id).query(con).expect("ZSCORE");
    let score = score.unwrap_or_else(|| panic!("{id} holds no lease in {key}"));
    score.parse().unwrap_or_else(|_| panic!("score {score} is not whole ms"))
}

/// Acquires (or renews) `id`'s lease of `lease_ms` and returns the reply and the time of the
/// call, exact: the lease's expiry minus its length.
fn acquire(con: &mut Connection, key: &str, limit: &str, lease_ms: i64, id: &str) -> (Vec<i64>, i64) {
    let reply = rl(con, &[C, key, limit, &lease_ms.to_string(), id]);
    assert_eq!(reply[0], 1, "{id} refused: {reply:?}");
    (reply, lease_of(con, key, id) - lease_ms)
}

/// The key's expiry is its latest lease's (and a key exists only while a lease is stored).
fn assert_expires_with_last_lease(con: &mut Connection, key: &str) {
    let latest = leases(con, key).iter().map(|(_, at)| *at).max();
    assert_eq!(pexpiretime(con, key), latest.unwrap_or(-2), "{key}: {:?}", leases(con, key));
}

/// Waits until the server's clock has passed `at`.
fn wait_past(con: &mut Connection, at: i64) {
    let left = at - server_ms(con);
    if left >= 0 {
        std::thread::sleep(Duration::from_millis(left as u64 + 1));
    }
    assert!(eventually(Duration::from_secs(2), || server_ms(con) > at));
}

fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
    v.iter().map(|(id, at)| (id.to_string(), *at)).collect()
}

#[test]
fn acquire_up_to_limit_then_refused_until_the_right_lease_ends() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    // Leases of different lengths: the first to end is not the first taken.
    let (r, now) = acquire(&mut c, "k", "3", 30_000, "a");
    assert_eq!(r, [1, 3, 2, 0, 30_000]);
    let a = now + 30_000;
    let (r, now) = acquire(&mut c, "k", "3", 10_000, "b");
    let b = now + 10_000;
    assert_eq!(r, [1, 3, 1, 0, a - now]);
    let (r, now) = acquire(&mut c, "k", "3", 20_000, "c");
    let cc = now + 20_000;
    assert_eq!(r, [1, 3, 0, 0, a - now]);
    assert_eq!(leases(&mut c, "k"), pairs(&[("b", b), ("c", cc), ("a", a)]));
    assert_eq!(pexpiretime(&mut c, "k"), a);
    let before = snapshot(&mut c);
    // Full: a new holder waits for the lease that ends first (b's), whatever its own lease.
    let (r, t0, t1) = timed(&mut c, &[C, "k", "3", "5s", "d"]);
    assert_eq!(r[..3], [0, 3, 0]);
    assert_between("retry_after", r[3], b - t1, b - t0);
    assert_between("reset_after", r[4], a - t1, a - t0);
    // Limit 2 with 3 live: two leases must end, so the second to end (c's) frees the slot.
    let (r, t0, t1) = timed(&mut c, &[C, "k", "2", "5s", "d"]);
    assert_eq!(r[..3], [0, 2, 0]);
    assert_between("retry_after", r[3], cc - t1, cc - t0);
    // Limit 1: all three, the last being a's.
    let (r, t0, t1) = timed(&mut c, &[C, "k", "1", "5s", "d"]);
    assert_eq!(r[..3], [0, 1, 0]);
    assert_between("retry_after", r[3], a - t1, a - t0);
    assert_eq!(r[3], r[4]);
    assert_eq!(snapshot(&mut c), before, "a refusal wrote something");
    // The lease takes unit suffixes as every duration does.
    let (r, now) = acquire(&mut c, "m", "1", 2_000, "x");
    assert_eq!(r, [1, 1, 0, 0, 2_000]);
    assert_eq!(lease_of(&mut c, "m", "x"), now + 2_000);
    let r = rl(&mut c, &[C, "m", "1", "1M", "x"]);
    assert_eq!(r[..4], [1, 1, 0, 0]);
    let at = lease_of(&mut c, "m", "x");
    assert_eq!(r[4], 60_000);
    assert_eq!(pexpiretime(&mut c, "m"), at);
}

#[test]
fn refused_holder_is_admitted_once_retry_after_has_passed() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    acquire(&mut c, "k", "2", 60, "a");
    acquire(&mut c, "k", "2", 10_000, "b");
    let r = rl(&mut c, &[C, "k", "2", "60", "c"]);
    assert_eq!(r[..3], [0, 2, 0]);
    assert_between("retry_after", r[3], 1, 60);
    std::thread::sleep(Duration::from_millis(r[3] as u64));
    let (r, _) = acquire(&mut c, "k", "2", 60, "c");
    assert_eq!(r[..4], [1, 2, 0, 0], "a's lease had ended by retry_after");
}

#[test]
fn renewal_of_a_live_holder_is_always_allowed_also_after_the_limit_was_lowered() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    for id in ["a", "b", "c"] {
        acquire(&mut c, "k", "3", 10_000, id);
    }
    // The limit drops to 1 with three running: each renewal is allowed, remaining stays 0.
    let mut expiries = Vec::new();
    for id in ["a", "b", "c"] {
        let (r, now) = acquire(&mut c, "k", "1", 20_000, id);
        assert_eq!(r, [1, 1, 0, 0, 20_000], "{id}");
        assert_eq!(lease_of(&mut c, "k", id), now + 20_000);
        expiries.push(now + 20_000);
    }
    assert_expires_with_last_lease(&mut c, "k");
    // A renewal with a shorter lease moves the key's expiry down when it held the latest lease.
    let (r, now) = acquire(&mut c, "k", "1", 15_000, "c");
    assert_eq!(r, [1, 1, 0, 0, expiries[1] - now]);
    assert_expires_with_last_lease(&mut c, "k");
    assert_eq!(pexpiretime(&mut c, "k"), expiries[1]);
    // No new holder until the live leases are below the limit: 3, 2, 1 live are all too many.
    let after_refusals = |c: &mut Connection, release: &str, released_reply: [i64; 3]| {
        let r = rl(c, &[C, "k", "1", "10s", "d"]);
        assert_eq!(r[..3], [0, 1, 0], "d admitted before {release} was released");
        assert!(r[3] > 0, "{r:?}");
        let r = rl(c, &[C, "k", "1", "10s", release, "RELEASE"]);
        assert_eq!(r[..4], [1, released_reply[0], released_reply[1], released_reply[2]], "release {release}");
    };
    after_refusals(&mut c, "a", [1, 0, 0]);
    after_refusals(&mut c, "b", [1, 0, 0]);
    after_refusals(&mut c, "c", [1, 1, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "k"]), Value::Int(0));
    let (r, _) = acquire(&mut c, "k", "1", 10_000, "d");
    assert_eq!(r, [1, 1, 0, 0, 10_000]);
    // Raising the limit again admits at once.
    let (r, _) = acquire(&mut c, "k", "2", 10_000, "e");
    assert_eq!(r[..4], [1, 2, 0, 0]);
}

#[test]
fn peek_changes_nothing() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    // A missing key: a free slot, nothing held, still no key.
    assert_eq!(rl(&mut c, &[C, "new", "3", "10s", "a", "PEEK"]), [1, 3, 3, 0, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "new"]), Value::Int(0));
    acquire(&mut c, "k", "3", 10_000, "a");
    acquire(&mut c, "k", "3", 100, "short");
    acquire(&mut c, "k", "3", 20_000, "b");
    let b = lease_of(&mut c, "k", "b");
    let short = lease_of(&mut c, "k", "short");
    wait_past(&mut c, short);
    // "short" has expired: it holds no slot, and PEEK does not prune it.
    let before = snapshot(&mut c);
    assert_eq!(leases(&mut c, "k").len(), 3);
    // A live holder would be renewed: allowed, the slots as they are.
    let (r, t0, t1) = timed(&mut c, &[C, "k", "3", "10s", "a", "PEEK"]);
    assert_eq!(r[..4], [1, 3, 1, 0]);
    assert_between("reset_after", r[4], b - t1, b - t0);
    // A new holder with a slot free: allowed, nothing taken.
    assert_eq!(rl(&mut c, &[C, "k", "3", "10s", "z", "PEEK"])[..4], [1, 3, 1, 0]);
    // A new holder with none free: refused, with the wait.
    let (r, t0, t1) = timed(&mut c, &[C, "k", "2", "10s", "z", "PEEK"]);
    let a = lease_of(&mut c, "k", "a");
    assert_eq!(r[..3], [0, 2, 0]);
    assert_between("retry_after", r[3], a - t1, a - t0);
    // An expired holder is a new one.
    assert_eq!(rl(&mut c, &[C, "k", "2", "10s", "short", "PEEK"])[..3], [0, 2, 0]);
    // The lowered limit does not refuse a live holder's PEEK either.
    assert_eq!(rl(&mut c, &[C, "k", "1", "10s", "b", "PEEK"])[..4], [1, 1, 0, 0]);
    assert_eq!(snapshot(&mut c), before, "PEEK changed the key");
    assert_eq!(leases(&mut c, "k").len(), 3, "PEEK pruned");
    if !module_style() {
        return;
    }
    // No keyspace event: the next one is the marker's.
    run(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ez"]);
    let mut listener = s.connect();
    let mut pubsub = listener.as_pubsub();
    pubsub.subscribe("__keyevent@0__:rl.concurrent").expect("SUBSCRIBE");
    pubsub.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    rl(&mut c, &[C, "k", "3", "10s", "a", "PEEK"]);
    rl(&mut c, &[C, "k", "3", "10s", "z", "PEEK"]);
    rl(&mut c, &[C, "k", "1", "10s", "z", "PEEK"]);
    rl(&mut c, &[C, "marker", "1", "10s", "m"]);
    let message = pubsub.get_message().expect("an event");
    assert_eq!(message.get_payload::<String>().expect("payload"), "marker");
}

#[test]
fn release_answers_1_for_a_live_lease_and_0_otherwise() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    // Never acquired, no key: 0, the limiter empty, and no key made.
    assert_eq!(rl(&mut c, &[C, "k", "3", "10s", "a", "RELEASE"]), [0, 3, 3, 0, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "k"]), Value::Int(0));
    acquire(&mut c, "k", "3", 10_000, "a");
    let (_, now) = acquire(&mut c, "k", "3", 20_000, "b");
    let b = now + 20_000;
    acquire(&mut c, "k", "3", 150, "short");
    // A live lease: 1; fields 3 and 5 after the release, field 4 is 0.
    let (r, t0, t1) = timed(&mut c, &[C, "k", "3", "10s", "a", "RELEASE"]);
    assert_eq!(r[..4], [1, 3, 1, 0]);
    assert_between("reset_after", r[4], b - t1, b - t0);
    assert_eq!(leases(&mut c, "k").iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["short", "b"]);
    let short = lease_of(&mut c, "k", "short");
    wait_past(&mut c, short);
    let before = snapshot(&mut c);
    // Already released, never acquired, expired: 0, and nothing written (the expired lease
    // stays until a write prunes it).
    for id in ["a", "never", "short"] {
        let (r, t0, t1) = timed(&mut c, &[C, "k", "3", "10s", id, "RELEASE"]);
        assert_eq!(r[..4], [0, 3, 2, 0], "{id}");
        assert_between("reset_after", r[4], b - t1, b - t0);
        assert_eq!(snapshot(&mut c), before, "a release of nothing ({id}) wrote something");
    }
    if module_style() {
        run(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ez"]);
        let mut listener = s.connect();
        let mut pubsub = listener.as_pubsub();
        pubsub.subscribe("__keyevent@0__:rl.concurrent").expect("SUBSCRIBE");
        pubsub.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        rl(&mut c, &[C, "k", "3", "10s", "never", "RELEASE"]);
        rl(&mut c, &[C, "k", "3", "10s", "short", "RELEASE"]);
        rl(&mut c, &[C, "marker", "1", "10s", "m"]);
        assert_eq!(pubsub.get_message().expect("an event").get_payload::<String>().unwrap(), "marker");
    }
}

#[test]
fn expired_leases_hold_no_slot_and_are_pruned_at_the_next_write() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let (_, now) = acquire(&mut c, "k", "3", 100, "old");
    let old = now + 100;
    let (_, now) = acquire(&mut c, "k", "3", 10_000, "b");
    let b = now + 10_000;
    let (_, now) = acquire(&mut c, "k", "3", 10_000, "c");
    let cc = now + 10_000;
    wait_past(&mut c, old);
    // Two live: with the limit at 2, full (a refusal writes nothing, so old stays stored).
    assert_eq!(rl(&mut c, &[C, "k", "2", "10s", "d"])[..3], [0, 2, 0]);
    assert_eq!(leases(&mut c, "k"), pairs(&[("old", old), ("b", b), ("c", cc)]));
    // At 3, old's slot is free; the admission drops it (ZREMRANGEBYSCORE -inf now).
    let (r, now) = acquire(&mut c, "k", "3", 10_000, "d");
    assert_eq!(r, [1, 3, 0, 0, 10_000]);
    assert_eq!(leases(&mut c, "k"), pairs(&[("b", b), ("c", cc), ("d", now + 10_000)]));
    assert_expires_with_last_lease(&mut c, "k");
    // A release prunes too.
    let (_, now) = acquire(&mut c, "p", "3", 100, "x");
    let x = now + 100;
    let (_, now) = acquire(&mut c, "p", "3", 10_000, "y");
    let y = now + 10_000;
    acquire(&mut c, "p", "3", 10_000, "z");
    wait_past(&mut c, x);
    assert_eq!(leases(&mut c, "p").len(), 3);
    assert_eq!(rl(&mut c, &[C, "p", "2", "10s", "z", "RELEASE"])[..4], [1, 2, 1, 0]);
    assert_eq!(leases(&mut c, "p"), pairs(&[("y", y)]));
    assert_expires_with_last_lease(&mut c, "p");
    // An expired holder comes back as a new holder: it needs a free slot.
    let (_, now) = acquire(&mut c, "q", "1", 40, "w");
    wait_past(&mut c, now + 40);
    let (r, _) = acquire(&mut c, "q", "1", 10_000, "v");
    assert_eq!(r, [1, 1, 0, 0, 10_000]);
    assert_eq!(rl(&mut c, &[C, "q", "1", "10s", "w"])[..3], [0, 1, 0]);
}

#[test]
fn the_key_expires_exactly_when_its_last_lease_does() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    // Every write leaves PEXPIRETIME == the highest score: a longer lease moves it up, a
    // shorter one by another holder leaves it, a release or a shorter renewal of the latest
    // lease moves it down.
    let steps: [(&str, &str, &str); 7] = [
        ("a", "20000", ""),
        ("b", "40000", ""),
        ("c", "10000", ""),
        ("b", "5000", ""),
        ("a", "10s", "RELEASE"),
        ("c", "30000", ""),
        ("c", "1s", "RELEASE"),
    ];
    for (id, lease, option) in steps {
        let mut call = vec![C, "k", "5", lease, id];
        if !option.is_empty() {
            call.push(option);
        }
        assert_eq!(rl(&mut c, &call)[0], 1, "{call:?}");
        assert_expires_with_last_lease(&mut c, "k");
    }
    assert_eq!(leases(&mut c, "k").iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["b"]);
    // Once the last lease ends, the key is gone with it.
    let (_, now) = acquire(&mut c, "k", "5", 50, "b");
    assert_eq!(pexpiretime(&mut c, "k"), now + 50);
    wait_past(&mut c, now + 50);
    assert_eq!(run(&mut c, &["EXISTS", "k"]), Value::Int(0));
}

#[test]
fn the_key_disappears_after_the_last_release() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    acquire(&mut c, "k", "2", 10_000, "a");
    acquire(&mut c, "k", "2", 20_000, "b");
    assert_eq!(rl(&mut c, &[C, "k", "2", "10s", "b", "RELEASE"])[..4], [1, 2, 1, 0]);
    assert_expires_with_last_lease(&mut c, "k");
    assert_eq!(rl(&mut c, &[C, "k", "2", "10s", "a", "RELEASE"]), [1, 2, 2, 0, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "k"]), Value::Int(0));
    // The last live lease released beside an expired one: both gone, and the key.
    let (_, now) = acquire(&mut c, "k", "2", 40, "old");
    acquire(&mut c, "k", "2", 10_000, "a");
    wait_past(&mut c, now + 40);
    assert_eq!(rl(&mut c, &[C, "k", "2", "10s", "a", "RELEASE"]), [1, 2, 2, 0, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "k"]), Value::Int(0));
}

#[test]
fn ids_are_any_bytes_from_1_to_256() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &[C, "warm", "1", "1s", "w"]); // EVALSHA: the script is loaded
    let longest = "i".repeat(256);
    let (r, _) = acquire(&mut c, "k", "10", 10_000, &longest);
    assert_eq!(r[..3], [1, 10, 9]);
    assert_eq!(zset_members(&mut c, "k")[0].0, longest.as_bytes());
    let call = |c: &mut Connection, id: &[u8], option: Option<&str>| -> Vec<i64> {
        let mut args = vec![b"k".to_vec(), b"10".to_vec(), b"10s".to_vec(), id.to_vec()];
        args.extend(option.map(|o| o.as_bytes().to_vec()));
        rl_cmd_bytes(style(), C, &args).query(c).expect("a binary id")
    };
    for id in [&b"\0"[..], b"\r\n", b"\xff\xfe\x00bin", b" ", b"PEEK", b"RELEASE"] {
        assert_eq!(call(&mut c, id, None)[0], 1, "{id:?}");
        assert!(zset_members(&mut c, "k").iter().any(|(m, _)| m == id), "{id:?} stored as given");
        assert_eq!(call(&mut c, id, Some("PEEK"))[..3], [1, 10, 10 - zset_members(&mut c, "k").len() as i64]);
        assert_eq!(call(&mut c, id, Some("RELEASE"))[0], 1, "{id:?}");
        assert_eq!(call(&mut c, id, Some("RELEASE"))[0], 0, "{id:?}");
    }
    assert_eq!(leases(&mut c, "k").len(), 1);
}

#[test]
fn errors_name_the_problem_and_touch_nothing() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    acquire(&mut c, "k", "3", 60_000, "a");
    acquire(&mut c, "k", "3", 60_000, "b");
    run(&mut c, &["SET", "str", "hello", "PX", "100000"]);
    run(&mut c, &["RPUSH", "list", "x"]);
    run(&mut c, &["ZADD", "frac", "1.5", "m"]);
    run(&mut c, &["ZADD", "neg", "-1", "m"]);
    run(&mut c, &["ZADD", "inf", "+inf", "m"]);
    run(&mut c, &["ZADD", "minf", "-inf", "m"]);
    run(&mut c, &["ZADD", "huge", "9007199254740994", "m"]);
    // A leaderboard: whole scores in range among the others.
    let now = server_ms(&mut c);
    run(&mut c, &["ZADD", "board", &(now + 100_000).to_string(), "m", &(now + 200_000).to_string(), "n", "1e300", "top"]);
    let before = snapshot(&mut c);
    let long_id = "i".repeat(257);
    let not_leases = "ERR key holds a sorted set that is not RL.CONCURRENT state (scores must be whole milliseconds from 0 to 2^53)";
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![C, "k", "0", "10s", "a"], "ERR limit must be a positive integer"),
        (vec![C, "k", "-1", "10s", "a"], "ERR limit must be a positive integer"),
        (vec![C, "k", "abc", "10s", "a"], "ERR limit must be a positive integer"),
        (vec![C, "k", "9223372036854775808", "10s", "a"], "ERR limit must be at most 9223372036854775807"),
        (vec![C, "k", "3", "0", "a"], "ERR lease must be at least 1 ms"),
        (vec![C, "k", "3", "-5", "a"], "ERR invalid duration '-5' for lease"),
        (vec![C, "k", "3", "abc", "a"], "ERR invalid duration 'abc' for lease"),
        (vec![C, "k", "3", "1.5s", "a"], "ERR invalid duration '1.5s' for lease"),
        (vec![C, "k", "3", "10s", ""], "ERR id must be 1 to 256 bytes"),
        (vec![C, "k", "3", "10s", &long_id], "ERR id must be 1 to 256 bytes"),
        (vec![C, "k", "3", "10s", "a", "COST", "1"], "ERR syntax error, COST is not an option of RL.CONCURRENT (a lease is one slot)"),
        (vec![C, "k", "3", "10s", "a", "REFUND", "1"], "ERR syntax error, REFUND is not an option of RL.CONCURRENT (a lease is one slot)"),
        (vec![C, "k", "3", "10s", "a", "force"], "ERR syntax error, FORCE is not an option of RL.CONCURRENT (a lease is one slot)"),
        (vec![C, "k", "3", "10s", "a", "PEEK", "RELEASE"], "ERR syntax error, PEEK cannot be combined with RELEASE"),
        (vec![C, "k", "3", "10s", "a", "release", "peek"], "ERR syntax error, PEEK cannot be combined with RELEASE"),
        (vec![C, "k", "3", "10s", "a", "PEEK", "PEEK"], "ERR syntax error, PEEK given more than once"),
        (vec![C, "k", "3", "10s", "a", "RELEASE", "RELEASE"], "ERR syntax error, RELEASE given more than once"),
        (vec![C, "k", "3", "10s", "a", "FOO"], "ERR syntax error, unknown option 'FOO'"),
        (vec![C, "k", "3", "10s", "a", "PEEK", "x", "y", "z"], "ERR syntax error, too many arguments"),
        (vec![C, "k", "3", "10s"], "ERR wrong number of arguments for 'rl.concurrent' command"),
    ];
    for key in ["str", "list"] {
        for option in ["", "PEEK", "RELEASE"] {
            let mut call = vec![C, key, "3", "10s", "a"];
            call.extend((!option.is_empty()).then_some(option));
            cases.push((call, "WRONGTYPE Operation against a key holding the wrong kind of value"));
        }
    }
    for key in ["frac", "neg", "inf", "minf", "huge", "board"] {
        for (id, option) in [("m", ""), ("x", ""), ("m", "PEEK"), ("x", "PEEK"), ("m", "RELEASE"), ("x", "RELEASE")] {
            let mut call = vec![C, key, "3", "10s", id];
            call.extend((!option.is_empty()).then_some(option));
            cases.push((call, not_leases));
        }
    }
    for (args, message) in &cases {
        // Redis 6.2 echoes the command name as typed in its arity error.
        let got = err(&mut c, args);
        assert!(got.eq_ignore_ascii_case(message), "{args:?}: {got}");
    }
    assert_eq!(snapshot(&mut c), before, "an error changed something");
    // 256 bytes is a valid id.
    assert_eq!(rl(&mut c, &[C, "k", "3", "10s", &long_id[..256]])[..3], [1, 3, 0]);
}

#[test]
fn numbers_up_to_2_63_minus_1_do_not_overflow() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let max = "9223372036854775807";
    if !module_style() {
        // The library computes in doubles: a limit past 2^53-1 is refused, and nothing written.
        assert!(err(&mut c, &[C, "k", max, max, "a"]).starts_with("ERR a number of this call or of the stored state is beyond 2^53-1"));
        assert_eq!(run(&mut c, &["EXISTS", "k"]), Value::Int(0));
        // Any lease is exact once clamped at 2^53.
        assert_eq!(rl(&mut c, &[C, "k", "1", max, "a"])[..4], [1, 1, 0, 0]);
        assert_eq!(pexpiretime(&mut c, "k"), 1i64 << 53);
        return;
    }
    // A lease past 2^53 ms is clamped to 2^53, the latest expiry a score holds exactly.
    let (r, t0, t1) = timed(&mut c, &[C, "k", max, max, "a"]);
    assert_eq!(r[..4], [1, i64::MAX, i64::MAX - 1, 0]);
    let end = 1i64 << 53;
    assert_between("reset_after", r[4], end - t1, end - t0);
    assert_eq!(leases(&mut c, "k"), pairs(&[("a", end)]));
    assert_eq!(pexpiretime(&mut c, "k"), end);
    assert_eq!(rl(&mut c, &[C, "k", "1", max, "b"])[..3], [0, 1, 0]);
    assert_eq!(rl(&mut c, &[C, "k", max, "1", "a", "RELEASE"]), [1, i64::MAX, i64::MAX, 0, 0]);
    assert_eq!(run(&mut c, &["EXISTS", "k"]), Value::Int(0));
}

#[test]
fn works_inside_multi_and_lua() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &[C, "warm", "1", "1s", "w"]); // EVALSHA: the script is loaded
    let v: Vec<Vec<i64>> = redis::pipe()
        .atomic()
        .add_command(rl_cmd(&[C, "m", "2", "10s", "a"]))
        .add_command(rl_cmd(&[C, "m", "2", "10s", "b"]))
        .add_command(rl_cmd(&[C, "m", "2", "10s", "c"]))
        .add_command(rl_cmd(&[C, "m", "2", "10s", "a", "RELEASE"]))
        .add_command(rl_cmd(&[C, "m", "2", "10s", "c"]))
        .query(&mut c)
        .unwrap();
    assert_eq!(v.iter().map(|r| r[0]).collect::<Vec<_>>(), [1, 1, 0, 1, 1]);
    assert_eq!(leases(&mut c, "m").len(), 2);
    if !module_style() {
        return; // scripts cannot call FCALL or EVALSHA
    }
    let r: Vec<i64> =
        redis::cmd("EVAL").arg("return redis.call('RL.CONCURRENT', KEYS[1], 1, '10s', 'x')").arg(1).arg("lua").query(&mut c).unwrap();
    assert_eq!(r, [1, 1, 0, 0, 10_000]);
}

#[test]
fn commands_are_declared_like_the_other_rl_commands() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &[C, "warm", "1", "1s", "w"]);
    let call = rl_cmd(&[C, "mykey", "5", "1s", "id"]);
    let keys: Vec<String> = redis::cmd("COMMAND").arg("GETKEYS").arg(words_of(&call)).query(&mut c).unwrap();
    assert_eq!(keys, ["mykey"]);
    if !module_style() {
        return;
    }
    let Value::Array(outer) = run(&mut c, &["COMMAND", "INFO", "rl.concurrent"]) else { panic!("COMMAND INFO") };
    let Some(Value::Array(fields)) = outer.first() else { panic!("{outer:?}") };
    let flags = flatten(std::slice::from_ref(&fields[2]));
    assert!(flags.contains(&"write".to_owned()) && flags.contains(&"denyoom".to_owned()), "{flags:?}");
    // It walks expired (and, when refused, live) leases: not fast.
    assert!(!flags.contains(&"fast".to_owned()), "{flags:?}");
    assert_eq!(fields[3..6], [Value::Int(1), Value::Int(1), Value::Int(1)], "key positions");
    if server_version(&mut c) < (7, 0, 0) {
        assert!(err(&mut c, &["COMMAND", "DOCS", "rl.concurrent"]).contains("Unknown subcommand"));
        return;
    }
    // (Redis 6.2 reports a module command's arity as -1.)
    assert_eq!(fields[1], Value::Int(-5), "arity");
    let docs: Vec<String> = match run(&mut c, &["COMMAND", "DOCS", "rl.concurrent"]) {
        Value::Array(v) => flatten(&v),
        other => flatten(&[other]),
    };
    for expected in
        ["summary", "complexity", "since", "key", "limit", "lease", "id", "peek", "PEEK", "release", "RELEASE", "optional", "pure-token"]
    {
        assert!(docs.iter().any(|d| d == expected), "COMMAND DOCS lacks {expected}: {docs:?}");
    }
    for absent in ["COST", "REFUND", "FORCE"] {
        assert!(!docs.iter().any(|d| d == absent), "COMMAND DOCS lists {absent}: {docs:?}");
    }
}

#[test]
fn info_counts_calls_by_outcome() {
    if !module_style() {
        return; // the module's own
    }
    let s = Server::start();
    let mut c = s.connect();
    rl(&mut c, &[C, "k", "1", "10s", "a"]); // allowed
    rl(&mut c, &[C, "k", "1", "10s", "a"]); // allowed (renewal)
    rl(&mut c, &[C, "k", "1", "10s", "b"]); // denied
    rl(&mut c, &[C, "k", "1", "10s", "b", "PEEK"]); // peek (refused)
    rl(&mut c, &[C, "k", "1", "10s", "a", "PEEK"]); // peek (allowed)
    rl(&mut c, &[C, "k", "1", "10s", "a", "RELEASE"]); // release of a live lease
    rl(&mut c, &[C, "k", "1", "10s", "a", "RELEASE"]); // release of nothing
    err(&mut c, &[C, "k", "0", "10s", "a"]); // error
    err(&mut c, &[C, "k", "1", "10s", "a", "COST", "1"]); // error
    run(&mut c, &["SET", "s", "x"]);
    err(&mut c, &[C, "s", "1", "10s", "a"]); // WRONGTYPE
    let info: String = redis::cmd("INFO").arg("ratelimit").query(&mut c).unwrap();
    let field =
        |name: &str| info.lines().find_map(|l| l.strip_prefix(&format!("ratelimit_concurrent_{name}:"))).map(|v| v.trim().to_owned());
    for (name, value) in [("calls", "10"), ("allowed", "2"), ("denied", "1"), ("peeks", "2"), ("errors", "3"), ("releases", "2")] {
        assert_eq!(field(name).as_deref(), Some(value), "concurrent_{name}:\n{info}");
    }
    let other = |name: &str| info.lines().find_map(|l| l.strip_prefix(&format!("ratelimit_fixed_{name}:"))).map(|v| v.trim().to_owned());
    assert_eq!(other("calls").as_deref(), Some("0"));
}

#[test]
fn writes_signal_the_keyspace_event_rl_concurrent() {
    if !module_style() {
        return; // a script cannot raise its own keyspace events
    }
    let s = Server::start();
    let mut c = s.connect();
    // A sorted set's event: `z` enables it, `$` does not.
    run(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    let mut listener = s.connect();
    let mut pubsub = listener.as_pubsub();
    pubsub.subscribe("__keyevent@0__:rl.concurrent").expect("SUBSCRIBE");
    pubsub.subscribe("__keyevent@0__:rl.fixed").expect("SUBSCRIBE");
    pubsub.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    rl(&mut c, &[C, "off", "1", "10s", "a"]);
    rl(&mut c, &["RL.FIXED", "marker", "1", "1h"]);
    let first = pubsub.get_message().expect("an event");
    assert_eq!((first.get_channel_name(), first.get_payload::<String>().unwrap().as_str()), ("__keyevent@0__:rl.fixed", "marker"));
    run(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ez"]);
    // Events for an acquire, a renewal, a release; none for a refusal, a PEEK, a release of
    // nothing, an error.
    let calls: [(&[&str], Option<&str>); 8] = [
        (&[C, "ev", "1", "10s", "a"], Some("ev")),
        (&[C, "ev", "1", "10s", "a"], Some("ev")),
        (&[C, "ev", "1", "10s", "b"], None),
        (&[C, "ev", "1", "10s", "b", "PEEK"], None),
        (&[C, "ev", "1", "10s", "b", "RELEASE"], None),
        (&[C, "ev", "1", "10s", "a", "RELEASE"], Some("ev")),
        (&[C, "ev", "0", "10s", "a"], None),
        (&[C, "ev2", "1", "10s", "a"], Some("ev2")),
    ];
    let mut expected = Vec::new();
    for (call, event) in calls {
        if call[2] == "0" {
            err(&mut c, call);
        } else {
            rl(&mut c, call);
        }
        expected.extend(event);
    }
    let got: Vec<String> = expected.iter().map(|_| pubsub.get_message().expect("an event").get_payload::<String>().unwrap()).collect();
    assert_eq!(got, expected);
}

/// ACL categories as the other RL commands have them: `@write` and `@slow` (it is not fast)
/// where a module can set built-in categories (Redis 7.2+, Valkey), `@ratelimit` where it can
/// add one (Redis 7.4+, Valkey 8+); key patterns apply in every style.
#[test]
fn acl_categories_and_key_patterns_apply() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let granted = grant(&mut c, C);
    let mut acl = vec!["ACL", "SETUSER", "gw", "on", ">pw", "~rl:*"];
    acl.extend(granted.iter().map(String::as_str));
    run(&mut c, &acl);
    let mut gw = s.connect();
    run(&mut gw, &["AUTH", "gw", "pw"]);
    assert_eq!(rl(&mut gw, &[C, "rl:k", "1", "10s", "a"])[0], 1);
    assert!(err(&mut gw, &[C, "other", "1", "10s", "a"]).starts_with("NOPERM"));
    if !module_style() {
        return;
    }
    assert!(err(&mut gw, &["RL.FIXED", "rl:f", "1", "10s"]).starts_with("NOPERM"), "+rl.concurrent granted RL.FIXED");
    let version = server_version(&mut c);
    let valkey = is_valkey(&mut c);
    let builtin = valkey || version >= (7, 2, 0);
    let own = if valkey { version >= (8, 0, 0) } else { version >= (7, 4, 0) };
    let in_category = |c: &mut Connection, cat: &str| -> bool {
        let v: Vec<String> = redis::cmd("ACL").arg("CAT").arg(cat).query(c).unwrap();
        v.iter().any(|n| n == "rl.concurrent")
    };
    assert_eq!(in_category(&mut c, "write"), builtin);
    assert_eq!(in_category(&mut c, "slow"), builtin);
    assert!(!in_category(&mut c, "fast"));
    if own {
        assert!(in_category(&mut c, "ratelimit"));
    }
    run(&mut c, &["ACL", "SETUSER", "writer", "on", ">pw", "~*", "+@write"]);
    run(&mut c, &["ACL", "SETUSER", "fast", "on", ">pw", "~*", "+@fast"]);
    let mut writer = s.connect();
    run(&mut writer, &["AUTH", "writer", "pw"]);
    let call = [C, "w", "1", "10s", "a"];
    if builtin {
        assert_eq!(rl(&mut writer, &call)[0], 1, "+@write runs RL.CONCURRENT");
    } else {
        assert!(err(&mut writer, &call).starts_with("NOPERM"), "on {version:?}");
    }
    let mut fast = s.connect();
    run(&mut fast, &["AUTH", "fast", "pw"]);
    assert!(err(&mut fast, &call).starts_with("NOPERM"), "RL.CONCURRENT is not fast");
    if own {
        run(&mut c, &["ACL", "SETUSER", "rl", "on", ">pw", "~*", "+@ratelimit"]);
        let mut user = s.connect();
        run(&mut user, &["AUTH", "rl", "pw"]);
        assert_eq!(rl(&mut user, &[C, "u", "1", "10s", "a"])[0], 1);
        assert!(err(&mut user, &["SET", "k2", "v"]).starts_with("NOPERM"));
    }
}

/// Every string in a nested reply, in order.
fn flatten(values: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        match v {
            Value::BulkString(b) => out.push(String::from_utf8_lossy(b).into_owned()),
            Value::SimpleString(s) => out.push(s.clone()),
            Value::Array(inner) | Value::Set(inner) => out.extend(flatten(inner)),
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

/// A foreign score is an error, nothing changed, wherever the call reads it: the caller's, the
/// latest other holder's, the expired ones and, when refused, the live ones up to the one that
/// frees a slot (docs/commands.md). A call does not read every member, so a fraction among the
/// live leases of an admitted call goes unread (as the reference says): an admission costs
/// O(log N), not O(N).
#[test]
fn foreign_scores_are_an_error_where_the_call_reads_them() {
    let s = Server::start();
    let mut c = s.connect();
    let now = server_ms(&mut c);
    let not_leases = "ERR key holds a sorted set that is not RL.CONCURRENT state (scores must be whole milliseconds from 0 to 2^53)";
    let (a, b, z) = ((now + 100_000).to_string(), format!("{}.5", now + 200_000), (now + 300_000).to_string());
    run(&mut c, &["ZADD", "board", &a, "a", &b, "b", &z, "c"]);
    let before = snapshot(&mut c);
    // The caller's own score.
    assert_eq!(err(&mut c, &[C, "board", "5", "10s", "b"]), not_leases);
    // A refusal walks the live leases: b's ends the second.
    assert_eq!(err(&mut c, &[C, "board", "2", "10s", "x"]), not_leases);
    assert_eq!(snapshot(&mut c), before);
    // The latest other holder's.
    run(&mut c, &["ZADD", "top", &a, "a", &format!("{}.5", now + 300_000), "z"]);
    let before = snapshot(&mut c);
    assert_eq!(err(&mut c, &[C, "top", "5", "10s", "x"]), not_leases);
    assert_eq!(snapshot(&mut c), before);
}

/// A key in the millisecond of its expiry is still there for Redis (it deletes a key once its
/// clock is past the expiry) but gone for the module; a write that kept the set as it is would
/// let its members survive the key's end. A member whose lease is later than the key's
/// expiry (the TTL shortened by hand: PEXPIRE on a lease key) comes back as a live holder and
/// keeps a slot until its score; the next renewal moves the key's expiry out to it. Found by
/// the wire fuzzer; reproduced here in a script, whose commands all see the script's start
/// time while the module reads the clock. Fixed: such a write first empties the set.
#[test]
fn a_write_in_the_millisecond_of_expiry_keeps_no_lease_of_the_old_set() {
    if !module_style() {
        return; // a script cannot call the library's functions
    }
    let s = Server::start();
    let mut c = s.connect();
    run(&mut c, &["ZADD", "k", "9007199254740992", "m"]);
    let script = "local function now() local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000) end
        local t0 = now()
        redis.call('PEXPIREAT', KEYS[1], t0 + 2)
        while now() <= t0 + 2 do end
        return redis.call('RL.CONCURRENT', KEYS[1], 1, '10s', 'x')";
    let r: Vec<i64> = redis::cmd("EVAL").arg(script).arg(1).arg("k").query(&mut c).unwrap();
    assert_eq!(r, [1, 1, 0, 0, 10_000]);
    // The key had expired: x is its only holder, and the key expires with x's lease.
    assert_eq!(leases(&mut c, "k").iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["x"]);
    assert_expires_with_last_lease(&mut c, "k");
}

/// RL.ALL with a CONCURRENT spec and `ID id`: the lease is taken only when every limiter
/// admits. A request the minute's count refuses holds no slot; a request the slots refuse
/// leaves the minute's count as it was; when both admit, both are charged, and RELEASE gives
/// the slot back.
#[test]
fn all_takes_the_lease_only_when_every_limiter_admits() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    let all = |c: &mut Connection, id: &str| {
        rl(c, &["RL.ALL", "2", "{t}:inflight", "{t}:rpm", "CONCURRENT", "2", "1m", "FIXED", "3", "1h", "ID", id])
    };
    // Both admit: a slot and a count, the decisive limiter the slots (1 left before 2 of 3).
    let r = all(&mut c, "req-1");
    assert_eq!((r[..4].to_vec(), r[5]), (vec![1, 2, 1, 0], 1));
    assert_eq!(get_bytes(&mut c, "{t}:rpm"), Some(b"1".to_vec()));
    assert_eq!(leases(&mut c, "{t}:inflight").len(), 1);
    assert_eq!(all(&mut c, "req-2")[..3], [1, 2, 0]);
    // The slots refuse: the count is left as it was, no lease taken.
    let refused = all(&mut c, "req-3");
    assert_eq!((refused[..3].to_vec(), refused[5]), (vec![0, 2, 0], 1));
    assert!(refused[3] > 0, "a wait until a lease ends: {refused:?}");
    assert_eq!(get_bytes(&mut c, "{t}:rpm"), Some(b"2".to_vec()));
    assert_eq!(leases(&mut c, "{t}:inflight").iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["req-1", "req-2"]);
    // A holder renews through RL.ALL as it would alone; the count is charged (3 of 3).
    assert_eq!(all(&mut c, "req-1")[0], 1);
    assert_eq!(get_bytes(&mut c, "{t}:rpm"), Some(b"3".to_vec()));
    // The count refuses now: req-2 releases, and req-3 is refused by spec 2 with no slot taken.
    assert_eq!(rl(&mut c, &[C, "{t}:inflight", "2", "1m", "req-2", "RELEASE"])[..3], [1, 2, 1]);
    let by_count = all(&mut c, "req-3");
    assert_eq!((by_count[0], by_count[5]), (0, 2));
    assert_eq!(leases(&mut c, "{t}:inflight").iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["req-1"]);
    assert_expires_with_last_lease(&mut c, "{t}:inflight");
    // PEEK changes nothing.
    let before = snapshot(&mut c);
    assert_eq!(rl(&mut c, &["RL.ALL", "1", "{t}:inflight", "CONCURRENT", "2", "1m", "PEEK", "ID", "req-9"])[..3], [1, 2, 1]);
    assert_eq!(snapshot(&mut c), before);
}

/// RL.ALL's errors around CONCURRENT specs, each changing nothing.
#[test]
fn all_needs_an_id_exactly_with_concurrent_specs() {
    if !available() {
        return;
    }
    let s = Server::start();
    let mut c = s.connect();
    run(&mut c, &["SET", "{t}:string", "5"]);
    let before = snapshot(&mut c);
    for (call, message) in [
        (
            &["RL.ALL", "1", "{t}:a", "CONCURRENT", "2", "1m"][..],
            "ERR RL.ALL needs ID id for its CONCURRENT spec (the holder of the lease)",
        ),
        (&["RL.ALL", "1", "{t}:a", "FIXED", "2", "1m", "ID", "x"], "ERR syntax error, ID goes only with a CONCURRENT spec"),
        (&["RL.ALL", "1", "{t}:a", "CONCURRENT", "2", "1m", "ID"], "ERR syntax error, ID needs a value"),
        (&["RL.ALL", "1", "{t}:a", "CONCURRENT", "2", "1m", "ID", "x", "id", "y"], "ERR syntax error, ID given more than once"),
        (&["RL.ALL", "1", "{t}:a", "CONCURRENT", "0", "1m", "ID", "x"], "ERR limit must be a positive integer"),
        (&["RL.ALL", "1", "{t}:a", "CONCURRENT", "2", "0", "ID", "x"], "ERR lease must be at least 1 ms"),
        (
            &["RL.ALL", "1", "{t}:string", "CONCURRENT", "2", "1m", "ID", "x"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
    ] {
        assert_eq!(err(&mut c, call), message, "{call:?}");
    }
    let long = "x".repeat(257);
    assert_eq!(err(&mut c, &["RL.ALL", "1", "{t}:a", "CONCURRENT", "2", "1m", "ID", &long]), "ERR id must be 1 to 256 bytes");
    assert_eq!(snapshot(&mut c), before);
}

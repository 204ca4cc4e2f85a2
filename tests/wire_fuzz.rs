//! A wire fuzzer against a real server: random and mutated argument vectors, and hand-written
//! key contents of every kind (other Redis types, foreign strings, the module's own state
//! truncated, extended and bit-flipped, huge and negative numbers). The server must stay up,
//! every RL reply must be an error or a well-formed five-integer reply, every admission must
//! leave its key with a TTL, and the module's panic guard must never have fired.
//!
//! FUZZ_CALLS sets the number of RL calls (default 100000: the slice `make test` runs;
//! `make fuzz-wire` runs millions). FUZZ_SEED picks the sequence.

mod common;

use common::*;
use redis::ConnectionLike;
use std::collections::HashSet;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn bytes(&mut self, max: u64) -> Vec<u8> {
        (0..self.below(max + 1)).map(|_| self.next() as u8).collect()
    }
}

const KEYS: u64 = 64;

fn number(rng: &mut Rng) -> Vec<u8> {
    let n: String = match rng.below(40) {
        0 => "0".into(),
        1 => "-1".into(),
        2 => "9223372036854775807".into(),
        3 => "9223372036854775808".into(),
        4 => "18446744073709551616".into(),
        5 => format!("{}", rng.next()),
        6 => format!("-{}", rng.next()),
        7 => "".into(),
        8 => " 5".into(),
        _ => format!("{}", 1 + rng.below(20)),
    };
    n.into_bytes()
}

fn duration(rng: &mut Rng) -> Vec<u8> {
    let unit = if rng.below(10) == 0 {
        *rng.pick(&["x", "s0", " s", "sec", "1"])
    } else {
        *rng.pick(&["", "ms", "s", "m", "h", "d", "MS", "S", "H"])
    };
    let value = match rng.below(30) {
        0 => "0".to_owned(),
        1 => "9223372036854775807".to_owned(),
        2 => format!("{}", rng.next()),
        3 => "1.5".to_owned(),
        _ => format!("{}", 1 + rng.below(200)),
    };
    format!("{value}{unit}").into_bytes()
}

/// A random RL.ALL call over the fuzzer's keys: mostly each key with its own algorithm;
/// sometimes another's, a bad numkeys, or cut short.
fn all_call(rng: &mut Rng) -> (String, Vec<Vec<u8>>) {
    const NAMES: [&str; 5] = ["FIXED", "SLIDING", "LOG", "TOKEN", "LEAKY"];
    let n = 1 + rng.below(3);
    let (mut keys, mut specs) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let kind = rng.below(5);
        keys.push(format!("fz:{kind}:{}", rng.below(KEYS)).into_bytes());
        let name = NAMES[if rng.below(10) == 0 { rng.below(5) } else { kind } as usize];
        specs.push(name.as_bytes().to_vec());
        specs.push(format!("{}", 1 + rng.below(20)).into_bytes());
        if name == "TOKEN" || name == "LEAKY" {
            specs.push(format!("{}", 1 + rng.below(20)).into_bytes());
        }
        specs.push(format!("{}s", 1 + rng.below(100)).into_bytes());
    }
    let mut args = vec![if rng.below(20) == 0 { number(rng) } else { n.to_string().into_bytes() }];
    args.extend(keys);
    args.extend(specs);
    if rng.below(2) == 0 {
        args.push(b"COST".to_vec());
        args.push(format!("{}", 1 + rng.below(5)).into_bytes());
    }
    if rng.below(5) == 0 {
        args.push(b"PEEK".to_vec());
    }
    if rng.below(20) == 0 {
        args.truncate(rng.below(args.len() as u64) as usize);
    }
    ("RL.ALL".to_owned(), args)
}

/// A random CL.THROTTLE call: mostly redis-cell's well-formed arguments on its own keys
/// (prefix `fz:5`), sometimes hostile numbers, another command's keys, or a wrong count.
fn throttle_call(rng: &mut Rng) -> (String, Vec<Vec<u8>>) {
    let key_kind = if rng.below(10) == 0 { rng.below(5) } else { 5 };
    let mut args: Vec<Vec<u8>> = vec![format!("fz:{key_kind}:{}", rng.below(KEYS)).into_bytes()];
    if rng.below(10) < 7 {
        let small = |rng: &mut Rng, lo: u64| format!("{}", lo + rng.below(20)).into_bytes();
        args.extend([small(rng, 0), small(rng, 1), small(rng, 1)]);
        if rng.below(2) == 0 {
            args.push(small(rng, 0));
        }
    } else {
        args.extend((0..rng.below(6)).map(|_| number(rng)));
    }
    (rng.pick(&["CL.THROTTLE", "cl.throttle"]).to_string(), args)
}

/// The keys an RL call names: the first argument, or RL.ALL's numkeys keys.
fn keys_of(cmd: &str, args: &[Vec<u8>]) -> Vec<String> {
    let text = |a: &Vec<u8>| String::from_utf8_lossy(a).into_owned();
    if cmd != "RL.ALL" {
        return args.first().map(text).into_iter().collect();
    }
    let n = args.first().and_then(|a| std::str::from_utf8(a).ok()?.parse::<usize>().ok()).unwrap_or(0);
    args.iter().skip(1).take(n).map(text).collect()
}

/// A random, mostly well-formed RL call.
fn rl_call(rng: &mut Rng) -> (String, Vec<Vec<u8>>) {
    let kind = rng.below(5);
    let cmd =
        [["RL.FIXED", "rl.fixed"], ["RL.SLIDING", "rl.Sliding"], ["RL.LOG", "rl.log"], ["RL.TOKEN", "Rl.Token"], ["RL.LEAKY", "rl.Leaky"]]
            [kind as usize][rng.below(2) as usize];
    // Mostly the command's own keys; one call in ten on another command's.
    let key_kind = if rng.below(10) == 0 { rng.below(5) } else { kind };
    let key = format!("fz:{key_kind}:{}", rng.below(KEYS));
    let mut args: Vec<Vec<u8>> = vec![key.clone().into_bytes()];
    // RL.TOKEN and RL.LEAKY take three parameters.
    let token = cmd.eq_ignore_ascii_case("RL.TOKEN") || cmd.eq_ignore_ascii_case("RL.LEAKY");
    // Six calls in ten are well-formed, so the decisions and stored states get exercised.
    if rng.below(10) < 6 {
        let small = |rng: &mut Rng| format!("{}", 1 + rng.below(20)).into_bytes();
        args.push(small(rng));
        if token {
            args.push(small(rng));
        }
        let unit = *rng.pick(&["", "ms", "s"]);
        args.push(format!("{}{unit}", 1 + rng.below(100)).into_bytes());
        match rng.below(10) {
            // Usage known after the fact: give back, or record past the limit.
            0 => {
                args.push(b"REFUND".to_vec());
                args.push(small(rng));
            }
            1 => {
                args.push(b"COST".to_vec());
                args.push(small(rng));
                args.push(b"FORCE".to_vec());
            }
            _ => {
                if rng.below(2) == 0 {
                    args.push(b"COST".to_vec());
                    args.push(small(rng));
                }
                if rng.below(5) == 0 {
                    args.push(b"PEEK".to_vec());
                }
            }
        }
        return (cmd.to_owned(), args);
    }
    args.push(number(rng));
    if token {
        args.push(number(rng));
    }
    args.push(duration(rng));
    for _ in 0..rng.below(4) {
        match rng.below(20) {
            0..=9 => {
                args.push(rng.pick(&[&b"COST"[..], b"cost", b"CoSt"]).to_vec());
                if rng.below(20) > 0 {
                    args.push(number(rng));
                }
            }
            10..=14 => args.push(rng.pick(&[&b"PEEK"[..], b"peek"]).to_vec()),
            15 => args.push(rng.pick(&[&b"FORCE"[..], b"force"]).to_vec()),
            16 | 17 => {
                args.push(rng.pick(&[&b"REFUND"[..], b"refund"]).to_vec());
                if rng.below(20) > 0 {
                    args.push(number(rng));
                }
            }
            18 => args.push(rng.bytes(12)),
            _ => args.push(number(rng)),
        }
    }
    // Sometimes drop or add arguments wholesale.
    match rng.below(40) {
        0 => args.truncate(rng.below(args.len() as u64) as usize),
        1 => args.extend((0..rng.below(20)).map(|_| rng.bytes(8))),
        _ => {}
    }
    (cmd.to_owned(), args)
}

/// An RL.CONCURRENT holder's id: mostly one of a few (so leases are renewed and released),
/// sometimes bytes of any value and of the lengths around the limits (0, 1, 255, 256, 257).
fn holder_id(rng: &mut Rng) -> Vec<u8> {
    if rng.below(10) < 7 {
        return format!("w{}", rng.below(10)).into_bytes();
    }
    let any = rng.below(300);
    let len = *rng.pick(&[0, 1, 2, 255, 256, 257, 300, any]);
    (0..len).map(|_| if rng.below(4) == 0 { *rng.pick(&[0u8, b'\r', b'\n', 0xff, b' ']) } else { rng.next() as u8 }).collect()
}

/// A random RL.CONCURRENT call: mostly well-formed on its own keys (prefix `fz:6`) with short
/// leases, so leases end, are renewed, released and pruned; sometimes hostile numbers, ids and
/// options, another command's keys, or a wrong count.
fn concurrent_call(rng: &mut Rng) -> (String, Vec<Vec<u8>>) {
    let cmd = *rng.pick(&["RL.CONCURRENT", "rl.concurrent", "Rl.Concurrent"]);
    let key_kind = if rng.below(10) == 0 { rng.below(6) } else { 6 };
    let mut args: Vec<Vec<u8>> = vec![format!("fz:{key_kind}:{}", rng.below(KEYS)).into_bytes()];
    if rng.below(10) < 7 {
        args.push(format!("{}", 1 + rng.below(5)).into_bytes());
        let lease = match rng.below(10) {
            0 => format!("{}s", 1 + rng.below(5)),
            1 => "1h".to_owned(),
            _ => format!("{}{}", 1 + rng.below(300), rng.pick(&["", "ms"])),
        };
        args.push(lease.into_bytes());
        args.push(holder_id(rng));
        match rng.below(10) {
            0 | 1 => args.push(rng.pick(&[&b"RELEASE"[..], b"release"]).to_vec()),
            2 => args.push(rng.pick(&[&b"PEEK"[..], b"peek"]).to_vec()),
            _ => {}
        }
        return (cmd.to_owned(), args);
    }
    args.push(number(rng));
    args.push(duration(rng));
    args.push(holder_id(rng));
    for _ in 0..rng.below(4) {
        match rng.below(12) {
            0..=2 => args.push(rng.pick(&[&b"PEEK"[..], b"peek"]).to_vec()),
            3..=5 => args.push(rng.pick(&[&b"RELEASE"[..], b"Release"]).to_vec()),
            6 | 7 => {
                args.push(rng.pick(&[&b"COST"[..], b"REFUND"]).to_vec());
                args.push(number(rng));
            }
            8 => args.push(b"FORCE".to_vec()),
            9 => args.push(holder_id(rng)),
            _ => args.push(rng.bytes(12)),
        }
    }
    match rng.below(20) {
        0 => args.truncate(rng.below(args.len() as u64) as usize),
        1 => args.extend((0..rng.below(8)).map(|_| rng.bytes(8))),
        _ => {}
    }
    (cmd.to_owned(), args)
}

/// A hostile write on RL.CONCURRENT's keys: hand-written members and scores (whole ms around
/// now, which read as leases; fractions, negatives, infinities and scores past 2^53, which do
/// not), members removed, the key's TTL moved, dropped or set in the past, another type.
fn lease_mutation(rng: &mut Rng, now: i64) -> (String, redis::Cmd) {
    let key = format!("fz:6:{}", rng.below(KEYS));
    let mut cmd;
    match rng.below(16) {
        0..=4 => {
            cmd = redis::cmd("ZADD");
            cmd.arg(&key);
            for _ in 0..1 + rng.below(3) {
                let score = match rng.below(16) {
                    0 => format!("{}.5", now + rng.below(10_000) as i64),
                    1 => format!("-{}", 1 + rng.below(1000)),
                    2 => rng.pick(&["+inf", "-inf"]).to_string(),
                    3 => rng.pick(&["9007199254740994", "1e300", "9007199254740992", "0"]).to_string(),
                    4 => format!("{}", rng.below(1_000_000)),
                    _ => format!("{}", now - 500 + rng.below(10_000) as i64),
                };
                cmd.arg(score).arg(holder_id(rng));
            }
        }
        5 => {
            cmd = redis::cmd("ZREM");
            cmd.arg(&key).arg(holder_id(rng));
        }
        6 => {
            cmd = redis::cmd("PEXPIRE");
            cmd.arg(&key).arg(1 + rng.below(20_000));
        }
        7 => {
            cmd = redis::cmd("PERSIST");
            cmd.arg(&key);
        }
        8 => {
            cmd = redis::cmd("ZREMRANGEBYRANK");
            cmd.arg(&key).arg(0).arg(rng.below(3));
        }
        9 => {
            cmd = redis::cmd("SET");
            cmd.arg(&key).arg(state_like(rng)).arg("PX").arg(1 + rng.below(100_000));
        }
        _ => {
            cmd = redis::cmd("DEL");
            cmd.arg(&key);
        }
    }
    (key, cmd)
}

/// Bytes that look like some RL state, damaged or not.
fn state_like(rng: &mut Rng) -> Vec<u8> {
    let mut v: Vec<u8> = match rng.below(6) {
        0 => number(rng),
        1 => {
            let mut v = vec![0x01];
            v.extend(rng.bytes(12));
            v
        }
        2 => {
            let mut v = vec![0x02];
            v.extend(rng.bytes(14));
            v
        }
        3 => {
            let mut v = b"L:".to_vec();
            v.extend(rng.bytes(80));
            v
        }
        4 => rng.bytes(40),
        _ => b"hello".to_vec(),
    };
    if !v.is_empty() && rng.below(2) == 0 {
        let i = rng.below(v.len() as u64) as usize;
        v[i] ^= 1 << rng.below(8);
    }
    v
}

/// A write that puts something hostile under a key.
fn mutation(rng: &mut Rng) -> redis::Cmd {
    let key = format!("fz:{}:{}", rng.below(6), rng.below(KEYS));
    let mut cmd;
    match rng.below(16) {
        0 => {
            cmd = redis::cmd("LPUSH");
            cmd.arg(&key).arg("x");
        }
        1 => {
            cmd = redis::cmd("HSET");
            cmd.arg(&key).arg("f").arg("v");
        }
        2 => {
            cmd = redis::cmd("ZADD");
            cmd.arg(&key).arg(1).arg("m");
        }
        3 | 10..=15 => {
            cmd = redis::cmd("DEL");
            cmd.arg(&key);
        }
        4 => {
            // Damage the module's own state in place: flip a byte, keep the TTL.
            cmd = redis::cmd("SETRANGE");
            cmd.arg(&key).arg(rng.below(60)).arg(rng.bytes(3));
        }
        5 => {
            cmd = redis::cmd("APPEND");
            cmd.arg(&key).arg(rng.bytes(6));
        }
        _ => {
            cmd = redis::cmd("SET");
            cmd.arg(&key).arg(state_like(rng));
            if rng.below(3) > 0 {
                cmd.arg("PX").arg(1 + rng.below(100_000));
            }
        }
    }
    cmd
}

fn check_reply(call: &str, v: &Value) -> Result<Option<bool>, String> {
    if call.to_ascii_uppercase().starts_with("CL.THROTTLE") {
        return check_throttle_reply(call, v);
    }
    match v {
        Value::ServerError(e) => {
            let code = e.code();
            // An error raised inside the script library, not answered by it, carries the
            // script's location: a Lua runtime error got out.
            let located = e.details().is_some_and(|d| d.contains("script:") || d.contains("@user_"));
            if (code == "ERR" || code == "WRONGTYPE") && !located {
                Ok(None)
            } else {
                Err(format!("{call}: unexpected error {e:?}"))
            }
        }
        Value::Array(items) => {
            let ints: Vec<i64> = items.iter().filter_map(|x| if let Value::Int(i) = x { Some(*i) } else { None }).collect();
            // RL.ALL adds a sixth: the 1-based index of the decisive limiter.
            let (five, index) = match ints.len() {
                6 if call.starts_with("RL.ALL") => (&ints[..5], ints[5]),
                5 if !call.starts_with("RL.ALL") => (&ints[..], 1),
                _ => return Err(format!("{call}: not the integers of an RL reply: {v:?}")),
            };
            if !(1..=16).contains(&index) {
                return Err(format!("{call}: decisive index {index}"));
            }
            let [allowed, limit, remaining, retry, reset] = five[..] else { return Err(format!("{call}: {v:?}")) };
            let sane = (allowed == 0 || allowed == 1) && limit >= 1 && remaining >= 0 && retry >= -1 && reset >= 0;
            let consistent = (allowed == 1) == (retry == 0) || allowed == 1;
            if sane && consistent {
                Ok(Some(allowed == 1))
            } else {
                Err(format!("{call}: malformed reply {ints:?}"))
            }
        }
        other => Err(format!("{call}: unexpected reply {other:?}")),
    }
}

/// RL.CONCURRENT's reply: five integers; remaining at most the limit; an admitted acquire or
/// PEEK has nothing to wait for, and an acquire a lease to reset after; a refused one waits at least 1 ms
/// and no longer than reset; a RELEASE (1: a lease was held, 0: none) never waits.
fn check_concurrent_reply(call: &str, v: &Value, peek: bool, release: bool) -> Result<Option<bool>, String> {
    let Value::Array(items) = v else {
        return match v {
            Value::ServerError(e)
                if (e.code() == "ERR" || e.code() == "WRONGTYPE")
                    && !e.details().is_some_and(|d| d.contains("script:") || d.contains("@user_")) =>
            {
                Ok(None)
            }
            other => Err(format!("{call}: unexpected reply {other:?}")),
        };
    };
    let ints: Vec<i64> = items.iter().filter_map(|x| if let Value::Int(i) = x { Some(*i) } else { None }).collect();
    let [allowed, limit, remaining, retry, reset] = ints[..] else { return Err(format!("{call}: not five integers: {v:?}")) };
    let sane = (allowed == 0 || allowed == 1) && limit >= 1 && (0..=limit).contains(&remaining) && reset >= 0;
    let waits = match (release, allowed) {
        (true, _) => retry == 0,
        // (A PEEK on a limiter that holds nothing has nothing to reset.)
        (false, 1) => retry == 0 && (peek || reset >= 1),
        (false, _) => retry >= 1 && retry <= reset,
    };
    if sane && waits {
        Ok(Some(allowed == 1))
    } else {
        Err(format!("{call}: malformed reply {ints:?}"))
    }
}

/// redis-cell's reply: 0 admitted or 1 limited, the limit, remaining, retry-after (-1 when
/// admitted) and reset-after in seconds (negative only for a TAT written in the past).
fn check_throttle_reply(call: &str, v: &Value) -> Result<Option<bool>, String> {
    match v {
        Value::ServerError(e) if e.code() == "ERR" || e.code() == "WRONGTYPE" => Ok(None),
        Value::Array(items) => {
            let ints: Vec<i64> = items.iter().filter_map(|x| if let Value::Int(i) = x { Some(*i) } else { None }).collect();
            let [limited, limit, remaining, retry, _reset] = ints[..] else { return Err(format!("{call}: {v:?}")) };
            let sane = (limited == 0 || limited == 1) && limit >= 1 && remaining >= 0 && retry >= -1;
            if sane && (limited == 1 || retry == -1) {
                Ok(Some(limited == 0))
            } else {
                Err(format!("{call}: malformed reply {ints:?}"))
            }
        }
        other => Err(format!("{call}: unexpected reply {other:?}")),
    }
}

#[test]
fn hostile_traffic_never_crashes_or_corrupts() {
    let calls: u64 = std::env::var("FUZZ_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_F00D);
    let mut rng = Rng(seed | 1);
    let mut server = Server::start();
    let mut con = server.connect();
    if style() == Style::Evalsha {
        redis::cmd("SCRIPT").arg("LOAD").arg(SCRIPT).query::<String>(&mut con).expect("SCRIPT LOAD");
    }
    // RL.CONCURRENT: the module's, or the library's once it has rl_concurrent.
    let concurrent = has_concurrent();
    let (mut done, mut admitted, mut denied, mut errors, mut mutations) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut lease_writes = 0u64;
    let mut kinds = std::collections::BTreeMap::new();
    while done < calls {
        // A batch of hostile writes, then a batch of RL calls.
        let mut packed = Vec::new();
        let n_mut = rng.below(24);
        let now = server_ms(&mut con);
        for _ in 0..n_mut {
            let hostile = if concurrent && rng.below(3) == 0 {
                let (_, cmd) = lease_mutation(&mut rng, now);
                cmd
            } else {
                mutation(&mut rng)
            };
            packed.extend(hostile.get_packed_command());
        }
        if n_mut > 0 {
            con.req_packed_commands(&packed, 0, n_mut as usize).expect("mutations");
            mutations += n_mut;
        }
        let batch = 500.min(calls - done);
        let mut packed = Vec::new();
        let mut sent = Vec::new();
        for _ in 0..batch {
            let (cmd, args) = match rng.below(10) {
                0 => all_call(&mut rng),
                // (The script library has no CL.THROTTLE.)
                1 if module_style() => throttle_call(&mut rng),
                2 | 3 if concurrent => concurrent_call(&mut rng),
                _ => rl_call(&mut rng),
            };
            packed.extend(rl_cmd_bytes(style(), &cmd, &args).get_packed_command());
            // A PEEK, or CL.THROTTLE's quantity 0, writes nothing. (RL.CONCURRENT's id may
            // be the word PEEK: only its options count.)
            let is_concurrent = cmd.eq_ignore_ascii_case("RL.CONCURRENT");
            let options = if is_concurrent { args.get(4..).unwrap_or_default() } else { &args[..] };
            let peek = options.iter().any(|a| a.eq_ignore_ascii_case(b"PEEK"))
                || (cmd.eq_ignore_ascii_case("CL.THROTTLE") && args.get(4).is_some_and(|q| q == b"0"));
            let release = is_concurrent.then(|| options.iter().any(|a| a.eq_ignore_ascii_case(b"RELEASE")));
            sent.push((
                format!("{cmd} {:?}", args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>()),
                keys_of(&cmd, &args),
                peek,
                release,
            ));
        }
        let replies = con
            .req_packed_commands(&packed, 0, batch as usize)
            .unwrap_or_else(|e| panic!("server gone after {done} calls: {e}\n{}", server.log()));
        let mut must_have_ttl = HashSet::new();
        let mut leases_written = HashSet::new();
        for ((call, keys, peek, release), reply) in sent.iter().zip(&replies) {
            let checked = match release {
                Some(release) => check_concurrent_reply(call, reply, *peek, *release),
                None => {
                    // Another command may write the key once its leases have ended: the check
                    // below is of sets RL.CONCURRENT wrote last.
                    for key in keys {
                        leases_written.remove(key);
                    }
                    check_reply(call, reply)
                }
            };
            match checked {
                Ok(Some(true)) => {
                    admitted += 1;
                    if !peek {
                        must_have_ttl.extend(keys.iter().cloned());
                        if release.is_some() {
                            leases_written.extend(keys.iter().cloned());
                        }
                    }
                }
                Ok(Some(false)) => denied += 1,
                Ok(None) => {
                    errors += 1;
                    if let Value::ServerError(e) = reply {
                        let msg = format!("{} {}", e.code(), e.details().unwrap_or("")).chars().take(40).collect::<String>();
                        *kinds.entry(msg).or_insert(0u64) += 1;
                    }
                }
                Err(problem) => panic!("{problem}"),
            }
        }
        // Every key an RL call admitted on has a TTL (or has already expired).
        for key in must_have_ttl {
            let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut con).unwrap();
            assert_ne!(ttl, -1, "{key} was admitted on but has no TTL");
        }
        // A set RL.CONCURRENT wrote last expires exactly with its latest lease: no lease
        // outlives its key, and the key outlives none. (No hostile write comes between the
        // batch and this check.)
        for key in leases_written {
            let latest: Vec<(Vec<u8>, String)> = redis::cmd("ZRANGE").arg(&key).arg(-1).arg(-1).arg("WITHSCORES").query(&mut con).unwrap();
            let expiry = pexpiretime(&mut con, &key);
            match latest.first() {
                Some((_, score)) => {
                    let latest: i64 = score.parse().unwrap_or_else(|_| panic!("{key}: the latest lease's score {score} is not whole ms"));
                    // Gone between the two reads: it expired with its latest lease.
                    let expired_meanwhile = expiry == -2 && latest <= server_ms(&mut con);
                    assert!(expiry == latest || expired_meanwhile, "{key}: the key expires at {expiry}, its latest lease at {latest}");
                }
                None => assert_eq!(expiry, -2, "{key}"),
            }
            lease_writes += 1;
        }
        done += batch;
    }
    assert!(server.alive(), "server died");
    assert_eq!(run(&mut con, &["PING"]), Value::SimpleString("PONG".into()));
    let log = server.log();
    assert!(!log.contains("panic caught"), "the module panicked (caught):\n{log}");
    let mut top: Vec<_> = kinds.into_iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    eprintln!("most frequent errors: {:?}", &top[..top.len().min(8)]);
    eprintln!(
        "wire fuzz: {done} RL calls ({admitted} admitted, {denied} denied, {errors} errors), {mutations} hostile writes, {lease_writes} lease sets checked; seed {seed}"
    );
    if concurrent {
        let calls: String = redis::cmd("INFO").arg("ratelimit").query(&mut con).unwrap_or_default();
        eprintln!("{}", calls.lines().filter(|l| l.contains("concurrent")).collect::<Vec<_>>().join(" "));
        assert!(lease_writes > done / 200, "too few RL.CONCURRENT writes: {lease_writes}");
    }
    // The run exercised every outcome, or it proved little.
    assert!(admitted > done / 50 && denied > done / 100 && errors > done / 20, "too little coverage: {admitted}/{denied}/{errors}");
}

//! `make bench`: the module against the native writes it replaces and the usual Lua scripts,
//! and the script library (functions/ratelimit.lua, FCALL) against both, measured side by side
//! in one run with redis-benchmark (interleaved passes, medians), then memory per limiter,
//! then throughput again with a replica attached.
//!
//! Environment: BENCH_PASSES (default 3), BENCH_REQUESTS (requests per -P 16 run, default
//! 1000000; -P 1 runs use a fifth), BENCH_KEYS (memory: keys per layout, default 100000),
//! BENCH_SECTIONS (any of `pipelined,single,memory,replica`; default all).

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::Command;

const LUA_FIXED: &str = r#"
local limit = tonumber(ARGV[1])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count + 1 > limit then
  local ttl = redis.call('PTTL', KEYS[1])
  return {0, limit, limit - count, ttl, ttl}
end
if count == 0 then redis.call('SETEX', KEYS[1], ARGV[2], 1) else redis.call('INCR', KEYS[1]) end
return {1, limit, limit - count - 1, 0, redis.call('PTTL', KEYS[1])}
"#;

const LUA_SLIDING: &str = r#"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limit, w = tonumber(ARGV[1]), tonumber(ARGV[2])
local idx = math.floor(now / w)
local cur_key, prev_key = KEYS[1] .. ':' .. idx, KEYS[1] .. ':' .. (idx - 1)
local cur = tonumber(redis.call('GET', cur_key) or '0')
local prev = tonumber(redis.call('GET', prev_key) or '0')
local elapsed = now % w
local estimate = cur + prev * (w - elapsed) / w
if estimate + 1 > limit then return {0, limit, 0, w - elapsed, 2 * w - elapsed} end
redis.call('INCR', cur_key)
redis.call('PEXPIRE', cur_key, 2 * w)
return {1, limit, math.floor(limit - estimate - 1), 0, 2 * w - elapsed}
"#;

const LUA_LOG: &str = r#"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limit, w = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - w)
local n = redis.call('ZCARD', KEYS[1])
if n + 1 > limit then return {0, limit, 0, w, w} end
redis.call('ZADD', KEYS[1], now, now .. '-' .. t[2] .. '-' .. math.random(1000000))
redis.call('PEXPIRE', KEYS[1], w)
return {1, limit, limit - n - 1, 0, w}
"#;

const LUA_TOKEN: &str = r#"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local cap, rate, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1]) or cap
local ts = tonumber(v[2]) or now
tokens = math.min(cap, tokens + (now - ts) * rate / period)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) * period / rate))
return {allowed, cap, math.floor(tokens), 0, 0}
"#;

/// The counting semaphore RL.CONCURRENT replaces, as it is usually written: the holders in a
/// sorted set scored by their lease's end; drop the ended ones, count, add if below the limit.
const LUA_SEMAPHORE: &str = r#"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limit, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then return {0, limit, 0, lease, lease} end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, limit, limit - n - 1, 0, lease}
"#;

/// Three fixed windows checked together, all or nothing: what RL.ALL with three FIXED specs
/// replaces.
const LUA_FIXED3: &str = r#"
local limit = tonumber(ARGV[1])
local counts = {}
for i = 1, 3 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count + 1 > limit then return {0, limit, limit - count, redis.call('PTTL', KEYS[i]), 0, i} end
  counts[i] = count
end
for i = 1, 3 do
  if counts[i] == 0 then redis.call('SETEX', KEYS[i], ARGV[2], 1) else redis.call('INCR', KEYS[i]) end
end
return {1, limit, limit - counts[1] - 1, 0, redis.call('PTTL', KEYS[1]), 1}
"#;

/// The EVALSHA script's rows: name, function, key, arguments (those of its FCALL row), Lua twin.
type ScriptCase = (&'static str, &'static str, &'static str, &'static [&'static str], Option<&'static str>);
const SCRIPT_CASES: [ScriptCase; 6] = [
    ("EVALSHA rl_fixed", "rl_fixed", "scr:f:__rand_int__", &["1000000000", "1h"], Some("Lua fixed")),
    ("EVALSHA rl_sliding", "rl_sliding", "scr:s:__rand_int__", &["1000000000", "1h"], Some("Lua sliding")),
    ("EVALSHA rl_log", "rl_log", "scr:l:__rand_int__", &["100", "1s"], Some("Lua log")),
    ("EVALSHA rl_token", "rl_token", "scr:t:__rand_int__", &["1000000000", "1000", "1h"], Some("Lua token")),
    ("EVALSHA rl_leaky", "rl_leaky", "scr:q:__rand_int__", &["1000000000", "1000", "1h"], None),
    ("EVALSHA rl_concurrent", "rl_concurrent", "scr:cc:__rand_int__", &["100", "1h", "w:__rand_int__"], Some("Lua semaphore")),
];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    /// The Lua script this command replaces, by case name.
    lua_twin: Option<&'static str>,
}

fn cases(shas: &BTreeMap<&str, String>, pxat: i64) -> Vec<Case> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let lua = |name: &str, key: &str, argv: &[&str]| {
        let mut v = s(&["EVALSHA", &shas[name], "1", key]);
        v.extend(s(argv));
        v
    };
    vec![
        Case { name: "INCR", args: s(&["INCR", "incr:__rand_int__"]), lua_twin: None },
        Case { name: "SET PXAT", args: s(&["SET", "set:__rand_int__", "1", "PXAT", &pxat.to_string()]), lua_twin: None },
        Case { name: "RL.FIXED", args: s(&["RL.FIXED", "f:__rand_int__", "1000000000", "1h"]), lua_twin: Some("Lua fixed") },
        // Refusals, each recorded for RL.TOP (tracking is always on): a limit of 1 on the same
        // random keys, so all but each key's first call is refused and recorded, most of them
        // for keys that take a counter from another (the Space-Saving eviction, its dearest
        // case); and one key refused on every call (a tracked key's count going up).
        Case { name: "RL.FIXED refused", args: s(&["RL.FIXED", "df:__rand_int__", "1", "1h"]), lua_twin: None },
        Case { name: "RL.FIXED refused, one key", args: s(&["RL.FIXED", "dh:hot", "1", "1h"]), lua_twin: None },
        Case { name: "RL.SLIDING", args: s(&["RL.SLIDING", "s:__rand_int__", "1000000000", "1h"]), lua_twin: Some("Lua sliding") },
        Case { name: "RL.LOG", args: s(&["RL.LOG", "l:__rand_int__", "100", "1s"]), lua_twin: Some("Lua log") },
        // 1000 per hour (a free tier): a spent token takes 3.6 s to come back, so keys live
        // through the run, as SET PXAT's do.
        Case { name: "RL.TOKEN", args: s(&["RL.TOKEN", "t:__rand_int__", "1000000000", "1000", "1h"]), lua_twin: Some("Lua token") },
        // 1M per second: a spent token is back within 1 ms, so every key has expired by its next
        // hit and each call re-creates it (key churn, which SET PXAT's keys do not pay).
        Case {
            name: "RL.TOKEN 1M/s",
            args: s(&["RL.TOKEN", "tf:__rand_int__", "1000000000", "1000000", "1s"]),
            lua_twin: Some("Lua token 1M/s"),
        },
        // redis-cell's command at the same rate as RL.TOKEN's row (1000 per hour, a burst of
        // a billion): the same work, GCRA in nanoseconds, a decimal TAT.
        Case { name: "CL.THROTTLE", args: s(&["CL.THROTTLE", "c:__rand_int__", "999999999", "1000", "3600"]), lua_twin: None },
        // A queue draining 1000 per hour: keys live through the run. No usual Lua script to
        // compare with; its row reads against INCR and SET PXAT.
        Case { name: "RL.LEAKY", args: s(&["RL.LEAKY", "q:__rand_int__", "1000000000", "1000", "1h"]), lua_twin: None },
        // Three limits in one call (user, IP, endpoint), against three RL.FIXED calls (derived
        // below the table) and the Lua script that does the same three checks.
        Case {
            name: "RL.ALL 3 FIXED",
            args: s(&[
                "RL.ALL",
                "3",
                "au:__rand_int__",
                "ai:__rand_int__",
                "ae:__rand_int__",
                "FIXED",
                "1000000000",
                "1h",
                "FIXED",
                "1000000000",
                "1h",
                "FIXED",
                "1000000000",
                "1h",
            ]),
            lua_twin: Some("Lua 3 fixed"),
        },
        Case {
            name: "Lua 3 fixed",
            args: {
                let mut v = s(&["EVALSHA", &shas["fixed3"], "3", "lu:__rand_int__", "li:__rand_int__", "le:__rand_int__"]);
                v.extend(s(&["1000000000", "3600"]));
                v
            },
            lua_twin: None,
        },
        // The script library, with the module's arguments: against the ad-hoc script of the
        // same algorithm (its Lua twin) and the module (a line below the table).
        Case {
            name: "FCALL rl_fixed",
            args: s(&["FCALL", "rl_fixed", "1", "lib:f:__rand_int__", "1000000000", "1h"]),
            lua_twin: Some("Lua fixed"),
        },
        Case {
            name: "FCALL rl_sliding",
            args: s(&["FCALL", "rl_sliding", "1", "lib:s:__rand_int__", "1000000000", "1h"]),
            lua_twin: Some("Lua sliding"),
        },
        Case { name: "FCALL rl_log", args: s(&["FCALL", "rl_log", "1", "lib:l:__rand_int__", "100", "1s"]), lua_twin: Some("Lua log") },
        Case {
            name: "FCALL rl_token",
            args: s(&["FCALL", "rl_token", "1", "lib:t:__rand_int__", "1000000000", "1000", "1h"]),
            lua_twin: Some("Lua token"),
        },
        Case {
            name: "FCALL rl_leaky",
            args: s(&["FCALL", "rl_leaky", "1", "lib:q:__rand_int__", "1000000000", "1000", "1h"]),
            lua_twin: None,
        },
        Case { name: "Lua fixed", args: lua("fixed", "lf:__rand_int__", &["1000000000", "3600"]), lua_twin: None },
        Case { name: "Lua sliding", args: lua("sliding", "ls:__rand_int__", &["1000000000", "3600000"]), lua_twin: None },
        Case { name: "Lua log", args: lua("log", "ll:__rand_int__", &["100", "1000"]), lua_twin: None },
        Case { name: "Lua token", args: lua("token", "lt:__rand_int__", &["1000000000", "1000", "3600000"]), lua_twin: None },
        Case { name: "Lua token 1M/s", args: lua("token", "ltf:__rand_int__", &["1000000000", "1000000", "1000"]), lua_twin: None },
        // Leases of an hour on random keys for random holders (the run spreads about ten per
        // key: each call takes a slot, or renews one); the script on the same keys and leases.
        Case {
            name: "RL.CONCURRENT",
            args: s(&["RL.CONCURRENT", "cc:__rand_int__", "100", "1h", "w:__rand_int__"]),
            lua_twin: Some("Lua semaphore"),
        },
        Case { name: "Lua semaphore", args: lua("semaphore", "lcc:__rand_int__", &["100", "3600000", "w:__rand_int__"]), lua_twin: None },
    ]
    .into_iter()
    // The script library's RL.CONCURRENT, once it has one.
    .chain(LIBRARY.contains("rl_concurrent").then(|| Case {
        name: "FCALL rl_concurrent",
        args: s(&["FCALL", "rl_concurrent", "1", "lib:cc:__rand_int__", "100", "1h", "w:__rand_int__"]),
        lua_twin: Some("Lua semaphore"),
    }))
    // The same library as the EVALSHA script (functions/ratelimit-script.lua: the function name
    // first in ARGV), on the same limits as the FCALL rows: its ratio to them below the table.
    .chain(SCRIPT_CASES.iter().map(|(name, function, key, argv, twin)| {
        let mut args = s(&["EVALSHA", &shas["script"], "1", key, function]);
        args.extend(s(argv));
        Case { name, args, lua_twin: *twin }
    }))
    .collect()
}

#[derive(Clone, Copy, Default)]
struct Sample {
    ops: f64,
    p50: f64,
    p99: f64,
}

/// One redis-benchmark run: requests/s and latency percentiles (ms) from its CSV line.
fn benchmark(port: u16, pipeline: u64, requests: u64, args: &[String]) -> Sample {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-c", "50", "-r", "100000", "-q", "--csv"])
        .args(["-n", &requests.to_string(), "-P", &pipeline.to_string()])
        .args(args)
        .output()
        .expect("run redis-benchmark (it comes with redis-server)");
    let text = String::from_utf8_lossy(&out.stdout);
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    let line =
        text.lines().find(|l| !l.starts_with("\"test\"") && l.contains(',')).unwrap_or_else(|| panic!("no result for {args:?}: {text}"));
    let fields: Vec<f64> = line.rsplit("\",\"").map(|f| f.trim_matches('"').parse().unwrap_or(f64::NAN)).collect();
    // rsplit: fields[0] = max, [1] = p99, [2] = p95, [3] = p50, [4] = min, [5] = avg, [6] = rps.
    Sample { ops: fields[6], p50: fields[3], p99: fields[1] }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Interleaved passes: pass k runs every case once, in an order rotated by k, so drift in the
/// machine's speed hits all cases alike; the median of each case is reported.
fn throughput(title: &str, port: u16, pipeline: u64, requests: u64, passes: u64, cases: &[Case], con: &mut Connection) {
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); cases.len()];
    for pass in 0..passes as usize {
        for i in 0..cases.len() {
            let idx = (i + pass) % cases.len();
            samples[idx].push(benchmark(port, pipeline, requests, &cases[idx].args));
        }
        run(con, &["FLUSHALL"]);
    }
    let med: Vec<Sample> = samples
        .iter()
        .map(|s| Sample {
            ops: median(s.iter().map(|x| x.ops).collect()),
            p50: median(s.iter().map(|x| x.p50).collect()),
            p99: median(s.iter().map(|x| x.p99).collect()),
        })
        .collect();
    let by_name = |n: &str| cases.iter().position(|c| c.name == n).map(|i| med[i].ops);
    let incr = by_name("INCR").unwrap_or(f64::NAN);
    let set = by_name("SET PXAT").unwrap_or(f64::NAN);
    println!("\n## {title} (-P {pipeline}, -c 50, -r 100000, {requests} requests, median of {passes} interleaved passes)\n");
    println!("| command | ops/s | p50 ms | p99 ms | x INCR | x SET PXAT | x its Lua script |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (case, m) in cases.iter().zip(&med) {
        let twin = case.lua_twin.and_then(by_name).map_or("".to_owned(), |l| format!("{:.2}", m.ops / l));
        println!("| {} | {:.0} | {:.3} | {:.3} | {:.2} | {:.2} | {} |", case.name, m.ops, m.p50, m.p99, m.ops / incr, m.ops / set, twin);
    }
    let library: Vec<String> = ["fixed", "sliding", "log", "token", "leaky"]
        .iter()
        .filter_map(|a| Some(format!("{a} {:.2}", by_name(&format!("RL.{}", a.to_uppercase()))? / by_name(&format!("FCALL rl_{a}"))?)))
        .collect();
    if !library.is_empty() {
        println!("\nModule / script library (x faster, same limit): {}", library.join(", "));
    }
    let script: Vec<String> = ["fixed", "sliding", "log", "token", "leaky", "concurrent"]
        .iter()
        .filter_map(|a| Some(format!("{a} {:.2}", by_name(&format!("EVALSHA rl_{a}"))? / by_name(&format!("FCALL rl_{a}"))?)))
        .collect();
    if !script.is_empty() {
        println!("\nEVALSHA script / FCALL library (same server, same limit): {}", script.join(", "));
    }
    if let (Some(admitted), Some(refused), Some(hot)) =
        (by_name("RL.FIXED"), by_name("RL.FIXED refused"), by_name("RL.FIXED refused, one key"))
    {
        // A refusal writes nothing but is recorded for RL.TOP; an admission writes and
        // replicates but is not recorded.
        println!(
            "\nRL.FIXED refused (recorded for RL.TOP) / admitted: {:.2} over random keys, {:.2} on one key",
            refused / admitted,
            hot / admitted
        );
    }
    if let (Some(cell), Some(token)) = (by_name("CL.THROTTLE"), by_name("RL.TOKEN")) {
        println!("\nCL.THROTTLE / RL.TOKEN (the same limit): {:.2}", cell / token);
    }
    if let (Some(module), Some(script)) = (by_name("RL.CONCURRENT"), by_name("Lua semaphore")) {
        println!("\nRL.CONCURRENT / Lua semaphore (same keys, limit and leases): {:.2}", module / script);
    }
    if let (Some(all), Some(fixed)) = (by_name("RL.ALL 3 FIXED"), by_name("RL.FIXED")) {
        // Three separate calls per request: the request rate is a third of the call rate.
        println!(
            "\nRL.ALL with 3 limits: {all:.0} requests/s; 3 separate RL.FIXED calls: {:.0} requests/s; ratio {:.2}",
            fixed / 3.0,
            all / (fixed / 3.0)
        );
    }
}

fn used_memory(con: &mut Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query(con).expect("INFO");
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).expect("used_memory")
}

/// Bytes of used_memory per unit after `make` created `units` of something.
fn bytes_per(con: &mut Connection, units: u64, make: impl FnOnce(&mut Connection)) -> f64 {
    run(con, &["FLUSHALL"]);
    let before = used_memory(con);
    make(con);
    let after = used_memory(con);
    (after - before) as f64 / units as f64
}

/// Sends `n` commands built by `cmd(i)` in pipelines of 1000.
fn fill(con: &mut Connection, n: u64, cmd: impl Fn(u64) -> redis::Cmd) {
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.add_command(cmd(i)).ignore();
        if (i + 1) % 1000 == 0 {
            pipe.query::<()>(con).expect("pipeline");
            pipe = redis::pipe();
        }
    }
    pipe.query::<()>(con).expect("pipeline");
}

/// Builds the i-th command of a fill.
type CmdFor<'a> = Box<dyn Fn(u64) -> redis::Cmd + 'a>;

fn memory(con: &mut Connection, shas: &BTreeMap<&str, String>, keys: u64) {
    println!("\n## Memory (used_memory delta; {keys} keys, one request each)\n");
    println!("| layout | bytes per key |");
    println!("|---|---:|");
    let fcall = |function: &'static str, prefix: &'static str, args: &'static [&'static str]| -> CmdFor<'_> {
        Box::new(move |i| redis::cmd("FCALL").arg(function).arg(1).arg(format!("{prefix}{i}")).arg(args).clone())
    };
    let per_key: [(&str, CmdFor<'_>); 15] = [
        ("RL.FIXED", Box::new(|i| redis::cmd("RL.FIXED").arg(format!("f:{i}")).arg(1000).arg("1h").clone())),
        ("RL.SLIDING", Box::new(|i| redis::cmd("RL.SLIDING").arg(format!("s:{i}")).arg(1000).arg("1h").clone())),
        ("RL.TOKEN", Box::new(|i| redis::cmd("RL.TOKEN").arg(format!("t:{i}")).arg(1000).arg(1000).arg("1h").clone())),
        ("RL.LOG", Box::new(|i| redis::cmd("RL.LOG").arg(format!("l:{i}")).arg(1000).arg("1h").clone())),
        ("RL.LEAKY", Box::new(|i| redis::cmd("RL.LEAKY").arg(format!("q:{i}")).arg(1000).arg(1000).arg("1h").clone())),
        ("CL.THROTTLE", Box::new(|i| redis::cmd("CL.THROTTLE").arg(format!("c:{i}")).arg(999).arg(1000).arg(3600).clone())),
        ("rl_fixed (library)", fcall("rl_fixed", "lf2:", &["1000", "1h"])),
        ("rl_sliding (library)", fcall("rl_sliding", "ls2:", &["1000", "1h"])),
        ("rl_token (library)", fcall("rl_token", "lt2:", &["1000", "1000", "1h"])),
        ("rl_log (library)", fcall("rl_log", "ll2:", &["1000", "1h"])),
        ("rl_leaky (library)", fcall("rl_leaky", "lq2:", &["1000", "1000", "1h"])),
        (
            "Lua fixed (string)",
            Box::new(|i| redis::cmd("EVALSHA").arg(&shas["fixed"]).arg(1).arg(format!("lf:{i}")).arg(1000).arg(3600).clone()),
        ),
        (
            "Lua sliding (2 strings)",
            Box::new(|i| redis::cmd("EVALSHA").arg(&shas["sliding"]).arg(1).arg(format!("ls:{i}")).arg(1000).arg(3_600_000).clone()),
        ),
        (
            "Lua token (hash)",
            Box::new(|i| {
                redis::cmd("EVALSHA").arg(&shas["token"]).arg(1).arg(format!("lt:{i}")).arg(1000).arg(1000).arg(3_600_000).clone()
            }),
        ),
        (
            "Lua log (sorted set)",
            Box::new(|i| redis::cmd("EVALSHA").arg(&shas["log"]).arg(1).arg(format!("ll:{i}")).arg(1000).arg(3_600_000).clone()),
        ),
    ];
    for (name, cmd) in per_key {
        let b = bytes_per(con, keys, |c| fill(c, keys, cmd));
        println!("| {name} | {b:.1} |");
    }
    // Logs holding 1000 requests each: the cost of one logged request.
    let logs = 100u64;
    let entries = 1000u64;
    println!("\n| log layout, {logs} keys x {entries} requests | bytes per logged request |");
    println!("|---|---:|");
    let rl = bytes_per(con, logs * entries, |c| {
        for _ in 0..entries {
            fill(c, logs, |i| redis::cmd("RL.LOG").arg(format!("l:{i}")).arg(entries).arg("1h").clone());
            std::thread::sleep(std::time::Duration::from_micros(300));
        }
    });
    println!("| RL.LOG | {rl:.1} |");
    let lua = bytes_per(con, logs * entries, |c| {
        for _ in 0..entries {
            fill(c, logs, |i| redis::cmd("EVALSHA").arg(&shas["log"]).arg(1).arg(format!("ll:{i}")).arg(entries).arg(3_600_000).clone());
        }
    });
    println!("| Lua log (sorted set) | {lua:.1} |");
    leases_memory(con, shas, keys);
    run(con, &["FLUSHALL"]);
}

/// Bytes per held lease, RL.CONCURRENT against the Lua semaphore (both a sorted set of holders
/// scored by their lease's end): small sets (a listpack) and large ones (a skiplist).
fn leases_memory(con: &mut Connection, shas: &BTreeMap<&str, String>, keys: u64) {
    println!("\n| lease layout | RL.CONCURRENT bytes per lease | Lua semaphore bytes per lease | ratio |");
    println!("|---|---:|---:|---:|");
    for (sets, holders) in [(keys / 4, 4u64), (100, 1000)] {
        let leases = sets * holders;
        let fill_sets = |c: &mut Connection, script: bool| {
            for holder in 0..holders {
                fill(c, sets, |i| {
                    if script {
                        redis::cmd("EVALSHA")
                            .arg(&shas["semaphore"])
                            .arg(1)
                            .arg(format!("lcc:{i}"))
                            .arg(holders)
                            .arg(3_600_000)
                            .arg(format!("worker-{holder}"))
                            .clone()
                    } else {
                        redis::cmd("RL.CONCURRENT").arg(format!("cc:{i}")).arg(holders).arg("1h").arg(format!("worker-{holder}")).clone()
                    }
                });
            }
        };
        let module = bytes_per(con, leases, |c| fill_sets(c, false));
        let held: i64 = redis::cmd("ZCARD").arg("cc:0").query(con).expect("ZCARD");
        assert_eq!(held, holders as i64, "RL.CONCURRENT took every slot");
        let script = bytes_per(con, leases, |c| fill_sets(c, true));
        let held: i64 = redis::cmd("ZCARD").arg("lcc:0").query(con).expect("ZCARD");
        assert_eq!(held, holders as i64, "the script took every slot");
        println!("| {sets} keys x {holders} holders | {module:.1} | {script:.1} | {:.2} |", module / script);
    }
}

fn main() {
    // `cargo bench` passes --bench; this driver takes no arguments.
    let passes = env_u64("BENCH_PASSES", 3).max(1);
    let requests = env_u64("BENCH_REQUESTS", 1_000_000).max(1000);
    let keys = env_u64("BENCH_KEYS", 100_000).max(1000);
    let server = Server::start();
    server.load_library();
    let mut con = server.connect();
    let mut shas = BTreeMap::new();
    for (name, body) in [
        ("fixed", LUA_FIXED),
        ("sliding", LUA_SLIDING),
        ("log", LUA_LOG),
        ("token", LUA_TOKEN),
        ("fixed3", LUA_FIXED3),
        ("semaphore", LUA_SEMAPHORE),
        ("script", SCRIPT),
    ] {
        let sha: String = redis::cmd("SCRIPT").arg("LOAD").arg(body).query(&mut con).expect("SCRIPT LOAD");
        shas.insert(name, sha);
    }
    let pxat = server_ms(&mut con) + 3_600_000;
    let all = cases(&shas, pxat);
    // Every case answers without an error (redis-benchmark counts an error as an answer): once
    // each, on keys of their own. `make bench-smoke` runs this too.
    for case in &all {
        let words: Vec<String> = case.args.iter().map(|a| a.replace("__rand_int__", "check")).collect();
        let reply = run(&mut con, &words.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(matches!(reply, Value::Array(_) | Value::Int(_) | Value::Okay), "{} answered {reply:?}", case.name);
    }
    let version: String = redis::cmd("INFO")
        .arg("server")
        .query::<String>(&mut con)
        .expect("INFO")
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:").map(str::to_owned))
        .unwrap_or_default();
    println!("# redis-ratelimit benchmark: redis {version}, {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));

    let sections = std::env::var("BENCH_SECTIONS").unwrap_or_else(|_| "pipelined,single,memory,replica".to_owned());
    let wanted = |s: &str| sections.split(',').any(|x| x.trim() == s);
    if wanted("pipelined") {
        throughput("Throughput, pipelined", server.port, 16, requests, passes, &all, &mut con);
    }
    if wanted("single") {
        throughput("Throughput, one request at a time", server.port, 1, requests / 5, passes, &all, &mut con);
    }
    if wanted("memory") {
        memory(&mut con, &shas, keys);
    }
    if !wanted("replica") {
        return;
    }

    let replica = Server::start_with(false, &["--replicaof", "127.0.0.1", &server.port.to_string()]);
    let mut rc = replica.connect();
    let synced = eventually(std::time::Duration::from_secs(10), || {
        let info: String = redis::cmd("INFO").arg("replication").query(&mut rc).unwrap_or_default();
        info.contains("master_link_status:up")
    });
    assert!(synced, "replica did not sync");
    throughput("Throughput with one replica attached (no module on it)", server.port, 16, requests, passes, &all, &mut con);
}

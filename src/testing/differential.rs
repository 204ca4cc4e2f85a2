//! The script library (`functions/ratelimit.lua`) against the module's core: its pure part
//! runs in Lua 5.1 (mlua, the version Redis embeds) on the same random inputs as
//! `args::parse` and `limiter::evaluate`, and must give the same reply, the same write
//! (bytes, offset, expiry) and the same error, or, where a number passes 2^53-1, its range
//! error. Also: the EVALSHA script is the library with another tail.

use mlua::{Function, Lua, Table, Value};

use super::transitions::change;
use crate::algo::fixed::WindowParams;
use crate::algo::leaky::LeakyState;
use crate::algo::sliding::SlidingState;
use crate::algo::testkit::Rng;
use crate::algo::token::{TokenParams, TokenState};
use crate::algo::Algorithm;
use crate::algo::{Millis, Mode, Request};
use crate::args::{self, AllSpec, Call, Spec};
use crate::codec::{self, Write};
use crate::command::Command;
use crate::limiter::{self, Found, Limit};
use crate::testing::{random_spec, RedisKey};

const LIBRARY: &str = include_str!("../../functions/ratelimit.lua");
const SCRIPT: &str = include_str!("../../functions/ratelimit-script.lua");
const MARKER: &str = "-- @@registration";
const RANGE: &str = "ERR a number of this call or of the stored state is beyond 2^53-1";

/// The EVALSHA script's own lines: the function name comes first in ARGV.
const SCRIPT_TAIL: &str = r#"-- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
-- starts afresh: nothing to remember parsed calls in.
MEMO_ON = false
local command = COMMANDS[ARGV[1] or ""]
if command == nil then
  return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky or rl_all")
end
return command(KEYS, ARGV, 2)
"#;

/// The library without its first line (`#!lua ...`) and its registration.
fn library_body() -> &'static str {
    let after_shebang = LIBRARY.split_once('\n').map_or("", |(_, rest)| rest);
    after_shebang.split_once(MARKER).map_or(after_shebang, |(body, _)| body)
}

/// What `functions/ratelimit-script.lua` must hold.
pub(crate) fn script_from_library() -> String {
    format!(
        "-- GENERATED from functions/ratelimit.lua by `make functions`: edit that file, not this one.\n\
         -- SCRIPT LOAD this file, then: EVALSHA <sha> numkeys key [key ...] rl_fixed|rl_sliding|... arguments\n{}{}",
        library_body(),
        SCRIPT_TAIL
    )
}

#[test]
fn the_evalsha_script_is_the_library_with_a_dispatch_tail() {
    let expected = script_from_library();
    if std::env::var_os("RL_WRITE_SCRIPT").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/functions/ratelimit-script.lua"), &expected).expect("write the script");
        return;
    }
    assert!(SCRIPT == expected, "functions/ratelimit-script.lua is out of date: run `make functions`");
    assert!(LIBRARY.starts_with("#!lua name=ratelimit\n") && LIBRARY.contains(MARKER));
}

/// The library's pure part in a Lua 5.1 interpreter.
struct Pure {
    lua: Lua,
    parse: Function,
    parse_all: Function,
    evaluate: Function,
    evaluate_all: Function,
}

/// A write, from either side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum W {
    Value(Vec<u8>, i64),
    Range(usize, Vec<u8>, Option<i64>),
}

fn from_rust(w: &Write) -> W {
    match w {
        Write::Value { bytes, expire_at } => W::Value(bytes.as_slice().to_vec(), *expire_at as i64),
        Write::Range { offset, bytes, expire_at } => W::Range(*offset, bytes.as_slice().to_vec(), expire_at.map(|a| a as i64)),
        Write::Leases { .. } => panic!("RL.CONCURRENT is not in these comparisons: {w:?}"),
    }
}

/// What one call answered: the reply and its writes (by key index), or an error.
type Answer = Result<(Vec<i64>, Vec<(usize, W)>), String>;

/// Applies a write as Redis would (`testing::RedisKey`).
fn apply(key: &mut RedisKey, w: &W) {
    let buf = |bytes: &[u8]| {
        let mut b = codec::Buf::default();
        b.extend(bytes);
        b
    };
    key.apply(&match w {
        W::Value(bytes, at) => Write::Value { bytes: buf(bytes), expire_at: *at as u64 },
        W::Range(offset, bytes, at) => Write::Range { offset: *offset, bytes: buf(bytes), expire_at: at.map(|a| a as u64) },
    });
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.3e18 => *n as i64,
        other => panic!("not an integer: {other:?}"),
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => panic!("not a string: {other:?}"),
    }
}

impl Pure {
    fn new() -> Pure {
        let lua = Lua::new();
        let chunk = format!("{}\nreturn PURE\n", library_body());
        let pure: Table = lua.load(chunk).set_name("ratelimit").eval().expect("the library loads");
        let get = |name: &str| pure.get::<Function>(name).expect("a pure function");
        Pure { parse: get("parse"), parse_all: get("parse_all"), evaluate: get("evaluate"), evaluate_all: get("evaluate_all"), lua }
    }

    fn strings(&self, words: &[Vec<u8>]) -> Table {
        self.lua.create_sequence_from(words.iter().map(|w| self.lua.create_string(w).expect("a string"))).expect("a table")
    }

    fn found(&self, found: Option<Found<'_>>) -> Value {
        match found {
            None => Value::Nil,
            Some(f) => {
                let t = self.lua.create_table().expect("a table");
                t.set("bytes", self.lua.create_string(f.bytes).expect("a string")).expect("set");
                if let Some(at) = f.expire_at {
                    t.set("expire_at", at as f64).expect("set");
                }
                Value::Table(t)
            }
        }
    }

    fn write(v: &Value) -> Option<W> {
        let Value::Table(t) = v else { return None };
        let at = |k: &str| t.get::<Value>(k).ok().filter(|v| !v.is_nil()).map(|v| int(&v));
        if t.get::<bool>("value").expect("value") {
            Some(W::Value(bytes(&t.get("bytes").expect("bytes")), at("expire_at").expect("an expiry")))
        } else {
            Some(W::Range(at("offset").expect("an offset") as usize, bytes(&t.get("bytes").expect("bytes")), at("expire_at")))
        }
    }

    fn reply(v: &Value) -> Vec<i64> {
        let Value::Table(t) = v else { panic!("no reply: {v:?}") };
        t.clone().sequence_values::<Value>().map(|v| int(&v.expect("a value"))).collect()
    }

    fn single(&self, kind: Algorithm, words: &[Vec<u8>], found: Option<Found<'_>>, now: Millis) -> Answer {
        let (err, call): (Option<mlua::String>, Value) =
            self.parse.call((Command::of(kind).to_string(), self.strings(words))).expect("parse runs");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        let (err, reply, write): (Option<mlua::String>, Value, Value) =
            self.evaluate.call((call, self.found(found), now as f64)).expect("evaluate runs");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        Ok((Pure::reply(&reply), Pure::write(&write).map(|w| (0, w)).into_iter().collect()))
    }

    fn all(&self, names: &[Vec<u8>], words: &[Vec<u8>], founds: &[Option<Found<'_>>], now: Millis) -> Answer {
        let (err, call): (Option<mlua::String>, Value) =
            self.parse_all.call((names.len(), self.strings(names), self.strings(words))).expect("parse_all runs");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        let Value::Table(call) = call else { panic!("no call") };
        let t = self.lua.create_table().expect("a table");
        for (i, f) in founds.iter().enumerate() {
            t.set(i + 1, self.found(*f)).expect("set");
        }
        let (err, reply, writes): (Option<mlua::String>, Value, Value) = self
            .evaluate_all
            .call((call.get::<Value>("specs").expect("specs"), t, now as f64, call.get::<Value>("request").expect("request")))
            .expect("evaluate_all runs");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        let Value::Table(writes) = writes else { panic!("no writes") };
        let writes = writes
            .sequence_values::<Value>()
            .map(|w| {
                let w = w.expect("a write");
                let Value::Table(t) = &w else { panic!("a write table") };
                (int(&t.get("index").expect("index")) as usize - 1, Pure::write(&w).expect("a write"))
            })
            .collect();
        Ok((Pure::reply(&reply), writes))
    }
}

fn rust_single(kind: Algorithm, words: &[Vec<u8>], found: Option<Found<'_>>, now: Millis) -> Answer {
    let args: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
    if args.len() > 16 {
        return Err(crate::error::Error::TooManyArguments.message());
    }
    let call = args::parse(kind, &args).map_err(|e| e.message())?;
    let out = limiter::evaluate(&call, found, now).map_err(|e| e.message())?;
    Ok((out.reply.to_array().to_vec(), out.write.iter().map(|w| (0, from_rust(w))).collect()))
}

fn rust_all(names: &[Vec<u8>], words: &[Vec<u8>], founds: &[Option<Found<'_>>], now: Millis) -> Answer {
    let rest: Vec<&[u8]> = names.iter().chain(words).map(Vec::as_slice).collect();
    if 2 + rest.len() > args::MAX_ALL_ARGS {
        return Err(crate::error::Error::TooManyArguments.message());
    }
    let (_, call) = args::all_call(names.len().to_string().as_bytes(), &rest).map_err(|e| e.message())?;
    // The library has no CONCURRENT specs yet: every spec here is a rate limit.
    let limits = call
        .specs
        .iter()
        .zip(founds)
        .map(|(spec, found)| match spec {
            AllSpec::Rate(spec) => Ok(Limit::Rate { call: Call { spec: *spec, request: call.request }, found: *found }),
            AllSpec::Concurrent(_) => Err("ERR unknown algorithm 'CONCURRENT'".to_owned()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = limiter::evaluate_all(limits, now).map_err(|e| e.message())?;
    Ok((out.reply.to_vec(), out.writes.iter().map(|(i, w)| (*i, from_rust(w))).collect()))
}

/// Counts of what the comparisons saw.
#[derive(Debug, Default)]
struct Tally {
    same_reply: u64,
    same_error: u64,
    writes: u64,
    range: u64,
}

impl Tally {
    /// Asserts the library answered as the module, or (only where `big` allows) its range error.
    fn check(&mut self, module: &Answer, library: &Answer, big: bool, what: &dyn Fn() -> String) {
        match (module, library) {
            (_, Err(e)) if e.starts_with(RANGE) => {
                assert!(big, "range error on small numbers: {}\nmodule: {module:?}", what());
                self.range += 1;
            }
            (Ok((mr, mw)), Ok((lr, lw))) => {
                assert_eq!((mr, mw), (lr, lw), "{}", what());
                self.same_reply += 1;
                self.writes += mw.len() as u64;
            }
            (Err(me), Err(le)) => {
                assert_eq!(me, le, "{}", what());
                self.same_error += 1;
            }
            _ => panic!("module {module:?}\nlibrary {library:?}\n{}", what()),
        }
    }
}

fn duration_words(ms: u64, rng: &mut Rng) -> String {
    let units = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")];
    match rng.range(0, 3) {
        0 => format!("{ms}ms"),
        1 => units
            .iter()
            .find(|(scale, _)| ms.is_multiple_of(*scale))
            .map_or(ms.to_string(), |(scale, u)| format!("{}{}", ms / scale, if rng.chance(2) { u.to_uppercase() } else { u.to_string() })),
        _ => ms.to_string(),
    }
}

fn any_case(word: &str, rng: &mut Rng) -> String {
    word.chars().map(|c| if rng.chance(2) { c.to_ascii_lowercase() } else { c }).collect()
}

fn spec_words(spec: &Spec, rng: &mut Rng) -> Vec<String> {
    match spec {
        Spec::Fixed(p) | Spec::Sliding(p) | Spec::Log(p) => vec![p.limit.to_string(), duration_words(p.window, rng)],
        Spec::Token(p) | Spec::Leaky(p) => vec![p.capacity.to_string(), p.rate.to_string(), duration_words(p.period, rng)],
    }
}

fn option_words(req: &Request, rng: &mut Rng) -> Vec<String> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    match req.mode {
        Mode::Refund => groups.push(vec![any_case("REFUND", rng), req.cost.to_string()]),
        Mode::Force | Mode::Take => {
            if req.cost != 1 || rng.chance(3) {
                groups.push(vec![any_case("COST", rng), req.cost.to_string()]);
            }
            if req.mode == Mode::Force {
                groups.push(vec![any_case("FORCE", rng)]);
            }
            if req.peek {
                groups.push(vec![any_case("PEEK", rng)]);
            }
        }
    }
    if groups.len() > 1 && rng.chance(2) {
        groups.reverse();
    }
    groups.concat()
}

fn random_request(rng: &mut Rng, limit: u64) -> Request {
    let cost = if rng.chance(5) { rng.range(1, limit.saturating_add(2)) } else { rng.range(1, 3) };
    match rng.range(0, 9) {
        0 => Request { cost, peek: false, mode: Mode::Refund },
        1 => Request { cost, peek: false, mode: Mode::Force },
        2 | 3 => Request::take(cost, true),
        _ => Request::take(cost, false),
    }
}

fn limit_of(spec: &Spec) -> u64 {
    match spec {
        Spec::Fixed(p) | Spec::Sliding(p) | Spec::Log(p) => p.limit,
        Spec::Token(p) | Spec::Leaky(p) => p.capacity,
    }
}

/// Whether a call's numbers, or the products the algorithms form of them, come near 2^53: only
/// there may the library answer its range error. (RL.LEAKY keeps `now * rate`: with today's
/// clock, rates above about 5,000 per period are out of the library's range.)
fn near_the_range(words: &[Vec<u8>], kind: Algorithm, now: Millis) -> bool {
    let args: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
    let Ok(call) = args::parse(kind, &args) else { return words.iter().any(|w| w.len() >= 16) };
    let near = |v: u128| v >= 1 << 51;
    let cost = u128::from(call.request.cost);
    near(cost)
        || match call.spec {
            Spec::Fixed(p) | Spec::Log(p) => near(p.limit.into()) || near(p.window.into()),
            Spec::Sliding(p) => near(u128::from(p.limit) * u128::from(p.window)) || near(cost * u128::from(p.window)),
            Spec::Token(p) => near(u128::from(p.capacity.max(call.request.cost)) * u128::from(p.period)) || near(p.rate.into()),
            Spec::Leaky(p) => {
                near(u128::from(p.capacity.max(call.request.cost)) * u128::from(p.period)) || near(u128::from(now) * u128::from(p.rate))
            }
        }
}

fn words(list: Vec<String>) -> Vec<Vec<u8>> {
    list.into_iter().map(String::into_bytes).collect()
}

/// Hand-written or damaged values: another command's state, a mutation of the current bytes,
/// text. Stored without TTL half the time.
fn hostile_value(rng: &mut Rng, current: Option<&[u8]>) -> Vec<u8> {
    let mut v = match (rng.range(0, 6), current) {
        (0, _) => b"12".to_vec(),
        (1, _) => {
            codec::token::encode(&TokenState { period: rng.range(1, 5000), at: rng.range(0, 1 << 41), owed: rng.range(0, 1 << 20).into() })
                .as_slice()
                .to_vec()
        }
        (2, _) => b"hello".to_vec(),
        (3, _) => {
            codec::sliding::encode(&SlidingState { window: rng.range(1, 5000), start: 0, prev: rng.range(0, 9), cur: rng.range(0, 9) })
                .as_slice()
                .to_vec()
        }
        (_, Some(bytes)) if !bytes.is_empty() => bytes.to_vec(),
        _ => vec![b'L', b':'],
    };
    // Mutate a byte or two, cut, or extend.
    for _ in 0..rng.range(0, 2) {
        match rng.range(0, 3) {
            0 if !v.is_empty() => {
                let i = rng.range(0, v.len() as u64 - 1) as usize;
                v[i] = rng.next_u64() as u8;
            }
            1 if !v.is_empty() => v.truncate(rng.range(0, v.len() as u64 - 1) as usize),
            2 => v.push(rng.next_u64() as u8),
            _ => v.push(b'0'),
        }
    }
    v
}

/// Sequences of calls on one key with realistic numbers: limits up and down, windows and
/// periods growing and shrinking, COST, PEEK, REFUND and FORCE after each change, the clock
/// stepping back, and now and then a hand-written or damaged value. Every call must match
/// exactly, errors included: no range error is allowed here.
#[test]
fn differential_sequences_match_the_module_exactly() {
    let pure = Pure::new();
    let mut rng = Rng::new(0xD1FF);
    let mut tally = Tally::default();
    let cases = std::env::var("RL_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    for case in 0..cases {
        let mut spec = random_spec(&mut rng, 50, 5000);
        let mut key = RedisKey::default();
        let mut now: Millis = 1_700_000_000_000 + rng.range(0, 1 << 36);
        // A hand-written value may hold any number (a log keeps its entries through rewrites):
        // a range error is allowed until the key is gone.
        let mut hostile = false;
        for step in 0..60 {
            if rng.chance(6) {
                spec = change(spec, &mut rng);
            }
            if rng.chance(40) {
                let current = key.0.as_ref().map(|(b, _)| b.clone());
                let ttl = if rng.chance(2) { None } else { Some(now + rng.range(1, 10_000)) };
                key.0 = Some((hostile_value(&mut rng, current.as_deref()), ttl));
                hostile = true;
            }
            now = match rng.range(0, 19) {
                0 => now.saturating_sub(rng.range(0, 5000)),
                1 => now + rng.range(0, 20_000_000),
                _ => now + rng.range(0, 300),
            };
            let req = random_request(&mut rng, limit_of(&spec));
            let w = words([spec_words(&spec, &mut rng), option_words(&req, &mut rng)].concat());
            let found = key.found(now);
            hostile &= found.is_some();
            let module = rust_single(spec.algorithm(), &w, found, now);
            let library = pure.single(spec.algorithm(), &w, found, now);
            tally.check(&module, &library, hostile || near_the_range(&w, spec.algorithm(), now), &|| {
                format!("case {case} step {step} {spec:?} {:?} at {now}", String::from_utf8_lossy(&w.concat()))
            });
            if let Ok((_, writes)) = &module {
                for (_, write) in writes {
                    apply(&mut key, write);
                }
            }
        }
    }
    eprintln!("differential sequences: {tally:?}");
    assert!(tally.same_reply > 50_000 && tally.writes > 20_000 && tally.same_error > 100, "coverage: {tally:?}");
}

/// A value near 2^53: just below, at, or past it.
fn near_2_53(rng: &mut Rng) -> u64 {
    let base: u64 = 1 << 53;
    match rng.range(0, 5) {
        0 => base - rng.range(1, 1000),
        1 => base + rng.range(0, 1000),
        2 => rng.range(1 << 40, 1 << 56),
        3 => rng.range(1, 100),
        _ => base / rng.range(1, 1 << 20),
    }
}

/// Numbers near 2^53 in the arguments and the stored state: the library answers as the module
/// or with its range error, never another reply.
#[test]
fn differential_near_2_53_is_exact_or_a_range_error() {
    let pure = Pure::new();
    let mut rng = Rng::new(0x2_53);
    let mut tally = Tally::default();
    for case in 0..40_000 {
        let now: Millis = 1_700_000_000_000 + rng.range(0, 1 << 36);
        let w = WindowParams { limit: near_2_53(&mut rng), window: near_2_53(&mut rng).clamp(1, i64::MAX as u64) };
        let t = TokenParams { capacity: near_2_53(&mut rng), rate: near_2_53(&mut rng), period: near_2_53(&mut rng).max(1) };
        let spec = match rng.range(0, 4) {
            0 => Spec::Fixed(w),
            1 => Spec::Sliding(w),
            2 => Spec::Log(w),
            3 => Spec::Token(t),
            _ => Spec::Leaky(t),
        };
        let stored: Option<Vec<u8>> = match (spec.algorithm(), rng.range(0, 3)) {
            (_, 0) => None,
            (Algorithm::Fixed, _) => Some(near_2_53(&mut rng).to_string().into_bytes()),
            (Algorithm::Sliding, _) => {
                let window = near_2_53(&mut rng).max(1);
                let start = now - now % window;
                Some(
                    codec::sliding::encode(&SlidingState { window, start, prev: near_2_53(&mut rng), cur: near_2_53(&mut rng) })
                        .as_slice()
                        .to_vec(),
                )
            }
            (Algorithm::Token, _) => Some(
                codec::token::encode(&TokenState {
                    period: near_2_53(&mut rng).max(1),
                    at: now - rng.range(0, 1000),
                    owed: near_2_53(&mut rng).into(),
                })
                .as_slice()
                .to_vec(),
            ),
            (Algorithm::Leaky, _) => {
                let rate = rng.range(1, 6000);
                Some(
                    codec::leaky::encode(&LeakyState {
                        rate,
                        drain: u128::from(now) * u128::from(rate) + u128::from(near_2_53(&mut rng) % 100_000),
                    })
                    .as_slice()
                    .to_vec(),
                )
            }
            _ => {
                // A log written by the module's own core with big units.
                let mut key = RedisKey::default();
                let call = crate::args::Call {
                    spec,
                    request: Request { cost: near_2_53(&mut rng).min(i64::MAX as u64), peek: false, mode: Mode::Force },
                };
                if let Ok(out) = limiter::evaluate(&call, None, now - 1) {
                    key.apply(out.write.as_ref().expect("a write"));
                }
                key.0.map(|(b, _)| b)
            }
        };
        let mut key = RedisKey(stored.map(|b| (b, Some(now + rng.range(1, 1 << 40)))));
        let bound = near_2_53(&mut rng);
        let req = random_request(&mut rng, bound);
        let words = words([spec_words(&spec, &mut rng), option_words(&req, &mut rng)].concat());
        let found = key.found(now);
        let module = rust_single(spec.algorithm(), &words, found, now);
        let library = pure.single(spec.algorithm(), &words, found, now);
        tally.check(&module, &library, true, &|| format!("case {case} {spec:?} {req:?} at {now} found {found:?}"));
    }
    eprintln!("differential near 2^53: {tally:?}");
    assert!(tally.range > 1000 && tally.same_reply > 1000, "coverage: {tally:?}");
}

/// Arguments from a hostile vocabulary: every parse error comes out word for word.
#[test]
fn differential_arguments_give_the_same_errors() {
    let pure = Pure::new();
    let mut rng = Rng::new(0xA265);
    let mut tally = Tally::default();
    let vocabulary: Vec<Vec<u8>> = [
        "10",
        "0",
        "-1",
        "1.5",
        "abc",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "340282366920938463463374607431768211455",
        "340282366920938463463374607431768211456",
        "0000000000000000000000000000000000000007",
        "00000000000000000000000000000000000000007",
        "1500ms",
        "1500MS",
        "60s",
        "2m",
        "1H",
        "1d",
        "0s",
        "5x",
        "5sm",
        "s",
        "",
        "106751991167d",
        "106751991168d",
        "9223372036854775s",
        "9223372036854776s",
        "COST",
        "cost",
        "PEEK",
        "peek",
        "FORCE",
        "REFUND",
        "refund",
        "FOO",
        "9007199254740991",
        "9007199254740992",
        "9007199254740993",
        "FIXED",
        "token",
        "Leaky",
        "BUCKET",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([
        b"a\r\nb\0c".to_vec(),
        vec![0xff, 0xfe, b'x'],
        "héllo\u{85}✓".as_bytes().to_vec(),
        vec![b'y'; 100],
        vec![0xe0, 0x80, 0xf0, 0x90, 0x80],
    ])
    .collect();
    let kinds = Algorithm::ALL;
    for case in 0..30_000 {
        let n = rng.range(0, 8) as usize;
        let mut w: Vec<Vec<u8>> = (0..n).map(|_| vocabulary[rng.range(0, vocabulary.len() as u64 - 1) as usize].clone()).collect();
        if rng.chance(2) && w.len() >= 2 {
            w[0] = rng.range(1, 100).to_string().into_bytes();
            w[1] = duration_words(rng.range(1, 100_000), &mut rng).into_bytes();
        }
        if rng.chance(20) {
            w.extend((0..rng.range(10, 20)).map(|_| b"PEEK".to_vec()));
        }
        let kind = kinds[rng.range(0, 4) as usize];
        let big = near_the_range(&w, kind, 1_700_000_000_000);
        let module = rust_single(kind, &w, None, 1_700_000_000_000);
        let library = pure.single(kind, &w, None, 1_700_000_000_000);
        tally.check(&module, &library, big, &|| format!("case {case} {kind:?} {w:?}"));
        // The same words as RL.ALL specs, after 1-3 key names.
        let names: Vec<Vec<u8>> = (0..rng.range(1, 3)).map(|i| format!("k{}", if rng.chance(8) { 0 } else { i }).into_bytes()).collect();
        let mut all = w.clone();
        if rng.chance(2) {
            all.insert(0, any_case("FIXED", &mut rng).into_bytes());
        }
        let big = big
            || all.iter().any(|a| a.len() >= 16)
            || all.windows(4).any(|s| near_the_range(&s[1..], Algorithm::Leaky, 1_700_000_000_000));
        let module = rust_all(&names, &all, &vec![None; names.len()], 1_700_000_000_000);
        let library = pure.all(&names, &all, &vec![None; names.len()], 1_700_000_000_000);
        tally.check(&module, &library, big, &|| format!("case {case} RL.ALL {names:?} {all:?}"));
    }
    eprintln!("differential arguments: {tally:?}");
    assert!(tally.same_error > 20_000 && tally.same_reply > 1000, "coverage: {tally:?}");
}

/// RL.ALL over 1-4 keys with states from earlier calls: same six integers, same writes.
#[test]
fn differential_all_matches_the_module() {
    let pure = Pure::new();
    let mut rng = Rng::new(0xA11A);
    let mut tally = Tally::default();
    for case in 0..300 {
        let specs: Vec<Spec> = (0..rng.range(1, 4)).map(|_| random_spec(&mut rng, 12, 2000)).collect();
        let names: Vec<Vec<u8>> = (0..specs.len()).map(|i| format!("{{t}}:{i}").into_bytes()).collect();
        let mut keys = vec![RedisKey::default(); specs.len()];
        let mut now: Millis = 1_700_000_000_000 + rng.range(0, 1 << 36);
        for step in 0..80 {
            now = if rng.chance(15) { now.saturating_sub(rng.range(0, 500)) } else { now + rng.range(0, 200) };
            let req = Request::take(rng.range(1, 5), rng.chance(6));
            let mut w: Vec<String> = Vec::new();
            for s in &specs {
                w.push(any_case(&String::from_utf8_lossy(Command::of(s.algorithm()).spec_word()), &mut rng));
                w.extend(spec_words(s, &mut rng));
            }
            w.extend(option_words(&req, &mut rng));
            let w = words(w);
            let founds: Vec<Option<Found<'_>>> = keys.iter_mut().map(|k| k.found(now)).collect();
            let module = rust_all(&names, &w, &founds, now);
            let library = pure.all(&names, &w, &founds, now);
            tally.check(&module, &library, false, &|| format!("case {case} step {step} {specs:?} at {now}"));
            drop(founds);
            if let Ok((_, writes)) = &module {
                for (i, write) in writes {
                    apply(&mut keys[*i], write);
                }
            }
        }
    }
    eprintln!("differential RL.ALL: {tally:?}");
    assert!(tally.same_reply > 20_000 && tally.writes > 5_000, "coverage: {tally:?}");
}

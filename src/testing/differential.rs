//! The script library (`functions/ratelimit.lua`) against the module's core: its pure part
//! runs in Lua 5.1 (mlua, the version Redis embeds) on the same random inputs as
//! `args::parse` and `limiter::evaluate`, and must give the same reply, the same write
//! (bytes, offset, expiry) and the same error, or, where a number passes 2^53-1, its range
//! error. Also: the EVALSHA script is the library with another tail.

use mlua::{Function, Lua, Table, Value};

use super::script::{self, library_body};
use super::transitions::change;
use crate::algo::concurrent::{Holder, LeaseSummary, PRUNE_ALL};
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
use crate::testing::{random_spec, RedisKey, RedisSortedSet};

const RANGE: &str = "ERR a number of this call or of the stored state is beyond 2^53-1";

/// The library's pure part in a Lua 5.1 interpreter.
struct Pure {
    lua: Lua,
    parse: Function,
    parse_all: Function,
    evaluate: Function,
    evaluate_all: Function,
    parse_concurrent: Function,
    evaluate_concurrent: Function,
    /// `ranks(flat, reads)`: a stand-in for ZRANGE key a b WITHSCORES over `flat` (member,
    /// score text, ... ascending), counting its calls in reads[1].
    ranks: Function,
    /// The same pure part through the EVALSHA script (functions/ratelimit-script.lua, its
    /// names defined lazily): every call runs there too and must answer the same.
    script: Option<Box<Pure>>,
}

/// A write, from either side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum W {
    Value(Vec<u8>, i64),
    Range(usize, Vec<u8>, Option<i64>),
    /// RL.CONCURRENT's change, in the order it is applied: `ZREMRANGEBYSCORE key -inf prune`
    /// (-1, PRUNE_ALL as a signed integer: `-inf +inf`),
    /// `ZADD key t id` (holder Some(t)) or `ZREM key id` (None), `PEXPIREAT key expire_at` if
    /// it moves.
    Leases {
        prune: Option<i64>,
        holder: Option<i64>,
        expire_at: Option<i64>,
        moves: bool,
    },
}

fn from_rust(w: &Write) -> W {
    match w {
        Write::Value { bytes, expire_at } => W::Value(bytes.as_slice().to_vec(), *expire_at as i64),
        Write::Range { offset, bytes, expire_at } => W::Range(*offset, bytes.as_slice().to_vec(), expire_at.map(|a| a as i64)),
        Write::Leases { change, .. } => W::Leases {
            prune: change.prune_through.map(|t| t as i64),
            holder: match change.holder {
                Holder::Set(at) => Some(at as i64),
                Holder::Remove => None,
            },
            expire_at: change.expire_at.map(|t| t as i64),
            moves: change.expire_moves,
        },
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
        W::Leases { .. } => panic!("a sorted set's write on a string key: {w:?}"),
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
        let mut library = Pure::load(format!("{}\nreturn PURE\n", library_body()));
        library.script = Some(Box::new(Pure::load(format!("{}return LIB.PURE\n", script::generated().0))));
        library
    }

    fn load(chunk: String) -> Pure {
        let lua = Lua::new();
        let pure: Table = lua.load(chunk).set_name("ratelimit").eval().expect("the library loads");
        let get = |name: &str| pure.get::<Function>(name).expect("a pure function");
        let ranks = lua
            .load(
                r#"return function(flat, reads)
                  return function(a, b)
                    assert(a >= 0 and b >= a and a == math.floor(a) and b == math.floor(b), "ZRANGE " .. a .. " " .. b)
                    reads[1] = reads[1] + 1
                    local out = {}
                    for r = a, b do
                      if flat[2 * r + 1] == nil then
                        break
                      end
                      out[#out + 1] = flat[2 * r + 1]
                      out[#out + 1] = flat[2 * r + 2]
                    end
                    return out
                  end
                end"#,
            )
            .eval()
            .expect("the ZRANGE stand-in");
        Pure {
            parse: get("parse"),
            parse_all: get("parse_all"),
            evaluate: get("evaluate"),
            evaluate_all: get("evaluate_all"),
            parse_concurrent: get("parse_concurrent"),
            evaluate_concurrent: get("evaluate_concurrent"),
            ranks,
            lua,
            script: None,
        }
    }

    /// `answer` from the library, checked against the script's.
    fn same(&self, answer: Answer, script: impl FnOnce(&Pure) -> Answer) -> Answer {
        if let Some(other) = &self.script {
            assert_eq!(script(other), answer, "the EVALSHA script answers otherwise than the library");
        }
        answer
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
        self.same(self.single_here(kind, words, found, now), |s| s.single_here(kind, words, found, now))
    }

    fn single_here(&self, kind: Algorithm, words: &[Vec<u8>], found: Option<Found<'_>>, now: Millis) -> Answer {
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

    /// RL.ALL in the library: parse_all, then evaluate_all on the strings (`founds`, by key
    /// position) and, for a CONCURRENT spec, on `set` (empty: no sorted set).
    fn all(&self, names: &[Vec<u8>], words: &[Vec<u8>], founds: &[Option<Found<'_>>], set: &Zset, now: Millis) -> Answer {
        self.same(self.all_here(names, words, founds, set, now), |s| s.all_here(names, words, founds, set, now))
    }

    fn all_here(&self, names: &[Vec<u8>], words: &[Vec<u8>], founds: &[Option<Found<'_>>], set: &Zset, now: Millis) -> Answer {
        let (err, call): (Option<mlua::String>, Value) =
            self.parse_all.call((names.len(), self.strings(names), self.strings(words))).expect("parse_all runs");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        let Value::Table(call) = call else { panic!("no call") };
        let specs: Table = call.get("specs").expect("specs");
        let id: Option<mlua::String> = call.get("id").expect("an id or nil");
        let t = self.lua.create_table().expect("a table");
        for (i, f) in founds.iter().enumerate() {
            let spec: Table = specs.get(i + 1).expect("a spec per key");
            if spec.get::<String>("kind").expect("a kind") == "RL.CONCURRENT" {
                let id = id.as_ref().map(|id| id.as_bytes().to_vec()).unwrap_or_default();
                let (found, ranks, _) = self.lease_read(set, &id);
                let lease = self.lua.create_table().expect("a table");
                lease.set("leases", if found.is_nil() { Value::Boolean(false) } else { found }).expect("set");
                lease.set("ranks", ranks).expect("set");
                t.set(i + 1, lease).expect("set");
            } else {
                t.set(i + 1, self.found(*f)).expect("set");
            }
        }
        let (err, reply, writes): (Option<mlua::String>, Value, Value) =
            self.evaluate_all.call((specs, t, now as f64, call.get::<Value>("request").expect("request"), id)).expect("evaluate_all runs");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        let Value::Table(writes) = writes else { panic!("no writes") };
        let writes = writes
            .sequence_values::<Value>()
            .map(|w| {
                let w = w.expect("a write");
                let Value::Table(t) = &w else { panic!("a write table") };
                let index = int(&t.get("index").expect("index")) as usize - 1;
                let leases: Value = t.get("leases").expect("leases");
                (index, Pure::lease_change(&leases).or_else(|| Pure::write(&w)).expect("a write"))
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

/// RL.ALL in the module: args::all_call, then limiter::evaluate_all on the strings (`founds`,
/// by key position) and, for a CONCURRENT spec, on `set` read as the module reads it (empty:
/// no sorted set).
fn rust_all(names: &[Vec<u8>], words: &[Vec<u8>], founds: &[Option<Found<'_>>], set: &Zset, now: Millis) -> Answer {
    let rest: Vec<&[u8]> = names.iter().chain(words).map(Vec::as_slice).collect();
    if 2 + rest.len() > args::MAX_ALL_ARGS {
        return Err(crate::error::Error::TooManyArguments.message());
    }
    let (_, call) = args::all_call(names.len().to_string().as_bytes(), &rest).map_err(|e| e.message())?;
    let id = call.id.as_deref().unwrap_or_default();
    let action = if call.request.peek { crate::algo::concurrent::Action::Peek } else { crate::algo::concurrent::Action::Acquire };
    let mut limits = Vec::new();
    for (spec, found) in call.specs.iter().zip(founds) {
        limits.push(match spec {
            AllSpec::Rate(spec) => Limit::Rate { call: Call { spec: *spec, request: call.request }, found: *found },
            AllSpec::Concurrent(params) => Limit::Concurrent {
                call: args::ConcurrentCall { params: *params, action },
                id,
                leases: module_read(set, id)?,
                expiries: Box::new(set.members.iter().map(|(s, _)| codec::leases::expiry(*s))),
            },
        });
    }
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
        "CONCURRENT",
        "ID",
        "id",
        "RELEASE",
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
        let module = rust_all(&names, &all, &vec![None; names.len()], &Zset::default(), 1_700_000_000_000);
        let library = pure.all(&names, &all, &vec![None; names.len()], &Zset::default(), 1_700_000_000_000);
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
            let module = rust_all(&names, &w, &founds, &Zset::default(), now);
            let library = pure.all(&names, &w, &founds, &Zset::default(), now);
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

// ------------------------------------------------------------------------------ RL.CONCURRENT

/// A sorted set as Redis keeps it, any double a score (a set written by hand may hold
/// fractions, negatives, infinities): (score, member) ascending, as Redis orders them, and the
/// key's expiry.
#[derive(Debug, Clone, Default, PartialEq)]
struct Zset {
    members: Vec<(f64, Vec<u8>)>,
    expire_at: Option<Millis>,
}

impl Zset {
    fn new(members: impl IntoIterator<Item = (f64, Vec<u8>)>, expire_at: Option<Millis>) -> Zset {
        let mut set = Zset { members: Vec::new(), expire_at };
        for (score, member) in members {
            set.insert(score, member);
        }
        if set.members.is_empty() {
            set.expire_at = None;
        }
        set
    }

    fn insert(&mut self, score: f64, member: Vec<u8>) {
        self.members.retain(|(_, m)| *m != member);
        let at = self.members.partition_point(|(s, m)| (*s, m.as_slice()) < (score, member.as_slice()));
        self.members.insert(at, (score, member));
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        self.members.iter().find(|(_, m)| m == member).map(|(s, _)| *s)
    }

    /// As Redis hands the key out at `now`: gone once the clock is past its expiry.
    fn at(&mut self, now: Millis) {
        if self.expire_at.is_some_and(|at| now > at) {
            *self = Zset::default();
        }
    }

    /// What `ZREMRANGEBYSCORE key -inf t`, `ZADD key t id` or `ZREM key id`, and `PEXPIREAT`
    /// leave: an emptied set is a deleted key, its expiry gone with it.
    fn apply(&mut self, id: &[u8], w: &W) {
        let W::Leases { prune, holder, expire_at, moves } = w else { panic!("a string's write on a sorted set: {w:?}") };
        if let Some(through) = prune {
            // -1: PRUNE_ALL (Millis::MAX), every member (`-inf +inf`).
            let bound = if *through == PRUNE_ALL as i64 { f64::INFINITY } else { *through as f64 };
            self.members.retain(|(s, _)| *s > bound);
            if self.members.is_empty() {
                self.expire_at = None;
            }
        }
        match holder {
            Some(at) => self.insert(*at as f64, id.to_vec()),
            None => self.members.retain(|(_, m)| m != id),
        }
        if self.members.is_empty() {
            *self = Zset::default();
        } else if let (Some(at), true) = (expire_at, moves) {
            self.expire_at = Some(*at as Millis);
        }
    }

    /// `testing::RedisSortedSet`'s view of the same set (every score a lease's expiry).
    fn sim(&self) -> RedisSortedSet {
        let members = self.members.iter().map(|(s, m)| (m.clone(), codec::leases::expiry(*s).expect("a lease's score"))).collect();
        RedisSortedSet { members, expire_at: self.expire_at }
    }
}

/// A score as Redis hands it to Lua (`d2string`): `inf`, `-inf`, `-0`, a whole number below
/// 2^52 in digits, else `%.17g`; here the shortest text that reads back as the same double,
/// which is all `%.17g` promises too.
fn redis_score(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    if v.fract() == 0.0 && v.abs() < 4_503_599_627_370_496.0 {
        return format!("{}", v as i64);
    }
    format!("{v:e}")
}

/// The module: the handler's count of words, `args::parse_concurrent`, the set read as
/// `src/redis/leases.rs` reads it (the caller's score, then the latest other one: the last
/// member, or the one before it when the last is the caller's; each checked; the walk checks
/// each score it reaches), then `limiter::evaluate_concurrent`.
fn rust_concurrent(words: &[Vec<u8>], set: &Zset, now: Millis) -> Answer {
    let args: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
    if args.len() > 5 {
        return Err(crate::error::Error::TooManyArguments.message());
    }
    let call = args::parse_concurrent(&args).map_err(|e| e.message())?;
    let id = args[2];
    let summary = module_read(set, id)?;
    let expiries = set.members.iter().map(|(s, _)| codec::leases::expiry(*s));
    let out = limiter::evaluate_concurrent(&call, id, summary, expiries, now).map_err(|e| e.message())?;
    Ok((out.reply.to_array().to_vec(), out.write.iter().map(|w| (0, from_rust(w))).collect()))
}

/// What the module reads of a set for the holder `id` (its `read_leases`): count, the caller's
/// score and the latest other one (the last member, or the one before it when the last is the
/// caller's), each checked (None: no key).
fn module_read(set: &Zset, id: &[u8]) -> Result<Option<LeaseSummary>, String> {
    if set.members.is_empty() {
        return Ok(None);
    }
    let not_leases = |e| crate::error::Error::State(Command::Concurrent, e).message();
    let own = set.score(id).map(codec::leases::expiry).transpose().map_err(not_leases)?;
    let latest_other = set.members.iter().rev().take(2).find(|(_, m)| m.as_slice() != id).map(|(s, _)| *s);
    let latest_other = latest_other.map(codec::leases::expiry).transpose().map_err(not_leases)?;
    Ok(Some(LeaseSummary { count: set.members.len() as u64, own, latest_other, expire_at: set.expire_at }))
}

impl Pure {
    /// The library's pure part on what its Redis part reads: ZCARD, ZSCORE key id, ZRANGE key
    /// -2 -1 WITHSCORES, the key's expiry, and ZRANGE key a b WITHSCORES as the walk asks
    /// (counted in `reads`).
    fn concurrent(&self, words: &[Vec<u8>], set: &Zset, now: Millis, reads: &mut i64) -> Answer {
        let answer = self.concurrent_here(words, set, now, reads);
        self.same(answer, |s| s.concurrent_here(words, set, now, &mut 0))
    }

    fn concurrent_here(&self, words: &[Vec<u8>], set: &Zset, now: Millis, reads: &mut i64) -> Answer {
        let (err, call): (Option<mlua::String>, Value) = self.parse_concurrent.call(self.strings(words)).expect("parse runs");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        let id = &words[2];
        let (found, ranks, counter) = self.lease_read(set, id);
        let text = |b: &[u8]| self.lua.create_string(b).expect("a string");
        let (err, reply, change): (Option<mlua::String>, Value, Value) =
            self.evaluate_concurrent.call((call, text(id), found, ranks, now as f64)).expect("evaluate runs");
        *reads += counter.get::<i64>(1).expect("the count");
        if let Some(e) = err {
            return Err(e.to_string_lossy());
        }
        let Value::Table(reply) = reply else { panic!("no reply: {reply:?}") };
        let reply = reply.sequence_values::<Value>().map(|v| int(&v.expect("a value"))).collect();
        Ok((reply, Pure::lease_change(&change).map(|w| (0, w)).into_iter().collect()))
    }

    /// What the library's Redis part reads of `set` for the holder `id`: the found table (nil:
    /// no key), the `ranks(a, b)` reader, and the counter of its calls.
    fn lease_read(&self, set: &Zset, id: &[u8]) -> (Value, Function, Table) {
        let text = |b: &[u8]| self.lua.create_string(b).expect("a string");
        let flat = |members: &[(f64, Vec<u8>)]| {
            let t = self.lua.create_table().expect("a table");
            for (i, (s, m)) in members.iter().enumerate() {
                t.set(2 * i + 1, text(m)).expect("set");
                t.set(2 * i + 2, text(redis_score(*s).as_bytes())).expect("set");
            }
            t
        };
        let found = if set.members.is_empty() {
            Value::Nil
        } else {
            let t = self.lua.create_table().expect("a table");
            t.set("count", set.members.len()).expect("set");
            if let Some(s) = set.score(id) {
                t.set("own", text(redis_score(s).as_bytes())).expect("set");
            }
            t.set("top", flat(&set.members[set.members.len().saturating_sub(2)..])).expect("set");
            if let Some(at) = set.expire_at {
                t.set("expire_at", at as f64).expect("set");
            }
            Value::Table(t)
        };
        let counter = self.lua.create_sequence_from([0]).expect("a table");
        let ranks: Function = self.ranks.call((flat(&set.members), counter.clone())).expect("ranks");
        (found, ranks, counter)
    }

    /// A lease change as the library returns it (nil: none).
    fn lease_change(change: &Value) -> Option<W> {
        let Value::Table(t) = change else { return None };
        let at = |k: &str| t.get::<Value>(k).ok().filter(|v| !v.is_nil()).map(|v| int(&v));
        Some(W::Leases {
            prune: at("prune_through"),
            holder: at("holder_at"),
            expire_at: at("expire_at"),
            moves: t.get::<bool>("expire_moves").expect("expire_moves"),
        })
    }
}

/// RL.ALL with a CONCURRENT spec among rate limits, in the library and the module, on the same
/// keys (a sorted set for the lease, strings for the others): holders of any bytes, numbers
/// changing between calls, the clock both ways, `ID` before or after the other options. Same
/// reply, same writes (the lease's change and every string's), same errors.
#[test]
fn differential_all_with_a_lease_matches_the_module() {
    use crate::algo::concurrent::ConcurrentParams;
    let pure = Pure::new();
    let mut rng = Rng::new(0xA11C);
    let mut tally = Tally::default();
    let ids = holder_ids();
    for case in 0..300 {
        let rates: Vec<Spec> = (0..rng.range(0, 2)).map(|_| random_spec(&mut rng, 12, 2000)).collect();
        let lease_at = rng.range(0, rates.len() as u64) as usize;
        let mut params = ConcurrentParams { limit: rng.range(1, 3), lease: rng.range(1, 3000) };
        let names: Vec<Vec<u8>> = (0..=rates.len()).map(|i| format!("{{t}}:{i}").into_bytes()).collect();
        let mut set = Zset::default();
        let mut keys = vec![RedisKey::default(); rates.len() + 1];
        let mut now: Millis = 1_700_000_000_000 + rng.range(0, 1 << 36);
        for step in 0..60 {
            now = if rng.chance(15) { now.saturating_sub(rng.range(0, 500)) } else { now + rng.range(0, 300) };
            if rng.chance(20) {
                params = ConcurrentParams { limit: rng.range(1, 4), lease: rng.range(1, 3000) };
            }
            let id = &ids[rng.range(0, ids.len() as u64 - 1) as usize];
            let req = Request::take(rng.range(1, 4), rng.chance(6));
            let mut w: Vec<Vec<u8>> = Vec::new();
            let mut rate = rates.iter();
            for i in 0..=rates.len() {
                if i == lease_at {
                    w.push(any_case("CONCURRENT", &mut rng).into_bytes());
                    w.push(params.limit.to_string().into_bytes());
                    w.push(duration_words(params.lease, &mut rng).into_bytes());
                } else if let Some(s) = rate.next() {
                    w.push(any_case(&String::from_utf8_lossy(Command::of(s.algorithm()).spec_word()), &mut rng).into_bytes());
                    w.extend(words(spec_words(s, &mut rng)));
                }
            }
            let options = words(option_words(&req, &mut rng));
            let id_words = vec![any_case("ID", &mut rng).into_bytes(), id.clone()];
            if rng.chance(2) {
                w.extend(id_words.into_iter().chain(options));
            } else {
                w.extend(options.into_iter().chain(id_words));
            }
            set.at(now);
            let founds: Vec<Option<Found<'_>>> = keys.iter_mut().map(|k| k.found(now)).collect();
            let module = rust_all(&names, &w, &founds, &set, now);
            let library = pure.all(&names, &w, &founds, &set, now);
            tally.check(&module, &library, false, &|| format!("case {case} step {step} {rates:?} lease {params:?} at {lease_at}, {now}"));
            drop(founds);
            if let Ok((_, writes)) = &module {
                for (i, write) in writes {
                    if *i == lease_at {
                        set.apply(id, write);
                    } else {
                        apply(&mut keys[*i], write);
                    }
                }
            }
        }
    }
    eprintln!("differential RL.ALL with a lease: {tally:?}");
    assert!(tally.same_reply > 15_000 && tally.writes > 5_000, "coverage: {tally:?}");
}

/// The change as the `Write::Leases` the module applies (for `testing::RedisSortedSet`).
fn lease_write(id: &[u8], w: &W) -> Write {
    let W::Leases { prune, holder, expire_at, moves } = w else { panic!("not a lease change: {w:?}") };
    let mut bytes = codec::Buf::default();
    bytes.extend(id);
    Write::Leases {
        id: bytes,
        change: crate::algo::concurrent::LeaseChange {
            prune_through: prune.map(|t| t as Millis),
            holder: holder.map_or(Holder::Remove, |at| Holder::Set(at as Millis)),
            expire_at: expire_at.map(|t| t as Millis),
            expire_moves: *moves,
        },
    }
}

/// Holders: text and any bytes, from 1 to 256 of them.
fn holder_ids() -> Vec<Vec<u8>> {
    vec![b"req-1".to_vec(), b"req-2".to_vec(), b"w".to_vec(), vec![0, 255, b'\r', b'\n', 0xc3], vec![b'x'; 256], b"NX".to_vec()]
}

fn concurrent_words(limit: u64, lease: u64, id: &[u8], option: Option<&str>, rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut w = vec![limit.to_string().into_bytes(), duration_words(lease, rng).into_bytes(), id.to_vec()];
    w.extend(option.map(|o| any_case(o, rng).into_bytes()));
    w
}

const BAD_NUMBERS: [&str; 16] = [
    "0",
    "-1",
    "1.5",
    "abc",
    "",
    "9223372036854775807",
    "9223372036854775808",
    "9007199254740991",
    "9007199254740992",
    "9007199254740993",
    "0s",
    "5x",
    "1H",
    "106751991168d",
    "340282366920938463463374607431768211456",
    "0000000000000000000000000000000000000007",
];

/// A call's words made hostile: a bad number, an id of 0 or 257 bytes, an option of the other
/// commands, a repeated or conflicting option, an unknown one, too few or too many words.
fn hostile_words(mut w: Vec<Vec<u8>>, rng: &mut Rng) -> Vec<Vec<u8>> {
    let pick = |rng: &mut Rng, list: &[&str]| list[rng.range(0, list.len() as u64 - 1) as usize].as_bytes().to_vec();
    match rng.range(0, 9) {
        0 => w[0] = pick(rng, &BAD_NUMBERS),
        1 => w[1] = pick(rng, &BAD_NUMBERS),
        2 => w[2] = Vec::new(),
        3 => w[2] = vec![b'z'; 257],
        4 => {
            w.push(any_case(["COST", "REFUND", "FORCE"][rng.range(0, 2) as usize], rng).into_bytes());
            if rng.chance(2) {
                w.push(b"2".to_vec());
            }
        }
        5 => {
            let o = ["PEEK", "RELEASE"][rng.range(0, 1) as usize];
            w.push(any_case(o, rng).into_bytes());
            w.push(any_case(o, rng).into_bytes());
        }
        6 => w.truncate(rng.range(0, 2) as usize),
        7 => w.extend((0..rng.range(1, 3)).map(|_| pick(rng, &["PEEK", "release", "COST", "1", "NOW", "FORCE"]))),
        _ => w.push([b"a\r\nb\0c".to_vec(), b"PEEKS".to_vec(), vec![0xff, 0xfe], b"COSTS".to_vec()][rng.range(0, 3) as usize].clone()),
    }
    w
}

/// A set written by hand: scores that are leases' expiries around `now`, and ones that are not
/// (fractions, negatives, -0, 2^53 and past it, 1e300, infinities), a member or two of the
/// holders, with or without a TTL (one that has come, is now, or is ahead).
fn hostile_set(rng: &mut Rng, now: Millis, ids: &[Vec<u8>]) -> Zset {
    let t = now as f64;
    let scores = [
        t - 1000.0,
        t - 1.0,
        t,
        t + 1.0,
        t + 500.0,
        t + 20_000.0,
        t + 0.5,
        t - 0.5,
        0.5,
        -1.0,
        -0.0,
        0.0,
        9_007_199_254_740_992.0,
        9_007_199_254_740_994.0,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let valid = rng.chance(2);
    let members = (0..rng.range(1, 5)).map(|i| {
        let score = if valid { scores[rng.range(0, 5) as usize] } else { scores[rng.range(0, scores.len() as u64 - 1) as usize] };
        let member = if rng.chance(2) { ids[rng.range(0, ids.len() as u64 - 1) as usize].clone() } else { format!("lb:{i}").into_bytes() };
        (score, member)
    });
    let members: Vec<(f64, Vec<u8>)> = members.collect();
    let ttl = match rng.range(0, 5) {
        0 | 1 => None,
        2 => Some(now),
        3 => Some(now + 1),
        4 => Some(now.saturating_sub(1)),
        _ => Some(now + rng.range(1, 30_000)),
    };
    Zset::new(members, ttl)
}

/// Whether the words parse with a limit the library cannot hold exactly (2^53 or more): only
/// then may it answer its range error.
fn concurrent_big(words: &[Vec<u8>]) -> bool {
    let args: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
    args.len() <= 5 && args::parse_concurrent(&args).is_ok_and(|c| c.params.limit >= 1 << 53)
}

/// Sequences of acquire, PEEK and RELEASE by several holders on one sorted set, with the limit
/// and the lease changing between calls (limits up to 2^63-1, leases up to 2^63-1 ms), the
/// clock stepping both ways and landing on a lease's or the key's expiry, now and then hostile
/// words or a set written by hand. Every call must match: reply, change (prune time, holder
/// set or removed with its expiry, key expiry and whether it moves), error; the range error
/// only for a limit from 2^53. While every score is a lease's, the set is also kept as a
/// `testing::RedisSortedSet`, whose reads and writes must agree with this one's.
#[test]
fn differential_concurrent_sequences_match_the_module() {
    let pure = Pure::new();
    let mut rng = Rng::new(0xC0C0);
    let mut tally = Tally::default();
    let mut reads = 0i64;
    let mut synced = 0u64;
    let ids = holder_ids();
    let cases = std::env::var("RL_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    for case in 0..cases {
        let mut set = Zset::default();
        let mut sim = Some(RedisSortedSet::default());
        let mut limit = rng.range(1, 6);
        let mut lease = rng.range(1, 3000);
        let mut now: Millis = 1_700_000_000_000 + rng.range(0, 1 << 36);
        for step in 0..60 {
            if rng.chance(8) {
                limit = match rng.range(0, 19) {
                    0 => near_2_53(&mut rng).clamp(1, i64::MAX as u64),
                    1 => i64::MAX as u64,
                    _ => rng.range(1, 8),
                };
            }
            if rng.chance(8) {
                lease = match rng.range(0, 9) {
                    0 => rng.range(1, i64::MAX as u64),
                    1 => 1,
                    _ => rng.range(1, 5000),
                };
            }
            if rng.chance(50) {
                set = hostile_set(&mut rng, now, &ids);
                sim = None;
            }
            now = match rng.range(0, 19) {
                0 => now.saturating_sub(rng.range(0, 3000)),
                1 => now + rng.range(0, 20_000),
                // On a lease's expiry, or the key's: the edges of "at or before now".
                2 | 3 => match set.members.get(rng.range(0, 4) as usize).map(|(s, _)| codec::leases::expiry(*s)) {
                    Some(Ok(at)) if at.abs_diff(now) < 100_000 => at,
                    _ => now,
                },
                4 => set.expire_at.filter(|at| at.abs_diff(now) < 100_000).unwrap_or(now),
                _ => now + rng.range(0, 300),
            };
            let id = ids[rng.range(0, ids.len() as u64 - 1) as usize].clone();
            let option = match rng.range(0, 9) {
                0 | 1 => Some("RELEASE"),
                2 => Some("PEEK"),
                _ => None,
            };
            let mut w = concurrent_words(limit, lease, &id, option, &mut rng);
            if rng.chance(12) {
                w = hostile_words(w, &mut rng);
            }
            set.at(now);
            if sim.is_none() && set.members.is_empty() {
                sim = Some(RedisSortedSet::default());
            }
            if let Some(sim) = &mut sim {
                // The same key as testing::RedisSortedSet reads it.
                let view = sim.read(&id, now);
                assert_eq!(sim.members.is_empty(), set.members.is_empty());
                if let Some((summary, expiries)) = view {
                    let own = set.score(&id).map(|s| s as Millis);
                    let latest_other = set.members.iter().rev().find(|(_, m)| *m != id).map(|(s, _)| *s as Millis);
                    assert_eq!((summary.count, summary.own, summary.latest_other), (set.members.len() as u64, own, latest_other));
                    assert_eq!(expiries, set.members.iter().map(|(s, _)| *s as Millis).collect::<Vec<_>>());
                }
            }
            let module = rust_concurrent(&w, &set, now);
            let library = pure.concurrent(&w, &set, now, &mut reads);
            tally.check(&module, &library, concurrent_big(&w), &|| {
                format!(
                    "case {case} step {step} {:?} at {now} on {set:?}",
                    w.iter().map(|x| String::from_utf8_lossy(x)).collect::<Vec<_>>()
                )
            });
            if let Ok((_, writes)) = &module {
                for (_, write) in writes {
                    set.apply(&w[2], write);
                    if let Some(sim) = &mut sim {
                        sim.apply(&lease_write(&w[2], write));
                        assert_eq!(*sim, set.sim(), "the stored set after {write:?}");
                        synced += 1;
                    }
                }
            }
        }
    }
    eprintln!("differential RL.CONCURRENT sequences: {tally:?}, {reads} ZRANGE reads of the walk, {synced} writes checked on testing::RedisSortedSet");
    assert!(
        tally.same_reply > 50_000 && tally.writes > 25_000 && tally.same_error > 3000 && tally.range > 100 && synced > 20_000,
        "coverage: {tally:?}, {synced} synced"
    );
}

/// Sets written by hand (fractional, negative, huge and infinite scores, keys without TTL or
/// with one that is now), every action, then two more calls on what the first left: the
/// library refuses exactly when the module does, with its text, and otherwise answers alike.
#[test]
fn differential_concurrent_hand_written_sets_match_the_module() {
    let pure = Pure::new();
    let mut rng = Rng::new(0x5E75);
    let mut tally = Tally::default();
    let mut reads = 0i64;
    let ids = holder_ids();
    for case in 0..20_000 {
        let mut now: Millis = 1_700_000_000_000 + rng.range(0, 1 << 36);
        let mut set = hostile_set(&mut rng, now, &ids);
        for step in 0..3 {
            let id = if rng.chance(2) && !set.members.is_empty() {
                set.members[rng.range(0, set.members.len() as u64 - 1) as usize].1.clone()
            } else {
                ids[rng.range(0, ids.len() as u64 - 1) as usize].clone()
            };
            if id.is_empty() || id.len() > 256 {
                continue;
            }
            let option = [None, Some("PEEK"), Some("RELEASE")][rng.range(0, 2) as usize];
            set.at(now);
            // Now and then a lease that ends with the key's TTL: the expiry then moves only if
            // the set was emptied (and the key with it) first.
            let lease = match set.expire_at {
                Some(at) if at > now && rng.chance(3) => at - now,
                _ => rng.range(1, 3000),
            };
            let w = concurrent_words(rng.range(1, 4), lease, &id, option, &mut rng);
            let module = rust_concurrent(&w, &set, now);
            let library = pure.concurrent(&w, &set, now, &mut reads);
            tally.check(&module, &library, false, &|| format!("case {case} step {step} {w:?} at {now} on {set:?}"));
            if let Ok((_, writes)) = &module {
                for (_, write) in writes {
                    set.apply(&w[2], write);
                }
            }
            now += rng.range(0, 600);
        }
    }
    eprintln!("differential RL.CONCURRENT hand-written sets: {tally:?}, {reads} ZRANGE reads of the walk");
    assert!(tally.same_reply > 10_000 && tally.same_error > 5_000 && tally.writes > 5_000, "coverage: {tally:?}");
}

/// Arguments from a hostile vocabulary, on an empty key and on a small set: every parse error
/// word for word, the range error only for a limit from 2^53.
#[test]
fn differential_concurrent_arguments_give_the_same_errors() {
    let pure = Pure::new();
    let mut rng = Rng::new(0xA2C0);
    let mut tally = Tally::default();
    let mut reads = 0i64;
    let vocabulary: Vec<Vec<u8>> = BAD_NUMBERS
        .iter()
        .chain(&["3", "1500ms", "60s", "2M", "1d", "PEEK", "peek", "RELEASE", "Release", "COST", "refund", "Force", "NOW", "req-1"])
        .map(|s| s.as_bytes().to_vec())
        .chain([b"a\r\nb\0c".to_vec(), vec![0xff, 0xfe, b'x'], vec![b'y'; 256], vec![b'y'; 257], "héllo\u{85}✓".as_bytes().to_vec()])
        .collect();
    let now: Millis = 1_700_000_000_000;
    let small = Zset::new([(now as f64 + 100.0, b"req-1".to_vec()), (now as f64 + 200.0, b"y".to_vec())], Some(now + 200));
    for case in 0..30_000 {
        let n = rng.range(0, 7) as usize;
        let mut w: Vec<Vec<u8>> = (0..n).map(|_| vocabulary[rng.range(0, vocabulary.len() as u64 - 1) as usize].clone()).collect();
        if rng.chance(2) && w.len() >= 3 {
            w[0] = rng.range(1, 4).to_string().into_bytes();
            w[1] = duration_words(rng.range(1, 100_000), &mut rng).into_bytes();
        }
        let set = if rng.chance(2) { Zset::default() } else { small.clone() };
        let module = rust_concurrent(&w, &set, now);
        let library = pure.concurrent(&w, &set, now, &mut reads);
        tally.check(&module, &library, concurrent_big(&w), &|| format!("case {case} {w:?}"));
    }
    eprintln!("differential RL.CONCURRENT arguments: {tally:?}");
    assert!(tally.same_error > 20_000 && tally.same_reply > 1000, "coverage: {tally:?}");
}

//! Parsing a command's arguments (after the key) into a typed request. One parser serves all
//! the commands; errors name the offending argument and nothing has been touched yet.

use crate::algo::concurrent::{Action, ConcurrentParams};
use crate::algo::fixed::WindowParams;
use crate::algo::gcra::ThrottleParams;
use crate::algo::token::TokenParams;
use crate::algo::top::MAX_COUNT;
use crate::algo::{Algorithm, Millis, Mode, Request};
use crate::codec::text::parse_u128;
use crate::command::{Command, MAX_ID, MAX_KEYS};
use crate::error::Error;

/// An algorithm with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    Fixed(WindowParams),
    Sliding(WindowParams),
    Log(WindowParams),
    Token(TokenParams),
    Leaky(TokenParams),
}

/// A parsed call: what to limit by, and the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub spec: Spec,
    pub request: Request,
}

const MAX_INT: u64 = i64::MAX as u64;

/// Parses the arguments of `algorithm`'s command that follow the key.
pub fn parse(algorithm: Algorithm, args: &[&[u8]]) -> Result<Call, Error> {
    let (spec, options) = spec_of(algorithm, args)?;
    Ok(Call { spec, request: options_of(options)? })
}

/// `algorithm`'s parameters at the start of `args`, and what follows them.
fn spec_of<'a, 'b>(algorithm: Algorithm, args: &'a [&'b [u8]]) -> Result<(Spec, &'a [&'b [u8]]), Error> {
    Ok(match algorithm {
        Algorithm::Token | Algorithm::Leaky => {
            let [capacity, rate, period, options @ ..] = args else { return Err(Error::WrongArity) };
            let p = TokenParams {
                capacity: positive(capacity, "capacity")?,
                rate: positive(rate, "rate")?,
                period: duration(period, "period")?,
            };
            (if algorithm == Algorithm::Leaky { Spec::Leaky(p) } else { Spec::Token(p) }, options)
        }
        Algorithm::Fixed | Algorithm::Sliding | Algorithm::Log => {
            let [limit, window, options @ ..] = args else { return Err(Error::WrongArity) };
            let p = WindowParams { limit: positive(limit, "limit")?, window: duration(window, "window")? };
            let spec = match algorithm {
                Algorithm::Fixed => Spec::Fixed(p),
                Algorithm::Sliding => Spec::Sliding(p),
                _ => Spec::Log(p),
            };
            (spec, options)
        }
    })
}

/// A parsed CL.THROTTLE call (redis-cell's arguments): `max_burst count_per_period period
/// [quantity]`, period in whole seconds, quantity 1 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleCall {
    pub params: ThrottleParams,
    pub quantity: u64,
}

pub fn parse_throttle(args: &[&[u8]]) -> Result<ThrottleCall, Error> {
    let (max_burst, count, period, quantity) = match args {
        [b, c, p] => (b, c, p, None),
        [b, c, p, q] => (b, c, p, Some(q)),
        _ => return Err(Error::WrongArity),
    };
    let params = ThrottleParams {
        max_burst: non_negative(max_burst, "max_burst")?,
        count: positive(count, "count_per_period")?,
        period: positive(period, "period")?,
    };
    let quantity = match quantity {
        // redis-cell's refund hack (a negative quantity) has a real command here.
        Some(q) if q.starts_with(b"-") && parse_u128(q.get(1..).unwrap_or_default()).is_some() => return Err(Error::NegativeQuantity),
        Some(q) => non_negative(q, "quantity")?,
        None => 1,
    };
    Ok(ThrottleCall { params, quantity })
}

/// A parsed RL.TOP call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopCall {
    /// `RL.TOP [count]`: at most `count` keys (default 10).
    List(usize),
    /// `RL.TOP RESET`.
    Reset,
}

/// RL.TOP's lines when no count is given.
pub const TOP_DEFAULT: usize = 10;

/// RL.TOP's arguments: nothing, a count from 1 to 100, or `RESET` (any case).
pub fn parse_top(args: &[&[u8]]) -> Result<TopCall, Error> {
    match args {
        [] => Ok(TopCall::List(TOP_DEFAULT)),
        [word] if word.eq_ignore_ascii_case(b"RESET") => Ok(TopCall::Reset),
        [count] => parse_u128(count)
            .and_then(|c| usize::try_from(c).ok())
            .filter(|c| (1..=MAX_COUNT).contains(c))
            .map(TopCall::List)
            .ok_or(Error::TopCount),
        _ => Err(Error::TooManyArguments),
    }
}

/// One spec of an RL.ALL call: a rate limit, or `CONCURRENT limit lease`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllSpec {
    Rate(Spec),
    Concurrent(ConcurrentParams),
}

impl AllSpec {
    /// The command whose state the spec's key holds.
    pub fn command(&self) -> Command {
        match self {
            AllSpec::Rate(spec) => Command::of(spec.algorithm()),
            AllSpec::Concurrent(_) => Command::Concurrent,
        }
    }
}

/// A parsed RL.ALL call: one spec per key, in key order, the request for all of them, and the
/// holder's id for its CONCURRENT specs (`ID id`: given exactly when there are such specs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllCall {
    pub specs: Vec<AllSpec>,
    pub request: Request,
    pub id: Option<Vec<u8>>,
}

/// The number of keys of an RL.ALL call (its first argument), checked against the arguments.
pub fn numkeys(arg: &[u8], args_after: usize) -> Result<usize, Error> {
    match parse_u128(arg) {
        Some(n) if n >= 1 && n <= MAX_KEYS as u128 && n as usize <= args_after => Ok(n as usize),
        _ => Err(Error::NumKeys),
    }
}

/// A parsed RL.CONCURRENT call (`limit lease id [PEEK | RELEASE]`): the id is the argument
/// itself, checked here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcurrentCall {
    pub params: ConcurrentParams,
    pub action: Action,
}

pub fn parse_concurrent(args: &[&[u8]]) -> Result<ConcurrentCall, Error> {
    let [limit, lease, id, options @ ..] = args else { return Err(Error::WrongArity) };
    let params = ConcurrentParams { limit: positive(limit, "limit")?, lease: duration(lease, "lease")? };
    holder_id(id)?;
    let mut action = Action::Acquire;
    for option in options {
        let given = if option.eq_ignore_ascii_case(b"PEEK") {
            Action::Peek
        } else if option.eq_ignore_ascii_case(b"RELEASE") {
            Action::Release
        } else if let Some(other) = ["COST", "REFUND", "FORCE"].into_iter().find(|o| option.eq_ignore_ascii_case(o.as_bytes())) {
            return Err(Error::NotAnOption(other, Command::Concurrent));
        } else {
            return Err(Error::UnknownOption(option.to_vec()));
        };
        action = match (action, given) {
            (Action::Acquire, given) => given,
            (Action::Peek, Action::Peek) => return Err(Error::RepeatedOption("PEEK")),
            (Action::Release, Action::Release) => return Err(Error::RepeatedOption("RELEASE")),
            _ => return Err(Error::Conflict("PEEK", "RELEASE")),
        };
    }
    Ok(ConcurrentCall { params, action })
}

/// A holder's id: 1 to [`MAX_ID`] bytes, any bytes.
pub fn holder_id(id: &[u8]) -> Result<(), Error> {
    if id.is_empty() || id.len() > MAX_ID {
        return Err(Error::IdLength);
    }
    Ok(())
}

/// The most words an RL.ALL call can have, its name included (one spec has at most 4 words,
/// the options at most 5): anything longer is not a valid call.
pub const MAX_ALL_ARGS: usize = 2 + MAX_KEYS * 5 + 5;

/// RL.ALL's call from `numkeys key [key ...] spec [spec ...] [options]` (`numkeys` and the
/// words after it), checked in the command's order: the number of keys, the specs, then the
/// keys distinct (two specs on one key would each write it, and one charge would overwrite
/// the other). Returns the number of keys with the call.
pub fn all_call(numkeys_arg: &[u8], rest: &[&[u8]]) -> Result<(usize, AllCall), Error> {
    let keys = numkeys(numkeys_arg, rest.len())?;
    let (names, spec_args) = rest.split_at(keys);
    let call = parse_all(keys, spec_args)?;
    if names.iter().enumerate().any(|(i, n)| names.iter().skip(i + 1).any(|m| m == n)) {
        return Err(Error::DuplicateKey);
    }
    Ok((keys, call))
}

/// RL.ALL's arguments after its keys: `keys` specs, then `[COST n] [PEEK] [ID id]`.
pub fn parse_all(keys: usize, mut args: &[&[u8]]) -> Result<AllCall, Error> {
    let mut specs = Vec::with_capacity(keys);
    while let [name, rest @ ..] = args {
        let Some(kind) = spec_named(name) else {
            // Options start here: fewer specs than keys is a count error, not an unknown name.
            if specs.len() < keys && !is_option(name) {
                return Err(Error::UnknownAlgorithm(name.to_vec(), specs.len() + 1));
            }
            break;
        };
        if specs.len() == keys {
            // One spec more than keys: count them all for the message.
            let extra = args.iter().filter(|a| spec_named(a).is_some()).count();
            return Err(Error::SpecCount(keys, keys + extra));
        }
        let count_error = |e| if e == Error::WrongArity { Error::SpecCount(keys, specs.len()) } else { e };
        let (spec, after) = match kind {
            Some(algorithm) => spec_of(algorithm, rest).map(|(spec, after)| (AllSpec::Rate(spec), after)),
            None => concurrent_spec(rest).map(|(params, after)| (AllSpec::Concurrent(params), after)),
        }
        .map_err(count_error)?;
        specs.push(spec);
        args = after;
    }
    if specs.len() != keys {
        return Err(Error::SpecCount(keys, specs.len()));
    }
    let (id, options) = id_option(args)?;
    let request = options_of(&options)?;
    let concurrent = specs.iter().any(|s| matches!(s, AllSpec::Concurrent(_)));
    match (request.mode, &id, concurrent) {
        (Mode::Force, ..) => Err(Error::Conflict("FORCE", "RL.ALL")),
        (Mode::Refund, ..) => Err(Error::Conflict("REFUND", "RL.ALL")),
        (Mode::Take, None, true) => Err(Error::ConcurrentWithoutId),
        (Mode::Take, Some(_), false) => Err(Error::IdWithoutConcurrent),
        (Mode::Take, ..) => Ok(AllCall { specs, request, id }),
    }
}

/// A CONCURRENT spec's `limit lease`, and what follows.
fn concurrent_spec<'a, 'b>(args: &'a [&'b [u8]]) -> Result<(ConcurrentParams, &'a [&'b [u8]]), Error> {
    let [limit, lease, after @ ..] = args else { return Err(Error::WrongArity) };
    Ok((ConcurrentParams { limit: positive(limit, "limit")?, lease: duration(lease, "lease")? }, after))
}

/// An RL.ALL call's holder id (None: no `ID`), and its other options.
type IdAndOptions<'b> = (Option<Vec<u8>>, Vec<&'b [u8]>);

/// RL.ALL's `ID id` taken out of its options (once, any case, a valid id), and the others.
fn id_option<'b>(options: &[&'b [u8]]) -> Result<IdAndOptions<'b>, Error> {
    let mut id = None;
    let mut rest = Vec::with_capacity(options.len());
    let mut words = options.iter();
    while let Some(word) = words.next() {
        if !word.eq_ignore_ascii_case(b"ID") {
            rest.push(*word);
            // COST's value is not an option name, even if it reads `ID`.
            if word.eq_ignore_ascii_case(b"COST") || word.eq_ignore_ascii_case(b"REFUND") {
                rest.extend(words.next());
            }
            continue;
        }
        let value = words.next().ok_or(Error::MissingValue("ID"))?;
        holder_id(value)?;
        if id.replace(value.to_vec()).is_some() {
            return Err(Error::RepeatedOption("ID"));
        }
    }
    Ok((id, rest))
}

/// What a spec's name names (its command's name without `RL.`, in any case): a rate-limit
/// algorithm, or CONCURRENT (`Some(None)`).
fn spec_named(name: &[u8]) -> Option<Option<Algorithm>> {
    if name.eq_ignore_ascii_case(Command::Concurrent.spec_word()) {
        return Some(None);
    }
    Algorithm::ALL.into_iter().find(|a| name.eq_ignore_ascii_case(Command::of(*a).spec_word())).map(Some)
}

impl Spec {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Spec::Fixed(_) => Algorithm::Fixed,
            Spec::Sliding(_) => Algorithm::Sliding,
            Spec::Log(_) => Algorithm::Log,
            Spec::Token(_) => Algorithm::Token,
            Spec::Leaky(_) => Algorithm::Leaky,
        }
    }
}

fn is_option(name: &[u8]) -> bool {
    ["COST", "PEEK", "FORCE", "REFUND", "ID"].iter().any(|o| name.eq_ignore_ascii_case(o.as_bytes()))
}

/// `[COST n] [PEEK] [FORCE] | REFUND n`, in any order and any case, each at most once.
/// REFUND stands alone; FORCE does not go with PEEK (a forced request is always recorded).
fn options_of(mut rest: &[&[u8]]) -> Result<Request, Error> {
    let mut cost = None;
    let mut refund = None;
    let mut peek = false;
    let mut force = false;
    while let [name, tail @ ..] = rest {
        rest = tail;
        if name.eq_ignore_ascii_case(b"COST") || name.eq_ignore_ascii_case(b"REFUND") {
            let (slot, option) = if name.eq_ignore_ascii_case(b"COST") { (&mut cost, "COST") } else { (&mut refund, "REFUND") };
            let [value, tail @ ..] = rest else { return Err(Error::MissingValue(option)) };
            rest = tail;
            if slot.replace(positive(value, option)?).is_some() {
                return Err(Error::RepeatedOption(option));
            }
        } else if name.eq_ignore_ascii_case(b"PEEK") {
            if std::mem::replace(&mut peek, true) {
                return Err(Error::RepeatedOption("PEEK"));
            }
        } else if name.eq_ignore_ascii_case(b"FORCE") {
            if std::mem::replace(&mut force, true) {
                return Err(Error::RepeatedOption("FORCE"));
            }
        } else {
            return Err(Error::UnknownOption(name.to_vec()));
        }
    }
    if let Some(units) = refund {
        return match (cost.is_some(), peek, force) {
            (false, false, false) => Ok(Request { cost: units, peek: false, mode: Mode::Refund }),
            _ => Err(Error::Conflict("REFUND", "COST, PEEK or FORCE")),
        };
    }
    if force && peek {
        return Err(Error::Conflict("FORCE", "PEEK"));
    }
    Ok(Request { cost: cost.unwrap_or(1), peek, mode: if force { Mode::Force } else { Mode::Take } })
}

/// An integer from 0 to 2^63-1.
fn non_negative(arg: &[u8], name: &'static str) -> Result<u64, Error> {
    match parse_u128(arg) {
        None => Err(Error::NotNonNegative(name)),
        Some(v) => u64::try_from(v).ok().filter(|v| *v <= MAX_INT).ok_or(Error::TooLarge(name)),
    }
}

/// An integer from 1 to 2^63-1.
fn positive(arg: &[u8], name: &'static str) -> Result<u64, Error> {
    match parse_u128(arg) {
        Some(0) | None => Err(Error::NotPositive(name)),
        Some(v) => u64::try_from(v).ok().filter(|v| *v <= MAX_INT).ok_or(Error::TooLarge(name)),
    }
}

/// A duration: a bare integer is milliseconds; `ms`, `s`, `m`, `h`, `d` in any case.
fn duration(arg: &[u8], name: &'static str) -> Result<Millis, Error> {
    let invalid = || Error::InvalidDuration(name, arg.to_vec());
    let digits_end = arg.iter().position(|b| !b.is_ascii_digit()).unwrap_or(arg.len());
    let (digits, unit) = arg.split_at(digits_end);
    // Compared in place, any case: no lowercased copy (an allocation per call).
    let scale: u128 = match unit {
        [] => 1,
        [m, s] if m.eq_ignore_ascii_case(&b'm') && s.eq_ignore_ascii_case(&b's') => 1,
        [u] => match u.to_ascii_lowercase() {
            b's' => 1000,
            b'm' => 60_000,
            b'h' => 3_600_000,
            b'd' => 86_400_000,
            _ => return Err(invalid()),
        },
        _ => return Err(invalid()),
    };
    let value = parse_u128(digits).ok_or_else(invalid)?;
    match value.checked_mul(scale) {
        Some(0) => Err(Error::DurationTooShort(name)),
        Some(ms) if ms <= u128::from(MAX_INT) => Ok(ms as Millis),
        _ => Err(Error::TooLarge(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(algorithm: Algorithm, args: &[&str]) -> Result<Call, String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        parse(algorithm, &args).map_err(|e| e.message())
    }

    #[test]
    fn durations_take_units_in_any_case() {
        for (text, ms) in [
            ("1500", 1500),
            ("1500ms", 1500),
            ("1500MS", 1500),
            ("1500mS", 1500),
            ("1500Ms", 1500),
            ("60s", 60_000),
            ("60S", 60_000),
            ("2M", 120_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1H", 3_600_000),
            ("1d", 86_400_000),
        ] {
            assert_eq!(duration(text.as_bytes(), "window"), Ok(ms), "{text}");
        }
    }

    #[test]
    fn bad_durations_name_the_argument() {
        assert_eq!(p(Algorithm::Fixed, &["10", "abc"]).unwrap_err(), "ERR invalid duration 'abc' for window");
        assert_eq!(p(Algorithm::Fixed, &["10", "1.5s"]).unwrap_err(), "ERR invalid duration '1.5s' for window");
        assert_eq!(p(Algorithm::Fixed, &["10", "s"]).unwrap_err(), "ERR invalid duration 's' for window");
        assert_eq!(p(Algorithm::Fixed, &["10", "5sm"]).unwrap_err(), "ERR invalid duration '5sm' for window");
        assert_eq!(p(Algorithm::Fixed, &["10", "5x"]).unwrap_err(), "ERR invalid duration '5x' for window");
        assert_eq!(p(Algorithm::Fixed, &["10", "-5"]).unwrap_err(), "ERR invalid duration '-5' for window");
        assert_eq!(p(Algorithm::Fixed, &["10", "0s"]).unwrap_err(), "ERR window must be at least 1 ms");
        assert_eq!(p(Algorithm::Token, &["1", "1", "106751991168d"]).unwrap_err(), "ERR period must be at most 9223372036854775807");
        assert_eq!(
            p(Algorithm::Fixed, &["10", "9223372036854775807"]).map(|c| c.spec),
            Ok(Spec::Fixed(WindowParams { limit: 10, window: MAX_INT }))
        );
    }

    #[test]
    fn integers_are_positive_and_at_most_2_63_minus_1() {
        assert_eq!(p(Algorithm::Fixed, &["0", "1s"]).unwrap_err(), "ERR limit must be a positive integer");
        assert_eq!(p(Algorithm::Fixed, &["-1", "1s"]).unwrap_err(), "ERR limit must be a positive integer");
        assert_eq!(p(Algorithm::Fixed, &["x", "1s"]).unwrap_err(), "ERR limit must be a positive integer");
        assert_eq!(p(Algorithm::Fixed, &["9223372036854775808", "1s"]).unwrap_err(), "ERR limit must be at most 9223372036854775807");
        assert_eq!(p(Algorithm::Token, &["5", "0", "1s"]).unwrap_err(), "ERR rate must be a positive integer");
        assert_eq!(p(Algorithm::Token, &["0", "1", "1s"]).unwrap_err(), "ERR capacity must be a positive integer");
        assert_eq!(
            p(Algorithm::Fixed, &["9223372036854775807", "1s"]).unwrap().spec,
            Spec::Fixed(WindowParams { limit: MAX_INT, window: 1000 })
        );
    }

    #[test]
    fn options_in_any_order_and_case_once_each() {
        let call = p(Algorithm::Log, &["5", "1s", "peek", "cOsT", "3"]).unwrap();
        assert_eq!(call.request, Request::take(3, true));
        assert_eq!(p(Algorithm::Log, &["5", "1s"]).unwrap().request, Request::take(1, false));
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "FOO"]).unwrap_err(), "ERR syntax error, unknown option 'FOO'");
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "COST"]).unwrap_err(), "ERR syntax error, COST needs a value");
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "COST", "0"]).unwrap_err(), "ERR COST must be a positive integer");
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "COST", "1", "COST", "2"]).unwrap_err(), "ERR syntax error, COST given more than once");
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "PEEK", "peek"]).unwrap_err(), "ERR syntax error, PEEK given more than once");
    }

    #[test]
    fn refund_stands_alone_and_force_goes_without_peek() {
        let refund = p(Algorithm::Token, &["5", "1", "1s", "refund", "3"]).unwrap().request;
        assert_eq!(refund, Request { cost: 3, peek: false, mode: Mode::Refund });
        let force = p(Algorithm::Fixed, &["5", "1s", "FORCE", "COST", "9"]).unwrap().request;
        assert_eq!(force, Request { cost: 9, peek: false, mode: Mode::Force });
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "force"]).unwrap().request, Request { cost: 1, peek: false, mode: Mode::Force });
        let conflict = "ERR syntax error, REFUND cannot be combined with COST, PEEK or FORCE";
        for extra in [&["COST", "1"][..], &["PEEK"], &["FORCE"]] {
            let mut args = vec!["5", "1s", "REFUND", "2"];
            args.extend(extra);
            assert_eq!(p(Algorithm::Log, &args).unwrap_err(), conflict, "{extra:?}");
        }
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "FORCE", "PEEK"]).unwrap_err(), "ERR syntax error, FORCE cannot be combined with PEEK");
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "REFUND"]).unwrap_err(), "ERR syntax error, REFUND needs a value");
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "REFUND", "0"]).unwrap_err(), "ERR REFUND must be a positive integer");
        assert_eq!(p(Algorithm::Fixed, &["5", "1s", "FORCE", "FORCE"]).unwrap_err(), "ERR syntax error, FORCE given more than once");
        assert_eq!(
            p(Algorithm::Fixed, &["5", "1s", "REFUND", "1", "REFUND", "1"]).unwrap_err(),
            "ERR syntax error, REFUND given more than once"
        );
    }

    fn all(keys: usize, args: &[&str]) -> Result<AllCall, String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        parse_all(keys, &args).map_err(|e| e.message())
    }

    #[test]
    fn all_takes_one_spec_per_key_then_options() {
        let call = all(3, &["FIXED", "10", "1m", "token", "5", "1", "1s", "Leaky", "4", "2", "1s", "COST", "2", "PEEK"]).unwrap();
        assert_eq!(
            call.specs,
            [
                AllSpec::Rate(Spec::Fixed(WindowParams { limit: 10, window: 60_000 })),
                AllSpec::Rate(Spec::Token(TokenParams { capacity: 5, rate: 1, period: 1000 })),
                AllSpec::Rate(Spec::Leaky(TokenParams { capacity: 4, rate: 2, period: 1000 })),
            ]
        );
        assert_eq!(call.request, Request::take(2, true));
        assert_eq!(all(2, &["FIXED", "10", "1m"]).unwrap_err(), "ERR RL.ALL needs one spec per key: 2 keys, 1 spec given");
        assert_eq!(
            all(1, &["FIXED", "10", "1m", "LOG", "3", "1s"]).unwrap_err(),
            "ERR RL.ALL needs one spec per key: 1 key, 2 specs given"
        );
        assert_eq!(all(2, &["FIXED", "10", "1m", "COST", "1"]).unwrap_err(), "ERR RL.ALL needs one spec per key: 2 keys, 1 spec given");
        assert_eq!(
            all(2, &["FIXED", "10", "1m", "BUCKET", "1", "1s"]).unwrap_err(),
            "ERR unknown algorithm 'BUCKET' in spec 2 (FIXED, SLIDING, LOG, TOKEN, LEAKY or CONCURRENT)"
        );
        assert_eq!(all(1, &["TOKEN", "10", "1m"]).unwrap_err(), "ERR RL.ALL needs one spec per key: 1 key, 0 specs given");
        assert_eq!(all(1, &["FIXED", "0", "1m"]).unwrap_err(), "ERR limit must be a positive integer");
        assert_eq!(all(1, &["FIXED", "1", "1m", "REFUND", "1"]).unwrap_err(), "ERR syntax error, REFUND cannot be combined with RL.ALL");
        assert_eq!(all(1, &["FIXED", "1", "1m", "FORCE"]).unwrap_err(), "ERR syntax error, FORCE cannot be combined with RL.ALL");
        assert_eq!(numkeys(b"2", 5), Ok(2));
        for (arg, after) in [(&b"0"[..], 5), (b"x", 5), (b"3", 2), (b"17", 100), (b"-1", 5)] {
            assert_eq!(numkeys(arg, after), Err(Error::NumKeys), "{arg:?}");
        }
    }

    fn concurrent(args: &[&str]) -> Result<ConcurrentCall, String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        parse_concurrent(&args).map_err(|e| e.message())
    }

    #[test]
    fn concurrent_takes_limit_lease_id_and_peek_or_release() {
        let p = ConcurrentParams { limit: 4, lease: 30_000 };
        assert_eq!(concurrent(&["4", "30s", "req-7"]), Ok(ConcurrentCall { params: p, action: Action::Acquire }));
        assert_eq!(concurrent(&["4", "30s", "req-7", "peek"]).map(|c| c.action), Ok(Action::Peek));
        assert_eq!(concurrent(&["4", "30s", "req-7", "Release"]).map(|c| c.action), Ok(Action::Release));
        assert_eq!(concurrent(&["4", "30s"]), Err(Error::WrongArity.message()));
        assert_eq!(concurrent(&["0", "30s", "a"]).unwrap_err(), "ERR limit must be a positive integer");
        assert_eq!(concurrent(&["4", "0", "a"]).unwrap_err(), "ERR lease must be at least 1 ms");
        assert_eq!(concurrent(&["4", "1x", "a"]).unwrap_err(), "ERR invalid duration '1x' for lease");
        assert_eq!(concurrent(&["4", "1s", ""]).unwrap_err(), "ERR id must be 1 to 256 bytes");
        let long = "x".repeat(257);
        assert_eq!(concurrent(&["4", "1s", &long]).unwrap_err(), "ERR id must be 1 to 256 bytes");
        assert!(concurrent(&["4", "1s", &"x".repeat(256)]).is_ok());
        for option in ["COST", "refund", "FORCE"] {
            assert_eq!(
                concurrent(&["4", "1s", "a", option, "2"]).unwrap_err(),
                format!("ERR syntax error, {} is not an option of RL.CONCURRENT (a lease is one slot)", option.to_ascii_uppercase())
            );
        }
        assert_eq!(concurrent(&["4", "1s", "a", "PEEK", "RELEASE"]).unwrap_err(), "ERR syntax error, PEEK cannot be combined with RELEASE");
        assert_eq!(concurrent(&["4", "1s", "a", "RELEASE", "peek"]).unwrap_err(), "ERR syntax error, PEEK cannot be combined with RELEASE");
        assert_eq!(concurrent(&["4", "1s", "a", "PEEK", "PEEK"]).unwrap_err(), "ERR syntax error, PEEK given more than once");
        assert_eq!(concurrent(&["4", "1s", "a", "NOW"]).unwrap_err(), "ERR syntax error, unknown option 'NOW'");
    }

    #[test]
    fn all_takes_concurrent_specs_with_the_holders_id() {
        let call = all(2, &["CONCURRENT", "4", "30s", "fixed", "100", "1m", "id", "req-7", "COST", "2"]).unwrap();
        assert_eq!(
            call.specs,
            [
                AllSpec::Concurrent(ConcurrentParams { limit: 4, lease: 30_000 }),
                AllSpec::Rate(Spec::Fixed(WindowParams { limit: 100, window: 60_000 }))
            ]
        );
        assert_eq!((call.id.as_deref(), call.request), (Some(&b"req-7"[..]), Request::take(2, false)));
        // COST's value is a value, even when it reads ID.
        assert_eq!(all(1, &["FIXED", "1", "1m", "COST", "ID"]).unwrap_err(), "ERR COST must be a positive integer");
        assert_eq!(
            all(1, &["CONCURRENT", "4", "30s"]).unwrap_err(),
            "ERR RL.ALL needs ID id for its CONCURRENT spec (the holder of the lease)"
        );
        assert_eq!(all(1, &["FIXED", "1", "1m", "ID", "a"]).unwrap_err(), "ERR syntax error, ID goes only with a CONCURRENT spec");
        assert_eq!(all(1, &["CONCURRENT", "4", "30s", "ID"]).unwrap_err(), "ERR syntax error, ID needs a value");
        assert_eq!(all(1, &["CONCURRENT", "4", "30s", "ID", "a", "ID", "b"]).unwrap_err(), "ERR syntax error, ID given more than once");
        assert_eq!(all(1, &["CONCURRENT", "4", "30s", "ID", ""]).unwrap_err(), "ERR id must be 1 to 256 bytes");
        assert_eq!(all(1, &["CONCURRENT", "0", "30s", "ID", "a"]).unwrap_err(), "ERR limit must be a positive integer");
        assert_eq!(all(1, &["CONCURRENT", "4", "0s", "ID", "a"]).unwrap_err(), "ERR lease must be at least 1 ms");
        assert_eq!(all(1, &["CONCURRENT", "4"]).unwrap_err(), "ERR RL.ALL needs one spec per key: 1 key, 0 specs given");
        assert_eq!(all(2, &["CONCURRENT", "4", "1s", "CONCURRENT", "2", "1s", "ID", "x", "PEEK"]).map(|c| c.request.peek), Ok(true));
    }

    #[test]
    fn top_takes_a_count_from_1_to_100_or_reset() {
        let top = |args: &[&str]| {
            let words: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            parse_top(&words).map_err(|e| e.message())
        };
        assert_eq!(top(&[]), Ok(TopCall::List(10)));
        assert_eq!(top(&["1"]), Ok(TopCall::List(1)));
        assert_eq!(top(&["100"]), Ok(TopCall::List(100)));
        assert_eq!(top(&["reset"]), Ok(TopCall::Reset));
        assert_eq!(top(&["RESET"]), Ok(TopCall::Reset));
        for bad in ["0", "101", "-1", "abc", "", "99999999999999999999999"] {
            assert_eq!(top(&[bad]), Err("ERR count must be an integer from 1 to 100".to_owned()), "{bad}");
        }
        assert_eq!(top(&["10", "RESET"]), Err("ERR syntax error, too many arguments".to_owned()));
    }

    #[test]
    fn too_few_arguments_is_wrong_arity() {
        assert_eq!(p(Algorithm::Fixed, &["5"]), Err(Error::WrongArity.message()));
        assert_eq!(p(Algorithm::Token, &["5", "1"]), Err(Error::WrongArity.message()));
    }
}

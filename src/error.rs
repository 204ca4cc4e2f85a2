//! Every error a client can see, with its exact message, in one place.

use crate::algo::top::MAX_COUNT;
use crate::codec::StateError;
use crate::command::{Command, MAX_ID, MAX_KEYS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    WrongArity,
    TooManyArguments,
    NotPositive(&'static str),
    NotNonNegative(&'static str),
    /// CL.THROTTLE: a negative quantity (redis-cell's way to give usage back).
    NegativeQuantity,
    /// CL.THROTTLE: more than one request per nanosecond (an emission interval of 0).
    ZeroInterval,
    /// CL.THROTTLE: a theoretical arrival time past 2^63-1 ns.
    TatTooLarge,
    TooLarge(&'static str),
    InvalidDuration(&'static str, Vec<u8>),
    DurationTooShort(&'static str),
    UnknownOption(Vec<u8>),
    RepeatedOption(&'static str),
    MissingValue(&'static str),
    /// Two options that cannot go together (REFUND with COST, PEEK or FORCE; FORCE with PEEK).
    Conflict(&'static str, &'static str),
    /// RL.ALL: numkeys is not an integer from 1 to the keys given (at most 16).
    NumKeys,
    /// RL.ALL: a spec count that does not match the keys (keys, specs).
    SpecCount(usize, usize),
    /// RL.ALL: a spec names no algorithm (the name, the spec's 1-based position).
    UnknownAlgorithm(Vec<u8>, usize),
    /// RL.ALL: the same key twice.
    DuplicateKey,
    /// RL.ALL: a CONCURRENT spec without `ID id`.
    ConcurrentWithoutId,
    /// RL.ALL: `ID id` without a CONCURRENT spec.
    IdWithoutConcurrent,
    /// RL.CONCURRENT: an option of the other RL commands (COST, REFUND, FORCE).
    NotAnOption(&'static str, Command),
    /// RL.CONCURRENT: an id that is empty or longer than 256 bytes.
    IdLength,
    /// RL.TOP: a count that is not an integer from 1 to 100.
    TopCount,
    /// The key holds another Redis type.
    WrongType,
    /// The key holds a string this command cannot use.
    State(Command, StateError),
    /// The server lacks a module API this module needs, or refused a write.
    Server(&'static str),
}

impl Error {
    pub fn message(&self) -> String {
        match self {
            Error::WrongArity => "ERR wrong number of arguments".to_owned(),
            Error::TooManyArguments => "ERR syntax error, too many arguments".to_owned(),
            Error::NotPositive(name) => format!("ERR {name} must be a positive integer"),
            Error::NotNonNegative(name) => format!("ERR {name} must be a non-negative integer"),
            Error::NegativeQuantity => {
                "ERR quantity must not be negative (to give usage back, use RL.TOKEN key capacity rate period REFUND n)".to_owned()
            }
            Error::ZeroInterval => "ERR count_per_period must be at most period * 10^9 (one request per nanosecond)".to_owned(),
            Error::TatTooLarge => "ERR the limit is too large: its theoretical arrival time would pass 2^63-1 ns".to_owned(),
            Error::TooLarge(name) => format!("ERR {name} must be at most {}", i64::MAX),
            Error::InvalidDuration(name, given) => format!("ERR invalid duration '{}' for {name}", printable(given)),
            Error::DurationTooShort(name) => format!("ERR {name} must be at least 1 ms"),
            Error::UnknownOption(given) => format!("ERR syntax error, unknown option '{}'", printable(given)),
            Error::RepeatedOption(name) => format!("ERR syntax error, {name} given more than once"),
            Error::MissingValue(name) => format!("ERR syntax error, {name} needs a value"),
            Error::Conflict(a, b) => format!("ERR syntax error, {a} cannot be combined with {b}"),
            Error::NumKeys => {
                format!("ERR numkeys must be an integer from 1 to {MAX_KEYS} and no more than the keys given")
            }
            Error::SpecCount(keys, specs) => format!(
                "ERR RL.ALL needs one spec per key: {keys} key{}, {specs} spec{} given",
                if *keys == 1 { "" } else { "s" },
                if *specs == 1 { "" } else { "s" }
            ),
            Error::UnknownAlgorithm(name, at) => {
                format!("ERR unknown algorithm '{}' in spec {at} ({})", printable(name), spec_names())
            }
            Error::ConcurrentWithoutId => "ERR RL.ALL needs ID id for its CONCURRENT spec (the holder of the lease)".to_owned(),
            Error::IdWithoutConcurrent => "ERR syntax error, ID goes only with a CONCURRENT spec".to_owned(),
            Error::DuplicateKey => "ERR RL.ALL keys must be distinct (one limiter per key)".to_owned(),
            Error::NotAnOption(option, command) => {
                format!("ERR syntax error, {option} is not an option of {command} (a lease is one slot)")
            }
            Error::IdLength => format!("ERR id must be 1 to {MAX_ID} bytes"),
            Error::TopCount => format!("ERR count must be an integer from 1 to {MAX_COUNT}"),
            Error::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value".to_owned(),
            Error::State(command, StateError::OtherCommand(other)) => format!("ERR key holds {other} state, not {command} state"),
            Error::State(command, StateError::Unreadable) => format!("ERR key holds a value that is not {command} state"),
            Error::State(command, StateError::OutOfRange) => format!("ERR key holds {command} state out of range"),
            Error::State(command, StateError::NotLeases) => {
                format!("ERR key holds a sorted set that is not {command} state (scores must be whole milliseconds from 0 to 2^53)")
            }
            Error::Server(what) => format!("ERR {what}"),
        }
    }
}

/// The names an RL.ALL spec may start with: `FIXED, SLIDING, LOG, TOKEN, LEAKY or CONCURRENT`.
fn spec_names() -> String {
    let names: Vec<String> = Command::SPECS.iter().map(|c| String::from_utf8_lossy(c.spec_word()).to_ascii_uppercase()).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A client's bytes, safe to echo in an error line: no control characters (which would break
/// the protocol line), no NUL (which would end the C string), at most 64 characters.
fn printable(bytes: &[u8]) -> String {
    let mut out: String = String::from_utf8_lossy(bytes).chars().map(|c| if c.is_control() { '?' } else { c }).take(64).collect();
    if bytes.len() > 64 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_input_cannot_break_the_reply() {
        let e = Error::UnknownOption(b"a\r\nb\0c".to_vec());
        assert_eq!(e.message(), "ERR syntax error, unknown option 'a??b?c'");
        let long = Error::InvalidDuration("window", vec![b'x'; 100]).message();
        assert!(long.ends_with("...' for window") && long.len() < 120);
    }

    #[test]
    fn state_errors_name_the_problem() {
        assert_eq!(
            Error::State(Command::Fixed, StateError::OtherCommand(Command::Token)).message(),
            "ERR key holds RL.TOKEN state, not RL.FIXED state"
        );
        assert_eq!(Error::State(Command::Log, StateError::Unreadable).message(), "ERR key holds a value that is not RL.LOG state");
        assert_eq!(Error::State(Command::Fixed, StateError::OutOfRange).message(), "ERR key holds RL.FIXED state out of range");
    }
}

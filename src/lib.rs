//! redis-ratelimit: native rate-limiting commands for Redis and Valkey.
//!
//! This file registers the commands of the table (`command`) and nothing else: the pure core is
//! in `algo`, the stored formats in `codec`, argument parsing in `args`, one call from stored
//! bytes to reply and write in `limiter`, the handlers in `handlers`, the Redis glue in `redis`.
//! `docs/development.md` has the layout and the checklist for adding a command.

// A panic inside a module takes the whole server down: module code may not unwrap, index
// unchecked or panic (tests may).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, clippy::unreachable, clippy::todo)
)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[macro_use]
mod redis;
pub mod algo;
pub mod args;
pub mod codec;
pub mod command;
pub mod error;
mod handlers;
pub mod limiter;
pub mod stats;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod top;

use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};
use redis_module::{redis_module, Context, RedisString, Status};

use algo::Algorithm;
use command::{Command, Keys};
use error::Error;
use redis::call::{self, Invocation};
use redis::{acl, docs, info, server};
use stats::Outcome;

/// What Redis calls for the command `Command::ALL[C]`: one function per command (Redis passes
/// no other way to tell them apart), all through the one guarded path.
extern "C" fn handle<const C: usize>(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    let Some(&command) = Command::ALL.get(C) else { return raw::REDISMODULE_ERR as c_int };
    call::entry(ctx, argv, argc, command, |call| dispatch(command, call))
}

/// Each command's handler. Exhaustive: a command without a handler does not compile.
fn dispatch(command: Command, call: &Invocation<'_>) -> Result<Outcome, Error> {
    match command {
        Command::Fixed => handlers::limit::run(call, Algorithm::Fixed),
        Command::Sliding => handlers::limit::run(call, Algorithm::Sliding),
        Command::Log => handlers::limit::run(call, Algorithm::Log),
        Command::Token => handlers::limit::run(call, Algorithm::Token),
        Command::Leaky => handlers::limit::run(call, Algorithm::Leaky),
        Command::Concurrent => handlers::concurrent::run(call),
        Command::All => handlers::all::run(call),
        Command::Throttle => handlers::throttle::run(call),
        Command::Top => handlers::top::run(call),
    }
}

type Handler = extern "C" fn(*mut RedisModuleCtx, *mut *mut RedisModuleString, c_int) -> c_int;

/// The function Redis calls for `command`.
const fn handler(command: Command) -> Handler {
    match command {
        Command::Fixed => handle::<{ Command::Fixed as usize }>,
        Command::Sliding => handle::<{ Command::Sliding as usize }>,
        Command::Log => handle::<{ Command::Log as usize }>,
        Command::Token => handle::<{ Command::Token as usize }>,
        Command::Leaky => handle::<{ Command::Leaky as usize }>,
        Command::Concurrent => handle::<{ Command::Concurrent as usize }>,
        Command::All => handle::<{ Command::All as usize }>,
        Command::Throttle => handle::<{ Command::Throttle as usize }>,
        Command::Top => handle::<{ Command::Top as usize }>,
    }
}

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    // The module has no options: refuse what would otherwise be ignored without a word.
    if !args.is_empty() {
        let given: Vec<String> = args.iter().map(|a| a.to_string_lossy()).collect();
        ctx.log_warning(&format!("ratelimit: takes no load arguments (got {}: {})", given.len(), given.join(" ")));
        return Status::Err;
    }
    if let Err(why) = server::resolve() {
        ctx.log_warning(&format!("ratelimit: not loaded: {why}"));
        return Status::Err;
    }
    std::panic::set_hook(Box::new(|info| {
        redis_module::logging::log_warning(format!("ratelimit: panic caught, command answered with an error: {info}"));
    }));
    // SAFETY: the function pointers were filled by RedisModule_Init; ctx is the load context.
    unsafe {
        // Signal key changes ourselves, only when a call really writes (not on PEEK/denials).
        if let Some(set_options) = raw::RedisModule_SetModuleOptions {
            set_options(ctx.ctx, raw::REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED as c_int);
        }
        // INFO ratelimit (replaces the crate's default, empty info callback).
        if let Some(register_info) = raw::RedisModule_RegisterInfoFunc {
            register_info(ctx.ctx, Some(info::info));
        }
    }
    let categories = acl::setup(ctx.ctx);
    let with_docs = docs::key_specs_supported();
    if !with_docs {
        ctx.log_notice(
            "ratelimit: this server has no command docs or key specs (Redis 7.0+): COMMAND DOCS will not describe the RL commands",
        );
    }
    for command in Command::ALL {
        match register(ctx, command, with_docs, categories) {
            Ok(()) => {}
            Err(Registration::Taken) if command.describe().optional => ctx.log_warning(&format!(
                "ratelimit: {command} is already registered ({} loaded?): loading without it",
                if command == Command::Throttle { "redis-cell" } else { "another module" }
            )),
            Err(e) => {
                ctx.log_warning(&format!("ratelimit: {}", e.message(command)));
                return Status::Err;
            }
        }
    }
    Status::Ok
}

/// Why a command could not be registered.
enum Registration {
    /// The server lacks the API, or another module has the name.
    Taken,
    /// The key spec of a command whose keys come from numkeys was refused.
    KeySpec(String),
}

impl Registration {
    fn message(&self, command: Command) -> String {
        match self {
            Registration::Taken => format!("could not register {command}"),
            Registration::KeySpec(e) => e.clone(),
        }
    }
}

/// Registers `command` with its flags and key positions, then its documentation (where the
/// server takes it) and ACL categories: courtesies, so a server that refuses them still gets
/// a working command (and a log line), except for the key spec of a numkeys command: where the
/// server has key specs, ACL key patterns see its keys only through it, so it must be there.
fn register(ctx: &Context, command: Command, with_docs: bool, categories: acl::Categories) -> Result<(), Registration> {
    let d = command.describe();
    // SAFETY: the pointer is written once by RedisModule_Init and only read afterwards.
    let Some(create) = (unsafe { raw::RedisModule_CreateCommand }) else { return Err(Registration::Taken) };
    let (first, last, step) = match d.keys {
        Keys::First => (1, 1, 1),
        // Found through the getkeys API and the key spec; or no keys at all.
        Keys::NumKeys | Keys::None => (0, 0, 0),
    };
    // SAFETY: ctx is the load context; name and flags are NUL-terminated and static.
    if unsafe { create(ctx.ctx, d.name.as_ptr(), Some(handler(command)), d.flags.as_ptr(), first, last, step) }
        != raw::REDISMODULE_OK as c_int
    {
        return Err(Registration::Taken);
    }
    let documented = if with_docs { docs::declare(ctx.ctx, d) } else { Ok(()) };
    if let (Err(e), Keys::NumKeys) = (&documented, d.keys) {
        return Err(Registration::KeySpec(e.clone()));
    }
    for result in [documented, acl::categorize(ctx.ctx, d.name, &acl::builtin(d.flags), categories)] {
        if let Err(e) = result {
            ctx.log_warning(&format!("ratelimit: {e}"));
        }
    }
    Ok(())
}

/// The crate's version as Redis expects a module's (`MODULE LIST`'s `ver`): major * 10000 +
/// minor * 100 + patch, so 0.1.0 is 100 and 1.2.3 is 10203.
const VERSION: c_int = {
    const fn number(s: &str) -> c_int {
        let mut digits = s.as_bytes();
        let mut value = 0;
        while let [digit, rest @ ..] = digits {
            assert!(digit.is_ascii_digit(), "a version part that is not a number");
            value = value * 10 + (*digit - b'0') as c_int;
            digits = rest;
        }
        value
    }
    let (major, minor, patch) =
        (number(env!("CARGO_PKG_VERSION_MAJOR")), number(env!("CARGO_PKG_VERSION_MINOR")), number(env!("CARGO_PKG_VERSION_PATCH")));
    assert!(minor < 100 && patch < 100, "minor and patch must stay below 100 to fit the version number");
    major * 10000 + minor * 100 + patch
};

// The Redis allocator aborts outside a running server: unit tests, benches and fuzz targets
// (feature `testing`) use the system allocator instead.
#[cfg(any(test, feature = "testing"))]
type ModuleAlloc = std::alloc::System;
#[cfg(any(test, feature = "testing"))]
const MODULE_ALLOC: ModuleAlloc = std::alloc::System;
#[cfg(not(any(test, feature = "testing")))]
type ModuleAlloc = redis_module::alloc::RedisAlloc;
#[cfg(not(any(test, feature = "testing")))]
const MODULE_ALLOC: ModuleAlloc = redis_module::alloc::RedisAlloc;

redis_module! {
    name: "ratelimit",
    version: VERSION,
    allocator: (ModuleAlloc, MODULE_ALLOC),
    data_types: [],
    init: init,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_module_version_follows_the_crate() {
        let parts: Vec<i32> = env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse().expect("a number")).collect();
        assert_eq!(super::VERSION, parts[0] * 10000 + parts[1] * 100 + parts[2]);
    }
}

//! redis-ratelimit: native rate-limiting commands for Redis.
//!
//! This file registers the commands and nothing else: the pure core is in `algo`, the stored
//! formats in `codec`, argument parsing in `args`, the Redis glue in `command` and `store`.

// A panic inside a module takes the whole server down: module code may not unwrap, index
// unchecked or panic (tests may).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, clippy::unreachable, clippy::todo)
)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[macro_use]
mod api;
mod acl;
pub mod algo;
mod all;
pub mod args;
pub mod codec;
mod command;
mod docs;
pub mod error;
pub mod limiter;
mod reply;
#[cfg(test)]
mod script;
mod server;
#[cfg(test)]
mod sim;
pub mod stats;
mod store;
mod throttle;
#[cfg(test)]
mod transitions;

use std::ffi::CStr;
use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};
use redis_module::{redis_module, Context, RedisString, Status};

use codec::Kind;

extern "C" fn rl_fixed(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    command::entry(ctx, argv, argc, Kind::Fixed)
}

extern "C" fn rl_sliding(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    command::entry(ctx, argv, argc, Kind::Sliding)
}

extern "C" fn rl_log(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    command::entry(ctx, argv, argc, Kind::Log)
}

extern "C" fn rl_leaky(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    command::entry(ctx, argv, argc, Kind::Leaky)
}

extern "C" fn rl_token(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    command::entry(ctx, argv, argc, Kind::Token)
}

extern "C" fn cl_throttle(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    throttle::entry(ctx, argv, argc)
}

extern "C" fn rl_all(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    all::entry(ctx, argv, argc)
}

type Handler = extern "C" fn(*mut RedisModuleCtx, *mut *mut RedisModuleString, c_int) -> c_int;

/// Name, handler, flags, the built-in ACL categories the flags imply, and the kind. `fast`
/// (no worse than O(log N)) where it holds: RL.LOG may walk its entries. Every command has its
/// key at position 1 (first = last = step = 1), so cluster routing and ACL key patterns apply
/// as for any single-key command.
const COMMANDS: [(&CStr, Handler, &CStr, &str, Kind); 5] = [
    (c"rl.fixed", rl_fixed, c"write deny-oom fast", "write fast", Kind::Fixed),
    (c"rl.sliding", rl_sliding, c"write deny-oom fast", "write fast", Kind::Sliding),
    (c"rl.log", rl_log, c"write deny-oom", "write slow", Kind::Log),
    (c"rl.token", rl_token, c"write deny-oom fast", "write fast", Kind::Token),
    (c"rl.leaky", rl_leaky, c"write deny-oom fast", "write fast", Kind::Leaky),
];

/// redis-cell's command (`throttle.rs`), for its users to switch modules without a client
/// change.
const THROTTLE: &CStr = c"cl.throttle";

/// Several limits, all or nothing (`all.rs`).
const ALL: &CStr = c"rl.all";

fn init(ctx: &Context, _args: &[RedisString]) -> Status {
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
            register_info(ctx.ctx, Some(stats::info));
        }
        let categories = acl::setup(ctx.ctx);
        let Some(create) = raw::RedisModule_CreateCommand else {
            ctx.log_warning("ratelimit: the server lacks RedisModule_CreateCommand");
            return Status::Err;
        };
        let with_docs = docs::key_specs_supported();
        if !with_docs {
            ctx.log_notice(
                "ratelimit: this server has no command docs or key specs (Redis 7.0+): COMMAND DOCS will not describe the RL commands",
            );
        }
        for (name, handler, flags, builtin, kind) in COMMANDS {
            if create(ctx.ctx, name.as_ptr(), Some(handler), flags.as_ptr(), 1, 1, 1) != raw::REDISMODULE_OK as c_int {
                ctx.log_warning(&format!("ratelimit: could not register {}", name.to_string_lossy()));
                return Status::Err;
            }
            courtesies(ctx, name, kind, builtin, with_docs, categories);
        }
        // RL.ALL: its keys come from numkeys. Declared twice: by a key spec (ACL, COMMAND
        // DOCS/GETKEYS) and through the getkeys API (Redis 7.0's cluster slot check uses only
        // that, or first/last/step, which cannot describe numkeys; Redis 6.2 uses it for ACL
        // key patterns too).
        if create(ctx.ctx, ALL.as_ptr(), Some(rl_all), c"write deny-oom getkeys-api".as_ptr(), 0, 0, 0) != raw::REDISMODULE_OK as c_int {
            ctx.log_warning("ratelimit: could not register rl.all");
            return Status::Err;
        }
        // Where the server has key specs, ACL key patterns see RL.ALL's keys only through its
        // key spec: refuse to load rather than serve it unchecked.
        if with_docs {
            if let Err(e) = docs::declare_all(ctx.ctx, ALL) {
                ctx.log_warning(&format!("ratelimit: {e}"));
                return Status::Err;
            }
        }
        if let Err(e) = acl::categorize(ctx.ctx, ALL, "write slow", categories) {
            ctx.log_warning(&format!("ratelimit: {e}"));
        }
        // CL.THROTTLE: if another module (redis-cell) registered it first, the RL commands
        // still load, without it.
        if create(ctx.ctx, THROTTLE.as_ptr(), Some(cl_throttle), c"write deny-oom fast".as_ptr(), 1, 1, 1) != raw::REDISMODULE_OK as c_int {
            ctx.log_warning("ratelimit: CL.THROTTLE is already registered (redis-cell loaded?): loading without it");
        } else {
            courtesies(ctx, THROTTLE, Kind::Throttle, "write fast", with_docs, categories);
        }
    }
    Status::Ok
}

/// A registered command's documentation (where the server takes it) and ACL categories:
/// courtesies, so a server that refuses them still gets a working command (and a log line).
fn courtesies(ctx: &Context, name: &CStr, kind: Kind, builtin: &str, with_docs: bool, categories: acl::Categories) {
    let documented = if with_docs { docs::declare(ctx.ctx, name, kind) } else { Ok(()) };
    for result in [documented, acl::categorize(ctx.ctx, name, builtin, categories)] {
        if let Err(e) = result {
            ctx.log_warning(&format!("ratelimit: {e}"));
        }
    }
}

// The Redis allocator aborts outside a running server: unit tests and benches (feature
// `system-alloc`) use the system allocator instead.
#[cfg(any(test, feature = "system-alloc"))]
type ModuleAlloc = std::alloc::System;
#[cfg(any(test, feature = "system-alloc"))]
const MODULE_ALLOC: ModuleAlloc = std::alloc::System;
#[cfg(not(any(test, feature = "system-alloc")))]
type ModuleAlloc = redis_module::alloc::RedisAlloc;
#[cfg(not(any(test, feature = "system-alloc")))]
const MODULE_ALLOC: ModuleAlloc = redis_module::alloc::RedisAlloc;

redis_module! {
    name: "ratelimit",
    version: 1,
    allocator: (ModuleAlloc, MODULE_ALLOC),
    data_types: [],
    init: init,
}

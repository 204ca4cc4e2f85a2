pub mod algo;
pub mod codec;

use redis_module::{redis_module, Context, RedisString, Status};
fn init(_ctx: &Context, _args: &[RedisString]) -> Status { Status::Ok }
#[cfg(any(test, feature = "system-alloc"))]
type ModuleAlloc = std::alloc::System;
#[cfg(not(any(test, feature = "system-alloc")))]
type ModuleAlloc = redis_module::alloc::RedisAlloc;
#[cfg(any(test, feature = "system-alloc"))]
const MODULE_ALLOC: ModuleAlloc = std::alloc::System;
#[cfg(not(any(test, feature = "system-alloc")))]
const MODULE_ALLOC: ModuleAlloc = redis_module::alloc::RedisAlloc;
redis_module! { name: "ratelimit", version: 1, allocator: (ModuleAlloc, MODULE_ALLOC), data_types: [], init: init, commands: [], }

//! A stand-in for redis-cell in the tests: a module that registers `CL.THROTTLE` (answering
//! "stub"), so a test can load it before ratelimit and check that ratelimit then loads without
//! its own CL.THROTTLE. Not an example to follow.

use redis_module::{redis_module, Context, RedisResult, RedisString, RedisValue};

fn throttle(_ctx: &Context, _args: Vec<RedisString>) -> RedisResult {
    Ok(RedisValue::SimpleStringStatic("stub"))
}

redis_module! {
    name: "cellstub",
    version: 1,
    allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
    data_types: [],
    commands: [
        ["cl.throttle", throttle, "write", 1, 1, 1, ""],
    ],
}

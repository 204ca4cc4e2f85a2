//! A tiny HTTP gateway that rate-limits each client with one RL call per request, and answers
//! 429 Too Many Requests with the standard headers when the limit is reached.
//!
//!     cargo run --release --example gateway -- <redis-url> <listen-addr> <limit> <window>
//!     cargo run --release --example gateway -- redis://127.0.0.1:6399/ 127.0.0.1:8080 10 1m
//!     curl -i -H 'X-Api-Key: alice' http://127.0.0.1:8080/
//!
//! Each client (the `X-Api-Key` header, or the peer address) gets its own RL.SLIDING limiter
//! under the key `gw:<client>`. Where the server has no module (a managed service), or the ACL
//! user may not call it, the same limiter runs as the script library (functions/ratelimit.lua),
//! by the rules the client packages follow. Each connection finds out once, at its first call:
//!
//! * the module's `RL.SLIDING`, where the server knows it and the user may call it;
//! * else the library, `FCALL rl_sliding`: the gateway looks at the loaded one (`FUNCTION LIST`)
//!   and loads its own copy (`FUNCTION LOAD`) where none is there or the loaded one is older
//!   (the version on line 2), never replacing a newer one; after a `FUNCTION FLUSH` it loads it
//!   again once;
//! * else (no FUNCTION: Redis 6.2, or `FUNCTION LOAD` refused and no library there) the script,
//!   `EVALSHA` of its SHA1; after a `NOSCRIPT` (a restart, a `SCRIPT FLUSH`, a failover) that
//!   call is sent whole with `EVAL`, which caches it again. No `SCRIPT LOAD`: an ACL user needs
//!   `+evalsha +eval` only.
//!
//! Keys, replies and stored bytes are the same whichever serves. The reply maps onto HTTP as
//! the module's README describes: X-RateLimit-Limit = field 2, X-RateLimit-Remaining = field 3,
//! Retry-After = ceil(field 4 / 1000) s, X-RateLimit-Reset = now + field 5 (Unix seconds).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

struct Config {
    redis: redis::Client,
    limit: String,
    window: String,
    /// Open connections, each with what its server answered to (reused across requests).
    idle: std::sync::Mutex<Vec<Limiter>>,
}

/// How a server runs the limiter: found out once per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Unknown,
    Module,
    Function,
    Script,
}

/// One connection and the way its server runs the limiter.
struct Limiter {
    con: redis::Connection,
    way: Way,
}

/// The library, as `FUNCTION LOAD` takes it; line 2 names its version.
const LIBRARY: &str = include_str!("../functions/ratelimit.lua");
/// The same code for EVAL/EVALSHA (the function name first in ARGV), for servers without FUNCTION.
const SCRIPT: &str = include_str!("../functions/ratelimit-script.lua");

/// The script's SHA1, computed here (nothing is sent).
fn script_sha() -> &'static str {
    static SHA: OnceLock<String> = OnceLock::new();
    SHA.get_or_init(|| redis::Script::new(SCRIPT).get_hash().to_owned())
}

impl Limiter {
    /// One RL.SLIDING call: [allowed, limit, remaining, retry_after_ms, reset_after_ms].
    fn sliding(&mut self, key: &str, limit: &str, window: &str) -> redis::RedisResult<Vec<i64>> {
        let mut reloaded = false;
        loop {
            let result = match self.way {
                Way::Unknown | Way::Module => redis::cmd("RL.SLIDING").arg(key).arg(limit).arg(window).query(&mut self.con),
                Way::Function => redis::cmd("FCALL").arg("rl_sliding").arg(1).arg(key).arg(limit).arg(window).query(&mut self.con),
                Way::Script => {
                    let script = |command: &str, body: &str| {
                        let mut cmd = redis::cmd(command);
                        cmd.arg(body).arg(1).arg(key).arg("rl_sliding").arg(limit).arg(window);
                        cmd
                    };
                    match script("EVALSHA", script_sha()).query(&mut self.con) {
                        // Not cached (a restart, SCRIPT FLUSH, a failover): EVAL runs it and caches it.
                        Err(e) if e.kind() == redis::ErrorKind::NoScriptError => script("EVAL", SCRIPT).query(&mut self.con),
                        other => other,
                    }
                }
            };
            let Err(e) = &result else {
                if self.way == Way::Unknown {
                    self.way = Way::Module;
                }
                return result;
            };
            self.way = match self.way {
                Way::Unknown if unknown_command(e) || refused(e, "rl.sliding") => library_way(&mut self.con)?,
                // The library went away (FUNCTION FLUSH, a restart without persistence): load it again, once.
                Way::Function if function_not_found(e) && !reloaded => {
                    reloaded = true;
                    library_way(&mut self.con)?
                }
                Way::Function if function_not_found(e) || refused(e, "fcall") => Way::Script,
                _ => return result,
            };
        }
    }
}

/// The way for a server without the module: the library, loaded where it is missing or older
/// than the gateway's copy; else the script.
fn library_way(con: &mut redis::Connection) -> redis::RedisResult<Way> {
    let listing = match redis::cmd("FUNCTION").arg("LIST").arg("LIBRARYNAME").arg("ratelimit").arg("WITHCODE").query(con) {
        Ok(listing) => listing,
        Err(e) if unknown_command(&e) => return Ok(Way::Script), // no FUNCTION: Redis 6.2, or renamed away
        Err(e) if refused(&e, "function") => return Ok(Way::Function), // cannot look: FCALL will tell
        Err(e) => return Err(e),
    };
    let loaded = library_code(&listing);
    // None (no version named) orders before any version: such a library is older.
    if loaded.as_deref().is_some_and(|code| version_of(code) >= version_of(LIBRARY)) {
        return Ok(Way::Function);
    }
    let mut load = redis::cmd("FUNCTION");
    load.arg("LOAD");
    if loaded.is_some() {
        load.arg("REPLACE");
    }
    match load.arg(LIBRARY).query::<String>(con) {
        Ok(_) => Ok(Way::Function),
        // Another client loaded it between our LIST and LOAD.
        Err(e) if e.to_string().contains("already exists") => Ok(Way::Function),
        // Not permitted: an older library still serves; with none, the script.
        Err(e) if refused(&e, "function") => Ok(if loaded.is_some() { Way::Function } else { Way::Script }),
        Err(e) => Err(e),
    }
}

/// The code of the library in a `FUNCTION LIST ... WITHCODE` reply (RESP2 or RESP3), if any.
fn library_code(listing: &redis::Value) -> Option<String> {
    use redis::Value;
    let Value::Array(libraries) = listing else { return None };
    let fields: Vec<(&Value, &Value)> = match libraries.first()? {
        Value::Array(flat) => flat.chunks_exact(2).filter_map(|pair| Some((pair.first()?, pair.get(1)?))).collect(),
        Value::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        _ => return None,
    };
    fields.into_iter().find_map(|pair| match pair {
        (Value::BulkString(name), Value::BulkString(code)) if name == b"library_code" => Some(String::from_utf8_lossy(code).into_owned()),
        _ => None,
    })
}

/// The version a library names on its line 2 (`-- redis-ratelimit X.Y.Z ...`); None if it names none.
fn version_of(code: &str) -> Option<(u32, u32, u32)> {
    let version = code.lines().nth(1)?.strip_prefix("-- redis-ratelimit ")?.split_whitespace().next()?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next()?, parts.next()?, parts.next()?, parts.next()) {
        (Some(major), Some(minor), Some(patch), None) => Some((major, minor, patch)),
        _ => None,
    }
}

/// The server does not know the command (no module loaded, or no FUNCTION).
fn unknown_command(e: &redis::RedisError) -> bool {
    e.to_string().to_ascii_lowercase().contains("unknown command")
}

/// The ACL user may not call `command` itself (not: a command the library calls).
fn refused(e: &redis::RedisError, command: &str) -> bool {
    e.code() == Some("NOPERM") && e.detail().is_some_and(|d| d.to_ascii_lowercase().contains(&format!("'{command}")))
}

fn function_not_found(e: &redis::RedisError) -> bool {
    e.to_string().to_ascii_lowercase().contains("function not found")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_owned());
    let config = Config {
        redis: redis::Client::open(arg(1, "redis://127.0.0.1:6399/")).expect("redis url"),
        limit: arg(3, "10"),
        window: arg(4, "1m"),
        idle: std::sync::Mutex::new(Vec::new()),
    };
    let listener = TcpListener::bind(arg(2, "127.0.0.1:8080")).expect("listen");
    eprintln!("gateway listening on {}", listener.local_addr().expect("address"));
    let config = std::sync::Arc::new(config);
    for stream in listener.incoming().flatten() {
        let config = config.clone();
        std::thread::spawn(move || {
            if let Err(e) = serve(stream, &config) {
                eprintln!("connection error: {e}");
            }
        });
    }
}

/// Reads one request's head and answers it.
fn serve(stream: TcpStream, config: &Config) -> std::io::Result<()> {
    let peer = stream.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut client = peer;
    let mut line = String::new();
    // A connection closed before a request (a port probe) is not a request: nothing to limit.
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("x-api-key") {
                client = value.trim().to_owned();
            }
        }
    }
    let response = match limit(config, &client) {
        Ok(reply) => render(&reply),
        Err(e) => format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nX-Error: {}\r\n\r\n",
            e.to_string().replace(['\r', '\n'], " ")
        ),
    };
    let mut stream = stream;
    stream.write_all(response.as_bytes())
}

/// One RL.SLIDING call for this client, on an idle connection (or a new one), which goes back
/// to the idle ones after a call that did not fail.
fn limit(config: &Config, client: &str) -> redis::RedisResult<Vec<i64>> {
    let idle = config.idle.lock().ok().and_then(|mut idle| idle.pop());
    let mut limiter = match idle {
        Some(l) => l,
        None => Limiter { con: config.redis.get_connection()?, way: Way::Unknown },
    };
    let reply = limiter.sliding(&format!("gw:{client}"), &config.limit, &config.window)?;
    if let Ok(mut idle) = config.idle.lock() {
        idle.push(limiter);
    }
    Ok(reply)
}

fn render(reply: &[i64]) -> String {
    let [allowed, limit, remaining, retry_after_ms, reset_after_ms] = reply[..] else {
        return "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned();
    };
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let reset_at = (now_ms + reset_after_ms + 999) / 1000;
    let mut head = format!("X-RateLimit-Limit: {limit}\r\nX-RateLimit-Remaining: {remaining}\r\nX-RateLimit-Reset: {reset_at}\r\n");
    let (status, body) = if allowed == 1 {
        ("200 OK", "ok\n".to_owned())
    } else {
        // -1 (never admissible) does not happen here: each request costs 1 <= limit.
        head.push_str(&format!("Retry-After: {}\r\n", (retry_after_ms.max(0) + 999) / 1000));
        ("429 Too Many Requests", "rate limit exceeded\n".to_owned())
    };
    format!("HTTP/1.1 {status}\r\n{head}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

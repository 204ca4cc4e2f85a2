//! A tiny HTTP gateway that rate-limits each client with one RL call per request, and answers
//! 429 Too Many Requests with the standard headers when the limit is reached.
//!
//!     cargo run --release --example gateway -- <redis-url> <listen-addr> <limit> <window>
//!     cargo run --release --example gateway -- redis://127.0.0.1:6399/ 127.0.0.1:8080 10 1m
//!     curl -i -H 'X-Api-Key: alice' http://127.0.0.1:8080/
//!
//! Each client (the `X-Api-Key` header, or the peer address) gets its own RL.SLIDING limiter
//! under the key `gw:<client>`. Where the server has no module (a managed service), the same
//! limiter runs as the script library (functions/ratelimit.lua, loaded with FUNCTION LOAD):
//! each connection finds out once, at its first call, whether the server knows RL.SLIDING,
//! and calls `FCALL rl_sliding` from then on if it does not (or EVALSHA of the script where
//! the server has no FUNCTION either). Keys, replies and stored bytes are the same. The reply maps onto HTTP as the module's README describes:
//! X-RateLimit-Limit = field 2, X-RateLimit-Remaining = field 3,
//! Retry-After = ceil(field 4 / 1000) s, X-RateLimit-Reset = now + field 5 (Unix seconds).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
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

/// The EVALSHA form of the library, for servers without FUNCTION (Redis 6.2).
const SCRIPT: &str = include_str!("../functions/ratelimit-script.lua");

impl Limiter {
    /// One RL.SLIDING call: [allowed, limit, remaining, retry_after_ms, reset_after_ms].
    fn sliding(&mut self, key: &str, limit: &str, window: &str) -> redis::RedisResult<Vec<i64>> {
        loop {
            let result = match self.way {
                Way::Unknown | Way::Module => redis::cmd("RL.SLIDING").arg(key).arg(limit).arg(window).query(&mut self.con),
                Way::Function => redis::cmd("FCALL").arg("rl_sliding").arg(1).arg(key).arg(limit).arg(window).query(&mut self.con),
                Way::Script => redis::Script::new(SCRIPT).key(key).arg("rl_sliding").arg(limit).arg(window).invoke(&mut self.con),
            };
            let next = match (&result, self.way) {
                (Ok(_), Way::Unknown) => Way::Module,
                (Err(e), Way::Unknown) if unknown_command(e) => Way::Function,
                (Err(e), Way::Function) if unknown_command(e) => Way::Script,
                _ => return result,
            };
            self.way = next;
            if next == Way::Module {
                return result;
            }
        }
    }
}

/// The server does not know the command (no module loaded, or no FUNCTION).
fn unknown_command(e: &redis::RedisError) -> bool {
    e.to_string().to_ascii_lowercase().contains("unknown command")
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

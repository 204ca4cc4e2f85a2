//! A tiny HTTP gateway that rate-limits each client with one RL call per request, and answers
//! 429 Too Many Requests with the standard headers when the limit is reached.
//!
//!     cargo run --release --example gateway -- <redis-url> <listen-addr> <limit> <window>
//!     cargo run --release --example gateway -- redis://127.0.0.1:6399/ 127.0.0.1:8080 10 1m
//!     curl -i -H 'X-Api-Key: alice' http://127.0.0.1:8080/
//!
//! Each client (the `X-Api-Key` header, or the peer address) gets its own RL.SLIDING limiter
//! under the key `gw:<client>`. The reply maps onto HTTP as the module's README describes:
//! X-RateLimit-Limit = field 2, X-RateLimit-Remaining = field 3,
//! Retry-After = ceil(field 4 / 1000) s, X-RateLimit-Reset = now + field 5 (Unix seconds).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};

struct Config {
    redis: redis::Client,
    limit: String,
    window: String,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_owned());
    let config = Config {
        redis: redis::Client::open(arg(1, "redis://127.0.0.1:6399/")).expect("redis url"),
        limit: arg(3, "10"),
        window: arg(4, "1m"),
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

/// One RL.SLIDING call for this client: [allowed, limit, remaining, retry_after_ms, reset_after_ms].
fn limit(config: &Config, client: &str) -> redis::RedisResult<Vec<i64>> {
    let mut con = config.redis.get_connection()?;
    redis::cmd("RL.SLIDING").arg(format!("gw:{client}")).arg(&config.limit).arg(&config.window).query(&mut con)
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

//! One harness for real servers: each test starts its own `redis-server` on a free loopback
//! port, in its own directory, waits until it answers, and kills it on drop.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use redis::{Connection, Value};

/// The module under test: `RL_MODULE`, or the release build of this crate.
pub fn module_path() -> PathBuf {
    match std::env::var_os("RL_MODULE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/libredis_ratelimit.so"),
    }
}

/// The server binary: `RL_SERVER` (e.g. valkey-server), or `redis-server`.
pub fn server_binary() -> String {
    std::env::var("RL_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    args: Vec<String>,
}

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free port")
}

impl Server {
    /// A server with the module loaded.
    pub fn start() -> Server {
        Server::start_with(true, &[])
    }

    /// A server, with or without the module, and extra `--name value` arguments.
    pub fn start_with(module: bool, extra: &[&str]) -> Server {
        let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rl-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut args: Vec<String> =
            vec!["--bind".into(), "127.0.0.1".into(), "--save".into(), "".into(), "--dir".into(), dir.display().to_string()];
        if module {
            args.push("--loadmodule".into());
            args.push(module_path().display().to_string());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut server = Server { port: 0, dir, child: None, args };
        server.launch(None);
        server
    }

    /// (Re)starts the process, on a new free port unless one is given; retries if the port
    /// was taken meanwhile.
    fn launch(&mut self, port: Option<u16>) {
        for _attempt in 0..5 {
            let port = port.unwrap_or_else(free_port);
            let log = std::fs::File::create(self.dir.join("server.log")).expect("log file");
            let child = Command::new(server_binary())
                .arg("--port")
                .arg(port.to_string())
                .args(&self.args)
                .stdout(Stdio::from(log))
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server (is it installed? `make test` installs it)");
            self.port = port;
            self.child = Some(child);
            if self.wait_ready() {
                return;
            }
            self.kill();
        }
        panic!("redis-server did not start; log:\n{}", self.log());
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                return false;
            }
            if let Ok(mut c) = self.try_connect() {
                // LOADING while an AOF or RDB is read: wait until PING answers.
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn try_connect(&self) -> redis::RedisResult<Connection> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        client.get_connection_with_timeout(Duration::from_secs(2))
    }

    pub fn connect(&self) -> Connection {
        self.try_connect().expect("connect")
    }

    /// Stops the process (SIGKILL: what a crash or power loss does) and starts it again on
    /// the same port and directory, so it reloads whatever it persisted.
    pub fn restart(&mut self) {
        let port = self.port;
        self.kill();
        self.launch(Some(port));
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a command, returning the five (or more) integers of an RL reply.
pub fn rl(con: &mut Connection, args: &[&str]) -> Vec<i64> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<Vec<i64>>(con).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Runs a command that must fail, returning the error line as the client sees it.
pub fn err(con: &mut Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<Value>(con) {
        Ok(v) => panic!("{args:?} should fail, got {v:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

/// Any command, raw reply.
pub fn run(con: &mut Connection, args: &[&str]) -> Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<Value>(con).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

pub fn get_bytes(con: &mut Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query::<Option<Vec<u8>>>(con).expect("GET")
}

/// The key's absolute expiry in ms (-1: none, -2: no key).
pub fn pexpiretime(con: &mut Connection, key: &str) -> i64 {
    redis::cmd("PEXPIRETIME").arg(key).query::<i64>(con).expect("PEXPIRETIME")
}

/// The server's clock in ms.
pub fn server_ms(con: &mut Connection) -> i64 {
    let (s, us): (i64, i64) = redis::cmd("TIME").query(con).expect("TIME");
    s * 1000 + us / 1000
}

/// Every key with its value and absolute expiry, sorted: what a replica or a reload must
/// reproduce exactly.
pub fn snapshot(con: &mut Connection) -> Vec<(String, Vec<u8>, i64)> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(con).expect("KEYS");
    keys.sort();
    keys.into_iter()
        .filter_map(|k| {
            let v = get_bytes(con, &k)?;
            let t = pexpiretime(con, &k);
            Some((k, v, t))
        })
        .collect()
}

/// Polls `f` every few ms until it returns true or `timeout` passes.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Appends `v` as a LEB128 varint (the stored formats' integers).
fn push_varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// RL.SLIDING's stored bytes, as a test writes them by hand: 0x01, window, start / window,
/// prev, cur.
pub fn sliding_value(window: u64, start: u64, prev: u64, cur: u64) -> Vec<u8> {
    let mut out = vec![0x01];
    for v in [window, start / window.max(1), prev, cur] {
        push_varint(&mut out, v.into());
    }
    out
}

/// RL.TOKEN's stored bytes: 0x02, period, time of the last update, deficit in 1/period tokens.
pub fn token_value(period: u64, at: u64, owed: u128) -> Vec<u8> {
    let mut out = vec![0x02];
    for v in [period.into(), at.into(), owed] {
        push_varint(&mut out, v);
    }
    out
}

/// SET key value PX ttl, for binary values.
pub fn set_bytes(con: &mut Connection, key: &str, value: &[u8], px: Option<u64>) {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(value);
    if let Some(px) = px {
        cmd.arg("PX").arg(px);
    }
    cmd.query::<()>(con).expect("SET");
}

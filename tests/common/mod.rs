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
    /// The script library stands in for the module (RL_CALL=fcall): loaded at every start.
    library: bool,
}

/// How the tests call the rate limiter: the module's RL commands, or the script library
/// (`functions/ratelimit.lua`) on a server without the module, through FCALL or EVALSHA.
/// Chosen by `RL_CALL` (module, fcall, evalsha); one suite, three ways to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Module,
    Fcall,
    Evalsha,
}

pub fn style() -> Style {
    match std::env::var("RL_CALL").as_deref() {
        Ok("fcall") => Style::Fcall,
        Ok("evalsha") => Style::Evalsha,
        _ => Style::Module,
    }
}

/// True when the module answers the RL commands (what only a module can do is tested then).
pub fn module_style() -> bool {
    style() == Style::Module
}

pub const LIBRARY: &str = include_str!("../../functions/ratelimit.lua");
pub const SCRIPT: &str = include_str!("../../functions/ratelimit-script.lua");

/// The library's function for an RL command: `RL.FIXED` -> `rl_fixed`.
pub fn function_of(command: &str) -> String {
    command.to_ascii_lowercase().replace('.', "_")
}

/// The command an RL call becomes in the current style (other commands pass as they are):
/// `RL.FIXED k ...` -> `FCALL rl_fixed 1 k ...` or `EVALSHA <sha> 1 k rl_fixed ...`;
/// `RL.ALL n k1 .. kn ...` -> `FCALL rl_all n k1 .. kn ...` or `EVALSHA <sha> n k1 .. kn rl_all ...`.
pub fn rl_cmd(args: &[&str]) -> redis::Cmd {
    rl_cmd_as(style(), args)
}

pub fn rl_cmd_as(style: Style, args: &[&str]) -> redis::Cmd {
    let words: Vec<Vec<u8>> = args.iter().skip(1).map(|a| a.as_bytes().to_vec()).collect();
    rl_cmd_bytes(style, args.first().copied().unwrap_or_default(), &words)
}

/// `rl_cmd_as` for arguments of any bytes.
pub fn rl_cmd_bytes(style: Style, command: &str, args: &[Vec<u8>]) -> redis::Cmd {
    let is_rl = command.len() > 3 && command[..3].eq_ignore_ascii_case("RL.");
    if style == Style::Module || !is_rl {
        let mut cmd = redis::cmd(command);
        for a in args {
            cmd.arg(&a[..]);
        }
        return cmd;
    }
    let function = function_of(command);
    let (numkeys, keys, rest): (&[u8], &[Vec<u8>], &[Vec<u8>]) = if function == "rl_all" {
        let given = args.first().map_or(&b"0"[..], |n| &n[..]);
        let after = args.get(1..).unwrap_or_default();
        let n = std::str::from_utf8(given).ok().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0).min(after.len());
        (given, &after[..n], &after[n..])
    } else {
        (b"1", &args[..args.len().min(1)], &args[args.len().min(1)..])
    };
    let mut cmd = if style == Style::Fcall { redis::cmd("FCALL") } else { redis::cmd("EVALSHA") };
    if style == Style::Fcall {
        cmd.arg(&function).arg(numkeys);
    } else {
        cmd.arg(script_sha()).arg(numkeys);
    }
    for k in keys {
        cmd.arg(&k[..]);
    }
    if style == Style::Evalsha {
        cmd.arg(&function);
    }
    for a in rest {
        cmd.arg(&a[..]);
    }
    cmd
}

/// The way to call the script library on this server: FCALL, after loading it with FUNCTION
/// LOAD (Redis 7.0+, Valkey), or EVALSHA where the server has no FUNCTION (Redis 6.2).
pub fn library_way(server: &Server, con: &mut Connection) -> Style {
    if server_version(con) < (7, 0, 0) {
        return Style::Evalsha;
    }
    server.load_library();
    Style::Fcall
}

/// What an ACL user needs to run `command` in the current style: the library's functions are
/// all reached through one command, FCALL or EVALSHA, and run the commands they call with the
/// caller's permissions (as the README says).
pub fn grant(con: &mut Connection, command: &str) -> Vec<String> {
    let mut calls = if command.eq_ignore_ascii_case("RL.CONCURRENT") {
        // Its sorted set: read, pruned, written, expired.
        ["+time", "+zcard", "+zscore", "+zrange", "+pexpiretime", "+pttl", "+zremrangebyscore", "+zadd", "+zrem", "+pexpireat"]
            .map(str::to_owned)
            .to_vec()
    } else {
        ["+time", "+get", "+pexpiretime", "+pttl", "+set", "+setrange", "+pexpireat"].map(str::to_owned).to_vec()
    };
    if server_version(con) < (7, 0, 0) {
        calls.retain(|c| c != "+pexpiretime"); // Redis 6.2 has no PEXPIRETIME
    }
    match style() {
        Style::Module => vec![format!("+{}", command.to_ascii_lowercase())],
        Style::Fcall => [vec!["+fcall".to_owned()], calls].concat(),
        Style::Evalsha => [vec!["+evalsha".to_owned(), "+script|load".to_owned()], calls].concat(),
    }
}

/// A command's words, its name first (for COMMAND GETKEYS).
pub fn words_of(cmd: &redis::Cmd) -> Vec<Vec<u8>> {
    cmd.args_iter().filter_map(|a| if let redis::Arg::Simple(w) = a { Some(w.to_vec()) } else { None }).collect()
}

/// The SHA1 of the EVALSHA script, as `SCRIPT LOAD` computes it (asked of a server once).
fn script_sha() -> &'static str {
    static SHA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SHA.get_or_init(|| redis::Script::new(SCRIPT).get_hash().to_owned())
}

/// Runs an RL call in the current style; under EVALSHA, loads the script when the server
/// does not have it yet (a new or restarted server) and runs it again.
pub fn query_rl<T: redis::FromRedisValue>(con: &mut Connection, args: &[&str]) -> redis::RedisResult<T> {
    query_rl_as(style(), con, args)
}

pub fn query_rl_as<T: redis::FromRedisValue>(style: Style, con: &mut Connection, args: &[&str]) -> redis::RedisResult<T> {
    match rl_cmd_as(style, args).query::<T>(con) {
        Err(e) if e.code() == Some("NOSCRIPT") => {
            redis::cmd("SCRIPT").arg("LOAD").arg(SCRIPT).query::<String>(con)?;
            rl_cmd_as(style, args).query::<T>(con)
        }
        other => other,
    }
}

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// The server binary's version, from `--version` (`v=6.2.5`).
pub fn binary_version() -> (u32, u32, u32) {
    let out = Command::new(server_binary()).arg("--version").output().expect("server --version");
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.split_whitespace().find_map(|w| w.strip_prefix("v=")).expect("a version");
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// A free port whose cluster bus port (port + 10000, Redis 6.2's rule) is free too.
fn port_with_free_bus() -> u16 {
    let seed = u64::from(std::process::id())
        ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    for i in 0..1000u64 {
        let port = 20_000 + ((seed.wrapping_mul(6364136223846793005).wrapping_add(i * 7919)) % 20_000) as u16;
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10_000) {
            return port;
        }
    }
    panic!("no free port with a free bus port")
}

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
        Server::start_at(None, module, extra)
    }

    /// As `start_with`, on the given port.
    pub fn start_on(port: u16, module: bool, extra: &[&str]) -> Server {
        Server::start_at(Some(port), module, extra)
    }

    fn start_at(port: Option<u16>, module: bool, extra: &[&str]) -> Server {
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
        let library = module && style() != Style::Module;
        if library {
            args.truncate(args.len() - 2);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut server = Server { port: 0, dir, child: None, args, library };
        server.launch(port);
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
                if self.library && style() == Style::Fcall {
                    self.load_library();
                }
                return;
            }
            self.kill();
        }
        panic!("redis-server did not start; log:\n{}", self.log());
    }

    fn wait_ready(&mut self) -> bool {
        // RL_START_SECONDS: more time for a server started under valgrind.
        let seconds = std::env::var("RL_START_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
        let deadline = Instant::now() + Duration::from_secs(seconds);
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

    /// FUNCTION LOAD REPLACE the script library (a replica gets it from its primary).
    pub fn load_library(&self) {
        let mut c = self.connect();
        let role = info_field(&mut c, "replication", "role");
        if role != "slave" {
            let name: String = redis::cmd("FUNCTION").arg("LOAD").arg("REPLACE").arg(LIBRARY).query(&mut c).expect("FUNCTION LOAD");
            assert_eq!(name, "ratelimit");
        }
    }

    pub fn try_connect(&self) -> redis::RedisResult<Connection> {
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

    /// Asks the server to exit on its own (`SHUTDOWN NOSAVE`) and waits for it: a tool that
    /// wraps the server (valgrind) reports only when the process exits normally.
    pub fn shutdown(&mut self) {
        if let Ok(mut c) = self.try_connect() {
            let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<Value>(&mut c);
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
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
        if std::env::var_os("RL_GRACEFUL_STOP").is_some() {
            self.shutdown();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a command, returning the five (or more) integers of an RL reply.
pub fn rl(con: &mut Connection, args: &[&str]) -> Vec<i64> {
    query_rl::<Vec<i64>>(con, args).unwrap_or_else(|e| panic!("{args:?} failed ({:?}): {e}", style()))
}

/// Runs a command that must fail, returning the error line as the client sees it.
pub fn err(con: &mut Connection, args: &[&str]) -> String {
    match query_rl::<Value>(con, args) {
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
    match redis::cmd("PEXPIRETIME").arg(key).query::<i64>(con) {
        Ok(at) => at,
        Err(e) if e.to_string().contains("unknown command") => pexpiretime_from_pttl(con, key),
        Err(e) => panic!("PEXPIRETIME {key}: {e}"),
    }
}

/// PEXPIRETIME where the server lacks it (Redis 6.2): PTTL between two readings of the
/// server's clock in one transaction; exact when both readings fall in the same millisecond
/// (PTTL is computed with that clock), so read again until they do.
fn pexpiretime_from_pttl(con: &mut Connection, key: &str) -> i64 {
    try_pexpiretime_from_pttl(con, key).expect("TIME PTTL TIME")
}

fn try_pexpiretime_from_pttl(con: &mut Connection, key: &str) -> redis::RedisResult<i64> {
    for _ in 0..100 {
        let (before, ttl, after): ((i64, i64), i64, (i64, i64)) = redis::pipe().cmd("TIME").cmd("PTTL").arg(key).cmd("TIME").query(con)?;
        if ttl < 0 {
            return Ok(ttl);
        }
        let ms = |(s, us): (i64, i64)| s * 1000 + us / 1000;
        if ms(before) == ms(after) {
            return Ok(ms(before) + ttl);
        }
    }
    panic!("the server's clock never held still for PTTL of {key}")
}

/// The server's version as (major, minor, patch): Redis's, or Valkey's own.
pub fn server_version(con: &mut Connection) -> (u32, u32, u32) {
    let info: String = redis::cmd("INFO").arg("server").query(con).expect("INFO server");
    let field = |name: &str| info.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
    let version = field("valkey_version:").or_else(|| field("redis_version:")).expect("a version");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Whether the server is Valkey.
pub fn is_valkey(con: &mut Connection) -> bool {
    let info: String = redis::cmd("INFO").arg("server").query(con).expect("INFO server");
    info.contains("valkey_version:")
}

/// The server's clock in ms.
pub fn server_ms(con: &mut Connection) -> i64 {
    let (s, us): (i64, i64) = redis::cmd("TIME").query(con).expect("TIME");
    s * 1000 + us / 1000
}

/// What a key holds, as a snapshot compares it: a string's bytes; a sorted set's members with
/// their scores as the server prints them (`ZRANGE key 0 -1 WITHSCORES`: exact, in order);
/// for any other type, its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    String(Vec<u8>),
    SortedSet(Vec<(Vec<u8>, String)>),
    Other(String),
}

/// A key, what it holds and its absolute expiry in ms.
pub type Snapshot = (String, Contents, i64);

/// Every key with its contents and absolute expiry, sorted: what a replica or a reload must
/// reproduce exactly. A key that expires while it is read is left out.
pub fn snapshot(con: &mut Connection) -> Vec<Snapshot> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(con).expect("KEYS");
    keys.sort();
    keys.into_iter()
        .filter_map(|k| {
            let kind: String = redis::cmd("TYPE").arg(&k).query(con).expect("TYPE");
            let contents = match kind.as_str() {
                "string" => Contents::String(get_bytes(con, &k)?),
                "zset" => Some(zset_members(con, &k)).filter(|m| !m.is_empty()).map(Contents::SortedSet)?,
                "none" => return None,
                other => Contents::Other(other.to_owned()),
            };
            let t = pexpiretime(con, &k);
            Some((k, contents, t))
        })
        .collect()
}

/// A sorted set's members and scores in order (`ZRANGE key 0 -1 WITHSCORES`), the scores as the
/// server prints them.
pub fn zset_members(con: &mut Connection, key: &str) -> Vec<(Vec<u8>, String)> {
    redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES").query(con).expect("ZRANGE WITHSCORES")
}

/// RL.CONCURRENT's leases under `key`, in the order of their expiries: (id, expiry in ms).
/// Panics on a score that is not a whole number.
pub fn leases(con: &mut Connection, key: &str) -> Vec<(String, i64)> {
    as_leases(key, zset_members(con, key))
}

/// `key`'s leases and its expiry, every read fallible: an error (MOVED while a failover
/// settles: a node that answered one read may refuse the next) is the caller's to retry.
pub fn leases_and_expiry(con: &mut Connection, key: &str) -> redis::RedisResult<(Vec<(String, i64)>, i64)> {
    let members: Vec<(Vec<u8>, String)> = redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES").query(con)?;
    let expiry = match redis::cmd("PEXPIRETIME").arg(key).query::<i64>(con) {
        Ok(at) => at,
        Err(e) if e.to_string().contains("unknown command") => try_pexpiretime_from_pttl(con, key)?,
        Err(e) => return Err(e),
    };
    Ok((as_leases(key, members), expiry))
}

fn as_leases(key: &str, members: Vec<(Vec<u8>, String)>) -> Vec<(String, i64)> {
    members
        .into_iter()
        .map(|(id, score)| {
            let at = score.parse::<i64>().unwrap_or_else(|_| panic!("{key}: score {score} is not whole ms"));
            (String::from_utf8_lossy(&id).into_owned(), at)
        })
        .collect()
}

/// Whether RL.CONCURRENT can be called in the current style: the module has it; the script
/// library once it has `rl_concurrent`.
pub fn has_concurrent() -> bool {
    module_style() || LIBRARY.contains("rl_concurrent")
}

/// Asserts that `actual` holds exactly the state in `expected`. Both snapshots were read
/// before `read_by_ms` (server clock); since the two reads happen at different moments, a key
/// that one side lacks is accepted only if it had expired by `read_by_ms` (it expired between
/// the reads). Every key both sides hold must match in value and expiry.
pub fn assert_same_state(actual: &[Snapshot], expected: &[Snapshot], read_by_ms: i64) {
    use std::collections::BTreeMap;
    let a: BTreeMap<&str, &Snapshot> = actual.iter().map(|e| (e.0.as_str(), e)).collect();
    let e: BTreeMap<&str, &Snapshot> = expected.iter().map(|e| (e.0.as_str(), e)).collect();
    for (key, want) in &e {
        match a.get(key) {
            Some(got) => assert_eq!(got, want, "key {key} differs"),
            None => assert!(want.2 != -1 && want.2 <= read_by_ms, "key {key} missing, not expired: {want:?}"),
        }
    }
    for (key, got) in &a {
        assert!(e.contains_key(key) || (got.2 != -1 && got.2 <= read_by_ms), "unexpected key {key}: {got:?}");
    }
}

/// A field of `INFO section`.
pub fn info_field(con: &mut Connection, section: &str, field: &str) -> String {
    let info: String = redis::cmd("INFO").arg(section).query(con).expect("INFO");
    info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or("").trim().to_owned()
}

/// A replica of `primary` without the module, synced.
pub fn start_replica_of(primary: &Server) -> Server {
    let replica = Server::start_with(false, &["--replicaof", "127.0.0.1", &primary.port.to_string()]);
    let mut c = replica.connect();
    assert!(
        eventually(Duration::from_secs(10), || info_field(&mut c, "replication", "master_link_status") == "up"),
        "replica never synced"
    );
    replica
}

/// Waits until the replica acknowledged every write so far.
pub fn wait_for_replica(primary: &mut Connection) {
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(5000).query(primary).expect("WAIT");
    assert_eq!(acked, 1, "replica did not acknowledge");
}

/// Failed calls on the server so far (`INFO errorstats`), and connections received.
pub fn error_and_connection_counts(c: &mut Connection) -> (i64, i64) {
    let errors: String = redis::cmd("INFO").arg("errorstats").query(c).expect("INFO errorstats");
    let errors = errors.lines().filter_map(|l| l.split_once(":count=")?.1.trim().parse::<i64>().ok()).sum();
    (errors, info_field(c, "stats", "total_connections_received").parse().unwrap_or(0))
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

/// The RL commands that take one key, each with the short key the tests give it.
pub const COMMANDS: [(&str, &str); 5] = [("RL.FIXED", "f"), ("RL.SLIDING", "s"), ("RL.LOG", "l"), ("RL.TOKEN", "t"), ("RL.LEAKY", "q")];

/// `cmd`'s parameters for `limit` per hour (RL.TOKEN and RL.LEAKY: capacity `limit`, 1 per hour).
pub fn per_hour<'a>(cmd: &str, limit: &'a str) -> Vec<&'a str> {
    match cmd {
        "RL.TOKEN" | "RL.LEAKY" => vec![limit, "1", "1h"],
        _ => vec![limit, "1h"],
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

/// A Redis Cluster of `primaries` primaries with one replica each, the module on every node,
/// each node on its own free port and bus port, formed with `redis-cli --cluster create`.
pub struct Cluster {
    pub nodes: Vec<Server>,
}

impl Cluster {
    pub fn start(primaries: usize) -> Cluster {
        // Redis 6.2 has no --cluster-port: its bus listens on the port + 10000.
        let bus_option = binary_version() >= (7, 0, 0);
        let nodes: Vec<Server> = (0..primaries * 2)
            .map(|_| {
                let mut args = vec![
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "1500",
                    "--appendonly",
                    "yes",
                ];
                if bus_option {
                    let bus = free_port().to_string();
                    args.extend(["--cluster-port", bus.leak()]);
                    Server::start_with(true, &args)
                } else {
                    Server::start_on(port_with_free_bus(), true, &args)
                }
            })
            .collect();
        let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create");
        assert!(out.status.success(), "cluster create failed: {}", String::from_utf8_lossy(&out.stdout));
        let cluster = Cluster { nodes };
        cluster.wait_ok();
        // cluster_state:ok comes before the replicas' first sync: wait for every link.
        let linked = eventually(Duration::from_secs(30), || {
            cluster.nodes.iter().all(|n| {
                let mut c = n.connect();
                let info: String = redis::cmd("INFO").arg("replication").query(&mut c).unwrap_or_default();
                info.contains("role:master") && info.contains("connected_slaves:1") || info.contains("master_link_status:up")
            })
        });
        assert!(linked, "replicas never linked to their primaries");
        cluster
    }

    /// Waits until every live node reports cluster_state:ok and agrees on the slot owners.
    pub fn wait_ok(&self) {
        let ok = eventually(Duration::from_secs(30), || {
            self.nodes.iter().filter(|n| n.try_connect().is_ok()).all(|n| {
                let mut c = n.connect();
                let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut c).unwrap_or_default();
                info.contains("cluster_state:ok")
            })
        });
        assert!(ok, "cluster never reached state ok");
    }

    pub fn client(&self) -> redis::cluster::ClusterConnection {
        let urls: Vec<String> = self.nodes.iter().map(|n| format!("redis://127.0.0.1:{}/", n.port)).collect();
        redis::cluster::ClusterClient::new(urls).expect("cluster client").get_connection().expect("cluster connection")
    }

    /// The node (index) whose role is master and that serves `key`'s slot.
    pub fn owner_of(&mut self, key: &str) -> usize {
        let mut any = self.nodes.iter().find(|n| n.try_connect().is_ok()).expect("a live node").connect();
        let slot: i64 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(&mut any).expect("KEYSLOT");
        let slots: Vec<Value> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut any).expect("SLOTS");
        for range in slots {
            let Value::Array(parts) = range else { continue };
            let (Some(Value::Int(lo)), Some(Value::Int(hi)), Some(Value::Array(master))) = (parts.first(), parts.get(1), parts.get(2))
            else {
                continue;
            };
            if (*lo..=*hi).contains(&slot) {
                if let Some(Value::Int(port)) = master.get(1) {
                    return self.nodes.iter().position(|n| i64::from(n.port) == *port).expect("owner among nodes");
                }
            }
        }
        panic!("no owner for slot {slot}");
    }

    /// Indexes of the nodes whose ROLE is master.
    pub fn primaries(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| role(&self.nodes[i]) == "master").collect()
    }
}

/// "master", "slave", or "" for a node that does not answer.
pub fn role(node: &Server) -> String {
    let Ok(mut c) = node.try_connect() else { return String::new() };
    match redis::cmd("ROLE").query::<Value>(&mut c) {
        Ok(Value::Array(v)) => match v.first() {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

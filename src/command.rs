//! Every command the module registers, described once. Registration, flags, ACL categories,
//! key positions, `COMMAND DOCS`, the `INFO ratelimit` fields and the keyspace events all come
//! from [`Command::describe`]: adding a command is a variant and its row (the compiler refuses
//! a variant without one), its dispatch arm in `lib.rs`, and its own files.
//!
//! Pure data: this file imports nothing of the crate but the algorithms' names, so every layer
//! may name a command.

use std::ffi::CStr;
use std::fmt;

use crate::algo::Algorithm;

/// Declares the enum and [`Command::ALL`] from one list, so that the two cannot differ.
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident,)*) => {
        /// A command of the module.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Command {
            $($(#[$doc])* $variant,)*
        }

        impl Command {
            /// Every command, in registration (and `INFO`) order; `ALL[c as usize] == c`.
            pub const ALL: [Command; [$(Command::$variant),*].len()] = [$(Command::$variant),*];
        }
    };
}

commands! {
    Fixed,
    Sliding,
    Log,
    Token,
    Leaky,
    /// RL.CONCURRENT: how many at once, with leases.
    Concurrent,
    /// RL.ALL: several limiters, all or nothing.
    All,
    /// CL.THROTTLE: redis-cell's command, for its users to switch modules without a client change.
    Throttle,
    /// RL.TOP: the keys this node refused most over about the last minute (admin).
    Top,
}

/// The most keys one RL.ALL call takes.
pub const MAX_KEYS: usize = 16;

/// The longest `id` of an RL.CONCURRENT holder, in bytes.
pub const MAX_ID: usize = 256;

/// Where a command's keys are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// One key, at position 1 (first = last = step = 1), so cluster routing and ACL key
    /// patterns apply as for any single-key command.
    First,
    /// `numkeys` at position 1, then that many keys: declared by a key spec (ACL, COMMAND
    /// DOCS/GETKEYS) and through the getkeys API (Redis 7.0's cluster slot check uses only
    /// that, or first/last/step, which cannot describe numkeys; Redis 6.2 uses it for ACL key
    /// patterns too).
    NumKeys,
    /// None: a command about the node, not about a key (RL.TOP).
    None,
}

/// The type of an argument, as `COMMAND DOCS` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    Key,
    Integer,
    String,
    /// A bare word (`PEEK`).
    PureToken,
}

/// One argument in `COMMAND DOCS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static CStr,
    pub kind: ArgType,
    /// The word that introduces it (`COST n`).
    pub token: Option<&'static CStr>,
    pub optional: bool,
    pub multiple: bool,
    /// How redis-cli shows it, where its name would not say enough.
    pub display: Option<&'static CStr>,
}

impl Arg {
    const fn new(name: &'static CStr, kind: ArgType) -> Arg {
        Arg { name, kind, token: None, optional: false, multiple: false, display: None }
    }

    const fn optional(self) -> Arg {
        Arg { optional: true, ..self }
    }

    const fn multiple(self) -> Arg {
        Arg { multiple: true, ..self }
    }

    /// An optional argument introduced by `token`.
    const fn option(name: &'static CStr, token: &'static CStr, kind: ArgType) -> Arg {
        Arg { token: Some(token), optional: true, ..Arg::new(name, kind) }
    }
}

/// What `COMMAND DOCS` and `COMMAND INFO` show of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Docs {
    pub summary: &'static CStr,
    pub complexity: &'static CStr,
    /// Redis's arity: negative, the fewest words of a call, the name included.
    pub arity: i32,
    /// The arguments after the name, keys included.
    pub args: &'static [Arg],
}

/// A keyspace event: its name, and the class of key it is published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub name: &'static CStr,
    /// Whether it is a sorted set's event (`z` in notify-keyspace-events), else a string's (`$`).
    pub sorted_set: bool,
}

impl Event {
    const fn string(name: &'static CStr) -> Option<Event> {
        Some(Event { name, sorted_set: false })
    }
}

/// Everything the module tells the server and its users about a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Description {
    /// The name as registered (Redis matches it in any case); errors show it in upper case.
    pub name: &'static CStr,
    /// `RedisModule_CreateCommand`'s flags. `fast` (no worse than O(log N)) where it holds;
    /// the built-in ACL categories follow from them (`@write`, and `@fast` or `@slow`).
    pub flags: &'static CStr,
    pub keys: Keys,
    pub docs: Docs,
    /// The prefix of its `INFO ratelimit` fields (`fixed` gives `ratelimit_fixed_calls`, ...).
    pub info: &'static CStr,
    /// The keyspace event of a key it writes (None: RL.ALL, which signals each key with its
    /// algorithm's event).
    pub event: Option<Event>,
    /// Whether the module loads without it when another module registered the name first
    /// (redis-cell's CL.THROTTLE).
    pub optional: bool,
    /// Whether its calls may give a slot back: INFO then counts them (`<prefix>_releases`).
    pub releases: bool,
    /// Whether it decides on requests (a limiter: it writes keys, and INFO counts its
    /// admissions, refusals and peeks); false for RL.TOP, which reads the node's memory.
    pub decides: bool,
}

const KEY: Arg = Arg::new(c"key", ArgType::Key);
const LIMIT: Arg = Arg::new(c"limit", ArgType::Integer);
const WINDOW: Arg = Arg::new(c"window", ArgType::String);
const CAPACITY: Arg = Arg::new(c"capacity", ArgType::Integer);
const RATE: Arg = Arg::new(c"rate", ArgType::Integer);
const PERIOD: Arg = Arg::new(c"period", ArgType::String);
const COST: Arg = Arg::option(c"cost", c"COST", ArgType::Integer);
const PEEK: Arg = Arg::option(c"peek", c"PEEK", ArgType::PureToken);
const FORCE: Arg = Arg::option(c"force", c"FORCE", ArgType::PureToken);
// REFUND n stands alone (the parser enforces it); listed as one more optional argument.
const REFUND: Arg = Arg::option(c"refund", c"REFUND", ArgType::Integer);

const WINDOW_ARGS: &[Arg] = &[KEY, LIMIT, WINDOW, COST, PEEK, FORCE, REFUND];
const BUCKET_ARGS: &[Arg] = &[KEY, CAPACITY, RATE, PERIOD, COST, PEEK, FORCE, REFUND];
/// key + limit + window at least; options may follow.
const WINDOW_ARITY: i32 = -4;
const BUCKET_ARITY: i32 = -5;
const ONE_KEY_WRITE: &CStr = c"write deny-oom fast";

const ID: Arg = Arg::new(c"id", ArgType::String);
const RELEASE: Arg = Arg::option(c"release", c"RELEASE", ArgType::PureToken);

/// The rows of the table, one per command.
const FIXED: Description = Description {
    name: c"rl.fixed",
    flags: ONE_KEY_WRITE,
    keys: Keys::First,
    docs: Docs {
        summary: c"Fixed window rate limit (epoch-aligned): admits a request of COST units if the window's count allows it.",
        complexity: c"O(1)",
        arity: WINDOW_ARITY,
        args: WINDOW_ARGS,
    },
    info: c"fixed",
    event: Event::string(c"rl.fixed"),
    optional: false,
    releases: false,
    decides: true,
};

const SLIDING: Description = Description {
    name: c"rl.sliding",
    flags: ONE_KEY_WRITE,
    keys: Keys::First,
    docs: Docs {
        summary: c"Sliding window counter rate limit: the previous window weighted by its overlap, compared exactly.",
        complexity: c"O(1)",
        arity: WINDOW_ARITY,
        args: WINDOW_ARGS,
    },
    info: c"sliding",
    event: Event::string(c"rl.sliding"),
    optional: false,
    releases: false,
    decides: true,
};

const LOG: Description = Description {
    name: c"rl.log",
    // It may walk its entries: not `fast`.
    flags: c"write deny-oom",
    keys: Keys::First,
    docs: Docs {
        summary: c"Exact sliding window log rate limit: counts every request of the last window.",
        complexity: c"O(1) amortized when admitted; O(N) when denied, N the requests logged in the window.",
        arity: WINDOW_ARITY,
        args: WINDOW_ARGS,
    },
    info: c"log",
    event: Event::string(c"rl.log"),
    optional: false,
    releases: false,
    decides: true,
};

const TOKEN: Description = Description {
    name: c"rl.token",
    flags: ONE_KEY_WRITE,
    keys: Keys::First,
    docs: Docs {
        summary: c"Token bucket rate limit: CAPACITY tokens, refilled continuously with RATE tokens per PERIOD.",
        complexity: c"O(1)",
        arity: BUCKET_ARITY,
        args: BUCKET_ARGS,
    },
    info: c"token",
    event: Event::string(c"rl.token"),
    optional: false,
    releases: false,
    decides: true,
};

const LEAKY: Description = Description {
        name: c"rl.leaky",
        flags: ONE_KEY_WRITE,
        keys: Keys::First,
        docs: Docs {
            summary: c"Leaky bucket as a queue (traffic shaping): admits up to CAPACITY queued units draining at RATE per PERIOD, and replies with the delay before the request may proceed.",
            complexity: c"O(1)",
            arity: BUCKET_ARITY,
            args: BUCKET_ARGS,
        },
        info: c"leaky",
        event: Event::string(c"rl.leaky"),
        optional: false,
    releases: false,
    decides: true,
};

const CONCURRENT: Description = Description {
    name: c"rl.concurrent",
    // It walks the expired leases and, when refused, the live ones: not `fast`.
    flags: c"write deny-oom",
    keys: Keys::First,
    docs: Docs {
        summary: c"Concurrency limit with leases: takes one of LIMIT slots for ID (or renews the one it holds) for LEASE, unless renewed or released.",
        complexity: c"O(log N) when admitted, plus the expired leases it drops; O(N) when refused, N the live leases.",
        // key + limit + lease + id.
        arity: -5,
        args: &[KEY, LIMIT, Arg::new(c"lease", ArgType::String), ID, PEEK, RELEASE],
    },
    info: c"concurrent",
    event: Some(Event { name: c"rl.concurrent", sorted_set: true }),
    optional: false,
    releases: true,
    decides: true,
};

const ALL: Description = Description {
    name: c"rl.all",
    // O(N) in its keys: not `fast`.
    flags: c"write deny-oom getkeys-api",
    keys: Keys::NumKeys,
    docs: Docs {
        summary:
            c"Several rate limits, all or nothing: admitted only if every limiter admits, then every one is charged; otherwise none is.",
        complexity: c"O(N) for N keys, plus each algorithm's own cost.",
        // numkeys, a key and a spec of at least 3 words.
        arity: -6,
        args: &[
            Arg::new(c"numkeys", ArgType::Integer),
            KEY.multiple(),
            Arg {
                display: Some(c"FIXED|SLIDING|LOG limit window | TOKEN|LEAKY capacity rate period | CONCURRENT limit lease"),
                ..Arg::new(c"spec", ArgType::String).multiple()
            },
            COST,
            PEEK,
            // The holder of its CONCURRENT specs' leases.
            Arg::option(c"id", c"ID", ArgType::String),
        ],
    },
    info: c"all",
    event: None,
    optional: false,
    releases: false,
    decides: true,
};

const THROTTLE: Description = Description {
        name: c"cl.throttle",
        flags: ONE_KEY_WRITE,
        keys: Keys::First,
        docs: Docs {
            summary: c"redis-cell's CL.THROTTLE (GCRA): admits QUANTITY (default 1) if a burst of MAX_BURST + 1 at COUNT_PER_PERIOD per PERIOD seconds allows it. Replies 0 when admitted, 1 when limited.",
            complexity: c"O(1)",
            arity: -5,
            args: &[
                KEY,
                Arg::new(c"max_burst", ArgType::Integer),
                Arg::new(c"count_per_period", ArgType::Integer),
                Arg::new(c"period", ArgType::Integer),
                // redis-cell's optional positional quantity.
                Arg::new(c"quantity", ArgType::Integer).optional(),
            ],
        },
        info: c"throttle",
        event: Event::string(c"rl.throttle"),
        optional: true,
    releases: false,
    decides: true,
};

const TOP: Description = Description {
    name: c"rl.top",
    // It reveals key names across tenants, as SLOWLOG does: `admin` (ACL @admin). It reads
    // only the module's memory: no keys, no write, and allowed while loading and on a stale
    // replica (where it answers empty).
    flags: c"admin allow-loading allow-stale",
    keys: Keys::None,
    docs: Docs {
        summary: c"The keys this node refused most over about the last minute: [key, refusals, overcount] entries, most refused first, with refusals - overcount <= true refusals <= refusals. RESET forgets them.",
        complexity: c"O(N log N), N the tracked keys (at most 512); RESET O(1).",
        arity: -1,
        args: &[Arg::new(c"count", ArgType::Integer).optional(), Arg::option(c"reset", c"RESET", ArgType::PureToken)],
    },
    info: c"top",
    event: None,
    optional: false,
    releases: false,
    decides: false,
};

impl Command {
    pub const fn describe(self) -> &'static Description {
        match self {
            Command::Fixed => &FIXED,
            Command::Sliding => &SLIDING,
            Command::Log => &LOG,
            Command::Token => &TOKEN,
            Command::Leaky => &LEAKY,
            Command::Concurrent => &CONCURRENT,
            Command::All => &ALL,
            Command::Throttle => &THROTTLE,
            Command::Top => &TOP,
        }
    }

    /// The command that runs `algorithm` on one key.
    pub const fn of(algorithm: Algorithm) -> Command {
        match algorithm {
            Algorithm::Fixed => Command::Fixed,
            Algorithm::Sliding => Command::Sliding,
            Algorithm::Log => Command::Log,
            Algorithm::Token => Command::Token,
            Algorithm::Leaky => Command::Leaky,
        }
    }

    /// The word an RL.ALL spec names the command's limiter by: its name without `rl.`
    /// (`fixed`, `concurrent`).
    pub fn spec_word(self) -> &'static [u8] {
        let name = self.describe().name.to_bytes();
        name.strip_prefix(b"rl.").unwrap_or(name)
    }

    /// The commands whose limiters an RL.ALL spec may name, in the order errors list them.
    pub const SPECS: [Command; 6] = [Command::Fixed, Command::Sliding, Command::Log, Command::Token, Command::Leaky, Command::Concurrent];
}

/// The name as clients write it in errors: `RL.FIXED`.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe().name.to_string_lossy().to_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_declaration_order_with_distinct_names() {
        for (i, c) in Command::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c}");
            let d = c.describe();
            assert!(Command::ALL.iter().skip(i + 1).all(|o| o.describe().name != d.name && o.describe().info != d.info), "{c}");
        }
    }

    #[test]
    fn every_description_is_consistent() {
        for c in Command::ALL {
            let d = c.describe();
            let flags = d.flags.to_str().expect("ASCII");
            let has = |flag: &str| flags.split(' ').any(|f| f == flag);
            // A limiter writes its key; a command about the node (RL.TOP) is an admin command
            // with neither keys nor writes.
            assert_eq!(has("write") && has("deny-oom"), d.decides, "{c}: {flags}");
            assert_eq!(has("admin"), !d.decides, "{c}: {flags}");
            assert_eq!(d.keys == Keys::None, !d.decides, "{c}");
            // Redis asks a command for its keys only with getkeys-api, and numkeys needs it.
            assert_eq!(flags.contains("getkeys-api"), d.keys == Keys::NumKeys, "{c}");
            let required = d.docs.args.iter().filter(|a| !a.optional).count() as i32;
            assert!(d.docs.arity < 0 && -d.docs.arity > required, "{c}: arity {} for {required} arguments", d.docs.arity);
            let first = match d.keys {
                Keys::First => ArgType::Key,
                Keys::NumKeys | Keys::None => ArgType::Integer,
            };
            assert_eq!(d.docs.args.first().map(|a| a.kind), Some(first), "{c}");
            assert_eq!(d.keys == Keys::None, d.docs.args.iter().all(|a| a.kind != ArgType::Key), "{c}");
            assert_eq!(d.event.is_none(), c == Command::All || !d.decides, "{c}");
        }
    }

    #[test]
    fn names_in_errors_and_specs() {
        assert_eq!(Command::Fixed.to_string(), "RL.FIXED");
        assert_eq!(Command::Throttle.to_string(), "CL.THROTTLE");
        let specs: Vec<&[u8]> = Command::SPECS.into_iter().map(Command::spec_word).collect();
        assert_eq!(specs, [&b"fixed"[..], b"sliding", b"log", b"token", b"leaky", b"concurrent"]);
        assert!(Algorithm::ALL.into_iter().all(|a| Command::SPECS.contains(&Command::of(a))));
    }
}

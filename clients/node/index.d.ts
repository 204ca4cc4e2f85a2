/**
 * redis-ratelimit: rate limits and leases on Redis and Valkey, decided in the server by the
 * `ratelimit` module where it is loaded and by the same commands as a script library where it
 * is not.
 */

/** An integer the package takes: a safe-integer `number` or a `BigInt` (up to 2^63-1). */
export type Int = number | bigint;
/** Milliseconds, or the commands' strings: '1500ms', '60s', '1m', '1h', '1d'. */
export type Duration = Int | string;
/** A holder's id: a string (its UTF-8 bytes) or a Buffer, 1 to 256 bytes. */
export type Id = string | Buffer;
export type Backend = 'module' | 'function' | 'script';
export type Kind = 'fixed' | 'sliding' | 'log' | 'token' | 'leaky' | 'concurrent';

export interface RuleOptions {
  /** The policy's name in the headers (default: derived from the rule, 'sliding-100-1m'). */
  name?: string;
}

/** An algorithm and its numbers: made by fixed, sliding, log, token, leaky or concurrent. */
export class Rule {
  private constructor();
  readonly kind: Kind;
  /** The RL.ALL spec word, and the command RL.<word>. */
  readonly word: string;
  /** The quota: limit or capacity (a number, or a BigInt past 2^53). */
  readonly limit: number | bigint;
  /** The time the quota applies to (the `w` of RateLimit-Policy), in ms. */
  readonly windowMs: number | bigint;
  /** The policy's name in the headers. */
  readonly policy: string;
  /** The `qu` of RateLimit-Policy. */
  readonly quotaUnit: 'requests' | 'concurrent-requests';
  /** The numbers as the commands take them (decimal strings, durations in ms). */
  readonly arguments: readonly string[];
}

/** A rate rule (everything but concurrent): hit, peek, refund, hitAll. */
export interface RateRule extends Rule {
  readonly kind: 'fixed' | 'sliding' | 'log' | 'token' | 'leaky';
}
/** A concurrent rule: acquire, release, lease, peek with an id, hitAll with an id. */
export interface ConcurrentRule extends Rule {
  readonly kind: 'concurrent';
  readonly leaseMs: number | bigint;
}

/** `limit` per `window`, windows aligned to the Unix epoch (RL.FIXED). */
export function fixed(limit: Int, window: Duration, options?: RuleOptions): RateRule;
/** `limit` per `window`, the previous window weighted in (RL.SLIDING). */
export function sliding(limit: Int, window: Duration, options?: RuleOptions): RateRule;
/** Exactly `limit` in any `window` (RL.LOG). */
export function log(limit: Int, window: Duration, options?: RuleOptions): RateRule;
/** A bucket of `capacity` tokens refilled at `rate` per `period` (RL.TOKEN). */
export function token(capacity: Int, rate: Int, period: Duration, options?: RuleOptions): RateRule;
/** A queue of `capacity` leaving at `rate` per `period`; an admitted request waits `delayMs` (RL.LEAKY). */
export function leaky(capacity: Int, rate: Int, period: Duration, options?: RuleOptions): RateRule;
/** At most `limit` holders at once, each lease ending `lease` after it was taken or renewed (RL.CONCURRENT). */
export function concurrent(limit: Int, lease: Duration, options?: RuleOptions): ConcurrentRule;

export interface ProblemDetails {
  type: string;
  title: string;
  status: 413 | 429;
  'violated-policies': string[];
  detail?: string;
}

/** What a limiter answered. Numbers are `number`s, or `BigInt`s past 2^53 (never rounded). */
export class Decision {
  private constructor();
  /** Admitted (and counted, unless it was a peek). */
  readonly allowed: boolean;
  readonly limit: number | bigint;
  /** The largest cost that would be admitted now, after this call. */
  readonly remaining: number | bigint;
  /** 0 when allowed; -1 when the request can never be admitted (cost above the limit). */
  readonly retryAfterMs: number | bigint;
  /** The time until the limiter is back to full if no other traffic came. */
  readonly resetAfterMs: number | bigint;
  /** A leaky rule's wait before an admitted request proceeds (else 0). */
  readonly delayMs: number | bigint;
  /** The limiter's key; hitAll: the decisive limiter's. */
  readonly key: string;
  /** What served the call. */
  readonly backend: Backend;
  /** The decisive limiter's rule. */
  readonly rule: Rule;
  /** Every rule of the call, in key order. */
  readonly rules: readonly Rule[];
  /** True when no wait can admit this request. */
  readonly never: boolean;
  /** RateLimit-Policy, RateLimit, Retry-After (refused, curable); `legacy`: X-RateLimit-*. */
  headers(options?: { legacy?: boolean }): Record<string, string>;
  /** The draft's problem details for a refusal (application/problem+json). */
  problem(): ProblemDetails;
}

/** The `backend` label: what served a call, or 'unknown' for a call that failed before its
 * node's path was known. */
export type MetricsBackend = Backend | 'unknown';

/**
 * What a Limiter records its calls in (`new Limiter(client, { metrics })`): a
 * `PrometheusMetrics` (`redis-ratelimit/metrics`), or any object with these four methods. Each
 * is called once per rule of a call, with the rule's `policy` and the call's backend; a sink
 * must not throw (its error would reject the call it records).
 */
export interface MetricsSink {
  /**
   * One check that got a decision: `hit`, each rule of `hitAll` (not with `peek`), `acquire`
   * (a renewal too). `refused`: it was refused; for `hitAll`, true only for the decisive rule
   * (the first that refused). A cost that can never fit is a refusal. `peek`, `refund` and
   * `release` are not checks.
   */
  check(policy: string, backend: Backend, refused: boolean): void;
  /** A call (any operation) that failed after reaching for Redis: a connection error, a
   * timeout, an error reply. Argument errors, thrown before anything is sent, are not. */
  redisError(policy: string, backend: MetricsBackend): void;
  /** The Express middleware let a request through because its check failed (`failOpen`). */
  failOpen(policy: string, backend: MetricsBackend): void;
  /** The wall time of one call in seconds, as the application saw it (failed calls too). */
  observe(policy: string, backend: MetricsBackend, seconds: number): void;
}

export interface LimiterOptions {
  /** Pin the path instead of finding it per node. */
  backend?: Backend;
  /** Record every call in this sink (off by default: nothing recorded, nothing timed). */
  metrics?: MetricsSink | null;
  /**
   * node-redis 5+: read integers as strings, so a reply past 2^53 is an exact BigInt (the
   * default, true). false reads them as numbers, faster, and rejects such a reply instead.
   */
  exactNumbers?: boolean;
}
export interface HitOptions {
  /** Units to charge (default 1). */
  cost?: Int;
  /** Record them even past the limit (the limiter goes into debt). */
  force?: boolean;
}
export interface PeekOptions {
  cost?: Int;
  /** A concurrent rule's holder. */
  id?: Id;
}
export interface HitAllOptions {
  cost?: Int;
  /** The holder, when a rule is concurrent. */
  id?: Id;
  peek?: boolean;
}

/**
 * Rate limits and leases through a node-redis client (`createClient`, `createCluster`, 4+) or
 * an ioredis one (`Redis`, `Cluster`, 5+). A server's error reply rejects with RateLimitError;
 * a connection error or a timeout with the client's own error.
 */
export class Limiter {
  constructor(client: object, options?: LimiterOptions);
  /** The sink the calls are recorded in, or null. */
  readonly metrics: MetricsSink | null;
  hit(key: string, rule: RateRule, options?: HitOptions): Promise<Decision>;
  peek(key: string, rule: RateRule, options?: PeekOptions): Promise<Decision>;
  peek(key: string, rule: ConcurrentRule, options: PeekOptions & { id: Id }): Promise<Decision>;
  refund(key: string, rule: RateRule, amount: Int): Promise<Decision>;
  hitAll(rules: Record<string, Rule> | Map<string, Rule>, options?: HitAllOptions): Promise<Decision>;
  acquire(key: string, rule: ConcurrentRule, id: Id): Promise<Decision>;
  release(key: string, rule: ConcurrentRule, id: Id): Promise<Decision>;
  /** Acquire, run `work`, release after it when the lease was taken. */
  lease<T>(key: string, rule: ConcurrentRule, work: (decision: Decision) => T | Promise<T>, options?: { id?: Id }): Promise<T>;
  /** The path that served the last call on a node ('' for one server, else 'host:port'). */
  backendOf(node?: string): Backend | null;
}

/** The server refused a call; the message is the server's. */
export class RateLimitError extends Error {}
/** No path to rate-limit on a node; the message names the commands the ACL user lacks. */
export class BackendUnavailable extends RateLimitError {}
/** The keys of one hitAll are in different cluster slots; thrown before anything is sent. */
export class CrossSlotError extends RangeError {}
/** The draft's problem type for a refusal. */
export const QUOTA_EXCEEDED: string;
/** The cluster slot of a key (CRC16 of its hash tag). */
export function keySlot(key: string | Buffer): number;

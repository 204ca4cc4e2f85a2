'use strict';
/**
 * The rules: an algorithm and its numbers, checked when the rule is made.
 *
 * A rule is a frozen value that travels with each call, so a tenant's tier can change at any
 * moment: a call with other numbers applies them to the stored state, never a reset. Numbers
 * take a `number` (a safe integer) or a `BigInt` (up to 2^63-1, the commands' range); durations
 * take milliseconds, or the commands' own strings ('1m', '1500ms'). Everything is sent to Redis
 * as decimal strings, so nothing is ever rounded on the way.
 */

const I64_MAX = (1n << 63n) - 1n;
const UNITS = [['d', 86400000n], ['h', 3600000n], ['m', 60000n], ['s', 1000n], ['ms', 1n]];
const UNIT = new Map(UNITS);
const DURATION = /^([0-9]+)(ms|s|m|h|d)?$/i;

/** `value` as a BigInt from 1 to 2^63-1, or a TypeError / RangeError naming `what`. */
function positive(value, what) {
  let big;
  if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`${what} must be an integer, not ${value}`);
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`${what} ${value} is past 2^53 and was rounded by JavaScript: pass it as a BigInt`);
    }
    big = BigInt(value);
  } else {
    throw new TypeError(`${what} must be a number or a BigInt, not ${describe(value)}`);
  }
  if (big < 1n || big > I64_MAX) throw new RangeError(`${what} must be an integer from 1 to ${I64_MAX}, not ${big}`);
  return big;
}

/** A duration in whole milliseconds (a BigInt, at least 1). */
function milliseconds(value, what) {
  if (typeof value === 'string') {
    const match = DURATION.exec(value);
    if (match === null) {
      throw new RangeError(`${what} must be milliseconds or a number with ms, s, m, h or d, not '${value}'`);
    }
    return positive(BigInt(match[1]) * UNIT.get((match[2] || 'ms').toLowerCase()), what);
  }
  return positive(value, what);
}

/** `ms` in the largest unit that divides it: 60000n -> '1m'. */
function spelled(ms) {
  for (const [unit, size] of UNITS) if (ms % size === 0n) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** A BigInt as a number where that is exact, else the BigInt itself. */
function exact(big) {
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

function describe(value) {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

function ruleName(options) {
  if (options === undefined) return '';
  if (options === null || typeof options !== 'object') throw new TypeError('a rule\'s options must be an object ({ name })');
  const { name = '' } = options;
  if (typeof name !== 'string') throw new TypeError(`name must be a string, not ${describe(name)}`);
  return name;
}

/**
 * An algorithm and its numbers; made by `fixed`, `sliding`, `log`, `token`, `leaky` or
 * `concurrent`. `limit` is the quota (a bucket's capacity), `windowMs` the time it applies to
 * (the `w` of `RateLimit-Policy`), `policy` the name in the headers.
 */
class Rule {
  constructor(kind, numbers, label, windowMs, name) {
    /** The algorithm: 'fixed', 'sliding', 'log', 'token', 'leaky' or 'concurrent'. */
    this.kind = kind;
    /** The spec word of RL.ALL, and the command RL.<word> / function rl_<word>. */
    this.word = kind.toUpperCase();
    this.limit = exact(numbers[0]);
    this.windowMs = exact(windowMs);
    /** The policy's name in the headers: the given `name`, or one derived from the rule. */
    this.policy = name || `${kind}-${label}`;
    /** The `qu` of `RateLimit-Policy` ('requests' is the draft's default). */
    this.quotaUnit = kind === 'concurrent' ? 'concurrent-requests' : 'requests';
    /** The numbers as the commands take them: decimal strings, durations in milliseconds. */
    this.arguments = Object.freeze(numbers.map(String));
    Object.defineProperty(this, 'bigWindowMs', { value: windowMs });
  }
}

function windowed(kind) {
  return (limit, window, options) => {
    const l = positive(limit, 'limit');
    const w = milliseconds(window, 'window');
    const rule = new Rule(kind, [l, w], `${l}-${spelled(w)}`, w, ruleName(options));
    return Object.freeze(rule);
  };
}

function bucket(kind) {
  return (capacity, rate, period, options) => {
    const c = positive(capacity, 'capacity');
    const r = positive(rate, 'rate');
    const p = milliseconds(period, 'period');
    // The time `rate` per `period` takes to refill (or drain) the whole capacity, rounded up.
    const whole = (c * p + r - 1n) / r;
    const rule = new Rule(kind, [c, r, p], `${c}-${r}-${spelled(p)}`, whole, ruleName(options));
    Object.assign(rule, { capacity: exact(c), rate: exact(r), periodMs: exact(p) });
    return Object.freeze(rule);
  };
}

/** `limit` per `window`, windows aligned to the Unix epoch (RL.FIXED). */
const fixed = windowed('fixed');
/** `limit` per `window`, the previous window weighted in (RL.SLIDING). */
const sliding = windowed('sliding');
/** Exactly `limit` in any `window`: every request's time is kept (RL.LOG). */
const log = windowed('log');
/** A bucket of `capacity` tokens refilled at `rate` per `period` (RL.TOKEN). */
const token = bucket('token');
/** A queue of `capacity` leaving at `rate` per `period`: an admitted request waits `delayMs` (RL.LEAKY). */
const leaky = bucket('leaky');

/** At most `limit` holders at once, each lease ending `lease` after it was taken or renewed (RL.CONCURRENT). */
function concurrent(limit, lease, options) {
  const l = positive(limit, 'limit');
  const ms = milliseconds(lease, 'lease');
  const rule = new Rule('concurrent', [l, ms], `${l}-${spelled(ms)}`, ms, ruleName(options));
  rule.leaseMs = exact(ms);
  return Object.freeze(rule);
}

module.exports = { Rule, fixed, sliding, log, token, leaky, concurrent, positive, exact, I64_MAX };

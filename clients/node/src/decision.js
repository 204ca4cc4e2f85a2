'use strict';
/**
 * The Decision every call answers, and the HTTP headers it turns into.
 *
 * Headers follow the IETF draft `draft-ietf-httpapi-ratelimit-headers`: `RateLimit-Policy` names
 * each policy with its quota and window, `RateLimit` says what is left of the decisive one and
 * when it resets; `Retry-After` comes with a refusal that a wait can cure.
 */

const { RateLimitError } = require('./errors');

/** The draft's problem type for a refusal (RFC 9457 problem details). */
const QUOTA_EXCEEDED = 'https://iana.org/assignments/http-problem-types#quota-exceeded';
const SAFE = 9007199254740991n;

/** Milliseconds as whole seconds, rounded up (a client that waits that long is in time). */
function seconds(ms) {
  const big = BigInt(ms);
  return big <= 0n ? 0n : (big + 999n) / 1000n;
}

/** `text` as a structured-field string (RFC 8941): quoted, `\` and `"` escaped, characters
 * outside printable ASCII replaced (a header carries no others). */
function sfString(text) {
  const safe = text.replace(/[^\x20-\x7e]/g, '?');
  return `"${safe.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function policyOf(rule) {
  const parts = [sfString(rule.policy), `q=${rule.limit}`];
  if (rule.quotaUnit !== 'requests') parts.push(`qu="${rule.quotaUnit}"`);
  const w = seconds(rule.bigWindowMs);
  parts.push(`w=${w < 1n ? 1n : w}`);
  return parts.join(';');
}

/**
 * One integer of a reply, exact: a `number` where that is exact, else a `BigInt`. A value the
 * client already read as a rounded number cannot be made exact again: that is an error that
 * says how to read it exactly (`rounding`: the advice for this client).
 */
function integer(value, rounding) {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    throw new RateLimitError(`a reply value is past 2^53 and the client read it as the rounded number ${value}: ${rounding}`);
  }
  if (typeof value === 'string' || typeof value === 'bigint' || Buffer.isBuffer(value)) {
    const text = String(value);
    if (text.length < 16 && typeof value !== 'bigint') {
      const n = Number(text);
      if (Number.isInteger(n)) return n;
    } else {
      const big = BigInt(text);
      return big >= -SAFE && big <= SAFE ? Number(big) : big;
    }
  }
  throw new RateLimitError(`a rate-limit reply holds integers, not ${String(value)}`);
}

/** What a limiter answered. */
class Decision {
  constructor(fields) {
    /** True when admitted (and counted, unless it was a peek). */
    this.allowed = fields.allowed;
    /** The limit or capacity. Numbers are `number`s, or `BigInt`s past 2^53. */
    this.limit = fields.limit;
    /** The largest cost that would be admitted now, after this call. */
    this.remaining = fields.remaining;
    /** 0 when allowed; -1 when the request can never be admitted (its cost is more than the limit). */
    this.retryAfterMs = fields.retryAfterMs;
    /** The time until the limiter is back to full if no other traffic came. */
    this.resetAfterMs = fields.resetAfterMs;
    /** A leaky rule's wait before an admitted request proceeds (0 otherwise). */
    this.delayMs = fields.delayMs;
    /** The limiter's key; for hitAll, the decisive limiter's (the first that refused, or the one with the least remaining). */
    this.key = fields.key;
    /** What served the call: 'module', 'function' (FCALL) or 'script' (EVALSHA). */
    this.backend = fields.backend;
    /** The decisive limiter's rule. */
    this.rule = fields.rule;
    /** Every rule of the call (hitAll: in key order), for RateLimit-Policy. */
    this.rules = fields.rules;
  }

  /** The five integers of a reply (six for RL.ALL: the decisive limiter's 1-based index). */
  static fromReply(reply, keys, rules, backend, rounding = 'the client rounds integers') {
    if (!Array.isArray(reply) || (reply.length !== 5 && reply.length !== 6)) {
      throw new RateLimitError(`a rate-limit reply is five or six integers, not ${String(reply)}`);
    }
    const allowed = integer(reply[0], rounding) === 1;
    const wait = integer(reply[3], rounding);
    const index = reply.length === 6 ? integer(reply[5], rounding) - 1 : 0;
    if (!(index >= 0 && index < keys.length)) throw new RateLimitError(`a reply names limiter ${index + 1} of ${keys.length}`);
    // Field 4 is the retry time when denied, the leaky wait when admitted.
    return new Decision({
      allowed,
      limit: integer(reply[1], rounding),
      remaining: integer(reply[2], rounding),
      retryAfterMs: allowed ? 0 : wait,
      resetAfterMs: integer(reply[4], rounding),
      delayMs: allowed ? wait : 0,
      key: keys[index],
      backend,
      rule: rules[index],
      rules,
    });
  }

  /** True when no wait can admit this request: its cost is more than the limit. */
  get never() {
    return !this.allowed && this.retryAfterMs < 0;
  }

  /**
   * `RateLimit-Policy` and `RateLimit` (the draft), `Retry-After` when refused and a wait can
   * cure it; with `{ legacy: true }` also `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix
   * seconds) that older clients read.
   */
  headers(options = {}) {
    const out = {
      'RateLimit-Policy': this.rules.map(policyOf).join(', '),
      RateLimit: `${sfString(this.rule.policy)};r=${this.remaining};t=${seconds(this.resetAfterMs)}`,
    };
    if (!this.allowed && this.retryAfterMs >= 0) out['Retry-After'] = String(seconds(this.retryAfterMs));
    if (options.legacy) {
      out['X-RateLimit-Limit'] = String(this.limit);
      out['X-RateLimit-Remaining'] = String(this.remaining);
      out['X-RateLimit-Reset'] = String(seconds(BigInt(Date.now()) + BigInt(this.resetAfterMs)));
    }
    return out;
  }

  /** The draft's problem details for a refusal (`application/problem+json`); its `status` is
   * 413 where the request can never fit, else 429. */
  problem() {
    const body = {
      type: QUOTA_EXCEEDED,
      title: 'Request cannot be satisfied as assigned quota has been exceeded',
      status: this.never ? 413 : 429,
      'violated-policies': this.allowed ? [] : [this.rule.policy],
    };
    if (this.never) body.detail = `the request's cost is more than the limit of ${this.limit}: it can never be admitted`;
    return body;
  }
}

module.exports = { Decision, QUOTA_EXCEEDED };

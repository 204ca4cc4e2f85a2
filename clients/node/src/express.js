'use strict';
/**
 * The Express middleware (any `(req, res, next)` framework works: it uses only Node's own
 * response API): limits every request by a key of the request, sets the draft's headers on
 * every response, refuses with the draft's problem details, awaits a leaky rule's delay, and
 * follows `failOpen` when Redis is unreachable or slow.
 */

const { Rule } = require('./rules');
const { RateLimitError } = require('./errors');
const { newId } = require('./calls');

const PROBLEM_TYPE = 'application/problem+json';

class LimiterTimeout extends Error {
  constructor(ms) {
    super(`the rate limiter did not answer within ${ms} ms`);
    this.name = 'LimiterTimeout';
  }
}

function within(promise, ms) {
  if (!(ms > 0) || ms === Infinity) return promise;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new LimiterTimeout(ms)), ms);
  });
  promise.catch(() => {}); // answered after the timeout: nobody waits for it any more
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function send(res, status, body, headers = {}) {
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  res.setHeader('Content-Type', PROBLEM_TYPE);
  res.end(JSON.stringify(body));
}

/** One fail-open request in the limiter's metrics (when it has any), labelled by the path
 * known to serve the key's node. */
function countFailOpen(limiter, key, rule) {
  const { metrics } = limiter;
  if (!metrics) return;
  metrics.failOpen(rule.policy, typeof limiter.knownBackend === 'function' ? limiter.knownBackend([key]) : 'unknown');
}

function defaultLog(error, req) {
  console.warn(`redis-ratelimit: the limiter failed for ${req.method} ${req.originalUrl || req.url}: ${error.message}`);
}

/**
 * `rateLimit({ limiter, rule, key, failOpen })`: a middleware. Options:
 * - `limiter`: a Limiter; `rule`: a Rule, or a function of the request that returns one;
 * - `key(req)`: the limiter's key; `undefined` or `null` exempts the request (default: `req.ip`);
 * - `cost`: a number or a function of the request (default 1);
 * - `failOpen`: when Redis is unreachable or slower than `timeout` ms (default 1000), let the
 *   request through and log it (`onError(error, req)`, default a console warning; counted in
 *   `ratelimit_fail_open_total` when the limiter has metrics), or, when false (the default),
 *   answer 503;
 * - `maxDelay`: the longest leaky delay awaited, in ms (default 10000): past it, refuse (429);
 * - `legacyHeaders`: also send X-RateLimit-Limit / -Remaining / -Reset.
 * A concurrent rule takes a lease for the request and releases it when the response ends.
 */
function rateLimit(options) {
  const {
    limiter, rule, key = (req) => req.ip, cost, failOpen = false, timeout = 1000,
    maxDelay = 10000, legacyHeaders = false, onError = defaultLog,
  } = options || {};
  if (!limiter || typeof limiter.hit !== 'function') throw new TypeError('rateLimit needs { limiter }: a Limiter');
  if (!(rule instanceof Rule) && typeof rule !== 'function') throw new TypeError('rateLimit needs { rule }: a rule, or a function of the request that returns one');
  if (typeof key !== 'function') throw new TypeError('key must be a function of the request');

  return async function rateLimitMiddleware(req, res, next) {
    let decision;
    let chosen;
    let id;
    let checking = null; // the key while the limiter's call is under way
    try {
      const k = await key(req);
      if (k === undefined || k === null) return next(); // exempt
      chosen = typeof rule === 'function' ? await rule(req) : rule;
      const c = typeof cost === 'function' ? await cost(req) : cost;
      checking = k;
      if (chosen.kind === 'concurrent') {
        id = newId();
        decision = await within(limiter.acquire(k, chosen, id), timeout);
        if (decision.allowed) {
          res.once('close', () => limiter.release(k, chosen, id).catch((error) => onError(error, req)));
        }
      } else {
        decision = await within(limiter.hit(k, chosen, c === undefined ? undefined : { cost: c }), timeout);
      }
      checking = null;
      const headers = decision.headers({ legacy: legacyHeaders });
      if (!decision.allowed) return send(res, decision.never ? 413 : 429, decision.problem(), headers);
      if (decision.delayMs > 0) {
        if (decision.delayMs > maxDelay) {
          // Admitted into the queue, but the wait is longer than this app accepts: give the
          // place back and refuse, with the time after which the queue is short enough.
          limiter.refund(k, chosen, c === undefined ? 1 : c).catch((error) => onError(error, req));
          headers['Retry-After'] = String(Math.ceil((Number(decision.delayMs) - maxDelay) / 1000));
          const problem = { ...decision.problem(), status: 429, 'violated-policies': [chosen.policy] };
          return send(res, 429, problem, headers);
        }
        await sleep(Number(decision.delayMs));
      }
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    } catch (error) {
      if (error instanceof RateLimitError || error instanceof TypeError || error instanceof RangeError) return next(error);
      onError(error, req); // unreachable, or too slow: the client's error, or the timeout
      if (!failOpen) {
        return send(res, 503, { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the rate limiter is unavailable' });
      }
      if (checking !== null) countFailOpen(limiter, checking, chosen);
    }
    return next();
  };
}

module.exports = { rateLimit, LimiterTimeout };

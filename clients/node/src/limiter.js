'use strict';

const { performance } = require('node:perf_hooks');
const calls = require('./calls');
const { Backends } = require('./backend');
const { routeFor, keySlot } = require('./route');
const { CrossSlotError } = require('./errors');
const { isSink } = require('./metrics');

/** The backend label of a call that failed before its node's path was known. */
const UNKNOWN = 'unknown';

/**
 * Rate limits and leases on Redis or Valkey, through the `ratelimit` module where it is loaded
 * and the package's script library where it is not.
 *
 * `client`: a node-redis client (`createClient`, `createCluster`; connected) or an ioredis one
 * (`Redis`, `Cluster`). The path that serves each node ('module', 'function' for FCALL,
 * 'script' for EVALSHA) is found at its first call, and the library loaded where it is missing
 * or older; `{ backend }` pins one path instead. `{ exactNumbers: false }` (node-redis 5+) reads
 * integers as numbers, faster, and rejects a reply past 2^53 instead of returning a BigInt.
 * `{ metrics }` (a PrometheusMetrics, or any sink with its four methods) records every call:
 * checks, refusals, Redis errors and durations per policy and backend; without it nothing is
 * recorded or timed. A server's error reply rejects with `RateLimitError`; a connection error
 * or a timeout is the client's own error.
 */
class Limiter {
  constructor(client, options = {}) {
    this.client = client;
    if (options.exactNumbers !== undefined && typeof options.exactNumbers !== 'boolean') {
      throw new TypeError(`exactNumbers must be a boolean, not ${typeof options.exactNumbers}`);
    }
    this.route = routeFor(client, options.exactNumbers !== false);
    this.backends = new Backends(options.backend);
    if (options.metrics !== undefined && options.metrics !== null && !isSink(options.metrics)) {
      throw new TypeError('metrics must be a PrometheusMetrics, or an object with check, redisError, failOpen and observe');
    }
    /** The sink every call is recorded in, or null. */
    this.metrics = options.metrics || null;
  }

  /** Charge `cost` (default 1) if `rule` admits it; `force` records it even past the limit. */
  hit(key, rule, options) {
    return this.run(() => calls.hit(key, rule, options));
  }

  /** Whether a hit of `cost` (a concurrent rule: an acquire by `id`) would be admitted now; changes nothing. */
  peek(key, rule, options) {
    return this.run(() => calls.peek(key, rule, options));
  }

  /** Give back `amount` units that were charged and not used (never below empty). */
  refund(key, rule, amount) {
    return this.run(() => calls.refund(key, rule, amount));
  }

  /**
   * Charge every `key -> rule` pair, or none, in one RL.ALL call. On a cluster the keys need
   * one slot (a hash tag). A concurrent rule takes a lease for `id`. The Decision is the
   * decisive limiter's: the first that refused, or the one with the least remaining.
   */
  hitAll(rules, options) {
    return this.run(() => calls.hitAll(rules, options));
  }

  /** Take a slot for `id`, or renew the one it holds (a renewal is always allowed). */
  acquire(key, rule, id) {
    return this.run(() => calls.lease(key, rule, id, false));
  }

  /** Give `id`'s slot back; `allowed` says whether its lease was still live. */
  release(key, rule, id) {
    return this.run(() => calls.lease(key, rule, id, true));
  }

  /**
   * Acquire, run `work(decision)` (check `decision.allowed` there), and release after it when
   * the lease was taken, whatever `work` does. `id` defaults to a fresh random one.
   */
  async lease(key, rule, work, options = {}) {
    const id = options.id === undefined ? calls.newId() : options.id;
    const decision = await this.acquire(key, rule, id);
    try {
      return await work(decision);
    } finally {
      if (decision.allowed) await this.release(key, rule, id);
    }
  }

  /** The path that served the last call on a node ('' for a client of one server, else 'host:port'). */
  backendOf(node = '') {
    const state = this.backends.nodes.get(node);
    return state ? state.backend : null;
  }

  run(make) {
    let call;
    try {
      call = make(); // argument errors reject before anything is sent
      if (this.route.cluster && call.keys.length > 1) {
        const slots = new Set(call.keys.map(keySlot));
        if (slots.size > 1) {
          throw new CrossSlotError(`the keys ${call.keys.join(', ')} are in ${slots.size} cluster slots; one call needs one: give them a hash tag ({tenant}:user, {tenant}:ip)`);
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    // Not an async function: the backend's promise as it is, one await fewer per call.
    if (this.metrics === null) return this.backends.run(call, this.route);
    return this.measured(call);
  }

  /** `call` timed and recorded, per rule: its duration, and the check or the Redis error. */
  async measured(call) {
    const metrics = this.metrics;
    const start = performance.now();
    let decision;
    try {
      decision = await this.backends.run(call, this.route);
    } catch (error) {
      const seconds = (performance.now() - start) / 1000;
      const backend = this.knownBackend(call.keys);
      for (const rule of call.rules) {
        metrics.redisError(rule.policy, backend);
        metrics.observe(rule.policy, backend, seconds);
      }
      throw error;
    }
    const seconds = (performance.now() - start) / 1000;
    const { backend } = decision;
    for (let i = 0; i < call.rules.length; i++) {
      const { policy } = call.rules[i];
      // hitAll refuses by one rule, the decisive one (keys are distinct): only it is a refusal.
      if (call.check) metrics.check(policy, backend, !decision.allowed && call.keys[i] === decision.key);
      metrics.observe(policy, backend, seconds);
    }
    return decision;
  }

  /** The path known to serve the node of `keys`, the label of a call that failed there
   * ('unknown' before any answer from it). */
  knownBackend(keys) {
    return this.backends.known(keys, this.route) || UNKNOWN;
  }
}

module.exports = { Limiter };

'use strict';
/**
 * The limiter's Prometheus metrics, on prom-client: the same names, labels, buckets and
 * meaning as the Python package's, so one dashboard and one set of alerts serve both.
 *
 * prom-client is an optional peer dependency: it is required when a PrometheusMetrics is made,
 * never when the package is loaded. A Limiter made without `{ metrics }` records nothing.
 *
 * The Limiter talks to its sink through four methods (the `MetricsSink` of index.d.ts), each
 * for one rule of a call, labelled by the rule's policy and by what served the call:
 * `check(policy, backend, refused)`, `redisError(policy, backend)`, `failOpen(policy,
 * backend)` (the middleware) and `observe(policy, backend, seconds)`. Any object with them
 * plugs in; a sink must not throw.
 */

const LABELS = Object.freeze(['policy', 'backend']);
// In seconds: 100 µs (a call on loopback) to 5 s (a stalled server), the buckets both packages use.
const BUCKETS = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
const INSTALL = 'PrometheusMetrics needs prom-client, an optional peer dependency of redis-ratelimit: npm install prom-client';

const COUNTERS = Object.freeze({
  checks: ['ratelimit_checks_total', 'Rate-limit checks that got a decision, admitted or refused (hit, each rule of hitAll, acquire).'],
  refusals: ['ratelimit_refusals_total', 'Checks that were refused (hitAll: the decisive rule only); a cost that can never fit included.'],
  redisErrors: ['ratelimit_redis_errors_total', 'Limiter calls (any operation) that failed after reaching for Redis: connection errors, timeouts, error replies.'],
  failOpen: ['ratelimit_fail_open_total', 'Requests the middleware let through because the check failed and failOpen was on.'],
});
const DURATION = ['ratelimit_call_duration_seconds', 'Wall time of every limiter call as the application sees it, failed ones included.'];

/** prom-client, or an Error that says how to install it. */
function promClient() {
  try {
    return require('prom-client');
  } catch (error) {
    // Only prom-client itself missing; a broken install of it keeps its own error.
    if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes("'prom-client'")) {
      throw new Error(INSTALL, { cause: error });
    }
    throw error;
  }
}

/** The metric `name` of `register` when there is one (another limiter's), else a new one. */
function metric(register, Type, kind, name, help, extra = {}) {
  const existing = register.getSingleMetric(name);
  if (existing === undefined) return new Type({ name, help, labelNames: LABELS, registers: [register], ...extra });
  const labels = Array.isArray(existing.labelNames) ? [...existing.labelNames].sort().join(',') : '';
  if (existing.type !== kind || labels !== [...LABELS].sort().join(',')) {
    throw new Error(`the registry already holds a ${name} that is not a ${kind} labelled policy and backend`);
  }
  return existing;
}

/**
 * The metrics of every Limiter given it as `{ metrics }`, on a prom-client registry (default:
 * prom-client's global `register`). Several limiters may share one, and several
 * PrometheusMetrics one registry: the second reuses the metrics the first registered.
 * Policies are label values: keep them few (a rule's name, never a key).
 */
class PrometheusMetrics {
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('PrometheusMetrics takes an object ({ register })');
    const client = promClient();
    const register = options.register === undefined ? client.register : options.register;
    if (register === null || typeof register !== 'object' || typeof register.getSingleMetric !== 'function') {
      throw new TypeError('register must be a prom-client Registry');
    }
    /** The registry the metrics are on; expose it with `await register.metrics()`. */
    this.register = register;
    this.checks = metric(register, client.Counter, 'counter', ...COUNTERS.checks);
    this.refusals = metric(register, client.Counter, 'counter', ...COUNTERS.refusals);
    this.redisErrors = metric(register, client.Counter, 'counter', ...COUNTERS.redisErrors);
    this.failOpens = metric(register, client.Counter, 'counter', ...COUNTERS.failOpen);
    this.duration = metric(register, client.Histogram, 'histogram', ...DURATION, { buckets: [...BUCKETS] });
    /** The label sets seen, by `${backend}:${policy}` (a backend has no colon). */
    this.seen = new Map();
  }

  /** The labels of (policy, backend); the first time, its four counters are created at 0, so
   * that rate() and increase() see each series start from 0. */
  labels(policy, backend) {
    const id = `${backend}:${policy}`;
    let labels = this.seen.get(id);
    if (labels === undefined) {
      labels = Object.freeze({ policy, backend });
      this.checks.inc(labels, 0);
      this.refusals.inc(labels, 0);
      this.redisErrors.inc(labels, 0);
      this.failOpens.inc(labels, 0);
      this.seen.set(id, labels);
    }
    return labels;
  }

  /** One check of one rule that got a decision; `refused`: the refusal (hitAll: the decisive rule's). */
  check(policy, backend, refused) {
    const labels = this.labels(policy, backend);
    this.checks.inc(labels);
    if (refused) this.refusals.inc(labels);
  }

  /** One rule of a call that failed after reaching for Redis. */
  redisError(policy, backend) {
    this.redisErrors.inc(this.labels(policy, backend));
  }

  /** One rule of a request that the middleware let through because its check failed. */
  failOpen(policy, backend) {
    this.failOpens.inc(this.labels(policy, backend));
  }

  /** The wall time of one call, for one of its rules. */
  observe(policy, backend, seconds) {
    this.duration.observe(this.labels(policy, backend), seconds);
  }
}

/** Whether `sink` has the four methods a Limiter calls. */
function isSink(sink) {
  return sink !== null && typeof sink === 'object'
    && ['check', 'redisError', 'failOpen', 'observe'].every((name) => typeof sink[name] === 'function');
}

module.exports = { PrometheusMetrics, isSink };

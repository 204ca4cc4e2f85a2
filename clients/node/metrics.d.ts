import type { MetricsSink, MetricsBackend, Backend } from './index.js';

export type { MetricsSink, MetricsBackend };

/**
 * What PrometheusMetrics needs of a registry: a prom-client `Registry` (or its global
 * `register`). Typed by shape, so that these declarations need no prom-client installed.
 */
export interface PrometheusRegistry {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: any): void;
  metrics(): Promise<string>;
}

export interface PrometheusMetricsOptions<R extends PrometheusRegistry = PrometheusRegistry> {
  /** The registry to register on (default: prom-client's global `register`). */
  register?: R;
}

/**
 * The limiter's metrics on prom-client (an optional peer dependency: `npm install
 * prom-client`; constructing this without it throws an Error that says so). Pass it as
 * `new Limiter(client, { metrics })`. All labelled `policy` and `backend`:
 *
 * - `ratelimit_checks_total` (counter): checks that got a decision (hit, each rule of hitAll, acquire);
 * - `ratelimit_refusals_total` (counter): those refused (hitAll: the decisive rule only);
 * - `ratelimit_redis_errors_total` (counter): calls that failed after reaching for Redis;
 * - `ratelimit_fail_open_total` (counter): requests the Express middleware let through on a failed check;
 * - `ratelimit_call_duration_seconds` (histogram): every call's wall time, buckets 0.0001 to 5 s.
 *
 * A (policy, backend) pair's four counters start at 0 the first time it is seen. Several
 * limiters may share one PrometheusMetrics, and several PrometheusMetrics one registry (the
 * metrics already registered are reused). Expose them with `await register.metrics()`.
 */
export class PrometheusMetrics<R extends PrometheusRegistry = PrometheusRegistry> implements MetricsSink {
  constructor(options?: PrometheusMetricsOptions<R>);
  /** The registry the metrics are on. */
  readonly register: R;
  check(policy: string, backend: Backend, refused: boolean): void;
  redisError(policy: string, backend: MetricsBackend): void;
  failOpen(policy: string, backend: MetricsBackend): void;
  observe(policy: string, backend: MetricsBackend, seconds: number): void;
}

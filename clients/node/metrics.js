'use strict';
/** redis-ratelimit/metrics: the limiter's Prometheus metrics on prom-client, an optional peer
 * dependency required only when PrometheusMetrics is made (the CommonJS entry; metrics.mjs
 * re-exports it). */
const { PrometheusMetrics } = require('./src/metrics');

module.exports = { PrometheusMetrics };

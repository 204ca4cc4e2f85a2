// The same names through require (CommonJS).
import ratelimit = require('redis-ratelimit');
import mw = require('redis-ratelimit/express');
import prom = require('redis-ratelimit/metrics');

export const rule: ratelimit.RateRule = ratelimit.fixed(10, '1s');
export const middleware = (limiter: ratelimit.Limiter) => mw.rateLimit({ limiter, rule });
export const measured = (client: object) => new ratelimit.Limiter(client, { metrics: new prom.PrometheusMetrics() });

// The same names through require (CommonJS).
import ratelimit = require('redis-ratelimit');
import mw = require('redis-ratelimit/express');

export const rule: ratelimit.RateRule = ratelimit.fixed(10, '1s');
export const middleware = (limiter: ratelimit.Limiter) => mw.rateLimit({ limiter, rule });

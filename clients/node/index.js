'use strict';
/** redis-ratelimit: rate limits and leases on Redis and Valkey (the CommonJS entry; index.mjs re-exports it). */
const { Limiter } = require('./src/limiter');
const { Rule, fixed, sliding, log, token, leaky, concurrent } = require('./src/rules');
const { Decision, QUOTA_EXCEEDED } = require('./src/decision');
const { RateLimitError, BackendUnavailable, CrossSlotError } = require('./src/errors');
const { keySlot } = require('./src/route');

module.exports = {
  Limiter, Rule, Decision, fixed, sliding, log, token, leaky, concurrent,
  RateLimitError, BackendUnavailable, CrossSlotError, QUOTA_EXCEEDED, keySlot,
};

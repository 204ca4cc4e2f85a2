// The ESM entry: the CommonJS module re-exported, so `import` and `require` share one copy
// (one RateLimitError class for instanceof, one set of per-node backend state).
import cjs from './index.js';

export const {
  Limiter, Rule, Decision, fixed, sliding, log, token, leaky, concurrent,
  RateLimitError, BackendUnavailable, CrossSlotError, QUOTA_EXCEEDED, keySlot,
} = cjs;
export default cjs;

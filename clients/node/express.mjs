import cjs from './express.js';

export const { rateLimit, LimiterTimeout } = cjs;
export default cjs;

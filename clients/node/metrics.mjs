import cjs from './metrics.js';

export const { PrometheusMetrics } = cjs;
export default cjs;

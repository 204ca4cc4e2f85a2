// Typed use of the package, checked by `tsc --noEmit` (test/package.test.js): ESM, nodenext.
import express from 'express';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { Limiter, fixed, sliding, log, token, leaky, concurrent, RateLimitError, type Decision } from 'redis-ratelimit';
import { rateLimit } from 'redis-ratelimit/express';
import { PrometheusMetrics, type MetricsSink } from 'redis-ratelimit/metrics';
import { Registry } from 'prom-client';

export async function main(): Promise<void> {
  const client = createClient();
  await client.connect();
  const limiter = new Limiter(client);
  const d: Decision = await limiter.hit('user:42', sliding(100, '1m'), { cost: 1 });
  const allowed: boolean = d.allowed;
  const remaining: number | bigint = d.remaining;
  const headers: Record<string, string> = d.headers({ legacy: true });
  await limiter.peek('user:42', fixed(100, 60_000));
  await limiter.refund('llm:t1', token(100000n, 100000, '1h'), 2800);
  await limiter.hitAll({ '{a}:user': sliding(1000, '1h'), '{a}:ip': log(100, '1m') }, { cost: 2 });
  const jobs = concurrent(4, '30s', { name: 'jobs' });
  await limiter.acquire('{a}:jobs', jobs, 'req-7');
  await limiter.release('{a}:jobs', jobs, 'req-7');
  const n: number = await limiter.lease('{a}:jobs', jobs, async (lease) => (lease.allowed ? 1 : 0));
  new Limiter(new Redis(), { backend: 'script' });

  // Metrics: on prom-client's registry, or any sink with the four methods.
  const metrics = new PrometheusMetrics({ register: new Registry() });
  const measured = new Limiter(client, { metrics });
  await measured.hit('user:42', sliding(100, '1m'));
  const scrape: string = await metrics.register.metrics();
  const registry: Registry = metrics.register;
  new Limiter(client, { metrics: new PrometheusMetrics() });
  const sink: MetricsSink = {
    check: (policy: string, backend: 'module' | 'function' | 'script', refused: boolean) => console.log(policy, backend, refused),
    redisError: (policy, backend) => console.log(policy, backend === 'unknown'),
    failOpen: () => {},
    observe: (_policy, _backend, seconds: number) => console.log(seconds),
  };
  const sunk: MetricsSink | null = new Limiter(client, { metrics: sink }).metrics;
  // @ts-expect-error a sink has check, redisError, failOpen and observe
  new Limiter(client, { metrics: { check() {} } });
  // @ts-expect-error a concurrent rule takes acquire, release or lease, not hit
  await limiter.hit('k', jobs);
  try { await limiter.hit('k', leaky(10, 1, '1s')); } catch (e) { if (e instanceof RateLimitError) console.log(e.message); }

  const app = express();
  app.use(rateLimit({ limiter, rule: sliding(100, '1m'), key: (req) => req.ip, failOpen: true }));
  app.get('/x', rateLimit({ limiter, rule: () => fixed(5, '1s'), key: (req) => req.get('x-user'), cost: 2 }), (_req, res) => { res.send('ok'); });
  console.log(allowed, remaining, headers, n, scrape, registry, sunk);
}

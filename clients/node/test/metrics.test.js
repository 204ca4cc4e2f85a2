'use strict';
// The Prometheus metrics (the contract shared with the Python package): exact counts after
// known traffic through each path (module, FCALL, EVALSHA) and each client, hitAll's one check
// per rule, peeks, refunds and releases timed but not checks, series created at 0, Redis
// errors and argument errors, a registry shared, fail-open counted by the Express middleware,
// and the package without prom-client installed.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const express = require('express');
const promClient = require('prom-client');
const { Limiter, RateLimitError, fixed, sliding, token, concurrent } = require('..');
const { PrometheusMetrics } = require('../metrics');
const { rateLimit } = require('../express');
const { Server, binaries, freePort } = require('./servers');
const { connect, close } = require('./clients');

const { Registry } = promClient;
const binary = binaries().redis70 || '/usr/bin/redis-server';
const CLIENTS = ['node-redis4', 'node-redis6', 'ioredis5'];
const NAMES = {
  checks: 'ratelimit_checks_total',
  refusals: 'ratelimit_refusals_total',
  redisErrors: 'ratelimit_redis_errors_total',
  failOpen: 'ratelimit_fail_open_total',
};
const DURATION = 'ratelimit_call_duration_seconds';
// The contract's buckets, in seconds.
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, '+Inf'];

/** What the registry holds for (policy, backend): each counter's value (undefined where the
 * series does not exist) and `calls`, the duration histogram's count. */
async function series(register, policy, backend) {
  const metrics = await register.getMetricsAsJSON();
  const value = (name, metricName = name) => {
    const metric = metrics.find((m) => m.name === name);
    const found = metric && metric.values.find((v) => (v.metricName || name) === metricName
      && v.labels.policy === policy && v.labels.backend === backend);
    return found ? found.value : undefined;
  };
  const out = {};
  for (const [field, name] of Object.entries(NAMES)) out[field] = value(name);
  out.calls = value(DURATION, `${DURATION}_count`);
  return out;
}

/** Every (policy/backend) that has a series in any of the metrics. */
async function labelSets(register) {
  const seen = new Set();
  for (const metric of await register.getMetricsAsJSON()) {
    for (const v of metric.values) seen.add(`${v.labels.policy}/${v.labels.backend}`);
  }
  return [...seen].sort();
}

/** A client of a port where nothing listens: it fails every call at once, never retries. */
async function unreachable(name) {
  const port = await freePort();
  if (name.startsWith('ioredis')) {
    const Redis = require('ioredis');
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    client.on('error', () => {});
    return client;
  }
  // node-redis: a client whose connect failed is closed; its calls reject with ClientClosedError.
  const client = require(name === 'node-redis4' ? 'redis' : 'redis6').createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect().catch(() => {});
  return client;
}

describe('metrics', () => {
  let withModule;
  let without;
  before(async () => {
    [withModule, without] = await Promise.all([Server.start(binary, true), Server.start(binary, false)]);
  });
  after(() => { withModule.stop(); without.stop(); });

  // [the backend expected, the server, the backend pinned]
  const PATHS = [['module', () => withModule], ['function', () => without], ['script', () => without, 'script']];

  for (const clientName of CLIENTS) {
    for (const [backend, server, pinned] of PATHS) {
      describe(`${clientName} through ${backend}`, () => {
        let client;
        let prefix;
        let register;
        let limiter;
        before(async () => { client = await connect(clientName, server().port); });
        after(() => close(client));
        let run = 0;
        const fresh = () => {
          prefix = `${clientName}:${backend}:${run++}:`;
          register = new Registry();
          limiter = new Limiter(client, { backend: pinned, metrics: new PrometheusMetrics({ register }) });
        };

        test('5 admitted and 3 refused are 8 checks and 3 refusals; a cost that can never fit is a refusal', async () => {
          fresh();
          const api = fixed(5, '1m', { name: 'api' });
          const bulk = token(10, 1, '1m', { name: 'bulk' });
          const admitted = [];
          for (let i = 0; i < 8; i++) admitted.push((await limiter.hit(`${prefix}api`, api)).allowed);
          assert.deepEqual(admitted, [true, true, true, true, true, false, false, false]);
          assert.equal((await limiter.hit(`${prefix}bulk`, bulk, { cost: 4 })).allowed, true);
          const never = await limiter.hit(`${prefix}bulk`, bulk, { cost: 11 });
          assert.deepEqual([never.never, never.backend], [true, backend]);
          assert.deepEqual(await series(register, 'api', backend), { checks: 8, refusals: 3, redisErrors: 0, failOpen: 0, calls: 8 });
          assert.deepEqual(await series(register, 'bulk', backend), { checks: 2, refusals: 1, redisErrors: 0, failOpen: 0, calls: 2 });
          assert.deepEqual(await labelSets(register), [`api/${backend}`, `bulk/${backend}`]);
          // The text a scrape reads.
          const text = await register.getSingleMetricAsString(NAMES.checks);
          assert.match(text, new RegExp(`^ratelimit_checks_total\\{policy="api",backend="${backend}"\\} 8$`, 'm'));
          assert.match(await register.getSingleMetricAsString(NAMES.refusals), new RegExp(`^ratelimit_refusals_total\\{policy="bulk",backend="${backend}"\\} 1$`, 'm'));
        });

        test('hitAll: one check per rule, the refusal only for the decisive rule; with peek, no check', async () => {
          fresh();
          const wide = fixed(10, '1m', { name: 'wide' });
          const narrow = fixed(1, '1m', { name: 'narrow' });
          const pair = { [`{${prefix}}w`]: wide, [`{${prefix}}n`]: narrow };
          const allowed = [];
          for (let i = 0; i < 3; i++) allowed.push((await limiter.hitAll(pair)).allowed);
          assert.deepEqual(allowed, [true, false, false]);
          assert.equal((await limiter.hitAll(pair, { peek: true })).allowed, false);
          // Both refuse: the decisive rule is the first that refused, in key order.
          const first = fixed(1, '1m', { name: 'first' });
          const second = fixed(1, '1m', { name: 'second' });
          const both = { [`{${prefix}}a`]: first, [`{${prefix}}b`]: second };
          assert.equal((await limiter.hitAll(both)).allowed, true);
          const refused = await limiter.hitAll(both);
          assert.deepEqual([refused.allowed, refused.rule.policy], [false, 'first']);
          assert.deepEqual(await series(register, 'wide', backend), { checks: 3, refusals: 0, redisErrors: 0, failOpen: 0, calls: 4 });
          assert.deepEqual(await series(register, 'narrow', backend), { checks: 3, refusals: 2, redisErrors: 0, failOpen: 0, calls: 4 });
          assert.deepEqual(await series(register, 'first', backend), { checks: 2, refusals: 1, redisErrors: 0, failOpen: 0, calls: 2 });
          assert.deepEqual(await series(register, 'second', backend), { checks: 2, refusals: 0, redisErrors: 0, failOpen: 0, calls: 2 });
        });

        test('peek, refund and release are not checks, but each call is timed; acquire (a renewal too) is a check', async () => {
          fresh();
          const r = sliding(3, '1m', { name: 'r' });
          await limiter.hit(`${prefix}r`, r);
          await limiter.hit(`${prefix}r`, r);
          assert.equal((await limiter.peek(`${prefix}r`, r)).allowed, true);
          await limiter.refund(`${prefix}r`, r, 1);
          assert.deepEqual(await series(register, 'r', backend), { checks: 2, refusals: 0, redisErrors: 0, failOpen: 0, calls: 4 });

          const jobs = concurrent(1, '1m', { name: 'jobs' });
          const k = `${prefix}jobs`;
          assert.equal((await limiter.acquire(k, jobs, 'a')).allowed, true);
          assert.equal((await limiter.acquire(k, jobs, 'a')).allowed, true); // renewal
          assert.equal((await limiter.acquire(k, jobs, 'b')).allowed, false);
          assert.equal((await limiter.peek(k, jobs, { id: 'b' })).allowed, false);
          assert.equal((await limiter.release(k, jobs, 'a')).allowed, true);
          assert.equal(await limiter.lease(k, jobs, async (d) => d.allowed), true); // acquire + release
          assert.deepEqual(await series(register, 'jobs', backend), { checks: 4, refusals: 1, redisErrors: 0, failOpen: 0, calls: 7 });
        });

        test('a first peek creates the four counters at 0', async () => {
          fresh();
          await limiter.peek(`${prefix}p`, fixed(5, '1m', { name: 'quiet' }));
          assert.deepEqual(await series(register, 'quiet', backend), { checks: 0, refusals: 0, redisErrors: 0, failOpen: 0, calls: 1 });
          for (const name of Object.values(NAMES)) {
            assert.match(await register.getSingleMetricAsString(name), new RegExp(`^${name}\\{policy="quiet",backend="${backend}"\\} 0$`, 'm'));
          }
        });

        test('the duration histogram: the contract\'s buckets, one observation per call, the wall time', async () => {
          fresh();
          const rule = fixed(100, '1m', { name: 'timed' });
          const start = performance.now();
          for (let i = 0; i < 10; i++) await limiter.hit(`${prefix}t`, rule);
          await limiter.peek(`${prefix}t`, rule);
          const wall = (performance.now() - start) / 1000;
          const [histogram] = (await register.getMetricsAsJSON()).filter((m) => m.name === DURATION);
          const ours = histogram.values.filter((v) => v.labels.policy === 'timed');
          const buckets = ours.filter((v) => v.metricName === `${DURATION}_bucket`);
          assert.deepEqual(buckets.map((v) => v.labels.le), BUCKETS);
          const counts = buckets.map((v) => v.value);
          assert.ok(counts.every((c, i) => i === 0 || c >= counts[i - 1]), `cumulative: ${counts}`);
          const count = ours.find((v) => v.metricName === `${DURATION}_count`).value;
          const sum = ours.find((v) => v.metricName === `${DURATION}_sum`).value;
          assert.deepEqual([count, counts[counts.length - 1]], [11, 11]);
          assert.ok(sum > 0 && sum <= wall, `sum ${sum} s, wall ${wall} s`);
        });

        test('an error reply (WRONGTYPE) is a Redis error of the path that answered, and timed', async () => {
          fresh();
          const jobs = concurrent(1, '1s', { name: 'wrongtype' });
          await admin(server(), ['SET', `${prefix}s`, 'not a sorted set']);
          await assert.rejects(limiter.acquire(`${prefix}s`, jobs, 'a'), (e) => e instanceof RateLimitError && /WRONGTYPE/.test(e.message));
          assert.deepEqual(await series(register, 'wrongtype', backend), { checks: 0, refusals: 0, redisErrors: 1, failOpen: 0, calls: 1 });
        });
      });
    }

    test(`${clientName}: a lost connection is a Redis error, labelled with the path known to serve the node, else unknown`, async () => {
      const register = new Registry();
      const metrics = new PrometheusMetrics({ register });
      const client = await connect(clientName, withModule.port);
      const rule = fixed(10, '1m', { name: 'lost' });
      const used = new Limiter(client, { metrics });
      assert.equal((await used.hit(`${clientName}:lost`, rule)).backend, 'module');
      await close(client);
      await assert.rejects(used.hit(`${clientName}:lost`, rule), (e) => !(e instanceof RateLimitError));
      await assert.rejects(new Limiter(client, { metrics }).peek(`${clientName}:lost`, rule), (e) => !(e instanceof RateLimitError));
      assert.deepEqual(await series(register, 'lost', 'module'), { checks: 1, refusals: 0, redisErrors: 1, failOpen: 0, calls: 2 });
      assert.deepEqual(await series(register, 'lost', 'unknown'), { checks: 0, refusals: 0, redisErrors: 1, failOpen: 0, calls: 1 });
    });

    test(`${clientName}: an unreachable server is a Redis error per rule, labelled unknown`, async () => {
      const register = new Registry();
      const client = await unreachable(clientName);
      try {
        const limiter = new Limiter(client, { metrics: new PrometheusMetrics({ register }) });
        await assert.rejects(limiter.hit('k', fixed(1, '1m', { name: 'down' })), (e) => !(e instanceof RateLimitError));
        await assert.rejects(limiter.hitAll({ '{t}a': fixed(1, '1m', { name: 'a' }), '{t}b': fixed(1, '1m', { name: 'b' }) }));
        for (const policy of ['down', 'a', 'b']) {
          assert.deepEqual(await series(register, policy, 'unknown'), { checks: 0, refusals: 0, redisErrors: 1, failOpen: 0, calls: 1 });
        }
        assert.deepEqual(await labelSets(register), ['a/unknown', 'b/unknown', 'down/unknown']);
      } finally { await close(client); }
    });
  }

  test('argument errors are thrown before anything is sent, and recorded nowhere', async () => {
    const register = new Registry();
    const client = await connect('ioredis5', withModule.port);
    try {
      const limiter = new Limiter(client, { metrics: new PrometheusMetrics({ register }) });
      const bad = [
        () => limiter.hit('k', fixed(1, '1m'), { cost: 0 }),
        () => limiter.hit('k', concurrent(1, '1m')),
        () => limiter.peek('k', concurrent(1, '1m')),
        () => limiter.refund('k', fixed(1, '1m'), -1),
        () => limiter.acquire('k', concurrent(1, '1m'), ''),
        () => limiter.release('k', concurrent(1, '1m'), 'x'.repeat(257)),
        () => limiter.hitAll({}),
        () => limiter.hitAll({ a: fixed(1, '1s') }, { id: 'x' }),
        () => limiter.hit(42, fixed(1, '1m')),
      ];
      for (const call of bad) await assert.rejects(call(), (e) => e instanceof TypeError || e instanceof RangeError);
      const metrics = await register.getMetricsAsJSON();
      assert.deepEqual(metrics.map((m) => [m.name, m.values.length]).sort(), [...Object.values(NAMES), DURATION].sort().map((n) => [n, 0]));
    } finally { await close(client); }
  });

  test('two PrometheusMetrics on one registry share its metrics; a clash of names is an error', async () => {
    const register = new Registry();
    const first = new PrometheusMetrics({ register });
    const second = new PrometheusMetrics({ register });
    const client = await connect('node-redis6', withModule.port);
    try {
      const rule = fixed(100, '1m', { name: 'shared' });
      const one = new Limiter(client, { metrics: first });
      const two = new Limiter(client, { metrics: second });
      for (let i = 0; i < 3; i++) await one.hit('shared:1', rule);
      for (let i = 0; i < 2; i++) await two.hit('shared:2', rule);
      await two.peek('shared:2', rule);
      assert.deepEqual(await series(register, 'shared', 'module'), { checks: 5, refusals: 0, redisErrors: 0, failOpen: 0, calls: 6 });
      assert.deepEqual((await register.getMetricsAsJSON()).map((m) => m.name).sort(), [...Object.values(NAMES), DURATION].sort());
    } finally { await close(client); }

    const clash = new Registry();
    new promClient.Gauge({ name: NAMES.checks, help: 'something else', registers: [clash] });
    assert.throws(() => new PrometheusMetrics({ register: clash }), /ratelimit_checks_total.*not a counter/);
    const relabelled = new Registry();
    new promClient.Histogram({ name: DURATION, help: 'by route', labelNames: ['route'], registers: [relabelled] });
    assert.throws(() => new PrometheusMetrics({ register: relabelled }), /ratelimit_call_duration_seconds.*labelled policy and backend/);
  });

  test('the default registry is prom-client\'s global register; bad options are TypeErrors', async () => {
    try {
      const metrics = new PrometheusMetrics();
      assert.equal(metrics.register, promClient.register);
      assert.ok(promClient.register.getSingleMetric(NAMES.checks));
    } finally {
      promClient.register.clear();
    }
    assert.throws(() => new PrometheusMetrics(5), TypeError);
    assert.throws(() => new PrometheusMetrics({ register: {} }), TypeError);
    const client = await connect('ioredis5', withModule.port);
    try {
      assert.throws(() => new Limiter(client, { metrics: {} }), TypeError);
      assert.throws(() => new Limiter(client, { metrics: { check() {} } }), /check, redisError, failOpen and observe/);
      assert.equal(new Limiter(client).metrics, null);
    } finally { await close(client); }
  });

  test('any object with the four methods is a sink: what the limiter calls, and with what', async () => {
    const events = [];
    const sink = {
      check: (...args) => events.push(['check', ...args]),
      redisError: (...args) => events.push(['redisError', ...args]),
      failOpen: (...args) => events.push(['failOpen', ...args]),
      observe: (policy, backend, seconds) => events.push(['observe', policy, backend, typeof seconds === 'number' && seconds > 0 && seconds < 5]),
    };
    const client = await connect('ioredis5', withModule.port);
    try {
      const limiter = new Limiter(client, { metrics: sink });
      const rule = fixed(1, '1m', { name: 'sink' });
      await limiter.hit('sink:k', rule);
      await limiter.hit('sink:k', rule);
      await limiter.refund('sink:k', rule, 1);
      await admin(withModule, ['SET', 'sink:s', 'x']);
      await limiter.acquire('sink:s', concurrent(1, '1s', { name: 'jobs' }), 'a').catch(() => {});
    } finally { await close(client); }
    assert.deepEqual(events, [
      ['check', 'sink', 'module', false], ['observe', 'sink', 'module', true],
      ['check', 'sink', 'module', true], ['observe', 'sink', 'module', true],
      ['observe', 'sink', 'module', true],
      ['redisError', 'jobs', 'module'], ['observe', 'jobs', 'module', true],
    ]);
  });

  for (const clientName of ['node-redis6', 'ioredis5']) {
    test(`${clientName}: the Express middleware counts fail-open requests (Redis killed), not the 503s`, async () => {
      const register = new Registry();
      const metrics = new PrometheusMetrics({ register });
      const redis = await Server.start(binary, true);
      const client = await connect(clientName, redis.port);
      const limiter = new Limiter(client, { metrics });
      const cold = new Limiter(client, { metrics }); // no call before Redis is gone: its path is unknown
      const logged = [];
      const options = { timeout: 300, onError: (e) => logged.push(e), key: () => `fo:${clientName}` };
      const app = express();
      app.get('/open', rateLimit({ ...options, limiter, rule: fixed(100, '1m', { name: 'open' }), failOpen: true }), (req, res) => res.send('ok'));
      app.get('/cold', rateLimit({ ...options, limiter: cold, rule: fixed(100, '1m', { name: 'cold' }), failOpen: true }), (req, res) => res.send('ok'));
      app.get('/closed', rateLimit({ ...options, limiter, rule: fixed(100, '1m', { name: 'closed' }), failOpen: false }), (req, res) => res.send('ok'));
      const http = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
      const base = `http://127.0.0.1:${http.address().port}`;
      try {
        assert.equal((await fetch(`${base}/open`)).status, 200);
        redis.kill();
        const statuses = [];
        for (const route of ['/open', '/open', '/cold', '/closed']) statuses.push((await fetch(`${base}${route}`)).status);
        assert.deepEqual(statuses, [200, 200, 200, 503]);
        assert.equal(logged.length, 4);
        const open = await series(register, 'open', 'module');
        assert.deepEqual([open.checks, open.refusals, open.failOpen], [1, 0, 2]);
        assert.equal((await series(register, 'cold', 'unknown')).failOpen, 1);
        const failOpens = (await register.getMetricsAsJSON()).find((m) => m.name === NAMES.failOpen).values;
        assert.equal(failOpens.reduce((total, v) => total + v.value, 0), 3, JSON.stringify(failOpens));
      } finally {
        http.closeAllConnections();
        http.close();
        await close(client);
        redis.stop();
      }
    });
  }

  test('without prom-client the package loads and limits; PrometheusMetrics says to npm install it', async () => {
    const PACKAGE = path.resolve(__dirname, '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-node-noprom-'));
    try {
      // The package as it ships ("files"), with no node_modules near it; ioredis by its path.
      const copy = path.join(dir, 'node_modules', 'redis-ratelimit');
      fs.mkdirSync(copy, { recursive: true });
      const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));
      for (const entry of ['package.json', ...manifest.files]) fs.cpSync(path.join(PACKAGE, entry), path.join(copy, entry), { recursive: true });
      fs.writeFileSync(path.join(dir, 'check.cjs'), `
        let resolvable = true;
        try { require.resolve('prom-client'); } catch { resolvable = false; }
        const { Limiter, fixed } = require('redis-ratelimit');
        const { PrometheusMetrics } = require('redis-ratelimit/metrics');
        const Redis = require(${JSON.stringify(require.resolve('ioredis'))});
        (async () => {
          const esm = await import('redis-ratelimit/metrics');
          const client = new Redis({ host: '127.0.0.1', port: ${withModule.port}, lazyConnect: true });
          await client.connect();
          const d = await new Limiter(client).hit('noprom:k', fixed(3, '1m'));
          client.disconnect();
          let error = null;
          try { new PrometheusMetrics(); } catch (e) { error = e; }
          console.log(JSON.stringify({ resolvable, same: esm.PrometheusMetrics === PrometheusMetrics, remaining: d.remaining, backend: d.backend,
            error: error && error.constructor.name, message: error && error.message }));
        })();
      `);
      const env = { ...process.env };
      delete env.NODE_PATH;
      const out = JSON.parse(execFileSync(process.execPath, ['check.cjs'], { cwd: dir, env, encoding: 'utf8' }));
      assert.equal(out.resolvable, false, 'prom-client must not be resolvable from the copy');
      assert.deepEqual([out.same, out.remaining, out.backend, out.error], [true, 2, 'module', 'Error']);
      assert.match(out.message, /npm install prom-client/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One command through a client of its own. */
async function admin(server, args) {
  const client = await connect('node-redis4', server.port);
  try { return await client.sendCommand(args.map(String)); } finally { await close(client); }
}

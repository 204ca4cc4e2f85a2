'use strict';
// Calls per second through the package against the same calls sent raw through the same
// client, side by side in one run (RL.SLIDING on a server with the module; keys spread over
// BENCH_KEYS). Prints the ratio package/raw per client: the wrapper's cost. And the package
// with Prometheus metrics on against the package with them off: the metrics' cost.
//   node bench/bench.js    (BENCH_SECONDS per slice, BENCH_ROUNDS alternating pairs of slices)

const { Server, binaries } = require('../test/servers');
const { connect, close } = require('../test/clients');
const { Registry } = require('prom-client');
const { Limiter, sliding } = require('..');
const { PrometheusMetrics } = require('../metrics');

const SECONDS = Number(process.env.BENCH_SECONDS || 0.25);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 12);
const KEYS = Number(process.env.BENCH_KEYS || 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT || 32);
const CLIENTS = (process.env.BENCH_CLIENTS || 'node-redis4,node-redis6,ioredis5').split(',');

/** Calls per second of `call(i)` with IN_FLIGHT outstanding at any time, for SECONDS. */
async function rate(call) {
  const end = Date.now() + SECONDS * 1000;
  let done = 0;
  async function worker(w) {
    for (let i = w; Date.now() < end; i += IN_FLIGHT) {
      await call(i % KEYS);
      done++;
    }
  }
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
  return done / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function main() {
  const server = await Server.start(binaries().redis70 || '/usr/bin/redis-server', true);
  const rule = sliding(1000000, '1m');
  const rows = [];
  try {
    for (const name of CLIENTS) {
      const client = await connect(name, server.port);
      const limiter = new Limiter(client);
      const wrapped = (i) => limiter.hit(`bench:pkg:${i}`, rule);
      const baselines = name.startsWith('ioredis')
        ? { raw: (i) => client.call('RL.SLIDING', `bench:raw:${i}`, '1000000', '60000') }
        : { raw: (i) => client.sendCommand(['RL.SLIDING', `bench:raw:${i}`, '1000000', '60000']) };
      if (typeof client.withTypeMapping === 'function') {
        // node-redis 5+: the package asks for integers as strings (exact past 2^53); the raw
        // call with the same option is the like-for-like baseline.
        const exact = { typeMapping: { 58: String, 40: String } };
        baselines['raw, integers as strings'] = (i) => client.sendCommand(['RL.SLIDING', `bench:raw:${i}`, '1000000', '60000'], exact);
      }
      const fast = typeof client.withTypeMapping === 'function' ? new Limiter(client, { exactNumbers: false }) : null;
      // [what is measured, against what, the baseline's call, the measured call]
      const pairs = Object.entries(baselines).map(([baseline, raw]) => ['package', baseline, raw, wrapped]);
      // node-redis 5+ with { exactNumbers: false }: the same parsing as the plain raw call.
      if (fast) pairs.push(['package, exactNumbers: false', 'raw', baselines.raw, (i) => fast.hit(`bench:pkg:${i}`, rule)]);
      // Metrics on (a registry of its own, as an application has one) against off.
      const measured = new Limiter(client, { metrics: new PrometheusMetrics({ register: new Registry() }) });
      pairs.push(['package, metrics on', 'package, metrics off', wrapped, (i) => measured.hit(`bench:pkg:${i}`, rule)]);
      for (const [subject, baseline, base, call] of pairs) {
        await rate(base); await rate(call); // warm-up
        // Alternating short slices, each pair's ratio taken when both ran under the same load
        // (the machine is shared): the median of the pairs' ratios, and the best rates.
        const ratios = [];
        let bestBase = 0;
        let bestCall = 0;
        for (let r = 0; r < ROUNDS; r++) {
          const first = r % 2 === 0;
          const a = await rate(first ? base : call);
          const b = await rate(first ? call : base);
          const [baseRate, callRate] = first ? [a, b] : [b, a];
          ratios.push(callRate / baseRate);
          bestBase = Math.max(bestBase, baseRate);
          bestCall = Math.max(bestCall, callRate);
        }
        ratios.sort((x, y) => x - y);
        const median = ratios[Math.floor(ratios.length / 2)];
        // The time a call costs more than its baseline's, from the ratio: CPU time of the
        // client's process, which is what bounds these rates.
        const extra = (1 / median - 1) * 1e6 / bestBase;
        rows.push({ client: name, measured: subject, baseline, 'baseline/s': Math.round(bestBase), 'measured/s': Math.round(bestCall),
          ratio: Number(median.toFixed(3)), 'µs/call more': Number(extra.toFixed(2)) });
      }
      await close(client);
    }
  } finally {
    server.stop();
  }
  console.log(`RL.SLIDING, ${IN_FLIGHT} in flight, ${ROUNDS} alternating pairs of ${SECONDS}s slices (best calls/s; ratio = median of the pairs' measured / baseline,`
    + ' target >= 0.90 against the raw client; metrics on: a few µs per call more)');
  console.table(rows);
  // BENCH_CHECK: the wrapper's floor against the raw client (the metrics' cost is read in µs).
  const worst = Math.min(...rows.filter((r) => r.baseline.startsWith('raw')).map((r) => r.ratio));
  if (process.env.BENCH_CHECK && worst < Number(process.env.BENCH_CHECK)) {
    console.error(`the package runs at ${worst} of the raw client's rate, below ${process.env.BENCH_CHECK}`);
    process.exitCode = 1;
  }
}

main();

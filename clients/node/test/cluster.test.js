'use strict';
// A 3-primary cluster with and without the module, driven through node-redis and ioredis:
// every call on the node that owns its key (no MOVED, read from INFO errorstats), the library
// loaded on every primary, and hitAll's keys in two slots refused before anything is sent.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Limiter, CrossSlotError, fixed, sliding, token, concurrent, keySlot } = require('..');
const library = require('../src/library');
const { Cluster, binaries } = require('./servers');
const { connect, connectCluster, close } = require('./clients');

const CLIENTS = ['node-redis4', 'node-redis6', 'ioredis5', 'ioredis6'];
const CALLS = 300;
// A binary with cluster-port (7.0+): Debian's redis-server unless RL_SERVERS says otherwise.
const binary = binaries().redis70 || '/usr/bin/redis-server';

async function callsOn(cluster, command) {
  let total = 0;
  for (const n of cluster.nodes) total += await n.stat('commandstats', `cmdstat_${command}`, 'calls');
  return total;
}

for (const module of [true, false]) {
  describe(`a 3-primary cluster ${module ? 'with' : 'without'} the module`, () => {
    let cluster;
    before(async () => { cluster = await Cluster.start(binary, module); });
    after(() => cluster && cluster.stop());

    for (const clientName of CLIENTS) {
      test(`${clientName}: every call lands on its key's owner: zero MOVED`, async (t) => {
        const client = await connectCluster(clientName, cluster.nodes[0].port);
        try {
          const limiter = new Limiter(client);
          const movedBefore = await cluster.redirects();
          const slots = new Set();
          for (let i = 0; i < CALLS; i++) {
            const key = `${clientName}:user:${i}`;
            slots.add(keySlot(key));
            const d = await limiter.hit(key, i % 2 ? sliding(10, '1m') : token(10, 1, '1s'));
            assert.equal(d.backend, module ? 'module' : 'function');
            assert.equal(d.remaining, 9);
          }
          for (let i = 0; i < 30; i++) {
            const d = await limiter.hitAll({ [`{${clientName}${i}}:user`]: sliding(10, '1m'), [`{${clientName}${i}}:ip`]: fixed(1, '1m') });
            assert.deepEqual([d.allowed, d.key], [true, `{${clientName}${i}}:ip`]);
            const held = await limiter.acquire(`{${clientName}${i}}:jobs`, concurrent(1, '10s'), 'a');
            assert.ok(held.allowed);
          }
          assert.ok(slots.size > 200, 'the keys spread over the slots of every primary');
          const moved = await cluster.redirects() - movedBefore;
          t.diagnostic(`${clientName}, ${module ? 'module' : 'function'}: ${moved} MOVED/ASK over ${CALLS + 60} calls`);
          assert.equal(moved, 0, 'MOVED answers');
        } finally { await close(client); }
      });
    }

    test('one call loads the library on every primary where it is missing or older', async (t) => {
      if (module) return t.skip('the module serves every primary');
      const admins = await Promise.all(cluster.nodes.map((n) => connect('node-redis4', n.port)));
      try {
        const older = library.LIBRARY.replace('-- redis-ratelimit 0.1.0 ', '-- redis-ratelimit 0.0.9 ');
        await admins[0].sendCommand(['FUNCTION', 'FLUSH']);
        await admins[1].sendCommand(['FUNCTION', 'FLUSH']);
        await admins[1].sendCommand(['FUNCTION', 'LOAD', 'REPLACE', older]);
        await admins[2].sendCommand(['FUNCTION', 'FLUSH']);
        for (const clientName of ['node-redis6', 'ioredis5']) {
          const client = await connectCluster(clientName, cluster.nodes[0].port);
          try {
            assert.equal((await new Limiter(client).hit(`${clientName}:one`, fixed(1, '1m'))).backend, 'function');
          } finally { await close(client); }
          for (const [i, a] of admins.entries()) {
            const code = library.codeIn(await a.sendCommand(['FUNCTION', 'LIST', 'LIBRARYNAME', 'ratelimit', 'WITHCODE']));
            assert.ok(code === library.LIBRARY, `${clientName}: primary ${i} lacks the package's library`);
          }
          for (const a of admins) await a.sendCommand(['FUNCTION', 'FLUSH']);
        }
      } finally { await Promise.all(admins.map(close)); }
    });

    test('numbers past 2^53: exact through node-redis 5+, a clear error through an ioredis Cluster', async (t) => {
      if (!module) return t.skip('the library answers its own 2^53 error (backends.test.js)');
      const big = token(9223372036854775807n, 1, '1d');
      const exact = await connectCluster('node-redis6', cluster.nodes[0].port);
      try {
        const d = await new Limiter(exact).hit('big', big);
        assert.deepEqual([d.limit, d.remaining], [9223372036854775807n, 9223372036854775806n]);
      } finally { await close(exact); }
      const rounding = await connectCluster('ioredis5', cluster.nodes[0].port);
      try {
        await assert.rejects(new Limiter(rounding).hit('big2', big), /past 2\^53.*node-redis 5\+ createCluster/);
      } finally { await close(rounding); }
    });

    test('hitAll keys in different slots: CrossSlotError before anything is sent', async () => {
      for (const clientName of ['node-redis6', 'ioredis5']) {
        const client = await connectCluster(clientName, cluster.nodes[0].port);
        try {
          const command = module ? 'rl.all' : 'fcall';
          const before = await callsOn(cluster, command);
          await assert.rejects(new Limiter(client).hitAll({ 'a:user': sliding(10, '1m'), 'b:ip': fixed(1, '1m') }), CrossSlotError);
          assert.equal(await callsOn(cluster, command), before);
        } finally { await close(client); }
      }
    });
  });
}

'use strict';
// Each path on each server of the run (Redis 6.2, 7.0, Valkey 9) through each client: which
// one served a call, what the package loads where, how it recovers, the errors it raises.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Limiter, RateLimitError, BackendUnavailable, fixed, sliding, log, token, leaky, concurrent } = require('..');
const library = require('../src/library');
const { Server, binaries } = require('./servers');
const { ALL, exact, connect, close } = require('./clients');

const COMMAND = { module: 'rl.fixed', function: 'fcall', script: 'evalsha' };

async function admin(server, fn) {
  const client = await connect('node-redis4', server.port);
  try { return await fn(client); } finally { await close(client); }
}
const cmd = (server, ...args) => admin(server, (c) => c.sendCommand(args.map(String)));
const libraryCode = async (server) => library.codeIn(await cmd(server, 'FUNCTION', 'LIST', 'LIBRARYNAME', 'ratelimit', 'WITHCODE'));

/** The same calls whatever serves them; the Decisions' numbers. */
async function traffic(limiter, prefix) {
  const out = [];
  for (const rule of [fixed(3, '1m'), sliding(3, '1m'), log(3, '1m'), token(3, 1, '1m'), leaky(3, 1, '1m')]) {
    const key = `${prefix}${rule.word}`;
    for (let i = 0; i < 4; i++) out.push(await limiter.hit(key, rule));
    out.push(await limiter.peek(key, rule));
    out.push(await limiter.refund(key, rule, 1));
    out.push(await limiter.hit(key, rule, { cost: 2, force: true }));
    out.push(await limiter.hit(key, rule, { cost: 5 }));
  }
  const jobs = concurrent(1, '1m');
  out.push(await limiter.acquire(`${prefix}jobs`, jobs, 'a'), await limiter.acquire(`${prefix}jobs`, jobs, 'b'));
  out.push(await limiter.peek(`${prefix}jobs`, jobs, { id: 'b' }), await limiter.release(`${prefix}jobs`, jobs, 'a'));
  out.push(await limiter.hitAll({ [`{${prefix}}u`]: sliding(5, '1m'), [`{${prefix}}j`]: jobs }, { id: 'c' }));
  out.push(await limiter.hitAll({ [`{${prefix}}u`]: sliding(5, '1m'), [`{${prefix}}v`]: fixed(1, '1m') }, { cost: 2 }));
  return out.map((d) => [d.allowed, d.limit, d.remaining, d.key.slice(prefix.length + (d.key.startsWith('{') ? 2 : 0)), d.retryAfterMs, d.resetAfterMs, d.delayMs]);
}

/** Equal answers: the same numbers, and times within the few ms that pass between two runs. */
function same(a, b) {
  return a.length === b.length && a.every((x, i) => x.slice(0, 4).every((v, j) => v === b[i][j]) && x.slice(4).every((v, j) => Math.abs(v - b[i][4 + j]) <= 1500));
}

for (const [serverName, binary] of Object.entries(binaries())) {
  describe(serverName, () => {
    let withModule;
    let without;
    let functions;
    before(async () => {
      [withModule, without] = await Promise.all([Server.start(binary, true), Server.start(binary, false)]);
      functions = await cmd(without, 'FUNCTION', 'LIST').then(() => true, () => false);
    });
    after(() => { withModule.stop(); without.stop(); });

    for (const clientName of ALL) {
      test(`${clientName}: each server is served by the path it offers, with the same answers`, async () => {
        const library = functions ? 'function' : 'script';
        const results = {};
        for (const [backend, server, pinned] of [['module', withModule], [library, without], ['script', without, 'script']]) {
          const client = await connect(clientName, server.port);
          try {
            const limiter = new Limiter(client, { backend: pinned });
            const prefix = `${clientName}:${backend}:${pinned}:`;
            const before = await server.stat('commandstats', `cmdstat_${COMMAND[backend]}`, 'calls');
            const d = await limiter.hit(`${prefix}first`, fixed(5, '1m'));
            assert.equal(d.backend, backend);
            assert.deepEqual([d.allowed, d.remaining], [true, 4]);
            assert.equal(await server.stat('commandstats', `cmdstat_${COMMAND[backend]}`, 'calls'), before + 1, `${backend}: the call went elsewhere`);
            results[backend] = await traffic(limiter, prefix);
          } finally { await close(client); }
        }
        assert.ok(same(results.module, results[library]) && same(results.module, results.script), JSON.stringify(results));
      });

      test(`${clientName}: numbers past 2^53 are exact, or the call fails saying how to read them`, async () => {
        const big = token(9223372036854775807n, 4611686018427387904n, '1d');
        const client = await connect(clientName, withModule.port);
        try {
          const call = new Limiter(client).hit(`${clientName}:big`, big, { cost: 4611686018427387905n });
          if (exact(clientName)) {
            const d = await call;
            assert.deepEqual([d.limit, d.remaining], [9223372036854775807n, 9223372036854775807n - 4611686018427387905n]);
            if (clientName.startsWith('node-redis')) {
              // Traded for speed: the same call rejects, saying why, and small numbers still read.
              const fast = new Limiter(client, { exactNumbers: false });
              await assert.rejects(fast.hit(`${clientName}:big`, big), (e) => e instanceof RateLimitError && /exactNumbers: false/.test(e.message));
              assert.equal((await fast.hit(`${clientName}:small`, token(10, 1, '1s'))).remaining, 9);
            }
          } else {
            await assert.rejects(call, (e) => e instanceof RateLimitError && /past 2\^53/.test(e.message) && /node-redis 5|stringNumbers/.test(e.message));
          }
        } finally { await close(client); }
        const plain = await connect(clientName, without.port);
        try {
          await assert.rejects(new Limiter(plain).hit(`${clientName}:big`, big), (e) => e instanceof RateLimitError && /2\^53/.test(e.message));
        } finally { await close(plain); }
      });

      test(`${clientName}: server errors reject with RateLimitError, connection errors with the client's own`, async () => {
        for (const server of [withModule, without]) {
          const client = await connect(clientName, server.port);
          try {
            await cmd(server, 'SET', `${clientName}:s`, 'not a sorted set');
            await assert.rejects(new Limiter(client).acquire(`${clientName}:s`, concurrent(1, '1s'), 'a'), (e) => e instanceof RateLimitError && /WRONGTYPE/.test(e.message));
            assert.equal(await cmd(server, 'GET', `${clientName}:s`), 'not a sorted set');
          } finally { await close(client); }
        }
        const client = await connect(clientName, withModule.port);
        await close(client);
        await assert.rejects(new Limiter(client).hit('k', fixed(1, '1s')), (e) => !(e instanceof RateLimitError));
      });
    }

    test('the library is loaded where missing or older, and never replaces a newer one', async (t) => {
      if (!functions) return t.skip(`${serverName} has no FUNCTION: the script serves it`);
      const older = library.LIBRARY.replace('-- redis-ratelimit 0.1.0 ', '-- redis-ratelimit 0.0.9 ');
      const unversioned = library.LIBRARY.split('\n').filter((l) => !l.startsWith('-- redis-ratelimit 0.')).join('\n');
      const newer = library.LIBRARY.replace('-- redis-ratelimit 0.1.0 ', '-- redis-ratelimit 0.10.0 ');
      assert.notEqual(older, library.LIBRARY);
      for (const clientName of ['node-redis4', 'node-redis6', 'ioredis5']) {
        for (const [loaded, kept] of [[null, false], [older, false], [unversioned, false], [newer, true]]) {
          await cmd(without, 'FUNCTION', 'FLUSH');
          if (loaded !== null) await cmd(without, 'FUNCTION', 'LOAD', loaded);
          const client = await connect(clientName, without.port);
          try {
            assert.equal((await new Limiter(client).hit(`${clientName}:k`, fixed(10, '1m'))).backend, 'function');
          } finally { await close(client); }
          assert.ok(await libraryCode(without) === (kept ? loaded : library.LIBRARY), `${clientName}: ${kept ? 'replaced a newer library' : 'did not load its own'}`);
        }
      }
    });

    test('a flushed library is loaded again', async (t) => {
      if (!functions) return t.skip(`${serverName} has no FUNCTION`);
      for (const clientName of ['node-redis6', 'ioredis5']) {
        const client = await connect(clientName, without.port);
        try {
          const limiter = new Limiter(client);
          assert.equal((await limiter.hit(`${clientName}:flushed`, fixed(10, '1m'))).remaining, 9);
          await cmd(without, 'FUNCTION', 'FLUSH');
          const d = await limiter.hit(`${clientName}:flushed`, fixed(10, '1m'));
          assert.deepEqual([d.backend, d.remaining], ['function', 8]);
          assert.equal(await libraryCode(without), library.LIBRARY);
        } finally { await close(client); }
      }
    });

    test('the script recovers from NOSCRIPT by itself (SCRIPT FLUSH)', async () => {
      for (const clientName of ['node-redis4', 'ioredis5']) {
        await cmd(without, 'SCRIPT', 'FLUSH');
        const client = await connect(clientName, without.port);
        try {
          const limiter = new Limiter(client, { backend: 'script' });
          const evals = () => without.stat('commandstats', 'cmdstat_eval', 'calls');
          const shas = () => without.stat('commandstats', 'cmdstat_evalsha', 'calls');
          const [e0, s0] = [await evals(), await shas()];
          for (let i = 0; i < 3; i++) assert.equal((await limiter.hit(`${clientName}:noscript`, fixed(10, '1m'))).remaining, 9 - i);
          // The first EVALSHA was answered NOSCRIPT: the script went whole once, then by its hash.
          assert.deepEqual([await evals() - e0, await shas() - s0], [1, 3]);
          await cmd(without, 'SCRIPT', 'FLUSH');
          assert.equal((await limiter.hit(`${clientName}:noscript`, fixed(10, '1m'))).remaining, 6);
          assert.deepEqual([await evals() - e0, await shas() - s0], [2, 4]);
        } finally { await close(client); }
      }
    });

    test('a user who may not load the library gets the script; one with no path gets an error naming what it lacks', async () => {
      const user = async (name, ...rules) => {
        await cmd(without, 'ACL', 'SETUSER', name, 'reset', 'on', '>pw', '~*', '+ping', '+info', '+hello', '+auth', '+client', ...rules);
        return connect('ioredis5', without.port, { username: name, password: 'pw' });
      };
      if (functions) {
        await cmd(without, 'FUNCTION', 'FLUSH');
        const noload = await user('noload', '+@all', '-function|load');
        try {
          const d = await new Limiter(noload).hit('acl:k', fixed(10, '1m'));
          assert.deepEqual([d.backend, d.remaining], ['script', 9]);
          assert.equal(await libraryCode(without), null);
        } finally { await close(noload); }
      }
      const nothing = await user('nothing', '+@all', '-@scripting');
      try {
        await assert.rejects(new Limiter(nothing).hit('acl:k', fixed(10, '1m')), (e) => e instanceof BackendUnavailable
          && /EVAL\b/.test(e.message) && /EVALSHA/.test(e.message) && (!functions || /FCALL/.test(e.message)));
      } finally { await close(nothing); }
    });

    test('leases and leaky delays', async () => {
      for (const server of [withModule, without]) {
        const client = await connect('node-redis6', server.port);
        try {
          const limiter = new Limiter(client);
          const jobs = concurrent(2, '10s');
          const prefix = `${server.port}:`;
          await limiter.lease(`${prefix}jobs`, jobs, async (first) => {
            assert.ok(first.allowed && first.remaining === 1);
            await limiter.lease(`${prefix}jobs`, jobs, async (second) => {
              assert.ok(second.allowed);
              assert.equal((await limiter.acquire(`${prefix}jobs`, jobs, 'three')).allowed, false);
            }, { id: 'two' });
          });
          assert.equal((await limiter.peek(`${prefix}jobs`, jobs, { id: 'x' })).remaining, 2);
          const queue = leaky(3, 2, '1s');
          const delays = [];
          for (let i = 0; i < 3; i++) delays.push((await limiter.hit(`${prefix}q`, queue)).delayMs);
          assert.ok(delays[0] === 0 && delays[1] >= 400 && delays[1] <= 500 && delays[2] >= 900 && delays[2] <= 1000, String(delays));
        } finally { await close(client); }
      }
    });

    test('arguments are checked before anything is sent', async () => {
      const client = await connect('ioredis5', withModule.port);
      try {
        const limiter = new Limiter(client);
        const before = await withModule.stat('commandstats', 'cmdstat_rl.fixed', 'calls');
        const bad = [
          () => limiter.hit('k', fixed(1, '1m'), { cost: 0 }),
          () => limiter.hit('k', concurrent(1, '1m')),
          () => limiter.refund('k', fixed(1, '1m'), -1),
          () => limiter.acquire('k', concurrent(1, '1m'), ''),
          () => limiter.acquire('k', concurrent(1, '1m'), 'x'.repeat(257)),
          () => limiter.hitAll({}),
          () => limiter.hitAll({ a: concurrent(1, '1s') }),
          () => limiter.hitAll({ a: fixed(1, '1s') }, { id: 'x' }),
          () => limiter.hit(42, fixed(1, '1m')),
          () => limiter.hit('k', fixed(1, '1m'), { cost: 2 ** 60 }),
        ];
        for (const call of bad) await assert.rejects(call(), (e) => e instanceof TypeError || e instanceof RangeError);
        assert.throws(() => new Limiter(client, { backend: 'lua' }), RangeError);
        assert.throws(() => new Limiter({}), TypeError);
        assert.equal(await withModule.stat('commandstats', 'cmdstat_rl.fixed', 'calls'), before);
      } finally { await close(client); }
    });
  });
}

'use strict';
// A real Express app on a loopback port, driven over HTTP: the draft's headers, 429 with
// problem details, 413 for a cost that never fits, exempt keys, a leaky delay awaited, and
// Redis killed mid-run with failOpen on and off.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const { Limiter, fixed, leaky, concurrent } = require('..');
const { rateLimit } = require('../express');
const { Server, binaries } = require('./servers');
const { connect, close } = require('./clients');

const binary = binaries().redis70 || '/usr/bin/redis-server';

function serve(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

for (const clientName of ['node-redis6', 'ioredis5']) {
  describe(`an Express app limited through ${clientName}`, () => {
    let redis;
    let client;
    let http;
    let base;
    const logged = [];
    before(async () => {
      redis = await Server.start(binary, true);
      client = await connect(clientName, redis.port);
      const limiter = new Limiter(client);
      const app = express();
      const user = (req) => req.get('x-user'); // no header: exempt
      app.get('/fixed', rateLimit({ limiter, rule: fixed(3, '1m'), key: (req) => user(req) && `fixed:${clientName}:${user(req)}`, legacyHeaders: true }), (req, res) => res.send('ok'));
      app.get('/cost', rateLimit({ limiter, rule: fixed(5, '1m'), key: (req) => `cost:${clientName}:${user(req)}`, cost: (req) => Number(req.get('x-cost')) }), (req, res) => res.send('ok'));
      app.get('/leaky', rateLimit({ limiter, rule: leaky(2, 5, '1s'), key: () => `leaky:${clientName}`, maxDelay: 1000 }), (req, res) => res.send('ok'));
      app.get('/jobs', rateLimit({ limiter, rule: concurrent(1, '10s'), key: () => `jobs:${clientName}` }), async (req, res) => {
        await new Promise((r) => setTimeout(r, Number(req.get('x-work') || 0)));
        res.send('ok');
      });
      app.get('/open', rateLimit({ limiter, rule: fixed(100, '1m'), key: () => `open:${clientName}`, failOpen: true, timeout: 300, onError: (e) => logged.push(e) }), (req, res) => res.send('ok'));
      app.get('/closed', rateLimit({ limiter, rule: fixed(100, '1m'), key: () => `closed:${clientName}`, failOpen: false, timeout: 300, onError: (e) => logged.push(e) }), (req, res) => res.send('ok'));
      http = await serve(app);
      base = `http://127.0.0.1:${http.address().port}`;
    });
    after(async () => {
      http.closeAllConnections();
      http.close();
      await close(client);
      redis.stop();
    });

    test('headers on every response, 429 with problem details past the limit, exempt keys untouched', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${base}/fixed`, { headers: { 'x-user': 'ann' } });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('ratelimit-policy'), '"fixed-3-1m";q=3;w=60');
        assert.match(r.headers.get('ratelimit'), new RegExp(`^"fixed-3-1m";r=${2 - i};t=\\d+$`));
        assert.equal(r.headers.get('x-ratelimit-limit'), '3');
        assert.equal(r.headers.get('x-ratelimit-remaining'), String(2 - i));
      }
      const refused = await fetch(`${base}/fixed`, { headers: { 'x-user': 'ann' } });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('content-type'), 'application/problem+json');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      const body = await refused.json();
      assert.equal(body.type, 'https://iana.org/assignments/http-problem-types#quota-exceeded');
      assert.deepEqual([body.status, body['violated-policies']], [429, ['fixed-3-1m']]);
      // Another key has its own limit; no key exempts the request (no headers, never refused).
      assert.equal((await fetch(`${base}/fixed`, { headers: { 'x-user': 'bob' } })).status, 200);
      for (let i = 0; i < 5; i++) {
        const exempt = await fetch(`${base}/fixed`);
        assert.equal(exempt.status, 200);
        assert.equal(exempt.headers.get('ratelimit'), null);
      }
    });

    test('413 for a cost that can never fit, with no Retry-After', async () => {
      const r = await fetch(`${base}/cost`, { headers: { 'x-user': 'ann', 'x-cost': '6' } });
      assert.equal(r.status, 413);
      assert.equal(r.headers.get('retry-after'), null);
      const body = await r.json();
      assert.equal(body.status, 413);
      assert.match(body.detail, /never be admitted/);
      assert.equal((await fetch(`${base}/cost`, { headers: { 'x-user': 'ann', 'x-cost': '5' } })).status, 200);
    });

    test('a leaky rule\'s delay is awaited; past maxDelay the request is refused', async () => {
      const times = [];
      for (let i = 0; i < 2; i++) {
        const start = Date.now();
        assert.equal((await fetch(`${base}/leaky`)).status, 200);
        times.push(Date.now() - start);
      }
      // 5 per second, evenly spaced: the second request waits about 200 ms (less what the first took).
      assert.ok(times[1] >= 120, `the second request took ${times[1]} ms`);
      assert.ok(times[1] < 600, `the second request took ${times[1]} ms`);
    });

    test('a concurrent rule holds a lease for the request and releases it when the response ends', async () => {
      const slow = fetch(`${base}/jobs`, { headers: { 'x-work': '300' } });
      await new Promise((r) => setTimeout(r, 100));
      const second = await fetch(`${base}/jobs`);
      assert.equal(second.status, 429);
      assert.match(second.headers.get('ratelimit-policy'), /qu="concurrent-requests"/);
      assert.equal((await slow).status, 200);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await fetch(`${base}/jobs`)).status, 200);
    });

    test('Redis killed mid-run: failOpen lets requests through (and logs), else 503', async () => {
      assert.equal((await fetch(`${base}/open`)).status, 200);
      assert.equal((await fetch(`${base}/closed`)).status, 200);
      redis.kill();
      const open = await fetch(`${base}/open`);
      assert.equal(open.status, 200);
      assert.equal(open.headers.get('ratelimit'), null);
      const closed = await fetch(`${base}/closed`);
      assert.equal(closed.status, 503);
      assert.equal((await closed.json()).status, 503);
      assert.ok(logged.length >= 2);
      await redis.start(redis.port); // back: limited again
      let back = 0;
      for (let i = 0; i < 50 && back !== 200; i++) {
        const r = await fetch(`${base}/closed`);
        back = r.headers.get('ratelimit') ? r.status : 0;
        if (back !== 200) await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(back, 200, 'the limiter serves again once Redis is back');
    });
  });
}

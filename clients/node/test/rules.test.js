'use strict';
// Rules, Decisions and headers without a server: the shared vectors both packages satisfy.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Decision, fixed, sliding, log, token, leaky, concurrent, keySlot, Rule } = require('..');
const { REPO } = require('./servers');

const FACTORIES = { fixed, sliding, log, token, leaky, concurrent };

/** headers.json, its integers kept exact: a bare number past 2^53 becomes a BigInt. */
function vectors() {
  const text = fs.readFileSync(path.join(REPO, 'clients', 'shared', 'headers.json'), 'utf8');
  const quoted = text.replace(/(?<=[\[,:]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '"BIG$1"');
  return JSON.parse(quoted, (_, v) => (typeof v === 'string' && v.startsWith('BIG') ? BigInt(v.slice(3)) : v));
}

test('the shared header vectors: decisions, headers and problem details', () => {
  const { cases } = vectors();
  assert.ok(cases.length >= 10);
  for (const [i, c] of cases.entries()) {
    const rules = c.rules.map((r) => FACTORIES[r.kind](...r.args, { name: r.name }));
    const d = Decision.fromReply(c.reply, c.keys, rules, 'module');
    const got = {
      allowed: d.allowed, limit: String(d.limit), remaining: String(d.remaining), retry_after_ms: String(d.retryAfterMs),
      reset_after_ms: String(d.resetAfterMs), delay_ms: String(d.delayMs), key: d.key, policy: d.rule.policy,
    };
    assert.deepEqual(got, c.decision, `case ${i}`);
    assert.deepEqual(d.headers(), c.headers, `case ${i}`);
    assert.deepEqual(d.allowed ? null : d.problem(), c.problem, `case ${i}`);
  }
});

test('numbers past 2^53 are BigInts, exact; below it numbers', () => {
  const d = Decision.fromReply(['1', '9223372036854775807', '9007199254740993', '0', '5'], ['k'], [token(9223372036854775807n, 1, '1d')], 'module');
  assert.equal(d.limit, 9223372036854775807n);
  assert.equal(d.remaining, 9007199254740993n);
  assert.equal(d.resetAfterMs, 5);
  assert.throws(() => Decision.fromReply([1, 9223372036854776000, 1, 0, 0], ['k'], [fixed(1, 1)], 'module', 'advice'), /past 2\^53.*advice/);
});

test('rules check their numbers when made', () => {
  assert.deepEqual(sliding(100, '1m').arguments, ['100', '60000']);
  assert.equal(sliding(100, '1m').policy, 'sliding-100-1m');
  assert.equal(log(5, 1500).policy, 'log-5-1500ms');
  assert.deepEqual(token(10n, 2, '1H').arguments, ['10', '2', '3600000']);
  assert.equal(leaky(10, 1, '1s', { name: 'q' }).policy, 'q');
  assert.equal(concurrent(4, '30s').quotaUnit, 'concurrent-requests');
  assert.ok(fixed(1, 1) instanceof Rule && Object.isFrozen(fixed(1, 1)));
  for (const bad of [() => fixed(0, '1m'), () => fixed(1.5, '1m'), () => fixed(2 ** 60, '1m'), () => fixed(1n << 63n, '1m'),
    () => fixed(1, '1 m'), () => fixed(1, '0s'), () => fixed('1', '1m'), () => token(1, 0, '1s'), () => fixed(1, '1m', { name: 3 })]) {
    assert.throws(bad, (e) => e instanceof TypeError || e instanceof RangeError);
  }
});

test('key slots are the cluster\'s (CRC16 of the hash tag)', () => {
  assert.equal(keySlot('123456789'), 12739);
  assert.equal(keySlot('foo'), 12182);
  assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
  assert.equal(keySlot('foo{}{bar}'), keySlot('foo{}{bar}'.replace('', '')));
  assert.equal(keySlot('{}x'), keySlot(Buffer.from('{}x')));
});

test('the packaged library files are the repository\'s functions/', () => {
  for (const name of ['ratelimit.lua', 'ratelimit-script.lua']) {
    const shipped = fs.readFileSync(path.join(__dirname, '..', 'lua', name), 'utf8');
    const source = fs.readFileSync(path.join(REPO, 'functions', name), 'utf8');
    assert.ok(shipped === source, `clients/node/lua/${name} differs from functions/${name}: make functions`);
  }
});

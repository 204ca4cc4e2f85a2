'use strict';
// The package as users get it: `npm install ./clients/node` into a fresh project, imported
// from ESM and required from CommonJS (one copy of the code, prom-client not pulled in), and its TypeScript declarations
// checked by `tsc --noEmit` on a typed example.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PACKAGE = path.resolve(__dirname, '..');
const NPM = process.env.npm_execpath && process.env.npm_execpath.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];

function npm(cwd, ...args) {
  const [cmd, ...pre] = NPM;
  return execFileSync(cmd, [...pre, ...args], { cwd, stdio: 'pipe', encoding: 'utf8' });
}

test('npm install ./clients/node into a fresh project: ESM and CommonJS, one copy of the code', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-node-install-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fresh', version: '1.0.0', private: true }));
    // --install-links copies the package as `npm pack` would (its "files" only), nothing built.
    npm(dir, 'install', '--offline', '--no-audit', '--no-fund', '--install-links', PACKAGE);
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', 'redis-ratelimit', 'lua', 'ratelimit.lua')));
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'redis-ratelimit', 'test')), 'tests are not shipped');
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'prom-client')), 'prom-client is an optional peer: not installed with the package');
    fs.writeFileSync(path.join(dir, 'esm.mjs'), `
      import { Limiter, sliding, Decision, RateLimitError } from 'redis-ratelimit';
      import { rateLimit } from 'redis-ratelimit/express';
      import { PrometheusMetrics } from 'redis-ratelimit/metrics';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const cjs = require('redis-ratelimit');
      if (cjs.Limiter !== Limiter || cjs.RateLimitError !== RateLimitError) throw new Error('two copies');
      if (typeof rateLimit !== 'function' || require('redis-ratelimit/express').rateLimit !== rateLimit) throw new Error('express');
      if (require('redis-ratelimit/metrics').PrometheusMetrics !== PrometheusMetrics) throw new Error('metrics');
      console.log(sliding(100, '1m').policy, typeof Decision);
    `);
    fs.writeFileSync(path.join(dir, 'cjs.cjs'), `
      const { Limiter, fixed } = require('redis-ratelimit');
      const { rateLimit } = require('redis-ratelimit/express');
      const { PrometheusMetrics } = require('redis-ratelimit/metrics');
      console.log(fixed(1, '1s').policy, typeof Limiter, typeof rateLimit, typeof PrometheusMetrics);
    `);
    assert.equal(execFileSync(process.execPath, ['esm.mjs'], { cwd: dir, encoding: 'utf8' }).trim(), 'sliding-100-1m function');
    assert.equal(execFileSync(process.execPath, ['cjs.cjs'], { cwd: dir, encoding: 'utf8' }).trim(), 'fixed-1-1s function function function');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the TypeScript declarations: tsc --noEmit on a typed example (ESM and CommonJS)', () => {
  const tsc = path.join(PACKAGE, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'typed', 'tsconfig.json')], { stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    assert.fail(`tsc: ${error.stdout}${error.stderr}`);
  }
});

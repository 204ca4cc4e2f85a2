'use strict';
/**
 * Real servers for the tests: redis-server / valkey-server processes on free loopback ports,
 * with or without the module, single or as a 3-primary cluster, stopped when the test ends.
 *
 * The same convention as the Python package's tests: RL_SERVERS (`name=path,name=path`;
 * `make node` passes Redis 6.2, 7.0 and Valkey 9), else Debian's redis-server alone; RL_MODULE,
 * else the repository's target/release/libredis_ratelimit.so.
 */

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..', '..');

function modulePath() {
  const p = process.env.RL_MODULE || path.join(REPO, 'target', 'release', 'libredis_ratelimit.so');
  if (!fs.existsSync(p)) throw new Error(`no module at ${p}: cargo build --release (make node does)`);
  return p;
}

/** The servers to run against, by name; every listed one must exist. */
function binaries() {
  const found = {};
  for (const item of (process.env.RL_SERVERS || '').split(',').filter(Boolean)) {
    const [name, p] = item.split('=');
    if (!fs.existsSync(p)) throw new Error(`RL_SERVERS names ${name}=${p}, which does not exist`);
    found[name] = p;
  }
  if (Object.keys(found).length === 0) found.redis70 = '/usr/bin/redis-server';
  return found;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One command on a fresh connection, the reply's raw text (enough for PING, INFO, CLUSTER INFO). */
function raw(port, ...args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      data += chunk;
      const m = /^\$(\d+)\r\n/.exec(data);
      if ((data[0] === '+' || data[0] === '-' || data[0] === ':') && data.endsWith('\r\n')) { socket.end(); resolve(data); }
      else if (m && Buffer.byteLength(data) >= m[0].length + Number(m[1]) + 2) { socket.end(); resolve(data.slice(m[0].length, m[0].length + Number(m[1]))); }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function eventually(check, ms = 10000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try { if (await check()) return true; } catch { /* not yet */ }
    await sleep(20);
  }
  return check();
}

class Server {
  constructor(binary, module, extra = []) {
    this.binary = binary;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-node-'));
    this.args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...extra];
    if (module) this.args.push('--loadmodule', modulePath());
    this.process = null;
    this.port = 0;
  }

  static async start(binary, module, extra) {
    const server = new Server(binary, module, extra);
    await server.start();
    return server;
  }

  async start(port) {
    for (let attempt = 0; attempt < 5; attempt++) {
      this.port = port || await freePort();
      const log = fs.openSync(path.join(this.dir, 'server.log'), 'a');
      this.process = spawn(this.binary, ['--port', String(this.port), ...this.args], { stdio: ['ignore', log, log] });
      fs.closeSync(log);
      const exited = new Promise((resolve) => this.process.once('exit', () => resolve(false)));
      const ready = eventually(async () => (await raw(this.port, 'PING')).startsWith('+PONG'));
      if (await Promise.race([ready, exited])) return;
      this.kill();
    }
    throw new Error(`${this.binary} did not start: ${this.log()}`);
  }

  log() {
    try { return fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(-3000); } catch { return ''; }
  }

  /** The count of an INFO field: `info('commandstats', 'cmdstat_fcall', 'calls')`. */
  async stat(section, name, field) {
    const text = await raw(this.port, 'INFO', section);
    const line = text.split('\r\n').find((l) => l.startsWith(`${name}:`));
    if (!line) return 0;
    const m = new RegExp(`${field}=(\\d+)`).exec(line);
    return m ? Number(m[1]) : 0;
  }

  kill() {
    if (this.process) {
      this.process.kill('SIGKILL');
      this.process = null;
    }
  }

  stop() {
    this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `primaries` primaries (no replicas), the module on every node or on none. */
class Cluster {
  static async start(binary, module, primaries = 3) {
    const cluster = new Cluster();
    cluster.nodes = [];
    try {
      for (let i = 0; i < primaries; i++) {
        const bus = await freePort();
        cluster.nodes.push(await Server.start(binary, module, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', '1500', '--cluster-port', String(bus)]));
      }
      const cli = fs.existsSync(path.join(path.dirname(binary), 'redis-cli')) ? path.join(path.dirname(binary), 'redis-cli') : 'redis-cli';
      execFileSync(cli, ['--cluster', 'create', ...cluster.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
      const settled = await eventually(async () => {
        for (const n of cluster.nodes) if (!(await raw(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
        return true;
      }, 30000);
      if (!settled) throw new Error('the cluster never reached cluster_state:ok');
    } catch (error) {
      cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** MOVED (or ASK) answers on every node so far, from INFO errorstats. */
  async redirects() {
    let total = 0;
    for (const n of this.nodes) total += await n.stat('errorstats', 'errorstat_MOVED', 'count') + await n.stat('errorstats', 'errorstat_ASK', 'count');
    return total;
  }

  stop() {
    for (const n of this.nodes) n.stop();
  }
}

module.exports = { Server, Cluster, binaries, modulePath, raw, eventually, sleep, freePort, REPO };

'use strict';
/** The clients the tests drive the package through: node-redis 4, 5 and 6, ioredis 5 and 6. */

const NODE_REDIS = { 'node-redis4': 'redis', 'node-redis5': 'redis5', 'node-redis6': 'redis6' };
const IOREDIS = { ioredis5: 'ioredis', ioredis6: 'ioredis6' };
const ALL = [...Object.keys(NODE_REDIS), ...Object.keys(IOREDIS)];

/** Reads every integer exactly (node-redis 5+; ioredis with stringNumbers, which `connect` sets unless told not to). */
const exact = (name, { stringNumbers = true } = {}) => name !== 'node-redis4' && (name.startsWith('node-redis') || stringNumbers);

/** A connected client of one server. */
async function connect(name, port, { stringNumbers = true, ...options } = {}) {
  if (NODE_REDIS[name]) {
    const client = require(NODE_REDIS[name]).createClient({ socket: { host: '127.0.0.1', port, ...(options.socket || {}) }, ...options });
    client.on('error', () => {}); // reconnects are the tests' business
    await client.connect();
    return client;
  }
  const Redis = require(IOREDIS[name]);
  const client = new (Redis.default || Redis)({ host: '127.0.0.1', port, stringNumbers, lazyConnect: true, ...options });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** A connected cluster client, given one node's port. */
async function connectCluster(name, port) {
  if (NODE_REDIS[name]) {
    const cluster = require(NODE_REDIS[name]).createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
    cluster.on('error', () => {});
    await cluster.connect();
    return cluster;
  }
  const Redis = require(IOREDIS[name]);
  const cluster = new Redis.Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true });
  cluster.on('error', () => {});
  await cluster.connect();
  return cluster;
}

async function close(client) {
  try {
    if (typeof client.call === 'function' || client.isCluster) client.disconnect();
    else if (typeof client.destroy === 'function' && typeof client.withTypeMapping === 'function') client.destroy();
    else await client.disconnect();
  } catch { /* already closed */ }
}

module.exports = { ALL, exact, connect, connectCluster, close };

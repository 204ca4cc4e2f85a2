'use strict';
/**
 * Where a call goes, per client: node-redis (createClient, createCluster; 4, 5 and 6) and
 * ioredis (Redis, Cluster; 5 and 6), told apart by what they offer, not by importing them.
 *
 * On a cluster every call goes to the primary that owns its key's slot: node-redis routes a raw
 * command by the key given as `firstKey`; ioredis routes one only by a known command's key
 * positions, so the package computes the slot (CRC16 of the hash tag) and gives it to the
 * command, and ioredis sends it to that slot's owner (following MOVED/ASK during a reshard).
 */

// CRC16-XMODEM, the cluster's key hash (polynomial 0x1021).
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  CRC16[i] = crc & 0xffff;
}

/** The cluster slot of `key` (a string, as UTF-8, or a Buffer): of its hash tag where it has one. */
function keySlot(key) {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) [start, end] = [open + 1, close];
  }
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ bytes[i]) & 0xff];
  return crc & 16383;
}

// node-redis 5+: read integers (RESP `:` and RESP3 big numbers `(`) as strings, so they stay exact.
const EXACT_NUMBERS = Object.freeze({ typeMapping: Object.freeze({ 58: String, 40: String }) });
const NODE_REDIS_4 = 'node-redis 4 reads integers as JavaScript numbers; node-redis 5+ (or ioredis with { stringNumbers: true }) reads them exactly';
const NOT_EXACT = 'the Limiter was made with { exactNumbers: false }: leave it on to read them exactly';
const IOREDIS = 'create the ioredis client with { stringNumbers: true } to read it exactly';
// ioredis 5 and 6 Cluster read CLUSTER SLOTS through the same parser: with stringNumbers its
// slot ranges are strings, compared as strings ("5461" <= "10922" is false), and whole ranges
// go missing from its slot map (random nodes, MOVED). So no exact reading on an ioredis Cluster.
const IOREDIS_CLUSTER = 'an ioredis Cluster reads integers as JavaScript numbers (its stringNumbers option breaks its own slot map); node-redis 5+ createCluster reads them exactly';

/** A client of one server. */
const ONE = Object.freeze({ name: '', target: null });

class IoRedis {
  constructor(client) {
    this.client = client;
    this.cluster = false;
    this.rounding = IOREDIS;
  }
  owner() {
    return ONE;
  }
  async primaries() {
    return [];
  }
  send(_target, args) {
    return this.client.call(...args);
  }
}

class IoRedisCluster {
  constructor(client) {
    this.client = client;
    this.cluster = true;
    this.rounding = IOREDIS_CLUSTER;
    this.Command = null;
  }
  owner(keys) {
    const slot = keySlot(keys[0]);
    const owners = this.client.slots[slot];
    return { name: owners && owners[0] ? String(owners[0]) : '', target: { slot } };
  }
  async primaries() {
    return this.client.nodes('master').map((node) => ({ name: `${node.options.host}:${node.options.port}`, target: { node } }));
  }
  send(target, args) {
    if (target.node) return target.node.call(...args);
    if (this.Command === null) this.Command = commandClass(this.client);
    const command = new this.Command(args[0], args.slice(1), { replyEncoding: 'utf8' });
    // ioredis knows no key position for these commands: the slot, given, routes the command
    // to its owner; ioredis follows MOVED/ASK from there like for any command.
    command.slot = target.slot;
    return this.client.sendCommand(command);
  }
}

/** ioredis's Command class, from the client itself (the package does not import ioredis): the
 * one its `call` makes, caught before anything is sent. */
function commandClass(client) {
  let found = null;
  const probe = Object.create(client);
  probe.options = {};
  probe.sendCommand = (command) => {
    found = command.constructor;
    return Promise.resolve(null);
  };
  probe.call('PING');
  if (typeof found !== 'function') throw new TypeError('this ioredis Cluster does not build commands as ioredis 5 and 6 do');
  return found;
}

class NodeRedis {
  constructor(client, exactNumbers) {
    this.client = client;
    this.cluster = false;
    // node-redis 5+: integers as strings per call, unless the user traded that for speed.
    this.exact = typeof client.withTypeMapping === 'function' && exactNumbers;
    this.options = this.exact ? EXACT_NUMBERS : undefined;
    this.rounding = typeof client.withTypeMapping === 'function' ? NOT_EXACT : NODE_REDIS_4;
  }
  owner() {
    return ONE;
  }
  async primaries() {
    return [];
  }
  send(_target, args) {
    return this.client.sendCommand(args, this.options);
  }
}

class NodeRedisCluster {
  constructor(client, exactNumbers) {
    this.client = client;
    this.cluster = true;
    // node-redis 5+: integers as strings per call, unless the user traded that for speed.
    this.exact = typeof client.withTypeMapping === 'function' && exactNumbers;
    this.options = this.exact ? EXACT_NUMBERS : undefined;
    this.rounding = typeof client.withTypeMapping === 'function' ? NOT_EXACT : NODE_REDIS_4;
  }
  owner(keys) {
    const master = this.client.getSlotMaster(keySlot(keys[0]));
    return { name: master ? `${master.host}:${master.port}` : '', target: { key: keys[0] } };
  }
  async primaries() {
    return this.client.masters.map((node) => ({ name: `${node.host}:${node.port}`, target: { node } }));
  }
  async send(target, args) {
    if (target.node) return (await this.client.nodeClient(target.node)).sendCommand(args, this.options);
    // firstKey routes the raw command to the slot's owner (and node-redis follows MOVED/ASK).
    return this.client.sendCommand(target.key, false, args, this.options);
  }
}

/** The route for `client`, or a TypeError for anything that is not a client this package knows.
 * `exactNumbers` (node-redis 5+): read integers as strings, exact past 2^53 (the default). */
function routeFor(client, exactNumbers = true) {
  if (client === null || typeof client !== 'object') throw new TypeError('Limiter takes a node-redis or an ioredis client');
  if (client.isCluster === true && typeof client.nodes === 'function') return new IoRedisCluster(client);
  if (typeof client.call === 'function' && typeof client.sendCommand === 'function') return new IoRedis(client);
  if (typeof client.getSlotMaster === 'function' && typeof client.sendCommand === 'function') return new NodeRedisCluster(client, exactNumbers);
  if (typeof client.sendCommand === 'function') return new NodeRedis(client, exactNumbers);
  throw new TypeError('Limiter takes a node-redis client (createClient, createCluster) or an ioredis one (Redis, Cluster)');
}

module.exports = { routeFor, keySlot };

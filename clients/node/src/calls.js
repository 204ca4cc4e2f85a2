'use strict';
/** The operations as calls: their words checked here, before anything is sent. */

const { randomUUID } = require('node:crypto');
const { Rule, positive } = require('./rules');
const library = require('./library');

const MAX_ID = 256;
const MAX_KEYS = 16;

/** A call, whichever path serves it: the command, its keys, and the words after them. */
class Call {
  constructor(command, keys, rules, words, check) {
    this.command = command; // RL.FIXED ... RL.CONCURRENT, RL.ALL
    this.keys = keys;
    this.rules = rules;
    this.words = words; // strings, and an id that may be a Buffer
    /** A check (hit, hitAll, acquire): a charge that gets a decision; not a peek, refund or release. */
    this.check = check;
  }
  get function() {
    return `rl_${this.command.slice(3).toLowerCase()}`;
  }
  module() {
    return this.command === 'RL.ALL'
      ? [this.command, String(this.keys.length), ...this.keys, ...this.words]
      : [this.command, this.keys[0], ...this.words];
  }
  fcall() {
    return ['FCALL', this.function, String(this.keys.length), ...this.keys, ...this.words];
  }
  script(whole) {
    return [whole ? 'EVAL' : 'EVALSHA', whole ? library.SCRIPT : library.SCRIPT_SHA, String(this.keys.length), ...this.keys, this.function, ...this.words];
  }
}

function key(value) {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`a key must be a non-empty string, not ${typeof value === 'string' ? "''" : typeof value}`);
  }
  return value;
}

/** A holder's id: a string (its UTF-8 bytes) or a Buffer, 1 to 256 bytes. */
function holder(id) {
  if (typeof id !== 'string' && !Buffer.isBuffer(id)) throw new TypeError(`id must be a string or a Buffer, not ${typeof id}`);
  const size = typeof id === 'string' ? Buffer.byteLength(id, 'utf8') : id.length;
  if (size < 1 || size > MAX_ID) throw new RangeError(`id must be 1 to ${MAX_ID} bytes, not ${size}`);
  return id;
}

/** A fresh holder id for a lease whose caller named none. */
const newId = () => randomUUID();

function rate(rule, operation) {
  if (!(rule instanceof Rule)) throw new TypeError(`${operation} takes a rule (fixed, sliding, log, token, leaky), not ${typeof rule}`);
  if (rule.kind === 'concurrent') throw new TypeError(`${operation} takes a rate rule; a concurrent rule takes acquire, release or lease`);
  return rule;
}

function leaseRule(rule) {
  if (!(rule instanceof Rule) || rule.kind !== 'concurrent') throw new TypeError('leases take a concurrent rule');
  return rule;
}

function options(value, operation) {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new TypeError(`${operation}'s options must be an object`);
  return value;
}

function cost(value) {
  if (value === undefined || value === 1) return [];
  return ['COST', String(positive(value, 'cost'))];
}

function hit(k, rule, opts) {
  const { cost: c, force = false } = options(opts, 'hit');
  rate(rule, 'hit');
  const words = [...rule.arguments, ...cost(c)];
  if (force) words.push('FORCE');
  return new Call(`RL.${rule.word}`, [key(k)], [rule], words, true);
}

function peek(k, rule, opts) {
  const { cost: c, id } = options(opts, 'peek');
  if (rule instanceof Rule && rule.kind === 'concurrent') {
    if (id === undefined) throw new TypeError('peek of a concurrent rule needs the holder\'s id: { id }');
    return new Call('RL.CONCURRENT', [key(k)], [rule], [...rule.arguments, holder(id), 'PEEK'], false);
  }
  rate(rule, 'peek');
  return new Call(`RL.${rule.word}`, [key(k)], [rule], [...rule.arguments, ...cost(c), 'PEEK'], false);
}

function refund(k, rule, amount) {
  rate(rule, 'refund');
  return new Call(`RL.${rule.word}`, [key(k)], [rule], [...rule.arguments, 'REFUND', String(positive(amount, 'amount'))], false);
}

function lease(k, rule, id, release) {
  leaseRule(rule);
  const words = [...rule.arguments, holder(id)];
  if (release) words.push('RELEASE');
  return new Call('RL.CONCURRENT', [key(k)], [rule], words, !release);
}

function hitAll(pairs, opts) {
  const { cost: c, id, peek: isPeek = false } = options(opts, 'hitAll');
  const entries = pairs instanceof Map ? [...pairs] : pairs !== null && typeof pairs === 'object' ? Object.entries(pairs) : null;
  if (entries === null || entries.length === 0) throw new TypeError('hitAll takes an object (or a Map) of at least one key to its rule');
  if (entries.length > MAX_KEYS) throw new RangeError(`hitAll takes at most ${MAX_KEYS} keys, not ${entries.length}`);
  const keys = entries.map(([k]) => key(k));
  const rules = entries.map(([, r]) => (r instanceof Rule && r.kind === 'concurrent' ? r : rate(r, 'hitAll')));
  const leases = rules.some((r) => r.kind === 'concurrent');
  if (leases && id === undefined) throw new TypeError('hitAll with a concurrent rule needs the holder\'s id: { id }');
  if (id !== undefined && !leases) throw new TypeError('hitAll takes an id only with a concurrent rule');
  const words = rules.flatMap((r) => [r.word, ...r.arguments]);
  words.push(...cost(c));
  if (id !== undefined) words.push('ID', holder(id));
  if (isPeek) words.push('PEEK');
  return new Call('RL.ALL', keys, rules, words, !isPeek);
}

module.exports = { Call, hit, peek, refund, lease, hitAll, newId };

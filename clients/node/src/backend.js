'use strict';
/**
 * Which path serves a call on a node, found once per node.
 *
 * Per node: the module's command first (RL.*); where the server does not know it, or the ACL
 * user may not call it, the Functions library (FCALL rl_*), loaded by the package where it is
 * missing or older than its own copy (on every primary of a cluster, never replacing a newer
 * one); where FUNCTION is not offered or not permitted, the script (EVALSHA, sent whole with
 * EVAL once after a NOSCRIPT).
 */

const library = require('./library');
const { Decision } = require('./decision');
const { RateLimitError, BackendUnavailable } = require('./errors');

const MODULE = 'module';
const FUNCTION = 'function';
const SCRIPT = 'script';
const BACKENDS = [MODULE, FUNCTION, SCRIPT];

/** What one limiter knows of one node. */
class NodeState {
  constructor() {
    /** The module's commands may serve it (not yet found unknown or refused). */
    this.module = true;
    /** FCALL may serve it (the library is there, or could not be looked at). */
    this.function = true;
    /** FUNCTION LIST (and LOAD where needed) done; a promise while under way, shared by the
     * calls that arrive meanwhile. */
    this.libraryChecked = false;
    this.libraryCheck = null;
    /** EVALSHA finds the script cached; else EVAL sends it whole (once, or always where
     * EVALSHA is refused). */
    this.scriptCached = true;
    this.evalshaRefused = false;
    /** The commands the ACL user was refused, for the error that says so. */
    this.lacks = new Set();
    /** The path that served the last call. */
    this.backend = null;
  }
}

/** An error reply of the server (node-redis's ErrorReply, ioredis's ReplyError), not the
 * client's own errors (closed connection, timeout). */
function isServerError(error) {
  for (let proto = error; proto; proto = Object.getPrototypeOf(proto)) {
    const name = proto.constructor && proto.constructor.name;
    if (name === 'ErrorReply' || name === 'ReplyError') return true;
  }
  return false;
}

/** NOPERM for `command` (or one of its subcommands) itself, not for a command a script calls. */
function refused(text, command) {
  const name = command.toLowerCase();
  const named = text.includes(`'${name}'`) || text.includes(`'${name}|`) || text.includes(`\`${name}\``);
  return named && (text.includes('noperm') || text.includes('no permissions'));
}

const unknown = (text) => text.includes('unknown command') || text.includes('unknown subcommand');
const noFunction = (text) => text.includes('function not found');
const noScript = (text) => text.includes('noscript') || text.includes('no matching script');

class Backends {
  constructor(pinned) {
    if (pinned !== undefined && pinned !== null && !BACKENDS.includes(pinned)) {
      throw new RangeError(`backend must be one of ${BACKENDS.join(', ')}, or undefined, not '${pinned}'`);
    }
    this.pinned = pinned || null;
    this.nodes = new Map();
  }

  node(name) {
    let state = this.nodes.get(name);
    if (state === undefined) {
      state = new NodeState();
      this.nodes.set(name, state);
    }
    return state;
  }

  path(state) {
    if (this.pinned !== null) return this.pinned;
    if (state.module) return MODULE;
    return state.function ? FUNCTION : SCRIPT;
  }

  /** `call` on the node that owns its keys, served by the first path that can. */
  async run(call, route) {
    const { name, target } = route.owner(call.keys);
    const state = this.node(name);
    let reloaded = false;
    for (let turn = 0; turn < 8; turn++) {
      // every turn settles something: a path found missing, the library loaded, a script sent
      const backend = this.path(state);
      if (backend === FUNCTION && !state.libraryChecked) {
        await this.prepareLibrary(route, target, name);
        if (!state.function && this.pinned === FUNCTION) {
          throw new BackendUnavailable(`${where(name)}: the pinned backend 'function' is not offered: ${lacking(state)}`);
        }
        continue;
      }
      const args = backend === MODULE ? call.module() : backend === FUNCTION ? call.fcall() : call.script(!state.scriptCached || state.evalshaRefused);
      let reply;
      try {
        reply = await route.send(target, args);
      } catch (error) {
        if (!isServerError(error)) throw error;
        const text = String(error.message).toLowerCase();
        const command = args[0];
        const isRefused = refused(text, command);
        if (isRefused) state.lacks.add(command);
        if (backend === MODULE && (isRefused || unknown(text))) {
          state.module = false;
        } else if (backend === FUNCTION && noFunction(text) && !reloaded) {
          state.libraryChecked = false; // flushed or restarted: load it again
          reloaded = true;
        } else if (backend === FUNCTION && (isRefused || unknown(text) || noFunction(text))) {
          state.function = false;
        } else if (backend === SCRIPT && command === 'EVALSHA' && (isRefused || noScript(text))) {
          state.scriptCached = false;
          state.evalshaRefused = state.evalshaRefused || isRefused;
        } else if (backend === SCRIPT && isRefused) {
          throw new BackendUnavailable(`${where(name)}: no path to rate-limit: ${lacking(state)}`);
        } else {
          state.backend = backend; // the path answered, with an error about this call
          throw new RateLimitError(error.message, { cause: error });
        }
        if (this.pinned === backend && backend !== SCRIPT && !(backend === FUNCTION && reloaded && state.function)) {
          throw new BackendUnavailable(`${where(name)}: the pinned backend '${backend}' answered: ${error.message}`, { cause: error });
        }
        continue;
      }
      state.backend = backend;
      if (backend === SCRIPT && !state.evalshaRefused) state.scriptCached = true;
      return Decision.fromReply(reply, call.keys, call.rules, backend, route.rounding);
    }
    throw new BackendUnavailable(`${where(name)}: no path answered: ${lacking(state)}`);
  }

  /** The path known to serve the node of `keys`: the one that answered there last, else the
   * pinned one, else null (no answer yet, or the client cannot say which node owns them now). */
  known(keys, route) {
    let state;
    try {
      state = this.nodes.get(route.owner(keys).name);
    } catch {
      state = undefined;
    }
    return (state && state.backend) || this.pinned;
  }

  /** The library on the call's node and on every primary not yet looked at (one check per
   * node at a time: calls that arrive meanwhile wait for it). */
  async prepareLibrary(route, target, name) {
    // On a cluster each primary by its own connection: a key-routed FUNCTION command may be
    // sent elsewhere (node-redis 6 routes FUNCTION by its own request policy, not by the key).
    const primaries = await route.primaries();
    const targets = primaries.some((p) => p.name === name) ? primaries : [{ name, target }, ...primaries];
    await Promise.all(targets.map(async (node) => {
      const state = this.node(node.name);
      if (state.libraryChecked) return;
      if (state.libraryCheck === null) {
        state.libraryCheck = this.ensureLibrary(route, node.target, state).then(
          (usable) => { state.function = usable; state.libraryChecked = true; },
        ).finally(() => { state.libraryCheck = null; });
      }
      await state.libraryCheck;
    }));
  }

  /** Load the package's library on a node where it is missing or older; whether FCALL can serve it. */
  async ensureLibrary(route, target, state) {
    let listing;
    try {
      listing = await route.send(target, ['FUNCTION', 'LIST', 'LIBRARYNAME', 'ratelimit', 'WITHCODE']);
    } catch (error) {
      if (!isServerError(error)) throw error;
      const text = String(error.message).toLowerCase();
      if (unknown(text)) return false; // no FUNCTION: Redis 6.2, or a service that renames it away
      if (refused(text, 'FUNCTION')) {
        state.lacks.add('FUNCTION LIST');
        return true; // cannot look: FCALL will tell whether it is there
      }
      throw new RateLimitError(error.message, { cause: error });
    }
    const code = library.codeIn(listing);
    if (code !== null && !library.older(library.versionOf(code), library.VERSION)) return true;
    try {
      await route.send(target, code === null ? ['FUNCTION', 'LOAD', library.LIBRARY] : ['FUNCTION', 'LOAD', 'REPLACE', library.LIBRARY]);
    } catch (error) {
      if (!isServerError(error)) throw error;
      const text = String(error.message).toLowerCase();
      if (text.includes('already exists')) return true; // another client loaded it meanwhile
      if (refused(text, 'FUNCTION')) state.lacks.add('FUNCTION LOAD');
      return code !== null; // an older library still serves; none: the script will
    }
    return true;
  }
}

function where(name) {
  return name || 'the server';
}

function lacking(state) {
  if (state.lacks.size === 0) return 'the module is not loaded and the library cannot be used';
  return `the ACL user lacks ${[...state.lacks].sort().join(', ')}`;
}

module.exports = { Backends, BACKENDS };

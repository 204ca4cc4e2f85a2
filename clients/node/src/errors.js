'use strict';
/** The package's errors. A connection error or a timeout is the Redis client's own. */

/** The server refused a call (bad arguments, WRONGTYPE, unreadable state, the script
 * library's 2^53 error): the message is the server's. Also a reply the client rounded. */
class RateLimitError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'RateLimitError';
  }
}

/** No way to rate-limit on a node: the module is not loaded there and the ACL user may not
 * call (or load) the script library. The message names the commands it lacks. */
class BackendUnavailable extends RateLimitError {
  constructor(message, options) {
    super(message, options);
    this.name = 'BackendUnavailable';
  }
}

/** The keys of one hitAll are in different cluster slots (give them a hash tag:
 * `{tenant}:user`, `{tenant}:ip`); thrown before anything is sent. */
class CrossSlotError extends RangeError {
  constructor(message) {
    super(message);
    this.name = 'CrossSlotError';
  }
}

module.exports = { RateLimitError, BackendUnavailable, CrossSlotError };

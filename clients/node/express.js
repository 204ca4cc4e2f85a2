'use strict';
/** redis-ratelimit/express (the CommonJS entry; express.mjs re-exports it). */
module.exports = require('./src/express');

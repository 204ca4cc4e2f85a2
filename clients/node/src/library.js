'use strict';
/** The script library shipped inside the package (copies of the repository's functions/). */

const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** functions/ratelimit.lua: FUNCTION LOAD as is. */
const LIBRARY = readFileSync(join(__dirname, '..', 'lua', 'ratelimit.lua'), 'utf8');
/** functions/ratelimit-script.lua: the same code for EVALSHA, the function's name in ARGV[1]. */
const SCRIPT = readFileSync(join(__dirname, '..', 'lua', 'ratelimit-script.lua'), 'utf8');
const SCRIPT_SHA = createHash('sha1').update(SCRIPT, 'utf8').digest('hex');

const VERSION_LINE = /^-- redis-ratelimit ([0-9]+)\.([0-9]+)\.([0-9]+)\b/m;

/** The version a library's code names near its top, as [major, minor, patch]; null for one
 * that names none (older than any that does). */
function versionOf(code) {
  const match = VERSION_LINE.exec(code.slice(0, 400));
  return match === null ? null : match.slice(1, 4).map(Number);
}

/** a < b, comparing versions part by part (null: older than any). */
function older(a, b) {
  if (a === null) return true;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

const VERSION = versionOf(LIBRARY);
if (VERSION === null) throw new Error('the packaged ratelimit.lua names no version');

function text(value) {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return null;
}

/** The library_code of a FUNCTION LIST ... WITHCODE reply, RESP2 (flat arrays) or RESP3 (maps,
 * as objects or Maps), strings or Buffers; null when the library is not there. */
function codeIn(listing) {
  let items;
  if (Array.isArray(listing)) items = listing;
  else if (listing instanceof Map) items = [...listing].flat();
  else if (listing !== null && typeof listing === 'object' && !Buffer.isBuffer(listing)) items = Object.entries(listing).flat();
  else return null;
  for (let i = 0; i + 1 < items.length; i++) {
    if (text(items[i]) === 'library_code' && text(items[i + 1]) !== null) return text(items[i + 1]);
  }
  for (const item of items) {
    const found = codeIn(item);
    if (found !== null) return found;
  }
  return null;
}

module.exports = { LIBRARY, SCRIPT, SCRIPT_SHA, VERSION, versionOf, older, codeIn };

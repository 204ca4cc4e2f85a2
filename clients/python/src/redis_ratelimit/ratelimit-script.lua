-- GENERATED from functions/ratelimit.lua by `make functions` (src/testing/script.rs): edit that file, not
-- this one. SCRIPT LOAD this file, then:
--   EVALSHA <sha> numkeys key [key ...] rl_fixed|rl_sliding|... arguments
-- The library's code, each top-level name defined when a call first reads it (LIB's __index).
local LIB
LIB = setmetatable({
  byte = string.byte,
  char = string.char,
  find = string.find,
  sub = string.sub,
  format = string.format,
  match = string.match,
  lower = string.lower,
  upper = string.upper,
  floor = math.floor,
  min = math.min,
  max = math.max,
  concat = table.concat,
  sort = table.sort,
}, { __index = function(_, lib_name)
  local lib_value
  if #lib_name < 11 then
    if #lib_name < 7 then
      if #lib_name < 5 then
        if #lib_name < 4 then
          if lib_name == "all" then
            lib_value = function(keys, args, first)
              if not LIB.floor then
                LIB.init()
              end
              local short = LIB.arity_error("RL.ALL", 2 + #keys + #args - first + 1, 6)
              if short then
                return short
              end
              local e, call = LIB.parsed(#keys, LIB.parse_all, args, first, #keys, keys, args, first)
              if e == nil and #keys > 1 then
                -- (A remembered call was parsed with other key names.)
                e = LIB.catching(LIB.distinct, keys)
              end
              if e then
                return redis.error_reply(e)
              end
              local now = LIB.server_ms()
              local founds = {}
              for k, key in ipairs(keys) do
                if call.specs[k].kind == "RL.CONCURRENT" then
                  local leases, wrong = LIB.read_leases(key, call.id)
                  if wrong then
                    return redis.error_reply(wrong)
                  end
                  founds[k] = { leases = leases or false, ranks = LIB.ranks_of(key) }
                else
                  local bytes, expire_at, wrong = LIB.read_key(key)
                  if wrong then
                    return redis.error_reply(wrong)
                  end
                  founds[k] = bytes and { bytes = bytes, expire_at = expire_at }
                end
              end
              local e2, r, writes = LIB.catching(LIB.evaluate_all, call.specs, founds, now, call.request, call.id)
              if e2 then
                return redis.error_reply(e2)
              end
              for _, write in ipairs(writes) do
                if write.leases then
                  LIB.apply_leases(keys[write.index], call.id, write.leases)
                else
                  LIB.apply(keys[write.index], write)
                end
              end
              return r
            end
          else
            return nil
          end
        else
          if lib_name == "init" then
            lib_value = function()
              LIB.byte, LIB.char, LIB.find, LIB.sub, LIB.format = string.byte, string.char, string.find, string.sub, string.format
              LIB.match, LIB.lower, LIB.upper, LIB.floor, LIB.min, LIB.max = string.match, string.lower, string.upper, math.floor, math.min, math.max
              LIB.concat, LIB.sort = table.concat, table.sort
            end
          elseif lib_name == "fail" then
            -- Errors travel as error() with a one-element table (the message), caught once per call.
            lib_value = function(message)
              error({ message }, 0)
            end
          elseif lib_name == "idiv" then
            lib_value = function(a, b)
              return LIB.floor(a / b)
            end
          elseif lib_name == "sub0" then
            lib_value = function(a, b)
              if a > b then
                return a - b
              end
              return 0
            end
          elseif lib_name == "PEEK" then
            lib_value = { cost = 1, peek = true, mode = 1 }
          elseif lib_name == "memo" then
            lib_value = {}
          elseif lib_name == "PURE" then
            -- The pure part, for the differential tests (functions/README.md).
            lib_value = {
              parse = function(kind, args) return LIB.catching(LIB.parse, kind, args, 1) end,
              parse_all = function(keys, names, args) return LIB.catching(LIB.parse_all, keys, names, args, 1) end,
              evaluate = function(call, found, now) return LIB.catching(LIB.evaluate, call, found and found.bytes, found and found.expire_at, now) end,
              evaluate_all = function(specs, founds, now, req, id) return LIB.catching(LIB.evaluate_all, specs, founds, now, req, id) end,
              parse_concurrent = function(args) return LIB.catching(LIB.parse_concurrent, args, 1) end,
              evaluate_concurrent = function(call, id, found, ranks, now)
                return LIB.catching(LIB.concurrent_evaluate, call, id, found, ranks, now)
              end,
            }
          else
            return nil
          end
        end
      else
        if #lib_name < 6 then
          if lib_name == "RANGE" then
            lib_value = { "ERR a number of this call or of the stored state is beyond 2^53-1, "
              .. "the largest integer the script library computes exactly (the ratelimit module has no such limit)" }
          elseif lib_name == "exact" then
            -- A result that is only exact below 2^53; rounding is monotonic, so a true value of 2^53 or
            -- more never comes out below it.
            lib_value = function(v)
              if v >= 9007199254740992 then
                error(LIB.RANGE, 0)
              end
              return v
            end
          elseif lib_name == "parse" then
            lib_value = function(kind, args, i)
              local plain = LIB.parse_plain(kind, args, i)
              if plain then
                return plain
              end
              if #args - i + 1 > 16 then
                LIB.fail("ERR syntax error, too many arguments")
              end
              local spec, after = LIB.spec_of(kind, args, i)
              if spec == nil then
                LIB.fail("ERR wrong number of arguments")
              end
              local request = LIB.options_of(args, after)
              LIB.check_exact(spec, request)
              return { spec = spec, request = request }
            end
          elseif lib_name == "reply" then
            -- -------------------------------------------------------------- algorithms (src/algo)
            lib_value = function(allowed, limit, remaining, retry, reset)
              return { allowed and 1 or 0, limit, remaining, retry, reset }
            end
          elseif lib_name == "apply" then
            lib_value = function(key, write)
              if write.value then
                redis.call("SET", key, write.bytes, "PXAT", LIB.format("%d", write.expire_at))
              else
                redis.call("SETRANGE", key, LIB.format("%d", write.offset), write.bytes)
                if write.expire_at then
                  redis.call("PEXPIREAT", key, LIB.format("%d", write.expire_at))
                end
              end
            end
          elseif lib_name == "route" then
            -- The EVALSHA script's entry (functions/ratelimit-script.lua): the function `name`, which
            -- comes first in ARGV there, on `keys` with args[first..].
            lib_value = function(name, keys, args, first)
              if name == "rl_fixed" then
                return LIB.single("RL.FIXED", name, keys, args, first)
              elseif name == "rl_sliding" then
                return LIB.single("RL.SLIDING", name, keys, args, first)
              elseif name == "rl_log" then
                return LIB.single("RL.LOG", name, keys, args, first)
              elseif name == "rl_token" then
                return LIB.single("RL.TOKEN", name, keys, args, first)
              elseif name == "rl_leaky" then
                return LIB.single("RL.LEAKY", name, keys, args, first)
              elseif name == "rl_concurrent" then
                return LIB.concurrent(keys, args, first)
              elseif name == "rl_all" then
                return LIB.all(keys, args, first)
              end
              return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
            end
          else
            return nil
          end
        else
          if lib_name == "dec_le" then
            -- a <= b for decimal digit strings without leading zeros (byte by byte: no locale).
            lib_value = function(a, b)
              if #a ~= #b then
                return #a < #b
              end
              for i = 1, #a do
                local x, y = LIB.byte(a, i), LIB.byte(b, i)
                if x ~= y then
                  return x < y
                end
              end
              return true
            end
          elseif lib_name == "plural" then
            lib_value = function(n, word)
              return n .. " " .. word .. (n == 1 and "" or "s")
            end
          elseif lib_name == "tagged" then
            lib_value = function(tag, a, b, c, d)
              if d then
                return LIB.char(tag) .. LIB.varint_str(a) .. LIB.varint_str(b) .. LIB.varint_str(c) .. LIB.varint_str(d)
              elseif c then
                return LIB.char(tag) .. LIB.varint_str(a) .. LIB.varint_str(b) .. LIB.varint_str(c)
              end
              return LIB.char(tag) .. LIB.varint_str(a) .. LIB.varint_str(b)
            end
          elseif lib_name == "encode" then
            lib_value = function(kind, state)
              if kind == "RL.FIXED" then
                return LIB.format("%d", state)
              elseif kind == "RL.SLIDING" then
                return LIB.tagged(1, state.window, LIB.idiv(state.start, state.window), state.prev, state.cur)
              elseif kind == "RL.TOKEN" then
                return LIB.tagged(2, state.period, state.at, state.owed)
              end
              return LIB.tagged(3, state.rate, state.drain)
            end
          elseif lib_name == "parsed" then
            -- The parsed call for `root` (a command, or RL.ALL's number of keys) and args[first..].
            lib_value = function(root, parser, args, first, ...)
              local call = LIB.MEMO_ON and LIB.memo_get(root, args, first)
              if call then
                return nil, call
              end
              local e
              e, call = LIB.catching(parser, ...)
              if call and LIB.MEMO_ON then
                LIB.memo_put(root, args, first, call)
              end
              return e, call
            end
          elseif lib_name == "single" then
            -- One RL command: `kind` on keys[1] with args[first..].
            lib_value = function(kind, name, keys, args, first)
              if not LIB.floor then
                LIB.init()
              end
              if #keys ~= 1 then
                return redis.error_reply("ERR " .. name .. " takes one key (numkeys 1)")
              end
              -- The module's arity: `RL.FIXED key limit window`, `RL.TOKEN key capacity rate period`.
              local least = (kind == "RL.TOKEN" or kind == "RL.LEAKY") and 5 or 4
              local short = LIB.arity_error(kind, 2 + #args - first + 1, least)
              if short then
                return short
              end
              local e, call = LIB.parsed(kind, LIB.parse, args, first, kind, args, first)
              if e then
                return redis.error_reply(e)
              end
              local now = LIB.server_ms()
              local bytes, expire_at, wrong = LIB.read_key(keys[1])
              if wrong then
                return redis.error_reply(wrong)
              end
              local e2, r, write = LIB.catching(LIB.evaluate, call, bytes, expire_at, now)
              if e2 then
                return redis.error_reply(e2)
              end
              if write then
                LIB.apply(keys[1], write)
              end
              return r
            end
          else
            return nil
          end
        end
      end
    else
      if #lib_name < 9 then
        if #lib_name < 8 then
          if lib_name == "unit_of" then
            -- A unit's milliseconds, and the largest count of it that stays within 2^63-1 ms (nil: no such
            -- unit). Code rather than a table of tables: the EVALSHA script builds what it uses at every
            -- call, and seven tables cost more than this.
            lib_value = function(unit)
              if unit == "" or unit == "ms" then
                return 1, "9223372036854775807"
              elseif unit == "s" then
                return 1000, "9223372036854775"
              elseif unit == "m" then
                return 60000, "153722867280912"
              elseif unit == "h" then
                return 3600000, "2562047788015"
              elseif unit == "d" then
                return 86400000, "106751991167"
              end
              return nil
            end
          elseif lib_name == "spec_of" then
            -- `kind`'s parameters from args[i]: the spec, and the index after them (nil: too few).
            lib_value = function(kind, args, i)
              if kind == "RL.CONCURRENT" then
                if #args < i + 1 then
                  return nil
                end
                return { kind = kind, limit = LIB.positive(args[i], "limit"), lease = LIB.duration(args[i + 1], "lease") }, i + 2
              end
              if kind == "RL.TOKEN" or kind == "RL.LEAKY" then
                if #args < i + 2 then
                  return nil
                end
                return { kind = kind, capacity = LIB.positive(args[i], "capacity"), rate = LIB.positive(args[i + 1], "rate"),
                  period = LIB.duration(args[i + 2], "period") }, i + 3
              end
              if #args < i + 1 then
                return nil
              end
              return { kind = kind, limit = LIB.positive(args[i], "limit"), window = LIB.duration(args[i + 1], "window") }, i + 2
            end
          elseif lib_name == "kind_of" then
            -- Which RL command wrote `s`, by its first bytes (nil: none).
            lib_value = function(s)
              local b = LIB.byte(s, 1)
              if b == 1 then
                return "RL.SLIDING"
              elseif b == 2 then
                return "RL.TOKEN"
              elseif b == 3 then
                return "RL.LEAKY"
              elseif LIB.sub(s, 1, 2) == "L:" then
                return "RL.LOG"
              elseif b and (b == 45 or (b >= 48 and b <= 57)) and not LIB.find(s, "[^0-9]", 2) then
                return "RL.FIXED"
              end
              return nil
            end
          elseif lib_name == "foreign" then
            -- Not `kind`'s state: another command's, or nobody's.
            lib_value = function(s, kind)
              local other = LIB.kind_of(s)
              if other and other ~= kind then
                LIB.fail("ERR key holds " .. other .. " state, not " .. kind .. " state")
              end
              LIB.unreadable(kind)
            end
          elseif lib_name == "entries" then
            -- A walk over the entries from the head, oldest first.
            lib_value = function(view)
              if view == nil then
                return { off = 0, stop = 0, time = 0, first = true, yielded = 0 }
              end
              return { s = view.s, off = view.head_off, stop = view.stop, time = view.head_time, first = true, yielded = 0 }
            end
          elseif lib_name == "drained" then
            -- Milliseconds until a backlog, draining `rate` units a ms, is down to `target`.
            lib_value = function(backlog, target, rate)
              return LIB.div_ceil(LIB.sub0(backlog, target), rate)
            end
          elseif lib_name == "MEMO_ON" then
            -- --------------------------------------------------------------------------- Redis part
            -- Parsed calls by their words, kept while the library is loaded: a gateway sends few
            -- distinct sets of numbers, and parsing is most of a call's Lua time. A tree of tables by
            -- word (no string built per call), emptied past MEMO_MAX entries. (The EVALSHA script runs
            -- afresh each call: it turns this off.)
            lib_value = true
          else
            return nil
          end
        else
          if lib_name == "div_ceil" then
            lib_value = function(a, b)
              local q = LIB.floor(a / b)
              if q * b ~= a then
                return q + 1
              end
              return q
            end
          elseif lib_name == "positive" then
            -- An integer from 1 to 2^63-1 (approximate past 2^53: checked once the whole call parsed).
            lib_value = function(arg, name)
              local d = LIB.u128_digits(arg)
              if d == nil or d == "0" then
                LIB.fail("ERR " .. name .. " must be a positive integer")
              end
              if #d > 18 and not LIB.dec_le(d, "9223372036854775807") then
                LIB.fail("ERR " .. name .. " must be at most " .. "9223372036854775807")
              end
              return tonumber(d)
            end
          elseif lib_name == "duration" then
            lib_value = function(arg, name)
              local at = LIB.find(arg, "[^0-9]")
              local digits, unit = arg, ""
              if at then
                digits, unit = LIB.sub(arg, 1, at - 1), LIB.lower(LIB.sub(arg, at))
              end
              local scale, most = LIB.unit_of(unit)
              if scale == nil then
                LIB.fail("ERR invalid duration '" .. LIB.printable(arg) .. "' for " .. name)
              end
              local d = LIB.u128_digits(digits)
              if d == nil then
                LIB.fail("ERR invalid duration '" .. LIB.printable(arg) .. "' for " .. name)
              end
              if d == "0" then
                LIB.fail("ERR " .. name .. " must be at least 1 ms")
              end
              if #d >= #most and not LIB.dec_le(d, most) then
                LIB.fail("ERR " .. name .. " must be at most " .. "9223372036854775807")
              end
              return tonumber(d) * scale
            end
          elseif lib_name == "upper_is" then
            lib_value = function(s, name)
              return #s == #name and LIB.upper(s) == name
            end
          elseif lib_name == "distinct" then
            -- Two specs on one key would each write it, and one charge would overwrite the other.
            lib_value = function(names)
              for j = 1, #names do
                for k = j + 1, #names do
                  if names[j] == names[k] then
                    LIB.fail("ERR RL.ALL keys must be distinct (one limiter per key)")
                  end
                end
              end
            end
          elseif lib_name == "word_str" then
            -- The little-endian u64 bytes of `v` (below 2^53: the top byte is 0).
            lib_value = function(v)
              local b1 = v % 256
              v = (v - b1) / 256
              local b2 = v % 256
              v = (v - b2) / 256
              local b3 = v % 256
              v = (v - b3) / 256
              local b4 = v % 256
              v = (v - b4) / 256
              local b5 = v % 256
              v = (v - b5) / 256
              local b6 = v % 256
              return LIB.char(b1, b2, b3, b4, b5, b6, (v - b6) / 256, 0)
            end
          elseif lib_name == "empty_at" then
            lib_value = function(ev, now, w)
              local latest = nil
              for k = 1, 3, 2 do
                if ev[k + 1] > 0 then
                  local gone = LIB.exact(ev[k] - ev[k] % w + 2 * w)
                  if gone > now and (latest == nil or gone > latest) then
                    latest = gone
                  end
                end
              end
              return latest or now
            end
          elseif lib_name == "owed_now" then
            lib_value = function(s, now, p)
              local owed = LIB.rescale_up(s.owed, s.period, p.period)
              return LIB.sub_product0(owed, LIB.sub0(now, s.at), p.rate), LIB.max(s.at, now)
            end
          elseif lib_name == "evaluate" then
            -- Decides `call` at `now` on the key holding `bytes` (nil: missing) and expiring at
            -- `expire_at` (nil: no TTL): the reply and the write (nil: none).
            lib_value = function(call, bytes, expire_at, now)
              if expire_at and expire_at <= now then
                bytes, expire_at = nil, nil
              end
              if expire_at then
                LIB.exact(expire_at)
              end
              local spec, req = call.spec, call.request
              local r, write
              if spec.kind == "RL.LOG" then
                r, write = LIB.log_evaluate(spec, req, bytes, expire_at, now)
              else
                local state, at
                if spec.kind == "RL.FIXED" then
                  r, state, at = LIB.fixed_decide(bytes and LIB.fixed_decode(bytes), expire_at, now, spec, req)
                else
                  local decide, decode = LIB.tagged_algorithm(spec.kind)
                  if bytes then
                    r, state, at = decide(decode(bytes), expire_at ~= nil, now, spec, req)
                  else
                    r, state, at = decide(nil, false, now, spec, req)
                  end
                end
                if at then
                  write = { value = true, bytes = LIB.encode(spec.kind, state), expire_at = at }
                end
              end
              -- The limiter is empty once its key expires, whether this call set the expiry or an
              -- earlier one did: no wait goes past it.
              LIB.waits_until(r, write and write.expire_at or expire_at, now)
              return r, write
            end
          elseif lib_name == "catching" then
            -- Runs `f` and turns an error() of this library into its message (other errors go on).
            lib_value = function(f, ...)
              if not LIB.floor then
                LIB.init()
              end
              local ok, a, b = pcall(f, ...)
              if ok then
                return nil, a, b
              end
              if type(a) == "table" and type(a[1]) == "string" then
                return a[1]
              end
              error(a, 0)
            end
          elseif lib_name == "memo_get" then
            lib_value = function(root, args, first)
              local node = LIB.memo[root]
              for i = first, #args do
                if node == nil then
                  return nil
                end
                node = node[args[i]]
              end
              return node and node[0]
            end
          elseif lib_name == "memo_put" then
            lib_value = function(root, args, first, call)
              if LIB.memo_size >= 1024 then
                LIB.memo, LIB.memo_size = {}, 0
              end
              local node = LIB.memo[root]
              if node == nil then
                node = {}
                LIB.memo[root] = node
              end
              for i = first, #args do
                local next_node = node[args[i]]
                if next_node == nil then
                  next_node = {}
                  node[args[i]] = next_node
                end
                node = next_node
              end
              node[0] = call
              LIB.memo_size = LIB.memo_size + 1
            end
          elseif lib_name == "read_key" then
            -- A key as the module reads it: its bytes (nil: missing), its expiry (nil: no TTL), or an
            -- error (WRONGTYPE). PEXPIRETIME first: a missing key costs one call.
            lib_value = function(key)
              local at = redis.pcall("PEXPIRETIME", key)
              if type(at) == "table" then
                if not (at.err and LIB.find(at.err, "nknown")) then
                  return nil, nil, at.err or "ERR could not read the key's expiry"
                end
                return LIB.read_key_62(key)
              end
              if at == -2 then
                return nil
              end
              local bytes = redis.pcall("GET", key)
              if type(bytes) == "table" then
                return nil, nil, bytes.err or "ERR could not read the key"
              end
              if not bytes then
                return nil
              end
              if at < 0 then
                return bytes
              end
              return bytes, at
            end
          elseif lib_name == "ranks_of" then
            -- The reader of `key`'s leases by rank, ascending (ZRANGE key a b WITHSCORES), that the walk
            -- asks for a batch at a time.
            lib_value = function(key)
              return function(a, b)
                return redis.call("ZRANGE", key, a, b, "WITHSCORES")
              end
            end
          elseif lib_name == "COMMANDS" then
            lib_value = {
              rl_fixed = function(keys, args, first) return LIB.single("RL.FIXED", "rl_fixed", keys, args, first or 1) end,
              rl_sliding = function(keys, args, first) return LIB.single("RL.SLIDING", "rl_sliding", keys, args, first or 1) end,
              rl_log = function(keys, args, first) return LIB.single("RL.LOG", "rl_log", keys, args, first or 1) end,
              rl_token = function(keys, args, first) return LIB.single("RL.TOKEN", "rl_token", keys, args, first or 1) end,
              rl_leaky = function(keys, args, first) return LIB.single("RL.LEAKY", "rl_leaky", keys, args, first or 1) end,
              rl_concurrent = function(keys, args, first) return LIB.concurrent(keys, args, first or 1) end,
              rl_all = function(keys, args, first) return LIB.all(keys, args, first or 1) end,
            }
          else
            return nil
          end
        end
      else
        if #lib_name < 10 then
          if lib_name == "printable" then
            -- ---------------------------------------------------------------- arguments (src/args.rs)
            -- A client's bytes, safe to echo in an error line, as Rust's String::from_utf8_lossy then
            -- control characters as '?', at most 64 characters, "..." after more than 64 bytes.
            lib_value = function(s)
              local out, chars, i, n = {}, 0, 1, #s
              while i <= n and chars < 64 do
                local b = LIB.byte(s, i)
                local cp, len
                if b < 0x80 then
                  cp, len = b, 1
                else
                  local need, lo, hi
                  if b >= 0xC2 and b <= 0xDF then
                    need, lo, hi = 1, 0x80, 0xBF
                  elseif b == 0xE0 then
                    need, lo, hi = 2, 0xA0, 0xBF
                  elseif b == 0xED then
                    need, lo, hi = 2, 0x80, 0x9F
                  elseif b >= 0xE1 and b <= 0xEF then
                    need, lo, hi = 2, 0x80, 0xBF
                  elseif b == 0xF0 then
                    need, lo, hi = 3, 0x90, 0xBF
                  elseif b == 0xF4 then
                    need, lo, hi = 3, 0x80, 0x8F
                  elseif b >= 0xF1 and b <= 0xF3 then
                    need, lo, hi = 3, 0x80, 0xBF
                  else
                    need = 0
                  end
                  if need == 0 then
                    cp, len = 0xFFFD, 1
                  else
                    local mask = ({ 0x1F, 0x0F, 0x07 })[need]
                    cp, len = b % (mask + 1), 1
                    for k = 1, need do
                      local c = LIB.byte(s, i + k)
                      local low, high = 0x80, 0xBF
                      if k == 1 then
                        low, high = lo, hi
                      end
                      if not c or c < low or c > high then
                        cp = 0xFFFD
                        break
                      end
                      cp, len = cp * 64 + c % 64, len + 1
                    end
                  end
                end
                i = i + len
                chars = chars + 1
                if cp < 0x20 or (cp >= 0x7F and cp <= 0x9F) then
                  out[#out + 1] = "?"
                elseif cp < 0x80 then
                  out[#out + 1] = LIB.char(cp)
                elseif cp < 0x800 then
                  out[#out + 1] = LIB.char(0xC0 + LIB.idiv(cp, 64), 0x80 + cp % 64)
                elseif cp < 0x10000 then
                  out[#out + 1] = LIB.char(0xE0 + LIB.idiv(cp, 4096), 0x80 + LIB.idiv(cp, 64) % 64, 0x80 + cp % 64)
                else
                  out[#out + 1] = LIB.char(0xF0 + LIB.idiv(cp, 262144), 0x80 + LIB.idiv(cp, 4096) % 64, 0x80 + LIB.idiv(cp, 64) % 64, 0x80 + cp % 64)
                end
              end
              if n > 64 then
                out[#out + 1] = "..."
              end
              return LIB.concat(out)
            end
          elseif lib_name == "is_option" then
            lib_value = function(s)
              return LIB.upper_is(s, "COST") or LIB.upper_is(s, "PEEK") or LIB.upper_is(s, "FORCE") or LIB.upper_is(s, "REFUND") or LIB.upper_is(s, "ID")
            end
          elseif lib_name == "algorithm" then
            lib_value = function(s)
              if #s > 10 then
                return nil
              end
              return LIB.ALGORITHMS[LIB.upper(s)]
            end
          elseif lib_name == "id_option" then
            -- RL.ALL's `ID id` taken out of its options (args[i..]): the id (nil: none), and the other
            -- options (a COST's or REFUND's value is a value, even when it reads ID).
            lib_value = function(args, i)
              local id, rest, n = nil, {}, #args
              while i <= n do
                local word = args[i]
                i = i + 1
                if LIB.upper_is(word, "ID") then
                  if i > n then
                    LIB.fail("ERR syntax error, ID needs a value")
                  end
                  local value = args[i]
                  i = i + 1
                  if #value == 0 or #value > 256 then
                    LIB.fail("ERR id must be 1 to " .. 256 .. " bytes")
                  end
                  if id then
                    LIB.fail("ERR syntax error, ID given more than once")
                  end
                  id = value
                else
                  rest[#rest + 1] = word
                  if (LIB.upper_is(word, "COST") or LIB.upper_is(word, "REFUND")) and i <= n then
                    rest[#rest + 1] = args[i]
                    i = i + 1
                  end
                end
              end
              return id, rest
            end
          elseif lib_name == "parse_all" then
            -- RL.ALL's arguments after its keys (args[i..]): `keys` specs, then `[COST n] [PEEK] [ID id]`.
            lib_value = function(keys, names, args, i)
              if 2 + keys + #args - i + 1 > 2 + 16 * 5 + 5 then
                LIB.fail("ERR syntax error, too many arguments")
              end
              if keys < 1 or keys > 16 then
                LIB.fail("ERR numkeys must be an integer from 1 to " .. 16 .. " and no more than the keys given")
              end
              local specs, n = {}, #args
              while i <= n do
                local name = args[i]
                local kind = LIB.algorithm(name)
                if kind == nil then
                  if #specs < keys and not LIB.is_option(name) then
                    LIB.fail("ERR unknown algorithm '" .. LIB.printable(name) .. "' in spec " .. (#specs + 1)
                      .. " (FIXED, SLIDING, LOG, TOKEN, LEAKY or CONCURRENT)")
                  end
                  break
                end
                if #specs == keys then
                  local extra = 0
                  for j = i, n do
                    if LIB.algorithm(args[j]) then
                      extra = extra + 1
                    end
                  end
                  LIB.spec_count(keys, keys + extra)
                end
                local spec, after = LIB.spec_of(kind, args, i + 1)
                if spec == nil then
                  LIB.spec_count(keys, #specs)
                end
                specs[#specs + 1] = spec
                i = after
              end
              if #specs ~= keys then
                LIB.spec_count(keys, #specs)
              end
              local id, options = LIB.id_option(args, i)
              local request = LIB.options_of(options, 1)
              if request.mode == 2 then
                LIB.fail("ERR syntax error, FORCE cannot be combined with RL.ALL")
              elseif request.mode == 3 then
                LIB.fail("ERR syntax error, REFUND cannot be combined with RL.ALL")
              end
              local leases = false
              for _, spec in ipairs(specs) do
                leases = leases or spec.kind == "RL.CONCURRENT"
              end
              if leases and id == nil then
                LIB.fail("ERR RL.ALL needs ID id for its CONCURRENT spec (the holder of the lease)")
              elseif id and not leases then
                LIB.fail("ERR syntax error, ID goes only with a CONCURRENT spec")
              end
              LIB.distinct(names)
              for _, spec in ipairs(specs) do
                LIB.check_exact(spec, request)
              end
              return { specs = specs, request = request, id = id }
            end
          elseif lib_name == "read_word" then
            -- The little-endian u64 at 0-based `off`: its value (approximate past 2^53), and its high
            -- and low 32 bits (exact).
            lib_value = function(s, off)
              local b1, b2, b3, b4, b5, b6, b7, b8 = LIB.byte(s, off + 1, off + 8)
              local hi = ((b8 * 256 + b7) * 256 + b6) * 256 + b5
              local lo = ((b4 * 256 + b3) * 256 + b2) * 256 + b1
              return hi * 4294967296 + lo, hi, lo
            end
          elseif lib_name == "log_parse" then
            lib_value = function(s)
              if LIB.sub(s, 1, 2) ~= "L:" then
                LIB.foreign(s, "RL.LOG")
              end
              local stop = #s - 40
              if stop <= 2 then
                LIB.unreadable("RL.LOG")
              end
              local head_off = LIB.read_word(s, stop)
              local head_time, head_hi, head_lo = LIB.read_word(s, stop + 8)
              local total, total_hi = LIB.read_word(s, stop + 16)
              local last_off = LIB.read_word(s, stop + 24)
              local last_time, last_hi, last_lo = LIB.read_word(s, stop + 32)
              -- Offsets past 2^53 are past the value's end too.
              if not (2 <= head_off and head_off <= last_off and last_off < stop) then
                LIB.unreadable("RL.LOG")
              end
              if head_hi > last_hi or (head_hi == last_hi and head_lo > last_lo) then
                LIB.unreadable("RL.LOG")
              end
              if last_hi >= 2147483648 or total_hi >= 2147483648 then
                LIB.out_of_range("RL.LOG")
              end
              local _, bits, after = LIB.read_varint(s, last_off, stop)
              if after and bits <= 64 then
                _, bits, after = LIB.read_varint(s, after, stop)
              end
              if after ~= stop or bits > 64 then
                LIB.unreadable("RL.LOG")
              end
              if head_hi >= 2097152 or total_hi >= 2097152 or last_hi >= 2097152 then
                error(LIB.RANGE, 0)
              end
              return { s = s, head_off = head_off, head_time = head_time, total_units = total, last_off = last_off,
                last_time = last_time, stop = stop }
            end
          elseif lib_name == "log_fresh" then
            lib_value = function(at, units)
              return "L:\0" .. LIB.varint_str(units) .. LIB.header_str(2, at, units, 2, at)
            end
          elseif lib_name == "log_write" then
            -- The write that applies `change` to the stored log (`view` nil: the key is missing).
            lib_value = function(view, change)
              if view == nil then
                return { value = true, bytes = LIB.log_fresh(change.at, change.units), expire_at = change.expire_at }
              end
              local walk = LIB.entries(view)
              for _ = 1, change.expired_entries do
                LIB.next_entry(walk)
              end
              local head_at, _, head_off = LIB.next_entry(walk)
              local merge = change.at == view.last_time and head_off ~= nil
              local write_at, entry
              if merge then
                local delta, _, off = LIB.read_varint(view.s, view.last_off, view.stop)
                local units = LIB.read_varint(view.s, off, view.stop)
                entry = LIB.varint_str(LIB.exact(delta)) .. LIB.varint_str(LIB.exact(units + change.units))
                write_at = view.last_off
              else
                entry = LIB.varint_str(LIB.sub0(change.at, view.last_time)) .. LIB.varint_str(change.units)
                write_at = view.stop
              end
              if head_off == nil then
                head_off, head_at = write_at, change.at
              end
              local total = LIB.exact(LIB.sub0(view.total_units, change.expired_units) + change.units)
              local dead = head_off - 2
              local live = write_at - head_off + #entry
              if dead >= 64 and dead >= live then
                -- Rewritten without the dead prefix: offsets shift down by `dead`.
                local bytes = "L:" .. LIB.sub(view.s, head_off + 1, write_at) .. entry .. LIB.header_str(2, head_at, total, write_at - dead, change.at)
                return { value = true, bytes = bytes, expire_at = change.expire_at }
              end
              local expire_at = nil
              if change.expire_moves then
                expire_at = change.expire_at
              end
              return { value = false, offset = write_at, bytes = entry .. LIB.header_str(head_off, head_at, total, write_at, change.at), expire_at = expire_at }
            end
          elseif lib_name == "NO_EVENTS" then
            lib_value = { 0, 0, 0, 0 }
          elseif lib_name == "memo_size" then
            lib_value = 0
          elseif lib_name == "server_ms" then
            -- The server's clock in ms, as the module reads it (RedisModule_Milliseconds).
            lib_value = function()
              local t = redis.call("TIME")
              return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
            end
          elseif lib_name == "expiry_62" then
            -- Redis 6.2 has no PEXPIRETIME: PTTL between two readings of the same millisecond (PTTL
            -- counts from that clock), so the absolute expiry is exact. True and the expiry of a key that
            -- exists (nil: no TTL), or false and the error.
            lib_value = function(key)
              for _ = 1, 1000 do
                local before = LIB.server_ms()
                local ttl = redis.call("PTTL", key)
                if LIB.server_ms() == before then
                  return true, (ttl >= 0) and before + ttl or nil
                end
              end
              return false, "ERR the server's clock never held still for PTTL"
            end
          else
            return nil
          end
        else
          if lib_name == "options_of" then
            -- `[COST n] [PEEK] [FORCE] | REFUND n` from args[i], in any order and case, each once.
            lib_value = function(args, i)
              local cost, refund, peek, force
              local n = #args
              while i <= n do
                local name = args[i]
                i = i + 1
                local is_cost, is_refund = LIB.upper_is(name, "COST"), LIB.upper_is(name, "REFUND")
                if is_cost or is_refund then
                  local option = is_cost and "COST" or "REFUND"
                  if i > n then
                    LIB.fail("ERR syntax error, " .. option .. " needs a value")
                  end
                  local v = LIB.positive(args[i], option)
                  i = i + 1
                  if (is_cost and cost) or (is_refund and refund) then
                    LIB.fail("ERR syntax error, " .. option .. " given more than once")
                  end
                  if is_cost then
                    cost = v
                  else
                    refund = v
                  end
                elseif LIB.upper_is(name, "PEEK") then
                  if peek then
                    LIB.fail("ERR syntax error, PEEK given more than once")
                  end
                  peek = true
                elseif LIB.upper_is(name, "FORCE") then
                  if force then
                    LIB.fail("ERR syntax error, FORCE given more than once")
                  end
                  force = true
                else
                  LIB.fail("ERR syntax error, unknown option '" .. LIB.printable(name) .. "'")
                end
              end
              if refund then
                if cost or peek or force then
                  LIB.fail("ERR syntax error, REFUND cannot be combined with COST, PEEK or FORCE")
                end
                return { cost = refund, peek = false, mode = 3 }
              end
              if force and peek then
                LIB.fail("ERR syntax error, FORCE cannot be combined with PEEK")
              end
              return { cost = cost or 1, peek = peek or false, mode = force and 2 or 1 }
            end
          elseif lib_name == "ALGORITHMS" then
            lib_value = { FIXED = "RL.FIXED", SLIDING = "RL.SLIDING", LOG = "RL.LOG", TOKEN = "RL.TOKEN", LEAKY = "RL.LEAKY", CONCURRENT = "RL.CONCURRENT" }
          elseif lib_name == "spec_count" then
            lib_value = function(keys, specs)
              LIB.fail("ERR RL.ALL needs one spec per key: " .. LIB.plural(keys, "key") .. ", " .. LIB.plural(specs, "spec") .. " given")
            end
          elseif lib_name == "unreadable" then
            lib_value = function(kind)
              LIB.fail("ERR key holds a value that is not " .. kind .. " state")
            end
          elseif lib_name == "varint_str" then
            -- The LEB128 bytes of `v` (below 2^53: at most 8 bytes), unrolled.
            lib_value = function(v)
              if v < 128 then
                return LIB.char(v)
              end
              local b1 = v % 128
              v = (v - b1) / 128
              if v < 128 then
                return LIB.char(b1 + 128, v)
              end
              local b2 = v % 128
              v = (v - b2) / 128
              if v < 128 then
                return LIB.char(b1 + 128, b2 + 128, v)
              end
              local b3 = v % 128
              v = (v - b3) / 128
              if v < 128 then
                return LIB.char(b1 + 128, b2 + 128, b3 + 128, v)
              end
              local b4 = v % 128
              v = (v - b4) / 128
              if v < 128 then
                return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, v)
              end
              local b5 = v % 128
              v = (v - b5) / 128
              if v < 128 then
                return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, v)
              end
              local b6 = v % 128
              v = (v - b6) / 128
              if v < 128 then
                return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, v)
              end
              local b7 = v % 128
              v = (v - b7) / 128
              return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, b7 + 128, v)
            end
          elseif lib_name == "header_str" then
            lib_value = function(head_off, head_time, total_units, last_off, last_time)
              return LIB.word_str(head_off) .. LIB.word_str(head_time) .. LIB.word_str(total_units) .. LIB.word_str(last_off) .. LIB.word_str(last_time)
            end
          elseif lib_name == "next_entry" then
            -- The next entry of the walk (at, units, its offset), nil at the end; a damaged entry is an
            -- error.
            lib_value = function(walk)
              if walk.list then
                walk.k = walk.k + 1
                local e = walk.list[walk.k]
                if e == nil then
                  return nil
                end
                return e.at, e.units
              end
              if walk.off >= walk.stop then
                return nil
              end
              local start = walk.off
              local delta, dbits, off = LIB.read_varint(walk.s, walk.off, walk.stop)
              local units, ubits
              if delta and dbits <= 64 then
                units, ubits, off = LIB.read_varint(walk.s, off, walk.stop)
              end
              if units == nil or ubits > 64 then
                walk.off = walk.stop
                LIB.unreadable("RL.LOG")
              end
              walk.off = off
              if not walk.first then
                if dbits > 53 then
                  error(LIB.RANGE, 0)
                end
                walk.time = LIB.exact(walk.time + delta)
              end
              walk.first = false
              LIB.exact(units)
              walk.yielded = walk.yielded + 1
              walk.last_off, walk.last_at, walk.last_units = start, walk.time, units
              return walk.time, units, start
            end
          elseif lib_name == "rescale_up" then
            -- `value` in units of 1/`from` re-expressed in units of 1/`to`, rounding up.
            lib_value = function(value, from, to)
              if from == to then
                return value
              end
              return LIB.div_ceil(LIB.exact(value * to), from)
            end
          elseif lib_name == "log_decide" then
            -- summary: total_units, newest (nil: empty), expire_at. Returns the reply and the change.
            lib_value = function(walk, summary, now, p, req)
              local window = p.window
              local expired_entries, expired_units = 0, 0
              local first_at, first_units
              while true do
                local at, units = LIB.next_entry(walk)
                if at == nil then
                  break
                end
                if LIB.exact(at + window) > now then
                  first_at, first_units = at, units
                  break
                end
                expired_entries = expired_entries + 1
                expired_units = LIB.exact(expired_units + units)
              end
              local live = LIB.sub0(summary.total_units, expired_units)
              local remaining_now = LIB.sub0(p.limit, live)
              local fits = req.mode == 2 or req.cost <= remaining_now
              local function until_empty(newest, n)
                if newest and n > 0 then
                  return LIB.sub0(LIB.exact(newest + window), now)
                end
                return 0
              end
              if fits and not req.peek then
                local at = summary.newest and LIB.max(summary.newest, now) or now
                local units = LIB.min(req.cost, LIB.sub0(9223372036854775807, live))
                local live_after = LIB.exact(live + units)
                local expire_at, moves = LIB.expiry_after_write(at, window, summary.expire_at, true)
                return LIB.reply(true, p.limit, LIB.sub0(remaining_now, req.cost), 0, until_empty(at, live_after)),
                  { expired_entries = expired_entries, expired_units = expired_units, at = at, units = units, expire_at = expire_at,
                    expire_moves = moves }
              end
              local retry = 0
              if not fits then
                if req.cost > p.limit then
                  retry = -1
                else
                  local must_free = live - (p.limit - req.cost)
                  local freed, leaves = 0, nil
                  local at, units = first_at, first_units
                  while at ~= nil do
                    freed = LIB.exact(freed + units)
                    if freed >= must_free then
                      leaves = LIB.exact(at + window)
                      break
                    end
                    at, units = LIB.next_entry(walk)
                  end
                  if leaves == nil then
                    LIB.unreadable("RL.LOG")
                  end
                  retry = LIB.sub0(leaves, now)
                end
              end
              return LIB.reply(fits, p.limit, remaining_now, retry, until_empty(summary.newest, live)), nil
            end
          elseif lib_name == "lease_walk" then
            -- RL.CONCURRENT (src/algo/concurrent.rs). The leases' expiries ascending, read as the module
            -- walks them: a batch of ranks at a time through `ranks(a, b)` (ZRANGE key a b WITHSCORES),
            -- each score checked when the walk reaches it. A set of at most two members is all in `top`
            -- (its two highest), read already.
            lib_value = function(found, ranks)
              local w = { ranks = ranks, rank = 0, count = 0, batch = {}, k = 2, size = 4 }
              if found then
                w.count = found.count
                if found.count <= 2 then
                  w.batch = found.top
                end
              end
              return w
            end
          elseif lib_name == "next_lease" then
            -- The next expiry of the walk (nil at the end); `want`: how many more the caller will take.
            lib_value = function(w, want)
              if w.k > #w.batch then
                if w.rank >= w.count then
                  return nil
                end
                local size = LIB.max(w.size, want or 0)
                w.batch, w.k = w.ranks(w.rank, LIB.min(w.rank + size, w.count) - 1), 2
                w.size = w.size * 2
                if #w.batch == 0 then
                  w.count = w.rank
                  return nil
                end
              end
              local score = w.batch[w.k]
              w.k, w.rank = w.k + 2, w.rank + 1
              return LIB.lease_expiry(score)
            end
          elseif lib_name == "key_expiry" then
            -- The expiry of a key that exists, as read_key reads it: true and the expiry (nil: no TTL), or
            -- false and the error.
            lib_value = function(key)
              local at = redis.pcall("PEXPIRETIME", key)
              if type(at) == "table" then
                if not (at.err and LIB.find(at.err, "nknown")) then
                  return false, at.err or "ERR could not read the key's expiry"
                end
                return LIB.expiry_62(key)
              end
              return true, (at >= 0) and at or nil
            end
          elseif lib_name == "concurrent" then
            -- RL.CONCURRENT on keys[1] with args[first..]. Not remembered by its words as the others are:
            -- its id is one of them, most often new at every call.
            lib_value = function(keys, args, first)
              if not LIB.floor then
                LIB.init()
              end
              if #keys ~= 1 then
                return redis.error_reply("ERR rl_concurrent takes one key (numkeys 1)")
              end
              local short = LIB.arity_error("RL.CONCURRENT", 2 + #args - first + 1, 5)
              if short then
                return short
              end
              local e, call = LIB.catching(LIB.parse_concurrent, args, first)
              if e then
                return redis.error_reply(e)
              end
              local key, id = keys[1], args[first + 2]
              local now = LIB.server_ms()
              local found, wrong = LIB.read_leases(key, id)
              if wrong then
                return redis.error_reply(wrong)
              end
              local e2, r, change = LIB.catching(LIB.concurrent_evaluate, call, id, found, LIB.ranks_of(key), now)
              if e2 then
                return redis.error_reply(e2)
              end
              if change then
                LIB.apply_leases(key, id, change)
              end
              return r
            end
          else
            return nil
          end
        end
      end
    end
  else
    if #lib_name < 16 then
      if #lib_name < 14 then
        if #lib_name < 12 then
          if lib_name == "u128_digits" then
            -- The digits of a strict unsigned decimal that fits 128 bits (at most 39 characters, leading
            -- zeros allowed), leading zeros removed; nil otherwise (the module's parse_u128).
            lib_value = function(s)
              local n = #s
              if n == 0 or n > 39 or LIB.find(s, "[^0-9]") then
                return nil
              end
              if LIB.byte(s, 1) ~= 48 then
                if n < 39 then
                  return s
                end
              elseif n == 1 then
                return s
              end
              local d = LIB.match(s, "^0*([0-9]*)$")
              if d == "" then
                return "0"
              end
              if #d == 39 and not LIB.dec_le(d, "340282366920938463463374607431768211455") then
                return nil
              end
              return d
            end
          elseif lib_name == "check_exact" then
            -- Past 2^53-1 a parsed number is not exact: the call is refused once it parsed.
            lib_value = function(spec, request)
              LIB.exact(request.cost)
              if spec.kind == "RL.CONCURRENT" then
                -- As for RL.CONCURRENT: the limit is a reply field; any lease is exact once clamped.
                LIB.exact(spec.limit)
              elseif spec.limit then
                LIB.exact(spec.limit)
                LIB.exact(spec.window)
              else
                LIB.exact(spec.capacity)
                LIB.exact(spec.rate)
                LIB.exact(spec.period)
              end
            end
          elseif lib_name == "plain_count" then
            -- The usual argument, a count of 1 to 15 digits without a leading zero: its value (exact, and
            -- what positive() reads), or nil for any other word.
            lib_value = function(s)
              if #s <= 15 and LIB.match(s, "^[1-9][0-9]*$") then
                return tonumber(s)
              end
              return nil
            end
          elseif lib_name == "parse_plain" then
            -- The usual call, the parameters alone, each a plain count and the duration a plain count with
            -- a lower-case unit: the call parse() reads from them, or nil for any other words (parse()
            -- then reads them). FCALL remembers parsed calls; this is for EVALSHA, which parses every call.
            lib_value = function(kind, args, i)
              local n = #args - i + 1
              local tagged_kind = kind == "RL.TOKEN" or kind == "RL.LEAKY"
              if kind == "RL.CONCURRENT" or n ~= (tagged_kind and 3 or 2) then
                return nil
              end
              local first, second = LIB.plain_count(args[i]), nil
              local digits, unit = LIB.match(args[i + n - 1], "^([1-9][0-9]*)([a-z]*)$")
              if first == nil or digits == nil or #digits > 15 then
                return nil
              end
              if tagged_kind then
                second = LIB.plain_count(args[i + 1])
                if second == nil then
                  return nil
                end
              end
              local scale = LIB.unit_of(unit)
              if scale == nil then
                return nil
              end
              local span = tonumber(digits) * scale
              if span >= 9007199254740992 then
                return nil
              end
              local request = { cost = 1, peek = false, mode = 1 }
              if tagged_kind then
                return { spec = { kind = kind, capacity = first, rate = second, period = span }, request = request }
              end
              return { spec = { kind = kind, limit = first, window = span }, request = request }
            end
          elseif lib_name == "NOT_OPTIONS" then
            lib_value = { COST = "COST", REFUND = "REFUND", FORCE = "FORCE" }
          elseif lib_name == "read_varint" then
            -- The same, unrolled for the common case: up to 7 bytes (49 bits) read with one call.
            lib_value = function(s, off, stop)
              if stop - off >= 7 then
                local b1, b2, b3, b4, b5, b6, b7 = LIB.byte(s, off + 1, off + 7)
                if b1 < 128 then
                  return b1, 53, off + 1
                elseif b2 < 128 then
                  if b2 > 0 then
                    return b1 - 128 + b2 * 128, 53, off + 2
                  end
                elseif b3 < 128 then
                  if b3 > 0 then
                    return b1 - 128 + (b2 - 128) * 128 + b3 * 16384, 53, off + 3
                  end
                elseif b4 < 128 then
                  if b4 > 0 then
                    return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + b4 * 2097152, 53, off + 4
                  end
                elseif b5 < 128 then
                  if b5 > 0 then
                    return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + b5 * 268435456, 53, off + 5
                  end
                elseif b6 < 128 then
                  if b6 > 0 then
                    return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
                      + b6 * 34359738368, 53, off + 6
                  end
                elseif b7 < 128 and b7 > 0 then
                  return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
                    + (b6 - 128) * 34359738368 + b7 * 4398046511104, 53, off + 7
                end
              end
              return LIB.read_varint_long(s, off, stop)
            end
          elseif lib_name == "read_fields" then
            -- The varints of a tagged value: exactly `count` (2 to 4) of them, nothing after; each with
            -- its bit length.
            lib_value = function(s, kind, count)
              local n = #s
              local v1, b1, off = LIB.read_varint(s, 1, n)
              local v2, b2, v3, b3, v4, b4
              if off then
                v2, b2, off = LIB.read_varint(s, off, n)
              end
              if off and count > 2 then
                v3, b3, off = LIB.read_varint(s, off, n)
                if off and count > 3 then
                  v4, b4, off = LIB.read_varint(s, off, n)
                end
              end
              if off ~= n then
                LIB.unreadable(kind)
              end
              return v1, b1, v2, b2, v3, b3, v4, b4
            end
          elseif lib_name == "log_rebuild" then
            -- The whole log rewritten from `kept` ({at, units} oldest first, at least one).
            lib_value = function(kept, expire_at)
              local parts = { "L:" }
              local previous = kept[1].at
              local last_off, length, total = 2, 2, 0
              for _, e in ipairs(kept) do
                last_off = length
                local entry = LIB.varint_str(LIB.sub0(e.at, previous)) .. LIB.varint_str(e.units)
                parts[#parts + 1] = entry
                length = length + #entry
                previous = e.at
                total = LIB.exact(total + e.units)
              end
              parts[#parts + 1] = LIB.header_str(2, kept[1].at, total, last_off, previous)
              return { value = true, bytes = LIB.concat(parts), expire_at = expire_at }
            end
          elseif lib_name == "counters_in" then
            lib_value = function(ev, t, start, w)
              local fading, full = 0, 0
              for k = 1, 3, 2 do
                local at, count = LIB.min(ev[k], t), ev[k + 1]
                if at >= start then
                  full = LIB.exact(full + count)
                elseif LIB.exact(at + w) >= start then
                  fading = LIB.exact(fading + count)
                end
              end
              return fading, full
            end
          elseif lib_name == "admitted_at" then
            lib_value = function(ev, now, w, limit, cost)
              local current = now - now % w
              local own0, own1 = ev[1] - ev[1] % w, ev[3] - ev[3] % w
              local candidates = { current, LIB.exact(own0 + w), LIB.exact(own0 + 2 * w), LIB.exact(own1 + w), LIB.exact(own1 + 2 * w) }
              LIB.sort(candidates)
              for _, ws in ipairs(candidates) do
                if ws >= current then
                  local t0 = LIB.max(now, ws)
                  local fading, full = LIB.counters_in(ev, t0, LIB.window_start(t0, w), w)
                  local room = limit - LIB.exact(full + cost)
                  if room >= 0 then
                    if fading == 0 then
                      return t0
                    end
                    local window_end = LIB.exact(ws + w)
                    local t = LIB.max(t0, LIB.sub0(window_end, LIB.idiv(LIB.exact(room * w), fading)))
                    if t < window_end then
                      return t
                    end
                  end
                end
              end
              return LIB.empty_at(ev, now, w)
            end
          elseif lib_name == "waits_until" then
            -- `r` with its waits (fields 4 and 5) no longer than until the key goes at `gone_at` (nil: no
            -- expiry): the limiter is empty from then on (src/limiter.rs's waits_until).
            lib_value = function(r, gone_at, now)
              if gone_at then
                local cap = LIB.sub0(gone_at, now)
                if r[4] > cap then
                  r[4] = cap
                end
                if r[5] > cap then
                  r[5] = cap
                end
              end
            end
          elseif lib_name == "read_key_62" then
            -- Redis 6.2: GET, then the expiry as above.
            lib_value = function(key)
              local bytes = redis.pcall("GET", key)
              if type(bytes) == "table" then
                return nil, nil, bytes.err or "ERR could not read the key"
              end
              if not bytes then
                return nil
              end
              local ok, at = LIB.expiry_62(key)
              if not ok then
                return nil, nil, at
              end
              return bytes, at
            end
          elseif lib_name == "arity_error" then
            -- The module command's arity error (Redis checks it before the module runs): `words`, the
            -- command's name included, against the least a call has.
            lib_value = function(command, words, least)
              if words < least then
                return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
              end
            end
          elseif lib_name == "read_leases" then
            -- RL.CONCURRENT's sorted set as concurrent_evaluate takes it (nil: no key), or an error
            -- (WRONGTYPE, Redis's own text: the module's).
            lib_value = function(key, id)
              local count = redis.pcall("ZCARD", key)
              if type(count) == "table" then
                return nil, count.err or "ERR could not read the key"
              end
              if count == 0 then
                return nil
              end
              local own = redis.call("ZSCORE", key, id)
              local top = redis.call("ZRANGE", key, -2, -1, "WITHSCORES")
              local ok, at = LIB.key_expiry(key)
              if not ok then
                return nil, at
              end
              return { count = count, own = own or nil, top = top, expire_at = at }
            end
          else
            return nil
          end
        else
          if lib_name == "out_of_range" then
            lib_value = function(kind)
              LIB.fail("ERR key holds " .. kind .. " state out of range")
            end
          elseif lib_name == "fixed_decode" then
            lib_value = function(s)
              -- The common case: a short count.
              if #s < 16 and #s > 0 and not LIB.find(s, "[^0-9]") then
                return tonumber(s)
              end
              if LIB.byte(s, 1) == 45 then
                if LIB.u128_digits(LIB.sub(s, 2)) then
                  local d = LIB.u128_digits(LIB.sub(s, 2))
                  if #d <= 20 and LIB.dec_le(d, "18446744073709551615") then
                    LIB.out_of_range("RL.FIXED")
                  end
                end
                LIB.foreign(s, "RL.FIXED")
              end
              local d = LIB.u128_digits(s)
              if d == nil then
                if #s > 0 and not LIB.find(s, "[^0-9]") then
                  LIB.out_of_range("RL.FIXED")
                end
                LIB.foreign(s, "RL.FIXED")
              end
              if not LIB.dec_le(d, "9223372036854775807") then
                LIB.out_of_range("RL.FIXED")
              end
              return LIB.exact(tonumber(d))
            end
          elseif lib_name == "token_decode" then
            lib_value = function(s)
              if LIB.byte(s, 1) ~= 2 then
                LIB.foreign(s, "RL.TOKEN")
              end
              local period, pbits, at, abits, owed, obits = LIB.read_fields(s, "RL.TOKEN", 3)
              if pbits > 63 or period == 0 or abits > 63 then
                LIB.out_of_range("RL.TOKEN")
              end
              if pbits > 53 or abits > 53 or obits > 53 then
                error(LIB.RANGE, 0)
              end
              return { period = period, at = at, owed = owed }
            end
          elseif lib_name == "leaky_decode" then
            lib_value = function(s)
              if LIB.byte(s, 1) ~= 3 then
                LIB.foreign(s, "RL.LEAKY")
              end
              local rate, rbits, drain, dbits = LIB.read_fields(s, "RL.LEAKY", 2)
              if rbits > 63 or rate == 0 then
                LIB.out_of_range("RL.LEAKY")
              end
              if rbits > 53 or dbits > 53 then
                error(LIB.RANGE, 0)
              end
              return { rate = rate, drain = drain }
            end
          elseif lib_name == "list_entries" then
            -- A walk over entries held in a list ({at, units} oldest first).
            lib_value = function(list)
              return { list = list, k = 0 }
            end
          elseif lib_name == "lease_expiry" then
            lib_value = function(score)
              local v = tonumber(score)
              -- (NaN fails both comparisons; inf, -inf and fractions fail one.)
              if v == nil or not (v >= 0 and v <= 9007199254740992) or LIB.floor(v) ~= v then
                LIB.fail(("ERR key holds a sorted set that is not RL.CONCURRENT state " .. "(scores must be whole milliseconds from 0 to 2^53)"))
              end
              return v
            end
          elseif lib_name == "refund_reply" then
            lib_value = function(r)
              return { 1, r[2], r[3], 0, r[5] }
            end
          elseif lib_name == "window_start" then
            lib_value = function(now, w)
              return now - now % w
            end
          elseif lib_name == "fixed_decide" then
            -- Each decider takes the stored state (nil: missing key) and returns the reply, then the
            -- state to store and its expiry (none: nothing to write).
            lib_value = function(count, expire_at, now, p, req)
              if count and expire_at and expire_at <= now then
                count = nil
              end
              if req.mode == 3 then
                return LIB.fixed_refund(count, expire_at, now, p, req.cost)
              end
              local window_end = LIB.exact(LIB.window_start(now, p.window) + p.window)
              local used = count or 0
              local until_forgotten = LIB.sub0((count and expire_at) or window_end, now)
              local fits = req.mode == 2 or LIB.exact(used + req.cost) <= p.limit
              if fits and not req.peek then
                local new_count = LIB.exact(used + req.cost)
                return LIB.reply(true, p.limit, LIB.sub0(p.limit, new_count), 0, window_end - now), new_count, window_end
              end
              local retry = 0
              if not fits then
                retry = req.cost > p.limit and -1 or until_forgotten
              end
              local r = LIB.reply(fits, p.limit, LIB.sub0(p.limit, used), retry, used == 0 and 0 or until_forgotten)
              if not req.peek and count and expire_at == nil then
                return r, used, window_end
              end
              return r
            end
          elseif lib_name == "fixed_refund" then
            -- RL.FIXED: `count` as stored (nil: missing) and the key's expiry (nil: no TTL).
            lib_value = function(count, expire_at, now, p, units)
              local window_end = LIB.exact(LIB.window_start(now, p.window) + p.window)
              if count and (count > 0 or expire_at == nil) then
                local left = count - LIB.min(units, count)
                return LIB.refund_reply(LIB.fixed_decide(left, window_end, now, p, LIB.PEEK)), left, window_end
              end
              return LIB.refund_reply(LIB.fixed_decide(count, expire_at, now, p, LIB.PEEK))
            end
          elseif lib_name == "sub_product0" then
            -- a - b * c, never below 0, without computing b * c when it is past a.
            lib_value = function(a, b, c)
              if b >= LIB.div_ceil(a, c) then
                return 0
              end
              return a - b * c
            end
          elseif lib_name == "token_decide" then
            lib_value = function(s, has_ttl, now, p, req)
              if req.mode == 3 then
                return LIB.token_refund(s, has_ttl, now, p, req.cost)
              end
              local period, rate = p.period, p.rate
              local owed, refill_from = 0, now
              if s then
                owed, refill_from = LIB.owed_now(s, now, p)
              end
              local remaining_now = LIB.idiv(LIB.sub0(LIB.exact(p.capacity * period), owed), period)
              local fits = req.mode == 2 or req.cost <= remaining_now
              if fits and not req.peek then
                local new_owed = LIB.exact(owed + LIB.exact(req.cost * period))
                local until_full = LIB.div_ceil(new_owed, rate)
                return LIB.reply(true, p.capacity, LIB.sub0(remaining_now, req.cost), 0, until_full),
                  { period = period, at = now, owed = new_owed }, LIB.exact(now + until_full)
              end
              local retry = 0
              if not fits then
                if req.cost > p.capacity then
                  retry = -1
                else
                  retry = LIB.wait_until_owed(owed, LIB.exact((p.capacity - req.cost) * period), refill_from, now, rate)
                end
              end
              local r = LIB.reply(fits, p.capacity, remaining_now, retry, LIB.wait_until_owed(owed, 0, refill_from, now, rate))
              if not req.peek and s and not has_ttl then
                return r, { period = period, at = now, owed = owed }, LIB.exact(now + LIB.max(LIB.div_ceil(owed, rate), 1))
              end
              return r
            end
          elseif lib_name == "token_refund" then
            lib_value = function(s, has_ttl, now, p, units)
              if s then
                local owed = LIB.owed_now(s, now, p)
                local new_owed = LIB.sub_product0(owed, units, p.period)
                if new_owed ~= owed or not has_ttl then
                  local left = { period = p.period, at = now, owed = new_owed }
                  return LIB.refund_reply(LIB.token_decide(left, true, now, p, LIB.PEEK)), left, LIB.exact(now + LIB.max(LIB.div_ceil(new_owed, p.rate), 1))
                end
              end
              return LIB.refund_reply(LIB.token_decide(s, has_ttl, now, p, LIB.PEEK))
            end
          elseif lib_name == "leaky_decide" then
            lib_value = function(s, has_ttl, now, p, req)
              if req.mode == 3 then
                return LIB.leaky_refund(s, has_ttl, now, p, req.cost)
              end
              local rate, period = p.rate, p.period
              local now_s = LIB.exact(now * rate)
              local drain = now_s
              if s then
                drain = LIB.rescale_up(s.drain, s.rate, rate)
              end
              local backlog = LIB.sub0(drain, now_s)
              local remaining_now = LIB.idiv(LIB.sub0(LIB.exact(p.capacity * period), backlog), period)
              local fits = req.mode == 2 or req.cost <= remaining_now
              if fits and not req.peek then
                local new_drain = LIB.exact(LIB.max(drain, now_s) + LIB.exact(req.cost * period))
                return LIB.reply(true, p.capacity, LIB.sub0(remaining_now, req.cost), LIB.drained(backlog, 0, rate), LIB.drained(new_drain - now_s, 0, rate)),
                  { rate = rate, drain = new_drain }, LIB.div_ceil(new_drain, rate)
              end
              local retry
              if fits then
                retry = LIB.drained(backlog, 0, rate)
              elseif req.cost > p.capacity then
                retry = -1
              else
                retry = LIB.drained(backlog, LIB.exact((p.capacity - req.cost) * period), rate)
              end
              local r = LIB.reply(fits, p.capacity, remaining_now, retry, LIB.drained(backlog, 0, rate))
              if not req.peek and s and not has_ttl then
                return r, { rate = rate, drain = drain }, LIB.max(LIB.div_ceil(drain, rate), LIB.exact(now + 1))
              end
              return r
            end
          elseif lib_name == "leaky_refund" then
            lib_value = function(s, has_ttl, now, p, units)
              local now_s = LIB.exact(now * p.rate)
              if s then
                local drain = LIB.rescale_up(s.drain, s.rate, p.rate)
                local new_drain = LIB.max(LIB.sub_product0(drain, units, p.period), now_s)
                if drain > now_s or not has_ttl then
                  local left = { rate = p.rate, drain = new_drain }
                  return LIB.refund_reply(LIB.leaky_decide(left, true, now, p, LIB.PEEK)), left, LIB.max(LIB.div_ceil(new_drain, p.rate), LIB.exact(now + 1))
                end
              end
              return LIB.refund_reply(LIB.leaky_decide(s, has_ttl, now, p, LIB.PEEK))
            end
          elseif lib_name == "log_evaluate" then
            lib_value = function(p, req, bytes, expire_at, now)
              local view = bytes and LIB.log_parse(bytes)
              local summary = { total_units = 0, expire_at = expire_at }
              if view then
                summary = { total_units = view.total_units, newest = view.last_time, expire_at = expire_at }
              end
              if req.mode == 3 then
                local kept, changed = {}, false
                if view then
                  kept, changed = LIB.log_refund_entries(view, now, p, req.cost)
                end
                local needs_ttl = bytes ~= nil and expire_at == nil and #kept > 0
                if not changed and not needs_ttl then
                  local r = LIB.log_decide(LIB.entries(view), summary, now, p, LIB.PEEK)
                  return LIB.refund_reply(r), nil
                end
                local newest = #kept > 0 and kept[#kept].at or now
                local total = 0
                for _, e in ipairs(kept) do
                  total = LIB.exact(total + e.units)
                end
                local at = LIB.expiry_after_write(newest, p.window, expire_at, total > 0)
                local r = LIB.log_decide(LIB.list_entries(kept), { total_units = total, newest = newest, expire_at = at }, now, p, LIB.PEEK)
                return LIB.refund_reply(r), LIB.log_rebuild(kept, at)
              end
              local r, change = LIB.log_decide(LIB.entries(view), summary, now, p, req)
              if change then
                return r, LIB.log_write(view, change)
              end
              return r, nil
            end
          elseif lib_name == "evaluate_all" then
            -- RL.ALL: every limiter decides as alone; all writes or none; the decisive limiter's reply
            -- and its 1-based index (when admitted, field 4 is the longest RL.LEAKY delay). founds[k]: a
            -- rate limit's key ({bytes, expire_at}, nil: missing), or a CONCURRENT spec's ({leases: its
            -- sorted set as concurrent_evaluate takes it, or false; ranks}), for the holder `id`.
            lib_value = function(specs, founds, now, req, id)
              local replies, writes = {}, {}
              for k, spec in ipairs(specs) do
                local found = founds[k]
                local r, write
                if spec.kind == "RL.CONCURRENT" then
                  local lease_call = { limit = spec.limit, lease = spec.lease, action = req.peek and "peek" or "acquire" }
                  local change
                  r, change = LIB.concurrent_evaluate(lease_call, id, found and found.leases or nil, found and found.ranks, now)
                  write = change and { leases = change }
                else
                  r, write = LIB.evaluate({ spec = spec, request = req }, found and found.bytes, found and found.expire_at, now)
                end
                replies[k] = r
                if write then
                  write.index = k
                  writes[#writes + 1] = write
                end
              end
              for k, r in ipairs(replies) do
                if r[1] == 0 then
                  return { r[1], r[2], r[3], r[4], r[5], k }, {}
                end
              end
              local best, delay = 1, 0
              for k, r in ipairs(replies) do
                if r[3] < replies[best][3] then
                  best = k
                end
                if specs[k].kind == "RL.LEAKY" and r[4] > delay then
                  delay = r[4]
                end
              end
              local r = replies[best]
              return { r[1], r[2], r[3], delay, r[5], best }, writes
            end
          elseif lib_name == "apply_leases" then
            -- The change as the module replicates it: explicit scores and times.
            lib_value = function(key, id, change)
              if change.prune_through == (- 1) then
                redis.call("ZREMRANGEBYSCORE", key, "-inf", "+inf")
              elseif change.prune_through then
                redis.call("ZREMRANGEBYSCORE", key, "-inf", LIB.format("%d", change.prune_through))
              end
              if change.holder_at then
                redis.call("ZADD", key, LIB.format("%d", change.holder_at), id)
              else
                redis.call("ZREM", key, id)
              end
              if change.expire_at and change.expire_moves then
                redis.call("PEXPIREAT", key, LIB.format("%d", change.expire_at))
              end
            end
          else
            return nil
          end
        end
      else
        if #lib_name < 15 then
          if lib_name == "sliding_decode" then
            lib_value = function(s)
              if LIB.byte(s, 1) ~= 1 then
                LIB.foreign(s, "RL.SLIDING")
              end
              local window, wbits, index, ibits, prev, pbits, cur, cbits = LIB.read_fields(s, "RL.SLIDING", 4)
              if wbits > 63 or window == 0 then
                LIB.out_of_range("RL.SLIDING")
              end
              -- start = index * window must fit 63 bits: certain past 2^64 (approximate products are
              -- within 2^-52 of the true one), exact below 2^53, else beyond the library's range.
              local start = index * window
              local big = wbits > 53 or ibits > 53 or pbits > 53 or cbits > 53 or start >= 9007199254740992
              if start >= 18446744073709551616 then
                LIB.out_of_range("RL.SLIDING")
              end
              if pbits > 64 or cbits > 64 then
                LIB.out_of_range("RL.SLIDING")
              end
              if big then
                error(LIB.RANGE, 0)
              end
              return { window = window, start = start, prev = prev, cur = cur }
            end
          elseif lib_name == "sliding_events" then
            -- RL.SLIDING: the stored counters as two events {at, count}, each at the last instant its
            -- requests could have happened.
            lib_value = function(s)
              local cur_at = LIB.exact(s.start + s.window) - 1
              if s.start > 0 then
                return { s.start - 1, s.prev, cur_at, s.cur }
              end
              return { 0, 0, cur_at, s.cur }
            end
          elseif lib_name == "sliding_decide" then
            lib_value = function(s, has_ttl, now, p, req)
              if req.mode == 3 then
                return LIB.sliding_refund(s, has_ttl, now, p, req.cost)
              end
              local w = p.window
              local start = LIB.window_start(now, w)
              local window_end = LIB.exact(start + w)
              local ev = s and LIB.sliding_events(s) or LIB.NO_EVENTS
              local prev, cur = LIB.counters_in(ev, now, start, w)
              local elapsed = now - start
              local weighted = LIB.exact(LIB.exact(cur * w) + LIB.exact(prev * (w - elapsed)))
              local remaining_now = LIB.idiv(LIB.sub0(LIB.exact(p.limit * w), weighted), w)
              local fits = req.mode == 2 or req.cost <= remaining_now
              if fits and not req.peek then
                local expire_at = LIB.exact(window_end + w)
                return LIB.reply(true, p.limit, LIB.sub0(remaining_now, req.cost), 0, expire_at - now),
                  { window = w, start = start, prev = prev, cur = LIB.exact(cur + req.cost) }, expire_at
              end
              local retry = 0
              if not fits then
                if req.cost > p.limit then
                  retry = -1
                else
                  retry = LIB.admitted_at(ev, now, w, p.limit, req.cost) - now
                end
              end
              local reset = LIB.empty_at(ev, now, w) - now
              local r = LIB.reply(fits, p.limit, remaining_now, retry, reset)
              if not req.peek and s and not has_ttl then
                return r, { window = w, start = start, prev = prev, cur = cur }, LIB.exact(now + LIB.max(reset, 1))
              end
              return r
            end
          elseif lib_name == "sliding_refund" then
            -- RL.SLIDING, RL.TOKEN, RL.LEAKY: the decoded state (nil: missing) and whether the key has a
            -- TTL.
            lib_value = function(s, has_ttl, now, p, units)
              if s then
                local start = LIB.window_start(now, p.window)
                local prev, cur = LIB.counters_in(LIB.sliding_events(s), now, start, p.window)
                local from_cur = LIB.min(units, cur)
                local from_prev = LIB.min(units - from_cur, prev)
                if from_cur > 0 or from_prev > 0 or not has_ttl then
                  local left = { window = p.window, start = start, prev = prev - from_prev, cur = cur - from_cur }
                  return LIB.refund_reply(LIB.sliding_decide(left, true, now, p, LIB.PEEK)), left, LIB.exact(start + 2 * p.window)
                end
              end
              return LIB.refund_reply(LIB.sliding_decide(s, has_ttl, now, p, LIB.PEEK))
            end
          else
            return nil
          end
        else
          if lib_name == "wait_until_owed" then
            -- Milliseconds until a deficit `owed`, refilling `rate` a ms from `from`, is down to `target`.
            lib_value = function(owed, target, from, now, rate)
              if owed <= target then
                return 0
              end
              return LIB.exact(from - now + LIB.div_ceil(owed - target, rate))
            end
          else
            return nil
          end
        end
      end
    else
      if #lib_name < 18 then
        if #lib_name < 17 then
          if lib_name == "parse_concurrent" then
            -- RL.CONCURRENT's arguments from args[i]: `limit lease id [PEEK | RELEASE]`.
            lib_value = function(args, i)
              local n = #args - i + 1
              if n > 5 then
                LIB.fail("ERR syntax error, too many arguments")
              end
              if n < 3 then
                LIB.fail("ERR wrong number of arguments")
              end
              local limit = LIB.positive(args[i], "limit")
              local lease = LIB.duration(args[i + 1], "lease")
              local id = args[i + 2]
              if #id == 0 or #id > 256 then
                LIB.fail("ERR id must be 1 to " .. 256 .. " bytes")
              end
              local action = "acquire"
              for k = i + 3, #args do
                local option = args[k]
                local given
                if LIB.upper_is(option, "PEEK") then
                  given = "peek"
                elseif LIB.upper_is(option, "RELEASE") then
                  given = "release"
                elseif #option <= 6 and LIB.NOT_OPTIONS[LIB.upper(option)] then
                  LIB.fail("ERR syntax error, " .. LIB.NOT_OPTIONS[LIB.upper(option)] .. " is not an option of RL.CONCURRENT (a lease is one slot)")
                else
                  LIB.fail("ERR syntax error, unknown option '" .. LIB.printable(option) .. "'")
                end
                if action == "acquire" then
                  action = given
                elseif action == given then
                  LIB.fail("ERR syntax error, " .. LIB.upper(given) .. " given more than once")
                else
                  LIB.fail("ERR syntax error, PEEK cannot be combined with RELEASE")
                end
              end
              -- The limit is a reply field: exact below 2^53 only. Any lease is exact: an expiry is
              -- clamped at 2^53, and a sum rounded at or past 2^53 is clamped to it all the same.
              LIB.exact(limit)
              return { limit = limit, lease = lease, action = action }
            end
          elseif lib_name == "read_varint_long" then
            -- One LEB128 varint at 0-based `off` before `stop`: value (approximate past 2^53), its bit
            -- length (53 for any value below 2^53: exact), the offset after it; nil if cut short, past
            -- 128 bits, or not in shortest form.
            lib_value = function(s, off, stop)
              local value, scale = 0, 1
              for shift = 0, 126, 7 do
                if off >= stop then
                  return nil
                end
                local b = LIB.byte(s, off + 1)
                off = off + 1
                if b < 128 then
                  if b == 0 and shift > 0 then
                    return nil
                  end
                  if shift == 126 and b > 3 then
                    return nil
                  end
                  value = value + b * scale
                  if value < 9007199254740992 then
                    return value, 53, off
                  end
                  local bits = shift
                  while b > 0 do
                    bits, b = bits + 1, LIB.floor(b / 2)
                  end
                  return value, bits, off
                end
                value = value + (b - 128) * scale
                scale = scale * 128
              end
              return nil
            end
          elseif lib_name == "tagged_algorithm" then
            -- ------------------------------------------------------------------ one call (src/limiter.rs)
            -- RL.SLIDING's, RL.TOKEN's or RL.LEAKY's decider and decoder. (Code, not a table: the EVALSHA
            -- script would build every algorithm's closures to fill one.)
            lib_value = function(kind)
              if kind == "RL.SLIDING" then
                return LIB.sliding_decide, LIB.sliding_decode
              elseif kind == "RL.TOKEN" then
                return LIB.token_decide, LIB.token_decode
              end
              return LIB.leaky_decide, LIB.leaky_decode
            end
          else
            return nil
          end
        else
          if lib_name == "concurrent_decide" then
            -- s: count, own (the caller's expiry), latest_other, expire_at (nil: none). Returns the reply
            -- and the change (nil: nothing to write): prune_through (ZREMRANGEBYSCORE key -inf t), then
            -- holder_at (ZADD key t id; nil: ZREM key id), then expire_at and expire_moves (PEXPIREAT).
            lib_value = function(walk, s, now, p)
              -- The expired leases come first in expiry order; they hold no slot.
              local expired, first_live = 0, nil
              while true do
                local at = LIB.next_lease(walk)
                if at == nil then
                  break
                end
                if at > now then
                  first_live = at
                  break
                end
                expired = expired + 1
              end
              local live = LIB.sub0(s.count, expired)
              local own_live = s.own and s.own > now and s.own or nil
              local others_latest = s.latest_other and s.latest_other > now and s.latest_other or nil
              local prune_through = expired > 0 and now or nil
              local function until_(at)
                return at and LIB.sub0(at, now) or 0
              end
              local function lease_reply(allowed, live_after, retry, latest)
                return LIB.reply(allowed, p.limit, LIB.sub0(p.limit, live_after), retry, until_(latest))
              end
              if p.action == "release" then
                if own_live == nil then
                  -- Nothing held (never taken, released, or expired): nothing to write.
                  return lease_reply(false, live, 0, others_latest), nil
                end
                return lease_reply(true, LIB.sub0(live, 1), 0, others_latest),
                  { prune_through = prune_through, expire_at = others_latest,
                    expire_moves = others_latest ~= nil and others_latest ~= s.expire_at }
              end
              if own_live or live < p.limit then
                -- A live holder is always renewed; a new one needs a free slot.
                if p.action == "peek" then
                  local latest = others_latest
                  if own_live and (latest == nil or own_live > latest) then
                    latest = own_live
                  end
                  return lease_reply(true, live, 0, latest), nil
                end
                local live_after = own_live and live or live + 1
                local lease_ends = LIB.min(LIB.max(now + p.lease, now + 1), 9007199254740992)
                local expire_at = others_latest and LIB.max(others_latest, lease_ends) or lease_ends
                -- Dropping every expired lease may empty the set: Redis then deletes the key, and the ZADD
                -- that follows creates it anew, without an expiry.
                local emptied = prune_through ~= nil and expired >= s.count
                return lease_reply(true, live_after, 0, expire_at),
                  { prune_through = prune_through, holder_at = lease_ends, expire_at = expire_at,
                    expire_moves = emptied or s.expire_at ~= expire_at }
              end
              -- Refused: a slot frees up when the (live - limit + 1)-th live lease expires, if none is
              -- released before.
              local must_end = live - p.limit + 1
              local ended, frees_at = 0, nil
              local at = first_live
              while at ~= nil do
                ended = ended + 1
                if ended >= must_end then
                  frees_at = at
                  break
                end
                at = LIB.next_lease(walk, must_end - ended)
              end
              return lease_reply(false, live, until_(frees_at or others_latest), others_latest), nil
            end
          else
            return nil
          end
        end
      else
        if #lib_name < 19 then
          if lib_name == "expiry_after_write" then
            -- RL.LOG: the expiry after a write that leaves `newest` as the newest entry, and whether it
            -- moves from `current` (kept while within [newest + window, newest + 2 windows]).
            lib_value = function(newest, window, current, counts)
              local must = counts and LIB.exact(newest + window) or 0
              local may = LIB.exact(newest + 2 * window)
              if current and must <= current and current <= may then
                return current, false
              end
              return may, true
            end
          elseif lib_name == "log_refund_entries" then
            -- REFUND on a log: the entries still in the window after giving back up to `units`, newest
            -- first; one entry always stays (with 0 units if need be). And whether anything was given.
            lib_value = function(view, now, p, units)
              local kept = {}
              local walk = LIB.entries(view)
              while true do
                local at, n = LIB.next_entry(walk)
                if at == nil then
                  break
                end
                if LIB.exact(at + p.window) > now then
                  kept[#kept + 1] = { at = at, units = n }
                end
              end
              local any = false
              for _, e in ipairs(kept) do
                if e.units ~= 0 then
                  any = true
                end
              end
              if not any then
                return kept, false
              end
              local left = units
              for k = #kept, 1, -1 do
                local taken = LIB.min(left, kept[k].units)
                kept[k].units = kept[k].units - taken
                left = left - taken
                if left == 0 then
                  break
                end
              end
              while #kept > 1 and kept[#kept].units == 0 do
                kept[#kept] = nil
              end
              return kept, true
            end
          else
            return nil
          end
        else
          if lib_name == "concurrent_evaluate" then
            -- RL.CONCURRENT for the holder `id` at `now` (src/limiter.rs's evaluate_concurrent), on the
            -- sorted set as read (nil: no key): count (ZCARD), own (ZSCORE key id: the score's text, nil:
            -- none), top (ZRANGE key -2 -1 WITHSCORES), expire_at (nil: no TTL); `ranks` reads the rest.
            -- A key whose expiry has come is gone; waits stop at the key's expiry.
            lib_value = function(call, id, found, ranks, now)
              -- (A lease taken at 2^53 would end past it: not a clock of this era, but not exact either.)
              LIB.exact(now)
              local s, gone = { count = 0 }, false
              if found then
                -- Checked as the module reads them, before its expiry: the caller's score, and the latest
                -- other one (the last member, or the one before it when the last is the caller's).
                local own = found.own and LIB.lease_expiry(found.own)
                local top, latest_other = found.top, nil
                for k = #top - 1, LIB.max(1, #top - 3), -2 do
                  if top[k] ~= id then
                    latest_other = LIB.lease_expiry(top[k + 1])
                    break
                  end
                end
                if found.expire_at and found.expire_at <= now then
                  -- Gone, but Redis still holds it: a write first empties it.
                  found, gone = nil, true
                else
                  s = { count = found.count, own = own, latest_other = latest_other, expire_at = found.expire_at }
                end
              end
              local r, change = LIB.concurrent_decide(LIB.lease_walk(found, ranks), s, now, call)
              if change and gone then
                change.prune_through = (- 1)
                change.expire_moves = change.expire_at ~= nil
              end
              local gone_at = s.expire_at
              if change then
                gone_at = change.expire_at
              end
              LIB.waits_until(r, gone_at, now)
              return r, change
            end
          else
            return nil
          end
        end
      end
    end
  end
  LIB[lib_name] = lib_value
  return lib_value
end })

if ARGV[1] == "rl_fixed" then
  local route, unit_of, plain_count, parse_plain, parse, fixed_decode, reply, window_start, fixed_decide, encode, waits_until, evaluate, parsed, server_ms, read_key, apply, arity_error, single, sub0, catching, exact
  exact = function(v)
    if v >= 9007199254740992 then
      error(LIB.RANGE, 0)
    end
    return v
  end
  sub0 = function(a, b)
    if a > b then
      return a - b
    end
    return 0
  end
  unit_of = function(unit)
    if unit == "" or unit == "ms" then
      return 1, "9223372036854775807"
    elseif unit == "s" then
      return 1000, "9223372036854775"
    elseif unit == "m" then
      return 60000, "153722867280912"
    elseif unit == "h" then
      return 3600000, "2562047788015"
    elseif unit == "d" then
      return 86400000, "106751991167"
    end
    return nil
  end
  plain_count = function(s)
    if #s <= 15 and LIB.match(s, "^[1-9][0-9]*$") then
      return tonumber(s)
    end
    return nil
  end
  parse_plain = function(kind, args, i)
    local n = #args - i + 1
    local tagged_kind = kind == "RL.TOKEN" or kind == "RL.LEAKY"
    if kind == "RL.CONCURRENT" or n ~= (tagged_kind and 3 or 2) then
      return nil
    end
    local first, second = plain_count(args[i]), nil
    local digits, unit = LIB.match(args[i + n - 1], "^([1-9][0-9]*)([a-z]*)$")
    if first == nil or digits == nil or #digits > 15 then
      return nil
    end
    if tagged_kind then
      second = plain_count(args[i + 1])
      if second == nil then
        return nil
      end
    end
    local scale = unit_of(unit)
    if scale == nil then
      return nil
    end
    local span = tonumber(digits) * scale
    if span >= 9007199254740992 then
      return nil
    end
    local request = { cost = 1, peek = false, mode = 1 }
    if tagged_kind then
      return { spec = { kind = kind, capacity = first, rate = second, period = span }, request = request }
    end
    return { spec = { kind = kind, limit = first, window = span }, request = request }
  end
  parse = function(kind, args, i)
    local plain = parse_plain(kind, args, i)
    if plain then
      return plain
    end
    if #args - i + 1 > 16 then
      LIB.fail("ERR syntax error, too many arguments")
    end
    local spec, after = LIB.spec_of(kind, args, i)
    if spec == nil then
      LIB.fail("ERR wrong number of arguments")
    end
    local request = LIB.options_of(args, after)
    LIB.check_exact(spec, request)
    return { spec = spec, request = request }
  end
  fixed_decode = function(s)
    if #s < 16 and #s > 0 and not LIB.find(s, "[^0-9]") then
      return tonumber(s)
    end
    if LIB.byte(s, 1) == 45 then
      if LIB.u128_digits(LIB.sub(s, 2)) then
        local d = LIB.u128_digits(LIB.sub(s, 2))
        if #d <= 20 and LIB.dec_le(d, "18446744073709551615") then
          LIB.out_of_range("RL.FIXED")
        end
      end
      LIB.foreign(s, "RL.FIXED")
    end
    local d = LIB.u128_digits(s)
    if d == nil then
      if #s > 0 and not LIB.find(s, "[^0-9]") then
        LIB.out_of_range("RL.FIXED")
      end
      LIB.foreign(s, "RL.FIXED")
    end
    if not LIB.dec_le(d, "9223372036854775807") then
      LIB.out_of_range("RL.FIXED")
    end
    return exact(tonumber(d))
  end
  reply = function(allowed, limit, remaining, retry, reset)
    return { allowed and 1 or 0, limit, remaining, retry, reset }
  end
  window_start = function(now, w)
    return now - now % w
  end
  fixed_decide = function(count, expire_at, now, p, req)
    if count and expire_at and expire_at <= now then
      count = nil
    end
    if req.mode == 3 then
      return LIB.fixed_refund(count, expire_at, now, p, req.cost)
    end
    local window_end = exact(window_start(now, p.window) + p.window)
    local used = count or 0
    local until_forgotten = sub0((count and expire_at) or window_end, now)
    local fits = req.mode == 2 or exact(used + req.cost) <= p.limit
    if fits and not req.peek then
      local new_count = exact(used + req.cost)
      return reply(true, p.limit, sub0(p.limit, new_count), 0, window_end - now), new_count, window_end
    end
    local retry = 0
    if not fits then
      retry = req.cost > p.limit and -1 or until_forgotten
    end
    local r = reply(fits, p.limit, sub0(p.limit, used), retry, used == 0 and 0 or until_forgotten)
    if not req.peek and count and expire_at == nil then
      return r, used, window_end
    end
    return r
  end
  encode = function(kind, state)
    if kind == "RL.FIXED" then
      return LIB.format("%d", state)
    elseif kind == "RL.SLIDING" then
      return LIB.tagged(1, state.window, LIB.idiv(state.start, state.window), state.prev, state.cur)
    elseif kind == "RL.TOKEN" then
      return LIB.tagged(2, state.period, state.at, state.owed)
    end
    return LIB.tagged(3, state.rate, state.drain)
  end
  waits_until = function(r, gone_at, now)
    if gone_at then
      local cap = sub0(gone_at, now)
      if r[4] > cap then
        r[4] = cap
      end
      if r[5] > cap then
        r[5] = cap
      end
    end
  end
  evaluate = function(call, bytes, expire_at, now)
    if expire_at and expire_at <= now then
      bytes, expire_at = nil, nil
    end
    if expire_at then
      exact(expire_at)
    end
    local spec, req = call.spec, call.request
    local r, write
    if spec.kind == "RL.LOG" then
      r, write = LIB.log_evaluate(spec, req, bytes, expire_at, now)
    else
      local state, at
      if spec.kind == "RL.FIXED" then
        r, state, at = fixed_decide(bytes and fixed_decode(bytes), expire_at, now, spec, req)
      else
        local decide, decode = LIB.tagged_algorithm(spec.kind)
        if bytes then
          r, state, at = decide(decode(bytes), expire_at ~= nil, now, spec, req)
        else
          r, state, at = decide(nil, false, now, spec, req)
        end
      end
      if at then
        write = { value = true, bytes = encode(spec.kind, state), expire_at = at }
      end
    end
    waits_until(r, write and write.expire_at or expire_at, now)
    return r, write
  end
  catching = function(f, ...)
    if not LIB.floor then
      LIB.init()
    end
    local ok, a, b = pcall(f, ...)
    if ok then
      return nil, a, b
    end
    if type(a) == "table" and type(a[1]) == "string" then
      return a[1]
    end
    error(a, 0)
  end
  parsed = function(root, parser, args, first, ...)
    local call = LIB.MEMO_ON and LIB.memo_get(root, args, first)
    if call then
      return nil, call
    end
    local e
    e, call = catching(parser, ...)
    if call and LIB.MEMO_ON then
      LIB.memo_put(root, args, first, call)
    end
    return e, call
  end
  server_ms = function()
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
  end
  read_key = function(key)
    local at = redis.pcall("PEXPIRETIME", key)
    if type(at) == "table" then
      if not (at.err and LIB.find(at.err, "nknown")) then
        return nil, nil, at.err or "ERR could not read the key's expiry"
      end
      return LIB.read_key_62(key)
    end
    if at == -2 then
      return nil
    end
    local bytes = redis.pcall("GET", key)
    if type(bytes) == "table" then
      return nil, nil, bytes.err or "ERR could not read the key"
    end
    if not bytes then
      return nil
    end
    if at < 0 then
      return bytes
    end
    return bytes, at
  end
  apply = function(key, write)
    if write.value then
      redis.call("SET", key, write.bytes, "PXAT", LIB.format("%d", write.expire_at))
    else
      redis.call("SETRANGE", key, LIB.format("%d", write.offset), write.bytes)
      if write.expire_at then
        redis.call("PEXPIREAT", key, LIB.format("%d", write.expire_at))
      end
    end
  end
  arity_error = function(command, words, least)
    if words < least then
      return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
    end
  end
  single = function(kind, name, keys, args, first)
    if not LIB.floor then
      LIB.init()
    end
    if #keys ~= 1 then
      return redis.error_reply("ERR " .. name .. " takes one key (numkeys 1)")
    end
    local least = (kind == "RL.TOKEN" or kind == "RL.LEAKY") and 5 or 4
    local short = arity_error(kind, 2 + #args - first + 1, least)
    if short then
      return short
    end
    local e, call = parsed(kind, parse, args, first, kind, args, first)
    if e then
      return redis.error_reply(e)
    end
    local now = server_ms()
    local bytes, expire_at, wrong = read_key(keys[1])
    if wrong then
      return redis.error_reply(wrong)
    end
    local e2, r, write = catching(evaluate, call, bytes, expire_at, now)
    if e2 then
      return redis.error_reply(e2)
    end
    if write then
      apply(keys[1], write)
    end
    return r
  end
  route = function(name, keys, args, first)
    if name == "rl_fixed" then
      return single("RL.FIXED", name, keys, args, first)
    elseif name == "rl_sliding" then
      return single("RL.SLIDING", name, keys, args, first)
    elseif name == "rl_log" then
      return single("RL.LOG", name, keys, args, first)
    elseif name == "rl_token" then
      return single("RL.TOKEN", name, keys, args, first)
    elseif name == "rl_leaky" then
      return single("RL.LEAKY", name, keys, args, first)
    elseif name == "rl_concurrent" then
      return LIB.concurrent(keys, args, first)
    elseif name == "rl_all" then
      return LIB.all(keys, args, first)
    end
    return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
  end
  -- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
  -- starts afresh: nothing to remember parsed calls in.
  LIB.MEMO_ON = false
  return route(ARGV[1] or "", KEYS, ARGV, 2)
elseif ARGV[1] == "rl_sliding" then
  local route, unit_of, plain_count, parse_plain, parse, read_varint_long, read_varint, varint_str, read_fields, sliding_decode, tagged, reply, window_start, sliding_events, counters_in, sliding_decide, tagged_algorithm, encode, waits_until, evaluate, parsed, server_ms, read_key, apply, arity_error, single, idiv, sub0, catching, exact
  exact = function(v)
    if v >= 9007199254740992 then
      error(LIB.RANGE, 0)
    end
    return v
  end
  idiv = function(a, b)
    return LIB.floor(a / b)
  end
  sub0 = function(a, b)
    if a > b then
      return a - b
    end
    return 0
  end
  unit_of = function(unit)
    if unit == "" or unit == "ms" then
      return 1, "9223372036854775807"
    elseif unit == "s" then
      return 1000, "9223372036854775"
    elseif unit == "m" then
      return 60000, "153722867280912"
    elseif unit == "h" then
      return 3600000, "2562047788015"
    elseif unit == "d" then
      return 86400000, "106751991167"
    end
    return nil
  end
  plain_count = function(s)
    if #s <= 15 and LIB.match(s, "^[1-9][0-9]*$") then
      return tonumber(s)
    end
    return nil
  end
  parse_plain = function(kind, args, i)
    local n = #args - i + 1
    local tagged_kind = kind == "RL.TOKEN" or kind == "RL.LEAKY"
    if kind == "RL.CONCURRENT" or n ~= (tagged_kind and 3 or 2) then
      return nil
    end
    local first, second = plain_count(args[i]), nil
    local digits, unit = LIB.match(args[i + n - 1], "^([1-9][0-9]*)([a-z]*)$")
    if first == nil or digits == nil or #digits > 15 then
      return nil
    end
    if tagged_kind then
      second = plain_count(args[i + 1])
      if second == nil then
        return nil
      end
    end
    local scale = unit_of(unit)
    if scale == nil then
      return nil
    end
    local span = tonumber(digits) * scale
    if span >= 9007199254740992 then
      return nil
    end
    local request = { cost = 1, peek = false, mode = 1 }
    if tagged_kind then
      return { spec = { kind = kind, capacity = first, rate = second, period = span }, request = request }
    end
    return { spec = { kind = kind, limit = first, window = span }, request = request }
  end
  parse = function(kind, args, i)
    local plain = parse_plain(kind, args, i)
    if plain then
      return plain
    end
    if #args - i + 1 > 16 then
      LIB.fail("ERR syntax error, too many arguments")
    end
    local spec, after = LIB.spec_of(kind, args, i)
    if spec == nil then
      LIB.fail("ERR wrong number of arguments")
    end
    local request = LIB.options_of(args, after)
    LIB.check_exact(spec, request)
    return { spec = spec, request = request }
  end
  read_varint_long = function(s, off, stop)
    local value, scale = 0, 1
    for shift = 0, 126, 7 do
      if off >= stop then
        return nil
      end
      local b = LIB.byte(s, off + 1)
      off = off + 1
      if b < 128 then
        if b == 0 and shift > 0 then
          return nil
        end
        if shift == 126 and b > 3 then
          return nil
        end
        value = value + b * scale
        if value < 9007199254740992 then
          return value, 53, off
        end
        local bits = shift
        while b > 0 do
          bits, b = bits + 1, LIB.floor(b / 2)
        end
        return value, bits, off
      end
      value = value + (b - 128) * scale
      scale = scale * 128
    end
    return nil
  end
  read_varint = function(s, off, stop)
    if stop - off >= 7 then
      local b1, b2, b3, b4, b5, b6, b7 = LIB.byte(s, off + 1, off + 7)
      if b1 < 128 then
        return b1, 53, off + 1
      elseif b2 < 128 then
        if b2 > 0 then
          return b1 - 128 + b2 * 128, 53, off + 2
        end
      elseif b3 < 128 then
        if b3 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + b3 * 16384, 53, off + 3
        end
      elseif b4 < 128 then
        if b4 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + b4 * 2097152, 53, off + 4
        end
      elseif b5 < 128 then
        if b5 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + b5 * 268435456, 53, off + 5
        end
      elseif b6 < 128 then
        if b6 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
            + b6 * 34359738368, 53, off + 6
        end
      elseif b7 < 128 and b7 > 0 then
        return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
          + (b6 - 128) * 34359738368 + b7 * 4398046511104, 53, off + 7
      end
    end
    return read_varint_long(s, off, stop)
  end
  varint_str = function(v)
    if v < 128 then
      return LIB.char(v)
    end
    local b1 = v % 128
    v = (v - b1) / 128
    if v < 128 then
      return LIB.char(b1 + 128, v)
    end
    local b2 = v % 128
    v = (v - b2) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, v)
    end
    local b3 = v % 128
    v = (v - b3) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, v)
    end
    local b4 = v % 128
    v = (v - b4) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, v)
    end
    local b5 = v % 128
    v = (v - b5) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, v)
    end
    local b6 = v % 128
    v = (v - b6) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, v)
    end
    local b7 = v % 128
    v = (v - b7) / 128
    return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, b7 + 128, v)
  end
  read_fields = function(s, kind, count)
    local n = #s
    local v1, b1, off = read_varint(s, 1, n)
    local v2, b2, v3, b3, v4, b4
    if off then
      v2, b2, off = read_varint(s, off, n)
    end
    if off and count > 2 then
      v3, b3, off = read_varint(s, off, n)
      if off and count > 3 then
        v4, b4, off = read_varint(s, off, n)
      end
    end
    if off ~= n then
      LIB.unreadable(kind)
    end
    return v1, b1, v2, b2, v3, b3, v4, b4
  end
  sliding_decode = function(s)
    if LIB.byte(s, 1) ~= 1 then
      LIB.foreign(s, "RL.SLIDING")
    end
    local window, wbits, index, ibits, prev, pbits, cur, cbits = read_fields(s, "RL.SLIDING", 4)
    if wbits > 63 or window == 0 then
      LIB.out_of_range("RL.SLIDING")
    end
    local start = index * window
    local big = wbits > 53 or ibits > 53 or pbits > 53 or cbits > 53 or start >= 9007199254740992
    if start >= 18446744073709551616 then
      LIB.out_of_range("RL.SLIDING")
    end
    if pbits > 64 or cbits > 64 then
      LIB.out_of_range("RL.SLIDING")
    end
    if big then
      error(LIB.RANGE, 0)
    end
    return { window = window, start = start, prev = prev, cur = cur }
  end
  tagged = function(tag, a, b, c, d)
    if d then
      return LIB.char(tag) .. varint_str(a) .. varint_str(b) .. varint_str(c) .. varint_str(d)
    elseif c then
      return LIB.char(tag) .. varint_str(a) .. varint_str(b) .. varint_str(c)
    end
    return LIB.char(tag) .. varint_str(a) .. varint_str(b)
  end
  reply = function(allowed, limit, remaining, retry, reset)
    return { allowed and 1 or 0, limit, remaining, retry, reset }
  end
  window_start = function(now, w)
    return now - now % w
  end
  sliding_events = function(s)
    local cur_at = exact(s.start + s.window) - 1
    if s.start > 0 then
      return { s.start - 1, s.prev, cur_at, s.cur }
    end
    return { 0, 0, cur_at, s.cur }
  end
  counters_in = function(ev, t, start, w)
    local fading, full = 0, 0
    for k = 1, 3, 2 do
      local at, count = LIB.min(ev[k], t), ev[k + 1]
      if at >= start then
        full = exact(full + count)
      elseif exact(at + w) >= start then
        fading = exact(fading + count)
      end
    end
    return fading, full
  end
  sliding_decide = function(s, has_ttl, now, p, req)
    if req.mode == 3 then
      return LIB.sliding_refund(s, has_ttl, now, p, req.cost)
    end
    local w = p.window
    local start = window_start(now, w)
    local window_end = exact(start + w)
    local ev = s and sliding_events(s) or LIB.NO_EVENTS
    local prev, cur = counters_in(ev, now, start, w)
    local elapsed = now - start
    local weighted = exact(exact(cur * w) + exact(prev * (w - elapsed)))
    local remaining_now = idiv(sub0(exact(p.limit * w), weighted), w)
    local fits = req.mode == 2 or req.cost <= remaining_now
    if fits and not req.peek then
      local expire_at = exact(window_end + w)
      return reply(true, p.limit, sub0(remaining_now, req.cost), 0, expire_at - now),
        { window = w, start = start, prev = prev, cur = exact(cur + req.cost) }, expire_at
    end
    local retry = 0
    if not fits then
      if req.cost > p.limit then
        retry = -1
      else
        retry = LIB.admitted_at(ev, now, w, p.limit, req.cost) - now
      end
    end
    local reset = LIB.empty_at(ev, now, w) - now
    local r = reply(fits, p.limit, remaining_now, retry, reset)
    if not req.peek and s and not has_ttl then
      return r, { window = w, start = start, prev = prev, cur = cur }, exact(now + LIB.max(reset, 1))
    end
    return r
  end
  tagged_algorithm = function(kind)
    if kind == "RL.SLIDING" then
      return sliding_decide, sliding_decode
    elseif kind == "RL.TOKEN" then
      return LIB.token_decide, LIB.token_decode
    end
    return LIB.leaky_decide, LIB.leaky_decode
  end
  encode = function(kind, state)
    if kind == "RL.FIXED" then
      return LIB.format("%d", state)
    elseif kind == "RL.SLIDING" then
      return tagged(1, state.window, idiv(state.start, state.window), state.prev, state.cur)
    elseif kind == "RL.TOKEN" then
      return tagged(2, state.period, state.at, state.owed)
    end
    return tagged(3, state.rate, state.drain)
  end
  waits_until = function(r, gone_at, now)
    if gone_at then
      local cap = sub0(gone_at, now)
      if r[4] > cap then
        r[4] = cap
      end
      if r[5] > cap then
        r[5] = cap
      end
    end
  end
  evaluate = function(call, bytes, expire_at, now)
    if expire_at and expire_at <= now then
      bytes, expire_at = nil, nil
    end
    if expire_at then
      exact(expire_at)
    end
    local spec, req = call.spec, call.request
    local r, write
    if spec.kind == "RL.LOG" then
      r, write = LIB.log_evaluate(spec, req, bytes, expire_at, now)
    else
      local state, at
      if spec.kind == "RL.FIXED" then
        r, state, at = LIB.fixed_decide(bytes and LIB.fixed_decode(bytes), expire_at, now, spec, req)
      else
        local decide, decode = tagged_algorithm(spec.kind)
        if bytes then
          r, state, at = decide(decode(bytes), expire_at ~= nil, now, spec, req)
        else
          r, state, at = decide(nil, false, now, spec, req)
        end
      end
      if at then
        write = { value = true, bytes = encode(spec.kind, state), expire_at = at }
      end
    end
    waits_until(r, write and write.expire_at or expire_at, now)
    return r, write
  end
  catching = function(f, ...)
    if not LIB.floor then
      LIB.init()
    end
    local ok, a, b = pcall(f, ...)
    if ok then
      return nil, a, b
    end
    if type(a) == "table" and type(a[1]) == "string" then
      return a[1]
    end
    error(a, 0)
  end
  parsed = function(root, parser, args, first, ...)
    local call = LIB.MEMO_ON and LIB.memo_get(root, args, first)
    if call then
      return nil, call
    end
    local e
    e, call = catching(parser, ...)
    if call and LIB.MEMO_ON then
      LIB.memo_put(root, args, first, call)
    end
    return e, call
  end
  server_ms = function()
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
  end
  read_key = function(key)
    local at = redis.pcall("PEXPIRETIME", key)
    if type(at) == "table" then
      if not (at.err and LIB.find(at.err, "nknown")) then
        return nil, nil, at.err or "ERR could not read the key's expiry"
      end
      return LIB.read_key_62(key)
    end
    if at == -2 then
      return nil
    end
    local bytes = redis.pcall("GET", key)
    if type(bytes) == "table" then
      return nil, nil, bytes.err or "ERR could not read the key"
    end
    if not bytes then
      return nil
    end
    if at < 0 then
      return bytes
    end
    return bytes, at
  end
  apply = function(key, write)
    if write.value then
      redis.call("SET", key, write.bytes, "PXAT", LIB.format("%d", write.expire_at))
    else
      redis.call("SETRANGE", key, LIB.format("%d", write.offset), write.bytes)
      if write.expire_at then
        redis.call("PEXPIREAT", key, LIB.format("%d", write.expire_at))
      end
    end
  end
  arity_error = function(command, words, least)
    if words < least then
      return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
    end
  end
  single = function(kind, name, keys, args, first)
    if not LIB.floor then
      LIB.init()
    end
    if #keys ~= 1 then
      return redis.error_reply("ERR " .. name .. " takes one key (numkeys 1)")
    end
    local least = (kind == "RL.TOKEN" or kind == "RL.LEAKY") and 5 or 4
    local short = arity_error(kind, 2 + #args - first + 1, least)
    if short then
      return short
    end
    local e, call = parsed(kind, parse, args, first, kind, args, first)
    if e then
      return redis.error_reply(e)
    end
    local now = server_ms()
    local bytes, expire_at, wrong = read_key(keys[1])
    if wrong then
      return redis.error_reply(wrong)
    end
    local e2, r, write = catching(evaluate, call, bytes, expire_at, now)
    if e2 then
      return redis.error_reply(e2)
    end
    if write then
      apply(keys[1], write)
    end
    return r
  end
  route = function(name, keys, args, first)
    if name == "rl_fixed" then
      return single("RL.FIXED", name, keys, args, first)
    elseif name == "rl_sliding" then
      return single("RL.SLIDING", name, keys, args, first)
    elseif name == "rl_log" then
      return single("RL.LOG", name, keys, args, first)
    elseif name == "rl_token" then
      return single("RL.TOKEN", name, keys, args, first)
    elseif name == "rl_leaky" then
      return single("RL.LEAKY", name, keys, args, first)
    elseif name == "rl_concurrent" then
      return LIB.concurrent(keys, args, first)
    elseif name == "rl_all" then
      return LIB.all(keys, args, first)
    end
    return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
  end
  -- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
  -- starts afresh: nothing to remember parsed calls in.
  LIB.MEMO_ON = false
  return route(ARGV[1] or "", KEYS, ARGV, 2)
elseif ARGV[1] == "rl_log" then
  local route, unit_of, plain_count, parse_plain, parse, read_varint_long, read_word, word_str, log_parse, log_fresh, log_write, reply, log_decide, log_evaluate, waits_until, evaluate, parsed, server_ms, read_key, apply, arity_error, single, varint_str, header_str, entries, next_entry, expiry_after_write, catching, sub0, read_varint, exact
  exact = function(v)
    if v >= 9007199254740992 then
      error(LIB.RANGE, 0)
    end
    return v
  end
  sub0 = function(a, b)
    if a > b then
      return a - b
    end
    return 0
  end
  unit_of = function(unit)
    if unit == "" or unit == "ms" then
      return 1, "9223372036854775807"
    elseif unit == "s" then
      return 1000, "9223372036854775"
    elseif unit == "m" then
      return 60000, "153722867280912"
    elseif unit == "h" then
      return 3600000, "2562047788015"
    elseif unit == "d" then
      return 86400000, "106751991167"
    end
    return nil
  end
  plain_count = function(s)
    if #s <= 15 and LIB.match(s, "^[1-9][0-9]*$") then
      return tonumber(s)
    end
    return nil
  end
  parse_plain = function(kind, args, i)
    local n = #args - i + 1
    local tagged_kind = kind == "RL.TOKEN" or kind == "RL.LEAKY"
    if kind == "RL.CONCURRENT" or n ~= (tagged_kind and 3 or 2) then
      return nil
    end
    local first, second = plain_count(args[i]), nil
    local digits, unit = LIB.match(args[i + n - 1], "^([1-9][0-9]*)([a-z]*)$")
    if first == nil or digits == nil or #digits > 15 then
      return nil
    end
    if tagged_kind then
      second = plain_count(args[i + 1])
      if second == nil then
        return nil
      end
    end
    local scale = unit_of(unit)
    if scale == nil then
      return nil
    end
    local span = tonumber(digits) * scale
    if span >= 9007199254740992 then
      return nil
    end
    local request = { cost = 1, peek = false, mode = 1 }
    if tagged_kind then
      return { spec = { kind = kind, capacity = first, rate = second, period = span }, request = request }
    end
    return { spec = { kind = kind, limit = first, window = span }, request = request }
  end
  parse = function(kind, args, i)
    local plain = parse_plain(kind, args, i)
    if plain then
      return plain
    end
    if #args - i + 1 > 16 then
      LIB.fail("ERR syntax error, too many arguments")
    end
    local spec, after = LIB.spec_of(kind, args, i)
    if spec == nil then
      LIB.fail("ERR wrong number of arguments")
    end
    local request = LIB.options_of(args, after)
    LIB.check_exact(spec, request)
    return { spec = spec, request = request }
  end
  read_varint_long = function(s, off, stop)
    local value, scale = 0, 1
    for shift = 0, 126, 7 do
      if off >= stop then
        return nil
      end
      local b = LIB.byte(s, off + 1)
      off = off + 1
      if b < 128 then
        if b == 0 and shift > 0 then
          return nil
        end
        if shift == 126 and b > 3 then
          return nil
        end
        value = value + b * scale
        if value < 9007199254740992 then
          return value, 53, off
        end
        local bits = shift
        while b > 0 do
          bits, b = bits + 1, LIB.floor(b / 2)
        end
        return value, bits, off
      end
      value = value + (b - 128) * scale
      scale = scale * 128
    end
    return nil
  end
  read_varint = function(s, off, stop)
    if stop - off >= 7 then
      local b1, b2, b3, b4, b5, b6, b7 = LIB.byte(s, off + 1, off + 7)
      if b1 < 128 then
        return b1, 53, off + 1
      elseif b2 < 128 then
        if b2 > 0 then
          return b1 - 128 + b2 * 128, 53, off + 2
        end
      elseif b3 < 128 then
        if b3 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + b3 * 16384, 53, off + 3
        end
      elseif b4 < 128 then
        if b4 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + b4 * 2097152, 53, off + 4
        end
      elseif b5 < 128 then
        if b5 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + b5 * 268435456, 53, off + 5
        end
      elseif b6 < 128 then
        if b6 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
            + b6 * 34359738368, 53, off + 6
        end
      elseif b7 < 128 and b7 > 0 then
        return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
          + (b6 - 128) * 34359738368 + b7 * 4398046511104, 53, off + 7
      end
    end
    return read_varint_long(s, off, stop)
  end
  varint_str = function(v)
    if v < 128 then
      return LIB.char(v)
    end
    local b1 = v % 128
    v = (v - b1) / 128
    if v < 128 then
      return LIB.char(b1 + 128, v)
    end
    local b2 = v % 128
    v = (v - b2) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, v)
    end
    local b3 = v % 128
    v = (v - b3) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, v)
    end
    local b4 = v % 128
    v = (v - b4) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, v)
    end
    local b5 = v % 128
    v = (v - b5) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, v)
    end
    local b6 = v % 128
    v = (v - b6) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, v)
    end
    local b7 = v % 128
    v = (v - b7) / 128
    return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, b7 + 128, v)
  end
  read_word = function(s, off)
    local b1, b2, b3, b4, b5, b6, b7, b8 = LIB.byte(s, off + 1, off + 8)
    local hi = ((b8 * 256 + b7) * 256 + b6) * 256 + b5
    local lo = ((b4 * 256 + b3) * 256 + b2) * 256 + b1
    return hi * 4294967296 + lo, hi, lo
  end
  word_str = function(v)
    local b1 = v % 256
    v = (v - b1) / 256
    local b2 = v % 256
    v = (v - b2) / 256
    local b3 = v % 256
    v = (v - b3) / 256
    local b4 = v % 256
    v = (v - b4) / 256
    local b5 = v % 256
    v = (v - b5) / 256
    local b6 = v % 256
    return LIB.char(b1, b2, b3, b4, b5, b6, (v - b6) / 256, 0)
  end
  header_str = function(head_off, head_time, total_units, last_off, last_time)
    return word_str(head_off) .. word_str(head_time) .. word_str(total_units) .. word_str(last_off) .. word_str(last_time)
  end
  log_parse = function(s)
    if LIB.sub(s, 1, 2) ~= "L:" then
      LIB.foreign(s, "RL.LOG")
    end
    local stop = #s - 40
    if stop <= 2 then
      LIB.unreadable("RL.LOG")
    end
    local head_off = read_word(s, stop)
    local head_time, head_hi, head_lo = read_word(s, stop + 8)
    local total, total_hi = read_word(s, stop + 16)
    local last_off = read_word(s, stop + 24)
    local last_time, last_hi, last_lo = read_word(s, stop + 32)
    if not (2 <= head_off and head_off <= last_off and last_off < stop) then
      LIB.unreadable("RL.LOG")
    end
    if head_hi > last_hi or (head_hi == last_hi and head_lo > last_lo) then
      LIB.unreadable("RL.LOG")
    end
    if last_hi >= 2147483648 or total_hi >= 2147483648 then
      LIB.out_of_range("RL.LOG")
    end
    local _, bits, after = read_varint(s, last_off, stop)
    if after and bits <= 64 then
      _, bits, after = read_varint(s, after, stop)
    end
    if after ~= stop or bits > 64 then
      LIB.unreadable("RL.LOG")
    end
    if head_hi >= 2097152 or total_hi >= 2097152 or last_hi >= 2097152 then
      error(LIB.RANGE, 0)
    end
    return { s = s, head_off = head_off, head_time = head_time, total_units = total, last_off = last_off,
      last_time = last_time, stop = stop }
  end
  entries = function(view)
    if view == nil then
      return { off = 0, stop = 0, time = 0, first = true, yielded = 0 }
    end
    return { s = view.s, off = view.head_off, stop = view.stop, time = view.head_time, first = true, yielded = 0 }
  end
  next_entry = function(walk)
    if walk.list then
      walk.k = walk.k + 1
      local e = walk.list[walk.k]
      if e == nil then
        return nil
      end
      return e.at, e.units
    end
    if walk.off >= walk.stop then
      return nil
    end
    local start = walk.off
    local delta, dbits, off = read_varint(walk.s, walk.off, walk.stop)
    local units, ubits
    if delta and dbits <= 64 then
      units, ubits, off = read_varint(walk.s, off, walk.stop)
    end
    if units == nil or ubits > 64 then
      walk.off = walk.stop
      LIB.unreadable("RL.LOG")
    end
    walk.off = off
    if not walk.first then
      if dbits > 53 then
        error(LIB.RANGE, 0)
      end
      walk.time = exact(walk.time + delta)
    end
    walk.first = false
    exact(units)
    walk.yielded = walk.yielded + 1
    walk.last_off, walk.last_at, walk.last_units = start, walk.time, units
    return walk.time, units, start
  end
  log_fresh = function(at, units)
    return "L:\0" .. varint_str(units) .. header_str(2, at, units, 2, at)
  end
  log_write = function(view, change)
    if view == nil then
      return { value = true, bytes = log_fresh(change.at, change.units), expire_at = change.expire_at }
    end
    local walk = entries(view)
    for _ = 1, change.expired_entries do
      next_entry(walk)
    end
    local head_at, _, head_off = next_entry(walk)
    local merge = change.at == view.last_time and head_off ~= nil
    local write_at, entry
    if merge then
      local delta, _, off = read_varint(view.s, view.last_off, view.stop)
      local units = read_varint(view.s, off, view.stop)
      entry = varint_str(exact(delta)) .. varint_str(exact(units + change.units))
      write_at = view.last_off
    else
      entry = varint_str(sub0(change.at, view.last_time)) .. varint_str(change.units)
      write_at = view.stop
    end
    if head_off == nil then
      head_off, head_at = write_at, change.at
    end
    local total = exact(sub0(view.total_units, change.expired_units) + change.units)
    local dead = head_off - 2
    local live = write_at - head_off + #entry
    if dead >= 64 and dead >= live then
      local bytes = "L:" .. LIB.sub(view.s, head_off + 1, write_at) .. entry .. header_str(2, head_at, total, write_at - dead, change.at)
      return { value = true, bytes = bytes, expire_at = change.expire_at }
    end
    local expire_at = nil
    if change.expire_moves then
      expire_at = change.expire_at
    end
    return { value = false, offset = write_at, bytes = entry .. header_str(head_off, head_at, total, write_at, change.at), expire_at = expire_at }
  end
  reply = function(allowed, limit, remaining, retry, reset)
    return { allowed and 1 or 0, limit, remaining, retry, reset }
  end
  expiry_after_write = function(newest, window, current, counts)
    local must = counts and exact(newest + window) or 0
    local may = exact(newest + 2 * window)
    if current and must <= current and current <= may then
      return current, false
    end
    return may, true
  end
  log_decide = function(walk, summary, now, p, req)
    local window = p.window
    local expired_entries, expired_units = 0, 0
    local first_at, first_units
    while true do
      local at, units = next_entry(walk)
      if at == nil then
        break
      end
      if exact(at + window) > now then
        first_at, first_units = at, units
        break
      end
      expired_entries = expired_entries + 1
      expired_units = exact(expired_units + units)
    end
    local live = sub0(summary.total_units, expired_units)
    local remaining_now = sub0(p.limit, live)
    local fits = req.mode == 2 or req.cost <= remaining_now
    local function until_empty(newest, n)
      if newest and n > 0 then
        return sub0(exact(newest + window), now)
      end
      return 0
    end
    if fits and not req.peek then
      local at = summary.newest and LIB.max(summary.newest, now) or now
      local units = LIB.min(req.cost, sub0(9223372036854775807, live))
      local live_after = exact(live + units)
      local expire_at, moves = expiry_after_write(at, window, summary.expire_at, true)
      return reply(true, p.limit, sub0(remaining_now, req.cost), 0, until_empty(at, live_after)),
        { expired_entries = expired_entries, expired_units = expired_units, at = at, units = units, expire_at = expire_at,
          expire_moves = moves }
    end
    local retry = 0
    if not fits then
      if req.cost > p.limit then
        retry = -1
      else
        local must_free = live - (p.limit - req.cost)
        local freed, leaves = 0, nil
        local at, units = first_at, first_units
        while at ~= nil do
          freed = exact(freed + units)
          if freed >= must_free then
            leaves = exact(at + window)
            break
          end
          at, units = next_entry(walk)
        end
        if leaves == nil then
          LIB.unreadable("RL.LOG")
        end
        retry = sub0(leaves, now)
      end
    end
    return reply(fits, p.limit, remaining_now, retry, until_empty(summary.newest, live)), nil
  end
  log_evaluate = function(p, req, bytes, expire_at, now)
    local view = bytes and log_parse(bytes)
    local summary = { total_units = 0, expire_at = expire_at }
    if view then
      summary = { total_units = view.total_units, newest = view.last_time, expire_at = expire_at }
    end
    if req.mode == 3 then
      local kept, changed = {}, false
      if view then
        kept, changed = LIB.log_refund_entries(view, now, p, req.cost)
      end
      local needs_ttl = bytes ~= nil and expire_at == nil and #kept > 0
      if not changed and not needs_ttl then
        local r = log_decide(entries(view), summary, now, p, LIB.PEEK)
        return LIB.refund_reply(r), nil
      end
      local newest = #kept > 0 and kept[#kept].at or now
      local total = 0
      for _, e in ipairs(kept) do
        total = exact(total + e.units)
      end
      local at = expiry_after_write(newest, p.window, expire_at, total > 0)
      local r = log_decide(LIB.list_entries(kept), { total_units = total, newest = newest, expire_at = at }, now, p, LIB.PEEK)
      return LIB.refund_reply(r), LIB.log_rebuild(kept, at)
    end
    local r, change = log_decide(entries(view), summary, now, p, req)
    if change then
      return r, log_write(view, change)
    end
    return r, nil
  end
  waits_until = function(r, gone_at, now)
    if gone_at then
      local cap = sub0(gone_at, now)
      if r[4] > cap then
        r[4] = cap
      end
      if r[5] > cap then
        r[5] = cap
      end
    end
  end
  evaluate = function(call, bytes, expire_at, now)
    if expire_at and expire_at <= now then
      bytes, expire_at = nil, nil
    end
    if expire_at then
      exact(expire_at)
    end
    local spec, req = call.spec, call.request
    local r, write
    if spec.kind == "RL.LOG" then
      r, write = log_evaluate(spec, req, bytes, expire_at, now)
    else
      local state, at
      if spec.kind == "RL.FIXED" then
        r, state, at = LIB.fixed_decide(bytes and LIB.fixed_decode(bytes), expire_at, now, spec, req)
      else
        local decide, decode = LIB.tagged_algorithm(spec.kind)
        if bytes then
          r, state, at = decide(decode(bytes), expire_at ~= nil, now, spec, req)
        else
          r, state, at = decide(nil, false, now, spec, req)
        end
      end
      if at then
        write = { value = true, bytes = LIB.encode(spec.kind, state), expire_at = at }
      end
    end
    waits_until(r, write and write.expire_at or expire_at, now)
    return r, write
  end
  catching = function(f, ...)
    if not LIB.floor then
      LIB.init()
    end
    local ok, a, b = pcall(f, ...)
    if ok then
      return nil, a, b
    end
    if type(a) == "table" and type(a[1]) == "string" then
      return a[1]
    end
    error(a, 0)
  end
  parsed = function(root, parser, args, first, ...)
    local call = LIB.MEMO_ON and LIB.memo_get(root, args, first)
    if call then
      return nil, call
    end
    local e
    e, call = catching(parser, ...)
    if call and LIB.MEMO_ON then
      LIB.memo_put(root, args, first, call)
    end
    return e, call
  end
  server_ms = function()
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
  end
  read_key = function(key)
    local at = redis.pcall("PEXPIRETIME", key)
    if type(at) == "table" then
      if not (at.err and LIB.find(at.err, "nknown")) then
        return nil, nil, at.err or "ERR could not read the key's expiry"
      end
      return LIB.read_key_62(key)
    end
    if at == -2 then
      return nil
    end
    local bytes = redis.pcall("GET", key)
    if type(bytes) == "table" then
      return nil, nil, bytes.err or "ERR could not read the key"
    end
    if not bytes then
      return nil
    end
    if at < 0 then
      return bytes
    end
    return bytes, at
  end
  apply = function(key, write)
    if write.value then
      redis.call("SET", key, write.bytes, "PXAT", LIB.format("%d", write.expire_at))
    else
      redis.call("SETRANGE", key, LIB.format("%d", write.offset), write.bytes)
      if write.expire_at then
        redis.call("PEXPIREAT", key, LIB.format("%d", write.expire_at))
      end
    end
  end
  arity_error = function(command, words, least)
    if words < least then
      return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
    end
  end
  single = function(kind, name, keys, args, first)
    if not LIB.floor then
      LIB.init()
    end
    if #keys ~= 1 then
      return redis.error_reply("ERR " .. name .. " takes one key (numkeys 1)")
    end
    local least = (kind == "RL.TOKEN" or kind == "RL.LEAKY") and 5 or 4
    local short = arity_error(kind, 2 + #args - first + 1, least)
    if short then
      return short
    end
    local e, call = parsed(kind, parse, args, first, kind, args, first)
    if e then
      return redis.error_reply(e)
    end
    local now = server_ms()
    local bytes, expire_at, wrong = read_key(keys[1])
    if wrong then
      return redis.error_reply(wrong)
    end
    local e2, r, write = catching(evaluate, call, bytes, expire_at, now)
    if e2 then
      return redis.error_reply(e2)
    end
    if write then
      apply(keys[1], write)
    end
    return r
  end
  route = function(name, keys, args, first)
    if name == "rl_fixed" then
      return single("RL.FIXED", name, keys, args, first)
    elseif name == "rl_sliding" then
      return single("RL.SLIDING", name, keys, args, first)
    elseif name == "rl_log" then
      return single("RL.LOG", name, keys, args, first)
    elseif name == "rl_token" then
      return single("RL.TOKEN", name, keys, args, first)
    elseif name == "rl_leaky" then
      return single("RL.LEAKY", name, keys, args, first)
    elseif name == "rl_concurrent" then
      return LIB.concurrent(keys, args, first)
    elseif name == "rl_all" then
      return LIB.all(keys, args, first)
    end
    return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
  end
  -- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
  -- starts afresh: nothing to remember parsed calls in.
  LIB.MEMO_ON = false
  return route(ARGV[1] or "", KEYS, ARGV, 2)
elseif ARGV[1] == "rl_token" then
  local route, unit_of, plain_count, parse_plain, parse, read_varint_long, read_varint, varint_str, read_fields, token_decode, tagged, reply, rescale_up, sub_product0, token_decide, owed_now, tagged_algorithm, encode, waits_until, evaluate, parsed, server_ms, read_key, apply, arity_error, single, idiv, catching, exact, div_ceil, sub0
  exact = function(v)
    if v >= 9007199254740992 then
      error(LIB.RANGE, 0)
    end
    return v
  end
  idiv = function(a, b)
    return LIB.floor(a / b)
  end
  div_ceil = function(a, b)
    local q = LIB.floor(a / b)
    if q * b ~= a then
      return q + 1
    end
    return q
  end
  sub0 = function(a, b)
    if a > b then
      return a - b
    end
    return 0
  end
  unit_of = function(unit)
    if unit == "" or unit == "ms" then
      return 1, "9223372036854775807"
    elseif unit == "s" then
      return 1000, "9223372036854775"
    elseif unit == "m" then
      return 60000, "153722867280912"
    elseif unit == "h" then
      return 3600000, "2562047788015"
    elseif unit == "d" then
      return 86400000, "106751991167"
    end
    return nil
  end
  plain_count = function(s)
    if #s <= 15 and LIB.match(s, "^[1-9][0-9]*$") then
      return tonumber(s)
    end
    return nil
  end
  parse_plain = function(kind, args, i)
    local n = #args - i + 1
    local tagged_kind = kind == "RL.TOKEN" or kind == "RL.LEAKY"
    if kind == "RL.CONCURRENT" or n ~= (tagged_kind and 3 or 2) then
      return nil
    end
    local first, second = plain_count(args[i]), nil
    local digits, unit = LIB.match(args[i + n - 1], "^([1-9][0-9]*)([a-z]*)$")
    if first == nil or digits == nil or #digits > 15 then
      return nil
    end
    if tagged_kind then
      second = plain_count(args[i + 1])
      if second == nil then
        return nil
      end
    end
    local scale = unit_of(unit)
    if scale == nil then
      return nil
    end
    local span = tonumber(digits) * scale
    if span >= 9007199254740992 then
      return nil
    end
    local request = { cost = 1, peek = false, mode = 1 }
    if tagged_kind then
      return { spec = { kind = kind, capacity = first, rate = second, period = span }, request = request }
    end
    return { spec = { kind = kind, limit = first, window = span }, request = request }
  end
  parse = function(kind, args, i)
    local plain = parse_plain(kind, args, i)
    if plain then
      return plain
    end
    if #args - i + 1 > 16 then
      LIB.fail("ERR syntax error, too many arguments")
    end
    local spec, after = LIB.spec_of(kind, args, i)
    if spec == nil then
      LIB.fail("ERR wrong number of arguments")
    end
    local request = LIB.options_of(args, after)
    LIB.check_exact(spec, request)
    return { spec = spec, request = request }
  end
  read_varint_long = function(s, off, stop)
    local value, scale = 0, 1
    for shift = 0, 126, 7 do
      if off >= stop then
        return nil
      end
      local b = LIB.byte(s, off + 1)
      off = off + 1
      if b < 128 then
        if b == 0 and shift > 0 then
          return nil
        end
        if shift == 126 and b > 3 then
          return nil
        end
        value = value + b * scale
        if value < 9007199254740992 then
          return value, 53, off
        end
        local bits = shift
        while b > 0 do
          bits, b = bits + 1, LIB.floor(b / 2)
        end
        return value, bits, off
      end
      value = value + (b - 128) * scale
      scale = scale * 128
    end
    return nil
  end
  read_varint = function(s, off, stop)
    if stop - off >= 7 then
      local b1, b2, b3, b4, b5, b6, b7 = LIB.byte(s, off + 1, off + 7)
      if b1 < 128 then
        return b1, 53, off + 1
      elseif b2 < 128 then
        if b2 > 0 then
          return b1 - 128 + b2 * 128, 53, off + 2
        end
      elseif b3 < 128 then
        if b3 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + b3 * 16384, 53, off + 3
        end
      elseif b4 < 128 then
        if b4 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + b4 * 2097152, 53, off + 4
        end
      elseif b5 < 128 then
        if b5 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + b5 * 268435456, 53, off + 5
        end
      elseif b6 < 128 then
        if b6 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
            + b6 * 34359738368, 53, off + 6
        end
      elseif b7 < 128 and b7 > 0 then
        return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
          + (b6 - 128) * 34359738368 + b7 * 4398046511104, 53, off + 7
      end
    end
    return read_varint_long(s, off, stop)
  end
  varint_str = function(v)
    if v < 128 then
      return LIB.char(v)
    end
    local b1 = v % 128
    v = (v - b1) / 128
    if v < 128 then
      return LIB.char(b1 + 128, v)
    end
    local b2 = v % 128
    v = (v - b2) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, v)
    end
    local b3 = v % 128
    v = (v - b3) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, v)
    end
    local b4 = v % 128
    v = (v - b4) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, v)
    end
    local b5 = v % 128
    v = (v - b5) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, v)
    end
    local b6 = v % 128
    v = (v - b6) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, v)
    end
    local b7 = v % 128
    v = (v - b7) / 128
    return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, b7 + 128, v)
  end
  read_fields = function(s, kind, count)
    local n = #s
    local v1, b1, off = read_varint(s, 1, n)
    local v2, b2, v3, b3, v4, b4
    if off then
      v2, b2, off = read_varint(s, off, n)
    end
    if off and count > 2 then
      v3, b3, off = read_varint(s, off, n)
      if off and count > 3 then
        v4, b4, off = read_varint(s, off, n)
      end
    end
    if off ~= n then
      LIB.unreadable(kind)
    end
    return v1, b1, v2, b2, v3, b3, v4, b4
  end
  token_decode = function(s)
    if LIB.byte(s, 1) ~= 2 then
      LIB.foreign(s, "RL.TOKEN")
    end
    local period, pbits, at, abits, owed, obits = read_fields(s, "RL.TOKEN", 3)
    if pbits > 63 or period == 0 or abits > 63 then
      LIB.out_of_range("RL.TOKEN")
    end
    if pbits > 53 or abits > 53 or obits > 53 then
      error(LIB.RANGE, 0)
    end
    return { period = period, at = at, owed = owed }
  end
  tagged = function(tag, a, b, c, d)
    if d then
      return LIB.char(tag) .. varint_str(a) .. varint_str(b) .. varint_str(c) .. varint_str(d)
    elseif c then
      return LIB.char(tag) .. varint_str(a) .. varint_str(b) .. varint_str(c)
    end
    return LIB.char(tag) .. varint_str(a) .. varint_str(b)
  end
  reply = function(allowed, limit, remaining, retry, reset)
    return { allowed and 1 or 0, limit, remaining, retry, reset }
  end
  rescale_up = function(value, from, to)
    if from == to then
      return value
    end
    return div_ceil(exact(value * to), from)
  end
  sub_product0 = function(a, b, c)
    if b >= div_ceil(a, c) then
      return 0
    end
    return a - b * c
  end
  token_decide = function(s, has_ttl, now, p, req)
    if req.mode == 3 then
      return LIB.token_refund(s, has_ttl, now, p, req.cost)
    end
    local period, rate = p.period, p.rate
    local owed, refill_from = 0, now
    if s then
      owed, refill_from = owed_now(s, now, p)
    end
    local remaining_now = idiv(sub0(exact(p.capacity * period), owed), period)
    local fits = req.mode == 2 or req.cost <= remaining_now
    if fits and not req.peek then
      local new_owed = exact(owed + exact(req.cost * period))
      local until_full = div_ceil(new_owed, rate)
      return reply(true, p.capacity, sub0(remaining_now, req.cost), 0, until_full),
        { period = period, at = now, owed = new_owed }, exact(now + until_full)
    end
    local retry = 0
    if not fits then
      if req.cost > p.capacity then
        retry = -1
      else
        retry = LIB.wait_until_owed(owed, exact((p.capacity - req.cost) * period), refill_from, now, rate)
      end
    end
    local r = reply(fits, p.capacity, remaining_now, retry, LIB.wait_until_owed(owed, 0, refill_from, now, rate))
    if not req.peek and s and not has_ttl then
      return r, { period = period, at = now, owed = owed }, exact(now + LIB.max(div_ceil(owed, rate), 1))
    end
    return r
  end
  owed_now = function(s, now, p)
    local owed = rescale_up(s.owed, s.period, p.period)
    return sub_product0(owed, sub0(now, s.at), p.rate), LIB.max(s.at, now)
  end
  tagged_algorithm = function(kind)
    if kind == "RL.SLIDING" then
      return LIB.sliding_decide, LIB.sliding_decode
    elseif kind == "RL.TOKEN" then
      return token_decide, token_decode
    end
    return LIB.leaky_decide, LIB.leaky_decode
  end
  encode = function(kind, state)
    if kind == "RL.FIXED" then
      return LIB.format("%d", state)
    elseif kind == "RL.SLIDING" then
      return tagged(1, state.window, idiv(state.start, state.window), state.prev, state.cur)
    elseif kind == "RL.TOKEN" then
      return tagged(2, state.period, state.at, state.owed)
    end
    return tagged(3, state.rate, state.drain)
  end
  waits_until = function(r, gone_at, now)
    if gone_at then
      local cap = sub0(gone_at, now)
      if r[4] > cap then
        r[4] = cap
      end
      if r[5] > cap then
        r[5] = cap
      end
    end
  end
  evaluate = function(call, bytes, expire_at, now)
    if expire_at and expire_at <= now then
      bytes, expire_at = nil, nil
    end
    if expire_at then
      exact(expire_at)
    end
    local spec, req = call.spec, call.request
    local r, write
    if spec.kind == "RL.LOG" then
      r, write = LIB.log_evaluate(spec, req, bytes, expire_at, now)
    else
      local state, at
      if spec.kind == "RL.FIXED" then
        r, state, at = LIB.fixed_decide(bytes and LIB.fixed_decode(bytes), expire_at, now, spec, req)
      else
        local decide, decode = tagged_algorithm(spec.kind)
        if bytes then
          r, state, at = decide(decode(bytes), expire_at ~= nil, now, spec, req)
        else
          r, state, at = decide(nil, false, now, spec, req)
        end
      end
      if at then
        write = { value = true, bytes = encode(spec.kind, state), expire_at = at }
      end
    end
    waits_until(r, write and write.expire_at or expire_at, now)
    return r, write
  end
  catching = function(f, ...)
    if not LIB.floor then
      LIB.init()
    end
    local ok, a, b = pcall(f, ...)
    if ok then
      return nil, a, b
    end
    if type(a) == "table" and type(a[1]) == "string" then
      return a[1]
    end
    error(a, 0)
  end
  parsed = function(root, parser, args, first, ...)
    local call = LIB.MEMO_ON and LIB.memo_get(root, args, first)
    if call then
      return nil, call
    end
    local e
    e, call = catching(parser, ...)
    if call and LIB.MEMO_ON then
      LIB.memo_put(root, args, first, call)
    end
    return e, call
  end
  server_ms = function()
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
  end
  read_key = function(key)
    local at = redis.pcall("PEXPIRETIME", key)
    if type(at) == "table" then
      if not (at.err and LIB.find(at.err, "nknown")) then
        return nil, nil, at.err or "ERR could not read the key's expiry"
      end
      return LIB.read_key_62(key)
    end
    if at == -2 then
      return nil
    end
    local bytes = redis.pcall("GET", key)
    if type(bytes) == "table" then
      return nil, nil, bytes.err or "ERR could not read the key"
    end
    if not bytes then
      return nil
    end
    if at < 0 then
      return bytes
    end
    return bytes, at
  end
  apply = function(key, write)
    if write.value then
      redis.call("SET", key, write.bytes, "PXAT", LIB.format("%d", write.expire_at))
    else
      redis.call("SETRANGE", key, LIB.format("%d", write.offset), write.bytes)
      if write.expire_at then
        redis.call("PEXPIREAT", key, LIB.format("%d", write.expire_at))
      end
    end
  end
  arity_error = function(command, words, least)
    if words < least then
      return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
    end
  end
  single = function(kind, name, keys, args, first)
    if not LIB.floor then
      LIB.init()
    end
    if #keys ~= 1 then
      return redis.error_reply("ERR " .. name .. " takes one key (numkeys 1)")
    end
    local least = (kind == "RL.TOKEN" or kind == "RL.LEAKY") and 5 or 4
    local short = arity_error(kind, 2 + #args - first + 1, least)
    if short then
      return short
    end
    local e, call = parsed(kind, parse, args, first, kind, args, first)
    if e then
      return redis.error_reply(e)
    end
    local now = server_ms()
    local bytes, expire_at, wrong = read_key(keys[1])
    if wrong then
      return redis.error_reply(wrong)
    end
    local e2, r, write = catching(evaluate, call, bytes, expire_at, now)
    if e2 then
      return redis.error_reply(e2)
    end
    if write then
      apply(keys[1], write)
    end
    return r
  end
  route = function(name, keys, args, first)
    if name == "rl_fixed" then
      return single("RL.FIXED", name, keys, args, first)
    elseif name == "rl_sliding" then
      return single("RL.SLIDING", name, keys, args, first)
    elseif name == "rl_log" then
      return single("RL.LOG", name, keys, args, first)
    elseif name == "rl_token" then
      return single("RL.TOKEN", name, keys, args, first)
    elseif name == "rl_leaky" then
      return single("RL.LEAKY", name, keys, args, first)
    elseif name == "rl_concurrent" then
      return LIB.concurrent(keys, args, first)
    elseif name == "rl_all" then
      return LIB.all(keys, args, first)
    end
    return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
  end
  -- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
  -- starts afresh: nothing to remember parsed calls in.
  LIB.MEMO_ON = false
  return route(ARGV[1] or "", KEYS, ARGV, 2)
elseif ARGV[1] == "rl_leaky" then
  local route, unit_of, plain_count, parse_plain, parse, read_varint_long, read_varint, varint_str, read_fields, leaky_decode, tagged, reply, rescale_up, leaky_decide, drained, tagged_algorithm, encode, waits_until, evaluate, parsed, server_ms, read_key, apply, arity_error, single, idiv, catching, exact, div_ceil, sub0
  exact = function(v)
    if v >= 9007199254740992 then
      error(LIB.RANGE, 0)
    end
    return v
  end
  idiv = function(a, b)
    return LIB.floor(a / b)
  end
  div_ceil = function(a, b)
    local q = LIB.floor(a / b)
    if q * b ~= a then
      return q + 1
    end
    return q
  end
  sub0 = function(a, b)
    if a > b then
      return a - b
    end
    return 0
  end
  unit_of = function(unit)
    if unit == "" or unit == "ms" then
      return 1, "9223372036854775807"
    elseif unit == "s" then
      return 1000, "9223372036854775"
    elseif unit == "m" then
      return 60000, "153722867280912"
    elseif unit == "h" then
      return 3600000, "2562047788015"
    elseif unit == "d" then
      return 86400000, "106751991167"
    end
    return nil
  end
  plain_count = function(s)
    if #s <= 15 and LIB.match(s, "^[1-9][0-9]*$") then
      return tonumber(s)
    end
    return nil
  end
  parse_plain = function(kind, args, i)
    local n = #args - i + 1
    local tagged_kind = kind == "RL.TOKEN" or kind == "RL.LEAKY"
    if kind == "RL.CONCURRENT" or n ~= (tagged_kind and 3 or 2) then
      return nil
    end
    local first, second = plain_count(args[i]), nil
    local digits, unit = LIB.match(args[i + n - 1], "^([1-9][0-9]*)([a-z]*)$")
    if first == nil or digits == nil or #digits > 15 then
      return nil
    end
    if tagged_kind then
      second = plain_count(args[i + 1])
      if second == nil then
        return nil
      end
    end
    local scale = unit_of(unit)
    if scale == nil then
      return nil
    end
    local span = tonumber(digits) * scale
    if span >= 9007199254740992 then
      return nil
    end
    local request = { cost = 1, peek = false, mode = 1 }
    if tagged_kind then
      return { spec = { kind = kind, capacity = first, rate = second, period = span }, request = request }
    end
    return { spec = { kind = kind, limit = first, window = span }, request = request }
  end
  parse = function(kind, args, i)
    local plain = parse_plain(kind, args, i)
    if plain then
      return plain
    end
    if #args - i + 1 > 16 then
      LIB.fail("ERR syntax error, too many arguments")
    end
    local spec, after = LIB.spec_of(kind, args, i)
    if spec == nil then
      LIB.fail("ERR wrong number of arguments")
    end
    local request = LIB.options_of(args, after)
    LIB.check_exact(spec, request)
    return { spec = spec, request = request }
  end
  read_varint_long = function(s, off, stop)
    local value, scale = 0, 1
    for shift = 0, 126, 7 do
      if off >= stop then
        return nil
      end
      local b = LIB.byte(s, off + 1)
      off = off + 1
      if b < 128 then
        if b == 0 and shift > 0 then
          return nil
        end
        if shift == 126 and b > 3 then
          return nil
        end
        value = value + b * scale
        if value < 9007199254740992 then
          return value, 53, off
        end
        local bits = shift
        while b > 0 do
          bits, b = bits + 1, LIB.floor(b / 2)
        end
        return value, bits, off
      end
      value = value + (b - 128) * scale
      scale = scale * 128
    end
    return nil
  end
  read_varint = function(s, off, stop)
    if stop - off >= 7 then
      local b1, b2, b3, b4, b5, b6, b7 = LIB.byte(s, off + 1, off + 7)
      if b1 < 128 then
        return b1, 53, off + 1
      elseif b2 < 128 then
        if b2 > 0 then
          return b1 - 128 + b2 * 128, 53, off + 2
        end
      elseif b3 < 128 then
        if b3 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + b3 * 16384, 53, off + 3
        end
      elseif b4 < 128 then
        if b4 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + b4 * 2097152, 53, off + 4
        end
      elseif b5 < 128 then
        if b5 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + b5 * 268435456, 53, off + 5
        end
      elseif b6 < 128 then
        if b6 > 0 then
          return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
            + b6 * 34359738368, 53, off + 6
        end
      elseif b7 < 128 and b7 > 0 then
        return b1 - 128 + (b2 - 128) * 128 + (b3 - 128) * 16384 + (b4 - 128) * 2097152 + (b5 - 128) * 268435456
          + (b6 - 128) * 34359738368 + b7 * 4398046511104, 53, off + 7
      end
    end
    return read_varint_long(s, off, stop)
  end
  varint_str = function(v)
    if v < 128 then
      return LIB.char(v)
    end
    local b1 = v % 128
    v = (v - b1) / 128
    if v < 128 then
      return LIB.char(b1 + 128, v)
    end
    local b2 = v % 128
    v = (v - b2) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, v)
    end
    local b3 = v % 128
    v = (v - b3) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, v)
    end
    local b4 = v % 128
    v = (v - b4) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, v)
    end
    local b5 = v % 128
    v = (v - b5) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, v)
    end
    local b6 = v % 128
    v = (v - b6) / 128
    if v < 128 then
      return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, v)
    end
    local b7 = v % 128
    v = (v - b7) / 128
    return LIB.char(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, b7 + 128, v)
  end
  read_fields = function(s, kind, count)
    local n = #s
    local v1, b1, off = read_varint(s, 1, n)
    local v2, b2, v3, b3, v4, b4
    if off then
      v2, b2, off = read_varint(s, off, n)
    end
    if off and count > 2 then
      v3, b3, off = read_varint(s, off, n)
      if off and count > 3 then
        v4, b4, off = read_varint(s, off, n)
      end
    end
    if off ~= n then
      LIB.unreadable(kind)
    end
    return v1, b1, v2, b2, v3, b3, v4, b4
  end
  leaky_decode = function(s)
    if LIB.byte(s, 1) ~= 3 then
      LIB.foreign(s, "RL.LEAKY")
    end
    local rate, rbits, drain, dbits = read_fields(s, "RL.LEAKY", 2)
    if rbits > 63 or rate == 0 then
      LIB.out_of_range("RL.LEAKY")
    end
    if rbits > 53 or dbits > 53 then
      error(LIB.RANGE, 0)
    end
    return { rate = rate, drain = drain }
  end
  tagged = function(tag, a, b, c, d)
    if d then
      return LIB.char(tag) .. varint_str(a) .. varint_str(b) .. varint_str(c) .. varint_str(d)
    elseif c then
      return LIB.char(tag) .. varint_str(a) .. varint_str(b) .. varint_str(c)
    end
    return LIB.char(tag) .. varint_str(a) .. varint_str(b)
  end
  reply = function(allowed, limit, remaining, retry, reset)
    return { allowed and 1 or 0, limit, remaining, retry, reset }
  end
  rescale_up = function(value, from, to)
    if from == to then
      return value
    end
    return div_ceil(exact(value * to), from)
  end
  leaky_decide = function(s, has_ttl, now, p, req)
    if req.mode == 3 then
      return LIB.leaky_refund(s, has_ttl, now, p, req.cost)
    end
    local rate, period = p.rate, p.period
    local now_s = exact(now * rate)
    local drain = now_s
    if s then
      drain = rescale_up(s.drain, s.rate, rate)
    end
    local backlog = sub0(drain, now_s)
    local remaining_now = idiv(sub0(exact(p.capacity * period), backlog), period)
    local fits = req.mode == 2 or req.cost <= remaining_now
    if fits and not req.peek then
      local new_drain = exact(LIB.max(drain, now_s) + exact(req.cost * period))
      return reply(true, p.capacity, sub0(remaining_now, req.cost), drained(backlog, 0, rate), drained(new_drain - now_s, 0, rate)),
        { rate = rate, drain = new_drain }, div_ceil(new_drain, rate)
    end
    local retry
    if fits then
      retry = drained(backlog, 0, rate)
    elseif req.cost > p.capacity then
      retry = -1
    else
      retry = drained(backlog, exact((p.capacity - req.cost) * period), rate)
    end
    local r = reply(fits, p.capacity, remaining_now, retry, drained(backlog, 0, rate))
    if not req.peek and s and not has_ttl then
      return r, { rate = rate, drain = drain }, LIB.max(div_ceil(drain, rate), exact(now + 1))
    end
    return r
  end
  drained = function(backlog, target, rate)
    return div_ceil(sub0(backlog, target), rate)
  end
  tagged_algorithm = function(kind)
    if kind == "RL.SLIDING" then
      return LIB.sliding_decide, LIB.sliding_decode
    elseif kind == "RL.TOKEN" then
      return LIB.token_decide, LIB.token_decode
    end
    return leaky_decide, leaky_decode
  end
  encode = function(kind, state)
    if kind == "RL.FIXED" then
      return LIB.format("%d", state)
    elseif kind == "RL.SLIDING" then
      return tagged(1, state.window, idiv(state.start, state.window), state.prev, state.cur)
    elseif kind == "RL.TOKEN" then
      return tagged(2, state.period, state.at, state.owed)
    end
    return tagged(3, state.rate, state.drain)
  end
  waits_until = function(r, gone_at, now)
    if gone_at then
      local cap = sub0(gone_at, now)
      if r[4] > cap then
        r[4] = cap
      end
      if r[5] > cap then
        r[5] = cap
      end
    end
  end
  evaluate = function(call, bytes, expire_at, now)
    if expire_at and expire_at <= now then
      bytes, expire_at = nil, nil
    end
    if expire_at then
      exact(expire_at)
    end
    local spec, req = call.spec, call.request
    local r, write
    if spec.kind == "RL.LOG" then
      r, write = LIB.log_evaluate(spec, req, bytes, expire_at, now)
    else
      local state, at
      if spec.kind == "RL.FIXED" then
        r, state, at = LIB.fixed_decide(bytes and LIB.fixed_decode(bytes), expire_at, now, spec, req)
      else
        local decide, decode = tagged_algorithm(spec.kind)
        if bytes then
          r, state, at = decide(decode(bytes), expire_at ~= nil, now, spec, req)
        else
          r, state, at = decide(nil, false, now, spec, req)
        end
      end
      if at then
        write = { value = true, bytes = encode(spec.kind, state), expire_at = at }
      end
    end
    waits_until(r, write and write.expire_at or expire_at, now)
    return r, write
  end
  catching = function(f, ...)
    if not LIB.floor then
      LIB.init()
    end
    local ok, a, b = pcall(f, ...)
    if ok then
      return nil, a, b
    end
    if type(a) == "table" and type(a[1]) == "string" then
      return a[1]
    end
    error(a, 0)
  end
  parsed = function(root, parser, args, first, ...)
    local call = LIB.MEMO_ON and LIB.memo_get(root, args, first)
    if call then
      return nil, call
    end
    local e
    e, call = catching(parser, ...)
    if call and LIB.MEMO_ON then
      LIB.memo_put(root, args, first, call)
    end
    return e, call
  end
  server_ms = function()
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
  end
  read_key = function(key)
    local at = redis.pcall("PEXPIRETIME", key)
    if type(at) == "table" then
      if not (at.err and LIB.find(at.err, "nknown")) then
        return nil, nil, at.err or "ERR could not read the key's expiry"
      end
      return LIB.read_key_62(key)
    end
    if at == -2 then
      return nil
    end
    local bytes = redis.pcall("GET", key)
    if type(bytes) == "table" then
      return nil, nil, bytes.err or "ERR could not read the key"
    end
    if not bytes then
      return nil
    end
    if at < 0 then
      return bytes
    end
    return bytes, at
  end
  apply = function(key, write)
    if write.value then
      redis.call("SET", key, write.bytes, "PXAT", LIB.format("%d", write.expire_at))
    else
      redis.call("SETRANGE", key, LIB.format("%d", write.offset), write.bytes)
      if write.expire_at then
        redis.call("PEXPIREAT", key, LIB.format("%d", write.expire_at))
      end
    end
  end
  arity_error = function(command, words, least)
    if words < least then
      return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
    end
  end
  single = function(kind, name, keys, args, first)
    if not LIB.floor then
      LIB.init()
    end
    if #keys ~= 1 then
      return redis.error_reply("ERR " .. name .. " takes one key (numkeys 1)")
    end
    local least = (kind == "RL.TOKEN" or kind == "RL.LEAKY") and 5 or 4
    local short = arity_error(kind, 2 + #args - first + 1, least)
    if short then
      return short
    end
    local e, call = parsed(kind, parse, args, first, kind, args, first)
    if e then
      return redis.error_reply(e)
    end
    local now = server_ms()
    local bytes, expire_at, wrong = read_key(keys[1])
    if wrong then
      return redis.error_reply(wrong)
    end
    local e2, r, write = catching(evaluate, call, bytes, expire_at, now)
    if e2 then
      return redis.error_reply(e2)
    end
    if write then
      apply(keys[1], write)
    end
    return r
  end
  route = function(name, keys, args, first)
    if name == "rl_fixed" then
      return single("RL.FIXED", name, keys, args, first)
    elseif name == "rl_sliding" then
      return single("RL.SLIDING", name, keys, args, first)
    elseif name == "rl_log" then
      return single("RL.LOG", name, keys, args, first)
    elseif name == "rl_token" then
      return single("RL.TOKEN", name, keys, args, first)
    elseif name == "rl_leaky" then
      return single("RL.LEAKY", name, keys, args, first)
    elseif name == "rl_concurrent" then
      return LIB.concurrent(keys, args, first)
    elseif name == "rl_all" then
      return LIB.all(keys, args, first)
    end
    return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
  end
  -- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
  -- starts afresh: nothing to remember parsed calls in.
  LIB.MEMO_ON = false
  return route(ARGV[1] or "", KEYS, ARGV, 2)
elseif ARGV[1] == "rl_concurrent" then
  local route, positive, unit_of, duration, parse_concurrent, reply, lease_walk, next_lease, concurrent_decide, waits_until, concurrent_evaluate, catching, server_ms, arity_error, key_expiry, read_leases, ranks_of, apply_leases, concurrent, exact, sub0, u128_digits, lease_expiry
  exact = function(v)
    if v >= 9007199254740992 then
      error(LIB.RANGE, 0)
    end
    return v
  end
  sub0 = function(a, b)
    if a > b then
      return a - b
    end
    return 0
  end
  u128_digits = function(s)
    local n = #s
    if n == 0 or n > 39 or LIB.find(s, "[^0-9]") then
      return nil
    end
    if LIB.byte(s, 1) ~= 48 then
      if n < 39 then
        return s
      end
    elseif n == 1 then
      return s
    end
    local d = LIB.match(s, "^0*([0-9]*)$")
    if d == "" then
      return "0"
    end
    if #d == 39 and not LIB.dec_le(d, "340282366920938463463374607431768211455") then
      return nil
    end
    return d
  end
  positive = function(arg, name)
    local d = u128_digits(arg)
    if d == nil or d == "0" then
      LIB.fail("ERR " .. name .. " must be a positive integer")
    end
    if #d > 18 and not LIB.dec_le(d, "9223372036854775807") then
      LIB.fail("ERR " .. name .. " must be at most " .. "9223372036854775807")
    end
    return tonumber(d)
  end
  unit_of = function(unit)
    if unit == "" or unit == "ms" then
      return 1, "9223372036854775807"
    elseif unit == "s" then
      return 1000, "9223372036854775"
    elseif unit == "m" then
      return 60000, "153722867280912"
    elseif unit == "h" then
      return 3600000, "2562047788015"
    elseif unit == "d" then
      return 86400000, "106751991167"
    end
    return nil
  end
  duration = function(arg, name)
    local at = LIB.find(arg, "[^0-9]")
    local digits, unit = arg, ""
    if at then
      digits, unit = LIB.sub(arg, 1, at - 1), LIB.lower(LIB.sub(arg, at))
    end
    local scale, most = unit_of(unit)
    if scale == nil then
      LIB.fail("ERR invalid duration '" .. LIB.printable(arg) .. "' for " .. name)
    end
    local d = u128_digits(digits)
    if d == nil then
      LIB.fail("ERR invalid duration '" .. LIB.printable(arg) .. "' for " .. name)
    end
    if d == "0" then
      LIB.fail("ERR " .. name .. " must be at least 1 ms")
    end
    if #d >= #most and not LIB.dec_le(d, most) then
      LIB.fail("ERR " .. name .. " must be at most " .. "9223372036854775807")
    end
    return tonumber(d) * scale
  end
  parse_concurrent = function(args, i)
    local n = #args - i + 1
    if n > 5 then
      LIB.fail("ERR syntax error, too many arguments")
    end
    if n < 3 then
      LIB.fail("ERR wrong number of arguments")
    end
    local limit = positive(args[i], "limit")
    local lease = duration(args[i + 1], "lease")
    local id = args[i + 2]
    if #id == 0 or #id > 256 then
      LIB.fail("ERR id must be 1 to " .. 256 .. " bytes")
    end
    local action = "acquire"
    for k = i + 3, #args do
      local option = args[k]
      local given
      if LIB.upper_is(option, "PEEK") then
        given = "peek"
      elseif LIB.upper_is(option, "RELEASE") then
        given = "release"
      elseif #option <= 6 and LIB.NOT_OPTIONS[LIB.upper(option)] then
        LIB.fail("ERR syntax error, " .. LIB.NOT_OPTIONS[LIB.upper(option)] .. " is not an option of RL.CONCURRENT (a lease is one slot)")
      else
        LIB.fail("ERR syntax error, unknown option '" .. LIB.printable(option) .. "'")
      end
      if action == "acquire" then
        action = given
      elseif action == given then
        LIB.fail("ERR syntax error, " .. LIB.upper(given) .. " given more than once")
      else
        LIB.fail("ERR syntax error, PEEK cannot be combined with RELEASE")
      end
    end
    exact(limit)
    return { limit = limit, lease = lease, action = action }
  end
  lease_expiry = function(score)
    local v = tonumber(score)
    if v == nil or not (v >= 0 and v <= 9007199254740992) or LIB.floor(v) ~= v then
      LIB.fail(("ERR key holds a sorted set that is not RL.CONCURRENT state " .. "(scores must be whole milliseconds from 0 to 2^53)"))
    end
    return v
  end
  reply = function(allowed, limit, remaining, retry, reset)
    return { allowed and 1 or 0, limit, remaining, retry, reset }
  end
  lease_walk = function(found, ranks)
    local w = { ranks = ranks, rank = 0, count = 0, batch = {}, k = 2, size = 4 }
    if found then
      w.count = found.count
      if found.count <= 2 then
        w.batch = found.top
      end
    end
    return w
  end
  next_lease = function(w, want)
    if w.k > #w.batch then
      if w.rank >= w.count then
        return nil
      end
      local size = LIB.max(w.size, want or 0)
      w.batch, w.k = w.ranks(w.rank, LIB.min(w.rank + size, w.count) - 1), 2
      w.size = w.size * 2
      if #w.batch == 0 then
        w.count = w.rank
        return nil
      end
    end
    local score = w.batch[w.k]
    w.k, w.rank = w.k + 2, w.rank + 1
    return lease_expiry(score)
  end
  concurrent_decide = function(walk, s, now, p)
    local expired, first_live = 0, nil
    while true do
      local at = next_lease(walk)
      if at == nil then
        break
      end
      if at > now then
        first_live = at
        break
      end
      expired = expired + 1
    end
    local live = sub0(s.count, expired)
    local own_live = s.own and s.own > now and s.own or nil
    local others_latest = s.latest_other and s.latest_other > now and s.latest_other or nil
    local prune_through = expired > 0 and now or nil
    local function until_(at)
      return at and sub0(at, now) or 0
    end
    local function lease_reply(allowed, live_after, retry, latest)
      return reply(allowed, p.limit, sub0(p.limit, live_after), retry, until_(latest))
    end
    if p.action == "release" then
      if own_live == nil then
        return lease_reply(false, live, 0, others_latest), nil
      end
      return lease_reply(true, sub0(live, 1), 0, others_latest),
        { prune_through = prune_through, expire_at = others_latest,
          expire_moves = others_latest ~= nil and others_latest ~= s.expire_at }
    end
    if own_live or live < p.limit then
      if p.action == "peek" then
        local latest = others_latest
        if own_live and (latest == nil or own_live > latest) then
          latest = own_live
        end
        return lease_reply(true, live, 0, latest), nil
      end
      local live_after = own_live and live or live + 1
      local lease_ends = LIB.min(LIB.max(now + p.lease, now + 1), 9007199254740992)
      local expire_at = others_latest and LIB.max(others_latest, lease_ends) or lease_ends
      local emptied = prune_through ~= nil and expired >= s.count
      return lease_reply(true, live_after, 0, expire_at),
        { prune_through = prune_through, holder_at = lease_ends, expire_at = expire_at,
          expire_moves = emptied or s.expire_at ~= expire_at }
    end
    local must_end = live - p.limit + 1
    local ended, frees_at = 0, nil
    local at = first_live
    while at ~= nil do
      ended = ended + 1
      if ended >= must_end then
        frees_at = at
        break
      end
      at = next_lease(walk, must_end - ended)
    end
    return lease_reply(false, live, until_(frees_at or others_latest), others_latest), nil
  end
  waits_until = function(r, gone_at, now)
    if gone_at then
      local cap = sub0(gone_at, now)
      if r[4] > cap then
        r[4] = cap
      end
      if r[5] > cap then
        r[5] = cap
      end
    end
  end
  concurrent_evaluate = function(call, id, found, ranks, now)
    exact(now)
    local s, gone = { count = 0 }, false
    if found then
      local own = found.own and lease_expiry(found.own)
      local top, latest_other = found.top, nil
      for k = #top - 1, LIB.max(1, #top - 3), -2 do
        if top[k] ~= id then
          latest_other = lease_expiry(top[k + 1])
          break
        end
      end
      if found.expire_at and found.expire_at <= now then
        found, gone = nil, true
      else
        s = { count = found.count, own = own, latest_other = latest_other, expire_at = found.expire_at }
      end
    end
    local r, change = concurrent_decide(lease_walk(found, ranks), s, now, call)
    if change and gone then
      change.prune_through = (- 1)
      change.expire_moves = change.expire_at ~= nil
    end
    local gone_at = s.expire_at
    if change then
      gone_at = change.expire_at
    end
    waits_until(r, gone_at, now)
    return r, change
  end
  catching = function(f, ...)
    if not LIB.floor then
      LIB.init()
    end
    local ok, a, b = pcall(f, ...)
    if ok then
      return nil, a, b
    end
    if type(a) == "table" and type(a[1]) == "string" then
      return a[1]
    end
    error(a, 0)
  end
  server_ms = function()
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
  end
  arity_error = function(command, words, least)
    if words < least then
      return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
    end
  end
  key_expiry = function(key)
    local at = redis.pcall("PEXPIRETIME", key)
    if type(at) == "table" then
      if not (at.err and LIB.find(at.err, "nknown")) then
        return false, at.err or "ERR could not read the key's expiry"
      end
      return LIB.expiry_62(key)
    end
    return true, (at >= 0) and at or nil
  end
  read_leases = function(key, id)
    local count = redis.pcall("ZCARD", key)
    if type(count) == "table" then
      return nil, count.err or "ERR could not read the key"
    end
    if count == 0 then
      return nil
    end
    local own = redis.call("ZSCORE", key, id)
    local top = redis.call("ZRANGE", key, -2, -1, "WITHSCORES")
    local ok, at = key_expiry(key)
    if not ok then
      return nil, at
    end
    return { count = count, own = own or nil, top = top, expire_at = at }
  end
  ranks_of = function(key)
    return function(a, b)
      return redis.call("ZRANGE", key, a, b, "WITHSCORES")
    end
  end
  apply_leases = function(key, id, change)
    if change.prune_through == (- 1) then
      redis.call("ZREMRANGEBYSCORE", key, "-inf", "+inf")
    elseif change.prune_through then
      redis.call("ZREMRANGEBYSCORE", key, "-inf", LIB.format("%d", change.prune_through))
    end
    if change.holder_at then
      redis.call("ZADD", key, LIB.format("%d", change.holder_at), id)
    else
      redis.call("ZREM", key, id)
    end
    if change.expire_at and change.expire_moves then
      redis.call("PEXPIREAT", key, LIB.format("%d", change.expire_at))
    end
  end
  concurrent = function(keys, args, first)
    if not LIB.floor then
      LIB.init()
    end
    if #keys ~= 1 then
      return redis.error_reply("ERR rl_concurrent takes one key (numkeys 1)")
    end
    local short = arity_error("RL.CONCURRENT", 2 + #args - first + 1, 5)
    if short then
      return short
    end
    local e, call = catching(parse_concurrent, args, first)
    if e then
      return redis.error_reply(e)
    end
    local key, id = keys[1], args[first + 2]
    local now = server_ms()
    local found, wrong = read_leases(key, id)
    if wrong then
      return redis.error_reply(wrong)
    end
    local e2, r, change = catching(concurrent_evaluate, call, id, found, ranks_of(key), now)
    if e2 then
      return redis.error_reply(e2)
    end
    if change then
      apply_leases(key, id, change)
    end
    return r
  end
  route = function(name, keys, args, first)
    if name == "rl_fixed" then
      return LIB.single("RL.FIXED", name, keys, args, first)
    elseif name == "rl_sliding" then
      return LIB.single("RL.SLIDING", name, keys, args, first)
    elseif name == "rl_log" then
      return LIB.single("RL.LOG", name, keys, args, first)
    elseif name == "rl_token" then
      return LIB.single("RL.TOKEN", name, keys, args, first)
    elseif name == "rl_leaky" then
      return LIB.single("RL.LEAKY", name, keys, args, first)
    elseif name == "rl_concurrent" then
      return concurrent(keys, args, first)
    elseif name == "rl_all" then
      return LIB.all(keys, args, first)
    end
    return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
  end
  -- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
  -- starts afresh: nothing to remember parsed calls in.
  LIB.MEMO_ON = false
  return route(ARGV[1] or "", KEYS, ARGV, 2)
elseif ARGV[1] == "rl_all" then
  local route, unit_of, duration, options_of, spec_of, check_exact, algorithm, id_option, parse_all, fixed_decode, reply, window_start, fixed_decide, encode, waits_until, evaluate, evaluate_all, parsed, server_ms, read_key, apply, arity_error, all, sub0, positive, distinct, catching, u128_digits, exact
  exact = function(v)
    if v >= 9007199254740992 then
      error(LIB.RANGE, 0)
    end
    return v
  end
  sub0 = function(a, b)
    if a > b then
      return a - b
    end
    return 0
  end
  u128_digits = function(s)
    local n = #s
    if n == 0 or n > 39 or LIB.find(s, "[^0-9]") then
      return nil
    end
    if LIB.byte(s, 1) ~= 48 then
      if n < 39 then
        return s
      end
    elseif n == 1 then
      return s
    end
    local d = LIB.match(s, "^0*([0-9]*)$")
    if d == "" then
      return "0"
    end
    if #d == 39 and not LIB.dec_le(d, "340282366920938463463374607431768211455") then
      return nil
    end
    return d
  end
  positive = function(arg, name)
    local d = u128_digits(arg)
    if d == nil or d == "0" then
      LIB.fail("ERR " .. name .. " must be a positive integer")
    end
    if #d > 18 and not LIB.dec_le(d, "9223372036854775807") then
      LIB.fail("ERR " .. name .. " must be at most " .. "9223372036854775807")
    end
    return tonumber(d)
  end
  unit_of = function(unit)
    if unit == "" or unit == "ms" then
      return 1, "9223372036854775807"
    elseif unit == "s" then
      return 1000, "9223372036854775"
    elseif unit == "m" then
      return 60000, "153722867280912"
    elseif unit == "h" then
      return 3600000, "2562047788015"
    elseif unit == "d" then
      return 86400000, "106751991167"
    end
    return nil
  end
  duration = function(arg, name)
    local at = LIB.find(arg, "[^0-9]")
    local digits, unit = arg, ""
    if at then
      digits, unit = LIB.sub(arg, 1, at - 1), LIB.lower(LIB.sub(arg, at))
    end
    local scale, most = unit_of(unit)
    if scale == nil then
      LIB.fail("ERR invalid duration '" .. LIB.printable(arg) .. "' for " .. name)
    end
    local d = u128_digits(digits)
    if d == nil then
      LIB.fail("ERR invalid duration '" .. LIB.printable(arg) .. "' for " .. name)
    end
    if d == "0" then
      LIB.fail("ERR " .. name .. " must be at least 1 ms")
    end
    if #d >= #most and not LIB.dec_le(d, most) then
      LIB.fail("ERR " .. name .. " must be at most " .. "9223372036854775807")
    end
    return tonumber(d) * scale
  end
  options_of = function(args, i)
    local cost, refund, peek, force
    local n = #args
    while i <= n do
      local name = args[i]
      i = i + 1
      local is_cost, is_refund = LIB.upper_is(name, "COST"), LIB.upper_is(name, "REFUND")
      if is_cost or is_refund then
        local option = is_cost and "COST" or "REFUND"
        if i > n then
          LIB.fail("ERR syntax error, " .. option .. " needs a value")
        end
        local v = positive(args[i], option)
        i = i + 1
        if (is_cost and cost) or (is_refund and refund) then
          LIB.fail("ERR syntax error, " .. option .. " given more than once")
        end
        if is_cost then
          cost = v
        else
          refund = v
        end
      elseif LIB.upper_is(name, "PEEK") then
        if peek then
          LIB.fail("ERR syntax error, PEEK given more than once")
        end
        peek = true
      elseif LIB.upper_is(name, "FORCE") then
        if force then
          LIB.fail("ERR syntax error, FORCE given more than once")
        end
        force = true
      else
        LIB.fail("ERR syntax error, unknown option '" .. LIB.printable(name) .. "'")
      end
    end
    if refund then
      if cost or peek or force then
        LIB.fail("ERR syntax error, REFUND cannot be combined with COST, PEEK or FORCE")
      end
      return { cost = refund, peek = false, mode = 3 }
    end
    if force and peek then
      LIB.fail("ERR syntax error, FORCE cannot be combined with PEEK")
    end
    return { cost = cost or 1, peek = peek or false, mode = force and 2 or 1 }
  end
  spec_of = function(kind, args, i)
    if kind == "RL.CONCURRENT" then
      if #args < i + 1 then
        return nil
      end
      return { kind = kind, limit = positive(args[i], "limit"), lease = duration(args[i + 1], "lease") }, i + 2
    end
    if kind == "RL.TOKEN" or kind == "RL.LEAKY" then
      if #args < i + 2 then
        return nil
      end
      return { kind = kind, capacity = positive(args[i], "capacity"), rate = positive(args[i + 1], "rate"),
        period = duration(args[i + 2], "period") }, i + 3
    end
    if #args < i + 1 then
      return nil
    end
    return { kind = kind, limit = positive(args[i], "limit"), window = duration(args[i + 1], "window") }, i + 2
  end
  check_exact = function(spec, request)
    exact(request.cost)
    if spec.kind == "RL.CONCURRENT" then
      exact(spec.limit)
    elseif spec.limit then
      exact(spec.limit)
      exact(spec.window)
    else
      exact(spec.capacity)
      exact(spec.rate)
      exact(spec.period)
    end
  end
  algorithm = function(s)
    if #s > 10 then
      return nil
    end
    return LIB.ALGORITHMS[LIB.upper(s)]
  end
  distinct = function(names)
    for j = 1, #names do
      for k = j + 1, #names do
        if names[j] == names[k] then
          LIB.fail("ERR RL.ALL keys must be distinct (one limiter per key)")
        end
      end
    end
  end
  id_option = function(args, i)
    local id, rest, n = nil, {}, #args
    while i <= n do
      local word = args[i]
      i = i + 1
      if LIB.upper_is(word, "ID") then
        if i > n then
          LIB.fail("ERR syntax error, ID needs a value")
        end
        local value = args[i]
        i = i + 1
        if #value == 0 or #value > 256 then
          LIB.fail("ERR id must be 1 to " .. 256 .. " bytes")
        end
        if id then
          LIB.fail("ERR syntax error, ID given more than once")
        end
        id = value
      else
        rest[#rest + 1] = word
        if (LIB.upper_is(word, "COST") or LIB.upper_is(word, "REFUND")) and i <= n then
          rest[#rest + 1] = args[i]
          i = i + 1
        end
      end
    end
    return id, rest
  end
  parse_all = function(keys, names, args, i)
    if 2 + keys + #args - i + 1 > 2 + 16 * 5 + 5 then
      LIB.fail("ERR syntax error, too many arguments")
    end
    if keys < 1 or keys > 16 then
      LIB.fail("ERR numkeys must be an integer from 1 to " .. 16 .. " and no more than the keys given")
    end
    local specs, n = {}, #args
    while i <= n do
      local name = args[i]
      local kind = algorithm(name)
      if kind == nil then
        if #specs < keys and not LIB.is_option(name) then
          LIB.fail("ERR unknown algorithm '" .. LIB.printable(name) .. "' in spec " .. (#specs + 1)
            .. " (FIXED, SLIDING, LOG, TOKEN, LEAKY or CONCURRENT)")
        end
        break
      end
      if #specs == keys then
        local extra = 0
        for j = i, n do
          if algorithm(args[j]) then
            extra = extra + 1
          end
        end
        LIB.spec_count(keys, keys + extra)
      end
      local spec, after = spec_of(kind, args, i + 1)
      if spec == nil then
        LIB.spec_count(keys, #specs)
      end
      specs[#specs + 1] = spec
      i = after
    end
    if #specs ~= keys then
      LIB.spec_count(keys, #specs)
    end
    local id, options = id_option(args, i)
    local request = options_of(options, 1)
    if request.mode == 2 then
      LIB.fail("ERR syntax error, FORCE cannot be combined with RL.ALL")
    elseif request.mode == 3 then
      LIB.fail("ERR syntax error, REFUND cannot be combined with RL.ALL")
    end
    local leases = false
    for _, spec in ipairs(specs) do
      leases = leases or spec.kind == "RL.CONCURRENT"
    end
    if leases and id == nil then
      LIB.fail("ERR RL.ALL needs ID id for its CONCURRENT spec (the holder of the lease)")
    elseif id and not leases then
      LIB.fail("ERR syntax error, ID goes only with a CONCURRENT spec")
    end
    distinct(names)
    for _, spec in ipairs(specs) do
      check_exact(spec, request)
    end
    return { specs = specs, request = request, id = id }
  end
  fixed_decode = function(s)
    if #s < 16 and #s > 0 and not LIB.find(s, "[^0-9]") then
      return tonumber(s)
    end
    if LIB.byte(s, 1) == 45 then
      if u128_digits(LIB.sub(s, 2)) then
        local d = u128_digits(LIB.sub(s, 2))
        if #d <= 20 and LIB.dec_le(d, "18446744073709551615") then
          LIB.out_of_range("RL.FIXED")
        end
      end
      LIB.foreign(s, "RL.FIXED")
    end
    local d = u128_digits(s)
    if d == nil then
      if #s > 0 and not LIB.find(s, "[^0-9]") then
        LIB.out_of_range("RL.FIXED")
      end
      LIB.foreign(s, "RL.FIXED")
    end
    if not LIB.dec_le(d, "9223372036854775807") then
      LIB.out_of_range("RL.FIXED")
    end
    return exact(tonumber(d))
  end
  reply = function(allowed, limit, remaining, retry, reset)
    return { allowed and 1 or 0, limit, remaining, retry, reset }
  end
  window_start = function(now, w)
    return now - now % w
  end
  fixed_decide = function(count, expire_at, now, p, req)
    if count and expire_at and expire_at <= now then
      count = nil
    end
    if req.mode == 3 then
      return LIB.fixed_refund(count, expire_at, now, p, req.cost)
    end
    local window_end = exact(window_start(now, p.window) + p.window)
    local used = count or 0
    local until_forgotten = sub0((count and expire_at) or window_end, now)
    local fits = req.mode == 2 or exact(used + req.cost) <= p.limit
    if fits and not req.peek then
      local new_count = exact(used + req.cost)
      return reply(true, p.limit, sub0(p.limit, new_count), 0, window_end - now), new_count, window_end
    end
    local retry = 0
    if not fits then
      retry = req.cost > p.limit and -1 or until_forgotten
    end
    local r = reply(fits, p.limit, sub0(p.limit, used), retry, used == 0 and 0 or until_forgotten)
    if not req.peek and count and expire_at == nil then
      return r, used, window_end
    end
    return r
  end
  encode = function(kind, state)
    if kind == "RL.FIXED" then
      return LIB.format("%d", state)
    elseif kind == "RL.SLIDING" then
      return LIB.tagged(1, state.window, LIB.idiv(state.start, state.window), state.prev, state.cur)
    elseif kind == "RL.TOKEN" then
      return LIB.tagged(2, state.period, state.at, state.owed)
    end
    return LIB.tagged(3, state.rate, state.drain)
  end
  waits_until = function(r, gone_at, now)
    if gone_at then
      local cap = sub0(gone_at, now)
      if r[4] > cap then
        r[4] = cap
      end
      if r[5] > cap then
        r[5] = cap
      end
    end
  end
  evaluate = function(call, bytes, expire_at, now)
    if expire_at and expire_at <= now then
      bytes, expire_at = nil, nil
    end
    if expire_at then
      exact(expire_at)
    end
    local spec, req = call.spec, call.request
    local r, write
    if spec.kind == "RL.LOG" then
      r, write = LIB.log_evaluate(spec, req, bytes, expire_at, now)
    else
      local state, at
      if spec.kind == "RL.FIXED" then
        r, state, at = fixed_decide(bytes and fixed_decode(bytes), expire_at, now, spec, req)
      else
        local decide, decode = LIB.tagged_algorithm(spec.kind)
        if bytes then
          r, state, at = decide(decode(bytes), expire_at ~= nil, now, spec, req)
        else
          r, state, at = decide(nil, false, now, spec, req)
        end
      end
      if at then
        write = { value = true, bytes = encode(spec.kind, state), expire_at = at }
      end
    end
    waits_until(r, write and write.expire_at or expire_at, now)
    return r, write
  end
  evaluate_all = function(specs, founds, now, req, id)
    local replies, writes = {}, {}
    for k, spec in ipairs(specs) do
      local found = founds[k]
      local r, write
      if spec.kind == "RL.CONCURRENT" then
        local lease_call = { limit = spec.limit, lease = spec.lease, action = req.peek and "peek" or "acquire" }
        local change
        r, change = LIB.concurrent_evaluate(lease_call, id, found and found.leases or nil, found and found.ranks, now)
        write = change and { leases = change }
      else
        r, write = evaluate({ spec = spec, request = req }, found and found.bytes, found and found.expire_at, now)
      end
      replies[k] = r
      if write then
        write.index = k
        writes[#writes + 1] = write
      end
    end
    for k, r in ipairs(replies) do
      if r[1] == 0 then
        return { r[1], r[2], r[3], r[4], r[5], k }, {}
      end
    end
    local best, delay = 1, 0
    for k, r in ipairs(replies) do
      if r[3] < replies[best][3] then
        best = k
      end
      if specs[k].kind == "RL.LEAKY" and r[4] > delay then
        delay = r[4]
      end
    end
    local r = replies[best]
    return { r[1], r[2], r[3], delay, r[5], best }, writes
  end
  catching = function(f, ...)
    if not LIB.floor then
      LIB.init()
    end
    local ok, a, b = pcall(f, ...)
    if ok then
      return nil, a, b
    end
    if type(a) == "table" and type(a[1]) == "string" then
      return a[1]
    end
    error(a, 0)
  end
  parsed = function(root, parser, args, first, ...)
    local call = LIB.MEMO_ON and LIB.memo_get(root, args, first)
    if call then
      return nil, call
    end
    local e
    e, call = catching(parser, ...)
    if call and LIB.MEMO_ON then
      LIB.memo_put(root, args, first, call)
    end
    return e, call
  end
  server_ms = function()
    local t = redis.call("TIME")
    return tonumber(t[1]) * 1000 + LIB.floor(tonumber(t[2]) / 1000)
  end
  read_key = function(key)
    local at = redis.pcall("PEXPIRETIME", key)
    if type(at) == "table" then
      if not (at.err and LIB.find(at.err, "nknown")) then
        return nil, nil, at.err or "ERR could not read the key's expiry"
      end
      return LIB.read_key_62(key)
    end
    if at == -2 then
      return nil
    end
    local bytes = redis.pcall("GET", key)
    if type(bytes) == "table" then
      return nil, nil, bytes.err or "ERR could not read the key"
    end
    if not bytes then
      return nil
    end
    if at < 0 then
      return bytes
    end
    return bytes, at
  end
  apply = function(key, write)
    if write.value then
      redis.call("SET", key, write.bytes, "PXAT", LIB.format("%d", write.expire_at))
    else
      redis.call("SETRANGE", key, LIB.format("%d", write.offset), write.bytes)
      if write.expire_at then
        redis.call("PEXPIREAT", key, LIB.format("%d", write.expire_at))
      end
    end
  end
  arity_error = function(command, words, least)
    if words < least then
      return redis.error_reply("ERR wrong number of arguments for '" .. LIB.lower(command) .. "' command")
    end
  end
  all = function(keys, args, first)
    if not LIB.floor then
      LIB.init()
    end
    local short = arity_error("RL.ALL", 2 + #keys + #args - first + 1, 6)
    if short then
      return short
    end
    local e, call = parsed(#keys, parse_all, args, first, #keys, keys, args, first)
    if e == nil and #keys > 1 then
      e = catching(distinct, keys)
    end
    if e then
      return redis.error_reply(e)
    end
    local now = server_ms()
    local founds = {}
    for k, key in ipairs(keys) do
      if call.specs[k].kind == "RL.CONCURRENT" then
        local leases, wrong = LIB.read_leases(key, call.id)
        if wrong then
          return redis.error_reply(wrong)
        end
        founds[k] = { leases = leases or false, ranks = LIB.ranks_of(key) }
      else
        local bytes, expire_at, wrong = read_key(key)
        if wrong then
          return redis.error_reply(wrong)
        end
        founds[k] = bytes and { bytes = bytes, expire_at = expire_at }
      end
    end
    local e2, r, writes = catching(evaluate_all, call.specs, founds, now, call.request, call.id)
    if e2 then
      return redis.error_reply(e2)
    end
    for _, write in ipairs(writes) do
      if write.leases then
        LIB.apply_leases(keys[write.index], call.id, write.leases)
      else
        apply(keys[write.index], write)
      end
    end
    return r
  end
  route = function(name, keys, args, first)
    if name == "rl_fixed" then
      return LIB.single("RL.FIXED", name, keys, args, first)
    elseif name == "rl_sliding" then
      return LIB.single("RL.SLIDING", name, keys, args, first)
    elseif name == "rl_log" then
      return LIB.single("RL.LOG", name, keys, args, first)
    elseif name == "rl_token" then
      return LIB.single("RL.TOKEN", name, keys, args, first)
    elseif name == "rl_leaky" then
      return LIB.single("RL.LEAKY", name, keys, args, first)
    elseif name == "rl_concurrent" then
      return LIB.concurrent(keys, args, first)
    elseif name == "rl_all" then
      return all(keys, args, first)
    end
    return redis.error_reply("ERR the first argument must name a function: rl_fixed, rl_sliding, rl_log, rl_token, rl_leaky, rl_concurrent or rl_all")
  end
  -- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
  -- starts afresh: nothing to remember parsed calls in.
  LIB.MEMO_ON = false
  return route(ARGV[1] or "", KEYS, ARGV, 2)
end

-- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
-- starts afresh: nothing to remember parsed calls in.
LIB.MEMO_ON = false
return LIB.route(ARGV[1] or "", KEYS, ARGV, 2)

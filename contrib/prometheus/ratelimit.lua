-- The ratelimit module's INFO counters for prometheus-redis-exporter (oliver006/redis_exporter),
-- which keeps only the INFO fields on its own lists and drops every ratelimit_* one. Given with
-- `-script` (Debian's 1.45: `-script /usr/share/redis-ratelimit/prometheus/ratelimit.lua`; newer
-- releases: `--script`), the exporter runs it with EVAL at every scrape and exports each
-- returned name/value pair as `redis_script_values{key="ratelimit_..."}`.
--
-- Read-only (INFO alone), so it runs on primaries and replicas, under maxmemory, and on a server
-- without the module (no fields: no values). The values go out as the digit strings INFO
-- prints; the exporter parses them.
local values = {}
for line in string.gmatch(redis.call('INFO', 'ratelimit'), '[^\r\n]+') do
    local name, value = string.match(line, '^(ratelimit_[%w_]+):(%d+)$')
    if name then
        values[#values + 1] = name
        values[#values + 1] = value
    end
end
return values

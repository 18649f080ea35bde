-- wrk-timeline.lua: wrk counts its responses per time bucket, for scripts/zero-downtime --plot.
--
--   WRK_TIMELINE=FILE [WRK_TIMELINE_BUCKET_MS=100] wrk -t1 ... -s scripts/lib/wrk-timeline.lua URL
--
-- Writes FILE at the end of the run: `# bucket_ms N`, then `START_MS OK BAD` a line (START_MS is
-- the bucket's start in ms since the epoch, the clock the script's marks use; BAD = status >= 400,
-- as wrk's non-2xx/3xx). Why here and not by sampling from outside: wrk sees every response, and
-- only one table entry per bucket is kept (10 s at 100 ms: 100 entries), so it stays bounded and
-- cheap. Socket errors never reach Lua; wrk's own summary still counts them.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } wrk_timeline_timespec;
int clock_gettime(int clock, wrk_timeline_timespec *ts);
]]
local CLOCK_REALTIME = 0
local bucket_ms = math.floor(tonumber(os.getenv("WRK_TIMELINE_BUCKET_MS") or "") or 100)
if bucket_ms < 1 then bucket_ms = 100 end
local now = ffi.new("wrk_timeline_timespec")
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   ok, bad = {}, {}
end

function response(status, headers, body)
   ffi.C.clock_gettime(CLOCK_REALTIME, now)
   local ms = tonumber(now.tv_sec) * 1000 + math.floor(tonumber(now.tv_nsec) / 1000000)
   local b = ms - ms % bucket_ms
   if status >= 400 then
      bad[b] = (bad[b] or 0) + 1
   else
      ok[b] = (ok[b] or 0) + 1
   end
end

function done(summary, latency, requests)
   local path = os.getenv("WRK_TIMELINE")
   if not path then return end
   local total_ok, total_bad = {}, {}
   for _, t in ipairs(threads) do
      for b, n in pairs(t:get("ok") or {}) do total_ok[b] = (total_ok[b] or 0) + n end
      for b, n in pairs(t:get("bad") or {}) do total_bad[b] = (total_bad[b] or 0) + n end
   end
   local starts = {}
   for b in pairs(total_ok) do table.insert(starts, b) end
   for b in pairs(total_bad) do if not total_ok[b] then table.insert(starts, b) end end
   table.sort(starts)
   local f = assert(io.open(path .. ".tmp", "w"))
   f:write(string.format("# bucket_ms %d\n", bucket_ms))
   for _, b in ipairs(starts) do
      f:write(string.format("%d %d %d\n", b, total_ok[b] or 0, total_bad[b] or 0))
   end
   f:close()
   assert(os.rename(path .. ".tmp", path))
end

-- swifteats bench: POST /orders at a fixed rate, one prepared body per request.
-- Args: bodies file, rate per second, start (epoch ms), authorization header or "",
-- threads.
-- Each thread takes bodies thread, thread + threads, ...; request n is due at
-- start + n / rate. delay() books the next due slot, request() sends the body booked
-- first; a connection's first request (sent on connect, without delay) is a GET /health.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } swe_timeval;
int gettimeofday(swe_timeval *tv, void *tz);
]]
local tv = ffi.new("swe_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

local threads, counter = {}, 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local bodies, booked, next_n, rate, start, health, post = {}, {}, nil, 1, 0, nil, nil
statuses, late_ms, sent = {}, 0, 0

function init(args)
  rate, start = tonumber(args[2]), tonumber(args[3])
  local headers = { ["Content-Type"] = "application/json" }
  if args[4] ~= nil and args[4] ~= "" then headers["Authorization"] = args[4] end
  local n, threads_n = 0, tonumber(args[5])
  for line in io.lines(args[1]) do
    if n % threads_n == index then table.insert(bodies, { n = n, body = line }) end
    n = n + 1
  end
  next_n = 1
  health = wrk.format("GET", "/health", headers, nil)
  post = function(body) return wrk.format("POST", "/orders", headers, body) end
end

function delay()
  local item = bodies[next_n]
  if item == nil then return 600000 end
  next_n = next_n + 1
  table.insert(booked, item)
  return math.max(0, start + item.n * 1000 / rate - now_ms())
end

function request()
  local item = table.remove(booked, 1)
  if item == nil then return health end
  late_ms = math.max(late_ms, now_ms() - (start + item.n * 1000 / rate))
  sent = sent + 1
  return post(item.body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total, late, parts = 0, 0, {}
  local merged = {}
  for _, thread in ipairs(threads) do
    total = total + thread:get("sent")
    late = math.max(late, thread:get("late_ms"))
    for k, v in pairs(thread:get("statuses")) do merged[k] = (merged[k] or 0) + v end
  end
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s": %d', k, v)) end
  io.write(string.format(
    'SWIFTEATS {"sent": %d, "max_late_ms": %.1f, "statuses": {%s}, "latency_us": {"p50": %d, "p99": %d, "max": %d}, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    total, late, table.concat(parts, ", "), latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end

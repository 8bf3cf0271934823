"""The Lua scripts of :class:`~swifteats.adapters.redis_drivers.RedisDriverIndex`.

Each runs atomically in Redis: no other command sees a driver between its reads and
writes. Keys are named in the comment above each script (see ``redis_drivers`` for what
they hold).
"""

# KEYS: geo, status, shift end, available since. ARGV: longitude, latitude, radius in km.
# Every driver within the radius, nearest first, six values each: [driverId, longitude,
# latitude, status, shift end, available since, …] (a missing value is nil). One round
# trip instead of a GEOSEARCH and then HMGETs that send every id found back to the server.
# The HMGETs go in chunks: Lua's unpack takes a few thousand values at most.
SEARCH = """
local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2],
  'BYRADIUS', ARGV[3], 'km', 'ASC', 'WITHCOORD')
local found = {}
for first = 1, #hits, 1000 do
  local last = math.min(first + 999, #hits)
  local ids = {}
  for i = first, last do ids[#ids + 1] = hits[i][1] end
  local statuses = redis.call('HMGET', KEYS[2], unpack(ids))
  local ends = redis.call('HMGET', KEYS[3], unpack(ids))
  local since = redis.call('HMGET', KEYS[4], unpack(ids))
  for i = first, last do
    local hit, n, j = hits[i], #found, i - first + 1
    found[n + 1] = hit[1]
    found[n + 2] = hit[2][1]
    found[n + 3] = hit[2][2]
    found[n + 4] = statuses[j]
    found[n + 5] = ends[j]
    found[n + 6] = since[j]
  end
end
return found
"""

# KEYS: status, driver→order, order→driver, route end, next route, driver→route. ARGV:
# orderId, then the ranking as one JSON array of strings [driverId, eta, driverId, eta, …]:
# one argument instead of two per candidate, which the client would encode one by one (a
# third of a claim's time). The driver's route end is unknown after such a claim.
CLAIM = """
local held = redis.call('HGET', KEYS[3], ARGV[1])
if held then return {'existing', held} end
local ranked = cjson.decode(ARGV[2])
for i = 1, #ranked, 2 do
  local driver = ranked[i]
  if redis.call('HGET', KEYS[1], driver) == 'available' then
    local claim = driver .. '|' .. ranked[i + 1]
    redis.call('HSET', KEYS[1], driver, 'busy')
    redis.call('HSET', KEYS[2], driver, ARGV[1])
    redis.call('HSET', KEYS[3], ARGV[1], claim)
    redis.call('HSET', KEYS[6], driver, cjson.encode({ARGV[1], ranked[i + 1]}))
    redis.call('HDEL', KEYS[4], driver)
    redis.call('HDEL', KEYS[5], driver)
    return {'new', claim}
  end
end
return false
"""

# A hash field set to a value, or deleted when the value is ''.
SET_OR_DELETE = """
local function set_or_delete(hash, field, value)
  if value == '' then redis.call('HDEL', hash, field)
  else redis.call('HSET', hash, field, value) end
end
"""

# Shared by the route scripts. A route is [orderId, eta, orderId, eta, …] in drop-off order;
# a driver on a route holds its last order and the whole route, each order ``driver|eta``.
ROUTE_FUNCTIONS = (
    SET_OR_DELETE
    + """
local function route_is_free(order_driver, route)
  for i = 1, #route, 2 do
    if redis.call('HEXISTS', order_driver, route[i]) == 1 then return false end
  end
  return true
end
local function take_route(driver_order, order_driver, driver_route, driver, route)
  redis.call('HSET', driver_order, driver, route[#route - 1])
  redis.call('HSET', driver_route, driver, cjson.encode(route))
  for i = 1, #route, 2 do
    redis.call('HSET', order_driver, route[i], driver .. '|' .. route[i + 1])
  end
end
"""
)

# KEYS: status, driver→order, order→driver, route end, next route, driver→route. ARGV:
# driverId, the route as one JSON array [orderId, eta, orderId, eta, …] in drop-off order,
# the route's end as JSON [freeAt epoch seconds, longitude, latitude] or ''. The driver
# holds the route's last order.
CLAIM_ROUTE = (
    ROUTE_FUNCTIONS
    + """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'available' then return 0 end
local route = cjson.decode(ARGV[2])
if not route_is_free(KEYS[3], route) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'busy')
take_route(KEYS[2], KEYS[3], KEYS[6], ARGV[1], route)
redis.call('HDEL', KEYS[5], ARGV[1])
if ARGV[3] == '' then redis.call('HDEL', KEYS[4], ARGV[1])
else redis.call('HSET', KEYS[4], ARGV[1], ARGV[3]) end
return 1
"""
)

# KEYS: status, next route. ARGV: driverId, the next route as JSON or '' (none).
QUEUE_ROUTE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'busy' then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[2], ARGV[1])
else redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
return 1
"""

# KEYS: status, driver→order, geo, order→driver, route end, next route, driver→route,
# available since. ARGV: driverId, orderId, longitude and latitude (both '': it stays
# where it is), now (epoch seconds, or ''). The driver starts its next route when none of
# its orders holds a driver yet (its ETAs count from now), else it is available at the
# door since now.
RELEASE = (
    ROUTE_FUNCTIONS
    + """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] ~= '' then redis.call('GEOADD', KEYS[3], ARGV[3], ARGV[4], ARGV[1]) end
redis.call('HDEL', KEYS[5], ARGV[1])
local queued = redis.call('HGET', KEYS[6], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
if queued then
  local queue = cjson.decode(queued)
  local route = queue['route']
  if route_is_free(KEYS[4], route) then
    take_route(KEYS[2], KEYS[4], KEYS[7], ARGV[1], route)
    if ARGV[5] ~= '' then
      local free_at = tonumber(ARGV[5]) + queue['minutes'] * 60
      redis.call('HSET', KEYS[5], ARGV[1], cjson.encode({free_at, queue['lon'], queue['lat']}))
    end
    return 2
  end
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], 'available')
set_or_delete(KEYS[8], ARGV[1], ARGV[5])
return 1
"""
)

# A driver holding an order is never made available by a registration or a status change:
# the order it holds, if the new status is 'available', else false.
HOLD_FUNCTIONS = (
    SET_OR_DELETE
    + """
local function held_if_made_available(driver_order, driver, status)
  if status ~= 'available' then return false end
  return redis.call('HGET', driver_order, driver)
end
"""
)

# KEYS: geo, status, driver→order, shift end, available since. ARGV: the drivers as one
# JSON array of strings, six per driver: [driverId, status, longitude, latitude, shift end
# (epoch seconds) or '', available since (epoch seconds; '' unless available and known),
# …]. A driver that holds an order and would be made available is left as it was; the
# answer lists them, [driverId, orderId, …].
REGISTER = (
    HOLD_FUNCTIONS
    + """
local drivers = cjson.decode(ARGV[1])
local refused = {}
for i = 1, #drivers, 6 do
  local driver = drivers[i]
  local held = held_if_made_available(KEYS[3], driver, drivers[i + 1])
  if held then
    refused[#refused + 1] = driver
    refused[#refused + 1] = held
  else
    redis.call('GEOADD', KEYS[1], drivers[i + 2], drivers[i + 3], driver)
    redis.call('HSET', KEYS[2], driver, drivers[i + 1])
    set_or_delete(KEYS[4], driver, drivers[i + 4])
    set_or_delete(KEYS[5], driver, drivers[i + 5])
  end
end
return refused
"""
)

# KEYS: status, driver→order, available since. ARGV: driverId, status, now (epoch seconds)
# or ''. Answers {'unknown'} for a driver never registered, {'held', orderId} for one that
# holds an order and would be made available (nothing changed), else {'ok'}; one made
# available (it was not) is available since now.
SET_STATUS = (
    HOLD_FUNCTIONS
    + """
local was = redis.call('HGET', KEYS[1], ARGV[1])
if not was then return {'unknown'} end
local held = held_if_made_available(KEYS[2], ARGV[1], ARGV[2])
if held then return {'held', held} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[2] == 'available' and was ~= 'available' then set_or_delete(KEYS[3], ARGV[1], ARGV[3]) end
return {'ok'}
"""
)

"""The Lua scripts of :class:`~swifteats.adapters.redis_drivers.RedisDriverIndex`.

Each runs atomically in Redis: no other command sees a driver between its reads and
writes. Keys are named in the comment above each script (see ``redis_drivers`` for what
they hold).
"""

# KEYS: status, driver→order, order→driver, route end, next route. ARGV: orderId, then the
# ranking as one JSON array of strings [driverId, eta, driverId, eta, …]: one argument
# instead of two per candidate, which the client would encode one by one (a third of a
# claim's time). The driver's route end is unknown after such a claim.
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
    redis.call('HDEL', KEYS[4], driver)
    redis.call('HDEL', KEYS[5], driver)
    return {'new', claim}
  end
end
return false
"""

# Shared by the route scripts. A route is [orderId, eta, orderId, eta, …] in drop-off order;
# a driver on a route holds its last order, each order holds ``driver|eta``.
ROUTE_FUNCTIONS = """
local function route_is_free(order_driver, route)
  for i = 1, #route, 2 do
    if redis.call('HEXISTS', order_driver, route[i]) == 1 then return false end
  end
  return true
end
local function take_route(driver_order, order_driver, driver, route)
  redis.call('HSET', driver_order, driver, route[#route - 1])
  for i = 1, #route, 2 do
    redis.call('HSET', order_driver, route[i], driver .. '|' .. route[i + 1])
  end
end
"""

# KEYS: status, driver→order, order→driver, route end, next route. ARGV: driverId, the
# route as one JSON array [orderId, eta, orderId, eta, …] in drop-off order, the route's
# end as JSON [freeAt epoch seconds, longitude, latitude] or ''. The driver holds the
# route's last order.
CLAIM_ROUTE = (
    ROUTE_FUNCTIONS
    + """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'available' then return 0 end
local route = cjson.decode(ARGV[2])
if not route_is_free(KEYS[3], route) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'busy')
take_route(KEYS[2], KEYS[3], ARGV[1], route)
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

# KEYS: status, driver→order, geo, order→driver, route end, next route. ARGV: driverId,
# orderId, longitude, latitude, now (epoch seconds, or ''). The driver starts its next
# route when none of its orders holds a driver yet (its ETAs count from now), else it is
# available at the door.
RELEASE = (
    ROUTE_FUNCTIONS
    + """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('GEOADD', KEYS[3], ARGV[3], ARGV[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
local queued = redis.call('HGET', KEYS[6], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
if queued then
  local queue = cjson.decode(queued)
  local route = queue['route']
  if route_is_free(KEYS[4], route) then
    take_route(KEYS[2], KEYS[4], ARGV[1], route)
    if ARGV[5] ~= '' then
      local free_at = tonumber(ARGV[5]) + queue['minutes'] * 60
      redis.call('HSET', KEYS[5], ARGV[1], cjson.encode({free_at, queue['lon'], queue['lat']}))
    end
    return 2
  end
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], 'available')
return 1
"""
)

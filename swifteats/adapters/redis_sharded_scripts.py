"""The Lua scripts of :class:`~swifteats.adapters.redis_sharded.ShardedRedisDriverIndex`.

Every script reads and writes one key (so one cluster slot): KEYS[1] is a driver's record,
a hash with the fields ``status``, ``order`` (held; of a route, the last), ``route``
(``[orderId, eta, …]``), ``route_end``, ``next_route``, ``shift_end``, ``available_since``
(epoch seconds it last became available) and ``region`` (the GEO set that holds its
position). Values are as in ``redis_driver_scripts``.
"""

# A driver holding an order is never made available by a registration or a status change.
# set_or_delete: a field of the record set to a value, or deleted when the value is ''.
_HELD = """
local function set_or_delete(field, value)
  if value == '' then redis.call('HDEL', KEYS[1], field)
  else redis.call('HSET', KEYS[1], field, value) end
end
local function held_if_made_available(status)
  if status ~= 'available' then return false end
  return redis.call('HGET', KEYS[1], 'order')
end
"""

# ARGV: status, region, shift end (epoch seconds) or '', available since (epoch seconds)
# or ''. Answers {'held', orderId} (nothing changed) or {'ok', the region it was in or ''}.
REGISTER = (
    _HELD
    + """
local held = held_if_made_available(ARGV[1])
if held then return {'held', held} end
local old = redis.call('HGET', KEYS[1], 'region') or ''
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'region', ARGV[2])
set_or_delete('shift_end', ARGV[3])
set_or_delete('available_since', ARGV[4])
return {'ok', old}
"""
)

# ARGV: region. Answers {'unknown'} or {'ok', the region it was in}.
MOVE = """
if redis.call('HEXISTS', KEYS[1], 'status') == 0 then return {'unknown'} end
local old = redis.call('HGET', KEYS[1], 'region') or ''
redis.call('HSET', KEYS[1], 'region', ARGV[1])
return {'ok', old}
"""

# ARGV: status, now (epoch seconds) or ''. Answers {'unknown'}, {'held', orderId} (nothing
# changed) or {'ok'}; one made available (it was not) is available since now.
SET_STATUS = (
    _HELD
    + """
local was = redis.call('HGET', KEYS[1], 'status')
if not was then return {'unknown'} end
local held = held_if_made_available(ARGV[1])
if held then return {'held', held} end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[1] == 'available' and was ~= 'available' then set_or_delete('available_since', ARGV[2]) end
return {'ok'}
"""
)

# ARGV: orderId, its route as JSON ([orderId, eta]). Takes an available driver for the
# order ('new'); 'held' if it holds this order already (an attempt whose order claim was
# never written), else false.
CLAIM = """
if redis.call('HGET', KEYS[1], 'order') == ARGV[1] then return 'held' end
if redis.call('HGET', KEYS[1], 'status') ~= 'available' then return false end
redis.call('HSET', KEYS[1], 'status', 'busy', 'order', ARGV[1], 'route', ARGV[2])
redis.call('HDEL', KEYS[1], 'route_end', 'next_route')
return 'new'
"""

# ARGV: the route as JSON, its last orderId, its end as JSON or ''. 1 if the driver was
# available and now holds the route, else 0.
CLAIM_ROUTE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'available' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'busy', 'order', ARGV[2], 'route', ARGV[1])
redis.call('HDEL', KEYS[1], 'next_route')
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'route_end')
else redis.call('HSET', KEYS[1], 'route_end', ARGV[3]) end
return 1
"""

# ARGV: orderId, the route as JSON. Undoes a claim whose order claims were taken by
# someone else: the driver is available again if it still holds exactly that route.
UNCLAIM = """
if redis.call('HGET', KEYS[1], 'order') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'route') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'available')
redis.call('HDEL', KEYS[1], 'order', 'route', 'route_end', 'next_route')
return 1
"""

# ARGV: the next route as JSON, or ''. 1 if the driver is busy (next route set, or dropped when ''),
# else 0.
QUEUE_ROUTE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'busy' then return 0 end
if ARGV[1] == '' then redis.call('HDEL', KEYS[1], 'next_route')
else redis.call('HSET', KEYS[1], 'next_route', ARGV[1]) end
return 1
"""

# ARGV: orderId, new region or '' (stays), now (epoch seconds) or '', '1' when the next
# route's order claims were written for this driver, that next route as read. Answers {0}
# (it does not hold the order), {2, old region} (it started the next route) or {1, old
# region} (it is available since now).
RELEASE = (
    _HELD
    + """
if redis.call('HGET', KEYS[1], 'order') ~= ARGV[1] then return {0} end
local old = redis.call('HGET', KEYS[1], 'region') or ''
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'region', ARGV[2]) end
local queued = redis.call('HGET', KEYS[1], 'next_route')
redis.call('HDEL', KEYS[1], 'route_end', 'next_route')
if queued and ARGV[4] == '1' and queued == ARGV[5] then
  local queue = cjson.decode(queued)
  local route = queue['route']
  redis.call('HSET', KEYS[1], 'order', route[#route - 1], 'route', cjson.encode(route))
  if ARGV[3] ~= '' then
    local free_at = tonumber(ARGV[3]) + queue['minutes'] * 60
    redis.call('HSET', KEYS[1], 'route_end', cjson.encode({free_at, queue['lon'], queue['lat']}))
  end
  return {2, old}
end
redis.call('HDEL', KEYS[1], 'order', 'route')
redis.call('HSET', KEYS[1], 'status', 'available')
set_or_delete('available_since', ARGV[3])
return {1, old}
"""
)

# KEYS: an order's claim. ARGV: the claim written. Deletes it only if it is still that one.
DELETE_IF = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

/**
 * The window update, as one atomic Lua script per (rule, group) and batch. It is a line-by-line
 * port of MemoryWindowStore.applyOne and evaluate() in src/domain/window.ts (read that file for
 * the semantics); test/window-store.int.spec.ts runs both on the same streams and requires
 * identical statuses and firing records.
 *
 * KEYS: 1 window (zset member → event time ms), 2 state (hash: wm, pw:<partition>, sup, fl,
 *       f:<eid>, p:<eid>),
 *       3 samples (list of event JSON, newest first). All three share one hash tag.
 * ARGV: now, kind (t|d|s), W, L, S, N, ordered (1|0), step counts ("5,1"), ttl ms, memberCap,
 *       scanCap, candidateCap, fireRecords, samples, then 5 per event: eid, ts, partition, member,
 *       sample.
 * Returns: { statuses ("a" accepted, "d" duplicate, "l" late, "r" refire), then pairs of
 *            (event index, firing record JSON) }.
 */
export const WINDOW_LUA = `
local w, h, sl = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local kind = ARGV[2]
local W = tonumber(ARGV[3])
local L = tonumber(ARGV[4])
local S = tonumber(ARGV[5])
local N = tonumber(ARGV[6])
local ordered = ARGV[7] == '1'
local steps = {}
for c in string.gmatch(ARGV[8], '%d+') do steps[#steps + 1] = tonumber(c) end
local ttl = tonumber(ARGV[9])
local memberCap = tonumber(ARGV[10])
local scanCap = tonumber(ARGV[11])
local candCap = tonumber(ARGV[12])
local fireCap = tonumber(ARGV[13])
local sampleCap = tonumber(ARGV[14])
local FIRST = 15

local function fmt(n) return string.format('%.0f', n) end

local function flagsOf(member)
  local i = string.find(member, ':', 1, true)
  if not i then return '' end
  return string.sub(member, 1, i - 1)
end

local function valueOf(member)
  local i = string.find(member, '\\t', 1, true)
  if not i then return '' end
  return string.sub(member, i + 1)
end

local function lowerBound(scan, s)
  local lo, hi = 1, #scan + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if scan[mid][1] < s then lo = mid + 1 else hi = mid end
  end
  return lo
end

local function upperBound(scan, s)
  local lo, hi = 1, #scan + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if scan[mid][1] <= s then lo = mid + 1 else hi = mid end
  end
  return lo
end

local function windowFires(scan, left, right)
  if kind == 't' then return (right - left + 1) >= N, nil end
  if kind == 'd' then
    local seen, d = {}, 0
    for i = left, right do
      local v = valueOf(scan[i][2])
      if not seen[v] then seen[v] = true; d = d + 1 end
    end
    return d >= N, d
  end
  local k = #steps
  if ordered then
    local stage, cnt = 1, 0
    for i = left, right do
      if string.sub(flagsOf(scan[i][2]), stage, stage) == '1' then
        cnt = cnt + 1
        if cnt == steps[stage] then
          stage = stage + 1
          cnt = 0
          if stage > k then return true, nil end
        end
      end
    end
    return false, nil
  end
  local counts = {}
  for s = 1, k do counts[s] = 0 end
  for i = left, right do
    local f = flagsOf(scan[i][2])
    for s = 1, k do
      if string.sub(f, s, s) == '1' then counts[s] = counts[s] + 1 end
    end
  end
  for s = 1, k do
    if counts[s] < steps[s] then return false, nil end
  end
  return true, nil
end

local st = redis.call('HMGET', h, 'wm', 'sup')
local wm = tonumber(st[1])
local sup = tonumber(st[2])

local function evaluate(t, prevWm)
  local lo = t
  if sup and sup > t then lo = sup end
  local hi = t + W - 1
  if lo > hi then return nil end
  if kind == 't' and (prevWm == nil or t >= prevWm) then
    if t < lo then return nil end
    local n = redis.call('ZCOUNT', w, fmt(t - W + 1), fmt(t))
    if n < N then return nil end
    local first = redis.call('ZRANGEBYSCORE', w, fmt(t - W + 1), fmt(t), 'WITHSCORES', 'LIMIT', 0, 1)
    return { x = t, f = tonumber(first[2]), n = n }
  end
  local raw = redis.call('ZREVRANGEBYSCORE', w, fmt(hi), fmt(lo - W + 1), 'WITHSCORES', 'LIMIT', 0, scanCap)
  local m = #raw / 2
  local scan = {}
  for i = 1, m do
    local j = m - i + 1
    scan[i] = { tonumber(raw[2 * j]), raw[2 * j - 1] }
  end
  local tried, lastX = 0, nil
  local lastStep = #steps
  for j = 1, #scan do
    local x = scan[j][1]
    if x >= lo and x ~= lastX then
      local candidate = true
      if kind == 's' and ordered and string.sub(flagsOf(scan[j][2]), lastStep, lastStep) ~= '1' then candidate = false end
      if candidate then
        lastX = x
        if kind ~= 't' then
          tried = tried + 1
          if tried > candCap then break end
        end
        local left = lowerBound(scan, x - W + 1)
        local right = upperBound(scan, x) - 1
        local ok, d = windowFires(scan, left, right)
        if ok then return { x = x, f = scan[left][1], n = right - left + 1, d = d } end
      end
    end
  end
  return nil
end

local statuses = {}
local out = { '' }
local changed = false
local pws = {}
local function partitionWm(p)
  if pws[p] == nil then pws[p] = tonumber(redis.call('HGET', h, 'pw:' .. p)) or false end
  return pws[p] or nil
end
local nev = (#ARGV - FIRST + 1) / 5
for i = 0, nev - 1 do
  local b = FIRST + 5 * i
  local eid, t, part, member, sample = ARGV[b], tonumber(ARGV[b + 1]), ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local pwm = partitionWm(part)
  local rec = redis.call('HGET', h, 'f:' .. eid)
  if rec then
    if redis.call('HEXISTS', h, 'p:' .. eid) == 1 then
      statuses[#statuses + 1] = 'd'
    else
      statuses[#statuses + 1] = 'r'
      out[#out + 1] = i
      out[#out + 1] = rec
    end
  elseif pwm and t < pwm - L then
    statuses[#statuses + 1] = 'l'
  elseif redis.call('ZADD', w, 'NX', fmt(t), member) == 0 then
    statuses[#statuses + 1] = 'd'
  else
    if redis.call('ZCARD', w) > memberCap then redis.call('ZPOPMIN', w, 1) end
    local prevWm = wm
    if wm == nil or t > wm then wm = t; changed = true end
    if pwm == nil or t > pwm then
      pws[part] = t
      redis.call('HSET', h, 'pw:' .. part, fmt(t))
    end
    redis.call('LPUSH', sl, sample)
    redis.call('LTRIM', sl, 0, sampleCap - 1)
    local fire = evaluate(t, prevWm)
    statuses[#statuses + 1] = 'a'
    if fire then
      sup = fire.x + S
      changed = true
      local r = { e = eid, x = fire.x, f = fire.f, n = fire.n, c = now, s = redis.call('LRANGE', sl, 0, sampleCap - 1) }
      if fire.d then r.d = fire.d end
      local enc = cjson.encode(r)
      redis.call('HSET', h, 'f:' .. eid, enc)
      local list = {}
      local fl = redis.call('HGET', h, 'fl')
      if fl then for id in string.gmatch(fl, '%S+') do list[#list + 1] = id end end
      list[#list + 1] = eid
      if #list > fireCap then
        local old = table.remove(list, 1)
        redis.call('HDEL', h, 'f:' .. old, 'p:' .. old)
      end
      redis.call('HSET', h, 'fl', table.concat(list, ' '))
      out[#out + 1] = i
      out[#out + 1] = enc
    end
  end
end
if changed then
  redis.call('HSET', h, 'wm', fmt(wm))
  if sup then redis.call('HSET', h, 'sup', fmt(sup)) end
end
if wm then redis.call('ZREMRANGEBYSCORE', w, '-inf', fmt(wm - W - L)) end
redis.call('PEXPIRE', w, ttl)
redis.call('PEXPIRE', h, ttl)
redis.call('PEXPIRE', sl, ttl)
out[1] = table.concat(statuses)
return out
`;

/**
 * Marks firings as published, so a later redelivery of their trigger is an ordinary duplicate.
 * Writes nothing when the state key has expired (a key without a TTL must never appear).
 * KEYS: 1 state hash. ARGV: trigger event ids.
 */
export const MARK_PUBLISHED_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = 0
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[1], 'f:' .. ARGV[i]) == 1 then
    redis.call('HSET', KEYS[1], 'p:' .. ARGV[i], '1')
    n = n + 1
  end
end
return n
`;

/**
 * The window update, as one atomic Lua script per (rule, group) and batch. It is a line-by-line
 * port of MemoryWindowStore.applyOne and evaluate() in src/domain/window.ts (read that file for
 * the semantics); test/window-store.int.spec.ts runs both on the same streams and requires
 * identical statuses and firing records.
 *
 * KEYS: 1 window (zset member → event time ms); 2 state (hash: wm watermark, pw:<partition>
 *       partition watermarks, sup, n member count, lo oldest member time, ex last TTL refresh, fl firing list, f:<eid> firing records,
 *       p:<eid> published marks, s0..s4 sample ring with si its write count). One hash tag.
 * Cost: Lua's redis.call is the expensive part, so state is read once (HMGET) and written once
 * (HSET); per accepted event the script calls only ZADD plus the evaluation's range query.
 * ARGV: now, kind (t|d|s), W, L, S, N, ordered (1|0), step counts ("5,1"), ttl ms, memberCap,
 *       scanCap, candidateCap, fireRecords, samples, ttl refresh ms, then 5 per event: eid, ts, partition, member,
 *       sample.
 * Returns: { statuses ("a" accepted, "d" duplicate, "l" late, "r" refire), then pairs of
 *            (event index, firing record JSON) }.
 */
export const WINDOW_LUA = `
local w, h = KEYS[1], KEYS[2]
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
local refreshMs = tonumber(ARGV[15])
local FIRST = 16

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

-- State, read once: watermark, suppression, firing list, member count, sample ring index, and
-- the watermark of every partition this call's events come from.
local nev = (#ARGV - FIRST + 1) / 5
local fields = { 'wm', 'sup', 'fl', 'n', 'si', 'lo', 'ex' }
local parts, seenPart = {}, {}
for i = 0, nev - 1 do
  local p = ARGV[FIRST + 5 * i + 2]
  if not seenPart[p] then
    seenPart[p] = true
    parts[#parts + 1] = p
    fields[#fields + 1] = 'pw:' .. p
  end
end
local st = redis.call('HMGET', h, unpack(fields))
local wm = tonumber(st[1])
local sup = tonumber(st[2])
local fl = st[3] or ''
local count = tonumber(st[4]) or 0
local si = tonumber(st[5]) or 0
local oldest = tonumber(st[6])
local refreshed = tonumber(st[7])
local pws = {}
for j, p in ipairs(parts) do pws[p] = tonumber(st[7 + j]) end

local function evaluate(t, prevWm, member)
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
  if kind == 's' and ordered and (prevWm == nil or t >= prevWm) and string.sub(flagsOf(member), #steps, #steps) ~= '1' then
    return nil
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
local writes = {}
local ring = {}
local accepted = 0
local forceTtl = false
local flChanged = false

local function fired(eid)
  return fl ~= '' and string.find(' ' .. fl .. ' ', ' ' .. eid .. ' ', 1, true) ~= nil
end

-- The samples newest first: the ring in Redis overlaid with this call's writes.
local function samples()
  local n = si
  if n > sampleCap then n = sampleCap end
  local names = {}
  for k = 0, sampleCap - 1 do names[#names + 1] = 's' .. k end
  local stored = redis.call('HMGET', h, unpack(names))
  local list = {}
  for k = 1, n do
    local idx = (si - k) % sampleCap
    list[#list + 1] = ring[idx] or stored[idx + 1]
  end
  return list
end

for i = 0, nev - 1 do
  local b = FIRST + 5 * i
  local eid, t, part, member, sample = ARGV[b], tonumber(ARGV[b + 1]), ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local pwm = pws[part]
  if fired(eid) then
    local rec = redis.call('HGET', h, 'f:' .. eid)
    if rec and redis.call('HEXISTS', h, 'p:' .. eid) == 0 then
      statuses[#statuses + 1] = 'r'
      out[#out + 1] = i
      out[#out + 1] = rec
    else
      statuses[#statuses + 1] = 'd'
    end
  elseif pwm and t < pwm - L then
    statuses[#statuses + 1] = 'l'
  elseif redis.call('ZADD', w, 'NX', fmt(t), member) == 0 then
    statuses[#statuses + 1] = 'd'
  else
    accepted = accepted + 1
    -- The window key is (re)created by this ZADD: it must get its TTL now, not at the next refresh.
    if count == 0 then forceTtl = true end
    count = count + 1
    if count > memberCap then
      redis.call('ZPOPMIN', w, 1)
      count = count - 1
    end
    local prevWm = wm
    if wm == nil or t > wm then wm = t end
    if oldest == nil or t < oldest then oldest = t end
    if pwm == nil or t > pwm then pws[part] = t; writes['pw:' .. part] = fmt(t) end
    ring[si % sampleCap] = sample
    si = si + 1
    local fire = evaluate(t, prevWm, member)
    statuses[#statuses + 1] = 'a'
    if fire then
      sup = fire.x + S
      local r = { e = eid, x = fire.x, f = fire.f, n = fire.n, c = now, s = samples() }
      if fire.d then r.d = fire.d end
      local enc = cjson.encode(r)
      redis.call('HSET', h, 'f:' .. eid, enc)
      local list = {}
      for id in string.gmatch(fl, '%S+') do list[#list + 1] = id end
      list[#list + 1] = eid
      if #list > fireCap then
        local old = table.remove(list, 1)
        redis.call('HDEL', h, 'f:' .. old, 'p:' .. old)
      end
      fl = table.concat(list, ' ')
      flChanged = true
      out[#out + 1] = i
      out[#out + 1] = enc
    end
  end
end
if accepted > 0 then
  -- Evict only when the oldest member has fallen out of every window a late event could reach.
  if oldest <= wm - W - L then
    count = count - redis.call('ZREMRANGEBYSCORE', w, '-inf', fmt(wm - W - L))
    local first = redis.call('ZRANGE', w, 0, 0, 'WITHSCORES')
    oldest = tonumber(first[2]) or wm
  end
  local hset = { 'wm', fmt(wm), 'n', count, 'si', si, 'lo', fmt(oldest) }
  if sup then hset[#hset + 1] = 'sup'; hset[#hset + 1] = fmt(sup) end
  if flChanged then hset[#hset + 1] = 'fl'; hset[#hset + 1] = fl end
  for k, v in pairs(writes) do hset[#hset + 1] = k; hset[#hset + 1] = v end
  for idx, v in pairs(ring) do hset[#hset + 1] = 's' .. idx; hset[#hset + 1] = v end
  -- TTLs are refreshed at most every refreshMs (they always keep ttl - refreshMs or more).
  if forceTtl or refreshed == nil or now - refreshed >= refreshMs then
    hset[#hset + 1] = 'ex'
    hset[#hset + 1] = fmt(now)
    redis.call('HSET', h, unpack(hset))
    redis.call('PEXPIRE', w, ttl)
    redis.call('PEXPIRE', h, ttl)
  else
    redis.call('HSET', h, unpack(hset))
  end
end
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

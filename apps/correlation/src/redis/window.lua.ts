/**
 * The window update as one atomic Lua script per batch (per window on Redis Cluster, where a
 * script may only touch one slot): it applies every (rule, group) window of the batch in turn.
 * Each window is a line-by-line port of MemoryWindowStore.applyOne and evaluate() in
 * src/domain/window.ts (read that file for the semantics); test/window-store.int.spec.ts runs both
 * on the same streams and requires identical statuses and firing records.
 *
 * Storage per window (both keys under one hash tag, so one cluster slot):
 *   KEYS[2i-1]  a hash: `st` the state (cmsgpack of { wm, sup, ex, si, pw, fe, fp, sc, mm, n, lo }:
 *               watermark, suppression bound, last TTL refresh in processing time, sample count,
 *               partition → watermark, firing trigger ids and their published flags oldest first,
 *               and the members while the window holds at most `inline` of them, sorted by
 *               (score, member bytes): sc scores, mm members); `s0`..`s4` the sample ring (event
 *               JSON); `f:<event id>` the firing records (JSON).
 *   KEYS[2i]    a sorted set (member → event time ms), only once the window outgrew `inline`:
 *               then sc = false, n is its size and lo a lower bound of its oldest score.
 * Cost: what Redis charges a script is its fixed cost per call and per redis.call, plus hashing
 * every byte of every string that enters Lua (Redis hashes whole strings). So the state is small
 * and read once (HGET) and written once (HSET, with the new samples), and samples and firing
 * records never pass through Lua again. A small window costs two or three commands per batch
 * whatever its number of events; a big one adds ZADD and the evaluation's range query per event.
 *
 * ARGV[1]: one MessagePack array (packFlatArray in msgpack.ts; cmsgpack builds the table in C,
 *       where separate arguments each cost a protocol parse, a Lua string and a tonumber) of:
 *       now, memberCap, scanCap, candidateCap, fireRecords, samples, ttl refresh ms, inline,
 *       then R and R rules of 8 (kind t|d|s, W, L, S, N, ordered '1'|'0', step counts "5,1", ttl ms),
 *       then M and M sample texts, then per window: rule index, event count E, and E events of 5
 *       (event id, ts, partition as a string, member, sample index).
 * Returns: one status string per window ("a" accepted, "d" duplicate, "l" late, "r" refire, one
 *          letter per event), then triples (window index, event index, firing record JSON).
 */
export const WINDOW_BATCH_LUA = `
local ARGV = cmsgpack.unpack(ARGV[1])
local now = tonumber(ARGV[1])
local memberCap = tonumber(ARGV[2])
local scanCap = tonumber(ARGV[3])
local candCap = tonumber(ARGV[4])
local fireCap = tonumber(ARGV[5])
local sampleCap = tonumber(ARGV[6])
local refreshMs = tonumber(ARGV[7])
local inlineCap = tonumber(ARGV[8])
local floor, sub, find, fmtf = math.floor, string.sub, string.find, string.format
local tinsert, tremove, byte = table.insert, table.remove, string.byte

local rules = {}
local a = 10
for r = 1, tonumber(ARGV[9]) do
  local steps = {}
  for c in string.gmatch(ARGV[a + 6], '%d+') do steps[#steps + 1] = tonumber(c) end
  rules[r] = {
    kind = ARGV[a], W = tonumber(ARGV[a + 1]), L = tonumber(ARGV[a + 2]), S = tonumber(ARGV[a + 3]),
    N = tonumber(ARGV[a + 4]), ordered = ARGV[a + 5] == '1', steps = steps, ttl = tonumber(ARGV[a + 7]),
  }
  a = a + 8
end
local sampleBase = a
a = a + tonumber(ARGV[a]) + 1

local function fmt(n) return fmtf('%.0f', n) end

local function flagsOf(member)
  local i = find(member, ':', 1, true)
  if not i then return '' end
  return sub(member, 1, i - 1)
end

local function valueOf(member)
  local i = find(member, '\\t', 1, true)
  if not i then return '' end
  return sub(member, i + 1)
end

-- a < b in byte order (a sorted set's order for equal scores; Lua's < would use the locale).
local function bytesBefore(x, y)
  local n = #x
  if #y < n then n = #y end
  for i = 1, n do
    local p, q = byte(x, i), byte(y, i)
    if p ~= q then return p < q end
  end
  return #x < #y
end

-- First index in [i0, i1) whose score is >= s (i1 when none).
local function lowerBound(sc, i0, i1, s)
  local lo, hi = i0, i1
  while lo < hi do
    local mid = floor((lo + hi) / 2)
    if sc[mid] < s then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- First index in [i0, i1) whose score is > s (i1 when none).
local function upperBound(sc, i0, i1, s)
  local lo, hi = i0, i1
  while lo < hi do
    local mid = floor((lo + hi) / 2)
    if sc[mid] <= s then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- True (and the distinct count) when entries left..right satisfy the rule.
local function windowFires(p, mm, left, right)
  if p.kind == 't' then return (right - left + 1) >= p.N, nil end
  if p.kind == 'd' then
    local seen, d = {}, 0
    for i = left, right do
      local v = valueOf(mm[i])
      if not seen[v] then seen[v] = true; d = d + 1 end
    end
    return d >= p.N, d
  end
  local steps = p.steps
  local k = #steps
  if p.ordered then
    local stage, cnt = 1, 0
    for i = left, right do
      if sub(flagsOf(mm[i]), stage, stage) == '1' then
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
    local f = flagsOf(mm[i])
    for s = 1, k do
      if sub(f, s, s) == '1' then counts[s] = counts[s] + 1 end
    end
  end
  for s = 1, k do
    if counts[s] < steps[s] then return false, nil end
  end
  return true, nil
end

-- The windows an accepted event at t belongs to (see evaluate() in window.ts); sc is false when
-- the members are in the sorted set zk, else sc, mm are the members' scores and names.
local function evaluate(p, sup, sc, mm, zk, t, prevWm, member)
  local W = p.W
  local lo = t
  if sup and sup > t then lo = sup end
  local hi = t + W - 1
  if lo > hi then return nil end
  local inOrder = (not prevWm) or t >= prevWm
  if p.kind == 't' and inOrder then
    if t < lo then return nil end
    local n, f
    if sc then
      local left = lowerBound(sc, 1, #sc + 1, t - W + 1)
      n = upperBound(sc, 1, #sc + 1, t) - left
      if n < p.N then return nil end
      f = sc[left]
    else
      n = redis.call('ZCOUNT', zk, fmt(t - W + 1), fmt(t))
      if n < p.N then return nil end
      f = tonumber(redis.call('ZRANGEBYSCORE', zk, fmt(t - W + 1), fmt(t), 'WITHSCORES', 'LIMIT', 0, 1)[2])
    end
    return { x = t, f = f, n = n }
  end
  local lastStep = #p.steps
  if p.kind == 's' and p.ordered and inOrder and sub(flagsOf(member), lastStep, lastStep) ~= '1' then
    return nil
  end
  -- The newest scanCap entries in [lo - W + 1, hi], ascending, as the index range [i0, i1).
  local i0, i1
  if sc then
    i1 = upperBound(sc, 1, #sc + 1, hi)
    i0 = lowerBound(sc, 1, #sc + 1, lo - W + 1)
    if i1 - scanCap > i0 then i0 = i1 - scanCap end
  else
    local raw = redis.call('ZREVRANGEBYSCORE', zk, fmt(hi), fmt(lo - W + 1), 'WITHSCORES', 'LIMIT', 0, scanCap)
    local m = #raw / 2
    sc, mm = {}, {}
    for i = 1, m do
      local j = m - i + 1
      sc[i] = tonumber(raw[2 * j])
      mm[i] = raw[2 * j - 1]
    end
    i0, i1 = 1, m + 1
  end
  local tried, lastX = 0, nil
  for j = i0, i1 - 1 do
    local x = sc[j]
    if x >= lo and x ~= lastX then
      if not (p.kind == 's' and p.ordered and sub(flagsOf(mm[j]), lastStep, lastStep) ~= '1') then
        lastX = x
        if p.kind ~= 't' then
          tried = tried + 1
          if tried > candCap then break end
        end
        local left = lowerBound(sc, i0, i1, x - W + 1)
        local right = upperBound(sc, i0, i1, x) - 1
        local ok, d = windowFires(p, mm, left, right)
        if ok then return { x = x, f = sc[left], n = right - left + 1, d = d } end
      end
    end
  end
  return nil
end

local out = {}
local fires = {}
local sampleNames = {}
for k = 0, sampleCap - 1 do sampleNames[k + 1] = 's' .. k end
local nw = #KEYS / 2
for w = 1, nw do
  local hk, zk = KEYS[2 * w - 1], KEYS[2 * w]
  local p = rules[tonumber(ARGV[a])]
  local nev = tonumber(ARGV[a + 1])
  a = a + 2
  local raw = redis.call('HGET', hk, 'st')
  -- The state, as stored: wm, sup, ex, si, pw, fe, fp, sc, mm, n, lo (see the header).
  local s
  local forceTtl = false
  if raw then
    s = cmsgpack.unpack(raw)
  else
    -- A new window: it must get its TTL now, not at the next refresh.
    s = { false, false, false, 0, {}, {}, {}, {}, {}, 0, false }
    forceTtl = true
  end
  local wm, sup, si, pw, fe, fp, sc, mm, n, lo = s[1], s[2], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11]
  local statuses = nil
  local status1 = nil
  local accepted = 0
  local spilled = false
  local ring = nil
  local stored = nil
  local L = p.L
  for e = 1, nev do
    local eid, t, part, member = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3]
    local sidx = a + 4
    a = a + 5
    local pwm = pw[part]
    local fi = nil
    for q = 1, #fe do
      if fe[q] == eid then fi = q; break end
    end
    local status = nil
    if fi then
      local rec = nil
      if not fp[fi] then rec = redis.call('HGET', hk, 'f:' .. eid) end
      if rec then
        status = 'r'
        fires[#fires + 1] = w - 1
        fires[#fires + 1] = e - 1
        fires[#fires + 1] = rec
      else
        status = 'd'
      end
    elseif pwm and t < pwm - L then
      status = 'l'
    elseif sc then
      for q = 1, #mm do
        if mm[q] == member then status = 'd'; break end
      end
      if not status then
        -- Insert after every entry that sorts at or before (t, member).
        local i, j = 1, #sc + 1
        while i < j do
          local mid = floor((i + j) / 2)
          if sc[mid] < t or (sc[mid] == t and not bytesBefore(member, mm[mid])) then i = mid + 1 else j = mid end
        end
        tinsert(sc, i, t)
        tinsert(mm, i, member)
        if #sc > memberCap then
          tremove(sc, 1)
          tremove(mm, 1)
        end
        if #sc > inlineCap then
          -- Too many members to carry in the state: move them to the sorted set.
          for i = 1, #sc, 500 do
            local args = {}
            for j = i, math.min(i + 499, #sc) do
              args[#args + 1] = fmt(sc[j])
              args[#args + 1] = mm[j]
            end
            redis.call('ZADD', zk, unpack(args))
          end
          n = #sc
          lo = sc[1]
          sc, mm = false, false
          spilled = true
        end
      end
    elseif redis.call('ZADD', zk, 'NX', fmt(t), member) == 0 then
      status = 'd'
    else
      n = n + 1
      if n > memberCap then
        redis.call('ZPOPMIN', zk, 1)
        n = n - 1
      end
      if not lo or t < lo then lo = t end
    end
    if not status then
      status = 'a'
      accepted = accepted + 1
      local prevWm = wm
      if not wm or t > wm then wm = t end
      if not pwm or t > pwm then pw[part] = t end
      if not ring then ring = {} end
      ring[si % sampleCap] = ARGV[sampleBase + tonumber(ARGV[sidx])]
      si = si + 1
      local fire = evaluate(p, sup, sc, mm, zk, t, prevWm, member)
      if fire then
        sup = fire.x + p.S
        -- The samples newest first: the ring in Redis overlaid with this call's writes.
        if not stored then stored = redis.call('HMGET', hk, unpack(sampleNames)) end
        local k = si
        if k > sampleCap then k = sampleCap end
        local list = {}
        for i = 1, k do
          local idx = (si - i) % sampleCap
          list[i] = ring[idx] or stored[idx + 1]
        end
        local r = { e = eid, x = fire.x, f = fire.f, n = fire.n, c = now, s = list }
        if fire.d then r.d = fire.d end
        local enc = cjson.encode(r)
        redis.call('HSET', hk, 'f:' .. eid, enc)
        fe[#fe + 1] = eid
        fp[#fp + 1] = false
        if #fe > fireCap then
          redis.call('HDEL', hk, 'f:' .. tremove(fe, 1))
          tremove(fp, 1)
        end
        fires[#fires + 1] = w - 1
        fires[#fires + 1] = e - 1
        fires[#fires + 1] = enc
      end
    end
    if nev == 1 then
      status1 = status
    else
      if not statuses then statuses = {} end
      statuses[e] = status
    end
  end
  out[w] = status1 or table.concat(statuses)
  if accepted > 0 then
    -- Evict what has fallen out of every window a late event could still reach.
    local cut = wm - p.W - L
    if sc then
      local k = upperBound(sc, 1, #sc + 1, cut) - 1
      if k > 0 then
        local nsc, nmm = {}, {}
        for i = k + 1, #sc do
          nsc[i - k] = sc[i]
          nmm[i - k] = mm[i]
        end
        sc, mm = nsc, nmm
      end
    elseif lo <= cut then
      n = n - redis.call('ZREMRANGEBYSCORE', zk, '-inf', fmt(cut))
      local first = redis.call('ZRANGE', zk, 0, 0, 'WITHSCORES')
      lo = tonumber(first[2]) or wm
    end
    -- TTLs are refreshed at most every refreshMs (they always keep ttl - refreshMs or more).
    local refresh = forceTtl or not s[3] or now - s[3] >= refreshMs
    if refresh then s[3] = now end
    s[1], s[2], s[4], s[8], s[9], s[10], s[11] = wm, sup, si, sc, mm, n, lo
    local hset = { 'st', cmsgpack.pack(s) }
    for idx, v in pairs(ring) do
      hset[#hset + 1] = sampleNames[idx + 1]
      hset[#hset + 1] = v
    end
    redis.call('HSET', hk, unpack(hset))
    if refresh then
      redis.call('PEXPIRE', hk, p.ttl)
      if not sc then redis.call('PEXPIRE', zk, p.ttl) end
    elseif spilled then
      -- The sorted set was created by this call: it expires with the state.
      local left = redis.call('PTTL', hk)
      if left <= 0 then left = p.ttl end
      redis.call('PEXPIRE', zk, left)
    end
  end
end
for i = 1, #fires do out[#out + 1] = fires[i] end
return out
`;

/**
 * Marks firings as published, so a later redelivery of their trigger is an ordinary duplicate.
 * Writes nothing for a window that has expired (a key without a TTL must never appear).
 * KEYS: window hashes. ARGV: per key, the number of event ids, then the trigger event ids.
 */
export const MARK_BATCH_LUA = `
local a = 1
local n = 0
for k = 1, #KEYS do
  local m = tonumber(ARGV[a])
  local raw = redis.call('HGET', KEYS[k], 'st')
  if raw then
    local s = cmsgpack.unpack(raw)
    local fe, fp = s[6], s[7]
    local changed = false
    for i = a + 1, a + m do
      for q = 1, #fe do
        if fe[q] == ARGV[i] and not fp[q] then fp[q] = true; changed = true; n = n + 1 end
      end
    end
    if changed then redis.call('HSET', KEYS[k], 'st', cmsgpack.pack(s)) end
  end
  a = a + m + 1
end
return n
`;

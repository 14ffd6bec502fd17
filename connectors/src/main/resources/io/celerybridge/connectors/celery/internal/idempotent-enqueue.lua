#!lua
-- celery-bridge: mark events done and enqueue their tasks, atomically, for many events per call.
-- Call and reply layout: IdempotentEnqueueScript (its javadoc). Loaded by that class; its SHA-1 is computed from this text.
local ttl = ARGV[1]
local max_depth = tonumber(ARGV[2])
local queues = tonumber(ARGV[3])
if max_depth > 0 then
  for q = 0, queues - 1 do
    local depth = 0
    for b = 1, 4 do depth = depth + redis.call('LLEN', KEYS[q * 4 + b]) end
    if depth >= max_depth then return 'F' .. q end
  end
end
-- Only an enqueue mark ('1') makes a task a duplicate; another decision recorded under the key (a
-- dead letter's) gives way, so a task that gets this far is never dropped for it.
local function claim(key)
  if redis.call('SET', key, '1', 'NX', 'EX', ttl) then return true end
  if redis.call('GET', key) == '1' then return false end
  redis.call('SET', key, '1', 'EX', ttl)
  return true
end
local k = queues * 4
local a = 3
local flags = {}
local conflicts = {}
local marks = {}
local lists = {}
local order = {}
local i = 0
while a < #ARGV do
  i = i + 1
  local members = tonumber(ARGV[a + 1])
  local envelope = a + 2
  local dedup = k + 1
  local list = KEYS[k + 2]
  local first = k + 3
  k = k + 2 + members
  a = a + 2
  flags[i] = '0'
  if claim(KEYS[dedup]) then
    local set = {dedup}
    local mask = {}
    local done = false
    -- A batch whose members were (partly) enqueued by other tasks writes nothing: the sink re-
    -- encodes it without them and sends it again.
    for j = 0, members - 1 do
      if redis.call('GET', KEYS[first + j]) == '1' then mask[j + 1] = '1'; done = true else mask[j + 1] = '0' end
    end
    if done then
      redis.call('DEL', KEYS[dedup])
      flags[i] = 'C'
      conflicts[#conflicts + 1] = table.concat(mask)
    else
      for j = 0, members - 1 do
        redis.call('SET', KEYS[first + j], '1', 'EX', ttl)
        set[#set + 1] = first + j
      end
      marks[i] = set
      local group = lists[list]
      if not group then group = {}; lists[list] = group; order[#order + 1] = list end
      group[#group + 1] = {i, envelope}
      flags[i] = '1'
    end
  end
end
-- One LPUSH per list, in message order: what a stock worker pops first stays first.
for _, list in ipairs(order) do
  local group = lists[list]
  local values = {}
  for j = 1, #group do values[j] = ARGV[group[j][2]] end
  local ok = redis.pcall('LPUSH', list, unpack(values))
  if type(ok) == 'table' and ok.err then
    -- Undo the marks whose tasks could not be pushed, so a retry enqueues them.
    for _, l in ipairs(order) do
      if l == list then break end
      lists[l] = nil
    end
    for _, l in ipairs(order) do
      local g = lists[l]
      if g then for j = 1, #g do for _, key in ipairs(marks[g[j][1]]) do redis.call('DEL', KEYS[key]) end end end
    end
    return redis.error_reply(ok.err)
  end
end
if #conflicts > 0 then return table.concat(flags) .. '|' .. table.concat(conflicts, ',') end
return table.concat(flags)

-- wrk script for bench/run.py's list-driven rows (the mixed workload, random pages).
--   WRK_REQUESTS     the list bench/workload.py wrote: one request a line, tab-separated:
--                    thread, kind, method, role, path, body, then
--   WRK_TOKEN_ADMIN  WRK_TOKEN_SALES   the bearer token sent for each role
--   WRK_TRACK        "1": read each response's X-Request-ID to count answers by kind and
--                    to send an enroll's cancel ("then") only once the enroll answered 201,
--                    and its X-Cache (hit / miss) to count the response cache's hits
-- Each wrk thread takes its own lines and goes round them; every request is built once,
-- in init(). Without WRK_TRACK there is no response() callback (wrk then copies no bodies).
-- The result is one JSON line, as bench/wrk.lua prints, with a "kinds" object added.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local items = {}      -- prebuilt requests: {req = "...", pair = n or nil}
local cancels = {}    -- pair -> prebuilt cancel request
local kind_of = {}    -- request id -> kind
local busy = {}       -- pair -> true while its enroll or cancel is on the way
local queue = {}      -- cancels ready to go
local pos = 0
-- Read in done() through thread:get, which copies flat tables only.
answers = {}          -- kind -> answers
bad = {}              -- kind -> answers not 2xx
skipped = 0           -- enrolls passed over because their pair was still busy
cache = {}            -- "hit" / "miss" -> answers with that X-Cache (the response cache)
hit = {}              -- kind -> answers with X-Cache: hit

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

function init(args)
  local tokens = {ADMIN = os.getenv("WRK_TOKEN_ADMIN"), SALES = os.getenv("WRK_TOKEN_SALES")}
  local mine = tostring(id)
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    local f = split(line)
    if f[1] == mine then
      local kind, method, role, path, body, after = f[2], f[3], f[4], f[5], f[6], f[7]
      local pair = nil
      local rid = "mix." .. kind
      if after ~= "" then
        pair = #items + 1
        rid = "mix.enroll." .. pair
        kind_of[rid] = "enroll"
        local cid = "mix.cancel." .. pair
        kind_of[cid] = "cancel"
        cancels[pair] = wrk.format("POST", after, {
          ["Accept"] = "application/json",
          ["Authorization"] = "Bearer " .. tokens[role],
          ["X-Request-ID"] = cid,
        })
      else
        kind_of[rid] = kind
      end
      local headers = {["Accept"] = "application/json", ["X-Request-ID"] = rid}
      if tokens[role] and tokens[role] ~= "" then
        headers["Authorization"] = "Bearer " .. tokens[role]
      end
      if body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      items[#items + 1] = {req = wrk.format(method, path, headers, body), pair = pair}
    end
  end
end

function request()
  if #items == 0 then
    return wrk.format()  -- wrk's own check of the script, before init()
  end
  if #queue > 0 then
    return table.remove(queue, 1)
  end
  for _ = 1, #items do
    pos = pos % #items + 1
    local item = items[pos]
    if not item.pair then
      return item.req
    end
    if not busy[item.pair] then
      busy[item.pair] = true
      return item.req
    end
    skipped = skipped + 1
  end
  return items[1].req
end

if os.getenv("WRK_TRACK") == "1" then
  function response(status, headers, body)
    local rid = headers["X-Request-ID"] or headers["x-request-id"] or "?"
    local kind = kind_of[rid] or "unknown"
    answers[kind] = (answers[kind] or 0) + 1
    local cached = headers["X-Cache"] or headers["x-cache"]
    if cached then
      cache[cached] = (cache[cached] or 0) + 1
      if cached == "hit" then
        hit[kind] = (hit[kind] or 0) + 1
      end
    end
    if status < 200 or status > 299 then
      bad[kind] = (bad[kind] or 0) + 1
    end
    if kind == "enroll" then
      local pair = tonumber(rid:sub(12))
      if status == 201 then
        queue[#queue + 1] = cancels[pair]
      else
        busy[pair] = nil
      end
    elseif kind == "cancel" then
      busy[tonumber(rid:sub(12))] = nil
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local kinds, total = {}, {}
  local skips = 0
  local hits, misses = 0, 0
  for _, thread in ipairs(threads) do
    skips = skips + (thread:get("skipped") or 0)
    local cached = thread:get("cache") or {}
    hits, misses = hits + (cached.hit or 0), misses + (cached.miss or 0)
    local bad_here = thread:get("bad") or {}
    local hit_here = thread:get("hit") or {}
    for kind, n in pairs(thread:get("answers") or {}) do
      local t = total[kind] or {n = 0, bad = 0, hit = 0}
      t.n, t.bad, t.hit = t.n + n, t.bad + (bad_here[kind] or 0), t.hit + (hit_here[kind] or 0)
      total[kind] = t
    end
  end
  for kind, t in pairs(total) do
    kinds[#kinds + 1] = string.format('"%s": {"n": %d, "bad": %d, "hit": %d}', kind, t.n, t.bad, t.hit)
  end
  -- Latencies are in microseconds.
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "stdev": %.1f, "max": %d, ' ..
    '"p50": %d, "p90": %d, "p99": %d, "p999": %d}, "kinds": {%s}, "skipped": %d, ' ..
    '"response_cache": {"hit": %d, "miss": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(kinds, ", "), skips, hits, misses))
end

-- wrk script: replay prepared requests round robin (file: METHOD \t path \t body \t headers).
-- Usage: wrk ... -s bench/requests.lua URL -- FILE THREADS START
-- Thread k sends requests START+k, START+k+THREADS, ... so runs can continue where
-- the last one stopped instead of repeating requests already answered.
local threads_seen = 0

function setup(thread)
  thread:set("offset", threads_seen)
  threads_seen = threads_seen + 1
end

function init(args)
  requests_ = {}
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local method, path, body, headers = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if method then
      local h = {}
      for pair in headers:gmatch("[^|]+") do
        local name, value = pair:match("^([^:]+): (.*)$")
        if name then h[name] = value end
      end
      if body == "" then body = nil end
      requests_[#requests_ + 1] = wrk.format(method, path, h, body)
    end
  end
  f:close()
  stride_ = tonumber(args[2]) or 1
  index_ = (tonumber(args[3]) or 0) + (tonumber(offset) or 0)
end

function request()
  local r = requests_[(index_ % #requests_) + 1]
  index_ = index_ + stride_
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end

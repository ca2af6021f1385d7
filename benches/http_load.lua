-- wrk script for benches/http_load.rs: POSTs pre-signed interactions, cycling
-- through them, and prints one machine-readable result line when done.
--
--   wrk -t1 -c64 -d15s -s benches/http_load.lua http://ADDR/interactions -- FILE
--
-- FILE holds one request per line: "<signature hex> <timestamp> <JSON body>"
-- (the body is compact JSON, so it has no newline), signed by http_load.rs.

local requests = {}
local next_request = 1

-- Runs in the main state once per thread: each thread starts at its own offset.
local thread_count = 0
function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
end

function init(args)
   local file = assert(io.open(args[1], "r"))
   for line in file:lines() do
      local signature, timestamp, body = line:match("^(%x+) (%d+) (.+)$")
      requests[#requests + 1] = wrk.format("POST", nil, {
         ["Content-Type"] = "application/json",
         ["X-Signature-Ed25519"] = signature,
         ["X-Signature-Timestamp"] = timestamp,
      }, body)
   end
   file:close()
   assert(#requests > 0, "no requests in " .. args[1])
   next_request = (thread_index or 0) * 97 % #requests + 1
end

function request()
   local r = requests[next_request]
   next_request = next_request % #requests + 1
   return r
end

-- Latencies in microseconds. wrk counts a response with status > 399 in
-- errors.status; connect/read/write/timeout are socket errors.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "wrk-result requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end

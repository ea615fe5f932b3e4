-- wrk script for the launch/stop cycle: launch, runner says running (admin
-- PUT), stop.  Step-major order over N workstations per thread, so each
-- workstation's steps happen in order (the in-flight window is far below N).
local N = tonumber(os.getenv("LC_BENCH_N") or "1024")
local thread_no = 0
local counter = 0

function setup(thread)
  thread:set("tid", thread_no)
  thread_no = thread_no + 1
end

function init(args)
  counter = 0
end

local function body(id)
  return '{"id":"' .. id .. '","name":"bench","status":"running","configuration":' ..
         '{"cpuCores":1,"memoryGB":1,"gpu":null,"storageGB":1,"region":"r"}}'
end

function request()
  local k = counter % N
  local step = math.floor(counter / N) % 3
  counter = counter + 1
  local id = "bench-" .. tid .. "-" .. k
  if step == 0 then
    return wrk.format("POST", "/workstations/" .. id .. "/launch")
  elseif step == 1 then
    return wrk.format("PUT", "/lifecycle/v1/resources/workstation/" .. id,
                      { ["Content-Type"] = "application/json" }, body(id))
  else
    return wrk.format("POST", "/workstations/" .. id .. "/stop")
  end
end

local non2xx = 0
function response(status, headers, body)
  if status >= 300 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non2xx_hint %d\n", summary.errors.status))
end

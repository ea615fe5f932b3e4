-- wrk script for the launch/stop cycle: launch, runner says running (admin
-- PUT), stop.  Step-major order over N workstations per thread, so each
-- workstation's steps happen in order (the in-flight window is far below N).
local N = tonumber(os.getenv("LC_BENCH_N") or "1024")
local auth = "Bearer " .. (os.getenv("LC_TOKEN") or "")
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
    return wrk.format("POST", "/workstations/" .. id .. "/launch", { Authorization = auth })
  elseif step == 1 then
    return wrk.format("PUT", "/lifecycle/v1/resources/workstation/" .. id,
                      { ["Content-Type"] = "application/json", Authorization = auth }, body(id))
  else
    return wrk.format("POST", "/workstations/" .. id .. "/stop", { Authorization = auth })
  end
end


-- wrk script for the launch/stop cycle: launch, the runner reports it
-- running (POST .../report), stop.  Step-major order over N workstations per thread, so each
-- workstation's steps happen in order (the in-flight window is far below N).
local N = tonumber(os.getenv("LC_BENCH_N") or "1024")
-- LC_BENCH_PREFIX: another set of workstations (bench-<prefix><thread>-<k>),
-- for a run whose ids must not meet another's (two servers at once, or the
-- same database again).
local prefix = os.getenv("LC_BENCH_PREFIX") or ""
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

function request()
  local k = counter % N
  local step = math.floor(counter / N) % 3
  counter = counter + 1
  local id = "bench-" .. prefix .. tid .. "-" .. k
  if step == 0 then
    return wrk.format("POST", "/workstations/" .. id .. "/launch", { Authorization = auth })
  elseif step == 1 then
    return wrk.format("POST", "/lifecycle/v1/resources/workstation/" .. id .. "/report",
                      { ["Content-Type"] = "application/json", Authorization = auth },
                      '{"status":"running"}')
  else
    return wrk.format("POST", "/workstations/" .. id .. "/stop", { Authorization = auth })
  end
end


-- wrk script: GET one workstation, each request with another token from a
-- file (more tokens than the verification cache has slots), so most requests
-- pay the Ed25519 signature check.
local tokens = {}
for line in io.lines(os.getenv("LC_TOKENS_FILE")) do tokens[#tokens + 1] = line end
local i = 0

function request()
  i = i + 1
  return wrk.format("GET", "/workstations/ws-bench",
                    { Authorization = "Bearer " .. tokens[(i % #tokens) + 1] })
end

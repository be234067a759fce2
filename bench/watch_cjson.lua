-- The floor for bench/watch.lua: reads a watch stream (curl's output) from
-- stdin, decodes each line with lua-cjson, and prints the MODIFIED events per
-- second, timed the same way (first MODIFIED event to the Nth).
--   curl ...?watch=true | lua watch_cjson.lua N
local cjson = require "cjson"
local core = require "kube.core" -- only for its monotonic clock

local n = assert(tonumber(arg[1]), "usage: watch_cjson.lua N")
local seen, first_at = 0, nil
for line in io.lines() do
  local event = cjson.decode(line)
  if event.type == "MODIFIED" then
    seen = seen + 1
    if seen == 1 then first_at = core.monotonic() end
    if seen == n then break end
  end
end
local ended_at = core.monotonic()
assert(seen == n, ("got %d MODIFIED events of %d"):format(seen, n))
local elapsed = ended_at - first_at
print(("%.0f"):format((n - 1) / elapsed))

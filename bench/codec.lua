-- JSON -> Lua decode and Lua -> JSON encode of a list file, this module's
-- public codec (kube.json) against lua-cjson, in one process. Prints one line per measure:
--   decode <kube ms> <cjson ms>
--   encode <kube ms> <cjson ms>
-- lua codec.lua FILE RUNS
local json = require "kube.json"
local cjson = require "cjson"
local f = assert(io.open(arg[1], "rb"))
local text = f:read("*a")
f:close()
local runs = tonumber(arg[2]) or 5

-- os.clock is CPU time: right for single-threaded decode/encode work.
local function median_ms(fn)
  local times = {}
  for i = 1, runs do
    collectgarbage("collect")
    local t0 = os.clock()
    fn()
    times[i] = (os.clock() - t0) * 1000
  end
  table.sort(times)
  return times[math.floor((runs + 1) / 2)]
end

local kube_obj, cjson_obj = json.decode(text), cjson.decode(text)
assert(#kube_obj.items == #cjson_obj.items)
print(string.format("decode %.1f %.1f", median_ms(function() json.decode(text) end),
  median_ms(function() cjson.decode(text) end)))
print(string.format("encode %.1f %.1f", median_ms(function() json.encode(kube_obj) end),
  median_ms(function() cjson.encode(cjson_obj) end)))

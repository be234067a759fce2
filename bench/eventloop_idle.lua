-- Idle cost of waiting in an event loop: an informer and a watch open in a luv loop
-- for 5 s with nothing happening (CPU % of one core, from /proc/self/stat), and the cost
-- of draining a handle that has nothing (w:next(0), store:sync(0)).
--   lua5.4 bench/eventloop_idle.lua
local uv = require "luv"
local kl = require "kube.luv"
local core = require "kube.core"
local api = require "kube.api"
local config = require "kube.config"
local srv = require("kube.testing").start {}
local client = api.Client:new(config.from_kube_config(srv.kubeconfig))
local cms = client:corev1():configmaps("default")
cms:create { metadata = { name = "idle" } }

local function cpu_seconds()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("*a"); f:close()
  local fields = {}
  for x in stat:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  -- utime and stime are fields 14 and 15 of the whole line (12 and 13 after "pid (comm)").
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

local store = cms:informer()
store:sync(2)
local w = cms:watch()
while w:next(0.5) do end

local n = 100000
local t0 = core.monotonic()
for _ = 1, n do w:next(0) end
local drain_watch = (core.monotonic() - t0) / n * 1e6
t0 = core.monotonic()
for _ = 1, n / 10 do store:sync(0) end
local drain_sync = (core.monotonic() - t0) / (n / 10) * 1e6

-- 5 s idle in the loop: the watch waits through kube.luv (poll on the eventfd).
local cpu0, wall0 = cpu_seconds(), core.monotonic()
kl.run(function()
  local kind = w:next(5)
  assert(kind == nil, "nothing should happen")
end)
uv.run()
local cpu = cpu_seconds() - cpu0
local wall = core.monotonic() - wall0
print(("idle: a watch + an informer waiting %.1f s in a luv loop used %.2f%% of a core"):format(wall, cpu / wall * 100))
print(("drain with nothing there: w:next(0) %.2f us, store:sync(0) %.2f us"):format(drain_watch, drain_sync))
w:close(); store:close()
srv.stop()

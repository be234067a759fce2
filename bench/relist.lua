-- A watch's initial list against a plain list of the same pods, in one process:
-- seconds from `list()` to its answer, and from `watch()` to its Nth ADDED
-- (the watch lists in pages of 500 first). Alternates ROUNDS times after a
-- warm-up call and prints the medians:  list_s watch_s
--   lua relist.lua KUBECONFIG N [ROUNDS]
local config = require "kube.config"
local api = require "kube.api"
local core = require "kube.core"

local kubeconfig = arg[1]
local n = assert(tonumber(arg[2]), "usage: relist.lua KUBECONFIG N [ROUNDS]")
local rounds = tonumber(arg[3]) or 3
local pods = api.Client:new(config.from_kube_config(kubeconfig), true):corev1():pods("bench")
assert(pods:get("web-000001"), "the bench pods are not seeded")

local function median(t)
  table.sort(t)
  return t[math.ceil(#t / 2)]
end

local lists, watches = {}, {}
for _ = 1, rounds do
  collectgarbage()
  local t0 = core.monotonic()
  local list = pods:list()
  lists[#lists + 1] = core.monotonic() - t0
  assert(#list.items == n, ("listed %d pods, not %d"):format(#list.items, n))
  list = nil -- luacheck: ignore
  collectgarbage()
  t0 = core.monotonic()
  local added = 0
  local w = pods:watch(nil, { timeout = 120 })
  for kind in w do
    if kind == "ADDED" then added = added + 1 end
    if added == n then break end
  end
  watches[#watches + 1] = core.monotonic() - t0
  w:close()
  assert(added == n, ("the watch reported %d ADDED, not %d"):format(added, n))
end
print(("%.4f %.4f"):format(median(lists), median(watches)))

-- Memory over many requests (kept out of CI: it runs for minutes).
--   . scripts/env.sh 5.4 && lua5.4 scripts/soak.lua [requests] [report_every]
-- Starts the stand-in server, sends GETs (a small object, a list, a 404, and
-- a create/delete pair in turn) on one client and prints the process's
-- resident memory every `report_every` requests, then the growth between
-- the first report and the last. Bounded by the request count; only the
-- loopback server is contacted.
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local testing = require "kube.testing"

local total = tonumber(arg[1]) or 1000000
local every = tonumber(arg[2]) or 50000

local function rss_kib()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s+(%d+)"))
end

local srv = testing.start { seed = "spec/fixtures/seed.yaml" }
local conf = config.from_kube_config(srv.kubeconfig)
local client = api.Client:new(conf)
local pods = client:corev1():pods("kube-system")
local cms = client:corev1():configmaps("default")

local t0 = core.monotonic()
local first, last
for i = 1, total do
  local step = i % 5
  local code
  if step == 0 then
    code = select(3, pods:get())
  elseif step == 1 then
    code = select(3, client:corev1():namespaces():get("default"))
  elseif step == 2 then
    code = select(3, cms:get("missing"))
  elseif step == 3 then
    code = select(3, cms:create { metadata = { name = "soak" }, data = { i = tostring(i) } })
  else
    code = select(3, cms:delete("soak"))
  end
  assert(code and code < 500, "request " .. i .. " failed: " .. tostring(code))
  if i % every == 0 then
    collectgarbage()
    local rss = rss_kib()
    first = first or rss
    last = rss
    print(("%9d requests  %7.1f s  rss %6d KiB  lua heap %6d KiB"):format(i, core.monotonic() - t0, rss,
      math.floor(collectgarbage("count"))))
    io.stdout:flush()
  end
end
srv.stop()
if first then
  print(("rss growth from the first report to the last: %d KiB over %d requests (%.1f req/s)"):format(
    last - first, total - every, total / (core.monotonic() - t0)))
end

-- Smoke test of an installed binary rock (scripts/ci.d/10-binary-rocks.sh):
-- starts kube-testserver ($KUBE_TESTSERVER) and talks to it over HTTPS with
-- luakube's calls, a watch and kube.json. Prints "rock smoke ok: <Lua>".
-- lua rock-smoke.lua TREE   (TREE: where the rock was installed; kube.core must load from it)
local tree = assert(arg[1], "usage: rock-smoke.lua TREE")
local core = require "kube.core"
assert(core.native_path, "kube.core did not come from the binary rock's loader")
assert(core.native_path:sub(1, #tree) == tree, "native module loaded from " .. core.native_path)
local abi = jit and "lua51" or _VERSION:gsub("Lua (%d)%.(%d)", "lua%1%2")
assert(core.native_path:find("core_" .. abi .. ".so", 1, true), core.native_path)

local testing = require "kube.testing"
local config = require "kube.config"
local api = require "kube.api"
local json = require "kube.json"

local srv = testing.start {}
local ok, err = pcall(function()
  assert(srv.url:find("^https://127%.0%.0%.1:%d+$"), srv.url)
  local conf = config.from_kube_config(srv.kubeconfig)
  local client = api.Client:new(conf)
  local cms = client:corev1():configmaps("default")
  local cm, msg, code = cms:create({ metadata = { name = "rock-smoke" }, data = { lua = _VERSION } })
  assert(code == 201, "create: " .. tostring(code) .. " " .. tostring(msg))
  local got, _, code_get = cms:get("rock-smoke")
  assert(code_get == 200 and got.data.lua == _VERSION, "get: " .. tostring(code_get))
  local names = {}
  for _, item in ipairs(cms:get()) do names[item:name()] = true end
  assert(names["rock-smoke"], "list does not hold the new ConfigMap")
  local w = cms:watch({ resourceVersion = cm.metadata.resourceVersion }, { timeout = 5 })
  cms:delete("rock-smoke")
  local seen
  for event, obj in w do
    if event == "DELETED" and obj:name() == "rock-smoke" then seen = true; break end
  end
  assert(seen, "watch: no DELETED event")
  local missing, _, code404 = cms:get("nope")
  assert(code404 == 404 and missing.reason == "NotFound", "404: " .. tostring(code404))
  -- kube.json
  local doc = json.decode('{"a":[],"b":null,"c":[1,2.5,"x"]}')
  assert(doc.b == json.null and json.encode(doc.a) == "[]" and doc.c[2] == 2.5)
  assert(not pcall(json.decode, "{"))
end)
srv.stop()
if not ok then error(err, 0) end
print(("rock smoke ok: %s (%s)"):format(jit and jit.version or _VERSION, core.native_path))

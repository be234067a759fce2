-- Differential runner: executes one list of calls through one implementation
-- in mock mode and records what each call did.
--
--   lua5.4 run.lua luakube CALLS_OUT RECORDS_OUT   generates the calls from luakube's
--                                                  own tables, then runs them there
--   lua5.4 run.lua module  CALLS_IN  RECORDS_OUT   runs the same calls through this module
--
-- package.path decides which `kube.*` is loaded (scripts/ci.d/30-differential.sh sets it).
-- A record holds: whether the call raised; the requests it sent (method, URL,
-- headers without Authorization and Content-Length, the body as decoded JSON);
-- the type, reachable object methods and value of each return.
local impl, calls_path, records_path = arg[1], arg[2], arg[3]
assert(impl == "luakube" or impl == "module", "usage: run.lua luakube|module CALLS RECORDS")
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local common = require "common"
local cjson = require "cjson"

local api = require "kube.api"
local config = require "kube.config"
local objects = require "kube.api.objects"
local unpack = table.unpack or unpack

local SERVER = "https://10.0.0.1:6443"
local KUBECONFIG = here .. "/kubeconfig.yaml"

local function pack(...) return { n = select("#", ...), ... } end

-- ---------------------------------------------------------------- requests seen
local captured

-- luakube: its mock transport, recording what raw_call hands it.
local ltn12 = impl == "luakube" and require "ltn12"
local recording_https = {
  request = function(p)
    local body
    if p.source then
      local chunks = {}
      ltn12.pump.all(p.source, (ltn12.sink.table(chunks)))
      body = table.concat(chunks)
    end
    captured[#captured + 1] = { method = p.method or "GET", url = p.url, headers = p.headers, body = body }
    ltn12.pump.all(ltn12.source.string('{"items": []}'), p.sink)
    return true, 200, ""
  end,
}

-- this module: mock mode sends nothing; `info` (the second return) is the request.
local core = impl == "module" and require "kube.core"
local function from_info(rets)
  for i = 1, math.min(rets.n, 3) do
    local info = rets[i]
    if type(info) == "table" and type(info.url) == "string" and info.method ~= nil and info.headers then
      local body = info.body
      if type(body) == "table" then body = core.json_encode(body) end
      return { method = info.method, url = info.url, headers = info.headers, body = body }
    end
  end
end

local function normal_request(r)
  local headers = {}
  for k, v in pairs(r.headers or {}) do
    local name = tostring(k):lower()
    if name ~= "authorization" and name ~= "content-length" then headers[name] = tostring(v) end
  end
  local body = r.body
  if type(body) == "string" then
    local ok, decoded = pcall(cjson.decode, body)
    if ok then body = { json = decoded } else body = { raw = body } end
  end
  return { method = tostring(r.method), url = r.url, headers = headers, body = body }
end

-- --------------------------------------------------------------------- configs
local function own_config()
  -- A config object of the script's own: luakube's Client:new only calls these.
  return {
    server_addr = function() return SERVER end,
    headers = function()
      return { authorization = "Bearer own-token", ["Impersonate-User"] = "jane", ["X-Trace"] = "t-1" }
    end,
    cert = function() return nil end,
    key = function() return nil end,
  }
end

local function make_config(variant)
  if variant == "kubeconfig" or variant == nil then return config.from_kube_config(KUBECONFIG) end
  if variant == "kubeconfig_merge" then return config.from_kube_config(KUBECONFIG, "merged") end
  if variant == "new_fields" then return config.Config:new { addr_ = SERVER, token_ = "tok-fields" } end
  if variant == "new_empty" then return config.Config:new {} end
  if variant == "new_nil" then return config.Config:new() end
  if variant == "own" then return own_config() end
  if variant == "from_token" then return config.from_token("tok-static") end
  error("unknown config variant " .. tostring(variant))
end

local function new_client(call)
  local c = api.Client:new(make_config(call.conf), false, true)
  if impl == "luakube" then c.https_ = recording_https end
  return c
end

-- The object a call is made on.
local function target(call)
  local c = new_client(call)
  if call.level == "client" then return c end
  local g = c[call.group](c)
  if call.level == "group" then return g end
  local rc = g[call.res](g, unpack(call.ns, 1, call.ns.n))
  if call.level == "resource" then return rc end
  if call.level == "ephemeral" then return rc:ephemeralcontainers(call.pod) end
  error("unknown level " .. call.level)
end

-- ------------------------------------------------------------- describing values
local object_methods -- every method name luakube's object classes have (set by the generator)

local function describe(v)
  local t = type(v)
  -- clients are userdata here and tables in luakube: a representation, not a
  -- difference (what they can do is compared by the `reach` calls)
  if t == "userdata" then t = "table" end
  local d = { type = t }
  if t == "table" then
    d.methods = common.methods(v, object_methods)
  elseif t ~= "function" and t ~= "userdata" and t ~= "thread" then
    d.value = v
  end
  return d
end

local function data_of(v, depth)
  -- plain data of a return (for config and object calls): tables copied
  depth = depth or 0
  if type(v) ~= "table" then
    if type(v) == "function" or type(v) == "userdata" then return "<" .. type(v) .. ">" end
    return v
  end
  if depth > 6 then return "<deep>" end
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" or type(k) == "number" then out[k] = data_of(x, depth + 1) end
  end
  return out
end

-- ---------------------------------------------------------------------- running
local function run_one(call)
  captured = {}
  local rets
  local ok, err = pcall(function()
    if call.level == "construct" then
      local c = new_client(call)
      local g = c[call.group](c)
      rets = pack(g[call.res](g, unpack(call.ns, 1, call.ns.n)))
      rets = pack(type(rets[1]) == "userdata" and "table" or type(rets[1]))
      return
    end
    if call.level == "reach" then
      local obj = target(call.target)
      rets = pack(common.methods(obj, call.names))
      return
    end
    if call.level == "config" then
      local conf = make_config(call.conf)
      local r = pack(conf[call.method](conf, unpack(call.args, 1, call.args.n)))
      if call.after then r = pack(conf[call.after](conf)) end
      rets = pack(data_of(r[1]), data_of(r[2]))
      return
    end
    if call.level == "objects" then
      local cls = objects[call.class]
      local o = cls:new(data_of(call.sample))
      local r = pack(o[call.method](o, unpack(call.args, 1, call.args.n)))
      rets = pack(data_of(r[1]), data_of(o))
      return
    end
    if call.level == "objects_fn" then
      local r = objects[call.method](data_of(call.sample))
      local shapes = {}
      for i, item in ipairs(r) do shapes[i] = { methods = common.methods(item, object_methods), data = data_of(item) } end
      rets = pack(shapes)
      return
    end
    if call.level == "script" then
      local env = setmetatable({ client = new_client(call), config = config, api = api, SERVER = SERVER }, { __index = _G })
      local chunk = assert((loadstring or load)(call.code, "script", "t", env))
      if setfenv then setfenv(chunk, env) end
      local r = pack(chunk())
      if impl == "module" then
        local req = from_info(r)
        if req then captured[#captured + 1] = req end
      end
      rets = pack(describe(r[1]), data_of(r[1]), r[2] and type(r[2]) or nil)
      if call.cleanup then assert((loadstring or load)(call.cleanup, "cleanup", "t", env))() end
      return
    end
    local obj = target(call)
    rets = pack(obj[call.method](obj, unpack(call.args, 1, call.args.n)))
  end)
  local rec = { id = call.id }
  if not ok then
    rec.raised = tostring(err):sub(1, 300)
    if call.cleanup then pcall(function() end) end
  end
  if impl == "module" and rets and call.level ~= "script" then
    local r = from_info(rets)
    if r then captured[#captured + 1] = r end
  end
  rec.requests = {}
  for i, r in ipairs(captured) do rec.requests[i] = normal_request(r) end
  if rets then
    local simple = call.level == "construct" or call.level == "reach" or call.level == "config"
      or call.level == "objects" or call.level == "objects_fn"
    if simple then
      rec.returns = { n = rets.n, rets[1], rets[2], rets[3] }
    elseif call.level == "script" then
      rec.returns = { n = rets.n, rets[1], rets[2], rets[3] }
    else
      rec.returns = { n = math.min(rets.n, 3) }
      for i = 1, math.min(rets.n, 3) do
        local v = rets[i]
        if i == 2 then rec.returns[i] = { type = type(v) } else rec.returns[i] = describe(v) end
      end
    end
  end
  return rec
end

local calls
if impl == "luakube" then
  local gen = require "gen"
  local names
  calls, names = gen.generate { api = api, config = config, objects = objects, new_client = new_client,
    kubeconfig = KUBECONFIG }
  table.insert(calls, 1, { level = "header", object_methods = names })
  common.write(calls_path, calls)
else
  calls = common.read(calls_path)
end
object_methods = table.remove(calls, 1).object_methods

local records = {}
for i, call in ipairs(calls) do records[i] = run_one(call) end
common.write(records_path, records)
io.stderr:write(string.format("%s: %d calls run\n", impl, #records))

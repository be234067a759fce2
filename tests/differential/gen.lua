-- Generates the differential calls from luakube's own tables (run inside the
-- luakube process): every method of api.Client, every group it returns, every
-- resource constructor and alias of each group's Client table, every method a
-- resource client carries (verbs and extras), the ephemeral-containers client,
-- every method of config.Config and of the object classes. A method luakube
-- has and this module lacks therefore shows up as a `reach` difference, and is
-- swept with generic arguments when its name is not one of the known verbs.
local M = {}
local NIL = nil

local function pack(...) return { n = select("#", ...), ... } end
local function sorted_keys(t, pred)
  local out = {}
  for k, v in pairs(t) do
    if type(k) == "string" and (not pred or pred(k, v)) then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end
local function is_fn(_, v) return type(v) == "function" end
-- iterate a packed list, nils included (ipairs would stop at the first nil)
local function each(list)
  local i, n = 0, list.n or #list
  return function()
    i = i + 1
    if i <= n then return i, list[i] end
  end
end

-- -------------------------------------------------------------------- sweeps
local Q = pack ( NIL, { limit = 5 }, { labelSelector = "app=web", watch = true }, { fieldSelector = "a b", pretty = "" } )
local Q_SMALL = pack ( NIL, { dryRun = "All" } )
-- names: legitimate ones, then non-strings (luakube: "no name"), then names
-- that are not path segments (a security rule decides those: see allow.lua)
local NAMES = pack ( "web-1", "kube-dns.v2", NIL, false, 5, {}, "", ".", "..", "a#b", "a/b", "a?b" )
local NAMES_SMALL = pack ( "web-1", NIL, 5 )

local YAML_11 = [[
metadata:
  name: web-1
  namespace: demo
data:
  enabled: yes
  tls: off
  mode: 0644
  n: 1_000
  quoted: 'yes'
  hex: 0x1F
  plain: hello
]]
local YAML_MERGE = [[
base: &b {a: 1, b: two}
metadata: {name: web-1, namespace: demo}
spec:
  <<: *b
  c: 3
]]
local YAML_MULTI = [[
metadata: {name: web-1, namespace: demo}
data: {first: "1"}
---
metadata: {name: other, namespace: demo}
]]
local function bodies()
  return {
    { metadata = { name = "web-1", namespace = "demo", labels = { app = "web" } }, spec = { replicas = 2 } },
    { metadata = { name = "web-1" }, data = { k = "v" } },
    { metadata = { name = "web-1", namespace = "other" } },
    YAML_11, YAML_MERGE, YAML_MULTI,
    "metadata: {name: web-1, namespace: demo}\n",
  }
end
local PATCHES = pack ( { metadata = { labels = { x = "y" } } }, NIL, "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}",
  { { op = "add", path = "/metadata/labels/x", value = "y" } } )
local STYLES = pack ( NIL, "merge", "json", "strategic", "apply" )
local METHODS = pack ( "GET", "POST", "PUT", "PATCH", "DELETE", "get", NIL )

local function namespaces_full() return { pack(), pack("demo") } end
local function namespaces_other() return { pack(NIL), pack(""), pack(false), pack(5), pack("kube-system") } end

-- argument lists for a verb, by luakube's signatures
local function sweep(verb, full)
  local out = {}
  local names = full and NAMES or NAMES_SMALL
  local qs = full and Q or Q_SMALL
  local function add(...) out[#out + 1] = pack(...) end
  if verb == "get" then
    for _, n in each(names) do for _, q in each(Q_SMALL) do add(n, q) end end
    for _, q in each(qs) do add("web-1", q); add(nil, q) end
    add({ limit = 1 }) -- a query table as the first argument
    add({ limit = 1 }, { limit = 2 })
  elseif verb == "list" then
    for _, q in each(qs) do add(q) end
  elseif verb == "status" then
    for _, n in each(names) do add(n) end
  elseif verb == "create" or verb == "update" or verb == "update_status" or verb == "finalize" then
    for _, b in each(bodies()) do add(b) end
    add(bodies()[1], Q_SMALL[2])
    if full then add({}) end
  elseif verb == "patch" or verb == "patch_status" then
    -- every name with the first two patches, every patch and style with one name
    for _, n in each(names) do for pi = 1, 2 do add(n, PATCHES[pi]) end end
    if full then
      for _, p in each(PATCHES) do for _, s in each(STYLES) do add("web-1", p, NIL, s) end end
    end
    add("web-1", PATCHES[1], { fieldManager = "me" })
  elseif verb == "delete" then
    for _, n in each(names) do add(n) end
    add("web-1", Q_SMALL[2])
  elseif verb == "delete_collection" then
    for _, b in each(pack(NIL, {}, { propagationPolicy = "Foreground" })) do
      for _, q in each(qs) do add(b, q) end
    end
  elseif verb == "logs" then
    for _, n in each(names) do for _, q in each(pack(NIL, { tailLines = 3, container = "c" })) do add(n, q) end end
  elseif verb == "scale" then
    for _, n in each(names) do add(n, 5) end
    for _, r in ipairs { 0, "5", 2.5 } do add("web-1", r) end
    add("web-1", 3, { dryRun = "All" })
  elseif verb == "ephemeralcontainers" then
    for _, n in each(names) do add(n) end
  else
    -- a method the harness does not know: generic arguments
    for _, n in each(names) do add(n) end
    add(bodies()[1])
  end
  return out
end

local function call_sweep(level)
  local out = {}
  local paths
  if level == "client" then
    paths = { "v1/nodes", "v1/namespaces/demo/pods/web-1", "v1", 5 }
  elseif level == "group" then
    paths = { "", "/nodes", "/namespaces/demo/pods", "/namespaces/demo/pods/web-1/status", 5 }
  else
    paths = { "", "/web-1", "/web-1/status", "/web-1/log", 5 }
  end
  for _, m in each(METHODS) do
    for _, p in each(paths) do out[#out + 1] = pack(m, p) end
  end
  for _, p in each(paths) do
    out[#out + 1] = pack("POST", p, { metadata = { name = "x" } })
    out[#out + 1] = pack("GET", p, NIL, { limit = 2, labelSelector = "a=b" })
  end
  for _, s in each(STYLES) do out[#out + 1] = pack("PATCH", paths[2], { spec = { x = 1 } }, NIL, s) end
  return out
end

-- --------------------------------------------------------------- extension points
local SCRIPTS = {
  {
    name = "method added to a group module's Client reaches group clients",
    code = [[local core_v1 = require "kube.api.core_v1"
      core_v1.Client.hello = function(self) return "hello, nodes client: " .. tostring(self:nodes() ~= nil) end
      return client:corev1():hello()]],
    cleanup = [[(require "kube.api.core_v1").Client.hello = nil]],
  },
  {
    name = "method added to api.Client reaches clients",
    code = [[api.Client.all_nodes = function(self) return self:corev1():nodes():get() end
      return client:all_nodes()]],
    cleanup = [[api.Client.all_nodes = nil]],
  },
  {
    name = "method added to config.Config reaches configs",
    code = [[config.Config.where = function(self) return self:server_addr() end
      return config.from_kube_config(KUBECONFIG):where()]],
    cleanup = [[config.Config.where = nil]],
  },
  {
    name = "kube.api.utils.generate_object_client adds a resource to a group",
    code = [[local utils = require "kube.api.utils"
      local core_v1 = require "kube.api.core_v1"
      core_v1.Client.widgets = utils.generate_object_client("widgets", {apiVersion = "v1", kind = "Widget"}, true)
      return client:corev1():widgets("demo"):get("w-1")]],
    cleanup = [[(require "kube.api.core_v1").Client.widgets = nil]],
  },
  {
    name = "generate_object_client resource: create through a client without a namespace",
    code = [[local utils = require "kube.api.utils"
      local core_v1 = require "kube.api.core_v1"
      core_v1.Client.widgets = utils.generate_object_client("widgets", {apiVersion = "v1", kind = "Widget"}, true)
      return client:corev1():widgets():create{metadata = {name = "w-2", namespace = "demo"}, spec = {size = 3}}]],
    cleanup = [[(require "kube.api.core_v1").Client.widgets = nil]],
  },
  {
    name = "generate_object_client resource: list, patch, delete",
    code = [[local utils = require "kube.api.utils"
      local core_v1 = require "kube.api.core_v1"
      core_v1.Client.gadgets = utils.generate_object_client("gadgets", {apiVersion = "v1", kind = "Gadget"}, false, false, false,
        {hello = function(self) return self:call("GET", "/hello") end})
      local g = client:corev1():gadgets()
      return g:hello()]],
    cleanup = [[(require "kube.api.core_v1").Client.gadgets = nil]],
  },
  {
    name = "a resource client's private fields",
    code = [[local rc = client:corev1():pods("demo")
      return {path = rc.path_, api = rc.api_, namespaced = rc.namespaced_, has_client = rc.client_ ~= nil}]],
  },
  {
    name = "a cluster resource client's private fields",
    code = [[local rc = client:corev1():nodes()
      return {path = rc.path_, api = rc.api_, namespaced = rc.namespaced_}]],
  },
  {
    name = "a group client's private fields",
    code = [[local g = client:appsv1()
      return {api = g.api_, has_client = g.client_ ~= nil}]],
  },
}

function M.generate(env)
  local api, config, objects = env.api, env.config, env.objects
  local calls = {}
  local function add(c)
    calls[#calls + 1] = c
    c.id = #calls
  end

  -- object method names, from luakube's classes
  local object_methods, seen = {}, {}
  for _, cname in each(sorted_keys(objects, function(_, v) return type(v) == "table" end)) do
    local cls = objects[cname]
    local names = {}
    local t = cls
    while type(t) == "table" do
      for _, k in each(sorted_keys(t, is_fn)) do
        if k ~= "new" then
          names[#names + 1] = k
          if not seen[k] then seen[k] = true; object_methods[#object_methods + 1] = k end
        end
      end
      local mt = getmetatable(t)
      t = mt and mt.__index
      if t == mt then t = getmetatable(mt) and getmetatable(mt).__index end
    end
    local sample = { metadata = { name = "o-1", namespace = "demo", labels = { a = "b" },
      annotations = { n = "v" }, uid = "u-1", creationTimestamp = "2024-01-01T00:00:00Z" },
      kind = "Status", status = "Failure" }
    for _, m in each(names) do
      local args = pack()
      if m:match("^set_") then args = pack({ x = "y" }) end
      add { level = "objects", class = cname, method = m, sample = sample, args = args }
    end
    add { level = "objects", class = cname, method = "labels", sample = { metadata = {} }, args = pack() }
  end
  table.sort(object_methods)
  for _, fname in each(sorted_keys(objects, is_fn)) do
    add { level = "objects_fn", method = fname, sample = { items = { { metadata = { name = "a" } }, { metadata = { name = "b", namespace = "n" } } } } }
  end

  -- config
  local conf_methods = sorted_keys(config.Config, is_fn)
  for _, variant in ipairs { "kubeconfig", "kubeconfig_merge", "new_fields", "new_empty", "new_nil", "from_token" } do
    for _, m in each(conf_methods) do
      if m ~= "new" then
        add { level = "config", conf = variant, method = m, args = pack() }
      end
    end
    add { level = "config", conf = variant, method = "context", args = pack("merged"), after = "server_addr" }
    add { level = "config", conf = variant, method = "context", args = pack("merged"), after = "headers" }
  end

  -- the client and its groups
  local client = env.new_client {}
  local client_methods = sorted_keys(api.Client, function(k, v) return is_fn(k, v) and k ~= "new" end)
  local groups = {}
  for _, m in each(client_methods) do
    if m ~= "call" and m ~= "raw_call" then
      local ok, g = pcall(client[m], client)
      if ok and type(g) == "table" then groups[#groups + 1] = m end
    end
  end
  for _, variant in ipairs { "kubeconfig", "kubeconfig_merge", "new_fields", "own", "new_empty" } do
    add { level = "reach", target = { level = "client", conf = variant }, names = client_methods }
    for _, a in each(call_sweep("client")) do
      if variant == "kubeconfig" or a[1] == "GET" or a[1] == "POST" then
        add { level = "client", conf = variant, method = "call", args = a }
      end
    end
    for _, gm in each(groups) do
      local g = client[gm](client)
      local cls = getmetatable(g).__index
      local first = sorted_keys(cls, function(k, v) return is_fn(k, v) and k ~= "new" end)[1]
      add { level = "resource", conf = variant, group = gm, res = first, ns = pack(), method = "get", args = pack() }
      add { level = "resource", conf = variant, group = gm, res = first, ns = pack("demo"), method = "get", args = pack("web-1") }
    end
  end
  add { level = "resource", conf = "own", group = "corev1", res = "pods", ns = pack("demo"), method = "create",
    args = pack(bodies()[1]) }
  for _, a in each(call_sweep("client")) do add { level = "client", method = "raw_call", args = a } end

  for _, gm in each(groups) do
    local g = client[gm](client)
    local cls = getmetatable(g).__index
    local group_names = sorted_keys(g, is_fn)
    add { level = "reach", target = { level = "group", group = gm }, names = group_names }
    for _, m in each(group_names) do
      for _, a in each(call_sweep("group")) do add { level = "group", group = gm, method = m, args = a } end
    end
    local first_res = sorted_keys(cls, function(k, v) return is_fn(k, v) and k ~= "new" end)[1]
    for _, res in each(sorted_keys(cls, function(k, v) return is_fn(k, v) and k ~= "new" end)) do
      local nss = namespaces_full()
      for _, n in each(namespaces_other()) do nss[#nss + 1] = n end
      for nsi, ns in each(nss) do
        local full = nsi <= 2
        add { level = "construct", group = gm, res = res, ns = ns }
        local ok, rc = pcall(g[res], g, table.unpack(ns, 1, ns.n))
        if ok and type(rc) == "table" then
          local verbs = sorted_keys(rc, is_fn)
          add { level = "reach", target = { level = "resource", group = gm, res = res, ns = ns }, names = verbs }
          for _, verb in each(verbs) do
            local sw = (verb == "call" or verb == "raw_call") and call_sweep("resource") or sweep(verb, full)
            -- call/raw_call: every method and path on the group's first resource,
            -- GET and POST on every path elsewhere
            if (verb == "call" or verb == "raw_call") and res ~= first_res then
              local short = {}
              for i = 1, 10 do short[i] = sw[i] end
              sw = short
            end
            for i, a in each(sw) do
              if full or i <= 6 then
                add { level = "resource", group = gm, res = res, ns = ns, method = verb, args = a }
              end
            end
            if verb == "ephemeralcontainers" and ns.n > 0 and ns[1] == "demo" then
              local eok, ec = pcall(rc.ephemeralcontainers, rc, "web-1")
              if eok and type(ec) == "table" then
                local enames = sorted_keys(ec, is_fn)
                add { level = "reach", target = { level = "ephemeral", group = gm, res = res, ns = ns, pod = "web-1" }, names = enames }
                for _, em in each(enames) do
                  local esw
                  if em == "call" or em == "raw_call" then esw = call_sweep("resource")
                  elseif em == "get" then esw = { pack(), pack({ pretty = "true" }) }
                  elseif em == "update" then esw = {}; for _, b in each(bodies()) do esw[#esw + 1] = pack(b) end
                  elseif em == "patch" then esw = {}; for _, p in each(PATCHES) do for _, s in each(STYLES) do esw[#esw + 1] = pack(p, NIL, s) end end
                  else esw = { pack() } end
                  for _, a in each(esw) do
                    add { level = "ephemeral", group = gm, res = res, ns = ns, pod = "web-1", method = em, args = a }
                  end
                end
              end
            end
          end
        end
      end
    end
  end

  for _, s in each(SCRIPTS) do
    add { level = "script", name = s.name, code = "local KUBECONFIG = " .. string.format("%q", env.kubeconfig) .. "\n" .. s.code, cleanup = s.cleanup }
  end
  return calls, object_methods
end

return M

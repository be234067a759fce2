-- Misuse from Lua, method by method: every method of every client type (as
-- listed in types/, see spec/helpers/api_surface.lua) is called with `.`
-- instead of `:`, with nil, foreign objects and plain values as self, and
-- with arguments of every wrong type (functions, userdata, coroutines, tables
-- with cycles, huge tables). Each call must return or raise a clear string
-- error naming the call; never crash the interpreter or show a Rust panic.
local api = require "kube.api"
local config = require "kube.config"
local kube = require "kube"
local surface = dofile("spec/helpers/api_surface.lua")

local function mock_client(panic)
  local conf = config.Config:new { server = "https://127.0.0.1:1", token = "misuse-token" }
  return api.Client:new(conf, panic, true), conf
end

local cyclic = {}
cyclic.self = cyclic
cyclic.metadata = { name = "c", owner = cyclic }
local huge = {}
for i = 1, 100000 do huge[i] = { i = i, s = "x" } end

--- Values no method takes in any position.
local WRONG = {
  { "a function", function() end },
  { "a coroutine", coroutine.create(function() end) },
  { "userdata", io.stdout },
  { "a cyclic table", cyclic },
  { "a table with a function", { metadata = { name = "f" }, data = { f = print } } },
  { "a table with userdata", { metadata = { name = "u" }, data = { u = io.stdout } } },
  { "NaN", 0 / 0 },
  { "a huge table", huge },
  { "a string of invalid UTF-8", "\255\254" },
}

--- A raised error must be a readable message: a string naming `what`, with
--- no Rust panic text.
local function assert_clear_error(err, what, context)
  assert.are.equal("string", type(err), context .. ": error is a " .. type(err))
  assert.is_nil(err:find("panicked", 1, true), context .. ": " .. err)
  assert.is_nil(err:find("RUST_BACKTRACE", 1, true), context .. ": " .. err)
  assert.truthy(err:find(what, 1, true), context .. ": error does not name " .. what .. ": " .. err)
end

--- Every resource client of every group, with the methods of its class.
local function resource_clients(client)
  local out = {}
  for _, g in ipairs(surface.groups()) do
    local group = client[g.method](client)
    for _, r in ipairs(g.resources) do
      -- Namespaced or not, a namespace argument is accepted where it makes sense.
      local ok, rc = pcall(group[r.name], group, "default")
      if not ok then rc = group[r.name](group) end
      out[#out + 1] = { label = g.method .. ":" .. r.name, rc = rc, methods = surface.methods(r.class) }
    end
  end
  return out
end

--- The methods of the entry's class that its resource has: every resource has
--- the verbs every resource supports; status, delete_collection and the like
--- only where the resource table says so (luakube left those nil).
local UNIVERSAL = { "get", "list", "create", "update", "patch", "delete", "apply", "watch", "iter", "informer" }
local function available(entry)
  for _, m in ipairs(UNIVERSAL) do
    assert.are.equal("function", type(entry.rc[m]), entry.label .. " has no method " .. m)
  end
  local out = {}
  for _, m in ipairs(entry.methods) do
    if entry.rc[m] ~= nil then out[#out + 1] = m end
  end
  return out
end

describe("misuse", function()
  local client = mock_client()

  it("the API surface lists every group and many methods (the walk below is not empty)", function()
    local groups = surface.groups()
    assert.is_true(#groups >= 18, "groups in types/groups.lua: " .. #groups)
    assert.is_true(#surface.methods("kube.PodClient") >= 18)
    assert.is_true(#resource_clients(client) >= 60)
  end)

  it("'.' instead of ':', nil, foreign objects and plain values as self: an error naming the method", function()
    local count = 0
    local foreign = { nil, client, config.Config:new { server = "https://x:1", token = "t" }, {}, "pods", 42, io.stdout }
    for _, entry in ipairs(resource_clients(client)) do
      for _, m in ipairs(available(entry)) do
        local f = entry.rc[m]
        for i = 1, 7 do
          local ok, err = pcall(f, foreign[i], "name")
          assert.is_false(ok, entry.label .. "." .. m .. " accepted a foreign self #" .. i)
          assert_clear_error(err, m, entry.label .. "." .. m)
          count = count + 1
        end
      end
    end
    -- The top-level and group clients too.
    for _, m in ipairs(surface.methods("kube.Client")) do
      local ok, err = pcall(client[m], nil, "GET", "v1/pods")
      assert.is_false(ok)
      assert_clear_error(err, m, "client." .. m)
    end
    for _, g in ipairs(surface.groups()) do
      local ok, err = pcall(client[g.method])
      assert.is_false(ok)
      assert_clear_error(err, g.method, "client." .. g.method)
      local group = client[g.method](client)
      for _, r in ipairs(g.resources) do
        ok, err = pcall(group[r.name], client)
        assert.is_false(ok)
        -- Aliases (ns, cm) are named by the resource's own name; the group is always there.
        assert_clear_error(err, g.method .. ":", g.method .. "." .. r.name .. " with the client as self")
      end
    end
    assert.is_true(count > 1000)
  end)

  it("arguments of every wrong type: a result or an error naming the call, never a crash", function()
    local raised = 0
    for _, entry in ipairs(resource_clients(client)) do
      for _, m in ipairs(available(entry)) do
        for pos = 1, 3 do
          for _, w in ipairs(WRONG) do
            local args = { "x", { metadata = { name = "x" } }, nil }
            args[pos] = w[2]
            local ok, err = pcall(function()
              local r = entry.rc[m](entry.rc, args[1], args[2], args[3])
              -- Iterators and stores: one step and close, as a script would.
              if type(r) == "userdata" or type(r) == "table" then
                local close = r.close
                if type(close) == "function" then pcall(close, r) end
              end
            end)
            if not ok then
              raised = raised + 1
              -- Errors name the resource and method ("pods:get", "configmaps:create").
              assert_clear_error(err, m, ("%s:%s with %s as argument %d"):format(entry.label, m, w[1], pos))
            end
          end
        end
      end
    end
    assert.is_true(raised > 500, "wrong arguments raised " .. raised .. " errors")
  end)

  it("bodies with cycles, functions, userdata or NaN: the error names the path in the body", function()
    local cms = client:corev1():configmaps("default")
    local cases = {
      { cyclic, "cycle" },
      { { metadata = { name = "f" }, data = { f = print } }, "body.data.f" },
      { { metadata = { name = "u" }, data = { u = io.stdout } }, "body.data.u" },
      { { metadata = { name = "n" }, spec = { replicas = 0 / 0 } }, "body.spec.replicas" },
      { { metadata = { name = "k" }, data = { [io.stdout] = "v" } }, "body.data" },
      { { metadata = { name = "bad" }, data = { a = "\255" } }, "UTF-8" },
    }
    for _, c in ipairs(cases) do
      for _, m in ipairs { "create", "update", "apply" } do
        local ok, err = pcall(cms[m], cms, c[1])
        assert.is_false(ok, m .. " accepted " .. c[2])
        assert_clear_error(err, c[2], m)
        assert_clear_error(err, "configmaps:" .. m, m)
      end
      local ok, err = pcall(cms.patch, cms, "x", c[1])
      assert.is_false(ok)
      assert_clear_error(err, "configmaps:patch", "patch " .. c[2])
    end
  end)

  it("errors name the resource the method was called on, whichever resource was used first", function()
    local core = client:corev1()
    pcall(core:pods("default").get, nil)
    local ok, err = pcall(core:configmaps("default").get, nil)
    assert.is_false(ok)
    assert_clear_error(err, "configmaps:get", "configmaps.get")
    ok, err = pcall(core:configmaps("default").get, core:configmaps("default"), { limit = {} })
    assert.is_false(ok)
    assert_clear_error(err, "configmaps:get", "configmaps:get with a table in the query")
  end)

  it("a huge body is encoded, not refused or crashed on", function()
    local _, info, code = client:corev1():configmaps("default"):create {
      metadata = { name = "huge" }, data = { items = kube.array(huge) },
    }
    assert.are.equal(200, code)
    assert.are.equal("POST", info.method)
  end)

  it("config objects: every method with '.' or a foreign self, wrong types to the constructors", function()
    local _, conf = mock_client()
    for _, m in ipairs(surface.methods("kube.Config")) do
      local f = conf[m]
      assert.are.equal("function", type(f), "Config has no " .. m)
      for _, self in ipairs { false, client, {}, "conf" } do
        local ok, err = pcall(f, self ~= false and self or nil)
        assert.is_false(ok, "Config." .. m .. " accepted a foreign self")
        assert_clear_error(err, m, "Config." .. m)
      end
    end
    for _, w in ipairs(WRONG) do
      -- Numbers (NaN) become strings, as Lua coerces them: not wrong for a path or token.
      if type(w[2]) ~= "number" then
        local ok, err = pcall(config.from_kube_config, w[2])
        assert.is_false(ok)
        assert_clear_error(err, "from_kube_config", "from_kube_config with " .. w[1])
      end
      -- Any bytes may be a token (HTTP allows them in a header), but only a string.
      if type(w[2]) ~= "number" and type(w[2]) ~= "string" then
        local ok, err = pcall(config.from_token, w[2], "https://x:1")
        assert.is_false(ok)
        assert_clear_error(err, "from_token", "from_token with " .. w[1])
      end
      local ok, err = pcall(config.Config.new, config.Config, w[2])
      if ok and type(w[2]) == "table" then
        -- luakube's Config:new{...} takes any table (issue 19): the config has
        -- no server then, and a client made from it raises a clear error.
        local cok, cerr = pcall(api.Client.new, api.Client, err)
        assert.is_false(cok, "Client:new took a config from " .. w[1])
        assert_clear_error(cerr, "Client:new", "Client:new of Config:new with " .. w[1])
      else
        assert.is_false(ok, "Config:new took " .. w[1])
        assert_clear_error(err, "Config:new", "Config:new with " .. w[1])
      end
      ok, err = pcall(api.Client.new, api.Client, w[2])
      assert.is_false(ok, "Client:new took " .. w[1])
      assert_clear_error(err, "conf", "Client:new with " .. w[1])
    end
  end)

  it("query tables with nested tables, functions or NaN keys: an error naming the query entry", function()
    local pods = client:corev1():pods("default")
    for _, q in ipairs { { labelSelector = {} }, { [{}] = "x" }, { limit = print }, { watch = io.stdout } } do
      local ok, err = pcall(pods.get, pods, q)
      assert.is_false(ok)
      assert_clear_error(err, "query", "pods:get")
    end
  end)
end)

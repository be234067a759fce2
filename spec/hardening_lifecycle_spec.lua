-- Concurrency and lifecycle: many clients at once, coroutines interleaving
-- watches and calls, and garbage collection of clients and iterators with
-- open connections (observed from outside with `ss`: the TCP connections to
-- the server's port must go away). Forking is covered by tests/fork.rs.
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"

local srv, port

setup(function()
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
  port = srv.url:match(":(%d+)$")
end)

teardown(function()
  if srv then srv.stop() end
end)

local function new_client()
  return api.Client:new(config.from_kube_config(srv.kubeconfig))
end

--- Established TCP connections from this machine to the server's port.
local function open_connections()
  local p = assert(io.popen("ss -Htn state established '( dport = :" .. port .. " )' | wc -l"))
  local n = tonumber(p:read("*l"))
  p:close()
  return n
end

--- Collects garbage until the connection count drops to `target` (closing
--- is done by the collector, the count seen a moment later).
local function settles_to(target)
  for _ = 1, 50 do
    collectgarbage()
    collectgarbage()
    if open_connections() <= target then return true end
    os.execute("sleep 0.05")
  end
  return false
end

describe("lifecycle", function()
  it("fifty clients at once, each with its own connection, all answering", function()
    local base = open_connections()
    local clients = {}
    for i = 1, 50 do
      clients[i] = new_client()
      local _, _, code = clients[i]:corev1():namespaces():get("default")
      assert.are.equal(200, code)
    end
    -- Round-robin: each client again, interleaved, over its kept-alive connection.
    for round = 1, 3 do
      for i = 1, 50 do
        local items, msg, code = clients[i]:corev1():pods("kube-system"):get()
        assert.are.equal(200, code, msg)
        assert.are.equal(2, #items, "round " .. round)
      end
    end
    assert.is_true(open_connections() >= base + 50, "one connection per client")
    clients = nil
    assert.is_true(settles_to(base), "connections left open after the clients were collected: " .. open_connections())
  end)

  it("a collected watch with an open stream closes its connection", function()
    local base = open_connections()
    local c = new_client()
    local cms = c:corev1():configmaps("default")
    local watches = {}
    for i = 1, 5 do
      watches[i] = cms:watch(nil, { timeout = 30 })
      watches[i]:next(0.2) -- lists, then opens the stream
    end
    assert.is_true(open_connections() > base, "the watches hold streams")
    watches, cms, c = nil, nil, nil
    assert.is_true(settles_to(base), "stream connections left after collection: " .. open_connections())
  end)

  it("an abandoned list iterator and follow_logs stream are closed when collected", function()
    local base = open_connections()
    do
      local c = new_client()
      for i = 1, 3 do
        c:corev1():configmaps("default"):create { metadata = { name = "gc-iter-" .. i } }
      end
      local it = c:corev1():configmaps("default"):iter(nil, { limit = 1 })
      assert.truthy(it())
      local logs = c:corev1():pods("kube-system"):follow_logs("coredns-558bd4d5db-xr5tj", { container = "coredns" }, { timeout = 30 })
      local _ = logs
      -- Abandoned: no reference left. LuaJIT keeps a finished block's locals
      -- in the frame's stack slots (marked by the collector) until reused, so
      -- going out of scope alone does not make them garbage there.
      it, logs, c, _ = nil, nil, nil, nil
    end
    assert.is_true(settles_to(base), "connections left after collection: " .. open_connections())
  end)

  it("coroutines interleave a watch, a list iterator and writes on one client", function()
    local c = new_client()
    local cms = c:corev1():configmaps("default")
    local rv = cms:list().metadata.resourceVersion
    local seen, listed = {}, 0
    local tasks = {
      coroutine.create(function()
        local w = cms:watch({ resourceVersion = rv, labelSelector = "co=1" }, { timeout = 20 })
        while #seen < 5 do
          local t, obj = w:next(0.1)
          if t then seen[#seen + 1] = t .. " " .. obj:name() end
          coroutine.yield()
        end
        w:close()
      end),
      coroutine.create(function()
        for i = 1, 5 do
          local _, msg, code = cms:create { metadata = { name = "co-" .. i, labels = { co = "1" } } }
          assert(code == 201, msg)
          coroutine.yield()
        end
      end),
      coroutine.create(function()
        for _ in cms:iter(nil, { limit = 1 }) do
          listed = listed + 1
          coroutine.yield()
        end
      end),
    }
    -- Round-robin until every task has finished.
    for _ = 1, 500 do
      local alive = 0
      for _, co in ipairs(tasks) do
        if coroutine.status(co) == "suspended" then
          local ok, err = coroutine.resume(co)
          assert(ok, err)
          alive = alive + 1
        end
      end
      if alive == 0 then break end
    end
    for _, co in ipairs(tasks) do assert.are.equal("dead", coroutine.status(co)) end
    assert.is_true(listed >= 1)
    table.sort(seen)
    assert.are.same({ "ADDED co-1", "ADDED co-2", "ADDED co-3", "ADDED co-4", "ADDED co-5" }, seen)
  end)

  it("many clients made and dropped in a loop keep the connection count bounded", function()
    local base = open_connections()
    for i = 1, 200 do
      local _, _, code = new_client():corev1():namespaces():get("default")
      assert.are.equal(200, code)
      if i % 50 == 0 then collectgarbage() end
    end
    assert.is_true(settles_to(base), "connections after 200 dropped clients: " .. open_connections())
  end)
end)

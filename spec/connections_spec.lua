-- How calls and streams use connections (issue 12), over HTTPS against the stand-in,
-- which offers HTTP/2 by ALPN as kube-apiserver does: concurrent calls share one
-- connection, and a watch whose reader has stopped does not hold up calls.
-- Connections are counted in /proc/net/tcp (Linux): established sockets whose remote
-- port is the server's are this process's client sockets (nothing else connects).
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local nb = require "kube.nonblocking"
local testing = require "kube.testing"

local now = core.monotonic

local function client_connections(port)
  local n = 0
  for _, file in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    local f = io.open(file)
    if f then
      for line in f:lines() do
        -- sl local_address rem_address st ...
        local rem_port, st = line:match("^%s*%d+: %x+:%x+ %x+:(%x+) (%x+)")
        if rem_port and tonumber(rem_port, 16) == port and st == "01" then n = n + 1 end
      end
      f:close()
    end
  end
  return n
end

describe("connections", function()
  local srv, client, cms, port

  setup(function()
    srv = testing.start {}
    port = tonumber(srv.url:match(":(%d+)/?$"))
    client = api.Client:new(config.from_kube_config(srv.kubeconfig))
    cms = client:corev1():configmaps("default")
    assert(select(3, cms:create { metadata = { name = "c" }, data = { x = "1" } }) == 201)
  end)
  teardown(function() if srv then srv.stop() end end)

  -- Test controls through the same client (a second client would add a connection).
  local function control(what, rule)
    local _, msg, code = client:call("POST", "../testserver/" .. what, rule)
    assert(code == 200 or code == 201, what .. " rule not taken: " .. tostring(msg))
  end

  local function settle(h, seconds)
    local deadline = now() + (seconds or 10)
    while not h:ready() and now() < deadline do nb.wait(h:id(), deadline - now()) end
    return h:ready()
  end

  it("50 concurrent calls share one HTTP/2 connection", function()
    -- Each answer is held 300 ms, so all 50 are in flight together.
    control("faults", { latencyMs = 300, count = 50, match = "configmaps/c" })
    local handles = {}
    for i = 1, 50 do handles[i] = nb.start(cms, "get", "c") end
    local t0 = now()
    while now() - t0 < 0.15 do nb.wait(handles[1]:id(), 0.05) end
    local open = client_connections(port)
    for i = 1, 50 do
      assert.is_true(settle(handles[i]), "call " .. i .. " answered")
      local obj, _, code = handles[i]:result()
      assert.are.equal(200, code)
      assert.are.equal("1", obj.data.x)
    end
    -- All 50 ran at once (held 300 ms each), over one connection.
    assert.is_true(now() - t0 < 3, ("took %.2f s"):format(now() - t0))
    assert.is_true(open >= 1 and open <= 2, "client connections while 50 calls were in flight: " .. open)
  end)

  it("a watch whose reader stopped does not hold up calls", function()
    -- The watch's stream gets 200,000 events nobody reads: it stops reading
    -- after its buffer fills. Calls meanwhile answer as usual.
    control("firehose", { match = "namespaces/default/configmaps", count = 200000 })
    local w = cms:watch(nil, { timeout = 60 })
    -- The list's ADDED events, then the stream's first MODIFIED.
    local kind
    repeat kind = w:next(5) until kind ~= "ADDED"
    assert.are.equal("MODIFIED", kind)
    local t0 = now()
    for _ = 1, 20 do
      local obj, _, code = cms:get("c")
      assert.are.equal(200, code)
      assert.are.equal("1", obj.data.x)
    end
    assert.is_true(now() - t0 < 5, ("20 GETs took %.2f s"):format(now() - t0))
    -- The watch still delivers what it buffered.
    assert.are.equal("MODIFIED", (w:next(5)))
    w:close()
  end)
end)

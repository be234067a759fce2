-- Retries and timeouts against the stand-in API server's fault injection
-- (POST /testserver/faults): 503/429 with Retry-After, resets, cut bodies,
-- stalls and latency, for idempotent and non-idempotent calls.
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"
local cluster = dofile("spec/helpers/cluster.lua")

local srv

setup(function()
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
end)

teardown(function()
  if srv then srv.stop() end
end)

local PODS = "/api/v1/namespaces/kube-system/pods"
local CMS = "/api/v1/namespaces/default/configmaps"

local function admin() return cluster.admin(srv) end
local function fault(rule) cluster.fault(srv, rule) end

--- Rules still pending (count not used up).
local function pending()
  local listed, msg, code = admin():call("GET", "../testserver/faults")
  assert.are.equal(200, code, msg)
  return #listed.faults
end

local function client(tune)
  local conf = config.from_kube_config(srv.kubeconfig)
  conf:set_retries { backoff = 0.05 }
  if tune then tune(conf) end
  return api.Client:new(conf):corev1()
end

after_each(function()
  admin():call("DELETE", "../testserver/faults")
end)

describe("against the stand-in server's faults", function()
  it("a GET waits out two 503s with Retry-After and succeeds", function()
    fault { status = 503, retryAfter = 1, count = 2, match = PODS }
    local t0 = os.time()
    local items, msg, code = client():pods("kube-system"):get()
    assert.are.equal(200, code, msg)
    assert.are.equal(2, #items)
    assert.is_true(os.time() - t0 >= 2, "Retry-After: 1 twice")
    assert.are.equal(0, pending())
  end)

  it("a GET retries a 429 and a 504", function()
    fault { status = 429, retryAfter = 0, count = 1, match = PODS }
    fault { status = 504, count = 1, match = PODS }
    local _, msg, code = client():pods("kube-system"):get()
    assert.are.equal(200, code, msg)
    assert.are.equal(0, pending())
  end)

  it("a POST is not retried on 503: the Status comes back", function()
    fault { status = 503, retryAfter = 0, count = 2, match = CMS }
    local st, msg, code = client():configmaps("default"):create { metadata = { name = "no-retry" } }
    assert.are.equal(503, code)
    assert.are.equal("ServiceUnavailable", st.reason)
    assert.truthy(msg:find("POST", 1, true))
    assert.are.equal(1, pending(), "one of the two 503s left")
  end)

  it("a PUT and a DELETE are retried", function()
    local cms = client():configmaps("default")
    local obj = cms:create { metadata = { name = "retried" }, data = { a = "1" } }
    fault { status = 503, retryAfter = 0, count = 1, match = CMS .. "/retried" }
    obj.data.a = "2"
    local updated, msg, code = cms:update(obj)
    assert.are.equal(200, code, msg)
    assert.are.equal("2", updated.data.a)
    fault { status = 503, retryAfter = 0, count = 1, match = CMS .. "/retried" }
    assert.are.equal(200, select(3, cms:delete("retried")))
    assert.are.equal(0, pending())
  end)

  it("a GET is retried after a reset and after a body cut short", function()
    fault { mode = "reset", count = 1, match = PODS }
    local _, msg, code = client():pods("kube-system"):get()
    assert.are.equal(200, code, msg)
    fault { mode = "drop-mid-body", count = 1, match = PODS }
    _, msg, code = client():pods("kube-system"):get()
    assert.are.equal(200, code, msg)
    assert.are.equal(0, pending())
  end)

  it("a POST after a reset is not retried and reports the failure", function()
    fault { mode = "reset", count = 2, match = CMS }
    local body, msg = client():configmaps("default"):create { metadata = { name = "reset" } }
    assert.is_nil(body)
    assert.truthy(msg:find("POST " .. srv.url .. CMS, 1, true), msg)
    assert.are.equal(1, pending())
  end)

  it("gives up after max retries with the last answer", function()
    fault { status = 503, retryAfter = 0, count = 5, match = PODS }
    local st, _, code = client(function(c) c:set_retries { max = 2 } end):pods("kube-system"):get()
    assert.are.equal(503, code)
    assert.are.equal("ServiceUnavailable", st.reason)
    assert.are.equal(1, pending(), "3 of 5 used")
  end)

  it("stops retrying when Retry-After would pass the time budget", function()
    fault { status = 503, retryAfter = 30, count = 1, match = PODS }
    local t0 = os.time()
    local _, _, code = client(function(c) c:set_retries { budget = 5 } end):pods("kube-system"):get()
    assert.are.equal(503, code)
    assert.is_true(os.time() - t0 <= 2)
  end)

  it("ends a stalled or slow call at the request timeout, without retrying it", function()
    fault { mode = "stall", count = 1, match = PODS }
    local t0 = os.time()
    local body, msg = client(function(c) c:set_timeouts { request = 1 } end):pods("kube-system"):get()
    assert.is_nil(body)
    assert.truthy(msg:lower():find("timed out", 1, true), msg)
    assert.is_true(os.time() - t0 <= 3)
    fault { latencyMs = 3000, count = 1, match = PODS }
    body, msg = client(function(c) c:set_timeouts { request = 1 } end):pods("kube-system"):get()
    assert.is_nil(body)
    assert.truthy(msg:lower():find("timed out", 1, true), msg)
    -- Without a request timeout the slow answer arrives.
    fault { latencyMs = 1500, count = 1, match = PODS }
    local _, _, code = client(function(c) c:set_timeouts { request = false } end):pods("kube-system"):get()
    assert.are.equal(200, code)
  end)
end)

-- luakube calls that behaved differently here before issue 19, over HTTPS
-- against the stand-in API server (TLS verified): each does what it did in
-- luakube, checked on the server's side of the wire, not only in `info`.
-- (tests/differential compares every generated call in mock mode.)
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"

local srv, client, core

setup(function()
  srv = testing.start {}
  client = api.Client:new(config.from_kube_config(srv.kubeconfig))
  core = client:corev1()
  for i = 1, 3 do
    core:configmaps("default"):create { metadata = { name = "dropin-" .. i, labels = { set = "dropin" } }, data = { i = tostring(i) } }
  end
end)

teardown(function()
  if srv then srv.stop() end
end)

describe("drop-in over the wire", function()
  it("resource clients have call/raw_call relative to the resource (#1)", function()
    local cms = core:configmaps("default")
    local obj, info, code = cms:call("GET", "/dropin-1")
    assert.are.equal(200, code)
    assert.are.equal("dropin-1", obj.metadata.name)
    assert.are.equal(srv.url .. "/api/v1/namespaces/default/configmaps/dropin-1", info.url)
    local text, _, rcode = cms:raw_call("GET", "/dropin-2")
    assert.are.equal(200, rcode)
    assert.are.equal("string", type(text))
    assert.truthy(text:find('"dropin-2"', 1, true))
    local list = cms:call("GET", "", nil, { labelSelector = "set=dropin" })
    assert.are.equal(3, #list.items)
  end)

  it("get(nil, query) lists with the query (#2, #12)", function()
    local items, info = core:configmaps("default"):get(nil, { labelSelector = "set=dropin", limit = 2 })
    assert.are.equal(2, #items)
    assert.truthy(info.url:find("limit=2", 1, true))
    items = core:configmaps("default"):get(false, { labelSelector = "set=dropin" })
    assert.are.equal(3, #items)
    assert.are.equal("function", type(items[1].namespace))
  end)

  it("patch(name, nil) sends a PATCH without a body and the server answers (#6)", function()
    local _, info, code = core:configmaps("default"):patch("dropin-3", nil)
    -- the request reached the server (an HTTP answer, not a raise or a transport failure)
    assert.is_number(code)
    if type(info) == "table" then assert.are.equal("PATCH", info.method) end
  end)

  it("scale(name, '5') sends the value as given and the server decides (#7)", function()
    local st, _, code = client:appsv1():deployments("default"):scale("nope", "5")
    assert.are.equal(404, code) -- the request reached the server (no such deployment)
    assert.is_true(st:is_failure())
  end)

  it("a failed get returns a Status with the object methods (#18)", function()
    local st, msg, code = core:configmaps("default"):get("does-not-exist")
    assert.are.equal(404, code)
    assert.is_string(msg)
    assert.is_nil(st:name())
    assert.are.same({}, st:labels())
    assert.is_nil(st:namespace())
    assert.is_true(st:is_not_found())
  end)

  it("YAML bodies are read as kubectl reads them (#3, #4, #11)", function()
    local obj, _, code = core:configmaps("default"):create [[
metadata:
  name: dropin-yaml
  annotations: &b {a: "1"}
  labels: {<<: *b, tier: web}
data:
  enabled: "yes"
---
metadata: {name: second-document-ignored}
]]
    assert.are.equal(201, code)
    assert.are.equal("1", obj.metadata.labels.a)
    assert.are.equal("web", obj.metadata.labels.tier)
    assert.are.equal("yes", obj.data.enabled)
    local got = core:configmaps("default"):get("second-document-ignored")
    assert.is_true(got:is_failure())
  end)

  it("a script's own config object keeps its headers (#17)", function()
    local text = io.open(srv.kubeconfig):read("*a")
    local token = text:match("name: admin\n  user: {token: (%x+)}")
    local own = {
      server_addr = function() return srv.url end,
      headers = function() return { authorization = "Bearer " .. token, ["Impersonate-User"] = "jane" } end,
      cert = function() end,
      key = function() end,
    }
    -- An own config object carries no CA, so TLS to the stand-in cannot be verified:
    -- mock mode shows the request (the transport adds the same headers on the wire).
    local _, info = api.Client:new(own, false, true):corev1():nodes():get()
    assert.are.equal("jane", info.headers["Impersonate-User"])
    assert.are.equal("Bearer <redacted>", info.headers.authorization)
  end)

  it("methods added to a group's Client table and utils resources reach the server (#16)", function()
    local utils = require "kube.api.utils"
    local core_v1 = require "kube.api.core_v1"
    core_v1.Client.dropin_maps = utils.generate_object_client("configmaps", { apiVersion = "v1", kind = "ConfigMap" }, true)
    core_v1.Client.count_dropin = function(self) return #self:configmaps("default"):get { labelSelector = "set=dropin" } end
    finally(function()
      core_v1.Client.dropin_maps = nil
      core_v1.Client.count_dropin = nil
    end)
    assert.are.equal(3, client:corev1():count_dropin())
    local rc = client:corev1():dropin_maps("default")
    local obj, _, code = rc:get("dropin-1")
    assert.are.equal(200, code)
    assert.are.equal("dropin-1", obj:name())
    assert.are.equal("default", obj:namespace())
    local made, _, ccode = rc:create { metadata = { name = "dropin-utils" }, data = { x = "1" } }
    assert.are.equal(201, ccode)
    assert.are.equal("ConfigMap", made.kind)
    assert.are.equal("/namespaces/default/configmaps", client:corev1():configmaps("default").path_)
  end)
end)

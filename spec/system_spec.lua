-- The contract's calls over real HTTPS against the stand-in API server, with
-- TLS verified against its CA, for each way of authenticating.
local api = require "kube.api"
local config = require "kube.config"
local kube = require "kube"
local core = require "kube.core"
local testing = require "kube.testing"
local nf = dofile("spec/helpers/netfixture.lua")

local srv

setup(function()
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
end)

teardown(function()
  if srv then srv.stop() end
end)

-- A kubeconfig whose user reads its token from a file (tokenFile).
local function token_file_config()
  local text = assert(nf.read(srv.kubeconfig))
  local token = text:match("name: admin\n  user: {token: (%x+)}")
  assert(token, "admin token not found in the kubeconfig")
  local tf = srv.dir .. "/token"
  local f = assert(io.open(tf, "w")); f:write(token .. "\n"); f:close()
  local kc = srv.dir .. "/kubeconfig-tokenfile"
  f = assert(io.open(kc, "w"))
  f:write((text:gsub("user: {token: " .. token .. "}", "user: {tokenFile: token}")))
  f:close()
  return config.from_kube_config(kc)
end

local contexts = {
  token = function() return config.from_kube_config(srv.kubeconfig) end,
  ["client certificate"] = function() return config.from_kube_config(srv.kubeconfig, "testserver-cert") end,
  basic = function() return config.from_kube_config(srv.kubeconfig, "testserver-basic") end,
  tokenFile = token_file_config,
}

for auth, make in pairs(contexts) do
  describe("over HTTPS with " .. auth .. " auth", function()
    it("runs the typical luakube script", function()
      local client = api.Client:new(make()):corev1()
      local tail = client:pods("kube-system"):logs("coredns-558bd4d5db-xr5tj", { tailLines = 3, container = "coredns" })
      assert.are.equal("linux/amd64, go1.21.11, a6338e9\n", tail:match("^[^\n]*\n"))
      local _, n = tail:gsub("\n", "")
      assert.are.equal(3, n)
      local names = {}
      for _, pod in ipairs(client:pods("kube-system"):get()) do names[#names + 1] = pod:name() end
      table.sort(names)
      assert.are.same({ "coredns-558bd4d5db-xr5tj", "etcd-node-1" }, names)
    end)

    it("creates, reads, updates, patches and deletes", function()
      local cms = api.Client:new(make()):corev1():configmaps("default")
      -- lower case: object names are RFC 1123 subdomains (the server answers 422 otherwise)
      local name = ("cm-" .. auth:gsub("%W", "")):lower()
      local obj, info, code = cms:create({ metadata = { name = name, labels = { app = "x" } }, data = { a = "1" } })
      assert.are.equal(201, code)
      assert.are.equal(name, obj:name())
      assert.are.equal("default", obj:namespace())
      assert.truthy(obj:uid())
      local shown = info.headers.authorization
      assert.truthy(shown == nil or shown:find("<redacted>", 1, true))

      local got = cms:get(name)
      got.data.b = "2"
      local updated, _, ucode = cms:update(got)
      assert.are.equal(200, ucode)
      assert.are.equal("2", updated.data.b)

      local patched = cms:patch(name, { data = { c = "3" } })
      assert.are.same({ a = "1", b = "2", c = "3" }, patched.data)
      patched = cms:patch(name, { { op = "remove", path = "/data/a" } }, nil, "json")
      assert.is_nil(patched.data.a)
      patched = cms:patch(name, { metadata = { labels = { tier = "web" } } }, nil, "strategic")
      assert.are.same({ app = "x", tier = "web" }, patched:labels())

      local list = cms:list({ labelSelector = "tier=web" })
      assert.are.equal("ConfigMapList", list.kind)
      assert.are.equal(1, #list.items)
      assert.are.equal(name, list.items[1]:name())

      local resp, _, dcode = cms:delete(name)
      assert.are.equal(200, dcode)
      assert.is_false(resp:is_failure())
      local missing, msg, mcode = cms:get(name)
      assert.are.equal(404, mcode)
      assert.is_true(missing:is_failure())
      assert.are.equal("NotFound", missing.reason)
      assert.truthy(msg:find('configmaps "' .. name .. '" not found', 1, true))
    end)
  end)
end

describe("over HTTPS", function()
  it("keeps [] and {} through get -> update", function()
    local pods = api.Client:new(config.from_kube_config(srv.kubeconfig)):corev1():pods("default")
    pods:create({
      metadata = { name = "arrays" },
      spec = { containers = { { name = "c", image = "busybox", args = kube.array(), env = kube.array() } },
        nodeSelector = {} },
    })
    -- The scheduler and the kubelet write the pod first (Pending, then Running).
    local deadline = core.monotonic() + 10
    while pods:status("arrays").phase ~= "Running" do
      assert.is_true(core.monotonic() < deadline, "the pod never ran")
      os.execute("sleep 0.05")
    end
    local pod = pods:get("arrays")
    assert.are.equal("[]", core.json_encode(pod.spec.containers[1].args))
    assert.are.equal("{}", core.json_encode(pod.spec.nodeSelector))
    pod.metadata.labels = { touched = "yes" }
    local updated, info, code = pods:update(pod)
    assert.are.equal(200, code, tostring(info))
    assert.are.equal("[]", core.json_encode(updated.spec.containers[1].args))
    assert.are.equal("Running", pods:status("arrays").phase)
    pods:delete("arrays")
  end)

  it("returns the decoded Status on errors and raises in panic mode", function()
    local conf = config.from_kube_config(srv.kubeconfig)
    local body, msg, code = api.Client:new(conf):corev1():pods("default"):get("nope")
    assert.are.equal(404, code)
    assert.are.equal("Status", body.kind)
    assert.truthy(msg:find("GET " .. srv.url .. "/api/v1/namespaces/default/pods/nope", 1, true))
    local ok, err = pcall(function() api.Client:new(conf, true):corev1():pods("default"):get("nope") end)
    assert.is_false(ok)
    assert.are.equal("string", type(err))
    assert.truthy(err:find("Code 404:", 1, true))
    local raw, _, rcode = api.Client:new(conf):raw_call("GET", "v1/namespaces/default/pods/nope")
    assert.are.equal(404, rcode)
    assert.are.equal("NotFound", core.json_decode(raw).reason)
  end)

  it("gets 403 as the read-only user and 401 with a wrong token", function()
    local ro = api.Client:new(config.from_kube_config(srv.kubeconfig, "testserver-readonly")):corev1()
    local items, _, code = ro:configmaps("default"):get()
    assert.are.equal(200, code)
    assert.are.equal("table", type(items))
    local st, _, wcode = ro:configmaps("default"):create({ metadata = { name = "ro" } })
    assert.are.equal(403, wcode)
    assert.are.equal("Forbidden", st.reason)
    local bad = api.Client:new(config.from_token("wrong", srv.url))
    local _, _, bcode = bad:call("GET", "v1/pods")
    -- from_token has no CA: verification against the system roots fails first
    assert.is_nil(bcode)
  end)

  it("verifies TLS: a client without the cluster CA is refused", function()
    local conf = config.Config:new { server = srv.url, token = "x" }
    local body, msg = api.Client:new(conf):corev1():nodes():get()
    assert.is_nil(body)
    assert.truthy(msg:lower():find("certificate"), msg)
  end)

  it("reports a refused connection as a clear error", function()
    local conf = config.Config:new { server = "https://127.0.0.1:1", token = "x" }
    local body, msg = api.Client:new(conf):corev1():nodes():get()
    assert.is_nil(body)
    assert.truthy(msg:find("Connection refused", 1, true), msg)
    assert.has_error(function() api.Client:new(conf, true):corev1():nodes():get() end)
  end)

  it("reuses one client across many calls", function()
    local nodes = api.Client:new(config.from_kube_config(srv.kubeconfig)):corev1():namespaces()
    for _ = 1, 50 do
      local _, _, code = nodes:get("default")
      assert.are.equal(200, code)
    end
  end)
end)

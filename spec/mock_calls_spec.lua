-- Every resource, alias and verb of the luakube contract in mock mode: the
-- request that would be sent (method, URL, body, Content-Type) and the shape
-- of what comes back. The expectations are written from ../shared/luakube-api.md,
-- independently of the Rust resource table.
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"

local SERVER = "https://10.0.0.1:6443"

local function mock_client(panic)
  local conf = config.Config:new { server = SERVER, token = "mock-token-123" }
  return api.Client:new(conf, panic, true)
end

-- name, aliases, group method, apiVersion, kind, scope, has status, has delete_collection
local R = {
  { "nodes", {}, "corev1", "v1", "Node", "cluster", true, true },
  { "namespaces", { "ns" }, "corev1", "v1", "Namespace", "cluster", true, false },
  { "pods", {}, "corev1", "v1", "Pod", "ns", true, true },
  { "podtemplates", {}, "corev1", "v1", "PodTemplate", "ns", false, true },
  { "services", { "svc" }, "corev1", "v1", "Service", "ns", true, false },
  { "configmaps", { "cm" }, "corev1", "v1", "ConfigMap", "ns", false, true },
  { "secrets", { "sec" }, "corev1", "v1", "Secret", "ns", false, true },
  { "serviceaccounts", { "sa" }, "corev1", "v1", "ServiceAccount", "ns", false, true },
  { "endpoints", { "ep" }, "corev1", "v1", "Endpoints", "ns", false, true },
  { "limitranges", { "limit" }, "corev1", "v1", "LimitRange", "ns", false, true },
  { "persistentvolumeclaims", { "pvc" }, "corev1", "v1", "PersistentVolumeClaim", "ns", true, true },
  { "persistentvolumes", { "pv" }, "corev1", "v1", "PersistentVolume", "either", true, true },
  { "replicationcontrollers", { "rc" }, "corev1", "v1", "ReplicationController", "ns", true, true },
  { "resourcequotas", { "quota" }, "corev1", "v1", "ResourceQuota", "ns", true, true },
  { "deployments", { "deploy" }, "appsv1", "apps/v1", "Deployment", "ns", true, true },
  { "statefulsets", { "sts" }, "appsv1", "apps/v1", "StatefulSet", "ns", true, true },
  { "daemonsets", { "ds" }, "appsv1", "apps/v1", "DaemonSet", "ns", true, true },
  { "jobs", {}, "batchv1", "batch/v1", "Job", "ns", true, true },
  { "cronjobs", { "cj" }, "batchv1", "batch/v1", "CronJob", "ns", true, true },
  { "ingresses", { "ing" }, "networkingv1", "networking.k8s.io/v1", "Ingress", "ns", true, true },
  { "ingressclasses", {}, "networkingv1", "networking.k8s.io/v1", "IngressClass", "cluster", false, true },
}

local function base_of(version)
  return version == "v1" and "/api/v1" or ("/apis/" .. version)
end

describe("mock mode", function()
  it("answers 200 with an empty item list and sends nothing", function()
    local c = mock_client()
    local body, info, code = c:raw_call("GET", "v1/nodes")
    assert.are.equal('{"items": []}', body)
    assert.are.equal(200, code)
    assert.are.equal(SERVER .. "/api/v1/nodes", info.url)
    assert.are.equal("GET", info.method)
  end)

  it("redacts the bearer token in info.headers", function()
    local _, info = mock_client():call("GET", "v1/nodes")
    assert.are.equal("Bearer <redacted>", info.headers.authorization)
    for _, v in pairs(info.headers) do
      assert.is_nil(tostring(v):find("mock-token-123", 1, true))
    end
  end)

  it("builds query strings as luakube did", function()
    local _, info = mock_client():call("GET", "v1/pods", nil, { labelSelector = "os=ubuntu", dryRun = true })
    assert.are.equal(SERVER .. "/api/v1/pods?dryRun=true&labelSelector=os%3Dubuntu", info.url)
    _, info = mock_client():call("GET", "v1/pods", nil, { fieldSelector = "a b", watch = "" })
    assert.are.equal(SERVER .. "/api/v1/pods?fieldSelector=a+b&watch", info.url)
  end)

  it("picks the PATCH content type from style", function()
    local c = mock_client()
    for style, ct in pairs { merge = "application/merge-patch+json", json = "application/json-patch+json",
      strategic = "application/strategic-merge-patch+json" } do
      local _, info = c:call("PATCH", "v1/namespaces/a/pods/b", { x = 1 }, nil, style)
      assert.are.equal(ct, info.headers["Content-Type"])
    end
    local _, info = c:call("PATCH", "v1/namespaces/a/pods/b", { x = 1 })
    assert.are.equal("application/merge-patch+json", info.headers["Content-Type"])
    _, info = c:call("POST", "v1/namespaces/a/pods", { x = 1 })
    assert.are.equal("application/json", info.headers["Content-Type"])
  end)

  it("keeps each group client's own URL base (luakube shared it)", function()
    local c = mock_client()
    local corev1 = c:corev1()
    local apps = c:appsv1()
    local _, info = corev1:pods("a"):get("p")
    assert.are.equal(SERVER .. "/api/v1/namespaces/a/pods/p", info.url)
    _, info = apps:deployments("a"):get("d")
    assert.are.equal(SERVER .. "/apis/apps/v1/namespaces/a/deployments/d", info.url)
    _, info = corev1:call("GET", "nodes")
    assert.are.equal(SERVER .. "/api/v1/nodes", info.url)
  end)

  it("has group modules with version strings and Client:new", function()
    for mod, v in pairs { core_v1 = "v1", apps_v1 = "apps/v1", batch_v1 = "batch/v1",
      networking_v1 = "networking.k8s.io/v1" } do
      local g = require("kube.api." .. mod)
      assert.are.equal(v, g.version_string)
      local gc = g.Client:new(mock_client())
      local _, info = gc:call("GET", "x")
      assert.are.equal(SERVER .. base_of(v) .. "/x", info.url)
    end
  end)

  for _, r in ipairs(R) do
    local unpack_ = table.unpack or unpack
    local name, aliases, gm, version, kind, scope, has_status, has_dc = unpack_(r)
    describe(gm .. ":" .. name, function()
      local names = { name }
      for _, a in ipairs(aliases) do names[#names + 1] = a end
      for _, n in ipairs(names) do
        it("as " .. n .. " builds the contract's requests", function()
          local g = mock_client()[gm](mock_client())
          local ns = scope ~= "cluster" and "demo" or nil
          local rc = g[n](g, ns)
          local coll = SERVER .. base_of(version) .. (ns and ("/namespaces/" .. ns) or "") .. "/" .. name
          local obj, info, code = rc:get("x")
          assert.are.equal(coll .. "/x", info.url)
          assert.are.equal("GET", info.method)
          assert.are.equal(200, code)
          assert.is_function(obj.is_failure)
          assert.is_false(obj:is_failure())
          if scope == "ns" then assert.is_function(obj.namespace) end

          local items
          items, info = rc:get()
          assert.are.equal(coll, info.url)
          assert.are.equal(0, #items)
          items, info = rc:get({ labelSelector = "a=b" })
          assert.are.equal(coll .. "?labelSelector=a%3Db", info.url)

          local list
          list, info = rc:list({ limit = 5 })
          assert.are.equal(coll .. "?limit=5", info.url)
          assert.are.same({}, list.items)

          local body = { metadata = { name = "x" }, spec = { a = 1 } }
          _, info = rc:create(body, { dryRun = "All" })
          assert.are.equal("POST", info.method)
          assert.are.equal(coll .. "?dryRun=All", info.url)
          assert.are.equal(kind, info.body.kind)
          assert.are.equal(version, info.body.apiVersion)
          assert.are.equal("application/json", info.headers["Content-Type"])

          _, info = rc:update(body)
          assert.are.equal("PUT", info.method)
          assert.are.equal(coll .. "/x", info.url)
          assert.are.equal(kind, info.body.kind)

          _, info = rc:create("metadata:\n  name: fromyaml\nspec:\n  replicas: 2\n")
          assert.are.equal("fromyaml", info.body.metadata.name)
          assert.are.equal(kind, info.body.kind)

          _, info = rc:patch("x", { metadata = { labels = { a = "b" } } })
          assert.are.equal("PATCH", info.method)
          assert.are.equal(coll .. "/x", info.url)
          assert.are.equal("application/merge-patch+json", info.headers["Content-Type"])
          _, info = rc:patch("x", { { op = "add", path = "/a", value = 1 } }, nil, "json")
          assert.are.equal("application/json-patch+json", info.headers["Content-Type"])

          local resp
          resp, info = rc:delete("x", { gracePeriodSeconds = 0 })
          assert.are.equal("DELETE", info.method)
          assert.are.equal(coll .. "/x?gracePeriodSeconds=0", info.url)
          assert.is_function(resp.is_failure)

          if has_status then
            local st
            st, info = rc:status("x")
            assert.are.equal(coll .. "/x/status", info.url)
            assert.is_nil(st) -- the mock body has no status field
            _, info = rc:update_status(body)
            assert.are.equal("PUT", info.method)
            assert.are.equal(coll .. "/x/status", info.url)
            _, info = rc:patch_status("x", { status = {} }, nil, "strategic")
            assert.are.equal(coll .. "/x/status", info.url)
            assert.are.equal("application/strategic-merge-patch+json", info.headers["Content-Type"])
          else
            assert.is_nil(rc.status)
            assert.is_nil(rc.update_status)
            assert.is_nil(rc.patch_status)
          end
          if has_dc then
            _, info = rc:delete_collection({ kind = "DeleteOptions" }, { labelSelector = "a" })
            assert.are.equal("DELETE", info.method)
            assert.are.equal(coll .. "?labelSelector=a", info.url)
            assert.are.equal("DeleteOptions", info.body.kind)
          else
            assert.is_nil(rc.delete_collection)
          end
        end)
      end

      if scope == "cluster" then
        it("refuses a namespace", function()
          local g = mock_client()[gm](mock_client())
          assert.has_error(function() g[name](g, "demo") end)
        end)
      elseif scope == "ns" then
        it("needs a namespace for by-name calls and takes it from the object on create", function()
          local g = mock_client()[gm](mock_client())
          local rc = g[name](g)
          assert.has_error(function() rc:get("x") end)
          assert.has_error(function() rc:delete("x") end)
          local items, info = rc:get()
          assert.are.equal(SERVER .. base_of(version) .. "/" .. name, info.url)
          _, info = rc:create({ metadata = { name = "x", namespace = "other" } })
          assert.are.equal(SERVER .. base_of(version) .. "/namespaces/other/" .. name, info.url)
          _, info = rc:update({ metadata = { name = "x", namespace = "other" } })
          assert.are.equal(SERVER .. base_of(version) .. "/namespaces/other/" .. name .. "/x", info.url)
          assert.has_error(function() rc:create({ metadata = { name = "x" } }) end)
        end)
      end
    end)
  end

  it("keeps luakube's namespaced URLs for persistentvolumes and fixes the cluster ones", function()
    local core_client = mock_client():corev1()
    local _, info = core_client:pv("demo"):get("x")
    assert.are.equal(SERVER .. "/api/v1/namespaces/demo/persistentvolumes/x", info.url)
    _, info = core_client:pv():get("x")
    assert.are.equal(SERVER .. "/api/v1/persistentvolumes/x", info.url)
    _, info = core_client:pv():delete("x")
    assert.are.equal(SERVER .. "/api/v1/persistentvolumes/x", info.url)
  end)

  it("has the pod extras: logs and ephemeralcontainers", function()
    local pods = mock_client():corev1():pods("kube-system")
    local text, info = pods:logs("coredns-1", { tailLines = 3, container = "coredns" })
    assert.are.equal("string", type(text))
    assert.are.equal(SERVER .. "/api/v1/namespaces/kube-system/pods/coredns-1/log?container=coredns&tailLines=3", info.url)
    local ec = pods:ephemeralcontainers("web")
    local _, i2 = ec:get()
    assert.are.equal(SERVER .. "/api/v1/namespaces/kube-system/pods/web/ephemeralcontainers", i2.url)
    _, i2 = ec:update({ metadata = { name = "web" }, spec = {} })
    assert.are.equal("PUT", i2.method)
    assert.are.equal("EphemeralContainers", i2.body.kind)
    _, i2 = ec:patch({ spec = {} }, nil, "strategic")
    assert.are.equal("application/strategic-merge-patch+json", i2.headers["Content-Type"])
    assert.is_nil(mock_client():corev1():configmaps("a").logs)
  end)

  it("has namespaces:finalize and apps scale", function()
    local c = mock_client()
    local _, info = c:corev1():namespaces():finalize({ metadata = { name = "gone" }, spec = { finalizers = {} } })
    assert.are.equal("PUT", info.method)
    assert.are.equal(SERVER .. "/api/v1/namespaces/gone/finalize", info.url)
    assert.are.equal("Namespace", info.body.kind)
    for _, r in ipairs { "deployments", "statefulsets", "daemonsets" } do
      local apps = c:appsv1()
      _, info = apps[r](apps, "a"):scale("web", 4)
      assert.are.equal("PATCH", info.method)
      assert.are.equal(SERVER .. "/apis/apps/v1/namespaces/a/" .. r .. "/web", info.url)
      assert.are.equal("application/merge-patch+json", info.headers["Content-Type"])
      assert.are.equal('{"spec":{"replicas":4}}', core.json_encode(info.body))
    end
    assert.is_nil(c:batchv1():jobs("a").scale)
  end)

  it("does not change the caller's table when stamping kind and apiVersion", function()
    local body = { metadata = { name = "x" } }
    mock_client():corev1():configmaps("a"):create(body)
    assert.is_nil(body.kind)
  end)
end)

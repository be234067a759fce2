-- The group clients beyond luakube's four, and the new verbs (apply, the scale,
-- eviction and binding subresources), in mock mode: the request that would be
-- sent. Expectations are written from the Kubernetes API reference, not from
-- the Rust resource table.
local api = require "kube.api"
local config = require "kube.config"

local SERVER = "https://10.0.0.1:6443"

local function mock_client()
  local conf = config.Config:new { server = SERVER, token = "mock-token-123" }
  return api.Client:new(conf, false, true)
end

-- group method, apiVersion, resource, aliases, kind, namespaced
local R = {
  { "corev1", "v1", "events", { "ev" }, "Event", true },
  { "appsv1", "apps/v1", "replicasets", { "rs" }, "ReplicaSet", true },
  { "appsv1", "apps/v1", "controllerrevisions", {}, "ControllerRevision", true },
  { "networkingv1", "networking.k8s.io/v1", "networkpolicies", { "netpol" }, "NetworkPolicy", true },
  { "rbacv1", "rbac.authorization.k8s.io/v1", "roles", {}, "Role", true },
  { "rbacv1", "rbac.authorization.k8s.io/v1", "rolebindings", {}, "RoleBinding", true },
  { "rbacv1", "rbac.authorization.k8s.io/v1", "clusterroles", {}, "ClusterRole", false },
  { "rbacv1", "rbac.authorization.k8s.io/v1", "clusterrolebindings", {}, "ClusterRoleBinding", false },
  { "policyv1", "policy/v1", "poddisruptionbudgets", { "pdb" }, "PodDisruptionBudget", true },
  { "autoscalingv1", "autoscaling/v1", "horizontalpodautoscalers", { "hpa" }, "HorizontalPodAutoscaler", true },
  { "autoscalingv2", "autoscaling/v2", "horizontalpodautoscalers", { "hpa" }, "HorizontalPodAutoscaler", true },
  { "coordinationv1", "coordination.k8s.io/v1", "leases", {}, "Lease", true },
  { "storagev1", "storage.k8s.io/v1", "storageclasses", { "sc" }, "StorageClass", false },
  { "storagev1", "storage.k8s.io/v1", "volumeattachments", {}, "VolumeAttachment", false },
  { "storagev1", "storage.k8s.io/v1", "csidrivers", {}, "CSIDriver", false },
  { "storagev1", "storage.k8s.io/v1", "csinodes", {}, "CSINode", false },
  { "storagev1", "storage.k8s.io/v1", "csistoragecapacities", {}, "CSIStorageCapacity", true },
  { "eventsv1", "events.k8s.io/v1", "events", { "ev" }, "Event", true },
  { "discoveryv1", "discovery.k8s.io/v1", "endpointslices", {}, "EndpointSlice", true },
  { "apiextensionsv1", "apiextensions.k8s.io/v1", "customresourcedefinitions", { "crd", "crds" },
    "CustomResourceDefinition", false },
  { "certificatesv1", "certificates.k8s.io/v1", "certificatesigningrequests", { "csr" },
    "CertificateSigningRequest", false },
  { "admissionregistrationv1", "admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", {},
    "MutatingWebhookConfiguration", false },
  { "admissionregistrationv1", "admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", {},
    "ValidatingWebhookConfiguration", false },
  { "schedulingv1", "scheduling.k8s.io/v1", "priorityclasses", { "pc" }, "PriorityClass", false },
  { "nodev1", "node.k8s.io/v1", "runtimeclasses", {}, "RuntimeClass", false },
  { "flowcontrolv1", "flowcontrol.apiserver.k8s.io/v1", "flowschemas", {}, "FlowSchema", false },
  { "flowcontrolv1", "flowcontrol.apiserver.k8s.io/v1", "prioritylevelconfigurations", {},
    "PriorityLevelConfiguration", false },
}

local unpack_ = table.unpack or unpack

describe("group clients", function()
  for _, r in ipairs(R) do
    local gm, version, name, aliases, kind, namespaced = unpack_(r)
    local names = { name, unpack_(aliases) }
    for _, n in ipairs(names) do
      it(gm .. "():" .. n .. " builds /apis URLs and stamps apiVersion and kind", function()
        local g = mock_client()[gm](mock_client())
        local ns = namespaced and "demo" or nil
        local rc = g[n](g, ns)
        local base = version == "v1" and "/api/v1" or ("/apis/" .. version)
        local coll = SERVER .. base .. (ns and ("/namespaces/" .. ns) or "") .. "/" .. name
        local _, info = rc:get("x")
        assert.are.equal(coll .. "/x", info.url)
        _, info = rc:list { labelSelector = "a=b" }
        assert.are.equal(coll .. "?labelSelector=a%3Db", info.url)
        _, info = rc:create { metadata = { name = "x" } }
        assert.are.equal("POST", info.method)
        assert.are.equal(coll, info.url)
        assert.are.equal(version, info.body.apiVersion)
        assert.are.equal(kind, info.body.kind)
        _, info = rc:delete("x")
        assert.are.equal("DELETE", info.method)
        assert.are.equal(coll .. "/x", info.url)
        if not namespaced then
          assert.has_error(function() g[n](g, "demo") end)
        end
      end)
    end
  end
end)

describe("group modules", function()
  it("exist for every new group, with version strings and Client:new", function()
    local mods = {
      rbac_v1 = { "rbac.authorization.k8s.io/v1", "roles" },
      policy_v1 = { "policy/v1", "poddisruptionbudgets" },
      autoscaling_v1 = { "autoscaling/v1", "horizontalpodautoscalers" },
      autoscaling_v2 = { "autoscaling/v2", "horizontalpodautoscalers" },
      coordination_v1 = { "coordination.k8s.io/v1", "leases" },
      storage_v1 = { "storage.k8s.io/v1", "csistoragecapacities" },
      events_v1 = { "events.k8s.io/v1", "events" },
      discovery_v1 = { "discovery.k8s.io/v1", "endpointslices" },
      apiextensions_v1 = { "apiextensions.k8s.io/v1", "customresourcedefinitions" },
      certificates_v1 = { "certificates.k8s.io/v1", "certificatesigningrequests" },
      admissionregistration_v1 = { "admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations" },
      scheduling_v1 = { "scheduling.k8s.io/v1", "priorityclasses" },
      node_v1 = { "node.k8s.io/v1", "runtimeclasses" },
      flowcontrol_v1 = { "flowcontrol.apiserver.k8s.io/v1", "flowschemas" },
    }
    for mod, want in pairs(mods) do
      local g = require("kube.api." .. mod)
      assert.are.equal(want[1], g.version_string)
      local gc = g.Client:new(mock_client())
      local _, info = gc:call("GET", want[2])
      assert.are.equal(SERVER .. "/apis/" .. want[1] .. "/" .. want[2], info.url)
    end
  end)
end)

describe("new verbs", function()
  local c = mock_client()

  it("apply sends an apply patch with fieldManager and force", function()
    local cms = c:corev1():configmaps("demo")
    local _, info, code = cms:apply({ metadata = { name = "x" }, data = { a = "1" } },
      { fieldManager = "tool", force = true })
    assert.are.equal(200, code)
    assert.are.equal("PATCH", info.method)
    assert.are.equal(SERVER .. "/api/v1/namespaces/demo/configmaps/x?fieldManager=tool&force=true", info.url)
    assert.are.equal("application/apply-patch+yaml", info.headers["Content-Type"])
    assert.are.equal("ConfigMap", info.body.kind)
    assert.are.equal("v1", info.body.apiVersion)
    _, info = cms:apply { metadata = { name = "x" } }
    assert.are.equal(SERVER .. "/api/v1/namespaces/demo/configmaps/x?fieldManager=luakube-rs", info.url)
    -- the namespace comes from the object when the client has none
    _, info = c:appsv1():deployments():apply { metadata = { name = "d", namespace = "other" } }
    assert.are.equal(SERVER .. "/apis/apps/v1/namespaces/other/deployments/d?fieldManager=luakube-rs", info.url)
    assert.has_error(function() cms:apply { metadata = {} } end)
  end)

  it("reads and replaces the scale subresource", function()
    for _, case in ipairs {
      { c:appsv1():deployments("demo"), "/apis/apps/v1/namespaces/demo/deployments/web/scale" },
      { c:appsv1():statefulsets("demo"), "/apis/apps/v1/namespaces/demo/statefulsets/web/scale" },
      { c:appsv1():replicasets("demo"), "/apis/apps/v1/namespaces/demo/replicasets/web/scale" },
      { c:corev1():replicationcontrollers("demo"), "/api/v1/namespaces/demo/replicationcontrollers/web/scale" },
    } do
      local rc, path = case[1], case[2]
      local _, info = rc:get_scale("web")
      assert.are.equal("GET", info.method)
      assert.are.equal(SERVER .. path, info.url)
      _, info = rc:replace_scale("web", 4)
      assert.are.equal("PUT", info.method)
      assert.are.equal(SERVER .. path, info.url)
      assert.are.same({ apiVersion = "autoscaling/v1", kind = "Scale",
        metadata = { name = "web", namespace = "demo" }, spec = { replicas = 4 } }, info.body)
    end
    assert.is_nil(c:appsv1():daemonsets("demo").get_scale)
    assert.is_nil(c:corev1():configmaps("demo").replace_scale)
    -- luakube's patch-based scale is still there
    local _, info = c:appsv1():deployments("demo"):scale("web", 2)
    assert.are.equal("PATCH", info.method)
  end)

  it("evicts and binds pods", function()
    local pods = c:corev1():pods("demo")
    local _, info = pods:evict("p", { gracePeriodSeconds = 0 })
    assert.are.equal("POST", info.method)
    assert.are.equal(SERVER .. "/api/v1/namespaces/demo/pods/p/eviction", info.url)
    assert.are.same({ apiVersion = "policy/v1", kind = "Eviction", metadata = { name = "p", namespace = "demo" },
      deleteOptions = { gracePeriodSeconds = 0 } }, info.body)
    _, info = pods:bind("p", "node-1")
    assert.are.equal(SERVER .. "/api/v1/namespaces/demo/pods/p/binding", info.url)
    assert.are.same({ apiVersion = "v1", kind = "Binding", metadata = { name = "p", namespace = "demo" },
      target = { apiVersion = "v1", kind = "Node", name = "node-1" } }, info.body)
    assert.is_nil(c:corev1():configmaps("demo").evict)
    assert.has_error(function() c:corev1():pods():evict("p") end)
  end)

  it("gives iterators that end at once in mock mode", function()
    local cms = c:corev1():configmaps("demo")
    local n = 0
    for _ in cms:iter() do n = n + 1 end
    for _ in cms:watch() do n = n + 1 end
    for _ in c:corev1():pods("demo"):follow_logs("p") do n = n + 1 end
    assert.are.equal(0, n)
    assert.has_error(function() cms:iter(nil, { limit = 0 }) end)
    assert.has_error(function() cms:watch(nil, { timeout = -1 }) end)
  end)

  it("rejects options it does not know, naming them", function()
    local cms = c:corev1():configmaps("demo")
    local ok, err = pcall(cms.iter, cms, nil, { page_size = 2 })
    assert.is_false(ok)
    assert.matches('unknown option "page_size" %(known: limit, metadata_only, fields%)', tostring(err))
    ok, err = pcall(cms.watch, cms, nil, { timout = 5 })
    assert.is_false(ok)
    assert.matches('unknown option "timout"', tostring(err))
    ok, err = pcall(c:corev1():pods("demo").follow_logs, c:corev1():pods("demo"), "p", nil, { since = 1 })
    assert.is_false(ok)
    assert.matches('unknown option "since" %(known: timeout%)', tostring(err))
  end)

  it("makes a dynamic group client from discovery, cached per client", function()
    local g = c:api("stable.example.com/v1")
    assert.are.equal(g, c:api("stable.example.com/v1"))
    assert.are_not.equal(g, mock_client():api("stable.example.com/v1"))
    local _, info = g:call("GET", "crontabs")
    assert.are.equal(SERVER .. "/apis/stable.example.com/v1/crontabs", info.url)
    assert.has_error(function() c:api("a/b/c") end)
    assert.has_error(function() c:api(5) end)
  end)
end)

-- Metadata-only and projected objects (opts.metadata_only, opts.fields) on
-- get, list, iter, watch and informer, over HTTPS against the stand-in API
-- server: what the caller receives, that whole objects stay the default, and
-- that bad options are clear errors.
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local testing = require "kube.testing"

local function sleep(seconds)
  local until_ = core.monotonic() + seconds
  while core.monotonic() < until_ do os.execute("sleep 0.1") end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function pod(name, ip)
  return {
    metadata = { name = name, labels = { app = "web" }, annotations = { note = string.rep("x", 200) } },
    spec = { nodeName = "node-1", containers = { { name = "c", image = "nginx:1.27", env = { { name = "A", value = "1" } } } } },
    status = { podIP = ip },
  }
end

describe("metadata-only and projected objects", function()
  local srv, client, ns, pods

  setup(function()
    srv = testing.start { seed = "spec/fixtures/seed.yaml", controllers = "none",
      args = { "--watch-history", "5" } }
    client = api.Client:new(config.from_kube_config(srv.kubeconfig))
    ns = "views-" .. math.random(100000)
    local _, msg, code = client:corev1():namespaces():create { metadata = { name = ns } }
    assert(code == 201, msg)
    pods = client:corev1():pods(ns)
    for i = 1, 3 do
      local _, cmsg, ccode = pods:create(pod("p" .. i))
      assert(ccode == 201, cmsg)
    end
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  it("lists, gets and iterates metadata only", function()
    local list, msg, code = pods:list(nil, { metadata_only = true })
    assert.are.equal(200, code, msg)
    assert.are.equal("PartialObjectMetadataList", list.kind)
    assert.is_truthy(list.metadata.resourceVersion)
    assert.are.equal(3, #list.items)
    for _, item in ipairs(list.items) do
      assert.are.same({ "apiVersion", "kind", "metadata" }, sorted_keys(item))
      assert.are.equal("PartialObjectMetadata", item.kind)
      assert.are.equal("web", item.metadata.labels.app)
      assert.are.equal(ns, item:namespace())
    end
    local one = assert(pods:get("p2", nil, { metadata_only = true }))
    assert.are.same({ "apiVersion", "kind", "metadata" }, sorted_keys(one))
    assert.are.equal("p2", one:name())
    local names = {}
    for item in pods:iter(nil, { limit = 2, metadata_only = true }) do
      assert.is_nil(item.spec)
      names[#names + 1] = item:name()
    end
    table.sort(names)
    assert.are.same({ "p1", "p2", "p3" }, names)
    -- The default is still the whole object.
    local whole = assert(pods:get("p2"))
    assert.are.equal("Pod", whole.kind)
    assert.are.equal("nginx:1.27", whole.spec.containers[1].image)
  end)

  it("lists and iterates projected objects, identity always kept", function()
    local fields = { "spec.nodeName", "spec.containers.image", "metadata.labels" }
    local list, msg, code = pods:list(nil, { fields = fields })
    assert.are.equal(200, code, msg)
    assert.are.equal(3, #list.items)
    local item = list.items[1]
    -- list items come as the server sends them, without kind (as whole lists)
    assert.are.same({ "metadata", "spec" }, sorted_keys(item))
    assert.are.same({ "labels", "name", "namespace", "resourceVersion", "uid" }, sorted_keys(item.metadata))
    assert.are.same({ "containers", "nodeName" }, sorted_keys(item.spec))
    assert.are.same({ { image = "nginx:1.27" } }, item.spec.containers)
    assert.are.equal("web", item:labels().app)
    for it in pods:iter(nil, { limit = 1, fields = { "spec.nodeName" } }) do
      assert.are.equal("Pod", it.kind)
      assert.are.equal("node-1", it.spec.nodeName)
      assert.is_nil(it.spec.containers)
      assert.is_nil(it.metadata.annotations)
    end
  end)

  it("watches metadata only and projected, live changes included", function()
    local w = pods:watch(nil, { timeout = 20, metadata_only = true })
    local seen = 0
    while seen < 3 do
      local kind, obj = w:next(10)
      assert.are.equal("ADDED", kind)
      assert.are.equal("PartialObjectMetadata", obj.kind)
      assert.is_nil(obj.spec)
      seen = seen + 1
    end
    local p = assert(client:corev1():pods(ns):get("p1"))
    p.metadata.labels.tier = "front"
    assert(pods:update(p))
    local kind, obj = w:next(10)
    assert.are.equal("MODIFIED", kind)
    assert.are.equal("front", obj.metadata.labels.tier)
    assert.is_nil(obj.spec)
    w:close()

    local pw = pods:watch(nil, { timeout = 20, fields = { "status.podIP", "spec.nodeName" } })
    for _ = 1, 3 do
      local k, o = pw:next(10)
      assert.are.equal("ADDED", k)
      -- status is there only as far as it holds a podIP (none without a kubelet)
      if o.status then assert.are.same({}, sorted_keys(o.status)) end
      o.status = nil
      assert.are.same({ "apiVersion", "kind", "metadata", "spec" }, sorted_keys(o))
      assert.are.same({ nodeName = "node-1" }, o.spec)
      assert.is_nil(o.metadata.labels)
    end
    assert(pods:delete("p3"))
    local k, o = pw:next(10)
    assert.are.equal("DELETED", k)
    assert.are.equal("p3", o:name())
    assert.is_nil(o.metadata.annotations)
    pw:close()
    assert(pods:create(pod("p3")))
  end)

  it("keeps an informer of metadata-only or projected objects", function()
    local store = pods:informer(nil, { metadata_only = true })
    store:sync(2)
    assert.are.equal(3, #store:list())
    local cached = store:get(ns, "p1")
    assert.are.equal("PartialObjectMetadata", cached.kind)
    assert.is_nil(cached.spec)
    store:close()

    local projected = pods:informer(nil, { fields = { "spec.nodeName" } })
    projected:sync(2)
    assert.are.equal(3, #projected:list())
    assert.are.same({ nodeName = "node-1" }, projected:get(ns, "p2").spec)
    assert(pods:create(pod("p4")))
    local deadline = core.monotonic() + 10
    while #projected:list() ~= 4 and core.monotonic() < deadline do projected:sync(0.5) end
    local p4 = projected:get(ns, "p4")
    assert.are.same({ nodeName = "node-1" }, p4.spec)
    assert.is_nil(p4.metadata.labels)
    assert.is_truthy(p4.metadata.uid and p4.metadata.resourceVersion)
    projected:close()
    assert(pods:delete("p4"))
  end)

  it("re-lists projected after 410 Expired and reports deletions projected", function()
    local cms = client:corev1():configmaps(ns)
    cms:create { metadata = { name = "kept", labels = { app = "x" } }, data = { v = "0", big = string.rep("y", 500) } }
    -- keep_last_state: a DELETED found by the re-list carries the last state
    -- (projected); without it, the object's identity only (streams_spec).
    local w = cms:watch(nil, { timeout = 30, server_timeout = 1, fields = { "data.v" }, keep_last_state = true })
    local kind, obj = w:next(10)
    assert.are.equal("ADDED", kind)
    assert.are.same({ v = "0" }, obj.data)
    sleep(1.5) -- the stream ends while the watch is not reading
    for i = 1, 6 do cms:create { metadata = { name = "filler" .. i }, data = { v = tostring(i), big = "z" } } end
    cms:delete("kept")
    -- Past the history of 5: the watch lists again, projected.
    local added, deleted = 0, nil
    for _ = 1, 7 do
      local k, o = w:next(10)
      assert.is_nil(o.metadata.labels)
      if k == "ADDED" then
        added = added + 1
        assert.are.same({ "v" }, sorted_keys(o.data))
      elseif k == "DELETED" then
        deleted = o
      end
    end
    assert.are.equal(6, added)
    assert.are.equal("kept", deleted:name())
    assert.are.same({ v = "0" }, deleted.data)
    assert.are.equal("ConfigMap", deleted.kind)
    w:close()
  end)

  it("reaches custom resources through the dynamic client", function()
    local crds = client:apiextensionsv1():customresourcedefinitions()
    local _, msg, code = crds:create {
      metadata = { name = "gadgets.views.example.com" },
      spec = {
        group = "views.example.com", scope = "Namespaced",
        names = { plural = "gadgets", singular = "gadget", kind = "Gadget" },
        versions = { { name = "v1", served = true, storage = true,
          schema = { openAPIV3Schema = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true } } } },
      },
    }
    assert(code == 201, msg)
    local g = assert(client:api("views.example.com/v1"))
    local gadgets = g:gadgets(ns)
    assert(gadgets:create { metadata = { name = "g1" }, spec = { size = 3, color = "red" } })
    local list = assert(gadgets:list(nil, { metadata_only = true }))
    assert.are.equal("PartialObjectMetadataList", list.kind)
    assert.are.equal("g1", list.items[1]:name())
    local projected = assert(gadgets:list(nil, { fields = { "spec.size" } }))
    assert.are.same({ size = 3 }, projected.items[1].spec)
    local w = gadgets:watch(nil, { timeout = 10, metadata_only = true })
    local kind, obj = w:next(10)
    assert.are.equal("ADDED", kind)
    assert.are.equal("PartialObjectMetadata", obj.kind)
    w:close()
  end)

  it("refuses bad options with a clear error", function()
    local function err_of(f)
      local ok, e = pcall(f)
      assert.is_false(ok)
      return tostring(e)
    end
    assert.matches("opts.fields must be a list of paths", err_of(function() pods:list(nil, { fields = "status" }) end), 1, true)
    assert.matches("not a path of field names", err_of(function() pods:list(nil, { fields = { "status..podIP" } }) end), 1, true)
    assert.matches("opts.fields[2] must be a string", err_of(function() pods:iter(nil, { fields = { "a", 5 } }) end), 1, true)
    assert.matches("at least one path", err_of(function() pods:watch(nil, { fields = {} }) end), 1, true)
    assert.matches("opts.metadata_only must be a boolean", err_of(function() pods:list(nil, { metadata_only = "yes" }) end), 1, true)
    assert.matches("unknown option \"fields\"", err_of(function() pods:get("p1", nil, { fields = { "a" } }) end), 1, true)
    assert.matches("opts.fields", err_of(function() pods:informer(nil, { fields = 1 }) end), 1, true)
    sleep(0)
  end)
end)

-- The non-blocking API (kube.nonblocking) over HTTPS against the stand-in API server:
-- pending handles give exactly what the blocking calls give, cancel, readiness (ids,
-- the process-wide descriptor, per-handle pollfd), and iterators whose next(0) never
-- waits for the network (issue 12).
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local nb = require "kube.nonblocking"
local testing = require "kube.testing"
local cluster = dofile("spec/helpers/cluster.lua")

local now = core.monotonic

describe("kube.nonblocking", function()
  local srv, client, cms

  setup(function()
    srv = testing.start {}
    client = api.Client:new(config.from_kube_config(srv.kubeconfig))
    cms = client:corev1():configmaps("default")
    assert(select(3, cms:create { metadata = { name = "a" }, data = { x = "1" } }) == 201)
  end)
  teardown(function() if srv then srv.stop() end end)

  -- Waits for a handle without polling: blocks on its id.
  local function settle(h, seconds)
    local deadline = now() + (seconds or 5)
    while not h:ready() and now() < deadline do nb.wait(h:id(), deadline - now()) end
    return h:ready()
  end

  it("starts a get without waiting and gives what the blocking get gives", function()
    cluster.fault(srv, { latencyMs = 300, count = 1, match = "configmaps/a" })
    local t0 = now()
    local h = nb.start(cms, "get", "a")
    assert.is_true(now() - t0 < 0.1, "start returned at once")
    assert.is_false(h:ready())
    assert.is_true(settle(h))
    local obj, info, code = h:result()
    local obj2, info2, code2 = cms:get("a")
    assert.are.equal(code2, code)
    assert.are.equal(obj2.data.x, obj.data.x)
    assert.are.equal(info2.url, info.url)
    assert.are.equal(getmetatable(obj2), getmetatable(obj))
    -- result() again gives the same values.
    assert.are.equal(obj, (h:result()))
  end)

  it("gives errors as the blocking call does (404 as data)", function()
    local status, msg, code = nb.start(cms, "get", "missing"):result()
    local status2, msg2, code2 = cms:get("missing")
    assert.are.equal(404, code)
    assert.are.equal(code2, code)
    assert.are.equal(msg2, msg)
    assert.is_true(status:is_not_found())
    assert.is_true(status2:is_not_found())
  end)

  it("works for every verb: list, create, patch, apply, update, delete, call, raw_call, discovery", function()
    local list = nb.start(cms, "list"):result()
    assert.is_true(#list.items >= 1)
    local created, _, code = nb.start(cms, "create", { metadata = { name = "nb-1" }, data = { k = "1" } }):result()
    assert.are.equal(201, code)
    assert.are.equal("nb-1", created.metadata.name)
    local patched = nb.start(cms, "patch", "nb-1", { data = { k = "2" } }):result()
    assert.are.equal("2", patched.data.k)
    local applied = nb.start(cms, "apply", { metadata = { name = "nb-2" }, data = { k = "3" } }):result()
    assert.are.equal("3", applied.data.k)
    patched.data.k = "4"
    assert.are.equal("4", nb.start(cms, "update", patched):result().data.k)
    local _, _, dcode = nb.start(cms, "delete", "nb-1"):result()
    assert.are.equal(200, dcode)
    local body, _, rcode = nb.start(client, "raw_call", "GET", "v1/namespaces/default/configmaps/a"):result()
    assert.are.equal(200, rcode)
    assert.is_truthy(body:find('"name":"a"', 1, true))
    assert.are.equal("a", nb.start(client, "call", "GET", "v1/namespaces/default/configmaps/a"):result().metadata.name)
    local group = nb.start(client, "api", "v1"):result()
    assert.are.equal("kube.api.GroupClient(v1)", tostring(group))
    -- Cached now: the handle is done at once.
    assert.is_true(nb.start(client, "api", "v1"):ready())
  end)

  it("runs calls concurrently: 5 calls held 500 ms take about 500 ms in all", function()
    cluster.fault(srv, { latencyMs = 500, count = 5, match = "configmaps/a" })
    local t0 = now()
    local hs = {}
    for i = 1, 5 do hs[i] = nb.start(cms, "get", "a") end
    for i = 1, 5 do assert.are.equal(200, select(3, hs[i]:result())) end
    local took = now() - t0
    print(("5 calls held 500 ms each: %.0f ms in all"):format(took * 1000))
    assert.is_true(took < 1.5, took)
  end)

  it("drains a big list in bounded steps and gives exactly what the blocking list gives", function()
    -- 1,500 configmaps of ~1 KB (1.5 MB): the answer arrives while Lua does
    -- nothing, then ready() decodes it in steps of at most ~4 ms of work
    -- (issue 12: an event loop's drain must not hold the loop for the whole
    -- list), and the result is the blocking call's, item for item.
    local ns = client:corev1():namespaces()
    assert(select(3, ns:create { metadata = { name = "drain" } }) == 201)
    local many = client:corev1():configmaps("drain")
    local data = {}
    for k = 1, 12 do data["key-" .. k] = ("v"):rep(60) end
    for i = 1, 1500 do
      assert(select(3, many:create { metadata = { name = ("cm-%05d"):format(i), labels = { d = "1" } }, data = data }) == 201)
    end
    local h = nb.start(many, "list", { labelSelector = "d=1" })
    assert(nb.wait(h:id(), 5))
    -- Let the whole answer arrive before the first ready().
    os.execute("sleep 0.5")
    local steps = 0
    while not h:ready() do
      steps = steps + 1
      nb.wait(h:id(), 1)
    end
    local list, _, code = h:result()
    local list2, _, code2 = many:list { labelSelector = "d=1" }
    assert.are.equal(200, code)
    assert.are.equal(code2, code)
    assert.are.equal(1500, #list.items)
    assert.are.same(list2.items, list.items)
    assert.are.equal(getmetatable(list2.items[1]), getmetatable(list.items[1]))
    print(("a 1,500-configmap list that had arrived whole: %d ready() calls before it was done"):format(steps + 1))
    -- More than one step: the drain stopped at its budget and came back.
    assert.is_true(steps >= 1, "ready() decoded the whole list in one go")
  end)

  it("cancels a call in flight", function()
    cluster.fault(srv, { latencyMs = 2000, count = 1, match = "configmaps/a" })
    local h = nb.start(cms, "get", "a")
    h:cancel()
    local t0 = now()
    local obj, msg = h:result()
    assert.is_true(now() - t0 < 0.5)
    assert.is_nil(obj)
    assert.is_truthy(msg:find("cancelled", 1, true))
    -- The server's delay was used up by the cancelled call; clear it for the others.
    client:call("DELETE", "../testserver/faults")
  end)

  it("reports readiness by id, through the process-wide descriptor and per-handle pollfd", function()
    local fd = nb.fd()
    assert.is_number(fd)
    nb.ready() -- drain
    local h = nb.start(cms, "get", "a")
    assert.is_number(h:pollfd())
    assert.are.equal("r", h:events())
    assert.is_true(settle(h))
    assert.are.equal(0, h:timeout())
    local found = false
    for _, id in ipairs(nb.ready()) do if id == h:id() then found = true end end
    assert.is_true(found, "the handle's id is in nb.ready()")
  end)

  it("next(0) on a watch never waits for the network, and opens the stream", function()
    -- The watch's list and stream are held 1 s by the server: next(0) still returns at once.
    cluster.fault(srv, { latencyMs = 1000, count = 2, match = "namespaces/default/configmaps" })
    local w = cms:watch({ labelSelector = "nbw=1" })
    local worst = 0
    local got
    local deadline = now() + 10
    assert(select(3, client:corev1():configmaps("default"):create { metadata = { name = "w-0", labels = { nbw = "1" } } }) == 201)
    while not got and now() < deadline do
      local t0 = now()
      local kind, obj = w:next(0)
      worst = math.max(worst, now() - t0)
      if kind then got = obj.metadata.name else nb.wait(w:id(), 0.5) end
    end
    print(("watch next(0) worst %.2f ms while its list and stream were held 1 s"):format(worst * 1000))
    assert.are.equal("w-0", got)
    assert.is_true(worst < 0.05, worst)
    -- Idle drain cost.
    local t0 = now()
    for _ = 1, 1000 do w:next(0) end
    local per = (now() - t0) / 1000 * 1e6
    print(("idle w:next(0): %.1f us"):format(per))
    assert.is_true(per < 200, per)
    -- With a starting resourceVersion, next(0) alone opens the stream and delivers.
    local w2 = cms:watch({ labelSelector = "nbw=1", resourceVersion = w:resource_version() })
    assert.is_nil(w2:next(0))
    assert(select(3, cms:create { metadata = { name = "w-1", labels = { nbw = "1" } } }) == 201)
    local kind, obj
    deadline = now() + 5
    repeat
      kind, obj = w2:next(0)
      if not kind then nb.wait(w2:id(), 0.5) end
    until kind or now() > deadline
    assert.are.equal("ADDED", kind)
    assert.are.equal("w-1", obj.metadata.name)
    w:close(); w2:close()
    assert.is_true(w:finished())
  end)

  it("explicit start of an iterator returns the iterator itself", function()
    local it = nb.start(cms, "iter")
    local names = {}
    local deadline = now() + 5
    while not it:finished() and now() < deadline do
      local obj = it:next(0)
      if obj then names[#names + 1] = obj.metadata.name else nb.wait(it:id(), 0.5) end
    end
    assert.is_true(#names >= 1)
  end)

  it("a mock client's handles are done at once", function()
    local mock = api.Client:new(config.from_kube_config(srv.kubeconfig), false, true)
    local h = nb.start(mock:corev1():pods("default"), "list")
    assert.is_true(h:ready())
    assert.are.equal(200, select(3, h:result()))
  end)
end)

-- Streams and the modern API over HTTPS against the stand-in API server:
-- watch (live, across stream ends, 410 Expired, server restart), paging over
-- 10,000 objects, followed logs, server-side apply, CRDs through the dynamic
-- client, the watch-backed cache, and errors as data.
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local objects = require "kube.api.objects"
local testing = require "kube.testing"

local function sleep(seconds)
  local until_ = core.monotonic() + seconds
  while core.monotonic() < until_ do os.execute("sleep 0.1") end
end

local function client_for(srv, context)
  return api.Client:new(config.from_kube_config(srv.kubeconfig, context))
end

-- A client whose bearer token the server does not know.
local function bad_token_client(srv)
  local kc = assert(io.open(srv.kubeconfig)):read("*a")
  local path = srv.dir .. "/kubeconfig-badtoken"
  local f = assert(io.open(path, "w"))
  f:write((kc:gsub("name: admin\n  user: {token: %x+}", "name: admin\n  user: {token: 0000}")))
  f:close()
  return api.Client:new(config.from_kube_config(path))
end

-- A fresh namespace per test, so lists and watches see only that test's objects.
local ns_counter = 0
local function fresh_namespace(client)
  ns_counter = ns_counter + 1
  local name = "t" .. ns_counter .. "-" .. math.random(100000)
  local _, msg, code = client:corev1():namespaces():create { metadata = { name = name } }
  assert(code == 201, msg)
  return name
end

-- Reads `n` events from a watch, failing after `seconds`.
local function take(w, n, seconds)
  local got = {}
  local deadline = core.monotonic() + (seconds or 10)
  while #got < n do
    local left = deadline - core.monotonic()
    assert(left > 0, ("expected %d events, got %d"):format(n, #got))
    local kind, obj = w:next(left)
    if kind then got[#got + 1] = { kind, obj.metadata.name } end
  end
  return got
end

-- `{ {type, name}, … }` → `{ ["TYPE name"] = count }`
local function tally(events)
  local t = {}
  for _, e in ipairs(events) do
    local k = e[1] .. " " .. e[2]
    t[k] = (t[k] or 0) + 1
  end
  return t
end

describe("over HTTPS", function()
  local srv, client

  setup(function()
    -- The API server alone (no controllers, as envtest runs it): these tests
    -- count what a fresh namespace holds and what a watch of it reports.
    srv = testing.start { seed = "spec/fixtures/seed.yaml", controllers = "none" }
    client = client_for(srv)
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  describe("watch", function()
    it("reports the existing objects, then live changes, decoded and wrapped", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      cms:create { metadata = { name = "a" }, data = { v = "1" } }
      cms:create { metadata = { name = "b" } }
      local w = cms:watch(nil, { timeout = 20 })
      assert.are.same({ { "ADDED", "a" }, { "ADDED", "b" } }, take(w, 2))
      cms:create { metadata = { name = "c" } }
      cms:patch("a", { data = { v = "2" } })
      cms:delete("b")
      local kinds, names, last = {}, {}, nil
      for kind, obj in w do
        kinds[#kinds + 1], names[#names + 1], last = kind, obj:name(), obj
        if #kinds == 3 then break end
      end
      assert.are.same({ "ADDED", "MODIFIED", "DELETED" }, kinds)
      assert.are.same({ "c", "a", "b" }, names)
      assert.are.equal(ns, last:namespace())
      assert.are.equal("ConfigMap", last.kind)
      assert.truthy(w:resource_version())
      w:close()
      assert.is_true(w:finished())
    end)

    it("resumes across the ends of the server's streams without losing or repeating an event", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      local w = cms:watch(nil, { timeout = 30, server_timeout = 1 })
      assert.is_nil(w:next(0.2))
      local events = {}
      for i = 1, 4 do
        cms:create { metadata = { name = "r" .. i } }
        for _, e in ipairs(take(w, 1)) do events[#events + 1] = e end
        sleep(1.2) -- the server ends the stream; the next read reconnects
      end
      cms:delete("r1")
      for _, e in ipairs(take(w, 1)) do events[#events + 1] = e end
      assert.are.same({ { "ADDED", "r1" }, { "ADDED", "r2" }, { "ADDED", "r3" }, { "ADDED", "r4" },
        { "DELETED", "r1" } }, events)
      assert.is_nil(w:next(1.5))
      w:close()
    end)

    it("stops at its timeout and closes on break", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      local start = core.monotonic()
      local n = 0
      for _ in cms:watch(nil, { timeout = 1 }) do n = n + 1 end
      assert.are.equal(0, n)
      assert.is_true(core.monotonic() - start < 5)
      cms:create { metadata = { name = "x" } }
      -- what `for kind in cms:watch() do` receives: iterator, state, control, closing value
      local w, state, control, closing = cms:watch()
      for kind in w, state, control, closing do
        assert.are.equal("ADDED", kind)
        break
      end
      if _VERSION == "Lua 5.4" then
        -- the for loop closed its to-be-closed iterator on break
        assert.is_true(w:finished())
      end
      w:close()
      assert.is_true(w:finished())
      -- an abandoned iterator is collected (its __gc drops the connection)
      local weak = setmetatable({}, { __mode = "k" })
      do
        local it = cms:watch()
        it:next(2)
        weak[it] = true
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(next(weak))
    end)

    it("raises the server's error when it refuses the watch", function()
      local ok, err = pcall(function()
        for _ in bad_token_client(srv):corev1():configmaps("default"):watch(nil, { timeout = 5 }) do end
      end)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("Code 401:", 1, true), err)
    end)
  end)

  describe("iter", function()
    it("walks every page of a small list", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      for i = 1, 7 do cms:create { metadata = { name = ("p%02d"):format(i) } } end
      local names = {}
      for obj in cms:iter(nil, { limit = 3 }) do
        names[#names + 1] = obj:name()
        assert.are.equal("ConfigMap", obj.kind)
        assert.are.equal(ns, obj:namespace())
      end
      assert.are.same({ "p01", "p02", "p03", "p04", "p05", "p06", "p07" }, names)
    end)
  end)

  describe("iter restarting", function()
    it("restarts a list whose continue token expired, yielding each object at most once", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      for i = 1, 30 do cms:create { metadata = { name = ("k%02d"):format(i) } } end
      local seen, order = {}, {}
      for obj in cms:iter(nil, { limit = 10 }) do
        local name = obj:name()
        assert.is_nil(seen[name], "yielded twice: " .. name)
        seen[name] = true
        order[#order + 1] = name
        if #order == 10 then
          -- Changes, then a compaction: the next page's token is too old (410).
          cms:delete("k01")
          cms:delete("k25")
          cms:create { metadata = { name = "k99" } }
          local _, err, code = client:raw_call("POST", "../testserver/compact")
          assert(code == 200, err)
        end
      end
      assert.is_true(seen.k01, "yielded before it was deleted")
      assert.is_nil(seen.k25, "deleted before it was reached")
      assert.is_true(seen.k99, "created before the restart reached it")
      assert.are.equal(30, #order)
    end)
  end)

  describe("follow_logs", function()
    it("sees lines appended after it started", function()
      local pods = client:corev1():pods("kube-system")
      local name = "coredns-558bd4d5db-xr5tj"
      local appended = "appended after following started " .. math.random(100000)
      local posted, seen, lines = false, false, 0
      for line in pods:follow_logs(name, { container = "coredns" }, { timeout = 15 }) do
        lines = lines + 1
        if not posted then
          local _, err, code = client:raw_call("POST", "../testserver/logs/kube-system/" .. name .. "/coredns",
            appended .. "\n")
          assert(code == 200, err)
          posted = true
        end
        if line == appended then
          seen = true
          break
        end
      end
      assert.is_true(posted, "no line at all came")
      assert.is_true(seen, ("the appended line did not come (%d lines read)"):format(lines))
    end)

    it("raises for a pod that does not exist", function()
      assert.has_error(function()
        for _ in client:corev1():pods("default"):follow_logs("nope") do end
      end)
    end)
  end)

  describe("server-side apply", function()
    it("reports a conflict between managers and takes over with force", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      local obj, msg, code = cms:apply({ metadata = { name = "ssa" }, data = { owner = "a" } },
        { fieldManager = "tool-a" })
      assert.are.equal(201, code, msg)
      assert.are.equal("a", obj.data.owner)
      local st
      st, msg, code = cms:apply({ metadata = { name = "ssa" }, data = { owner = "b" } }, { fieldManager = "tool-b" })
      assert.are.equal(409, code)
      assert.is_true(st:is_conflict())
      assert.truthy(msg:find("tool%-a"))
      obj, msg, code = cms:apply({ metadata = { name = "ssa" }, data = { owner = "b" } },
        { fieldManager = "tool-b", force = true })
      assert.are.equal(200, code, msg)
      assert.are.equal("b", obj.data.owner)
      assert.are.equal("b", cms:get("ssa").data.owner)
    end)
  end)

  describe("subresources", function()
    it("reads and replaces a deployment's scale", function()
      local ns = fresh_namespace(client)
      local deploys = client:appsv1():deployments(ns)
      local _, msg, code = deploys:create {
        metadata = { name = "web" },
        spec = { replicas = 1, selector = { matchLabels = { app = "web" } },
          template = { metadata = { labels = { app = "web" } }, spec = { containers = { { name = "c", image = "i" } } } } },
      }
      assert.are.equal(201, code, msg)
      local scale
      scale, msg, code = deploys:get_scale("web")
      assert.are.equal(200, code, msg)
      assert.are.equal("Scale", scale.kind)
      assert.are.equal(1, scale.spec.replicas)
      scale, msg, code = deploys:replace_scale("web", 4)
      assert.are.equal(200, code, msg)
      assert.are.equal(4, scale.spec.replicas)
      assert.are.equal(4, deploys:get("web").spec.replicas)
    end)

    it("binds a pod to a node and evicts it", function()
      local ns = fresh_namespace(client)
      local pods = client:corev1():pods(ns)
      -- a scheduler nobody runs: the pod waits for a binding
      local _, msg, code = pods:create { metadata = { name = "p" },
        spec = { schedulerName = "manual", containers = { { name = "c", image = "i" } } } }
      assert.are.equal(201, code, msg)
      assert.is_nil(pods:get("p").spec.nodeName)
      _, msg, code = pods:bind("p", "node-7")
      assert.are.equal(201, code, msg)
      assert.are.equal("node-7", pods:get("p").spec.nodeName)
      _, msg, code = pods:evict("p")
      assert.are.equal(201, code, msg)
      local st
      st, _, code = pods:get("p")
      assert.are.equal(404, code)
      assert.is_true(st:is_not_found())
    end)
  end)

  describe("the dynamic client", function()
    it("serves a CRD's objects once it is created", function()
      local crds = client:apiextensionsv1():customresourcedefinitions()
      local _, msg, code = crds:create {
        metadata = { name = "crontabs.stable.example.com" },
        spec = {
          group = "stable.example.com",
          scope = "Namespaced",
          names = { plural = "crontabs", singular = "crontab", kind = "CronTab", shortNames = { "ct" } },
          versions = { { name = "v1", served = true, storage = true,
            schema = { openAPIV3Schema = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true } } } },
        },
      }
      assert(code == 201, msg)
      local g, err = client:api("stable.example.com/v1")
      assert(g, err)
      local cts = g:crontabs("default")
      local obj, cmsg, code = cts:create { metadata = { name = "nightly" }, spec = { cronSpec = "0 3 * * *" } }
      assert.are.equal(201, code, cmsg)
      assert.are.equal("CronTab", obj.kind)
      assert.are.equal("stable.example.com/v1", obj.apiVersion)
      local list = g:ct("default"):list()
      assert.are.equal(1, #list.items)
      assert.are.equal("nightly", list.items[1]:name())
      -- the core group through discovery too
      local v1 = assert(client:api("v1"))
      assert.are.equal(2, #v1:pods("kube-system"):get())
    end)

    it("returns the failed discovery's Status", function()
      local st, msg, code = client:api("nothing.example.com/v9")
      assert.are.equal(404, code)
      assert.truthy(msg)
      assert.is_true(st:is_not_found())
    end)
  end)

  describe("the cache", function()
    it("converges on the server's state after a burst of changes", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      for i = 1, 10 do cms:create { metadata = { name = "pre" .. i } } end
      local store = cms:informer()
      store:sync(2)
      assert.are.equal(10, #store:list())
      local first = {}
      for kind in store:changes() do first[kind] = (first[kind] or 0) + 1 end
      assert.are.same({ ADDED = 10 }, first)
      for i = 1, 30 do cms:create { metadata = { name = "burst" .. i } } end
      for i = 1, 10 do cms:patch("burst" .. i, { data = { n = tostring(i) } }) end
      for i = 1, 5 do cms:delete("pre" .. i) end
      local expected = {}
      for _, o in ipairs(cms:get()) do expected[o:name()] = o.metadata.resourceVersion end
      local deadline = core.monotonic() + 15
      local function converged()
        local got = {}
        for _, o in ipairs(store:list()) do got[o:name()] = o.metadata.resourceVersion end
        return require("luassert.util").deepcompare(got, expected)
      end
      while not converged() and core.monotonic() < deadline do store:sync(0.5) end
      assert.is_true(converged(), "the cache did not converge")
      assert.are.equal(35, #store:list())
      assert.is_nil(store:get(ns, "pre1"))
      assert.are.equal("3", store:get(ns, "burst3").data.n)
      local counts = {}
      for kind, obj, old in store:changes() do
        counts[kind] = (counts[kind] or 0) + 1
        if kind == "DELETED" then assert.are.equal(obj:name(), old:name()) end
      end
      assert.are.same({ ADDED = 30, MODIFIED = 10, DELETED = 5 }, counts)
      store:close()
    end)

    it("calls on_change instead of queueing", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      local seen = {}
      local store = cms:informer(nil, { on_change = function(kind, obj) seen[#seen + 1] = kind .. " " .. obj:name() end })
      store:sync(1)
      cms:create { metadata = { name = "cb" } }
      local deadline = core.monotonic() + 10
      while #seen == 0 and core.monotonic() < deadline do store:sync(0.5) end
      assert.are.same({ "ADDED cb" }, seen)
      assert.is_nil(store:changes()())
      store:close()
    end)
  end)

  describe("errors as data", function()
    it("answers each failure with a Status and a helper that says which", function()
      local cms = client:corev1():configmaps("default")
      local st, msg, code = cms:get("missing")
      assert.are.equal(404, code)
      assert.are.equal("NotFound", st.reason)
      assert.is_true(st:is_not_found())
      assert.is_true(st:is_failure())
      assert.is_false(st:is_conflict())
      assert.truthy(msg:find("missing"))

      cms:create { metadata = { name = "dup" } }
      st, _, code = cms:create { metadata = { name = "dup" } }
      assert.are.equal(409, code)
      assert.is_true(st:is_already_exists())
      assert.is_false(st:is_conflict())
      assert.are.equal("dup", st.details.name)

      local ro = client_for(srv, "testserver-readonly"):corev1():configmaps("default")
      st, _, code = ro:create { metadata = { name = "ro" } }
      assert.are.equal(403, code)
      assert.is_true(st:is_forbidden())

      st, _, code = bad_token_client(srv):corev1():configmaps("default"):get("dup")
      assert.are.equal(401, code)
      assert.is_true(st:is_unauthorized())

      st, _, code = cms:create { metadata = { name = "Not_A_Valid_Name" } }
      assert.are.equal(422, code)
      assert.is_true(st:is_invalid())
    end)

    it("reports an expired continue token as gone", function()
      local ns = fresh_namespace(client)
      local cms = client:corev1():configmaps(ns)
      for i = 1, 3 do cms:create { metadata = { name = "g" .. i } } end
      local page = cms:list { limit = 1 }
      assert.truthy(page.metadata.continue)
      cms:create { metadata = { name = "g4" } } -- history moves past the token's snapshot
      local _, err, code = client:raw_call("POST", "../testserver/compact")
      assert(code == 200, err)
      local st
      st, _, code = cms:list { limit = 1, continue = page.metadata.continue }
      assert.are.equal(410, code)
      assert.is_true(st:is_gone())
      assert.is_false(st:is_not_found())
    end)

    it("reports a stale update as a conflict", function()
      local cms = client:corev1():configmaps("default")
      local obj = cms:create { metadata = { name = "stale" }, data = { a = "1" } }
      cms:patch("stale", { data = { a = "2" } })
      obj.data.a = "3"
      local st, _, code = cms:update(obj)
      assert.are.equal(409, code)
      assert.is_true(st:is_conflict())
    end)

    it("classifies the Status shapes real servers send", function()
      local gone = objects.Status:new { kind = "Status", status = "Failure", reason = "Expired", code = 410,
        message = "too old resource version: 1 (5)" }
      assert.is_true(gone:is_gone())
      assert.is_false(gone:is_not_found())
      local bare = objects.Status:new { kind = "Status", status = "Failure", code = 404 }
      assert.is_true(bare:is_not_found())
      local conflict = objects.Status:new { reason = "Conflict", code = 409 }
      assert.is_true(conflict:is_conflict())
      assert.is_false(conflict:is_already_exists())
    end)
  end)
end)

describe("paging over 10,000 objects", function()
  local srv, client

  setup(function()
    local seed = os.tmpname()
    local f = assert(io.open(seed, "w"))
    f:write("apiVersion: v1\nkind: Namespace\nmetadata: {name: bulk}\n")
    for i = 1, 10000 do
      f:write(("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%05d, namespace: bulk}\ndata: {i: \"%d\"}\n")
        :format(i, i))
    end
    f:close()
    srv = testing.start { seed = seed, timeout = 120, controllers = "none" }
    os.remove(seed)
    client = client_for(srv)
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  it("cuts lists at limit 500 and iter yields every object once", function()
    local cms = client:corev1():configmaps("bulk")
    local page = cms:list { limit = 500 }
    assert.are.equal(500, #page.items)
    assert.truthy(page.metadata.continue)
    local seen, n = {}, 0
    for obj in cms:iter(nil, { limit = 500 }) do
      assert.is_nil(seen[obj:name()], "yielded twice: " .. obj:name())
      seen[obj:name()] = true
      n = n + 1
    end
    assert.are.equal(10000, n)
    assert.is_true(seen["cm-00001"] and seen["cm-10000"])
  end)

  it("lets a watch report every object once as ADDED, page by page, then live changes", function()
    local cms = client:corev1():configmaps("bulk")
    local w = cms:watch(nil, { timeout = 60 })
    local seen, n = {}, 0
    while n < 10000 do
      local kind, obj = w:next(30)
      assert.are.equal("ADDED", kind)
      -- In the list's order: each page is asked for once the one before it
      -- gave its continue token, and handed out after it.
      assert.are.equal(("cm-%05d"):format(n + 1), obj:name())
      assert.is_nil(seen[obj:name()], "reported twice: " .. obj:name())
      assert.are.equal("ConfigMap", obj.kind)
      seen[obj:name()] = true
      n = n + 1
    end
    assert.is_true(seen["cm-00001"] and seen["cm-10000"])
    cms:patch("cm-00007", { data = { i = "changed" } })
    local kind, obj = w:next(10)
    assert.are.equal("MODIFIED", kind)
    assert.are.equal("changed", obj.data.i)
    w:close()
  end)
end)

describe("watch under server faults", function()
  local srv, client

  setup(function()
    srv = testing.start { seed = "spec/fixtures/seed.yaml", controllers = "none",
      args = { "--watch-history", "5", "--bookmark-interval-ms", "300" } }
    client = client_for(srv)
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  it("re-lists on 410 Expired and reports exactly what changed", function()
    local ns = fresh_namespace(client)
    local cms = client:corev1():configmaps(ns)
    for i = 1, 6 do cms:create { metadata = { name = "old" .. i } } end
    local w = cms:watch(nil, { timeout = 30, server_timeout = 1 })
    assert.are.equal(6, #take(w, 6))
    sleep(1.5) -- the stream ends while the watch is not reading
    for i = 1, 10 do cms:create { metadata = { name = "new" .. i } } end
    for i = 1, 3 do cms:patch("old" .. i, { data = { changed = "yes" } }) end
    cms:patch("old1", { data = { changed = "twice" } })
    for i = 4, 6 do cms:delete("old" .. i) end
    cms:create { metadata = { name = "short-lived" } }
    cms:delete("short-lived")
    -- 19 changes, history 5: resuming gets 410 and the watch lists again. The
    -- re-list shows old1 changed once and never saw short-lived (a replay of
    -- the changes would report both).
    local events = take(w, 16)
    local expected = {}
    for i = 1, 10 do expected["ADDED new" .. i] = 1 end
    for i = 1, 3 do expected["MODIFIED old" .. i] = 1 end
    for i = 4, 6 do expected["DELETED old" .. i] = 1 end
    assert.are.same(expected, tally(events))
    assert.is_nil(w:next(1.5))
    cms:create { metadata = { name = "after" } }
    assert.are.same({ { "ADDED", "after" } }, take(w, 1))
    w:close()
  end)

  -- "listed" is reported by the watch's list, "watched" by its stream; both
  -- are deleted while the watch is away past the history of 5, so the watch
  -- lists again and finds both missing. Returns the namespace, the DELETED
  -- objects by name and the last states the calls answered.
  local function deleted_while_away(opts)
    local ns = fresh_namespace(client)
    local cms = client:corev1():configmaps(ns)
    local last = { listed = cms:create { metadata = { name = "listed" }, data = { v = "0" } } }
    opts.timeout, opts.server_timeout = 30, 1
    local w = cms:watch(nil, opts)
    assert.are.same({ { "ADDED", "listed" } }, take(w, 1))
    cms:create { metadata = { name = "watched", labels = { app = "x" } }, data = { v = "1" } }
    last.watched = cms:patch("watched", { data = { v = "2" } })
    assert.are.same({ { "ADDED", "watched" }, { "MODIFIED", "watched" } }, take(w, 2))
    sleep(1.5) -- the stream ends while the watch is not reading
    for i = 1, 6 do cms:create { metadata = { name = "filler" .. i } } end
    cms:delete("watched")
    cms:delete("listed")
    local deleted = {}
    for _ = 1, 8 do
      local kind, obj = w:next(10)
      if kind == "DELETED" then deleted[obj:name()] = obj end
    end
    w:close()
    return ns, deleted, last
  end

  it("reports objects deleted while away with the last state it saw, listed or watched, when asked", function()
    local ns, deleted = deleted_while_away { keep_last_state = true }
    local watched, listed = deleted.watched, deleted.listed
    assert.are.equal("2", watched.data.v)
    assert.are.equal("x", watched.metadata.labels.app)
    assert.are.equal("0", listed.data.v)
    for _, obj in ipairs { watched, listed } do
      assert.are.equal("ConfigMap", obj.kind)
      assert.are.equal("v1", obj.apiVersion)
      assert.are.equal(ns, obj:namespace())
    end
  end)

  it("reports objects deleted while away by their identity by default", function()
    local ns, deleted, last = deleted_while_away {}
    -- kind, apiVersion and the metadata that names the object and its last
    -- reported version; nothing of its content.
    for _, name in ipairs { "watched", "listed" } do
      local obj = deleted[name]
      assert.are.same({
        kind = "ConfigMap",
        apiVersion = "v1",
        metadata = {
          namespace = ns,
          name = name,
          uid = last[name].metadata.uid,
          resourceVersion = last[name].metadata.resourceVersion,
        },
      }, obj)
      assert.are.equal(ns, obj:namespace())
    end
  end)

  it("asks for bookmarks and resumes from them", function()
    local quiet = fresh_namespace(client)
    local busy = client:corev1():configmaps(fresh_namespace(client))
    local w = client:corev1():configmaps(quiet):watch(nil, { timeout = 20, bookmarks = true })
    assert.is_nil(w:next(0.2))
    local before = tonumber(w:resource_version())
    local changed = busy:create { metadata = { name = "elsewhere" } }
    local target = tonumber(changed.metadata.resourceVersion)
    assert.is_true(target > before)
    -- The quiet watch sees no event, but its bookmarks carry the newer resourceVersion.
    local deadline = core.monotonic() + 10
    local bookmark
    while core.monotonic() < deadline do
      local kind, obj = w:next(1)
      if kind == "BOOKMARK" and tonumber(obj.metadata.resourceVersion) >= target then
        bookmark = obj
        break
      end
      assert.is_true(kind == nil or kind == "BOOKMARK", kind)
    end
    assert.truthy(bookmark, "no bookmark at or after the change")
    assert.is_true(tonumber(w:resource_version()) >= target)
    w:close()
  end)

  it("keeps going through failed connections and 503 answers", function()
    local ns = fresh_namespace(client)
    local cms = client:corev1():configmaps(ns)
    local w = cms:watch(nil, { timeout = 30, server_timeout = 1 })
    assert.is_nil(w:next(0.2))
    local function fault(rule)
      local _, err, code = client:raw_call("POST", "../testserver/faults", rule)
      assert(code == 200 or code == 201, err)
    end
    local path = "/namespaces/" .. ns .. "/configmaps"
    fault { status = 503, count = 1, match = path }
    fault { mode = "reset", count = 1, match = path }
    fault { mode = "truncate-json", count = 1, match = path }
    fault { mode = "drop-mid-body", count = 1, match = path }
    sleep(1.2) -- the stream ends; reconnecting meets the four faults (with backoff)
    assert.is_nil(w:next(6))
    assert.is_false(w:finished())
    local rules = client:call("GET", "../testserver/faults")
    assert.are.same({}, rules.faults or {}, "the watch did not meet every fault")
    cms:create { metadata = { name = "through-faults" } }
    assert.are.same({ { "ADDED", "through-faults" } }, take(w, 1, 20))
    assert.is_nil(w:next(1.5))
    client:raw_call("DELETE", "../testserver/faults")
    w:close()
  end)

  it("survives a server restart", function()
    local cms = client:corev1():configmaps("default")
    local w = cms:watch(nil, { timeout = 60, server_timeout = 5 })
    while w:next(0.5) do end
    srv.restart()
    local again = client_for(srv):corev1():configmaps("default")
    again:create { metadata = { name = "after-restart" } }
    local found = false
    local deadline = core.monotonic() + 40
    while not found and core.monotonic() < deadline do
      local kind, obj = w:next(1)
      if kind and obj:name() == "after-restart" then found = true end
    end
    w:close()
    assert.is_true(found, "the watch did not report the object created after the restart")
  end)
end)

-- Issue 16: the module against a misbehaving API server over HTTPS (the
-- `hostile` mode of spec/helpers/netfixture.py, one fault per namespace),
-- plus the defects that need the real stand-in server (names in URLs, deep
-- objects) or none (kubeconfigs, plugins, misuse). Each `it` names its
-- defect number in issue 16; each failed before its fix.
local api = require "kube.api"
local config = require "kube.config"
local cache = require "kube.cache"
local testing = require "kube.testing"
local nf = dofile("spec/helpers/netfixture.lua")
local cluster = dofile("spec/helpers/cluster.lua")

local dir, hostile, srv, facts

setup(function()
  dir = nf.tmpdir()
  hostile = nf.hostile(dir)
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
  facts = cluster.facts(srv)
end)

teardown(function()
  if hostile then hostile.stop() end
  if srv then srv.stop() end
  if dir then os.execute("rm -rf " .. dir) end
end)

local function clock() return require("kube.core").monotonic() end

--- A client of the hostile server with `limits` (conf:set_limits) and
--- `timeouts` (conf:set_timeouts).
local function hostile_client(limits, timeouts)
  local conf = config.from_kube_config(hostile.kubeconfig)
  if limits then conf:set_limits(limits) end
  if timeouts then conf:set_timeouts(timeouts) end
  return api.Client:new(conf)
end

local function cms(fault, limits, timeouts)
  return hostile_client(limits, timeouts):corev1():configmaps(fault)
end

local function pods(fault, limits)
  return hostile_client(limits):corev1():pods(fault)
end

--- Requests the hostile server logged for `fault`, by kind.
local function requests(fault, watch)
  local n = 0
  for _, l in ipairs(nf.lines(hostile.log)) do
    if l:find("/namespaces/" .. fault .. "/", 1, true) then
      local is_watch = l:find("watch=true", 1, true) ~= nil
      if watch == nil or watch == is_watch then n = n + 1 end
    end
  end
  return n
end

local MiB = 1024 * 1024

describe("bounded answers (defect 2)", function()
  it("an endless body ends get, list and logs with a limit error", function()
    local rc = cms("endless-body", { body = 4 * MiB })
    local t = clock()
    local obj, msg = rc:get("x")
    assert.is_nil(obj)
    assert.truthy(msg:find("exceeds the limit of 4 MiB", 1, true), msg)
    obj, msg = rc:list()
    assert.is_nil(obj)
    assert.truthy(msg:find("exceeds the limit", 1, true), msg)
    local text, lmsg = pods("endless-body", { body = 4 * MiB }):logs("p")
    assert.is_nil(text)
    assert.truthy(lmsg:find("exceeds the limit", 1, true), lmsg)
    assert.is_true(clock() - t < 15, "took " .. (clock() - t))
  end)

  it("an endless body raises in iter, an endless line in watch and follow_logs", function()
    local ok, err = pcall(function()
      for _ in cms("endless-body", { body = 4 * MiB }):iter() do end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("exceeds the limit", 1, true), err)
    ok, err = pcall(function()
      for _ in cms("endless-body", { line = MiB }):watch({ resourceVersion = "1" }) do end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("a line of the stream exceeds the limit of 1 MiB", 1, true), err)
    ok, err = pcall(function()
      for _ in pods("endless-body", { line = MiB }):follow_logs("p") do end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("exceeds the limit of 1 MiB", 1, true), err)
  end)

  it("a gzip bomb stops at the limit, counted after decompression", function()
    local obj, msg = cms("gzip-bomb", { body = 8 * MiB }):get("x")
    assert.is_nil(obj)
    assert.truthy(msg:find("exceeds the limit of 8 MiB", 1, true), msg)
  end)

  it("conf:set_limits checks its arguments", function()
    local conf = config.from_kube_config(hostile.kubeconfig)
    assert.has_error(function() conf:set_limits { body = -1 } end)
    assert.has_error(function() conf:set_limits { bytes = 1 } end)
    assert.has_error(function() conf:set_limits { plugin_time = -1 } end)
    conf:set_limits { body = 1e30, plugin_time = 1e19 }
  end)
end)

describe("hangs and hot loops", function()
  it("follow_logs and watch end at opts.timeout under a flood (defect 7)", function()
    local t = clock()
    local n = 0
    for _ in pods("endless-lines"):follow_logs("p", nil, { timeout = 1 }) do n = n + 1 end
    assert.is_true(clock() - t < 4, "follow_logs took " .. (clock() - t))
    assert.is_true(n > 100, "lines " .. n)
    t = clock()
    n = 0
    for _ in cms("endless-lines"):watch({ resourceVersion = "1" }, { timeout = 1 }) do n = n + 1 end
    assert.is_true(clock() - t < 4, "watch took " .. (clock() - t))
    assert.is_true(n > 100, "events " .. n)
  end)

  it("an undecodable event is an error the loop sees, and what follows is not lost (defect 8)", function()
    local w = cms("bad-event"):watch({ resourceVersion = "1" }, { timeout = 10 })
    local kind, obj = w:next(5)
    assert.are.equal("ADDED", kind)
    assert.are.equal("good1", obj.metadata.name)
    local ok, err = pcall(w.next, w, 5)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("malformed event", 1, true), err)
    kind, obj = w:next(5)
    assert.are.equal("ADDED", kind)
    assert.are.equal("good2", obj.metadata.name)
    w:close()
    assert.are.equal(1, requests("bad-event", true), "one watch request, no reconnect")
  end)

  it("streams that end at once are backed off and counted toward retries (defect 9)", function()
    local t = clock()
    local ok, err = pcall(function()
      for _ in cms("short-stream"):watch(nil, { retries = 3 }) do end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("giving up after 4 failed attempts", 1, true), err)
    assert.is_true(requests("short-stream", true) <= 5, "watch requests: " .. requests("short-stream", true))
    assert.is_true(clock() - t > 1, "no backoff")
  end)

  it("410 on every watch re-lists with backoff and gives up (defect 9)", function()
    local ok, err = pcall(function()
      for _ in cms("always-410"):watch(nil, { retries = 3 }) do end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("410 Expired again", 1, true), err)
    assert.is_true(requests("always-410", false) <= 6, "lists: " .. requests("always-410", false))
  end)

  it("a continue token that comes back is an error (defect 10)", function()
    local n = 0
    local ok, err = pcall(function()
      for _ in cms("repeat-continue"):iter() do n = n + 1 end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("continue token it had sent before", 1, true), err)
    assert.is_true(n <= 2, "items " .. n)
  end)

  it("HTTP 500 on a watch raises Code 500 at once (defect 11)", function()
    local t = clock()
    local ok, err = pcall(function()
      for _ in cms("watch-500"):watch({ resourceVersion = "1" }) do end
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("Code 500", 1, true), err)
    assert.are.equal(1, requests("watch-500", true))
    assert.is_true(clock() - t < 3)
  end)

  it("a BOOKMARK without metadata is ignored, later events arrive (defect 20)", function()
    local w = cms("bookmark-nometa"):watch({ resourceVersion = "1" }, { timeout = 10 })
    local kind, obj = w:next(5)
    assert.are.equal("ADDED", kind)
    assert.are.equal("after-bookmark", obj.metadata.name)
    w:close()
  end)
end)

describe("answers", function()
  it("an empty 200 body gives nil and a message (defect 21)", function()
    local obj, msg = cms("empty-200"):get("x")
    assert.is_nil(obj)
    assert.are.equal("string", type(msg))
    assert.truthy(msg:find("was empty", 1, true), msg)
    local list, lmsg = cms("empty-200"):list()
    assert.is_nil(list)
    assert.are.equal("string", type(lmsg))
  end)

  it("a server echoing the Authorization header does not get the token into messages (defect 15)", function()
    local st, msg, code = cms("echo-auth"):get("x")
    assert.are.equal(403, code)
    assert.falsy(msg:find(hostile.token, 1, true), msg)
    assert.truthy(msg:find("Bearer [redacted]", 1, true), msg)
    assert.falsy(st.message:find(hostile.token, 1, true))
  end)

  it("a password in the server URL is never shown nor sent (defect 14)", function()
    local text = nf.read(hostile.kubeconfig):gsub("https://127", "https://user:s3cret-pw@127")
    local kc = nf.write(dir .. "/userinfo.kubeconfig", text)
    local conf = config.from_kube_config(kc)
    assert.falsy(tostring(conf):find("s3cret", 1, true))
    local client = api.Client:new(conf)
    assert.falsy(tostring(client):find("s3cret", 1, true))
    local _, msg = client:corev1():configmaps("echo-auth"):get("x")
    assert.falsy(msg:find("s3cret", 1, true), msg)
    -- The configured token is what was sent (kubectl ignores URL userinfo).
    assert.truthy(msg:find("Bearer [redacted]", 1, true), msg)
    local _, info, code = client:raw_call("GET", "v1/namespaces/empty-200/configmaps/x")
    assert.are.equal(200, code)
    assert.are.equal(hostile.url .. "/api/v1/namespaces/empty-200/configmaps/x", info.url)
  end)
end)

describe("names in URLs (defect 5)", function()
  local client

  before_each(function()
    client = cluster.admin(srv)
  end)

  it("names that are not path segments are refused with the call's name", function()
    local secrets = client:corev1():secrets("default")
    assert.are.equal(201, select(3, secrets:create { metadata = { name = "victim" }, data = {} }))
    local cms_ = client:corev1():configmaps("default")
    for _, bad in ipairs { "../secrets/victim", "..", ".", "a/b", "a%2Fb", "x\r\ny", "tab\t" } do
      local ok, err = pcall(cms_.delete, cms_, bad)
      assert.is_false(ok, bad)
      assert.truthy(tostring(err):find("configmaps:delete: name", 1, true), err)
    end
    assert.are.equal(200, select(3, secrets:get("victim")), "the secret is still there")
    local ok, err = pcall(function() return client:corev1():pods("../kube-system") end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("corev1:pods: namespace", 1, true), err)
    ok, err = pcall(cms_.create, cms_, { metadata = { name = "x", namespace = "../kube-system" } })
    assert.is_true(ok) -- the client's namespace wins
    local all = client:corev1():configmaps()
    ok, err = pcall(all.create, all, { metadata = { name = "x", namespace = "../kube-system" } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("obj.metadata.namespace", 1, true), err)
    ok, err = pcall(cms_.update, cms_, { metadata = { name = "../x" } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("configmaps:update: name", 1, true), err)
  end)

  it("the rest is percent-encoded: a '?' in a name is not a query", function()
    local st, _, code = client:corev1():configmaps("default"):get("x?watch=true")
    assert.are.equal(404, code)
    assert.is_true(st:is_not_found())
  end)

  it("legitimate names give exactly luakube's URLs", function()
    local mock = api.Client:new(config.from_kube_config(srv.kubeconfig), false, true)
    local _, info = mock:rbacv1():clusterroles():get("system:controller:job-controller")
    assert.are.equal(srv.url .. "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:controller:job-controller", info.url)
    _, info = mock:corev1():configmaps("kube-system"):delete("my-app.v2")
    assert.are.equal(srv.url .. "/api/v1/namespaces/kube-system/configmaps/my-app.v2", info.url)
    _, info = mock:corev1():pods("default"):logs("web-0", { container = "c" })
    assert.are.equal(srv.url .. "/api/v1/namespaces/default/pods/web-0/log?container=c", info.url)
  end)
end)

describe("deep documents", function()
  local function nested(depth)
    local root = {}
    local t = root
    for _ = 1, depth do
      t.n = {}
      t = t.n
    end
    t.leaf = "end"
    return root
  end

  it("a custom resource nested as deep as the server stores reads back (defect 17)", function()
    local client = cluster.admin(srv)
    local crds = client:apiextensionsv1():customresourcedefinitions()
    local _, msg, code = crds:create {
      metadata = { name = "deeps.hardening.example.com" },
      spec = {
        group = "hardening.example.com",
        scope = "Namespaced",
        names = { plural = "deeps", singular = "deep", kind = "Deep" },
        versions = { { name = "v1", served = true, storage = true,
          schema = { openAPIV3Schema = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true } } } },
      },
    }
    assert(code == 201 or code == 409, msg)
    local g = assert(client:api("hardening.example.com/v1"))
    local deeps = g:deeps("default")
    local created, cmsg, ccode = deeps:create { metadata = { name = "deep" }, spec = nested(124) }
    assert.are.equal(201, ccode, cmsg)
    assert.is_table(created, cmsg)
    local got, gmsg = deeps:get("deep")
    assert.is_table(got, gmsg)
    local t, depth = got.spec, 0
    while t.n do t, depth = t.n, depth + 1 end
    assert.are.equal(124, depth)
    assert.are.equal("end", t.leaf)
  end)

  it("deep YAML fails fast: a kubeconfig and a body (defect 13)", function()
    local deep = string.rep("[", 100000) .. string.rep("]", 100000)
    local kc = nf.write(dir .. "/deep.kubeconfig", "apiVersion: v1\nkind: Config\nclusters: " .. deep .. "\n")
    local t = clock()
    local ok, err = pcall(config.from_kube_config, kc)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("nests deeper than", 1, true), err)
    local mock = api.Client:new(config.from_kube_config(srv.kubeconfig), false, true)
    local cm = mock:corev1():configmaps("default")
    ok, err = pcall(cm.create, cm, "metadata: " .. deep)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("nests deeper than", 1, true), err)
    assert.is_true(clock() - t < 2, "took " .. (clock() - t))
  end)
end)

describe("kubeconfigs", function()
  it("a tokenFile naming a FIFO or /dev/zero is refused at once (defect 12)", function()
    local fifo = dir .. "/token.fifo"
    assert(os.execute("mkfifo " .. fifo))
    for _, path in ipairs { fifo, "/dev/zero" } do
      local kc = nf.write(dir .. "/tf.kubeconfig",
        cluster.kubeconfig(facts, { user = "    tokenFile: " .. path }))
      local t = clock()
      local ok, conf = pcall(config.from_kube_config, kc)
      local msg
      if ok then
        -- Either the load or the first call refuses it; neither blocks.
        local _, m = api.Client:new(conf):corev1():namespaces():get("default")
        msg = m
      else
        msg = tostring(conf)
      end
      assert.truthy(tostring(msg):find("not a regular file", 1, true), msg)
      assert.is_true(clock() - t < 2)
    end
  end)

  it("a kubeconfig starting with a UTF-8 BOM loads (defect 18)", function()
    local kc = nf.write(dir .. "/bom.kubeconfig", "\239\187\191" .. cluster.kubeconfig(facts, {}))
    local client = api.Client:new(config.from_kube_config(kc))
    assert.are.equal(200, select(3, client:corev1():namespaces():get("default")))
  end)
end)

describe("exec plugins are bounded (defect 6, defect 2)", function()
  local function plugin_client(script, limits)
    local path = nf.write(dir .. "/plugin-" .. math.random(1e9) .. ".sh", script)
    local kc = nf.write(dir .. "/exec.kubeconfig", cluster.kubeconfig(facts, {
      user = table.concat({
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1",
        "      interactiveMode: Never",
        "      command: sh",
        "      args: [" .. path .. "]",
      }, "\n"),
    }))
    local conf = config.from_kube_config(kc)
    conf:set_timeouts { request = 2 }
    if limits then conf:set_limits(limits) end
    return api.Client:new(conf)
  end
  local cred = ([[printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}']])

  it("a plugin that never exits, or keeps running after printing, is stopped at the request timeout", function()
    for _, script in ipairs {
      "sleep 100\n",
      cred:format(facts.admin_token) .. "\nsleep 100\n",
      cred:format(facts.admin_token) .. "\n(sleep 100 &)\nexit 0\n",
    } do
      local t = clock()
      local _, msg = plugin_client(script):corev1():namespaces():get("default")
      assert.truthy(tostring(msg):find("did not finish within 2 s", 1, true), msg)
      assert.is_true(clock() - t < 6, "took " .. (clock() - t))
    end
  end)

  it("a plugin writing without end is stopped at plugin_output", function()
    local t = clock()
    local _, msg = plugin_client("yes\n", { plugin_output = MiB }):corev1():namespaces():get("default")
    assert.truthy(tostring(msg):find("wrote more than 1 MiB", 1, true), msg)
    assert.is_true(clock() - t < 6)
  end)
end)

describe("durations and misuse", function()
  it("huge durations saturate: no panic, nothing on stderr (defect 16)", function()
    local code = ([[
      package.path = %q
      package.cpath = %q
      local api = require "kube.api"
      local config = require "kube.config"
      local c = api.Client:new(config.from_kube_config(%q))
      local cms = c:corev1():configmaps("default")
      local w = cms:watch(nil, { timeout = 1e19 })
      assert(w:next(0.3) ~= "boom")
      pcall(function()
        for _ in c:corev1():pods("default"):follow_logs("nope", nil, { timeout = 1e300 }) do end
      end)
      w:close()
      print("done")
    ]]):format(package.path, package.cpath, srv.kubeconfig)
    local script = nf.write(dir .. "/durations.lua", code)
    local p = assert(io.popen(nf.interpreter() .. " " .. script .. " 2>&1"))
    local out = p:read("*a")
    p:close()
    assert.truthy(out:find("done", 1, true), out)
    assert.falsy(out:find("panicked", 1, true), out)
    assert.falsy(out:find("internal error", 1, true), out)
  end)

  it("informer misuse gets the documented messages (defect 19)", function()
    local rc = cluster.admin(srv):corev1():configmaps("default")
    local ok, err = pcall(cache.informer, nil)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("call it as a method, with ':'", 1, true), err)
    local store = rc:informer()
    ok, err = pcall(store.sync)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("store:sync: call it as a method, with ':'", 1, true), err)
    ok, err = pcall(store.sync, store, "soon")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("store:sync: timeout", 1, true), err)
    ok, err = pcall(store.get, store, {})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("store:get", 1, true), err)
    ok, err = pcall(rc.informer, rc, nil, { on_change = 5 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("on_change must be a function", 1, true), err)
    store:close()
  end)
end)

describe("crashes", function()
  --- Runs `body` in a child interpreter with the module on its paths;
  --- returns whether it exited cleanly and its output.
  local function child(body)
    local script = nf.write(dir .. "/crash-" .. math.random(1e9) .. ".lua", ([[
      package.path = %q
      package.cpath = %q
      local api = require "kube.api"
      local config = require "kube.config"
      KUBECONFIG = %q
    ]]):format(package.path, package.cpath, srv.kubeconfig) .. body)
    local p = assert(io.popen(nf.interpreter() .. " " .. script .. " 2>&1; echo \"exit=$?\""))
    local out = p:read("*a")
    p:close()
    return out:match("exit=(%d+)") == "0", out
  end

  it("a foreign object carrying a module metatable is refused, never read as one (defect 3)", function()
    for _, case in ipairs {
      'print(pcall(function() return setmetatable({}, mt):get("x") end))',
      "print(pcall(mt.__gc, {}))",
      "local t = setmetatable({}, mt); t = nil; collectgarbage(); collectgarbage()",
      "print(pcall(tostring, setmetatable({}, mt)))",
      'local w = cms:watch(); debug.setmetatable(w, mt); print(pcall(function() return w:get("x") end)); w = nil; collectgarbage(); collectgarbage()',
      'local w = cms:watch(); local wmt = debug.getmetatable(w); debug.setmetatable(cms, wmt); print(pcall(function() return cms() end)); cms = nil; collectgarbage(); collectgarbage()',
      'local conf = config.from_token("t", "https://127.0.0.1:1"); debug.setmetatable(conf, mt); print(pcall(api.Client.new, api.Client, conf)); print(pcall(tostring, conf))',
    } do
      local ok, out = child([[
        local c = api.Client:new(config.from_token("abc", "https://127.0.0.1:1"), false, true)
        cms = c:corev1():configmaps("default")
        mt = debug.getmetatable(cms)
      ]] .. case .. '\nprint("done")\n')
      assert.is_true(ok, case .. "\n" .. out)
      assert.truthy(out:find("done", 1, true), case .. "\n" .. out)
    end
  end)

  it("API calls from finalizers at interpreter exit do not crash (defect 1)", function()
    local guard = newproxy and [[
      local function guard(f)
        local p = newproxy(true)
        getmetatable(p).__gc = f
        _G["guard" .. math.random(1e9)] = p
      end
    ]] or [[
      local function guard(f) _G["guard" .. math.random(1e9)] = setmetatable({}, { __gc = f }) end
    ]]
    for _, live in ipairs { false, true } do
      local ok, out = child(guard .. ([[
        local live = %s
        local c = live and api.Client:new(config.from_kube_config(KUBECONFIG))
          or api.Client:new(config.from_token("abc", "https://127.0.0.1:1"), false, true)
        local cms = c:corev1():configmaps("default")
        guard(function() print("get", pcall(cms.get, cms, "x")) end)
        guard(function() print("list", pcall(cms.list, cms)) end)
        guard(function() print("get()", pcall(cms.get, cms)) end)
        guard(function() print("create", pcall(cms.create, cms, { metadata = { name = "at-exit" } })) end)
        guard(function() print("delete", pcall(cms.delete, cms, "at-exit")) end)
        guard(function() print("new", pcall(function() return c:corev1():pods("default"):get("y") end)) end)
        print("done")
      ]]):format(tostring(live)))
      assert.is_true(ok, out)
      assert.falsy(out:find("memory allocation", 1, true), out)
      assert.falsy(out:find("unknown method", 1, true), out)
    end
  end)
end)

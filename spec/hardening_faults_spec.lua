-- Fault injection, seen from a script: each case runs in a child Lua process
-- under a hard time limit, against the stand-in server's faults
-- (POST /testserver/faults) or a TLS server with a bad certificate. The
-- child asserts what it got (a clear `nil, message`, a raised error, or a
-- transparent retry); the parent checks that it finished in time, exited
-- cleanly and printed nothing on stderr (no Rust panic message).
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"
local nf = dofile("spec/helpers/netfixture.lua")
local cluster = dofile("spec/helpers/cluster.lua")

local srv, facts, dir

setup(function()
  srv = testing.start { seed = "spec/fixtures/seed.yaml" }
  facts = cluster.facts(srv)
  dir = nf.tmpdir()
end)

teardown(function()
  if srv then srv.stop() end
  if dir then os.execute("rm -rf " .. dir) end
end)

local function admin() return cluster.admin(srv) end
local function fault(rule) cluster.fault(srv, rule) end

after_each(function()
  admin():call("DELETE", "../testserver/faults")
end)

local PODS = "/api/v1/namespaces/kube-system/pods"
local CMS = "/api/v1/namespaces/default/configmaps"

-- Prepended to every child: `conf` from KC with short timeouts and quick
-- retries, `elapsed()`, and `check(cond, ...)` that fails the child with a message.
local PRELUDE = [[
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local t0 = core.monotonic()
local function elapsed() return core.monotonic() - t0 end
local function check(cond, ...)
  if not cond then
    io.stdout:write("CHECK FAILED: ", table.concat({ tostring(select(1, ...)), tostring(select(2, ...)) }, " "), "\n")
    os.exit(3)
  end
end
local conf = config.from_kube_config(os.getenv("KC"))
conf:set_timeouts { connect = 2, request = 2 }
conf:set_retries { max = 3, backoff = 0.05, max_backoff = 0.2, budget = 5 }
local client = api.Client:new(conf)
]]

--- Runs `code` (after PRELUDE) in a child with KC = `kubeconfig`, killed
--- after `limit` seconds. Returns stdout; fails if it hung, failed or wrote
--- to stderr.
local function child(code, limit, kubeconfig)
  local script = nf.write(dir .. "/child-" .. math.random(1e9) .. ".lua", PRELUDE .. code .. "\nprint('CHILD DONE')\n")
  local out, err = script .. ".out", script .. ".err"
  local cmd = ("KC=%s timeout -s KILL %d %s %s >%s 2>%s; echo $?"):format(kubeconfig or srv.kubeconfig, limit,
    nf.interpreter(), script, out, err)
  local p = assert(io.popen(cmd))
  local rc = tonumber(p:read("*l"))
  p:close()
  local stdout, stderr = nf.read(out) or "", nf.read(err) or ""
  assert.are_not.equal(137, rc, "the child hung past " .. limit .. " s:\n" .. stdout)
  assert.are.equal(0, rc, "child failed:\n" .. stdout .. stderr)
  assert.are.equal("", stderr, "the child wrote to stderr")
  assert.truthy(stdout:find("CHILD DONE", 1, true))
  return stdout
end

describe("faults seen by a script", function()
  it("connection refused: nil and a message naming the address, at once; panic mode raises it", function()
    local port = nf.closed_port()
    local kc = nf.write(dir .. "/refused.yaml", cluster.kubeconfig(facts, { server = "https://127.0.0.1:" .. port }))
    child(([[
      local obj, msg = client:corev1():pods("default"):get()
      check(obj == nil and type(msg) == "string", obj, msg)
      check(msg:find("127.0.0.1:%s", 1, true), "address not named", msg)
      check(elapsed() < 2, "refused took", elapsed())
      local ok, err = pcall(function() return api.Client:new(conf, true):corev1():pods("default"):get() end)
      check(not ok and type(err) == "string" and err:find("%s", 1, true), err)
    ]]):format(port, port), 20, kc)
  end)

  it("a reset mid-body and a truncated body are retried transparently for GET", function()
    fault { mode = "drop-mid-body", count = 1, match = PODS }
    fault { mode = "reset", count = 1, match = PODS }
    child([[
      local items, info, code = client:corev1():pods("kube-system"):get()
      check(code == 200, code, info)
      check(#items == 2, #items)
    ]], 30)
  end)

  it("a large list (streamed, decoded as it arrives) cut mid-body is read again from the start", function()
    local cms = admin():corev1():configmaps("default")
    for i = 1, 150 do
      assert(cms:create { metadata = { name = ("bulk-%03d"):format(i), labels = { bulk = "yes" } } })
    end
    fault { mode = "drop-mid-body", count = 1, match = CMS }
    child([[
      local list, info, code = client:corev1():configmaps("default"):list { labelSelector = "bulk=yes" }
      check(code == 200, code, info)
      check(#list.items == 150, #list.items)
      local seen = {}
      for i, cm in ipairs(list.items) do
        local want = ("bulk-%03d"):format(i)
        check(cm.metadata.name == want and not seen[want], cm.metadata.name, want)
        seen[want] = true
        check(cm.data == nil and cm.metadata.labels.bulk == "yes", cm.metadata.name)
      end
      check(list.kind == "ConfigMapList" and list.metadata.resourceVersion, list.kind)
      check(getmetatable(list.items) ~= nil, "items keep the array marker")
    ]], 30)
    for i = 1, 150 do
      cms:delete(("bulk-%03d"):format(i))
    end
  end)

  it("a reset mid-body with retries off: nil and a message, no hang", function()
    fault { mode = "drop-mid-body", count = 1, match = PODS }
    child([[
      conf:set_retries { max = 0 }
      local obj, msg = api.Client:new(conf):corev1():pods("kube-system"):get()
      check(obj == nil and type(msg) == "string" and #msg > 0, obj, msg)
      check(msg:find("kube-system", 1, true), "message names the request", msg)
    ]], 30)
  end)

  it("truncated JSON in a complete 200 answer: a clear decoding error naming the request", function()
    fault { mode = "truncate-json", count = 2, match = PODS }
    child([[
      local obj, msg = client:corev1():pods("kube-system"):get()
      check(obj == nil and type(msg) == "string", obj, msg)
      check(msg:find("JSON", 1, true) or msg:find("json", 1, true), "mentions JSON", msg)
      local ok, err = pcall(function()
        return api.Client:new(conf, true):corev1():pods("kube-system"):get()
      end)
      check(not ok and type(err) == "string", err)
    ]], 30)
  end)

  it("429/503 bursts are retried; a 500 and a burst past max come back as the Status", function()
    fault { status = 429, retryAfter = 0, count = 1, match = PODS }
    fault { status = 503, retryAfter = 0, count = 2, match = PODS }
    child([[
      local items, info, code = client:corev1():pods("kube-system"):get()
      check(code == 200, code, info)
    ]], 30)
    fault { status = 500, count = 1, match = PODS }
    child([[
      local st, msg, code = client:corev1():pods("kube-system"):get()
      check(code == 500, code, msg)
      check(st:is_failure(), "Status")
      check(msg:find("GET", 1, true), msg)
    ]], 30)
    fault { status = 503, retryAfter = 0, count = 10, match = PODS }
    child([[
      local st, msg, code = client:corev1():pods("kube-system"):get()
      check(code == 503, code, msg)
      check(st.reason == "ServiceUnavailable", st.reason)
      check(elapsed() < 5, "retries took", elapsed())
    ]], 30)
  end)

  it("a stalled answer ends at the request timeout", function()
    fault { mode = "stall", count = 10, match = PODS }
    child([[
      conf:set_retries { max = 0 }
      local obj, msg = api.Client:new(conf):corev1():pods("kube-system"):get()
      check(obj == nil and type(msg) == "string", obj, msg)
      check(elapsed() >= 1.5 and elapsed() < 6, "stall ended after", elapsed())
    ]], 30)
  end)

  it("latency past the request timeout is a timeout, not a hang", function()
    fault { latencyMs = 8000, count = 10, match = PODS }
    child([[
      conf:set_retries { max = 0 }
      local obj, msg = api.Client:new(conf):corev1():pods("kube-system"):get()
      check(obj == nil and msg:lower():find("time", 1, true), obj, msg)
      check(elapsed() < 6, "took", elapsed())
    ]], 30)
  end)

  it("a stalled watch stream: w:next(t) returns in time, the loop ends at opts.timeout", function()
    local cms = admin():corev1():configmaps("default")
    local _, _, code = cms:create { metadata = { name = "stall-watch" } }
    assert.are.equal(201, code)
    local list = cms:list()
    fault { mode = "stall", count = 20, match = CMS }
    child(([[
      local cms = client:corev1():configmaps("default")
      local w = cms:watch({ resourceVersion = "%s" }, { timeout = 3 })
      local t1 = elapsed()
      local ev = w:next(1)
      check(ev == nil, "an event from a stalled stream", ev)
      check(elapsed() - t1 < 2.5, "w:next(1) took", elapsed() - t1)
      w:close()
      local n = 0
      for _ in cms:watch({ resourceVersion = "%s" }, { timeout = 2 }) do n = n + 1 end
      check(n == 0, "events", n)
      check(elapsed() < 8, "the loop ended after", elapsed())
    ]]):format(list.metadata.resourceVersion, list.metadata.resourceVersion), 30)
  end)
end)

describe("TLS failures", function()
  local certs, tls_server

  setup(function()
    certs = nf.tmpdir()
    assert(os.execute("sh spec/helpers/make_certs.sh " .. certs))
  end)

  teardown(function()
    if certs then os.execute("rm -rf " .. certs) end
  end)

  after_each(function()
    if tls_server then tls_server() end
    tls_server = nil
  end)

  --- openssl s_server with `name`.crt on a free port; returns the URL.
  local function serve(name)
    local port = nf.closed_port()
    local pidfile = certs .. "/" .. name .. ".pid"
    assert(os.execute(("cd %s && (openssl s_server -quiet -accept 127.0.0.1:%s -cert %s.crt -key %s.key -www"
      .. " >/dev/null 2>&1 & echo $! > %s)"):format(certs, port, name, name, pidfile)))
    local pid = nf.read(pidfile):match("%d+")
    tls_server = function() os.execute("kill " .. pid .. " 2>/dev/null") end
    for _ = 1, 100 do
      -- os.execute: true on 5.2+, 0 on 5.1 and LuaJIT when the command succeeded.
      local r = os.execute(("python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", %s), 1)' 2>/dev/null"):format(port))
      if r == true or r == 0 then
        return "https://127.0.0.1:" .. port
      end
      os.execute("sleep 0.05")
    end
    error("openssl s_server did not start")
  end

  local function ca_data(file)
    local p = assert(io.popen("base64 -w0 " .. certs .. "/" .. file))
    local s = p:read("*a")
    p:close()
    return s
  end

  --- The call fails with nil and a message that says what is wrong with the certificate.
  local function expect_tls_error(kc, words)
    local out = child(([[
      local obj, msg = client:corev1():pods("default"):get()
      check(obj == nil and type(msg) == "string", obj, msg)
      print("MESSAGE " .. msg)
      check(elapsed() < 4, "took", elapsed())
      local ok, err = pcall(function() return api.Client:new(conf, true):corev1():pods("default"):get() end)
      check(not ok and type(err) == "string", err)
    ]]), 20, kc)
    local msg = out:match("MESSAGE ([^\n]*)")
    local found = false
    for _, w in ipairs(words) do found = found or msg:lower():find(w, 1, true) ~= nil end
    assert.is_true(found, "message does not say why: " .. msg)
  end

  it("a server whose CA is not the configured one: unknown issuer", function()
    local kc = nf.write(dir .. "/unknown-ca.yaml", cluster.kubeconfig(facts, {
      ca_data = false, cluster = "    certificate-authority-data: " .. ca_data("other-ca.crt"),
    }))
    expect_tls_error(kc, { "unknown issuer", "unknownissuer", "certificate" })
  end)

  it("an expired server certificate", function()
    local url = serve("expired")
    local kc = nf.write(dir .. "/expired.yaml", cluster.kubeconfig(facts, {
      server = url, ca_data = false, cluster = "    certificate-authority-data: " .. ca_data("ca.crt"),
    }))
    expect_tls_error(kc, { "expired" })
  end)

  it("a certificate for another host name", function()
    local url = serve("wrong-host")
    local kc = nf.write(dir .. "/wrong-host.yaml", cluster.kubeconfig(facts, {
      server = url, ca_data = false, cluster = "    certificate-authority-data: " .. ca_data("ca.crt"),
    }))
    expect_tls_error(kc, { "not valid for", "notvalidforname", "name" })
  end)

  it("tls-server-name that the stand-in server's certificate does not carry", function()
    local kc = nf.write(dir .. "/wrong-sni.yaml", cluster.kubeconfig(facts, {
      cluster = "    tls-server-name: wrong.example",
    }))
    expect_tls_error(kc, { "not valid for", "notvalidforname", "name" })
  end)
end)

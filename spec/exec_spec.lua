-- exec, attach and port-forward over HTTPS against the stand-in API server
-- (its exec runs commands as local child processes; its port-forward without
-- an annotation is an echo).
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"
local now = require("kube.core").monotonic

describe("exec sessions", function()
  local srv, pods
  setup(function()
    srv = testing.start { seed = "spec/fixtures/exec_pods.yaml" }
    pods = api.Client:new(config.from_kube_config(srv.kubeconfig)):corev1():pods("default")
  end)
  teardown(function() if srv then srv:stop() end end)

  it("one-shot: stdout, stderr apart, exit code 0", function()
    local out, err, code = pods:exec("web", { "sh", "-c", "echo out; echo err >&2" })
    assert.are.equal("out\n", out)
    assert.are.equal("err\n", err)
    assert.are.equal(0, code)
  end)

  it("one-shot: non-zero exit code", function()
    local out, err, code = pods:exec("web", { "sh", "-c", "echo x; exit 7" }, { container = "app" })
    assert.are.equal("x\n", out)
    assert.are.equal("", err)
    assert.are.equal(7, code)
  end)

  it("one-shot: a command that cannot start has no exit code and says why", function()
    local out, err, code, msg = pods:exec("web", { "/no/such/command" })
    assert.are.equal("", out)
    assert.is_nil(code)
    assert.matches("no/such/command", msg)
  end)

  it("one-shot with stdin text, closed at its end (v5)", function()
    local out, _, code = pods:exec("web", { "sh", "-c", "wc -c" }, { stdin = "hello" })
    assert.are.equal("5", out:match("%d+"))
    assert.are.equal(0, code)
  end)

  it("unknown pods and containers: the server's answer", function()
    local out, msg = pods:exec("nope", { "true" })
    assert.is_nil(out)
    assert.matches('pods "nope" not found', msg, 1, true)
    out, msg = pods:exec("web", { "true" }, { container = "nope" })
    assert.is_nil(out)
    assert.matches("container nope is not valid for pod web", msg, 1, true)
  end)

  it("interactive: write, close_stdin (v5), read per stream, wait", function()
    local s = pods:exec_session("web", { "sh", "-c", "cat; echo bye >&2; exit 3" })
    assert.are.equal("v5.channel.k8s.io", s:protocol())
    s:write("line one\n")
    assert.is_true(s:close_stdin())
    local got = { stdout = "", stderr = "" }
    for stream, chunk in s do got[stream] = got[stream] .. chunk end
    assert.are.equal("line one\n", got.stdout)
    assert.are.equal("bye\n", got.stderr)
    local code = s:wait()
    assert.are.equal(3, code)
  end)

  it("v4: stdin cannot be closed, the session stays open", function()
    local s = pods:exec_session("web", { "cat" }, { protocol = "v4.channel.k8s.io" })
    assert.are.equal("v4.channel.k8s.io", s:protocol())
    local ok, msg = s:close_stdin()
    assert.is_false(ok)
    assert.matches("cannot close stdin", msg)
    s:write("still open\n")
    local stream, chunk = s:read(5)
    assert.are.equal("stdout", stream)
    assert.are.equal("still open\n", chunk)
    local none, why = s:read(0.2)
    assert.is_nil(none)
    assert.are.equal("timeout", why)
    s:close()
  end)

  it("read(0) never waits", function()
    local s = pods:exec_session("web", { "sh", "-c", "sleep 1; echo late" })
    local t0 = os.clock()
    local none, why = s:read(0)
    assert.is_nil(none)
    assert.are.equal("timeout", why)
    assert.is_true(os.clock() - t0 < 0.05)
    assert.are.equal("late\n", select(2, s:read(10)))
    assert.are.equal(0, s:wait(10))
  end)

  it("tty with resize", function()
    local s = pods:exec_session("web", { "sh" }, { tty = true })
    s:resize(123, 45)
    s:write("stty size; exit 0\n")
    local out = ""
    for _, chunk in s do out = out .. chunk end
    assert.matches("45 123", out, 1, true)
    assert.are.equal(0, s:wait())
  end)

  it("a command printing 50 MB, read in chunks", function()
    local s = pods:exec_session("web", { "sh", "-c", "head -c 52428800 /dev/zero" }, { stdin = false })
    local total, biggest = 0, 0
    for _, chunk in s do
      total = total + #chunk
      if #chunk > biggest then biggest = #chunk end
    end
    assert.are.equal(52428800, total)
    assert.is_true(biggest <= 1024 * 1024)
    assert.are.equal(0, s:wait())
  end)

  it("many sessions at once on one client", function()
    local sessions = {}
    for i = 1, 20 do
      sessions[i] = pods:exec_session("web", { "sh", "-c", "echo " .. i }, { stdin = false })
    end
    for i, s in ipairs(sessions) do
      local _, chunk = s:read(10)
      assert.are.equal(i .. "\n", chunk)
      assert.are.equal(0, s:wait(10))
    end
  end)

  it("a session the server drops mid-stream: a clear error, no hang", function()
    local s = pods:exec_session("web", { "sh", "-c", "echo first; sleep 30" }, { stdin = false })
    assert.are.equal("first\n", select(2, s:read(10)))
    -- A one-shot exec's pending handle too (what an adapter's coroutine waits for).
    local h = require("kube.nonblocking").start(pods, "exec", "web", { "sh", "-c", "echo first; sleep 30" })
    assert.is_true(require("kube.nonblocking").wait(h:id(), 10))
    srv:stop()
    local ok, err = pcall(function() return s:read(10) end)
    assert.is_false(ok)
    assert.matches("the session broke", tostring(err), 1, true)
    local t0 = now()
    local out, msg = h:result()
    assert.is_nil(out)
    -- (the README's two messages for a dropped session)
    assert.is_truthy(msg:find("the session broke", 1, true) or msg:find("closed before the command's status", 1, true), msg)
    assert.is_true(now() - t0 < 10)
    srv = testing.start { seed = "spec/fixtures/exec_pods.yaml" }
    pods = api.Client:new(config.from_kube_config(srv.kubeconfig)):corev1():pods("default")
  end)

  it("attach joins the container's process", function()
    local s = pods:attach("att")
    s:write("via attach\n")
    local seen = ""
    while not seen:find("via attach", 1, true) do
      local _, chunk = s:read(5)
      assert.is_not_nil(chunk)
      seen = seen .. chunk
    end
    s:close()
  end)

  it("nonblocking.start: a one-shot exec is a pending handle with the blocking call's results", function()
    local nb = require "kube.nonblocking"
    local cmd = { "sh", "-c", "sleep 0.3; echo out; echo err >&2; exit 2" }
    local t0 = now()
    local h = nb.start(pods, "exec", "web", cmd)
    assert.is_true(now() - t0 < 0.2)
    assert.matches("^kube.Pending", tostring(h))
    assert.is_false(h:ready())
    assert.is_true(nb.wait(h:id(), 10))
    local got = { h:result() }
    assert.same({ "out\n", "err\n", 2 }, got)
    assert.same(got, { pods:exec("web", cmd) })
    -- Errors come back the same way too.
    assert.same({ pods:exec("nope", { "true" }) }, { nb.start(pods, "exec", "nope", { "true" }):result() })
  end)

  it("a pending exec wakes its waiter at opts.timeout, and cancel() stops it", function()
    local nb = require "kube.nonblocking"
    local h = nb.start(pods, "exec", "web", { "sleep", "30" }, { timeout = 0.3 })
    local t0 = now()
    assert.is_true(nb.wait(h:id(), 10))
    while not h:ready() do nb.wait(h:id(), 10) end
    assert.is_true(now() - t0 < 5)
    local out, msg = h:result()
    assert.is_nil(out)
    assert.matches("timed out", msg, 1, true)
    h = nb.start(pods, "exec", "web", { "sleep", "30" })
    h:cancel()
    assert.is_true(h:ready())
    out, msg = h:result()
    assert.is_nil(out)
    assert.matches("cancelled", msg, 1, true)
  end)

  it("protocol(0) and write never wait", function()
    local s = pods:exec_session("web", { "sh", "-c", "exit 0" })
    local t0 = now()
    local p, why = s:protocol(0)
    assert.is_true(now() - t0 < 0.05)
    assert.is_true(p == "v5.channel.k8s.io" or (p == nil and why == "timeout"))
    assert.are.equal("v5.channel.k8s.io", s:protocol(10))
    assert.are.equal(0, s:wait(10))
    t0 = now()
    local ok, err = pcall(s.write, s, "late")
    assert.is_false(ok)
    assert.matches("the session is over", tostring(err), 1, true)
    assert.is_true(now() - t0 < 0.05)
  end)

  it("port-forward: a stream through the pod's port", function()
    local pf = pods:portforward("web", 8080)
    pf:write("ping")
    local stream, chunk = pf:read(5)
    assert.are.equal("data", stream)
    assert.are.equal("ping", chunk)
    pf:close()
  end)

  it("port-forward: a stream whose remote side closes ends after the data", function()
    local socket = require "socket"
    local target = assert(socket.bind("127.0.0.1", 0))
    local _, tport = target:getsockname()
    target:settimeout(10)
    pods:create { metadata = { name = "pfclose", annotations = { ["kube-testserver/port.9000"] = "127.0.0.1:" .. tport } },
      spec = { nodeName = "n1", containers = { { name = "c", image = "busybox" } } } }
    local pf = pods:portforward("pfclose", 9000)
    pf:write("hi")
    local remote = assert(target:accept())
    remote:settimeout(10)
    assert.are.equal("hi", remote:receive(2))
    assert(remote:send("bye"))
    remote:close()
    local got = ""
    for stream, chunk in pf do
      assert.are.equal("data", stream)
      got = got .. chunk
    end
    assert.are.equal("bye", got)
    assert.is_true(pf:finished())
    target:close()
  end)
end)

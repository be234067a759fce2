-- Copying into and out of containers (pods:cp_to / cp_from, tar over exec as
-- kubectl cp does) and the local-listener port-forward (pods:portforward_listen),
-- over HTTPS against the stand-in API server (its exec runs commands as local
-- child processes in a per-container directory).
local api = require "kube.api"
local config = require "kube.config"
local testing = require "kube.testing"
local socket = require "socket"

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local d = f:read("*a")
  f:close()
  return d
end

-- 3 MB with every byte value.
local function binary()
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  return string.rep(table.concat(t), 3 * 4096)
end

describe("pods:cp_to / cp_from", function()
  local srv, pods, dir
  setup(function()
    srv = testing.start { seed = "spec/fixtures/exec_pods.yaml" }
    pods = api.Client:new(config.from_kube_config(srv.kubeconfig)):corev1():pods("default")
    dir = tmpdir()
  end)
  teardown(function()
    if srv then srv:stop() end
    if dir then os.execute("rm -rf '" .. dir .. "'") end
  end)

  it("copies a file in and back out", function()
    write(dir .. "/a.txt", "hello\n")
    local ok, sent = pods:cp_to("web", dir .. "/a.txt", "a.txt")
    assert.is_true(ok)
    assert.is_true(sent >= 1536) -- a header, the data, the end blocks
    local out, _, code = pods:exec("web", { "cat", "a.txt" })
    assert.are.equal("hello\n", out)
    assert.are.equal(0, code)
    local ok2, files = pods:cp_from("web", "a.txt", dir .. "/back.txt")
    assert.is_true(ok2)
    assert.are.equal(1, files)
    assert.are.equal("hello\n", read(dir .. "/back.txt"))
  end)

  it("nonblocking.start: cp_to and cp_from are pending handles with the blocking calls' results", function()
    local nb = require "kube.nonblocking"
    write(dir .. "/nb.bin", binary())
    local h = nb.start(pods, "cp_to", "web", dir .. "/nb.bin", "nb.bin")
    assert.matches("^kube.Pending", tostring(h))
    local to = { h:result() }
    assert.same({ pods:cp_to("web", dir .. "/nb.bin", "nb-blocking.bin") }, to)
    assert.is_true(to[1])
    h = nb.start(pods, "cp_from", "web", "nb.bin", dir .. "/nb-back.bin")
    assert.same({ true, 1 }, { h:result() })
    assert.is_true(read(dir .. "/nb-back.bin") == binary())
    -- A failure is the blocking call's failure.
    local got = { nb.start(pods, "cp_from", "web", "no-such", dir .. "/x"):result() }
    assert.is_nil(got[1])
    assert.same({ pods:cp_from("web", "no-such", dir .. "/x") }, got)
  end)

  it("copies a directory tree both ways, binary data intact", function()
    local src = dir .. "/tree"
    assert(os.execute("mkdir -p '" .. src .. "/sub/deeper'"))
    write(src .. "/x.txt", "x\n")
    write(src .. "/sub/y.bin", binary())
    write(src .. "/sub/deeper/z.txt", "")
    assert.is_true(pods:cp_to("web", src, "tree", { container = "app" }))
    local out = pods:exec("web", { "sh", "-c", "wc -c < tree/sub/y.bin; cat tree/x.txt; test -f tree/sub/deeper/z.txt && echo z" })
    assert.are.equal(tostring(#binary()) .. "\nx\nz\n", out:gsub(" ", ""))
    local ok, files = pods:cp_from("web", "tree", dir .. "/tree2")
    assert.is_true(ok, files)
    assert.are.equal(3, files)
    assert.are.equal("x\n", read(dir .. "/tree2/x.txt"))
    assert.is_true(read(dir .. "/tree2/sub/y.bin") == binary())
    assert.are.equal("", read(dir .. "/tree2/sub/deeper/z.txt"))
  end)

  it("a destination ending in / takes the source's name", function()
    write(dir .. "/named.txt", "n\n")
    assert.is_true(pods:cp_to("web", dir .. "/named.txt", "./"))
    assert.are.equal("n\n", (pods:exec("web", { "cat", "named.txt" })))
  end)

  it("over v4 too (stdin cannot be closed; tar stops at the archive's end)", function()
    write(dir .. "/v4.txt", "four\n")
    assert.is_true(pods:cp_to("web", dir .. "/v4.txt", "v4.txt", { protocol = "v4.channel.k8s.io" }))
    assert.is_true(pods:cp_from("web", "v4.txt", dir .. "/v4back.txt", { protocol = "v4.channel.k8s.io" }))
    assert.are.equal("four\n", read(dir .. "/v4back.txt"))
  end)

  it("missing files on either side: nil and why", function()
    local ok, msg = pods:cp_from("web", "no/such/file", dir .. "/nothing")
    assert.is_nil(ok)
    assert.matches("web:no/such/file", msg, 1, true)
    assert.matches("tar in the container exited with 2", msg, 1, true)
    assert.matches("No such file or directory", msg, 1, true)
    assert.is_nil(read(dir .. "/nothing"))
    ok, msg = pods:cp_to("web", dir .. "/not-here", "x")
    assert.is_nil(ok)
    assert.matches("not-here", msg, 1, true)
    ok, msg = pods:cp_to("nope", dir .. "/a.txt", "x")
    assert.is_nil(ok)
    assert.matches('pods "nope" not found', msg, 1, true)
  end)

  it("bad arguments are errors", function()
    assert.has_error(function() pods:cp_to("web", dir .. "/a.txt", "") end)
    assert.has_error(function() pods:cp_from("web", "x", dir .. "/y", { nope = 1 }) end)
    assert.has_error(function() pods:cp_to("web", nil, "x") end)
  end)

  it("a completed pod answers as the real server does", function()
    local out, msg = pods:exec("done", { "true" })
    assert.is_nil(out)
    assert.matches("cannot exec into a container in a completed pod; current phase is Succeeded", msg, 1, true)
    assert.matches("HTTP 400", msg, 1, true)
  end)
end)

describe("pods:portforward_listen", function()
  local srv, pods
  setup(function()
    srv = testing.start { seed = "spec/fixtures/exec_pods.yaml" }
    pods = api.Client:new(config.from_kube_config(srv.kubeconfig)):corev1():pods("default")
  end)
  teardown(function() if srv then srv:stop() end end)

  local function connect(port)
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(10)
    return c
  end

  it("forwards a local connection to the pod's port (the echo)", function()
    local fw = pods:portforward_listen("web", 8080)
    assert.are.equal("127.0.0.1", fw:address())
    assert.is_true(fw:port() > 0)
    local c = connect(fw:port())
    assert(c:send("ping"))
    assert.are.equal("ping", c:receive(4))
    c:close()
    assert.are.equal(1, fw:stats().accepted)
    fw:close()
    assert.is_false(fw:stats().open)
    assert.is_nil(socket.connect("127.0.0.1", fw:port()))
  end)

  it("many connections at once", function()
    local fw = pods:portforward_listen("web", 8080)
    local conns = {}
    for i = 1, 20 do conns[i] = connect(fw:port()) end
    for i, c in ipairs(conns) do assert(c:send("conn " .. i .. "\n")) end
    for i, c in ipairs(conns) do
      assert.are.equal("conn " .. i, c:receive("*l"))
      c:close()
    end
    assert.are.equal(20, fw:stats().accepted)
    fw:close()
  end)

  it("a pod port the remote side closes: the local connection ends after the data", function()
    local target = assert(socket.bind("127.0.0.1", 0))
    local _, tport = target:getsockname()
    target:settimeout(10)
    pods:create { metadata = { name = "fwd", annotations = { ["kube-testserver/port.9000"] = "127.0.0.1:" .. tport } },
      spec = { containers = { { name = "c", image = "busybox" } } } }
    local fw = pods:portforward_listen("fwd", 9000, { local_port = 0 })
    local c = connect(fw:port())
    assert(c:send("hi"))
    local remote = assert(target:accept())
    remote:settimeout(10)
    assert.are.equal("hi", remote:receive(2))
    assert(remote:send("bye"))
    remote:close()
    local got, err, partial = c:receive("*a")
    assert.are.equal("bye", got or partial)
    assert.is_nil(err)
    c:close()
    target:close()
    fw:close()
  end)

  it("curl through it to an HTTPS port (the stand-in's own)", function()
    local sport = srv.url:match(":(%d+)$")
    pods:create { metadata = { name = "api", annotations = { ["kube-testserver/port.443"] = "127.0.0.1:" .. sport } },
      spec = { containers = { { name = "c", image = "busybox" } } } }
    local fw = pods:portforward_listen("api", 443)
    local p = io.popen("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:" .. fw:port() .. "/api/v1/namespaces")
    local code = p:read("*a")
    p:close()
    -- The stand-in refuses anonymous users as kube-apiserver does.
    assert.are.equal("401", code)
    fw:close()
  end)

  it("a local port in use and bad arguments are errors", function()
    local fw = pods:portforward_listen("web", 8080)
    local ok, err = pcall(pods.portforward_listen, pods, "web", 8080, { local_port = fw:port() })
    assert.is_false(ok)
    assert.matches("cannot listen on 127.0.0.1:" .. fw:port(), tostring(err), 1, true)
    fw:close()
    assert.has_error(function() pods:portforward_listen("web", 0) end)
    assert.has_error(function() pods:portforward_listen("web", 80, { nope = true }) end)
  end)
end)

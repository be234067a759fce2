-- A luakube script run inside a real event loop (luv, Neovim, cqueues) against
-- kube-testserver with faults, while a 100 ms timer keeps ticking.
--   lua5.4 spec/hosts/loop_check.lua luv|cqueues
--   KUBE_LOOP=nvim nvim --headless -u NONE -c "luafile spec/hosts/loop_check.lua"
-- Prints "ok - …" / "not ok - …" lines and the measured figures; exits non-zero on a failure.
local backend = (arg and arg[1]) or os.getenv("KUBE_LOOP") or "luv"
local testing = require "kube.testing"
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local now = core.monotonic

-- Neovim's print goes to its message area, which cuts lines to the screen's
-- width; stdout keeps them whole.
local print = backend == "nvim" and function(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  io.stdout:write(table.concat(parts, "\t"), "\n")
  io.stdout:flush()
end or print

local passed, failed = 0, 0
local function check(cond, name, extra)
  if cond then passed = passed + 1 else failed = failed + 1 end
  print(("%s - [%s] %s%s"):format(cond and "ok" or "not ok", backend, name, extra and ("  (" .. extra .. ")") or ""))
end

-- A namespace of NBIG configmaps of ~1 KB (a seed file): the list, the watch's
-- initial list and its re-list after a 410 decode thousands of objects, and
-- the loop must keep ticking through them (issue 12: bounded slices).
local NBIG = tonumber(os.getenv("KUBE_LOOP_BIG") or "3000")
local seed = os.tmpname()
do
  local f = assert(io.open(seed, "w"))
  f:write('{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"big"}}\n')
  local data = {}
  for k = 1, 12 do data[#data + 1] = ('"key-%02d":"%s"'):format(k, ("v%02d"):format(k):rep(20)) end
  data = "{" .. table.concat(data, ",") .. "}"
  for i = 1, NBIG do
    f:write(('---\n{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big-%05d","namespace":"big","labels":{"app":"big","n":"%d"}},"data":%s}\n')
      :format(i, i, data))
  end
  f:close()
end
local srv = testing.start { seed = seed }
os.remove(seed)
local client = api.Client:new(config.from_kube_config(srv.kubeconfig))
local cms = client:corev1():configmaps("default")
local function fault(rule)
  local _, msg, code = client:call("POST", "../testserver/faults", rule)
  assert(code == 200, "fault rule not taken: " .. tostring(msg))
end

-- The loop backends: spawn a task (a coroutine the adapter runs), sleep in it, a ticker, run, stop.
local B = {}
if backend == "luv" or backend == "nvim" then
  local uv = backend == "nvim" and (vim.uv or vim.loop) or require "luv"
  local kl = require "kube.luv"
  function B.spawn(f)
    kl.run_with({ uv = uv, on_error = function(e) check(false, "task raised", e) end }, f)
  end
  function B.sleep(s)
    local co = coroutine.running()
    local t = uv.new_timer()
    t:start(math.floor(s * 1000), 0, function() t:close(); assert(coroutine.resume(co)) end)
    coroutine.yield()
  end
  function B.ticker(ms, fn)
    local t = uv.new_timer()
    t:start(ms, ms, fn)
    return function() t:stop(); t:close() end
  end
  function B.run(done)
    if backend == "luv" then uv.run() return done() end
    -- Neovim runs its own loop: finish from there.
    B.finish = done
  end
elseif backend == "cqueues" then
  local cqueues = require "cqueues"
  local kc = require "kube.cqueues"
  local cq = cqueues.new()
  function B.spawn(f)
    -- No xpcall here: PUC Lua 5.1 cannot yield through it; an error ends cq:loop().
    kc.wrap(cq, f)
  end
  B.sleep = cqueues.sleep
  io.stdout:setvbuf("line")
  function B.ticker(ms, fn)
    local running = true
    cq:wrap(function() while running do cqueues.sleep(ms / 1000); if running then fn() end end end)
    return function() running = false end
  end
  function B.run(done)
    local ok, err = cq:loop()
    if not ok then check(false, "cqueues loop", tostring(err)) end
    return done()
  end
else
  error("unknown backend " .. backend)
end

-- The ticker: its largest gap is what the loop's users feel. Beside it, the
-- CPU the whole process (every thread) used during that gap: far less than
-- the gap means the loop's thread was waiting for a core, not working.
local last, worst, ticks = now(), 0, 0
local last_cpu, worst_cpu = os.clock(), 0
local stopped = false
local stop_ticker
local raw_stop = B.ticker(100, function()
  local t, cpu = now(), os.clock()
  if t - last > worst then worst, worst_cpu = t - last, cpu - last_cpu end
  last_cpu = cpu
  if os.getenv("KUBE_DEBUG") and t - last > 0.105 then print(("gap %.0f ms at %.3f"):format((t - last) * 1000, t)) end
  last, ticks = t, ticks + 1
end)
function stop_ticker()
  if not stopped then stopped = true; raw_stop() end
end

local tasks = 0
local function task(f)
  tasks = tasks + 1
  B.spawn(function()
    f()
    tasks = tasks - 1
    -- Nothing left to wait for: let the loop end.
    if tasks == 0 then stop_ticker() end
  end)
end

-- Hands a watch's events to `on_event` until it returns true or the watch ends.
local function each_event(w, on_event)
  if _VERSION == "Lua 5.1" and not rawget(_G, "jit") then
    -- PUC Lua 5.1 cannot yield inside a generic for's iterator (5.2+ and LuaJIT
    -- can): there the loop calls w:next(), which yields the same way.
    while true do
      local kind, obj = w:next()
      if kind == nil or on_event(kind, obj) then break end
    end
  else
    for kind, obj in w, nil, nil, w do
      if on_event(kind, obj) then break end
    end
  end
end

local sent, latencies, seen = {}, {}, {}
local restart_pause
local N = 20
local watch_done = false

-- 1. A call held 2 s by the server while the loop ticks.
cms:create { metadata = { name = "slow" }, data = { v = "1" } }
fault { latencyMs = 2000, count = 1, match = "configmaps/slow" }
task(function()
  -- An explicit pending handle, waited for by the adapter.
  local h = require("kube.nonblocking").start(cms, "list")
  local list = h:result()
  check(list and list.items and #list.items >= 1, "a pending list handle gives the list")
  local t0 = now()
  local obj, _, code = cms:get("slow")
  local took = now() - t0
  check(code == 200 and obj.data.v == "1" and took > 1.9, "a get held 2 s by the server returns what the blocking call returns",
    ("%.0f ms"):format(took * 1000))
end)

-- 2. A watch in a generic for, with a 410 and a dropped connection on the way.
task(function()
  -- server_timeout = 1: the server ends each stream after 1 s, so the watch
  -- reconnects often and meets the faults the writer sets.
  local w = cms:watch({ labelSelector = "w=1" }, { timeout = 40, server_timeout = 1 })
  local function on_event(kind, obj)
    local name = obj.metadata.name
    if os.getenv("KUBE_DEBUG") then print("event", kind, name, now()) end
    if kind == "ADDED" and not seen[name] then
      seen[name] = true
      if sent[name] then latencies[#latencies + 1] = (now() - sent[name]) * 1000 end
    end
    local count = 0
    for _ in pairs(seen) do count = count + 1 end
    return count == N + 1 -- the writer's warm-up object and its N
  end
  each_event(w, on_event)
  w:close()
  watch_done = true
end)

-- 3. The writer: N configmaps, with faults on the watch in the middle.
task(function()
  B.sleep(0.3)
  -- Delivery is measured once the watch is streaming: its first event also
  -- waits for the watch's own connection and list (30-45 ms, the same on
  -- every Lua), which is start-up, not delivery.
  cms:create { metadata = { name = "warm-up", labels = { w = "1" } } }
  local t_warm = now()
  while not seen["warm-up"] and now() - t_warm < 10 do B.sleep(0.02) end
  local faults = {
    [10] = { status = 410, count = 1, match = "namespaces/default/configmaps" },
    [13] = { mode = "reset", count = 1, match = "namespaces/default/configmaps" },
    [16] = { latencyMs = 1500, count = 1, match = "namespaces/default/configmaps" },
    [18] = "restart",
  }
  for i = 1, N do
    local rule = faults[i]
    if rule == "restart" then
      -- The server stops (the open watch breaks) and starts again on the
      -- same port with the same CA and objects: the module reconnects.
      -- srv.restart() is the harness's own blocking helper, so the pause it
      -- takes (stop, start, "ready") is not counted in the timer's gaps.
      local t0 = now()
      srv.restart()
      restart_pause = now() - t0
      last, last_cpu = now(), os.clock()
      B.sleep(1.3)
    elseif rule then
      -- The next request on the path is the watch's reconnect (within 1 s):
      -- wait until the server has taken the rule and its latency has passed,
      -- so the latency measured below is delivery, not a held request.
      fault(rule)
      local t0 = now()
      repeat
        B.sleep(0.05)
        local rules = client:call("GET", "../testserver/faults")
      until not (rules and rules.faults and #rules.faults > 0) or now() - t0 > 5
      B.sleep((rule.latencyMs or 0) / 1000 + 0.2)
    end
    local name = ("cm-%02d"):format(i)
    -- Delivery latency is measured from just before the create (an upper
    -- bound: the event often arrives before the create's answer), and not
    -- for the objects made while a fault holds the watch.
    if not rule then sent[name] = now() end
    local _, _, code = cms:create { metadata = { name = name, labels = { w = "1" } } }
    if code ~= 201 then check(false, "create " .. name, tostring(code)) end
    B.sleep(0.15)
  end
  local deadline = now() + 20
  while not watch_done and now() < deadline do B.sleep(0.1) end
  check(watch_done, "the watch saw all " .. N .. " configmaps across a 410, a reset, a slow reconnect and a server restart")
end)

-- 4. An exec session in the loop: read(timeout) and wait() yield while the
-- command takes a second to answer.
local pods = client:corev1():pods("default")
pods:create { metadata = { name = "sh" },
  spec = { nodeName = "loop-node", containers = { { name = "c", image = "busybox" } } } }
task(function()
  local t0 = now()
  local s = pods:exec_session("sh", { "sh", "-c", "read x; sleep 1; echo got $x; echo oops >&2; exit 4" })
  s:write("hello\n")
  local got = { stdout = "", stderr = "" }
  while true do
    local stream, chunk = s:read(10)
    if stream == nil then break end
    got[stream] = got[stream] .. chunk
  end
  local code = s:wait(10)
  local took = now() - t0
  check(got.stdout == "got hello\n" and got.stderr == "oops\n" and code == 4 and took > 0.9,
    "an exec session's read and wait yield to the loop", ("%.0f ms, exit %s"):format(took * 1000, tostring(code)))
end)

-- 5. Thousands of objects: a list, then a watch that reports them all as
-- ADDED, meets a 410 (a re-list of all of them that changes nothing) and
-- then sees one deletion, while the loop keeps ticking.
local big = client:corev1():configmaps("big")
local all_added, big_done = false, false
task(function()
  while not all_added do B.sleep(0.1) end
  -- The watch's next reconnect (within 1 s) meets 410: it lists all NBIG
  -- again; nothing changed, so the re-list reports nothing.
  fault { status = 410, count = 1, match = "namespaces/big/configmaps" }
  local t1 = now()
  if os.getenv("KUBE_DEBUG") then print(("big 410 at %.3f"):format(t1)) end
  repeat
    B.sleep(0.05)
    local rules = client:call("GET", "../testserver/faults")
  until not (rules and rules.faults and #rules.faults > 0) or now() - t1 > 5
  B.sleep(1)
  local _, msg, code = big:delete("big-00001")
  if code ~= 200 then check(false, "delete big-00001", tostring(code) .. " " .. tostring(msg)) end
end)
task(function()
  -- After the watch phase: its delivery latency is the module's, not a wait
  -- behind this phase's 3,000 objects being decoded on the same loop.
  local t_wait = now()
  while not watch_done and now() - t_wait < 60 do B.sleep(0.1) end
  local t0 = now()
  if os.getenv("KUBE_DEBUG") then print(("big list at %.3f"):format(t0)) end
  local list = big:list { labelSelector = "app=big" }
  check(list and list.items and #list.items == NBIG, "a list of " .. NBIG .. " configmaps yields to the loop",
    ("%.0f ms, %s items"):format((now() - t0) * 1000, list and list.items and #list.items))
  local w = big:watch({ labelSelector = "app=big" }, { timeout = 60, server_timeout = 1 })
  local added, others = 0, {}
  local function on_event(kind, obj)
    if kind == "ADDED" then added = added + 1 else others[#others + 1] = kind .. " " .. obj.metadata.name end
    if added == NBIG then all_added = true end
    if os.getenv("KUBE_DEBUG") and (added == 1 or added == NBIG or kind ~= "ADDED") then print(("big %s %d at %.3f"):format(kind, added, now())) end
    return kind == "DELETED"
  end
  each_event(w, on_event)
  w:close()
  check(added == NBIG and #others == 1 and others[1] == "DELETED big-00001",
    "a watch over " .. NBIG .. " configmaps: every ADDED once, nothing from the re-list after 410, then the deletion",
    ("%d added, then %s"):format(added, table.concat(others, ", ")))
  big_done = true
end)

-- 6. Issue 13: exec one-shot, a session's protocol()/close_stdin(), cp both ways and a
-- port-forward inside the loop, after the watch is done, with a 100 ms timer of their own;
-- each result compared with the blocking form's, computed here before the loop runs.
local exec_cmd = { "sh", "-c", "sleep 0.6; echo out; echo err >&2; exit 3" }
local copy_dir = os.tmpname()
os.remove(copy_dir)
assert(os.execute("mkdir -p '" .. copy_dir .. "'"))
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local d = f:read("*a")
  f:close()
  return d
end
local copy_data = string.rep("0123456789abcdef", 64 * 1024) -- 1 MB
do
  local f = assert(io.open(copy_dir .. "/in.bin", "wb"))
  f:write(copy_data)
  f:close()
end
local blocking = {
  exec = { pods:exec("sh", exec_cmd) },
  cp_to = { pods:cp_to("sh", copy_dir .. "/in.bin", "blocking.bin") },
  cp_from = { pods:cp_from("sh", "blocking.bin", copy_dir .. "/blocking-back.bin") },
}
last = now() -- the blocking calls above ran before the loop: no gap of the ticker
local exec_gap
local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end
task(function()
  local deadline = now() + 60
  -- after the watch and the thousands-of-objects phase, so its gap is its own
  while not (watch_done and big_done) and now() < deadline do B.sleep(0.1) end
  local prev, gap = now(), 0
  local stop_exec_ticker = B.ticker(100, function()
    local t = now()
    gap = math.max(gap, t - prev)
    prev = t
  end)
  local t0 = now()
  local got = { pods:exec("sh", exec_cmd) }
  local took = now() - t0
  check(got[1] == "out\n" and got[2] == "err\n" and got[3] == 3 and same(got, blocking.exec) and took > 0.55,
    "a one-shot exec yields to the loop and returns what the blocking form returns",
    ("%.0f ms, exit %s"):format(took * 1000, tostring(got[3])))

  local s = pods:exec_session("sh", { "sh", "-c", "sleep 0.3; cat; exit 0" })
  local proto = s:protocol()
  s:write("via stdin")
  local closed = s:close_stdin()
  local echoed = ""
  while true do
    local stream, chunk = s:read(10)
    if stream == nil then break end
    echoed = echoed .. chunk
  end
  local code = s:wait(10)
  check(proto == "v5.channel.k8s.io" and closed == true and echoed == "via stdin" and code == 0,
    "a session's protocol() and close_stdin() yield until it is open",
    ("%s, %q, exit %s"):format(tostring(proto), echoed, tostring(code)))

  local to = { pods:cp_to("sh", copy_dir .. "/in.bin", "loop.bin") }
  local from = { pods:cp_from("sh", "loop.bin", copy_dir .. "/loop-back.bin") }
  check(to[1] == true and same(to, blocking.cp_to) and from[1] == true and same(from, blocking.cp_from)
    and slurp(copy_dir .. "/loop-back.bin") == copy_data and slurp(copy_dir .. "/blocking-back.bin") == copy_data,
    "cp_to and cp_from (1 MB) yield to the loop and return what the blocking forms return",
    ("%s %s / %s %s"):format(tostring(to[1]), tostring(to[2]), tostring(from[1]), tostring(from[2])))

  -- Many at once: 10 one-shot execs of 0.3 s, each in its own task, overlap.
  local started, done_n, all_right = now(), 0, true
  for i = 1, 10 do
    task(function()
      local o, _, c = pods:exec("sh", { "sh", "-c", "sleep 0.3; echo " .. i })
      all_right = all_right and o == i .. "\n" and c == 0
      done_n = done_n + 1
    end)
  end
  while done_n < 10 and now() - started < 20 do B.sleep(0.05) end
  local span = now() - started
  check(done_n == 10 and all_right and span < 2, "10 one-shot execs of 0.3 s in 10 tasks run at once",
    ("%d done in %.0f ms"):format(done_n, span * 1000))

  local pf = pods:portforward("sh", 8080)
  pf:write("ping")
  local stream, chunk = pf:read(10)
  pf:close()
  check(stream == "data" and chunk == "ping", "a port-forward stream's read yields to the loop",
    ("%s %s"):format(tostring(stream), tostring(chunk)))
  stop_exec_ticker()
  exec_gap = gap
  os.execute("rm -rf '" .. copy_dir .. "'")
end)

local function finish()
  stop_ticker()
  table.sort(latencies)
  local median = latencies[math.max(1, math.floor(#latencies / 2 + 0.5))] or -1
  local p99 = latencies[#latencies] or -1
  print(("figures [%s]: ticks %d, largest timer gap %.0f ms (target 110; process CPU in it %.0f ms), event latency median %.1f ms max %.1f ms over %d events")
    :format(backend, ticks, worst * 1000, worst_cpu * 1000, median, p99, #latencies))
  check(worst < 0.5, "the 100 ms timer's largest gap stays under 500 ms", ("%.0f ms"):format(worst * 1000))
  -- The figure has the issue's target; the check's bound is what tells yielding from
  -- blocking on a shared machine (a blocking exec above holds the loop >= 600 ms, 10
  -- of them 3 s; yielding measured 100-203 ms at load average 9 on 2 cores).
  print(("figures [%s]: during exec, a session, cp both ways and a port-forward the 100 ms timer's largest gap %s ms (target 110)")
    :format(backend, exec_gap and ("%.0f"):format(exec_gap * 1000) or "?"))
  check(exec_gap and exec_gap < 0.45, "the 100 ms timer keeps ticking during exec, cp and port-forward (a blocked loop misses >= 600 ms)",
    exec_gap and ("%.0f ms"):format(exec_gap * 1000))
  check(#latencies == N - 4, "every event delivered", tostring(#latencies))
  check(restart_pause ~= nil, "the server restarted while the loop ran",
    restart_pause and ("restart took %.0f ms"):format(restart_pause * 1000))
  check(median >= 0 and median < 100, "median event latency under 100 ms", ("%.1f ms"):format(median))
  srv.stop()
  print(("%d passed, %d failed"):format(passed, failed))
  return failed == 0
end

if backend == "nvim" then
  local uv = vim.uv or vim.loop
  local poll = uv.new_timer()
  poll:start(100, 100, vim.schedule_wrap(function()
    if tasks == 0 then
      poll:stop(); poll:close()
      local ok = finish()
      vim.cmd(ok and "qa!" or "cq!")
    end
  end))
  B.run(finish)
else
  local ok = B.run(finish)
  os.exit(ok and 0 or 1)
end

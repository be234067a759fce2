-- The simulated cluster behind kube-testserver, driven from Lua through the
-- module over HTTPS as a user's script would: a Deployment rolls out (watched
-- until availableReplicas matches), its pods log, a Service gets endpoints,
-- deleting the Deployment takes its ReplicaSet and pods along, a Job
-- completes, a CronJob runs when the test moves the clock.
local api = require "kube.api"
local config = require "kube.config"
local core = require "kube.core"
local testing = require "kube.testing"

local function sleep(seconds)
  local until_ = core.monotonic() + seconds
  while core.monotonic() < until_ do os.execute("sleep 0.05") end
end

-- Polls `f` until it returns a truthy value, failing after `seconds`.
local function eventually(seconds, what, f)
  local deadline = core.monotonic() + seconds
  while true do
    local v = f()
    if v then return v end
    assert(core.monotonic() < deadline, "timed out waiting for " .. what)
    sleep(0.1)
  end
end

describe("the simulated cluster", function()
  local srv, client

  setup(function()
    srv = testing.start { args = { "--nodes", "2", "--speed", "0.1" } }
    client = api.Client:new(config.from_kube_config(srv.kubeconfig))
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  it("rolls out a Deployment: watch until available, read each pod's logs, delete it", function()
    local deploys = client:appsv1():deployments("default")
    local pods = client:corev1():pods("default")
    local _, msg, code = deploys:create {
      metadata = { name = "hello" },
      spec = {
        replicas = 3,
        selector = { matchLabels = { app = "hello" } },
        template = {
          metadata = { labels = { app = "hello" } },
          spec = { containers = { {
            name = "main", image = "busybox:1.36",
            command = { "sh", "-c", "echo hello from $HOSTNAME; sleep infinity" },
          } } },
        },
      },
    }
    assert.are.equal(201, code, msg)

    local available
    for kind, d in deploys:watch({ fieldSelector = "metadata.name=hello" }, { timeout = 30 }) do
      assert.are.equal("hello", d.metadata.name, kind)
      if (d.status and d.status.availableReplicas or 0) == 3 then
        available = d
        break
      end
    end
    assert.truthy(available, "the Deployment never had 3 available replicas")
    assert.are.equal(available.metadata.generation, available.status.observedGeneration)

    local list = pods:list { labelSelector = "app=hello" }
    assert.are.equal(3, #list.items)
    for _, p in ipairs(list.items) do
      assert.are.equal("Running", p.status.phase)
      assert.truthy(p.status.podIP:match("^10%.244%.[01]%.%d+$"), p.status.podIP)
      assert.truthy(p.metadata.labels["pod-template-hash"])
      assert.are.equal("ReplicaSet", p.metadata.ownerReferences[1].kind)
      local text = pods:logs(p.metadata.name)
      assert.are.equal("hello from " .. p.metadata.name .. "\n", text)
    end

    local svcs = client:corev1():services("default")
    _, msg, code = svcs:create {
      metadata = { name = "hello" },
      spec = { selector = { app = "hello" }, ports = { { port = 80 } } },
    }
    assert.are.equal(201, code, msg)
    local ips = eventually(10, "endpoints", function()
      local ep = client:corev1():endpoints("default"):get("hello")
      local subset = ep and ep.subsets and ep.subsets[1]
      if not (subset and subset.addresses and #subset.addresses == 3) then return nil end
      local got = {}
      for _, a in ipairs(subset.addresses) do got[a.ip] = true end
      return got
    end)
    for _, p in ipairs(list.items) do assert.is_true(ips[p.status.podIP]) end

    _, msg, code = deploys:delete("hello")
    assert.are.equal(200, code, msg)
    eventually(10, "the pods to go", function()
      return #pods:list({ labelSelector = "app=hello" }).items == 0
        and #client:appsv1():replicasets("default"):list({ labelSelector = "app=hello" }).items == 0
    end)
  end)

  it("runs a Job to completion and counts it", function()
    local jobs = client:batchv1():jobs("default")
    local _, msg, code = jobs:create {
      metadata = { name = "count" },
      spec = {
        completions = 3, parallelism = 2,
        template = { spec = { restartPolicy = "Never",
          containers = { { name = "c", image = "busybox", command = { "sh", "-c", "echo done; sleep 1" } } } } },
      },
    }
    assert.are.equal(201, code, msg)
    local job = eventually(20, "the Job to complete", function()
      local j = jobs:get("count")
      for _, c in ipairs(j.status and j.status.conditions or {}) do
        if c.type == "Complete" and c.status == "True" then return j end
      end
    end)
    assert.are.equal(3, job.status.succeeded)
    assert.truthy(job.status.completionTime)
  end)

  it("runs a CronJob when the clock is moved past its schedule", function()
    local crons = client:batchv1():cronjobs("default")
    local _, msg, code = crons:create {
      metadata = { name = "tick" },
      spec = {
        schedule = "*/5 * * * *",
        jobTemplate = { spec = { template = { spec = { restartPolicy = "OnFailure",
          containers = { { name = "c", image = "busybox" } } } } } },
      },
    }
    assert.are.equal(201, code, msg)
    local function runs()
      local n = 0
      for _, j in ipairs(client:batchv1():jobs("default"):list().items) do
        if j.metadata.name:match("^tick%-%d+$") then n = n + 1 end
      end
      return n
    end
    sleep(0.3)
    assert.are.equal(0, runs(), "a run before the clock moved")
    local _, info, c2 = client:call("POST", "../testserver/clock", { advanceSeconds = 600 })
    assert.are.equal(200, c2, tostring(info))
    local cj = eventually(10, "the CronJob to run", function()
      local cj = crons:get("tick")
      return cj.status and cj.status.lastScheduleTime and cj
    end)
    assert.truthy(cj.status.lastScheduleTime)
    eventually(10, "a Job of the CronJob", function() return runs() == 1 end)
  end)
end)

--- Runs luakube code in cqueues without blocking the controller.
---
---   local cq = require("cqueues").new()
---   local kc = require "kube.cqueues"
---   kc.wrap(cq, function()
---     local pod = pods:get("web-1")              -- other coroutines run meanwhile
---     for kind, cm in cms:watch() do ... end
---   end)
---   assert(cq:loop())
---
--- Handles speak cqueues' pollable protocol (`pollfd`, `events`, `timeout`), so
--- `cqueues.poll(handle)` works on them directly too.
local core = require "kube.core"
local cqueues = require "cqueues"

local M = {}

local function wait(h, timeout)
  if timeout then cqueues.poll(h, timeout) else cqueues.poll(h) end
end

--- `cq:wrap(fn, ...)` whose coroutine yields to cqueues in luakube calls.
function M.wrap(cq, fn, ...)
  return cq:wrap(function(...)
    core.nb_auto[coroutine.running()] = wait
    return fn(...)
  end, ...)
end

--- Inside a coroutine cqueues runs: luakube calls in it yield to cqueues.
function M.attach()
  core.nb_auto[coroutine.running()] = wait
end

return M

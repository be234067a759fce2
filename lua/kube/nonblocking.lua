--- The non-blocking API: start any call without waiting, wait for many at once.
---
---   local nb = require "kube.nonblocking"
---   local h = nb.start(pods, "get", "web-1")     -- returns at once
---   ... h:ready() ...                            -- true once the answer is in
---   local pod, info, code = h:result()           -- what pods:get("web-1") returns
---
--- Every verb of every client works this way (`get`, `list`, `create`, `update`,
--- `patch`, `delete`, `apply`, `logs`, `call`, `raw_call`, `client:api` …).
--- Iterators (`watch`, `follow_logs`, `iter`) and informers are handles already:
--- their connections run in the background and `it:next(0)` / `store:sync(0)`
--- only take what has arrived.
---
--- Waiting without polling: every handle has `id()` and cqueues' pollable protocol
--- (`pollfd()`, `events()`, `timeout()`); `nb.fd()` is one descriptor readable when
--- any handle has news and `nb.ready()` the ids that have. The host adapters
--- (`kube.luv`, `kube.cqueues`, `kube.ngx`) build on these.
local core = require "kube.core"

local nb = {}

local function handle_of(first, ...)
  if core.nb_is_pending(first) then return first end
  -- An iterator (watch, follow_logs, iter) is its own handle.
  if type(first) == "userdata" and select("#", ...) == 3 and first == select(3, ...) then
    return first
  end
  -- Answered without the network (mock mode, a cached discovery): already done.
  return core.nb_done(first, ...)
end

--- Starts `obj:method(...)` without waiting for the network.
---@param obj any a client, group client or resource client
---@param method string
---@return kube.Pending|kube.Watch|kube.LogLines|kube.ListIterator
function nb.start(obj, method, ...)
  local f = obj[method]
  if type(f) ~= "function" then
    error(("nonblocking.start: %s has no method %q"):format(tostring(obj), tostring(method)), 2)
  end
  return handle_of(core.nb_start(f, obj, ...))
end

--- As `nb.start`, for any function that makes one call: `nb.call(pods.get, pods, "x")`.
function nb.call(f, ...)
  return handle_of(core.nb_start(f, ...))
end

--- The process-wide readiness descriptor (an eventfd): readable when a handle has news.
---@return integer
function nb.fd() return core.nb_fd() end

--- The ids of the handles that had news since the last call (resets `nb.fd()`).
---@return integer[]
function nb.ready() return core.nb_ready() end

--- Blocks the calling OS thread until handle `id` has news or `timeout` seconds pass.
--- Works from any thread and any Lua state of the process (OpenResty's thread pool).
---@return boolean
function nb.wait(id, timeout) return core.nb_wait(id, timeout or 3600) end

--- Makes the running coroutine yield-aware: plain luakube calls made in it start
--- without waiting and call `wait(handle, timeout?)` until the handle is ready
--- (the adapters pass a function that yields to their loop). `nil` turns it off.
--- `wait(handle, 0)` means "yield once, resume at the loop's next turn": a
--- coroutine that has taken buffered events for 4 ms pauses so, so a busy watch
--- never holds the loop longer than that between its events.
---@param wait fun(h: any, timeout: number?)|nil
---@param co thread?
function nb.attach(wait, co)
  co = co or coroutine.running()
  core.nb_auto[co] = wait
end

return nb

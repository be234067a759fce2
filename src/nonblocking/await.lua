-- The transparent yield (see src/nonblocking.rs). Loaded once per Lua state
-- with the adapters' table of coroutines, the deferred-mode switch, a
-- pending-handle test and a monotonic clock. In a coroutine registered in
-- `auto` (by kube.luv, kube.cqueues, kube.ngx), network methods start their
-- request without waiting and call `auto[co](handle, timeout)` (which yields
-- to the host loop) until it is ready; everywhere else they run as before.
local auto, set_defer, is_pending, now = ...
local running, error, pcall = coroutine.running, error, pcall

local function finish(ok, ...)
  set_defer(false)
  if not ok then error((...), 0) end
  return ...
end

--- Calls `f(...)` in deferred mode: the call that would wait returns a
--- pending handle instead (an iterator is returned as it is).
local function start(f, ...)
  set_defer(true)
  return finish(pcall(f, ...))
end

local function await(wait, h)
  while not h:ready() do wait(h) end
  return h:result()
end

local function pass(wait, first, ...)
  if is_pending(first) then return await(wait, first) end
  return first, ...
end

--- One step of an iterator, yielding while nothing has arrived.
local function step(wait, it, timeout)
  local deadline = timeout and (now() + timeout)
  while true do
    local a, b = it:next(0)
    if a ~= nil then return a, b end
    if it:finished() then return nil end
    local left = deadline and (deadline - now())
    if left and left <= 0 then return nil end
    wait(it, left)
  end
end

local M = { start = start }

local function mode()
  local co = running()
  return co and auto[co]
end

--- A network method: yields in an adapter's coroutine.
function M.wrap(impl)
  return function(...)
    local wait = mode()
    if not wait then return impl(...) end
    return pass(wait, start(impl, ...))
  end
end

--- `iterator:next(timeout)`: yields (up to `timeout`) instead of blocking.
function M.wrap_next(impl)
  return function(self, timeout)
    local wait = mode()
    if not wait or timeout == 0 then return impl(self, timeout) end
    return step(wait, self, timeout)
  end
end

--- An iterator's `__call` (the generic for): yields instead of blocking.
function M.wrap_call(impl)
  return function(self, ...)
    local wait = mode()
    if not wait then return impl(self, ...) end
    return step(wait, self, nil)
  end
end

return M

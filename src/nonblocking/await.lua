-- The transparent yield (see src/nonblocking.rs). Loaded once per Lua state
-- with the adapters' table of coroutines, the deferred-mode switch, a
-- pending-handle test and a monotonic clock. In a coroutine registered in
-- `auto` (by kube.luv, kube.cqueues, kube.ngx), network methods start their
-- request without waiting and call `auto[co](handle, timeout)` (which yields
-- to the host loop) until it is ready; everywhere else they run as before.
local auto, set_defer, is_pending, now = ...
local running, error, pcall = coroutine.running, error, pcall

-- Inside `start`: the method called must return its handle, not wait for it.
local deferring = false

-- The longest stretch (seconds) a coroutine keeps the loop thread while
-- events are waiting in a handle: after it, `step` yields once to the loop
-- (`wait(h, 0)`: back at the loop's next turn) before taking the next one.
-- Without it a watch whose initial list or re-list had queued 3,000 events
-- handed them all to the for loop in one resume (22 ms on lua5.4, more with
-- a loop body), and a 100 ms timer waited behind it (issue 12).
local SLICE = 0.004
-- When each coroutine last came back from the loop (weak keys).
local since = setmetatable({}, { __mode = "k" })

-- Waits through the adapter and notes when the coroutine got the thread back.
local function wait_for(wait, h, left)
  wait(h, left)
  since[running()] = now()
end

-- Yields once to the loop when this coroutine has held it longer than SLICE
-- (the handle already has news: the adapter resumes it at the loop's next turn).
local function share(wait, h)
  local co = running()
  local t = now()
  local s = since[co]
  if not s then
    since[co] = t
  elseif t - s > SLICE then
    wait_for(wait, h, 0)
  end
end

local function finish(ok, ...)
  deferring = false
  set_defer(false)
  if not ok then error((...), 0) end
  return ...
end

--- Calls `f(...)` in deferred mode: the call that would wait returns a
--- pending handle instead (an iterator is returned as it is).
local function start(f, ...)
  deferring = true
  set_defer(true)
  return finish(pcall(f, ...))
end

local function await(wait, h)
  while not h:ready() do wait_for(wait, h) end
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
    share(wait, it)
    local a, b = it:next(0)
    if a ~= nil then return a, b end
    if it:finished() then return nil end
    local left = deadline and (deadline - now())
    if left and left <= 0 then return nil end
    -- ready() after next(0) marked everything seen: news since then is not
    -- missed (it also makes the handle's notifies reach the ready set).
    if not it:ready() then wait_for(wait, it, left) end
  end
end

local M = { start = start }

local function mode()
  if deferring then return nil end
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

--- A session's `read(timeout)`: yields (up to `timeout`) instead of
--- blocking, and says "timeout" as the blocking form does.
function M.wrap_read(impl)
  return function(self, timeout)
    local wait = mode()
    if not wait or timeout == 0 then return impl(self, timeout) end
    local a, b = step(wait, self, timeout)
    if a == nil and not self:finished() then return nil, "timeout" end
    return a, b
  end
end

--- A session's `wait(timeout)`: yields until the session ends (its unread
--- output is dropped, as the blocking form drops it), then asks for the exit.
function M.wrap_wait(impl)
  return function(self, timeout)
    local wait = mode()
    if not wait or timeout == 0 then return impl(self, timeout) end
    local deadline = timeout and (now() + timeout)
    while not self:finished() do
      local left = deadline and (deadline - now())
      if left and left <= 0 then return nil, "timeout" end
      step(wait, self, left)
    end
    return impl(self, 0)
  end
end

--- A session method that needs the upgrade's answer (`protocol(timeout)`,
--- `close_stdin()`): yields until the session is open (`self:protocol(0)`
--- tells without waiting), then runs without waiting.
function M.wrap_opening(impl)
  return function(self, timeout)
    local wait = mode()
    if not wait or timeout == 0 then return impl(self, timeout) end
    local deadline = timeout and (now() + timeout)
    while true do
      local p, e = self:protocol(0)
      if p ~= nil or e ~= "timeout" then break end
      local left = deadline and (deadline - now())
      if left and left <= 0 then break end
      -- protocol(0) marked everything seen: news since then is not missed.
      if not self:ready() then wait(self, left) end
    end
    if timeout == nil then return impl(self) end
    return impl(self, 0)
  end
end

return M

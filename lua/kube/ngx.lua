--- Runs luakube code inside OpenResty / ngx_lua without blocking the worker.
---
---   -- nginx.conf, main context:  thread_pool kube threads=4;
---   content_by_lua_block {
---     require("kube.ngx").run(function()
---       local pods = client:corev1():pods("default"):list()  -- the worker serves others meanwhile
---       ngx.say(#pods.items)
---     end)
---   }
---
--- How it waits: a request (or timer) coroutine waiting for a handle sleeps on an
--- `ngx.semaphore`. One dispatcher per worker (an ngx.timer) runs
--- `ngx.run_worker_thread(pool, "kube.ngx", "wait_any", slice)`: in one of nginx's
--- pool threads (its own Lua VM) it blocks in Rust on a condition variable until some
--- handle of this process has news, returns the ready ids, and the dispatcher posts
--- those handles' semaphores from nginx's event loop. No fd polling (cosockets cannot
--- wait on an eventfd and Debian's ngx_lua 0.10.23 has no ngx.pipe), no ngx.sleep loop,
--- and one pool thread per worker however many calls and watches are in flight.
local M = {
  --- The thread pool's name (nginx `thread_pool NAME threads=N;`).
  pool = "kube",
  --- The longest single wait of the dispatcher's pool thread, in seconds.
  slice = 5,
}

--- Runs in a pool thread's Lua VM: blocks until some handle has news (ids, comma-joined).
function M.wait_any(timeout)
  return require("kube.core").nb_wait_any(timeout)
end

local waiters = {}  -- handle id -> { sema = ngx.semaphore, n = waiting coroutines }
local dispatching = false

local function dispatch(premature)
  if premature then dispatching = false return end
  while next(waiters) ~= nil do
    local ok, ids = ngx.run_worker_thread(M.pool, "kube.ngx", "wait_any", M.slice)
    if not ok then
      ngx.log(ngx.ERR, "kube.ngx: ngx.run_worker_thread failed (is `thread_pool ", M.pool,
        " threads=N;` in nginx.conf?): ", tostring(ids))
      -- Wake everyone: their waits fail over to a short sleep-free retry below.
      for _, w in pairs(waiters) do w.sema:post(w.n) end
      break
    end
    for id in ids:gmatch("%d+") do
      local w = waiters[tonumber(id)]
      if w and w.n > 0 then w.sema:post(w.n) end
    end
  end
  dispatching = false
end

local function wait(h, timeout)
  if timeout == 0 then
    -- A pause the caller asks for (a coroutine that held the worker for its
    -- slice while a handle has more): a semaphore wait of 0 would not yield;
    -- ngx.sleep(0) lets nginx serve what is waiting and resumes at once.
    ngx.sleep(0)
    return
  end
  local id = h:id()
  local w = waiters[id]
  if not w then
    w = { sema = assert(require("ngx.semaphore").new()), n = 0 }
    waiters[id] = w
  end
  w.n = w.n + 1
  if not dispatching then
    dispatching = true
    local ok, err = ngx.timer.at(0, dispatch)
    if not ok then dispatching = false; error("kube.ngx: cannot start the dispatcher: " .. tostring(err), 0) end
  end
  w.sema:wait(timeout or 3600)
  w.n = w.n - 1
  if w.n == 0 then waiters[id] = nil end
end

local function restore(co, prev, ok, ...)
  require("kube.core").nb_auto[co] = prev
  if not ok then error((...), 0) end
  return ...
end

--- Calls `fn(...)` with luakube calls in it yielding to nginx; returns its results.
--- Usable in rewrite/access/content phases and in ngx.timer callbacks.
function M.run(fn, ...)
  local core = require "kube.core"
  -- From now on notifies collect ready ids (before any handle of `fn` exists).
  core.nb_fd()
  local co = coroutine.running()
  local prev = core.nb_auto[co]
  core.nb_auto[co] = wait
  return restore(co, prev, pcall(fn, ...))
end

--- Makes luakube calls in the running request or timer coroutine yield to nginx.
function M.attach()
  require("kube.core").nb_fd()
  require("kube.core").nb_auto[coroutine.running()] = wait
end

return M

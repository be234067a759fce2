--- Runs luakube code inside a luv event loop (lua-luv, Neovim's vim.uv / vim.loop)
--- without blocking it.
---
---   local kl = require "kube.luv"
---   kl.run(function()
---     local pod = pods:get("web-1")              -- yields to the loop while waiting
---     for kind, cm in cms:watch() do ... end     -- so does every step of a watch
---   end)
---   uv.run()
---
--- One poll handle watches the module's readiness descriptor; a coroutine waiting
--- for a handle is resumed when that handle has news (no timers, no busy polling).
--- In Neovim the coroutine resumes in a luv callback ("fast event"): use
--- `vim.schedule` before calling most `vim.api` functions there.
local core = require "kube.core"

local M = {}

local function default_uv()
  local v = rawget(_G, "vim")
  if type(v) == "table" then return v.uv or v.loop end
  return require "luv"
end

local loops = setmetatable({}, { __mode = "k" })

local function report(err)
  io.stderr:write("kube.luv: a coroutine failed: ", tostring(err), "\n")
end

local function resume(s, co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    local handler = s.on_error[co] or report
    handler(debug.traceback(co, tostring(err)))
  end
  if coroutine.status(co) == "dead" then s.on_error[co] = nil end
end

local function state(uv)
  uv = uv or default_uv()
  local s = loops[uv]
  if s then return s end
  s = { uv = uv, waiting = {}, count = 0, on_error = setmetatable({}, { __mode = "k" }) }
  s.poll = assert(uv.new_poll(core.nb_fd()))
  function s.readable()
    local woken = {}
    for _, id in ipairs(core.nb_ready()) do
      local list = s.waiting[id]
      if list then
        s.waiting[id] = nil
        for co in pairs(list) do
          s.count = s.count - 1
          woken[#woken + 1] = co
        end
      end
    end
    if s.count == 0 then s.poll:stop() end
    for _, co in ipairs(woken) do resume(s, co) end
  end
  -- The waiting function the coroutines of this loop use (see kube.nonblocking.attach).
  function s.wait(h, timeout)
    local co = coroutine.running()
    local id = h:id()
    local list = s.waiting[id]
    if not list then list = {}; s.waiting[id] = list end
    list[co] = true
    s.count = s.count + 1
    if s.count == 1 then s.poll:start("r", s.readable) end
    local timer
    if timeout then
      timer = uv.new_timer()
      timer:start(math.max(0, math.floor(timeout * 1000 + 0.5)), 0, function()
        local l = s.waiting[id]
        if l and l[co] then
          l[co] = nil
          if next(l) == nil then s.waiting[id] = nil end
          s.count = s.count - 1
          if s.count == 0 then s.poll:stop() end
          resume(s, co)
        end
      end)
    end
    coroutine.yield()
    if timer then timer:stop(); timer:close() end
  end
  loops[uv] = s
  return s
end

--- Runs `fn(...)` in a coroutine of the loop: luakube calls in it yield to the loop.
--- `opts.uv`: the luv module (default: vim.uv / vim.loop in Neovim, else require "luv");
--- `opts.on_error(message)`: called when `fn` raises (default: printed to stderr).
--- Returns the coroutine. Call it before or while the loop runs.
---@return thread
function M.run(fn, ...)
  return M.run_with({}, fn, ...)
end

---@return thread
function M.run_with(opts, fn, ...)
  local s = state(opts.uv)
  local co = coroutine.create(function(...)
    core.nb_auto[coroutine.running()] = s.wait
    return fn(...)
  end)
  if opts.on_error then s.on_error[co] = opts.on_error end
  resume(s, co, ...)
  return co
end

--- Inside a coroutine you resume yourself from luv callbacks: makes luakube calls
--- in it yield through this adapter (they resume it when ready).
function M.attach(uv)
  core.nb_auto[coroutine.running()] = state(uv).wait
end

return M

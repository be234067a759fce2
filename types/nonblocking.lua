---@meta
-- LuaLS annotations for the non-blocking API and the event-loop adapters (issue 12).

---@class kube.Handle
--- Something arrived or the handle is done (never waits).
---@field ready fun(self): boolean
--- Process-wide id (for `kube.nonblocking.ready()` / `wait()`).
---@field id fun(self): integer
--- cqueues pollable protocol: an eventfd readable while the handle has news.
---@field pollfd fun(self): integer
---@field events fun(self): string
--- 0 when ready (poll returns at once), nil to wait for `pollfd`.
---@field timeout fun(self): number?

--- A call running in the background (`kube.nonblocking.start`; also a one-shot `exec`,
--- `cp_to` or `cp_from`, whose `result()` is what the blocking call returns).
---@class kube.Pending: kube.Handle
--- What the blocking call returns (waits when not ready; outside adapters that blocks).
---@field result fun(self): any, any, any
--- Stops the request; `result()` then gives `nil, "...the call was cancelled"`.
---@field cancel fun(self)

--- Watches, followed logs and paged lists are handles too.
---@class kube.Watch: kube.Handle
--- One event; waits at most `timeout` seconds (0: only what has arrived, never network I/O).
---@field next fun(self, timeout: number?): string?, table?
---@field finished fun(self): boolean
---@field resource_version fun(self): string?
---@field close fun(self)

---@class kube.LogLines: kube.Handle
---@field next fun(self, timeout: number?): string?
---@field finished fun(self): boolean
---@field close fun(self)

---@class kube.ListIterator: kube.Handle
---@field next fun(self, timeout: number?): table?
---@field finished fun(self): boolean
---@field close fun(self)

---@class kube.nonblocking
local nonblocking = {}
--- Starts `obj:method(...)` without waiting: a `kube.Pending` for calls, the iterator itself
--- for watch / follow_logs / iter.
---@param obj any
---@param method string
---@return kube.Pending|kube.Watch|kube.LogLines|kube.ListIterator
function nonblocking.start(obj, method, ...) end
---@param f function
---@return kube.Pending|kube.Watch|kube.LogLines|kube.ListIterator
function nonblocking.call(f, ...) end
--- The process-wide readiness eventfd.
---@return integer
function nonblocking.fd() end
--- Ids of handles with news since the last call (resets `fd()`).
---@return integer[]
function nonblocking.ready() end
--- Blocks this OS thread until handle `id` has news (any thread, any Lua state).
---@param id integer
---@param timeout number?
---@return boolean
function nonblocking.wait(id, timeout) end
--- Makes luakube calls in coroutine `co` (default: the running one) call `wait(handle, timeout)`
--- instead of blocking; nil turns it off. `wait(handle, 0)` must yield once and resume
--- at the loop's next turn (a coroutine pauses so after 4 ms of buffered events).
---@param wait fun(h: kube.Handle, timeout: number?)|nil
---@param co thread?
function nonblocking.attach(wait, co) end

---@class kube.luv
local luv = {}
--- Runs `fn(...)` in a coroutine of the luv loop (Neovim: vim.uv / vim.loop).
---@return thread
function luv.run(fn, ...) end
---@param opts {uv: any?, on_error: fun(msg: string)?}
---@return thread
function luv.run_with(opts, fn, ...) end
---@param uv any?
function luv.attach(uv) end

---@class kube.cqueues
local cq = {}
--- `cq:wrap(fn, ...)` whose luakube calls yield to cqueues.
function cq.wrap(controller, fn, ...) end
function cq.attach() end

---@class kube.ngx
---@field pool string thread pool name (default "kube": `thread_pool kube threads=N;`)
---@field slice number longest single wait of the dispatcher's pool thread (s)
local ngx_adapter = {}
--- Calls `fn(...)` with luakube calls yielding to nginx; returns its results.
function ngx_adapter.run(fn, ...) end
function ngx_adapter.attach() end

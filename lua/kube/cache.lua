--- A watch-backed local cache of one resource (a reflector): list, then watch,
--- resuming across stream ends, reconnects and 410 Expired (see `rc:watch`).
---
--- Lua has no threads here, so nothing happens in the background: the cache
--- changes only while you call `store:sync(timeout)`, which pumps the events
--- that arrive within `timeout` seconds into the store and reports each change
--- (to `opts.on_change(type, obj, old)` or, without a callback, to the queue
--- `store:changes()` drains). Call it from your own loop:
---
---   local store = client:corev1():configmaps("default"):informer()
---   store:sync(1)                      -- the first sync loads the full list
---   while running do
---     store:sync(5)
---     for type, obj, old in store:changes() do ... end
---   end
local core = require "kube.core"

local cache = {}

---@class kube.Store
---@field private _watch any
---@field private _objects table<string, table>
---@field private _queue table[]
---@field private _on_change fun(type: string, obj: table, old: table?)?
local Store = {}
Store.__index = Store

--- Misuse gets the messages the rest of the module gives, not a raw
--- "attempt to index a nil value" from inside this file.
local function check_store(self, method)
  if getmetatable(self) ~= Store then
    error("store:" .. method .. ": call it as a method, with ':' on the store informer() returned", 3)
  end
end

local function key_of(obj)
  local m = obj.metadata or {}
  return (m.namespace or "") .. "/" .. (m.name or "")
end

--- Makes a cache for the resource client `rc` (with its namespace, if any).
--- `query`: selectors as for `list`. `opts.on_change`: a callback for each change;
--- `opts.metadata_only` / `opts.fields`: cache metadata-only or projected objects
--- (as `rc:watch` takes them; namespace, name, uid and resourceVersion are always kept);
--- `opts.resourceVersion` is not taken: the cache always starts with a full list.
---@return kube.Store
function cache.informer(rc, query, opts)
  local ok, watch = pcall(function() return rc.watch end)
  if type(rc) ~= "userdata" or not ok or type(watch) ~= "function" then
    error("informer: call it as a method, with ':' on a resource client, e.g. client:corev1():pods(\"default\"):informer()", 2)
  end
  if query ~= nil and type(query) ~= "table" then
    error("informer: query must be a table, got " .. type(query), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("informer: opts must be a table, got " .. type(opts), 2)
  end
  opts = opts or {}
  if opts.on_change ~= nil and type(opts.on_change) ~= "function" then
    error("informer: opts.on_change must be a function, got " .. type(opts.on_change), 2)
  end
  local q = {}
  for k, v in pairs(query or {}) do
    if k ~= "resourceVersion" then q[k] = v end
  end
  local self = setmetatable({
    _watch = rc:watch(q, { bookmarks = false, metadata_only = opts.metadata_only, fields = opts.fields }),
    _objects = {},
    _queue = {},
    _on_change = opts.on_change,
    synced = false,
  }, Store)
  return self
end

function Store:_apply(kind, obj)
  local key = key_of(obj)
  local old = self._objects[key]
  if kind == "DELETED" then
    self._objects[key] = nil
  elseif kind == "ADDED" or kind == "MODIFIED" then
    self._objects[key] = obj
    -- After a re-list an ADDED may replace an object we hold.
    if old and kind == "ADDED" then kind = "MODIFIED" end
  else
    return
  end
  if self._on_change then
    self._on_change(kind, obj, old)
  else
    self._queue[#self._queue + 1] = { kind, obj, old }
  end
end

--- Pumps events into the store for up to `timeout` seconds (default 0: only
--- what has already arrived, plus the initial list on the first call). Returns
--- the number of changes applied. Raises when the watch fails for good.
---@param timeout number?
---@return integer
function Store:sync(timeout)
  check_store(self, "sync")
  timeout = timeout or 0
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 then
    error("store:sync: timeout must be a non-negative number of seconds, got " .. tostring(timeout), 2)
  end
  local deadline = core.monotonic() + timeout
  local n = 0
  while true do
    local kind, obj = self._watch:next(math.max(0, deadline - core.monotonic()))
    if kind == nil then break end
    if kind == "ERROR" then
      error("informer: the watch reported an error: " .. tostring(obj.message), 2)
    end
    self:_apply(kind, obj)
    n = n + 1
  end
  self.synced = true
  return n
end

--- The cached object (`store:get(name)` for cluster-scoped resources).
---@param namespace string?
---@param name string?
---@return table?
function Store:get(namespace, name)
  check_store(self, "get")
  if name == nil then namespace, name = "", namespace end
  if type(name) ~= "string" or (namespace ~= nil and type(namespace) ~= "string") then
    error("store:get: expected (namespace, name) or (name) as strings, got " .. type(namespace) .. ", " .. type(name), 2)
  end
  return self._objects[(namespace or "") .. "/" .. name]
end

--- Every cached object, ordered by namespace and name.
---@return table[]
function Store:list()
  check_store(self, "list")
  local keys = {}
  for k in pairs(self._objects) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = self._objects[k] end
  return out
end

--- Iterator over the changes recorded since the last call (when no `on_change`
--- callback was given): `for type, obj, old in store:changes() do … end`.
function Store:changes()
  check_store(self, "changes")
  local queue = self._queue
  self._queue = {}
  local i = 0
  return function()
    i = i + 1
    local c = queue[i]
    if c then return c[1], c[2], c[3] end
  end
end

--- The resourceVersion the cache is current to.
function Store:resource_version()
  check_store(self, "resource_version")
  return self._watch:resource_version()
end

--- Stops watching (also done when the store is collected).
function Store:close()
  check_store(self, "close")
  self._watch:close()
end

return cache

--- luakube-rs: a Kubernetes client for Lua with a Rust core.
local core = require "kube.core"

local kube = {}

--- The version of this module.
---@return string
function kube.version()
  return core.version
end

--- JSON null as decoded values carry it (the same value as `cjson.null`).
kube.null = core.null

--- Marks a table as a JSON array, so an empty one encodes as `[]`, not `{}`.
---@param t table?
---@return table
function kube.array(t)
  return setmetatable(t or {}, core.array_mt)
end

return kube

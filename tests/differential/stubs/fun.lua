-- Test-harness stand-in for luafun (not packaged by Debian): only
-- `fun.iter(array):map(f):totable()`, the one chain luakube uses.
local M = {}
local Iter = {}
Iter.__index = Iter

function M.iter(t)
  local items = {}
  for i, v in ipairs(t or {}) do items[i] = v end
  return setmetatable({ items = items }, Iter)
end

function Iter:map(f)
  local out = {}
  for i, v in ipairs(self.items) do out[i] = f(v) end
  return setmetatable({ items = out }, Iter)
end

function Iter:totable()
  local out = {}
  for i, v in ipairs(self.items) do out[i] = v end
  return out
end

return M

-- The public API as the LuaLS annotations in types/ describe it (a cargo test
-- keeps those in step with the resource table): every class with its methods
-- (inherited ones included), and every group client with its resources and
-- the class of each. The hardening specs walk it so no method is left out.
local M = {}

local nf = dofile("spec/helpers/netfixture.lua")

--- {class name = {parents = {...}, methods = {name = true}}} from `---@class`
--- lines and the `function Var:method(` lines after them.
local function classes(text)
  local out, var_class, current = {}, {}, nil
  for line in text:gmatch("[^\n]+") do
    local name, parents = line:match("^%-%-%-@class ([%w%._]+)%s*:?%s*(.*)$")
    if name then
      current = name
      out[name] = out[name] or { parents = {}, methods = {} }
      for p in parents:gmatch("[%w%._]+") do table.insert(out[name].parents, p) end
    end
    local var = line:match("^local (%w+) = {}")
    if var and current then var_class[var] = current end
    local owner, method = line:match("^function (%w+):([%w_]+)%(")
    if owner and var_class[owner] then out[var_class[owner]].methods[method] = true end
  end
  return out
end

local all = classes(assert(nf.read("types/kube.lua")))

--- Sorted method names of `class`, inherited ones included.
function M.methods(class)
  local seen, list = {}, {}
  local function walk(c)
    local info = all[c]
    if not info then return end
    for m in pairs(info.methods) do
      if not seen[m] then seen[m] = true; list[#list + 1] = m end
    end
    for _, p in ipairs(info.parents) do walk(p) end
  end
  walk(class)
  table.sort(list)
  return list
end

--- {{method = "corev1", resources = {{name = "pods", class = "kube.PodClient"}, ...}}, ...}
function M.groups()
  local groups, by_class = {}, {}
  local text = assert(nf.read("types/groups.lua"))
  for class, method in text:gmatch("%-%-%-@class (kube%.Group%.([%w_]+))") do
    by_class[class] = { method = method, resources = {} }
    groups[#groups + 1] = by_class[class]
  end
  local pattern = "%-%-%-@field ([%w_]+) fun%(self: (kube%.Group%.[%w_]+)[^)]*%): ([%w%._]+)"
  for field, group_class, rc in text:gmatch(pattern) do
    local g = by_class[group_class]
    if g then table.insert(g.resources, { name = field, class = rc }) end
  end
  return groups
end

return M

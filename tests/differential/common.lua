-- Shared by the differential runner and the comparison: a Lua-literal
-- serializer (call lists and records hold nils, booleans and nested tables),
-- and the "reachable methods" of a value.
local M = {}

local function is_ident(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function ser(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = string.format("%q", v)
  elseif t == "number" then
    if math.type and math.type(v) == "integer" then
      out[#out + 1] = tostring(v)
    elseif v ~= v then
      out[#out + 1] = "(0/0)"
    else
      out[#out + 1] = string.format("%.17g", v)
      if math.type and not tostring(out[#out]):find("[%.eEn]") then out[#out] = out[#out] .. ".0" end
    end
  elseif t == "boolean" or t == "nil" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    out[#out + 1] = "{"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
      return type(a) < type(b)
    end)
    for _, k in ipairs(keys) do
      if is_ident(k) then
        out[#out + 1] = k .. "="
      else
        out[#out + 1] = "["
        ser(k, out)
        out[#out + 1] = "]="
      end
      ser(v[k], out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    out[#out + 1] = string.format("%q", "<" .. t .. ">")
  end
end

function M.serialize(v)
  local out = {}
  ser(v, out)
  return table.concat(out)
end

function M.write(path, list)
  local fh = assert(io.open(path, "w"))
  fh:write("return {\n")
  for _, v in ipairs(list) do
    fh:write(M.serialize(v), ",\n")
  end
  fh:write("}\n")
  fh:close()
end

function M.read(path)
  return assert(loadfile(path))()
end

--- Sorted names of the functions reachable by indexing `v` (own fields and the
--- metatable __index chain, for tables and userdata) among `candidates`, or,
--- for tables without candidates, every function key found on the chain.
function M.methods(v, candidates)
  local names = {}
  if candidates then
    for _, name in ipairs(candidates) do
      local ok, f = pcall(function() return v[name] end)
      if ok and type(f) == "function" then names[#names + 1] = name end
    end
  elseif type(v) == "table" then
    local seen, t, depth = {}, v, 0
    while type(t) == "table" and depth < 10 do
      for k, f in pairs(t) do
        if type(k) == "string" and type(f) == "function" and not seen[k] then
          seen[k] = true
          names[#names + 1] = k
        end
      end
      local mt = getmetatable(t)
      t = mt and rawget(mt, "__index")
      depth = depth + 1
    end
  end
  table.sort(names)
  return names
end

return M

--- kube.json: the module's JSON codec (the one every request and answer goes
--- through) with lua-cjson's surface, so scripts can drop lua-cjson:
---
---   local json = require "kube.json"
---   local t = json.decode('{"items": [], "x": null}')  -- t.x == json.null
---   json.encode(t)                                       --> {"items":[],"x":null}
---
--- Differences from lua-cjson: decoded arrays carry `json.array_mt`, so an empty
--- one encodes back as `[]`; integers stay integers on Lua 5.3+ (floats stay
--- floats: 1.0 decodes as 1.0 and encodes as 1); numbers keep their exact double;
--- errors name the path of the value that cannot be encoded (`value.a[3].x`);
--- nesting is limited to 1,000 levels both ways (README, Guarantees).
local core = require "kube.core"

local json = {}

local decode, encode = core.json_decode, core.json_encode
local pcall, type, error, tostring, setmetatable = pcall, type, error, tostring, setmetatable

--- JSON null: what `null` decodes to and what encodes as `null` (the same value
--- as `cjson.null` and `kube.null`, a NULL light userdata). `nil` also encodes as null.
json.null = core.null

--- The metatable marking a table as a JSON array: an empty table with it encodes
--- as `[]` (without it, `{}`). Decoded arrays carry it. lua-cjson's names for it.
json.array_mt = core.array_mt
json.empty_array_mt = core.array_mt

--- Marks `t` (or a new table) as a JSON array and returns it.
---@param t table?
---@return table
function json.array(t)
  return setmetatable(t or {}, core.array_mt)
end

--- JSON text to a Lua value. Raises `kube.json.decode: <what> at line L column C`
--- on invalid JSON or trailing characters.
---@param text string
---@return any
function json.decode(text)
  local ok, value = pcall(decode, text)
  if ok then return value end
  if type(text) ~= "string" then
    error("kube.json.decode: expected a JSON string, got a " .. type(text), 2)
  end
  error("kube.json.decode: " .. tostring(value), 2)
end

--- A Lua value to JSON text (compact, UTF-8). A table whose keys are exactly
--- 1..n is an array, any other table an object (number and boolean keys become
--- strings). Raises `kube.json.encode: <path>: <what>` for functions, userdata,
--- threads, NaN and infinities, invalid UTF-8, cycles and too deep nesting.
---@param value any
---@return string
function json.encode(value)
  local ok, text = pcall(encode, value)
  if ok then return text end
  error("kube.json.encode: " .. tostring(text), 2)
end

return json

---@meta
-- LuaLS annotations for kube.json (lua/kube/json.lua): the module's JSON codec
-- with lua-cjson's surface.

---@class kube.json
---@field null lightuserdata JSON null (equal to cjson.null and kube.null)
---@field array_mt table metatable marking a table as a JSON array (empty: `[]`)
---@field empty_array_mt table the same metatable, under lua-cjson's name
local json = {}

--- JSON text to a Lua value: objects and arrays become tables (arrays carry
--- `array_mt`), null becomes `json.null`. Raises on invalid JSON.
---@param text string
---@return any
function json.decode(text) end

--- A Lua value to compact JSON text. Raises on values JSON cannot hold
--- (functions, userdata, NaN/inf, invalid UTF-8, cycles), naming their path.
---@param value any
---@return string
function json.encode(value) end

--- Marks `t` (or a new table) as a JSON array and returns it.
---@generic T: table
---@param t T?
---@return T
function json.array(t) end

return json

--- kube.core in a binary rock: the rock carries one native module per Lua ABI
--- (kube/core_lua51.so for Lua 5.1, LuaJIT and OpenResty, core_lua52.so,
--- core_lua53.so, core_lua54.so); this file loads the one built for the running
--- interpreter. A build from source (`luarocks make`) installs kube/core.so
--- directly and not this file.
local abi
if type(jit) == "table" then
  abi = "lua51" -- LuaJIT (incl. OpenResty's and Neovim's) has the 5.1 ABI
else
  local major, minor = _VERSION:match("^Lua (%d)%.(%d)$")
  abi = major and ("lua" .. major .. minor) or nil
end
local supported = { lua51 = true, lua52 = true, lua53 = true, lua54 = true }
if not supported[abi] then
  error(("kube.core: this binary rock has native modules for Lua 5.1-5.4 and LuaJIT, not %s")
    :format(tostring(_VERSION)), 2)
end

local name = "kube/core_" .. abi
local tried = {}
for template in package.cpath:gmatch("[^;]+") do
  local path = template:gsub("%?", name)
  local f = io.open(path, "rb")
  if f then
    f:close()
    local open, err = package.loadlib(path, "luaopen_kube_core")
    if not open then
      error(("kube.core: cannot load %s: %s"):format(path, tostring(err)), 2)
    end
    local core = open("kube.core", path)
    core.native_path = path
    return core
  end
  tried[#tried + 1] = "\n\tno file '" .. path .. "'"
end
error(("kube.core: the native module for %s (%s.so) is not on package.cpath:%s")
  :format(_VERSION, name, table.concat(tried)), 2)

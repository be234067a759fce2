--- The API client: `api.Client:new(conf, panic, mock)`.
local core = require "kube.core"

local api = {}

api.Client = {}

--- Makes a client. `panic`: raise on failed calls; `mock`: no network, every call
--- answers 200 with `{"items": []}`.
---@param conf any a config from kube.config
---@param panic boolean?
---@param mock boolean?
function api.Client:new(conf, panic, mock)
  return core.new_client(conf, panic, mock)
end

-- luakube's extension point: a method a script adds to api.Client
-- (`function api.Client:mine() ... end`) is found by every client, after its own
-- methods (src/extend.rs; the same for config.Config and each group's Client).
core.set_class("client", api.Client)

return api

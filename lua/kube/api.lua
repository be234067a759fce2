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

return api

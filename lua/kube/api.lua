--- The API client: `api.Client:new(conf, panic, mock)`.
local core = require "kube.core"

-- What the core needs from the Lua side, handed over once (the core never
-- requires Lua modules): the classes it sets on returned objects, and the
-- informer it offers on every resource client.
core.set_object_classes(require "kube.api.objects")
core.set_informer(require("kube.cache").informer)

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

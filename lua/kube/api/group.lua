--- Builds a group module (`kube.api.core_v1` …): `.version_string` and
--- `.Client:new(client)`, the same as `client:<group>()`.
--- Methods a script adds to `Client` (`core_v1.Client.hello = function(self) … end`,
--- or a resource made with kube.api.utils.generate_object_client) reach the group's
--- clients and its resource clients, as in luakube (src/extend.rs).
local core = require "kube.core"

return function(version_string, method)
  local Client = {}
  function Client:new(parent)
    assert(parent, "API clients need to be created with a superclient")
    return parent[method](parent)
  end
  core.set_class("group:" .. method, Client)
  return { Client = Client, version_string = version_string }
end

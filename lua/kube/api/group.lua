--- Builds a group module (`kube.api.core_v1` …): `.version_string` and
--- `.Client:new(client)`, the same as `client:<group>()`.
return function(version_string, method)
  local Client = {}
  function Client:new(parent)
    assert(parent, "API clients need to be created with a superclient")
    return parent[method](parent)
  end
  return { Client = Client, version_string = version_string }
end

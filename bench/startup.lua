-- require through config load to the first answered request.   lua startup.lua KUBECONFIG
local config = require "kube.config"
local api = require "kube.api"
local client = api.Client:new(config.from_kube_config(arg[1]), true)
assert(client:call("GET", "v1/namespaces/bench"))

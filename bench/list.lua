-- Lists every pod of namespace "bench" into Lua tables.   lua list.lua KUBECONFIG
local config = require "kube.config"
local api = require "kube.api"
local client = api.Client:new(config.from_kube_config(arg[1]), true):corev1()
local list = client:pods("bench"):list()
assert(#list.items > 0, "no pods listed")

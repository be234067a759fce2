-- GETs single pods one after another.   lua gets.lua KUBECONFIG COUNT PODS
local config = require "kube.config"
local api = require "kube.api"
local count, pods = tonumber(arg[2]), tonumber(arg[3])
local client = api.Client:new(config.from_kube_config(arg[1]), true):corev1()
local rc = client:pods("bench")
for i = 1, count do
  local pod = rc:get(string.format("web-%06d", (i - 1) % pods + 1))
  assert(pod.metadata.name)
end

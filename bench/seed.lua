-- Fills namespace "bench" of a running stand-in server with N copies of the
-- realistic pod (bench/fixtures/pod.json), status included, and namespace
-- "small" with one small ConfigMap (the watch benchmark's small object).
-- With NAMESPACE, only N pods into that namespace (the informer memory rows).
--   lua seed.lua KUBECONFIG N [NAMESPACE]
local config = require "kube.config"
local api = require "kube.api"
local core = require "kube.core"

local kubeconfig, n = arg[1], tonumber(arg[2])
local f = assert(io.open((arg[0]:match("^(.*)/") or ".") .. "/fixtures/pod.json"))
local template = f:read("*a")
f:close()

local namespace = arg[3] or "bench"
local client = api.Client:new(config.from_kube_config(kubeconfig), true):corev1()
client:namespaces():create { metadata = { name = namespace } }
local pods = client:pods(namespace)
for i = 1, n do
  local pod = core.json_decode(template)
  pod.metadata.name = string.format("web-%06d", i)
  pod.metadata.namespace = namespace
  pod.metadata.uid, pod.metadata.resourceVersion, pod.metadata.creationTimestamp = nil, nil, nil
  local status = pod.status
  local created = pods:create(pod)
  created.status = status
  pods:update_status(created)
end

if arg[3] then return end
local small = api.Client:new(config.from_kube_config(kubeconfig), true):corev1()
small:namespaces():create { metadata = { name = "small" } }
small:configmaps("small"):create {
  metadata = { name = "settings", labels = { app = "web" } },
  data = { mode = "production", replicas = "3" },
}

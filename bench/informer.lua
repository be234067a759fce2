-- An informer of the N pods of NAMESPACE, whole, metadata-only or projected:
-- syncs until it holds all N, collects garbage, and prints the count and the
-- Lua heap in MB (the harness measures the process's peak RSS).
--   lua informer.lua KUBECONFIG NAMESPACE N [full|metadata|fields|metafields]
local config = require "kube.config"
local api = require "kube.api"
local core = require "kube.core"

local kubeconfig, namespace = arg[1], arg[2]
local n = assert(tonumber(arg[3]), "usage: informer.lua KUBECONFIG NAMESPACE N [full|metadata|fields|metafields]")
local VIEWS = {
  full = {},
  metadata = { metadata_only = true },
  fields = { fields = { "spec.nodeName", "status.podIP", "status.phase" } },
  -- metadata-only from the server, and of it only labels and owners
  metafields = { metadata_only = true, fields = { "metadata.labels", "metadata.ownerReferences" } },
}
local view = assert(VIEWS[arg[4] or "full"], "the view is full, metadata, fields or metafields")

local pods = api.Client:new(config.from_kube_config(kubeconfig), true):corev1():pods(namespace)
local store = pods:informer(nil, view)
local deadline = core.monotonic() + 600
while #store:list() < n do
  assert(core.monotonic() < deadline, "the informer did not load the pods in time")
  store:sync(0.2)
end
collectgarbage("collect")
local cached = #store:list()
assert(cached == n, ("the informer holds %d pods, not %d"):format(cached, n))
print(("%d %.1f"):format(cached, collectgarbage("count") / 1024))
store:close()

-- Watches the pods of namespace "bench" (or RESOURCE of NAMESPACE: the
-- ConfigMaps of "small") after the harness posted a firehose rule of N
-- synthetic MODIFIED events, and prints the MODIFIED events per second
-- decoded into Lua, timed from the first MODIFIED event to the Nth.
-- VIEW "metadata" watches metadata only (opts.metadata_only), "fields" a
-- projection of three paths (opts.fields); whole objects without it.
--   lua watch.lua KUBECONFIG N [RESOURCE NAMESPACE [VIEW]]
local config = require "kube.config"
local api = require "kube.api"
local core = require "kube.core"

local kubeconfig, n = arg[1], assert(tonumber(arg[2]), "usage: watch.lua KUBECONFIG N")
local resource, namespace = arg[3] or "pods", arg[4] or "bench"
local VIEWS = {
  metadata = { metadata_only = true },
  fields = { fields = { "metadata.annotations", "spec.nodeName", "status.podIP" } },
}
local view = arg[5] and assert(VIEWS[arg[5]], "VIEW is metadata or fields") or {}
local core_v1 = api.Client:new(config.from_kube_config(kubeconfig), true):corev1()
local watched = core_v1[resource](core_v1, namespace)

-- As a long-running script would, let the collector keep pace with the events.
local GC_EVERY = 1000
local seen, first_at, last_seq = 0, nil, nil
-- The timeout only guards against a stream that ends short of N (the loop
-- would otherwise reconnect and wait for changes that never come).
local opts = { timeout = math.max(30, n / 500) }
for k, v in pairs(view) do opts[k] = v end
for event_type, obj in watched:watch(nil, opts) do
  if event_type == "MODIFIED" then
    seen = seen + 1
    if seen == 1 then first_at = core.monotonic() end
    last_seq = obj.metadata.annotations["kube-testserver/firehose-seq"]
    if seen % GC_EVERY == 0 then collectgarbage("step") end
    if seen == n then break end
  end
end
local ended_at = core.monotonic()
assert(seen == n, ("got %d MODIFIED events of %d"):format(seen, n))
local elapsed = ended_at - first_at
assert(last_seq == tostring(n), ("the last event is sequence %s, not %d"):format(last_seq, n))
print(("%.0f"):format((n - 1) / elapsed))

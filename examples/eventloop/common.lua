-- Shared by the event-loop examples: a kube-testserver with a few objects, or your
-- cluster when KUBECONFIG is set (then nothing is created).
local M = {}
function M.client()
  local api = require "kube.api"
  local config = require "kube.config"
  if os.getenv("KUBE_EXAMPLE_REAL") then
    return api.Client:new(config.from_kube_config()), nil
  end
  local srv = require("kube.testing").start {}
  local client = api.Client:new(config.from_kube_config(srv.kubeconfig))
  client:corev1():configmaps("default"):create { metadata = { name = "seed" }, data = { k = "v" } }
  return client, srv
end
return M

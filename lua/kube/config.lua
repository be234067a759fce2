--- Cluster configuration: kubeconfig files, in-cluster service accounts, tokens.
--- Parsing and credentials live in the Rust core; secrets never leave memory.
local core = require "kube.core"

local config = {}

--- Low-level constructor: `Config:new{server = ..., token = ..., certificate_authority_data = pem}`.
config.Config = {}
function config.Config:new(tbl)
  return core.config_from_table(tbl)
end

--- Loads a kubeconfig (default `$KUBECONFIG` or `$HOME/.kube/config`) with a context
--- (default its current-context).
---@param path string?
---@param context string?
config.from_kube_config = core.from_kube_config

--- The pod's service account: KUBERNETES_SERVICE_HOST/PORT, token and ca.crt.
config.in_cluster_config = core.in_cluster_config

--- A bearer token for `server` (default: the in-cluster address).
---@param token string
---@param server string?
config.from_token = core.from_token

return config

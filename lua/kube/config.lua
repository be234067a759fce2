--- Cluster configuration: kubeconfig files, in-cluster service accounts, tokens.
--- Parsing and credentials live in the Rust core; secrets never leave memory.
local core = require "kube.core"

local config = {}

--- Low-level constructor: `Config:new{server = ..., token = ..., certificate_authority_data = pem}`.
config.Config = {}
function config.Config:new(tbl)
  return core.config_from_table(tbl)
end
-- Methods a script adds to config.Config reach every config (src/extend.rs).
core.set_class("config", config.Config)

--- Loads a kubeconfig with a context (default its current-context). Without a path:
--- every file of `$KUBECONFIG` merged as kubectl merges them, else `$HOME/.kube/config`.
--- The returned Config also has `namespace()` (the context's, or "default"),
--- `set_timeouts{connect = s, request = s}`,
--- `set_retries{max = n, backoff = s, max_backoff = s, budget = s}` and
--- `set_limits{body = bytes, line = bytes, plugin_output = bytes, plugin_time = s}` (see README).
---@param path string?
---@param context string?
config.from_kube_config = core.from_kube_config

--- The pod's service account: KUBERNETES_SERVICE_HOST/PORT, token (re-read on every
--- request), ca.crt and namespace. `dir` replaces the mounted directory
--- /var/run/secrets/kubernetes.io/serviceaccount (for tests).
---@param dir string?
config.in_cluster_config = core.in_cluster_config

--- A bearer token for `server` (default: the in-cluster address; an error when there is none).
---@param token string
---@param server string?
config.from_token = core.from_token

return config

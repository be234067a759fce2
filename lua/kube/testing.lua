--- Starts the stand-in Kubernetes API server for tests.
---
--- local srv = require("kube.testing").start{seed = "spec/fixtures/pods.yaml"}
--- local conf = require("kube.config").from_kube_config(srv.kubeconfig)
--- ... srv.stop()
local core = require "kube.core"

local testing = {}

---@class TestServer
---@field url string        https://127.0.0.1:PORT
---@field kubeconfig string path of a kubeconfig with contexts testserver (token),
---                         testserver-cert, testserver-basic, testserver-readonly
---@field dir string        a temporary directory (kubeconfig, server.log), removed by stop
---@field stop fun()        stops the server (also done when collected)
---@field restart fun()     stops the server and starts it again on the same port with the
---                         same arguments: a fresh process (new CA and tokens in the
---                         kubeconfig, the store back to the seed files)

--- Starts `kube-testserver` (from PATH, $KUBE_TESTSERVER or `opts.bin`).
--- The server simulates a cluster: `controllers` ("all", the default, "none",
--- or a list such as `{"scheduler", "kubelet", "deployment", "replicaset"}`),
--- `nodes` (registered at start, default 1) and `speed` (the factor on
--- simulated durations: 1 = real, 0 = at once).
---@param opts {seed: string|string[]?, bin: string?, args: string[]?, timeout: number?, controllers: string|string[]?, nodes: integer?, speed: number?}?
---@return TestServer
function testing.start(opts)
  return core.testing_start(opts)
end

return testing

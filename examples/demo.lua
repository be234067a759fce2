-- The typical luakube script, unchanged, against the stand-in API server
-- (started here with kube.testing and seeded with a coredns pod).
local testing = require "kube.testing"
local srv = testing.start { seed = "spec/fixtures/seed.yaml" }
print("stand-in API server at " .. srv.url)

local config = require "kube.config"
local api = require "kube.api"
local conf = config.from_kube_config(srv.kubeconfig)
local client = api.Client:new(conf):corev1()
local tail = client:pods("kube-system"):logs("coredns-558bd4d5db-xr5tj", {tailLines = 3, container = "coredns"})
io.write("last 3 coredns log lines:\n", tail)
for _, pod in ipairs(client:pods("kube-system"):get()) do
  print(pod:name(), pod.status.phase, pod.status.podIP)
end

local cm, _, code = client:configmaps("default"):create({metadata = {name = "demo"}, data = {greeting = "hello"}})
print("created configmap " .. cm:name() .. " (HTTP " .. code .. "), resourceVersion " .. cm.metadata.resourceVersion)
local missing, msg, code404 = client:pods("default"):get("nope")
print("missing pod: HTTP " .. code404 .. ", reason " .. missing.reason)

-- Beyond luakube: server-side apply, paging, and a watch read as events arrive.
local top = api.Client:new(conf)
local deploy = {
  metadata = {name = "web", namespace = "default"},
  spec = {
    replicas = 2,
    selector = {matchLabels = {app = "web"}},
    template = {metadata = {labels = {app = "web"}}, spec = {containers = {{name = "web", image = "nginx:1.27"}}}},
  },
}
local applied, _, code_apply = top:appsv1():deployments("default"):apply(deploy, {fieldManager = "demo"})
print("applied deployment " .. applied:name() .. " (HTTP " .. code_apply .. "), generation " .. applied.metadata.generation)
local cms = client:configmaps("default")
for i = 1, 3 do cms:create({metadata = {name = "page-" .. i}}) end
local names = {}
for item in cms:iter(nil, {limit = 2}) do names[#names + 1] = item:name() end
print("configmaps, listed 2 per page: " .. table.concat(names, " "))
local w = cms:watch({resourceVersion = cm.metadata.resourceVersion}, {timeout = 5})
cms:delete("demo")
for event, obj in w do
  print("watch: " .. event .. " " .. obj:name())
  if event == "DELETED" then break end
end
srv.stop()

-- A cqueues program: luakube calls in cqueues coroutines yield to the controller
-- (kube.cqueues). Run: lua5.4 examples/eventloop/cqueues.lua
local cqueues = require "cqueues"
local kc = require "kube.cqueues"
local client, srv = dofile("examples/eventloop/common.lua").client()
local cms = client:corev1():configmaps("default")
local cq = cqueues.new()
local ticks, done = 0, false

cq:wrap(function() while not done do cqueues.sleep(0.1); ticks = ticks + 1 end end)

kc.wrap(cq, function()
  local w = cms:watch({ labelSelector = "demo=cq" }, { timeout = 10 })
  local seen = 0
  -- (w:next() yields too; PUC Lua 5.1 needs this form, it cannot yield in a for iterator)
  while true do
    local kind, obj = w:next()
    if not kind then break end
    print("watch", kind, obj.metadata.name)
    seen = seen + 1
    if seen == 3 then break end
  end
  w:close()
  done = true
end)

kc.wrap(cq, function()
  print("got", cms:get("seed").metadata.name)
  for i = 1, 3 do cms:create { metadata = { name = "cq-" .. i, labels = { demo = "cq" } } } end
end)

assert(cq:loop())
print(("done: the ticker ran %d times meanwhile"):format(ticks))
if srv then srv.stop() end

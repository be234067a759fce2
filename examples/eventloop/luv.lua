-- A luv program: a timer ticks every 100 ms while luakube calls and a watch run in
-- coroutines that yield to the loop (kube.luv). Run: lua5.4 examples/eventloop/luv.lua
local uv = require "luv"
local kl = require "kube.luv"
local client, srv = dofile("examples/eventloop/common.lua").client()
local cms = client:corev1():configmaps("default")

local ticks = 0
local timer = uv.new_timer()
timer:start(100, 100, function() ticks = ticks + 1 end)

kl.run(function()
  -- Plain luakube calls: they yield to the loop while the request is in flight.
  local cm = cms:get("seed")
  print("got", cm.metadata.name, cm.data.k)
  for i = 1, 3 do cms:create { metadata = { name = "luv-" .. i, labels = { demo = "luv" } } } end
end)

kl.run(function()
  local seen = 0
  for kind, obj in cms:watch({ labelSelector = "demo=luv" }, { timeout = 10 }) do
    print("watch", kind, obj.metadata.name)
    seen = seen + 1
    if seen == 3 then break end
  end
  timer:stop(); timer:close()
end)

uv.run()
print(("done: the timer ticked %d times meanwhile"):format(ticks))
if srv then srv.stop() end

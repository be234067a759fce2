-- A Neovim script: watches configmaps while a timer ticks, without freezing the editor.
-- Run: nvim --headless -u NONE -c "luafile examples/eventloop/nvim.lua"
local uv = vim.uv or vim.loop
local kl = require "kube.luv"          -- uses vim.uv / vim.loop inside Neovim
local client, srv = dofile("examples/eventloop/common.lua").client()
local cms = client:corev1():configmaps("default")

local ticks = 0
local timer = uv.new_timer()
timer:start(100, 100, function() ticks = ticks + 1 end)

kl.run(function()
  local seen = 0
  for kind, obj in cms:watch({ labelSelector = "demo=nvim" }, { timeout = 10 }) do
    seen = seen + 1
    -- luv callbacks are "fast events": go through vim.schedule for editor APIs.
    vim.schedule(function() print(("watch %s %s"):format(kind, obj.metadata.name)) end)
    if seen == 3 then break end
  end
  timer:stop(); timer:close()
  vim.schedule(function()
    print(("done: the timer ticked %d times meanwhile"):format(ticks))
    if srv then srv.stop() end
    vim.cmd("qa!")
  end)
end)

kl.run(function()
  for i = 1, 3 do cms:create { metadata = { name = "nvim-" .. i, labels = { demo = "nvim" } } } end
end)

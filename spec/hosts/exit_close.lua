-- Issue 12: the Lua state closed at exit while the module has I/O in flight (a watch
-- with an open stream, a pending call held by the server, a call yielding in a loop
-- adapter). No Rust panic may cross into the host and nothing may abort: the
-- process ends with the code it asked for. Run (rc 0 and no "panic" on stderr expected):
--   lua5.4 spec/hosts/exit_close.lua plain   os.exit(0, true) from the main chunk
--   lua5.4 spec/hosts/exit_close.lua luv     os.exit(0, true) from a luv timer callback
--                                            while a kube.luv task waits (its poll
--                                            handle is closed with the loop)
--   nvim --headless -u NONE -c "luafile spec/hosts/exit_close.lua"
--                                            :qa! with a VimLeavePre handler that starts
--                                            a call and closes a watch
-- (PUC 5.1 ignores os.exit's second argument: run plain/luv on 5.2+ or LuaJIT.)
local mode = (arg and arg[1]) or (vim and "nvim") or "plain"
local testing = require "kube.testing"
local api = require "kube.api"
local config = require "kube.config"
local nb = require "kube.nonblocking"

local srv = testing.start {}
local client = api.Client:new(config.from_kube_config(srv.kubeconfig))
local cms = client:corev1():configmaps("default")
assert(select(3, cms:create { metadata = { name = "slow" } }) == 201)
local _, msg, code = client:call("POST", "../testserver/faults",
  { latencyMs = 5000, count = 10, match = "configmaps/slow" })
assert(code == 200, "fault rule not taken: " .. tostring(msg))

-- A watch whose stream is open, and a call the server holds 5 s.
local w = cms:watch()
local kind = w:next(5)
assert(kind == "ADDED", "the watch lists first: " .. tostring(kind))
local pending = nb.start(cms, "get", "slow")
assert(not pending:ready(), "the held call is in flight")
print("in flight: a watch and a pending call (" .. mode .. ")")
io.stdout:flush()

if mode == "plain" then
  os.exit(0, true)
elseif mode == "luv" then
  local uv = require "luv"
  local kl = require "kube.luv"
  kl.run_with({ uv = uv }, function()
    -- Yields to the loop until the server answers (5 s): the exit comes first.
    cms:get("slow")
    print("not reached: the held call answered before the exit")
    os.exit(3)
  end)
  local t = uv.new_timer()
  t:start(300, 0, function() os.exit(0, true) end)
  uv.run()
  print("not reached: the loop ended before the exit")
  os.exit(4)
elseif mode == "nvim" then
  local uv = vim.uv or vim.loop
  vim.api.nvim_create_autocmd("VimLeavePre", {
    callback = function()
      -- Work started and abandoned while Neovim closes its state.
      _G.late = nb.start(cms, "get", "slow")
      w:close()
    end,
  })
  -- Neovim may exit without closing its Lua state: stop the server here.
  vim.api.nvim_create_autocmd("VimLeave", { callback = function() srv.stop() end })
  require("kube.luv").run_with({ uv = uv }, function()
    cms:get("slow")
    print("not reached: the held call answered before the exit")
    vim.cmd("cq 3")
  end)
  _G.keep = { w = w, pending = pending, srv = srv }
  vim.defer_fn(function() vim.cmd("qa!") end, 300)
else
  error("unknown mode " .. mode)
end

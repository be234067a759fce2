-- Issue 12: Neovim aborted at exit (SIGABRT, rc 134: Transport::drop -> Runtime::enter
-- panicked after thread-locals were destroyed) when the module was used on the main
-- thread and in a vim.loop.new_work thread. Run:
--   nvim --headless -u NONE -c "luafile spec/hosts/nvim_exit.lua"; echo $?   (0 expected)
local uv = vim.uv or vim.loop
local testing = require "kube.testing"
local api = require "kube.api"
local config = require "kube.config"
local srv = testing.start {}
local kubeconfig = srv.kubeconfig
local client = api.Client:new(config.from_kube_config(kubeconfig))
assert(select(3, client:corev1():configmaps("default"):list()) == 200)
-- A watch left open at exit, too.
_G.open_watch = client:corev1():configmaps("default"):watch()
_G.open_watch:next(1)
local work = uv.new_work(function(kc, path, cpath)
  package.path, package.cpath = path, cpath
  local api2 = require "kube.api"
  local config2 = require "kube.config"
  local c = api2.Client:new(config2.from_kube_config(kc))
  local _, _, code = c:corev1():configmaps("default"):list()
  _G.keep = c -- still referenced when the thread's state closes
  return tostring(code)
end, function(code)
  print("work thread list: " .. code)
  vim.schedule(function() vim.cmd("qa!") end)
end)
work:queue(kubeconfig, package.path, package.cpath)
